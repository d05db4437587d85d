"""Structural ``tf.sparse`` ops: reorder, reshape, transpose, concat, slice, split,
retain, fill_empty_rows, expand_dims, eye, to_indicator, mask and map_values.

Index bookkeeping (sorting, unraveling, selecting) runs in small host primitives that
take the indices as tensor inputs, so a traced function replays them on new indices;
values always move through ``gather``, which keeps every op differentiable w.r.t. the
values and traceable.
"""

from dlframe.backends.base import np  # host index bookkeeping
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math
from dlframe.ops._util import t
from dlframe.ops.sparse_tensor import SparseTensor, parts, to_dense
from dlframe.ops.variable_ops import IndexedSlices


def index_primitive(name, n_out=1):
    """Registers a host function of int arrays (and static attrs) as a primitive
    without gradient: indices are bookkeeping, never differentiated."""
    def wrap(fn):
        def forward(d, *arrays, **attrs):
            outs = fn(*[d.to_numpy(a) for a in arrays], **attrs)
            if n_out == 1:
                return d.asarray(outs)
            return tuple(d.asarray(o) for o in outs)
        forward.__name__ = fn.__name__
        return primitive(name, n_out=n_out)(forward)
    return wrap


def _sparse(indices, values, shape, device):
    if not isinstance(indices, Tensor):
        indices = convert_to_tensor(np.asarray(indices, dtype=np.int64), device=device)
    return SparseTensor(indices, values,
                        convert_to_tensor(np.asarray(shape, dtype=np.int64).reshape(-1),
                                          device=device))


def _axis(axis, rank, what="axis"):
    axis = int(axis)
    if not -rank <= axis < rank:
        raise InvalidArgumentError(f"{what} {axis} is out of range for a rank-{rank} "
                                   f"SparseTensor")
    return axis % rank


def _row_major_order(indices):
    return np.lexsort(indices.T[::-1]) if indices.size else np.arange(len(indices))


# ---------------------------------------------------------------- reorder / reshape
@index_primitive("SparseReorderPerm")
def _reorder_p(indices):
    return _row_major_order(indices).astype(np.int64)


def _take(sp_parts, perm, shape, device):
    indices, values = sp_parts
    return _sparse(_index.gather(indices, perm), _index.gather(values, perm), shape,
                   device)


def reorder(sp_input, name=None):
    """The same SparseTensor with its entries in row-major (lexicographic) order."""
    indices, values, shape = parts(sp_input, "reorder")
    perm = call(_reorder_p, (indices,))
    return _take((indices, values), perm, shape, values._device)


@index_primitive("SparseReshape")
def _reshape_p(indices, *, shape, new_shape):
    if not len(indices):
        return np.zeros((0, len(new_shape)), dtype=np.int64)
    flat = np.ravel_multi_index(indices.T, shape)
    return np.stack(np.unravel_index(flat, new_shape), axis=1).astype(np.int64)


def _new_shape(shape, new_shape):
    size = int(np.prod(shape))
    new = [int(s) for s in np.asarray(t(new_shape).numpy()).reshape(-1)]
    unknown = [i for i, s in enumerate(new) if s == -1]
    if len(unknown) > 1:
        raise InvalidArgumentError(f"only one output dimension may be -1; received "
                                   f"shape {new}")
    known = int(np.prod([s for s in new if s != -1]))
    if unknown:
        if known == 0 or size % known:
            raise InvalidArgumentError(f"Input to reshape is a SparseTensor with {size} "
                                       f"dense values, which cannot fill shape {new}")
        new[unknown[0]] = size // known
    if int(np.prod(new)) != size:
        raise InvalidArgumentError(f"Input to reshape is a tensor with {size} dense "
                                   f"values, but the requested shape has "
                                   f"{int(np.prod(new))}")
    return tuple(new)


