"""``dlframe.sparse``: the tf.sparse name table (SparseTensor lives in dlframe.io)."""

from dlframe.io.sparse_tensor import SparseTensor, to_dense  # noqa: F401
