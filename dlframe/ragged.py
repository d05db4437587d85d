"""``dlframe.ragged``: the tf.ragged name table (RaggedTensor lives in
``dlframe.ops.ragged_tensor``)."""

from dlframe.ops import ragged_dispatch as _dispatch  # noqa: F401 - registers ops
from dlframe.ops import ragged_extra as _extra  # noqa: F401 - registers ops
from dlframe.ops import ragged_ops as _ops
from dlframe.ops.names import public_op as _public
from dlframe.ops.ragged_spec import DynamicRaggedShape, RaggedTensorSpec  # noqa: F401
from dlframe.ops.ragged_tensor import RaggedTensor  # noqa: F401

for _name in ("constant", "map_flat_values", "range", "boolean_mask",
              "stack_dynamic_partitions", "segment_ids_to_row_splits",
              "row_splits_to_segment_ids", "stack"):
    globals()[_name] = _public(getattr(_ops, _name), f"ragged.{_name}")

from dlframe.ops.sparse_cross import ragged_cross as cross  # noqa: F401
from dlframe.ops.sparse_cross import ragged_cross_hashed as cross_hashed  # noqa: F401