def reshape(sp_input, shape, name=None):
    """Reshapes a SparseTensor like ``tf.reshape`` of its dense tensor (one -1 is
    inferred); entries keep their order."""
    indices, values, old = parts(sp_input, "reshape")
    new = _new_shape(old, shape)
    new_indices = call(_reshape_p, (indices,), {"shape": old, "new_shape": new})
    return _sparse(new_indices, values, new, values._device)


def transpose(sp_input, perm=None, name=None):
    """Permutes the dimensions (reversed by default); entries come back reordered."""
    indices, values, shape = parts(sp_input, "transpose")
    rank = len(shape)
    perm = list(range(rank))[::-1] if perm is None else [
        int(p) for p in np.asarray(t(perm).numpy()).reshape(-1)]
    if sorted(perm) != list(range(rank)):
        raise InvalidArgumentError(f"perm must be a permutation of 0..{rank - 1}; "
                                   f"received {perm}")
    moved = _index.gather(indices, perm, axis=1)
    return reorder(_sparse(moved, values, [shape[p] for p in perm], values._device))


def expand_dims(sp_input, axis=None, name=None):
    """Inserts a dimension of size 1 at ``axis`` (negative counts from the end)."""
    indices, values, shape = parts(sp_input, "expand_dims")
    rank = len(shape)
    axis = _axis(0 if axis is None else axis, rank + 1)
    zeros = _creation.zeros([int(indices.shape[0]), 1], dtypes.int64)
    new = _array.concat([indices[:, :axis], zeros, indices[:, axis:]], axis=1)
    return _sparse(new, values, list(shape[:axis]) + [1] + list(shape[axis:]),
                   values._device)


# ---------------------------------------------------------------- concat / slice / split
@index_primitive("SparseConcatIndices", n_out=2)
def _concat_p(*all_indices, axis, offsets):
    moved = []
    for idx, off in zip(all_indices, offsets):
        idx = idx.copy()
        idx[:, axis] += off
        moved.append(idx)
    joined = np.concatenate(moved, axis=0)
    perm = _row_major_order(joined)
    return joined[perm], perm.astype(np.int64)


def concat(axis, sp_inputs, expand_nonconcat_dims=False, name=None):
    """Concatenates SparseTensors along ``axis``; the result is in row-major order.

    Args:
      axis: the concatenation dimension.
      sp_inputs: a list of SparseTensors of one rank and dtype.
      expand_nonconcat_dims: allow other dimensions to differ (each becomes the
        largest of the inputs').
      name: unused.
    """
    items = [parts(sp, "concat") for sp in sp_inputs]
    if not items:
        raise ValueError("sp_inputs must hold at least one SparseTensor")
    shapes = [s for _, _, s in items]
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise InvalidArgumentError(f"all SparseTensors must have one rank; received "
                                   f"shapes {[list(s) for s in shapes]}")
    axis = _axis(axis, rank)
    out_shape = [max(s[d] for s in shapes) for d in range(rank)]
    if not expand_nonconcat_dims:
        for s in shapes:
            if any(s[d] != shapes[0][d] for d in range(rank) if d != axis):
                raise InvalidArgumentError(
                    f"SparseTensors must match in every dimension but {axis}; received "
                    f"shapes {[list(x) for x in shapes]}")
    offsets = tuple(int(v) for v in np.cumsum([0] + [s[axis] for s in shapes])[:-1])
    out_shape[axis] = int(sum(s[axis] for s in shapes))
    new_indices, perm = call(_concat_p, tuple(i for i, _, _ in items),
                             {"axis": axis, "offsets": offsets})
    values = _array.concat([v for _, v, _ in items], axis=0)
    return _sparse(new_indices, _index.gather(values, perm), out_shape, values._device)


@index_primitive("SparseSliceIndices", n_out=2)
def _slice_p(indices, *, start, stop):
    inside = np.all((indices >= np.asarray(start)) & (indices < np.asarray(stop)), axis=1)
    keep = np.nonzero(inside)[0].astype(np.int64)
    return keep, (indices[keep] - np.asarray(start, dtype=np.int64)).reshape(-1,
                                                                             len(start))


