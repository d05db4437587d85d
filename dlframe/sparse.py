"""``dlframe.sparse``: the tf.sparse name table, from the SPARSE_NAMES of the sparse ops
modules (``SparseTensor`` itself lives in ``dlframe.ops.sparse_tensor``)."""

from dlframe.ops import sparse_math as _sparse_math
from dlframe.ops import sparse_ops as _sparse_ops
from dlframe.ops.sparse_tensor import SparseTensor, from_dense, to_dense  # noqa: F401

for _module in (_sparse_ops, _sparse_math):
    globals().update({_name: getattr(_module, _name) for _name in _module.SPARSE_NAMES})
del _module
from dlframe.ops.sparse_cross import reset_shape  # noqa: F401
from dlframe.ops.sparse_cross import sparse_cross as cross  # noqa: F401
from dlframe.ops.sparse_cross import sparse_cross_hashed as cross_hashed  # noqa: F401
