"""Composite (ragged and sparse) leaves of pipeline elements on the host: their rows,
batching them into one composite, and ``from_tensor_slices`` of structures holding
them.

TF's element spec says what a component is, not the value: a ``RaggedTensorSpec`` of
``ragged_rank`` 0 describes a row of a ragged_rank-1 RaggedTensor, which reaches user
code as a dense Tensor; batching it builds a RaggedTensor again. So batching and
unbatching here follow the spec, and a ragged leaf of ``ragged_rank`` >= 1 stays a
``RaggedTensor`` (of ``cpu:0`` Tensors) inside a pipeline.
"""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.ops.ragged_spec import RaggedTensorSpec
from dlframe.ops.ragged_tensor import RaggedTensor


def is_ragged(value):
    return isinstance(value, RaggedTensor)


def is_composite(value):
    return isinstance(value, (RaggedTensor, SparseTensor)) or is_extension(value)


def is_extension(value):
    """An ExtensionType value (``tf.experimental``): a composite of named fields."""
    return getattr(type(value), "_tf_extension_type_fields", None) is not None


def has_composite(structure):
    return any(is_composite(leaf) for leaf in S.flatten(structure))


# ---------------------------------------------------------------- ragged
def _ragged_parts(value, dense_ragged_rank=0):
    """(flat values, [row splits per level]) as host arrays; a dense array is a
    value of ``dense_ragged_rank`` uniform ragged levels (0: no splits)."""
    if is_ragged(value):
        return (S.to_host_array(value.flat_values),
                [np.asarray(s.numpy()) for s in value.nested_row_splits])
    value = np.asarray(value)
    shape = value.shape
    splits = [np.arange(int(np.prod(shape[:k + 1])) + 1, dtype=np.int64) * shape[k + 1]
              for k in range(dense_ragged_rank)]
    return value.reshape((-1,) + shape[dense_ragged_rank + 1:]), splits


def _ragged_from_parts(flat, splits, widths=()):
    if not splits:
        return flat
    dev = S.host_device()
    out = RaggedTensor.from_nested_row_splits(
        Tensor(flat, dev), [Tensor(s, dev) for s in splits], validate=False)
    mark_uniform_rows(out, widths)
    return out


def uniform_widths(value):
    """The uniform row length of each ragged level of ``value`` (None where its rows
    vary); empty for a dense value."""
    widths = []
    while is_ragged(value):
        widths.append(getattr(value, "_uniform_row_length", None))
        value = value.values
    return widths


def mark_uniform_rows(ragged, widths):
    """Marks the ragged levels whose rows have the known length ``widths[k]`` uniform,
    so static shapes keep them (``[None, 3, None]`` rows stay ``[3, None]``, as TF)."""
    for width in widths:
        if not is_ragged(ragged):
            break
        if width is not None:
            ragged._uniform_row_length = width
        ragged = ragged.values


def ragged_rows(value):
    """The rows of a RaggedTensor: host arrays for ragged_rank 1, else RaggedTensors
    of one ragged dimension less (keeping the uniform inner row lengths)."""
    flat, splits = _ragged_parts(value)
    widths = uniform_widths(value)[1:]
    rows = []
    for i in range(len(splits[0]) - 1):
        lo, hi = int(splits[0][i]), int(splits[0][i + 1])
        inner = []
        for level in splits[1:]:
            piece = level[lo:hi + 1]
            inner.append(piece - piece[0])
            lo, hi = int(piece[0]), int(piece[-1])
        rows.append(_ragged_from_parts(flat[lo:hi], inner, widths))
    return rows