def slice(sp_input, start, size, name=None):
    """The entries inside the box ``[start, start + size)``, shifted to start at 0;
    the box is clipped to the dense shape."""
    indices, values, shape = parts(sp_input, "slice")
    start = [int(s) for s in np.asarray(t(start).numpy()).reshape(-1)]
    size = [int(s) for s in np.asarray(t(size).numpy()).reshape(-1)]
    if len(start) != len(shape) or len(size) != len(shape):
        raise InvalidArgumentError(f"start and size must have {len(shape)} entries; "
                                   f"received start={start}, size={size}")
    stop = [min(b + n, d) for b, n, d in zip(start, size, shape)]
    keep, new = call(_slice_p, (indices,), {"start": tuple(start), "stop": tuple(stop)})
    return _sparse(new, _index.gather(values, keep),
                   [max(e - b, 0) for b, e in zip(start, stop)], values._device)


def split(sp_input=None, num_split=None, axis=None, name=None, keyword_required=None):
    """Splits a SparseTensor into ``num_split`` pieces along ``axis``; the first
    ``size % num_split`` pieces are one larger."""
    if sp_input is None or num_split is None or axis is None:
        raise ValueError("sp_input, num_split and axis are required")
    _, _, shape = parts(sp_input, "split")
    axis = _axis(axis, len(shape))
    num_split = int(num_split)
    if num_split < 1:
        raise InvalidArgumentError(f"num_split must be positive; received {num_split}")
    base, extra = divmod(shape[axis], num_split)
    pieces, begin = [], 0
    for k in range(num_split):
        width = base + (1 if k < extra else 0)
        start = [0] * len(shape)
        start[axis] = begin
        size = list(shape)
        size[axis] = width
        pieces.append(slice(sp_input, start, size))
        begin += width
    return pieces


# ---------------------------------------------------------------- selection
def retain(sp_input, to_retain):
    """Keeps the entries where the bool vector ``to_retain`` ([N]) is True."""
    indices, values, shape = parts(sp_input, "retain")
    mask = t(to_retain)
    if mask.dtype != dtypes.bool or tuple(mask.shape) != tuple(values.shape):
        raise ValueError(f"to_retain must be a bool vector of length "
                         f"{int(values.shape[0])}; received {mask.dtype.name} "
                         f"{tuple(mask.shape)}")
    keep = _array.reshape(_array._where_indices(mask), [-1])
    return _take((indices, values), keep, shape, values._device)


@index_primitive("SparseFillEmptyRows", n_out=3)
def _fill_rows_p(indices, *, n_rows, rank):
    n = len(indices)
    present = np.zeros(n_rows, dtype=bool)
    present[indices[:, 0]] = True
    empty = np.nonzero(~present)[0]
    extra = np.zeros((len(empty), rank), dtype=np.int64)
    extra[:, 0] = empty
    joined = np.concatenate([indices.reshape(-1, rank), extra], axis=0)
    order = np.argsort(joined[:, 0], kind="stable")   # rows ordered, rows keep order
    source = np.concatenate([np.arange(n), np.full(len(empty), n)])[order]
    return joined[order], source.astype(np.int64), ~present


def fill_empty_rows(sp_input, default_value, name=None):
    """Adds an entry ``[row, 0, ..., 0] = default_value`` to every row without one.

    Returns:
      ``(sp_ordered_output, empty_row_indicator)``: the filled SparseTensor, ordered
      by row (entries of a row keep their order), and a bool ``[dense_shape[0]]``
      marking the rows that were empty.
    """
    indices, values, shape = parts(sp_input, "fill_empty_rows")
    new_indices, source, empty = call(_fill_rows_p, (indices,),
                                      {"n_rows": shape[0], "rank": len(shape)})
    default = _math.cast(t(default_value), values.dtype)
    pool = _array.concat([values, _array.reshape(default, [1])], axis=0)
    return (_sparse(new_indices, _index.gather(pool, source), shape, values._device),
            empty)


