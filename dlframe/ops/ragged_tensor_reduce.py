"""Reductions over a ragged dimension whose items are themselves ragged rows (axis 0
or 1 of a RaggedTensor of ragged_rank 2, as ``tf.reduce_sum(rt, axis=1)`` of
``[[[1], [2, 3]], [[4]]]`` giving ``[[3, 3], [4]]``): the items of one group are
reduced position by position, so each output row is as long as the longest item.
"""

from dlframe.core import dtypes
from dlframe.ops import math as m
from dlframe.ops import reduction as R
from dlframe.ops import segment as S
from dlframe.ops.array import concat
from dlframe.ops.array_index import gather
from dlframe.ops.creation import range as _arange
from dlframe.ops.logic import cast
from dlframe.ops.ragged_tensor import RaggedTensor, _prepend_zero


def _positions(rt):
    """For each value (or item) of ``rt``, its index within its row."""
    splits = rt.row_splits
    ids = rt.value_rowids()
    n = int(ids._value.shape[0])
    return m.subtract(_arange(n, dtype=splits.dtype), gather(splits, ids))


def reduce_ragged_items(kind, rt, axis, segment):
    """``reduce_<kind>`` over ``axis`` (0 or 1) of ``rt`` (ragged_rank 2 with dense
    inner values), a RaggedTensor of ragged_rank 1.

    Args:
      kind: the reduction ("sum", "max", "mean", ...).
      rt: a RaggedTensor whose ``values`` is a RaggedTensor of ragged_rank 1.
      axis: 1 (reduce the items of each row) or 0 (reduce across the rows).
      segment: ``segment(kind, values, ids, num)``, the per-id reduction.
    """
    inner = rt.values   # one row per item
    if axis == 1:   # items grouped by their row
        key, groups = rt.value_rowids(), rt.nrows()
    else:   # items grouped by their index within their row
        key = _positions(rt)
        lengths = rt.row_lengths()
        groups = R.reduce_max(concat([m.zeros_like(lengths[:1]), lengths], 0))
    key = cast(key, inner.row_splits.dtype)
    groups = cast(groups, dtypes.int64)
    longest = S.unsorted_segment_max(inner.row_lengths(), key, groups)
    out_splits = _prepend_zero(m.maximum(longest, 0))   # (an empty group: no values)
    item = inner.value_rowids()
    ids = m.add(gather(out_splits, gather(key, item)), _positions(inner))
    values = segment(kind, inner.values, ids, out_splits[-1])
    return RaggedTensor.from_row_splits(values, out_splits, validate=False)
