"""Indexing of RaggedTensors (``rt[i]``, ``rt[a:b]``, ``rt[:, :k]``, ``rt[..., j]``)
and ``tf.gather`` of ragged rows, as in TF: an int on a ragged dimension is an error
("Cannot index into an inner ragged dimension"); slices of ragged dimensions cut
every row."""

from dlframe.core.primitive import call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops import ragged_kernels as K
from dlframe.ops.array_index import gather
from dlframe.ops.ragged_tensor import RaggedTensor


def gather_rows(rt, indices):
    """The rows ``indices`` (an int vector) of ``rt`` as a RaggedTensor."""
    # Python indices go to the row splits' device (the host for string values)
    idx = indices if isinstance(indices, Tensor) else convert_to_tensor(
        indices, device=rt.row_splits._device)
    if idx.dtype.is_floating or idx.ndim != 1:
        raise ValueError(f"indices must be an int vector, got {idx.dtype.name} of shape "
                         f"{list(idx.shape)}")
    splits, positions = call(K.gather_indices_p, (rt.row_splits, idx))
    values = rt.values
    if isinstance(values, RaggedTensor):
        values = gather_rows(values, positions)
    else:
        values = gather(values, positions)
    return RaggedTensor(values, splits, internal=True)


def _row_index(rt, i):
    n = rt.nrows_static()
    i = int(i)
    if not -n <= i < n:
        raise ValueError(f"Index {i} is out of range for a RaggedTensor with {n} rows")
    one = gather_rows(rt, convert_to_tensor([i % n], dtype=rt.row_splits.dtype,
                                            device=rt.row_splits._device))
    return one.values


def _row_slice(rt, key):
    start, stop, step = key.indices(rt.nrows_static())
    rows = list(range(start, stop, step))
    if key.step in (None, 1) and start == 0 and stop >= rt.nrows_static():
        return rt
    return gather_rows(rt, convert_to_tensor(rows, dtype=rt.row_splits.dtype))


def _slice_arg(value, what):
    if value is None:
        return None
    if isinstance(value, Tensor):
        value = int(value)
    if not isinstance(value, int):
        raise TypeError(f"RaggedTensor {what} must be an int or None, got {value!r}")
    return value


def _inner(values, key):
    """``values[:, *key]`` for a Tensor or RaggedTensor ``values`` (rows kept)."""
    if not key:
        return values
    if isinstance(values, RaggedTensor):
        return _apply_columns(values, key)
    return values[(slice(None),) + tuple(key)]


def _apply_columns(rt, key):
    """Applies ``key`` to every row of ``rt`` (dimension 1 onwards)."""
    first, rest = key[0], key[1:]
    if first is Ellipsis:
        if Ellipsis in rest:
            raise ValueError("An index can only have a single Ellipsis")
        fill = rt.shape.rank - 1 - len(rest)
        return _apply_columns(rt, (slice(None),) * fill + rest) if fill > 0 or rest \
            else rt
    if isinstance(first, slice):
        start = _slice_arg(first.start, "slice start")
        stop = _slice_arg(first.stop, "slice stop")
        step = 1 if first.step is None else _slice_arg(first.step, "slice step")
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if start is None and stop is None and step == 1:
            return rt.with_values(_inner(rt.values, rest))
        splits, positions = call(K.slice_indices_p, (rt.row_splits,),
                                 {"start": start, "stop": stop, "step": step})
        values = rt.values
        values = gather_rows(values, positions) if isinstance(values, RaggedTensor) \
            else gather(values, positions)
        return RaggedTensor(_inner(values, rest), splits, internal=True)
    if first is None:
        raise ValueError("tf.newaxis is not supported in RaggedTensor indexing here")
    raise ValueError("Cannot index into an inner ragged dimension.")


def ragged_getitem(rt, key):
    """``rt[key]`` (see the module docstring)."""
    if not isinstance(key, tuple):
        key = (key,)
    if not key:
        return rt
    first, rest = key[0], key[1:]
    if first is Ellipsis:
        fill = rt.shape.rank - len(rest)
        return ragged_getitem(rt, (slice(None),) * fill + rest) if rest else rt
    if isinstance(first, Tensor) and first.ndim == 0:
        first = int(first)
    if isinstance(first, int) and not isinstance(first, bool):
        row = _row_index(rt, first)
        if not rest:
            return row
        if isinstance(row, RaggedTensor):
            return ragged_getitem(row, rest)
        return row[rest]
    if isinstance(first, slice):
        rows = _row_slice(rt, first)
        return _apply_columns(rows, rest) if rest else rows
    raise TypeError(f"RaggedTensor indices must be ints, slices or Ellipsis, got "
                    f"{first!r}")
