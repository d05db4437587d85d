"""Exact scatter max/min without atomics, written once for NumPy and CuPy.

CuPy 14.2's float64 ``cupyx.scatter_max``/``scatter_min`` (and ``maximum.at`` /
``minimum.at``) round their results to float32 (measured on an H100: the max of
0.9876543210123456 came back as 0.9876543283462524). Sorting gives the per-position
extreme exactly and deterministically instead: the values are sorted per column,
then stably by target position, so the last entry of each position's run is its
largest value (NaN sorts last, so it wins, as in ``numpy.maximum.at``).
"""


def _linear_positions(xp, index, lead):
    """The position in the flattened leading dims ``lead`` of every indexed entry
    (negative indices count from the end, as in NumPy)."""
    keys = index if isinstance(index, tuple) else (index,)
    keys = xp.broadcast_arrays(*[xp.asarray(k) for k in keys])
    lin = xp.zeros(keys[0].shape, dtype=xp.int64)
    for key, size in zip(keys, lead):
        lin = lin * size + key.astype(xp.int64) % size
    return lin


def _unravel(flat, lead):
    """``unravel_index`` of in-range positions (CuPy's checks them on the host)."""
    coords = []
    for size in reversed(lead):
        coords.append(flat % size)
        flat = flat // size
    return tuple(reversed(coords))


def scatter_extreme_sorted(xp, target, index, values, largest):
    """``target[index] = max(target[index], values)`` (``min`` when not ``largest``)
    in place, over repeated indices too, with no rounding.

    Args:
      xp: the array module of ``target`` (numpy or cupy).
      target: the floating array updated in place (a min is the max of the negated
        values: integers would overflow at their lowest value).
      index: an integer array or a tuple of integer arrays (advanced indexing of the
        leading dims of ``target``).
      values: values broadcastable to ``index.shape + target.shape[len(index):]``.
      largest: True for max, False for min.
    """
    depth = len(index) if isinstance(index, tuple) else 1
    lead, rest = target.shape[:depth], target.shape[depth:]
    lin = _linear_positions(xp, index, lead)
    n = lin.size
    if n == 0:
        return
    width = 1
    for s in rest:
        width *= int(s)
    vals = xp.broadcast_to(xp.asarray(values, dtype=target.dtype),
                           lin.shape + tuple(rest)).reshape(n, width)
    if not largest:   # a min is the max of the negated values (NaN stays NaN)
        vals = -vals
    lin = lin.reshape(-1)
    by_value = xp.argsort(vals, axis=0)
    by_position = xp.argsort(lin[by_value], axis=0, kind="stable")
    order = xp.take_along_axis(by_value, by_position, axis=0)
    ranked = xp.take_along_axis(vals, order, axis=0)
    positions = xp.sort(lin)
    # every entry writes its run's last (best) value: repeated positions write the
    # same value, and no boolean compaction reads a count back to the host
    best = ranked[xp.searchsorted(positions, positions, side="right") - 1]
    if not largest:
        best = -best
    where = _unravel(positions, lead)
    current = target[where].reshape(best.shape)
    combine = xp.maximum if largest else xp.minimum
    target[where] = combine(current, best).reshape((n,) + tuple(rest))