def stack_ragged(items, row_splits_dtype=_dt.int64, dense_ragged_rank=0):
    """One RaggedTensor whose rows are ``items`` (host arrays, or RaggedTensors of one
    ragged_rank): its ragged_rank is one more than theirs. Dense items count as
    values of ``dense_ragged_rank`` (as ``RaggedTensor.from_tensor``), so that
    dimensions after the first may vary too.

    Raises:
      ValueError: items of different ragged ranks, scalars, or inner shapes that
        differ (only ragged dimensions may vary).
    """
    parts = [_ragged_parts(x, dense_ragged_rank) for x in items]
    depth = {len(s) for _, s in parts}
    if len(depth) > 1:
        raise ValueError(f"Cannot batch ragged values of different ragged ranks "
                         f"{sorted(depth)}")
    if any(f.ndim == 0 for f, _ in parts):
        raise ValueError("Cannot batch scalar components into a RaggedTensor")
    inner = {f.shape[1:] for f, _ in parts}
    if len(inner) > 1:
        raise ValueError(f"Cannot batch ragged values whose uniform inner dimensions "
                         f"differ: {sorted(map(list, inner))}")
    np_dtype = _dt.as_dtype(row_splits_dtype).as_numpy_dtype
    outer = np.cumsum([0] + [len(s[0]) - 1 if s else len(f) for f, s in parts])
    levels = [outer.astype(np_dtype)]
    for k in range(depth.pop()):
        offset, pieces = 0, [np.zeros(1, np_dtype)]
        for _, s in parts:
            pieces.append((s[k][1:] + offset).astype(np_dtype))
            offset += int(s[k][-1])
        levels.append(np.concatenate(pieces))
    if parts:
        flat = np.concatenate([f for f, _ in parts])
    else:
        flat = np.zeros((0,), np.float32)
    # inner levels stay uniform where every item's are (TF keeps them in the spec)
    widths = [uniform_widths(x) for x in items]
    same = [w[0] if len(set(w)) == 1 else None for w in zip(*widths)]
    return _ragged_from_parts(flat, levels, [None] + same if all(widths) else ())


# ---------------------------------------------------------------- sparse
def sparse_rows(sp):
    """The slices of a host SparseTensor along its first dimension."""
    indices = np.asarray(sp.indices, dtype=np.int64)
    values, shape = np.asarray(sp.values), np.asarray(sp.dense_shape, dtype=np.int64)
    if len(shape) == 0:
        raise ValueError("Unbatching a SparseTensor is only supported for rank >= 1")
    rows = []
    for i in range(int(shape[0])):
        keep = indices[:, 0] == i
        rows.append(SparseTensor(indices[keep, 1:], values[keep], shape[1:].copy()))
    return rows


def stack_sparse(items):
    """One SparseTensor whose rows are the SparseTensors ``items`` (its dense shape
    takes the largest size of each dimension, as TF's batch does)."""
    rank = max(len(np.asarray(sp.dense_shape)) for sp in items)
    shape = np.zeros(rank, dtype=np.int64)
    indices, values = [], []
    for b, sp in enumerate(items):
        ind = np.asarray(sp.indices, dtype=np.int64).reshape(-1, rank)
        shape = np.maximum(shape, np.asarray(sp.dense_shape, dtype=np.int64))
        indices.append(np.concatenate([np.full((len(ind), 1), b, np.int64), ind], axis=1))
        values.append(np.asarray(sp.values))
    return SparseTensor(np.concatenate(indices), np.concatenate(values),
                        np.concatenate([[len(items)], shape]).astype(np.int64))


# ---------------------------------------------------------------- extension types
def _batchable(value):
    if not getattr(value, "_dlframe_batchable", False):
        raise TypeError(f"{type(value).__name__} is not a BatchableExtensionType: its "
                        "values cannot be batched or unbatched by tf.data")
    return value


def stack_extension(items, batch_dim=None):
    """One BatchableExtensionType value whose components stack the items'; its
    ``TensorShape`` fields get the batch dimension ``batch_dim`` of the batched spec
    (None unless the batch size is static, as in TF)."""
    structures, parts = zip(*[_batchable(x)._dlframe_flatten() for x in items])
    if any(s != structures[0] for s in structures):
        raise ValueError(f"Cannot batch {type(items[0]).__name__} values whose "
                         "non-tensor fields differ")
    columns = []
    for column in zip(*parts):
        stacked = stack_by_spec(list(column), None)
        if stacked is None:
            stacked = Tensor(np.stack([S.to_host_array(p) for p in column]),
                             S.host_device())
        columns.append(stacked)
    return structures[0]._dlframe_batched(batch_dim)._dlframe_unflatten(columns)


