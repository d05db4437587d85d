"""Segment reductions: unsorted_segment_{sum,mean,max,min,prod,sqrt_n} and the sorted
segment_{sum,mean,max,min,prod} (``tf.math`` names).

Negative segment ids drop their rows (as TF); ids >= num_segments raise
InvalidArgumentError.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import note_shaped
from dlframe.core.tensor import Tensor, _tracing_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops import scatter_nan as _nan_rule
from dlframe.ops._util import probing_branch, stand_in, t
from dlframe.ops.array import reshape
from dlframe.ops.array_index import gather


def _flat(data, ids):
    n = ids.size
    return data.reshape((n, -1) if n else (0, int(np.prod(data.shape[ids.ndim:]))))


_INPUT = "input"   # the ``num`` attribute of a count given as a run-time tensor input


def _seg(prim, x, ids, num):
    """Runs a segment primitive; ``num`` is an int, None (sorted ops: read from the
    ids) or a scalar tensor traced in a ``dlframe.function`` (an extra input)."""
    if isinstance(num, Tensor):
        return call(prim, (x, ids, num), {"num": _INPUT})
    return call(prim, (x, ids), {"num": num})


def _count_dims(out, num_segments):
    """``out`` with its leading dim marked unknown inside a trace where TF's graph
    would not know the count (``num_segments = tf.shape(x)[0]`` of an input with an
    unknown batch): dlframe's trace reads the count as a number."""
    if isinstance(num_segments, Tensor) and out._value.ndim:
        note_shaped(out, [num_segments] + list(out._value.shape[1:]))
    return out


def _num_of(inputs, num):
    """The ``num`` to pass on from a gradient rule (the tensor input when dynamic)."""
    return inputs[2] if num == _INPUT else num


def _check_ids(d, op, ids, num, extra=()):
    """Validates ids; returns the number of segments (``max(ids) + 1`` when None)."""
    if num == _INPUT:
        num = int(d.to_numpy(extra[0]))
        if num < 0:
            raise InvalidArgumentError(f"{op}: num_segments must be non-negative, got "
                                       f"{num}")
    if num is None:  # sorted segment ops: sizes come from the ids at run time
        if ids.size and int(ids[0]) < 0:   # (TF's message: rows from the last id)
            raise InvalidArgumentError(
                f"{op}: Segment id {int(ids[0])} out of range [0, {int(ids[-1]) + 1}), "
                f"possibly because 'segment_ids' input is not sorted. [Op:{op}]")
        if ids.size and bool((ids[1:] < ids[:-1]).any()):
            raise InvalidArgumentError(f"{op}: segment ids are not increasing [Op:{op}]")
        return int(ids[-1]) + 1 if ids.size else 0
    bad = ids >= num
    if not bad.any():   # (one host read of the check on a GPU)
        return num
    if probing_branch():   # a trace's placeholder count: the run checks
        stand_in()
        return int(ids.max()) + 1
    host = d.to_numpy(ids).ravel()
    i = int(np.argmax(host >= num))
    raise InvalidArgumentError(f"{op}: segment_ids[{i}] = {int(host[i])} is out of "
                               f"range [0, {num}) [Op:{op}]")


def _segment_static_shape(in_dims, attrs):
    """``[num_segments] + data.shape[ids.rank:]``; the count unknown where it is a
    tensor read when the graph runs."""
    num, data, ids = attrs["num"], in_dims[0], in_dims[1]
    if num == _INPUT and data is not None and ids is not None:
        return [None] + list(data[len(ids):])   # a count read when the graph runs
    if not isinstance(num, int) or data is None or ids is None:
        return None
    return [num] + list(data[len(ids):])


def _segment_prim(name, init, method):
    @primitive(name)
    def p(d, data, ids, *extra, num):
        xp = d.xp
        num = _check_ids(d, name, ids, num, extra)
        flat = _flat(data, ids)
        out = xp.full((num, flat.shape[1]), init(xp, data.dtype), dtype=data.dtype)
        keep = ids.reshape(-1) >= 0
        if method == "scatter_add":
            d.scatter_add(out, ids.reshape(-1)[keep], flat[keep])
        else:
            _nan_rule.segment_extreme(d, method[len("scatter_"):], out,
                                      ids.reshape(-1)[keep], flat[keep])
        return out.reshape((num,) + data.shape[ids.ndim:])
    p.static_shape = _segment_static_shape
    return p


def _lowest(xp, dtype):
    dtype = dtypes.as_dtype(np.dtype(dtype))   # bfloat16's NumPy kind is "V"
    return False if dtype.is_bool else dtype.min


def _highest(xp, dtype):
    dtype = dtypes.as_dtype(np.dtype(dtype))
    return True if dtype.is_bool else dtype.max


unsorted_segment_sum_p = _segment_prim("UnsortedSegmentSum", lambda xp, dt: 0,
                                       "scatter_add")
unsorted_segment_max_p = _segment_prim("UnsortedSegmentMax", _lowest, "scatter_max")
unsorted_segment_min_p = _segment_prim("UnsortedSegmentMin", _highest, "scatter_min")


