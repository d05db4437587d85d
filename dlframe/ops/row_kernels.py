"""Array kernels (raw ``xp`` arrays, no recording) for reductions over short rows and
for summing gradient rows per index, written once for NumPy and CuPy.

NumPy reduces a contiguous last axis one short row at a time: the max over the last
axis of a (32, 4, 64, 64) float32 attention-score array takes ~0.7 ms on the 2-core
EPYC, eight times an elementwise pass over it. Halving the rows with elementwise
``maximum`` (six passes for 64 columns) takes ~0.3 ms and gives the same maxima;
a row sum as a matrix-vector product with ones takes ~0.03 ms against ~0.17.

``xp.add.at`` (the portable scatter-add) takes ~0.9 ms for an embedding gradient of
2048 rows of 64 floats; grouping the rows by id with one stable sort and adding them
in a few vectorized passes (one per repeat) gives bit-equal sums in ~0.1 ms.
"""

SHORT_ROW = 256          # widths up to this reduce by folding / a matrix product
_MAX_REPEAT_PASSES = 32  # more repeats of one id than this: the scatter-add is faster
_GEMV_DTYPES = ("float32", "float64")


def _is_short_last_axis(x, axis):
    return (axis in (-1, x.ndim - 1) and x.ndim >= 1 and 1 < x.shape[-1] <= SHORT_ROW
            and x.dtype.kind == "f")


def max_keepdims(xp, x, axis):
    """``x.max(axis=axis, keepdims=True)``, equal to it value for value (NaN too);
    zeros over an empty axis (a shift for its empty rows, where ``max`` fails)."""
    if x.ndim and x.shape[axis] == 0:
        axis %= x.ndim
        return xp.zeros(x.shape[:axis] + (1,) + x.shape[axis + 1:], x.dtype)
    if not _is_short_last_axis(x, axis):
        return x.max(axis=axis, keepdims=True)
    m = x
    while m.shape[-1] % 2 == 0 and m.shape[-1] > 1:
        half = m.shape[-1] // 2
        m = xp.maximum(m[..., :half], m[..., half:])
    return m if m.shape[-1] == 1 else m.max(axis=-1, keepdims=True)


def sum_keepdims(xp, x, axis):
    """``x.sum(axis=axis, keepdims=True)``; over a short last axis of float32/64 a
    product with a ones vector (same sums up to rounding order)."""
    if not _is_short_last_axis(x, axis) or x.dtype.name not in _GEMV_DTYPES or \
            xp.__name__ != "numpy":   # a GPU reduction is as fast, and capturable
        return x.sum(axis=axis, keepdims=True)
    return xp.matmul(x, xp.ones((x.shape[-1], 1), dtype=x.dtype))


def sum_rows_by_id(d, ids, values):
    """The distinct ids (sorted) and, per id, the sum of the rows of ``values`` with
    that id, added in the order given (bit-equal to scatter-adding them into zeros).

    Args:
      d: the Device of the arrays.
      ids: 1-D integer array, one id per row of ``values``.
      values: array of shape ``[len(ids), ...]``.

    Returns:
      ``(unique_ids, sums)`` with ``sums.shape == (len(unique_ids),) + values.shape[1:]``.
    """
    xp = d.xp
    order = xp.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    first = xp.empty(sorted_ids.shape, dtype=bool)
    first[:1] = True
    xp.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
    starts = xp.flatnonzero(first)
    counts = xp.diff(xp.append(starts, sorted_ids.size))
    sums = xp.zeros((starts.size,) + tuple(values.shape[1:]), dtype=values.dtype)
    most = int(d.to_numpy(counts.max())) if counts.size else 0   # one device read
    if most > _MAX_REPEAT_PASSES:
        group = xp.empty_like(order)
        group[order] = xp.cumsum(first) - 1
        d.scatter_add(sums, group, values)
        return sorted_ids[starts], sums
    sums += values[order[starts]]
    for rank in range(1, most):   # the rank-th repeat of each id that has one
        has = xp.flatnonzero(counts > rank)
        sums[has] += values[order[starts[has] + rank]]
    return sorted_ids[starts], sums
