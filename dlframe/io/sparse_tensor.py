"""``SparseTensor`` lives in ``dlframe.ops.sparse_tensor`` (sparse ops need it below the
io layer); this module keeps the old import path."""

from dlframe.ops.sparse_tensor import SparseTensor, to_dense  # noqa: F401