def _gather_segments(v, ids):
    """``v[ids]`` with rows of negative ids set to zero (the adjoint of a segment sum)."""
    g = gather(v, m.maximum(ids, 0))
    keep = m.cast(m.greater_equal(ids, 0), g.dtype)
    # -1: the number of ids may depend on values (ragged rows in a traced function)
    return m.multiply(g, reshape(keep, [-1] + list(ids._value.shape[1:]) +
                                 [1] * (g._value.ndim - ids._value.ndim)))


@unsorted_segment_sum_p.defgrad
def _segment_sum_grad(inputs, out, dy, *, num):
    return (_gather_segments(dy, inputs[1]),) + (None,) * (len(inputs) - 1)


def _extreme_grad(inputs, out, dy, *, num):
    # ties split the gradient equally, like TF
    data, ids = inputs[:2]
    hit = m.cast(m.equal(data, gather(out, m.maximum(ids, 0))), dy.dtype)
    count = _seg(unsorted_segment_sum_p, hit, ids, _num_of(inputs, num))
    share = m.divide_no_nan(dy, count)
    return (m.multiply(_gather_segments(share, ids), hit),) + (None,) * (len(inputs) - 1)


unsorted_segment_max_p.defgrad(_extreme_grad)
unsorted_segment_min_p.defgrad(_extreme_grad)


@primitive("UnsortedSegmentProd")
def unsorted_segment_prod_p(d, data, ids, *extra, num):
    # a segmented scan over ids sorted stably: exact for every dtype, xp-only
    xp = d.xp
    num = _check_ids(d, "UnsortedSegmentProd", ids, num, extra)
    flat = _flat(data, ids)
    out = xp.ones((num, flat.shape[1]), dtype=data.dtype)
    seg = ids.reshape(-1)
    keep = seg >= 0
    seg, vals = seg[keep], flat[keep]
    if seg.size:
        order = xp.argsort(seg, kind="stable")
        seg, vals = seg[order], vals[order]
        k = 1
        while k < seg.size:
            same = (seg[k:] == seg[:-k])[:, None]
            nxt = vals.copy()
            nxt[k:] = xp.where(same, vals[k:] * vals[:-k], vals[k:])
            vals = nxt
            k *= 2
        last = xp.ones(seg.shape, dtype=bool)
        last[:-1] = seg[:-1] != seg[1:]
        out[seg[last]] = vals[last]
    return out.reshape((num,) + data.shape[ids.ndim:])


unsorted_segment_prod_p.static_shape = _segment_static_shape


@unsorted_segment_prod_p.defgrad
def _segment_prod_grad(inputs, out, dy, *, num):
    # d out / d x_i: product of the other entries, kept exact when some are zero
    data, ids = inputs[:2]
    num = _num_of(inputs, num)
    zero = m.equal(data, 0)
    n_zero = _seg(unsorted_segment_sum_p, m.cast(zero, dy.dtype), ids, num)
    nonzero_prod = _seg(unsorted_segment_prod_p, m.where(zero, m.ones_like(data), data),
                        ids, num)
    safe = m.maximum(ids, 0)
    others_if_zero = m.multiply(gather(nonzero_prod, safe),
                                m.cast(m.equal(gather(n_zero, safe), 1.0), dy.dtype))
    others = m.where(zero, others_if_zero, m.divide_no_nan(gather(out, safe), data))
    return (m.multiply(_gather_segments(dy, ids), others),) + \
        (None,) * (len(inputs) - 1)


def _segment_args(data, segment_ids, num_segments, op):
    x = t(data)
    ids = t(segment_ids)
    if ids._value.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{op}: segment_ids must be int32 or int64, got "
                                   f"{ids.dtype.name} [Op:{op}]")
    m._check(op, x, "fiu" if op.endswith(("Max", "Min")) else "fciu")   # (no bool)
    if ids._device is not x._device:
        from dlframe.core.tensor import copy_to_device
        ids = copy_to_device(ids, x._device)
    k = ids._value.ndim
    if tuple(x._value.shape[:k]) != tuple(ids._value.shape):
        raise InvalidArgumentError(
            f"{op}: data.shape = {list(x._value.shape)} does not start with "
            f"segment_ids.shape = {list(ids._value.shape)} [Op:{op}]")
    if isinstance(num_segments, Tensor) and _tracing_tensor(num_segments):
        # known only when the function runs: the count becomes an op input
        if num_segments._value.ndim != 0:
            raise InvalidArgumentError(f"{op}: num_segments must be a scalar, got shape "
                                       f"{list(num_segments.shape)}")
        return x, ids, num_segments
    num = None if num_segments is None else int(num_segments)
    if num is not None and num < 0:
        raise InvalidArgumentError(f"{op}: num_segments must be non-negative, got {num}")
    return x, ids, num


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sums the rows of ``data`` that share a segment id.

    Args:
      data: a Tensor whose leading dimensions match ``segment_ids``.
      segment_ids: int tensor of ids in [0, num_segments) (negative ids are dropped).
      num_segments: number of output rows.

    Returns:
      A tensor of shape ``[num_segments] + data.shape[segment_ids.ndim:]``.
    """
    x, ids, num = _segment_args(data, segment_ids, num_segments, "UnsortedSegmentSum")
    return _count_dims(_seg(unsorted_segment_sum_p, x, ids, num), num_segments)


def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    """Maximum per segment; empty segments hold the dtype's lowest value."""
    x, ids, num = _segment_args(data, segment_ids, num_segments, "UnsortedSegmentMax")
    return _count_dims(_seg(unsorted_segment_max_p, x, ids, num), num_segments)


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    """Minimum per segment; empty segments hold the dtype's highest value."""
    x, ids, num = _segment_args(data, segment_ids, num_segments, "UnsortedSegmentMin")
    return _count_dims(_seg(unsorted_segment_min_p, x, ids, num), num_segments)


