"""Primitives on the row partitions of ragged tensors.

A ragged tensor's values are an ordinary Tensor, so everything differentiable about
it goes through ordinary ops on the values (``gather``, segment reductions). The
primitives here compute, from ``row_splits`` arrays, the integer index vectors those
ops need (not differentiable), plus the padding pair ``to_dense``/``from_dense``
whose gradients are each other. All run on raw arrays, so a traced function replays
them with new row partitions (nothing data-dependent is baked into a graph).
"""

from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import probing_branch, stand_in


def _lengths(splits):
    return splits[1:] - splits[:-1]


def _ranges(xp, starts, counts, step, dtype):
    """Concatenated ``starts[i] + step[i] * arange(counts[i])`` for every row i."""
    total = int(counts.sum()) if counts.size else 0
    if total == 0:
        return xp.zeros((0,), dtype=dtype)
    out_splits = xp.concatenate([xp.zeros((1,), dtype=dtype),
                                 xp.cumsum(counts).astype(dtype)])
    row = xp.repeat(xp.arange(counts.shape[0]), counts)
    pos = xp.arange(total, dtype=dtype) - out_splits[:-1][row]
    return (starts[row] + pos * step[row]).astype(dtype)


def _splits_of(xp, counts, dtype):
    return xp.concatenate([xp.zeros((1,), dtype=dtype), xp.cumsum(counts).astype(dtype)])


@primitive("RaggedRowIds")
def row_ids_p(d, splits):
    xp = d.xp
    n = splits.shape[0] - 1
    return xp.repeat(xp.arange(n, dtype=splits.dtype), _lengths(splits))


@primitive("RaggedSegmentIdsToSplits", n_out=1)
def ids_to_splits_p(d, ids, *, num, dtype):
    xp = d.xp
    if ids.size and bool((ids[1:] < ids[:-1]).any()):
        raise InvalidArgumentError("segment_ids must be sorted in ascending order, got "
                                   f"{d.to_numpy(ids).tolist()}")
    if ids.size and int(ids.min()) < 0:
        raise InvalidArgumentError(f"segment_ids must be >= 0, got {int(ids.min())}")
    n = (int(ids.max()) + 1 if ids.size else 0) if num is None else num
    if ids.size and int(ids.max()) >= n:
        raise InvalidArgumentError(f"segment_ids must be < num_segments ({n}), got "
                                   f"{int(ids.max())}")
    counts = xp.bincount(ids.astype("int64"), minlength=n) if ids.size else \
        xp.zeros((n,), dtype="int64")
    return _splits_of(xp, counts, dtype)


@primitive("RaggedGatherIndices", n_out=2)
def gather_indices_p(d, splits, indices):
    """Rows ``indices`` of a partition: (new row_splits, value positions)."""
    xp = d.xp
    n = splits.shape[0] - 1
    idx = indices.reshape(-1).astype("int64")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = d.to_numpy(idx)
        i = int(((bad < 0) | (bad >= n)).argmax())
        raise InvalidArgumentError(f"indices[{i}] = {int(bad[i])} is not in [0, {n})")
    starts = splits[:-1][idx]
    counts = splits[1:][idx] - starts
    ones = xp.ones(counts.shape, dtype=splits.dtype)
    return (_splits_of(xp, counts, splits.dtype),
            _ranges(xp, starts, counts, ones, splits.dtype))


