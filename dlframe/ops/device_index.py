"""Gathers and scatters on an accelerator: TensorFlow's GPU semantics, no host read.

TensorFlow checks indices on the CPU and raises InvalidArgumentError; its GPU kernels
do not read indices back to the host. The documented GPU behaviour (``tf.gather``,
``tf.gather_nd``: "On GPU, if an out of bound index is found, a 0 is stored in the
corresponding output value"; ``tf.scatter_nd`` / ``tf.tensor_scatter_nd_*``: "On GPU,
if an out of bound index is found, the index is ignored") is what these helpers
compute with device-side masks, so a traced step holding them can be captured as
one CUDA graph (a host read raises while a stream captures). Negative indices are
out of range too (TF never wraps them).

Scatters send ignored rows to one extra "trash" row past the end of a working copy
(dropped afterwards); in-place variable writes, which have no spare row, neutralise
them instead (see ``neutralize``).
"""

from dlframe.backends.base import np


def prod(shape):
    """The number of elements of ``shape``."""
    n = 1
    for s in shape:
        n *= int(s)
    return n


def row_ids(xp, idx, shape, batch_dims=0):
    """Flat row ids of the index rows ``idx[..., :]`` and where they are out of range.

    Args:
      xp: the array module.
      idx: integer array ``[..., K]``; its first ``batch_dims`` dims are batch dims.
      shape: the indexed shape (its first ``batch_dims + K`` dims are indexed).
      batch_dims: leading dims shared by ``idx`` and ``shape``.

    Returns:
      ``(ids, bad)``: int64 ids into ``prod(shape[:batch_dims + K])`` rows and a bool
      mask, both of shape ``idx.shape[:-1]``.
    """
    lead = idx.shape[:-1]
    ids = xp.zeros(lead, dtype=np.int64)
    bad = xp.zeros(lead, dtype=bool)
    for j in range(batch_dims):
        grid = [1] * len(lead)
        grid[j] = lead[j]
        ids = ids * int(shape[j]) + xp.arange(lead[j], dtype=np.int64).reshape(grid)
    for i in range(idx.shape[-1]):
        size = int(shape[batch_dims + i])
        col = idx[..., i].astype(np.int64, copy=False)
        bad |= (col < 0) | (col >= size)
        ids = ids * size + col
    return ids, bad


def select(xp, cond, a, b):
    """``where(cond, a, b)`` in ``b``'s dtype (CuPy 14.2 selects bfloat16 in
    float32)."""
    return xp.where(cond, a, b).astype(b.dtype, copy=False)


def masked(xp, bad, rows):
    """``rows`` (``bad.shape + row``) with the rows where ``bad`` holds set to 0."""
    mask = bad.reshape(bad.shape + (1,) * (rows.ndim - bad.ndim))
    return select(xp, mask, xp.zeros((), dtype=rows.dtype), rows)


def gather_rows(xp, x, ids, bad, depth):
    """Rows ``ids`` of ``x`` with its first ``depth`` dims flattened into one; zero
    rows where ``bad`` holds."""
    n_rows, rest = prod(x.shape[:depth]), x.shape[depth:]
    if n_rows == 0:
        return xp.zeros(ids.shape + rest, dtype=x.dtype)
    rows = x.reshape((n_rows,) + rest)
    return masked(xp, bad, xp.take(rows, xp.where(bad, 0, ids), axis=0))


def gather_axis(xp, x, idx, axis, batch_dims, take):
    """GatherV2 on the device: ``take(xp, x, idx, axis, batch_dims)`` (the in-range
    gather) at clipped indices, zeros where an index is out of range."""
    shape = x.shape[:axis] + idx.shape[batch_dims:] + x.shape[axis + 1:]
    size = x.shape[axis]
    if not size:
        return xp.zeros(shape, dtype=x.dtype)
    bad = (idx < 0) | (idx >= size)
    out = take(xp, x, xp.where(bad, 0, idx), axis, batch_dims)
    mask = bad.reshape(idx.shape[:batch_dims] + (1,) * (axis - batch_dims) +
                       idx.shape[batch_dims:] + (1,) * (x.ndim - axis - 1))
    return select(xp, mask, xp.zeros((), dtype=x.dtype), out)


