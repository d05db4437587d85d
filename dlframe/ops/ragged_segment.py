"""RaggedTensor versions of the unsorted segment ops (``tf.math.unsorted_segment_sum``
and its max/min/prod/mean/sqrt_n siblings) over the rows of a ragged ``data``.

As in TF, the rows of one segment combine position by position: output row ``s`` is
as long as the longest row with id ``s`` (empty when none), and position ``j`` of it
aggregates the ``j``-th values of the rows that have one. A ragged inner dimension
recurses the same way; negative ids drop their rows.
"""

from dlframe.core.tensor import convert_to_tensor
from dlframe.errors import CompositeTensorError
from dlframe.ops import array, array_index, creation, logic, math, reduction, segment
from dlframe.ops.ragged_tensor import RaggedTensor

_OPS = (segment.unsorted_segment_sum, segment.unsorted_segment_max,
        segment.unsorted_segment_min, segment.unsorted_segment_prod,
        segment.unsorted_segment_mean, segment.unsorted_segment_sqrt_n)


def _aggregate(fn, data, segment_ids, num_segments):
    """``fn`` over the rows of ragged ``data`` grouped by dense 1-D ``segment_ids``."""
    splits = data.row_splits
    ids = math.cast(convert_to_tensor(segment_ids), splits.dtype)
    if ids.shape.rank != 1:
        raise NotImplementedError(
            f"{fn.__name__} of a RaggedTensor supports 1-D segment_ids (one id per "
            f"row), got shape {list(ids.shape)}")
    lengths = math.maximum(segment.unsorted_segment_max(
        data.row_lengths(), ids, num_segments), 0)
    zero = array.zeros([1], splits.dtype)
    out_splits = array.concat([zero, reduction.cumsum(lengths)], 0)
    rowids = data.value_rowids()
    value_row_ids = array_index.gather(ids, rowids)
    position = math.subtract(creation.range(array.size(rowids, splits.dtype),
                                            dtype=splits.dtype),
                             array_index.gather(splits, rowids))
    value_ids = math.add(array_index.gather(out_splits,
                                            math.maximum(value_row_ids, 0)), position)
    value_ids = math.where(math.less(value_row_ids, 0),
                           math.negative(logic.ones_like(value_ids)), value_ids)
    values = data.values
    count = out_splits[-1]
    out = _aggregate(fn, values, value_ids, count) if isinstance(values, RaggedTensor) \
        else fn(values, value_ids, count)
    return RaggedTensor.from_row_splits(out, out_splits, validate=False)


def _impl(fn):
    def impl(data, segment_ids, num_segments, name=None):
        if not isinstance(data, RaggedTensor) or isinstance(
                segment_ids, RaggedTensor) or isinstance(num_segments, RaggedTensor):
            raise CompositeTensorError(f"{fn.__name__}: only a RaggedTensor `data` "
                                       "with dense `segment_ids` is supported")
        return _aggregate(fn, data, segment_ids, num_segments)
    return impl


def dispatch_table():
    """{segment op: its ragged implementation} for ``COMPOSITE_DISPATCH``."""
    return {fn: _impl(fn) for fn in _OPS}