@primitive("RaggedSliceIndices", n_out=2)
def slice_indices_p(d, splits, *, start, stop, step):
    """``row[start:stop:step]`` of every row: (new row_splits, value positions)."""
    xp = d.xp
    lens = _lengths(splits)
    if step > 0:
        lo, hi = 0, lens
        s = xp.zeros_like(lens) if start is None else _clip(xp, start, lens, lo, hi)
        e = lens if stop is None else _clip(xp, stop, lens, lo, hi)
        counts = xp.maximum(0, -((s - e) // step))
    else:
        lo, hi = -1, lens - 1
        s = lens - 1 if start is None else _clip(xp, start, lens, lo, hi)
        e = -xp.ones_like(lens) if stop is None else _clip(xp, stop, lens, lo, hi)
        counts = xp.maximum(0, -((e - s) // -step))
    steps = xp.full(lens.shape, step, dtype=splits.dtype)
    return (_splits_of(xp, counts, splits.dtype),
            _ranges(xp, splits[:-1] + s, counts, steps, splits.dtype))


def _clip(xp, value, lens, lo, hi):
    v = xp.full(lens.shape, value, dtype=lens.dtype)
    if value < 0:
        v = v + lens
    return xp.minimum(xp.maximum(v, lo), hi)


@primitive("RaggedPaddingLengths")
def padding_lengths_p(d, dense, padding):
    """Row lengths of ``dense`` [rows, cols, ...] once trailing ``padding`` is cut."""
    xp = d.xp
    keep = dense != padding
    keep = keep.reshape(keep.shape[:2] + (-1,)).any(axis=2)
    cols = keep.shape[1]
    # the last kept column + 1 (0 when a row is all padding)
    last = cols - xp.argmax(keep[:, ::-1], axis=1)
    return xp.where(keep.any(axis=1), last, 0).astype("int64")


@primitive("RaggedToDense")
def to_dense_p(d, values, splits, default, *, width):
    xp = d.xp
    n = splits.shape[0] - 1
    if n < 0 or int(splits[-1]) != values.shape[0]:
        if probing_branch():
            # a trace's placeholder splits need not fit its placeholder values: a
            # stand-in of the padded shape (the run reads the real partition)
            return stand_in(xp.full((max(n, 0), width or 0) + values.shape[1:],
                                    default, dtype=values.dtype))
        raise InvalidArgumentError(
            f"RaggedToDense: the last row split ({int(splits[-1]) if n >= 0 else None}"
            f") must equal the number of values ({values.shape[0]}) "
            f"[Op:RaggedToDense]")
    lens = _lengths(splits)
    w = (int(lens.max()) if n else 0) if width is None else width
    out = xp.empty((n, w) + values.shape[1:], dtype=values.dtype)
    out[...] = default
    row = xp.repeat(xp.arange(n), lens)
    pos = xp.arange(values.shape[0]) - splits[:-1][row]
    keep = pos < w
    out[row[keep], pos[keep]] = values[keep]
    return out


# without a given width, the padded width is the longest row: TF's static shape of
# ``rt.to_tensor()`` is [nrows, None, inner...]
to_dense_p.value_shaped = lambda inputs, attrs: attrs["width"] is None
to_dense_p.static_shape = lambda in_dims, attrs: [
    None if in_dims[1][0] is None else in_dims[1][0] - 1, attrs["width"],
    *in_dims[0][1:]]


@primitive("RaggedFromDense")
def from_dense_p(d, dense, splits):
    """``dense[row, pos]`` for every value of the partition (zero past the width)."""
    xp = d.xp
    n = splits.shape[0] - 1
    lens = _lengths(splits)
    if n != dense.shape[0]:
        raise InvalidArgumentError(f"the row partition has {n} rows but the tensor has "
                                   f"{dense.shape[0]}")
    total = int(splits[-1]) if n else 0
    row = xp.repeat(xp.arange(n), lens)
    pos = xp.arange(total) - splits[:-1][row]
    keep = pos < dense.shape[1]
    out = xp.zeros((total,) + dense.shape[2:], dtype=dense.dtype)
    out[keep] = dense[row[keep], pos[keep]]
    return out


@to_dense_p.defgrad
def _to_dense_grad(inputs, out, dy, *, width):
    return call(from_dense_p, (dy, inputs[1])), None, None


@from_dense_p.defgrad
def _from_dense_grad(inputs, out, dy):
    from dlframe.ops.creation import zeros
    dense = inputs[0]
    zero = zeros([], dtype=dy.dtype)
    return call(to_dense_p, (dy, inputs[1], zero), {"width": dense._value.shape[1]}), None


@primitive("RaggedConcatRowsOrder", n_out=2)
def concat_rows_order_p(d, *splits):
    """Row-wise concatenation of partitions with equal row counts: (new row_splits,
    the order of the stacked values of all inputs that puts each row's pieces
    together, in input order)."""
    xp = d.xp
    n = splits[0].shape[0] - 1
    if any(s.shape[0] - 1 != n for s in splits):
        raise InvalidArgumentError("Input tensors at index 0 (=x) and 1 (=y) have "
                                   "incompatible shapes: every RaggedTensor must have "
                                   "the same number of rows to concatenate along axis 1")
    rowids = xp.concatenate([xp.repeat(xp.arange(n), _lengths(s)) for s in splits])
    counts = sum(_lengths(s) for s in splits)
    return _splits_of(xp, counts, splits[0].dtype), \
        xp.argsort(rowids, kind="stable").astype(splits[0].dtype)


@primitive("StableArgsort")
def stable_argsort_p(d, x):
    return d.xp.argsort(x, kind="stable").astype("int64")


@primitive("RaggedRange", n_out=2)
def range_p(d, starts, limits, deltas, *, splits_dtype):
    xp = d.xp
    starts, limits, deltas = xp.broadcast_arrays(starts, limits, deltas)
    starts, limits, deltas = (a.reshape(-1) for a in (starts, limits, deltas))
    if (deltas == 0).any():
        raise InvalidArgumentError("Requires delta != 0")
    counts = xp.ceil((limits - starts) / deltas.astype("float64"))
    counts = xp.maximum(counts, 0).astype("int64")
    return (_splits_of(xp, counts, splits_dtype),
            _ranges(xp, starts, counts, deltas, starts.dtype))