def unsorted_segment_prod(data, segment_ids, num_segments, name=None):
    """Product per segment; empty segments hold 1."""
    x, ids, num = _segment_args(data, segment_ids, num_segments, "UnsortedSegmentProd")
    return _count_dims(_seg(unsorted_segment_prod_p, x, ids, num), num_segments)


def _segment_counts(x, ids, num):
    ones = m.ones_like(ids, dtype=x.dtype)
    count = _seg(unsorted_segment_sum_p, ones, ids, num)
    return reshape(count, [-1] + [1] * (x._value.ndim - ids._value.ndim))


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """Mean per segment; empty segments hold 0."""
    x, ids, num = _segment_args(data, segment_ids, num_segments, "UnsortedSegmentMean")
    total = _seg(unsorted_segment_sum_p, x, ids, num)
    return _count_dims(m.divide(total, m.maximum(_segment_counts(x, ids, num), 1)),
                       num_segments)


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """Sum per segment divided by the square root of the segment's size."""
    x, ids, num = _segment_args(data, segment_ids, num_segments, "UnsortedSegmentSqrtN")
    total = _seg(unsorted_segment_sum_p, x, ids, num)
    count = m.maximum(_segment_counts(x, ids, num), 1)
    return _count_dims(m.divide(total, m.sqrt(count)), num_segments)


def _sorted_args(data, segment_ids, op):
    ids = t(segment_ids)
    if ids._value.ndim != 1:
        raise InvalidArgumentError(f"{op}: segment_ids should be a vector, got shape "
                                   f"{list(ids._value.shape)} [Op:{op}]")
    # num_segments None: the primitives read max(id) + 1 (and check the order) at run
    # time, so compiled functions stay correct for new ids
    return _segment_args(data, ids, None, op)


def segment_sum(data, segment_ids, name=None):
    """Sums rows per segment; ``segment_ids`` is sorted, output has ``max(id) + 1`` rows."""
    x, ids, num = _sorted_args(data, segment_ids, "SegmentSum")
    return _seg(unsorted_segment_sum_p, x, ids, num)


def segment_mean(data, segment_ids, name=None):
    """Mean per segment of sorted ``segment_ids`` (empty segments give 0; integer
    data give the mean truncated toward zero, in the data's dtype)."""
    x, ids, num = _sorted_args(data, segment_ids, "SegmentMean")
    total = _seg(unsorted_segment_sum_p, x, ids, num)
    count = m.maximum(_segment_counts(x, ids, num), 1)
    if x.dtype.is_integer:   # TF's SegmentMean kernel keeps the dtype, truncating
        return m.truncatediv(total, count)
    return m.divide(total, count)


def _empty_to_zero(out, x, ids, num):
    count = _segment_counts(x, ids, num)
    return m.where(m.greater(count, 0), out, m.zeros_like(out))


def segment_max(data, segment_ids, name=None):
    """Maximum per segment of sorted ``segment_ids`` (empty segments give 0)."""
    x, ids, num = _sorted_args(data, segment_ids, "SegmentMax")
    out = _seg(unsorted_segment_max_p, x, ids, num)
    return _empty_to_zero(out, x, ids, num)


def segment_min(data, segment_ids, name=None):
    """Minimum per segment of sorted ``segment_ids`` (empty segments give 0)."""
    x, ids, num = _sorted_args(data, segment_ids, "SegmentMin")
    out = _seg(unsorted_segment_min_p, x, ids, num)
    return _empty_to_zero(out, x, ids, num)


def segment_prod(data, segment_ids, name=None):
    """Product per segment of sorted ``segment_ids`` (empty segments give 1)."""
    x, ids, num = _sorted_args(data, segment_ids, "SegmentProd")
    return _seg(unsorted_segment_prod_p, x, ids, num)


__all__ = []  # tf.math names only (no tf.X aliases in TF 2)
MATH_NAMES = ["segment_max", "segment_mean", "segment_min", "segment_prod", "segment_sum",
              "unsorted_segment_max", "unsorted_segment_mean", "unsorted_segment_min",
              "unsorted_segment_prod", "unsorted_segment_sqrt_n", "unsorted_segment_sum"]
