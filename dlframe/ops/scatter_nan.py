"""TF's NaN rules for max/min scatters and segment reductions (its CPU kernels).

A scatter max/min (``tensor_scatter_nd_max``, ``Variable.scatter_max``) keeps a NaN
already in the tensor and skips NaN updates. A segment max/min folds the segment in
order with ``acc = x unless x < acc`` (``x > acc`` for min): a NaN replaces the
running value and the next value replaces the NaN, so a segment is NaN when its last
element is, else the extreme of the elements after its last NaN. NumPy's
``maximum.at`` propagates every NaN instead. Written once against ``xp``: the
device runs the same rule.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.ops.device_index import neutral, select


def _floating(dtype):
    return dtypes.as_dtype(np.dtype(dtype)).is_floating   # bfloat16's kind is "V"


def scatter_extreme(d, mode, target, key, updates):
    """``target[key] = max/min(target[key], updates)`` in place with TF's NaN rule.

    Args:
        d: the Device holding the arrays.
        mode: ``'max'`` or ``'min'``.
        target: the array updated in place.
        key: an index for ``target`` (repeats accumulate).
        updates: the values, shaped like ``target[key]``.
    """
    scatter = getattr(d, f"scatter_{mode}")
    if not _floating(target.dtype):
        scatter(target, key, updates)
        return
    xp = d.xp
    was_nan = xp.isnan(target)
    scatter(target, key, xp.where(xp.isnan(updates), neutral(target.dtype, mode),
                                  updates).astype(target.dtype, copy=False))
    xp.copyto(target, np.dtype(target.dtype).type(np.nan), where=was_nan)


def drop_nan_updates(xp, x, updates, mode):
    """``updates`` without NaNs (a neutral value instead) for a functional scatter of
    ``x``; use with :func:`keep_nan` on the result."""
    if not _floating(x.dtype):
        return updates
    # CuPy 14's where gives float32 for bfloat16: cast back
    return xp.where(xp.isnan(updates), neutral(x.dtype, mode), updates).astype(
        x.dtype, copy=False)


def keep_nan(xp, x, out):
    """``out`` with ``x``'s NaNs put back (TF's scatter max/min never clears one)."""
    if not _floating(x.dtype):
        return out
    return select(xp, xp.isnan(x), x, out)


def segment_extreme(d, mode, out, seg, rows):
    """``out[seg[i]] = max/min(out[seg[i]], rows[i])`` in row order, TF's NaN rule.

    Args:
        d: the Device holding the arrays.
        mode: ``'max'`` or ``'min'``.
        out: ``[num_segments, inner]`` array filled with the identity, in place.
        seg: int ``[n]`` segment of each row (all valid).
        rows: ``[n, inner]`` values.
    """
    scatter = getattr(d, f"scatter_{mode}")
    if not _floating(out.dtype) or not rows.size:
        scatter(out, seg, rows)
        return
    xp = d.xp
    is_nan = xp.isnan(rows)
    pos = xp.broadcast_to(xp.arange(rows.shape[0], dtype=np.int64)[:, None], rows.shape)
    last_nan = xp.full(out.shape, -1, dtype=np.int64)
    d.scatter_max(last_nan, seg, xp.where(is_nan, pos, -1))
    last = xp.full(out.shape, -1, dtype=np.int64)
    d.scatter_max(last, seg, pos)
    # only the rows after a segment's last NaN count; a trailing NaN wins
    after = pos > last_nan[seg]
    scatter(out, seg, xp.where(after, rows, neutral(out.dtype, mode)).astype(
        out.dtype, copy=False))
    xp.copyto(out, np.dtype(out.dtype).type(np.nan),
              where=(last_nan >= 0) & (last_nan == last))
