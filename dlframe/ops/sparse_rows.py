"""Row selection of SparseTensors along the first dimension, for feeding them in
batches (``Model.fit`` with a SparseTensor ``x``): a contiguous range of rows and a
gather of rows (shuffling). Host-side index work; not differentiable (data only)."""

from dlframe.backends.base import np
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops.sparse_tensor import SparseTensor


def _host(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _rebuild(sp, indices, positions, n_rows):
    values = sp.values
    device = getattr(values, "_device", None)
    picked = _host(values)[positions]
    shape = _host(sp.dense_shape).astype(np.int64).copy()
    shape[0] = n_rows
    return SparseTensor(convert_to_tensor(indices.astype(np.int64), device=device),
                        convert_to_tensor(picked, device=device),
                        convert_to_tensor(shape, device=device))


def take_rows(sp, rows):
    """The SparseTensor whose row ``j`` is row ``rows[j]`` of ``sp`` (repeats allowed).

    Args:
      sp: a SparseTensor of rank >= 1.
      rows: integer row numbers (a list, array or Tensor).

    Raises:
      ValueError: a row number outside ``[0, sp.dense_shape[0])``.
    """
    rows = _host(rows).astype(np.int64).reshape(-1)
    indices = _host(sp.indices).astype(np.int64)
    n = int(_host(sp.dense_shape)[0])
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"`rows` must lie in [0, {n}), got {rows.tolist()}")
    order = np.argsort(indices[:, 0], kind="stable")   # entries grouped by row
    counts = np.bincount(indices[:, 0], minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_row = counts[rows]
    new_row = np.repeat(np.arange(len(rows)), per_row)
    within = np.arange(per_row.sum()) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    positions = order[np.repeat(starts[rows], per_row) + within]
    out = indices[positions].copy()
    out[:, 0] = new_row
    return _rebuild(sp, out, positions, len(rows))


def slice_rows(sp, start, stop):
    """Rows ``start:stop`` of ``sp`` (clipped to its number of rows, as slicing)."""
    n = int(_host(sp.dense_shape)[0])
    start, stop, _ = slice(start, stop).indices(n)
    return take_rows(sp, np.arange(start, max(start, stop)))