def scatter_rows(d, base, ids, bad, rows, mode, shape=None):
    """``base`` (``[n_rows, ...]``; zeros of ``shape`` when None) with ``rows``
    applied at ``ids``, ignoring those where ``bad`` holds (TF's GPU semantics).

    Args:
      d: the Device.
      base: the array written (not modified), or None.
      ids: int64 row ids; ``bad`` marks those to ignore.
      rows: values of shape ``ids.shape + base.shape[1:]``.
      mode: 'update', 'add', 'max' or 'min'.
      shape: the shape of the zeros when ``base`` is None.

    Returns:
      The new ``[n_rows, ...]`` array (a view of one with a trash row past its end).
    """
    xp = d.xp
    shape = tuple(base.shape) if base is not None else tuple(shape)
    n_rows = shape[0]
    if base is None:
        work = xp.zeros((n_rows + 1,) + shape[1:], dtype=rows.dtype)
    else:
        work = xp.empty((n_rows + 1,) + shape[1:], dtype=base.dtype)
        work[:n_rows] = base
        work[n_rows:] = 0
    flat = xp.where(bad, n_rows, ids).reshape(-1)
    rows = rows.reshape(flat.shape + shape[1:])
    if mode == "update":
        work[flat] = rows
    else:
        getattr(d, f"scatter_{mode}")(work, flat, rows)
    return work[:n_rows]


def scatter_nd(d, x, idx, updates, mode, shape=None, batch_dims=0):
    """``x`` (zeros of ``shape`` when None) with ``updates`` applied at the index
    rows ``idx[..., :]``; out-of-range rows are ignored (TF's GPU kernels)."""
    shape = tuple(x.shape) if x is not None else tuple(shape)
    depth = batch_dims + idx.shape[-1]
    ids, bad = row_ids(d.xp, idx, shape, batch_dims)
    rows = (prod(shape[:depth]),) + shape[depth:]
    base = None if x is None else x.reshape(rows)
    return scatter_rows(d, base, ids, bad, updates, mode, rows).reshape(shape)


def neutral(dtype, mode):
    """The value that leaves an element unchanged under ``mode``."""
    from dlframe.core import dtypes
    info = dtypes.as_dtype(np.dtype(dtype))   # bfloat16's NumPy kind is "V"
    if mode in ("add", "sub"):   # x + 0.0 would turn a -0.0 into 0.0; x + -0.0 is x
        return -0.0 if mode == "add" and info.is_floating else 0   # (sub negates)
    if mode in ("mul", "div"):
        return 1
    if info.is_bool:
        return mode == "min"
    if info.is_floating:   # (max(-inf, lowest finite) would change a -inf)
        return -np.inf if mode == "max" else np.inf
    return info.min if mode == "max" else info.max


def neutralize(xp, var, key, bad, values, mode):
    """``(key, values)`` for an in-place write of ``var`` that ignores the index rows
    where ``bad`` holds, with no host read.

    ``key`` is a tuple of broadcast integer arrays of the ``bad`` shape. Ignored rows
    of an accumulating ``mode`` point at element 0 with the mode's neutral value; for
    ``'update'`` they repeat the first kept row (index and value: a duplicate write of
    the same value), or rewrite element 0's current value when no row is kept. A
    variable with no rows has no element 0: every row is ignored, none is written.
    """
    if not prod(var.shape[:len(key)]):
        n = prod(bad.shape)
        return (tuple(k.reshape(-1)[:0] for k in key),
                values.reshape((n,) + values.shape[bad.ndim:])[:0])
    keys = tuple(xp.where(bad, 0, k) for k in key)
    mask = bad.reshape(bad.shape + (1,) * (values.ndim - bad.ndim))
    if mode != "update":
        # a Python scalar, not an array: a host-to-device copy would be captured
        # reading a host buffer that is gone by the time the graph replays
        fill = neutral(var.dtype, mode)
        return keys, select(xp, mask, fill, values)
    flat_bad = bad.reshape(-1)
    n = flat_bad.shape[0]
    if n == 0:
        return keys, values
    first = xp.argmax(~flat_bad)          # the first kept row (0 when none is)
    kept = ~xp.take(flat_bad, first)
    rep = tuple(xp.where(kept, xp.take(k.reshape(-1), first), 0) for k in keys)
    lead, rest = var.shape[:len(keys)], var.shape[len(keys):]
    at = xp.zeros((), dtype=np.int64)
    for r, size in zip(rep, lead):
        at = at * int(size) + r
    flat_values = values.reshape((n,) + values.shape[bad.ndim:])
    current = xp.take(var.reshape((prod(lead),) + rest), at, axis=0)
    rep_value = select(xp, kept, xp.take(flat_values, first, axis=0), current)
    keys = tuple(xp.where(bad, r, k) for r, k in zip(rep, keys))
    return keys, select(xp, mask, rep_value, values)