def extension_rows(value):
    """The items of a batched BatchableExtensionType value."""
    structure, parts = _batchable(value)._dlframe_flatten()
    columns = []
    for part in parts:
        rows = unbatch_leaf(part)
        if rows is None:
            rows = S.to_host_array(part)
            if rows.ndim == 0:
                raise ValueError(f"Unbatching {type(value).__name__} needs components "
                                 f"of rank >= 1, got a scalar: {part!r}")
            rows = [rows[i, ...] for i in range(len(rows))]
        columns.append([Tensor(r, S.host_device()) if isinstance(r, np.ndarray) else r
                        for r in rows])
    sizes = {len(c) for c in columns}
    if len(sizes) != 1:
        raise ValueError(f"Cannot unbatch {value!r}: its components have different "
                         f"numbers of rows {sorted(sizes)}")
    structure = structure._dlframe_unbatched()
    return [structure._dlframe_unflatten([c[i] for c in columns])
            for i in range(sizes.pop())]


# ---------------------------------------------------------------- by spec
def stack_by_spec(items, spec, batch_dim=None):
    """Batches one component's ``items`` when its spec calls for a composite result;
    returns None where plain stacking applies. ``batch_dim``: the static batch size of
    the batched spec (None: unknown)."""
    if is_extension(items[0]):
        return stack_extension(items, batch_dim)
    if isinstance(spec, RaggedTensorSpec):
        out = stack_ragged(items, spec.row_splits_dtype)
        if spec.shape.rank:   # items of a static length: [b, rows, ...]
            mark_uniform_rows(out, spec.shape.as_list()[:1])
        return out
    if isinstance(items[0], SparseTensor):
        return stack_sparse(items)
    if is_ragged(items[0]):
        return stack_ragged(items, items[0].row_splits.dtype)
    return None


def unbatch_leaf(leaf):
    """The rows of one batched leaf (arrays, RaggedTensors or SparseTensors)."""
    if is_ragged(leaf):
        return ragged_rows(leaf)
    if isinstance(leaf, SparseTensor):
        return sparse_rows(leaf)
    if is_extension(leaf):
        return extension_rows(leaf)
    return None


def nrows(leaf):
    if is_ragged(leaf):
        return int(leaf.nrows_static())
    if isinstance(leaf, SparseTensor):
        return int(np.asarray(leaf.dense_shape)[0])
    if is_extension(leaf):
        return len(extension_rows(leaf))
    return leaf.shape[0]


# ---------------------------------------------------------------- slices
def _slice_column(leaf):
    """(rows, row spec) of one ``from_tensor_slices`` component."""
    if is_ragged(leaf):
        spec = RaggedTensorSpec.from_value(leaf)._unbatch()
        return ragged_rows(leaf), spec
    if isinstance(leaf, SparseTensor):
        host = S.to_host_leaf(leaf)
        return sparse_rows(host), S.SparseTensorSpec._unbatch(S.spec_of_leaf(host))
    if is_extension(leaf):
        return extension_rows(leaf), _batchable(leaf)._type_spec._unbatch()
    arr = S.to_host_array(leaf)
    if arr.ndim == 0:
        raise ValueError("Unbatching a tensor is only supported for rank >= 1, got a "
                         f"scalar component {leaf!r}")
    # 0-d rows keep the dtype (a string row stays an object array, not bytes 'S')
    rows = list(arr) if arr.ndim > 1 else [np.asarray(x, dtype=arr.dtype) for x in arr]
    return rows, S.TensorSpec(arr.shape[1:], _dt.from_numpy(arr.dtype))


class _CompositeSliceDataset(Dataset):
    """``from_tensor_slices`` of a structure holding RaggedTensors or SparseTensors:
    each element takes row ``i`` of every component."""

    def __init__(self, tensors):
        super().__init__()
        structure = tensors   # lists are tensors here (as in from_tensor_slices)
        columns, specs = zip(*[_slice_column(leaf) for leaf in S.flatten(structure)])
        sizes = [len(c) for c in columns]
        if len(set(sizes)) > 1:
            raise ValueError(f"all components of from_tensor_slices must have the same "
                             f"number of rows; got {sizes}")
        self._structure = structure
        self._columns = columns
        self._n = sizes[0]
        self._spec = S.pack_sequence_as(structure, list(specs))

    def _iter(self):
        single = len(self._columns) == 1 and not S.is_nested(self._structure)
        for i in range(self._n):
            row = [c[i] for c in self._columns]
            yield row[0] if single else S.pack_sequence_as(self._structure, row)

    def _cardinality(self):
        return self._n


def is_ragged_spec(spec):
    return isinstance(spec, RaggedTensorSpec)