@index_primitive("SparseMaskKeep")
def _mask_keep_p(indices, mask_indices):
    return np.nonzero(~np.isin(indices, mask_indices))[0].astype(np.int64)


def mask(a, mask_indices, name=None):
    """The rows of IndexedSlices ``a`` whose index is not in ``mask_indices``."""
    if not isinstance(a, IndexedSlices):
        raise TypeError(f"a must be a tf.IndexedSlices; received {type(a).__name__}")
    indices = t(a.indices)
    keep = call(_mask_keep_p, (indices, _math.cast(t(mask_indices), indices.dtype)))
    return IndexedSlices(_index.gather(a.values, keep), _index.gather(indices, keep),
                         a.dense_shape)


# ---------------------------------------------------------------- constructors
def eye(num_rows, num_columns=None, dtype=dtypes.float32, name=None):
    """A sparse ``[num_rows, num_columns]`` identity (``num_columns`` defaults to
    ``num_rows``)."""
    rows = int(num_rows)
    cols = rows if num_columns is None else int(num_columns)
    if rows < 0 or cols < 0:
        raise InvalidArgumentError(f"num_rows and num_columns must be non-negative; "
                                   f"received {rows}, {cols}")
    diag = np.arange(min(rows, cols), dtype=np.int64)
    dtype = dtypes.as_dtype(dtype)
    values = convert_to_tensor(np.ones(len(diag), dtype=dtype.as_numpy_dtype))
    return _sparse(np.stack([diag, diag], axis=1), values, [rows, cols],
                   values._device)


def to_indicator(sp_input, vocab_size, name=None):
    """Bool ``[..., vocab_size]``: True at ``[..., v]`` for each value ``v`` of that
    row (the last dimension of ``sp_input`` is the list of ids)."""
    indices, values, shape = parts(sp_input, "to_indicator")
    if not values.dtype.is_integer:
        raise TypeError(f"to_indicator needs integer values; received "
                        f"{values.dtype.name}")
    ids = _array.reshape(_math.cast(values, dtypes.int64), [-1, 1])
    ones = _creation.ones([int(values.shape[0])], dtypes.bool)
    positions = _array.concat([indices[:, :-1], ids], axis=1)
    return to_dense(_sparse(positions, ones, list(shape[:-1]) + [int(vocab_size)],
                            values._device), False, validate_indices=False)


def map_values(op, *args, **kwargs):
    """Applies ``op`` to the values of the SparseTensors among the arguments (all
    with the same indices and shape); other arguments are passed as they are."""
    found = []

    def swap(arg):
        if isinstance(arg, SparseTensor):
            found.append(arg)
            return parts(arg, "map_values")[1]
        return arg

    new_args = [swap(a) for a in args]
    new_kwargs = {k: swap(v) for k, v in kwargs.items()}
    if not found:
        raise ValueError("map_values needs at least one SparseTensor argument")
    first = parts(found[0], "map_values")
    for other in found[1:]:
        idx, _, shape = parts(other, "map_values")
        same = shape == first[2] and tuple(idx.shape) == tuple(first[0].shape)
        if same and not (_tracing_tensor(idx) or _tracing_tensor(first[0])):
            same = np.array_equal(_host_ints(idx), _host_ints(first[0]))
        if not same:
            raise InvalidArgumentError("map_values: SparseTensors must have identical "
                                       "indices and dense shapes")
    return SparseTensor(found[0].indices, op(*new_args, **new_kwargs),
                        found[0].dense_shape)


def _host_ints(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


SPARSE_NAMES = [
    "reorder", "reshape", "transpose", "expand_dims", "concat", "slice", "split",
    "retain", "fill_empty_rows", "mask", "eye", "to_indicator", "map_values",
]
