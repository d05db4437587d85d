"""More RaggedTensor support used by the "Ragged tensors" guide: ``tf.tile``,
``tf.reverse``, ``tf.map_fn``, ``tf.squeeze`` and ``tf.nn.embedding_lookup`` on ragged
arguments, and
``RaggedTensor.to_sparse`` / ``RaggedTensor.from_sparse``.

Everything is composed from ops on the component tensors (values, row splits), so it
is differentiable through the values and traceable in a ``dlframe.function``.
"""

from dlframe.backends.base import np  # host check of concrete sparse indices
from dlframe.core import dtypes, nest
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.core.tensor_spec import TensorSpec
from dlframe.errors import CompositeTensorError, InvalidArgumentError
from dlframe.ops import (
    array,
    array_index,
    array_tile_pad,
    functional_ops,
    math,
    nn_impl,
)
from dlframe.ops import ragged_ops as RO
from dlframe.ops.creation import range as _range
from dlframe.ops.logic import cast
from dlframe.ops.names import COMPOSITE_DISPATCH
from dlframe.ops.ragged_getitem import gather_rows
from dlframe.ops.ragged_spec import RaggedTensorSpec
from dlframe.ops.ragged_tensor import RaggedTensor
from dlframe.ops.sparse_tensor import SparseTensor


def _multiples(multiples, rank):
    if isinstance(multiples, Tensor):
        multiples = multiples.numpy().tolist()
    multiples = [int(m) for m in multiples]
    if len(multiples) != rank:
        raise ValueError(f"tile: `multiples` must have one entry per dimension ({rank}),"
                         f" got {multiples}")
    if any(m < 0 for m in multiples):
        raise ValueError(f"tile: `multiples` must be non-negative, got {multiples}")
    return multiples


def _tile_rows(rt, times):
    """Each row of a ragged-rank-1 ``rt`` repeated ``times`` times in place."""
    lengths = cast(rt.row_lengths(), dtypes.int64)
    positions = RO.range(lengths * times)           # 0..len*times-1 in each new row
    rows = positions.value_rowids()
    pos = cast(positions.flat_values, dtypes.int64)
    start = array_index.gather(cast(rt.row_splits[:-1], dtypes.int64), rows)
    take = start + math.floormod(pos, array_index.gather(lengths, rows))
    values = array_index.gather(rt.values, take)
    out = RaggedTensor.from_row_lengths(values, lengths * times, validate=False)
    return out.with_row_splits_dtype(rt.row_splits_dtype)


def tile(input, multiples, name=None):  # noqa: A002 - TF's argument name
    """``tf.tile`` of a RaggedTensor: rows repeated along the ragged dimension, the
    whole tensor along the first, inner dense dimensions tiled as dense ones."""
    if not isinstance(input, RaggedTensor):
        raise CompositeTensorError("tile: this RaggedTensor argument is not supported")
    if input.ragged_rank != 1:
        raise NotImplementedError("tf.tile supports RaggedTensors of ragged_rank 1")
    m = _multiples(multiples, input.shape.rank)
    out = input
    if m[2:] and any(v != 1 for v in m[2:]):
        out = out.with_values(array.tile(out.values, [1] + m[2:]))
    if m[1] != 1:
        out = _tile_rows(out, m[1])
    if m[0] != 1:
        out = RO.concat([out] * m[0], 0) if m[0] else out[:0]
    return out


def _take_rows(values, positions):
    """Rows ``positions`` of ``values`` (a Tensor or a RaggedTensor)."""
    if isinstance(values, RaggedTensor):
        return gather_rows(values, positions)
    return array_index.gather(values, positions)


def _reverse_axis(rt, axis):
    """``rt`` reversed along one non-negative ``axis``."""
    if axis == 0:
        return _take_rows(rt, _range(rt.nrows() - 1, -1, -1))
    if axis > rt.ragged_rank:   # a uniform inner dimension of the flat values
        return rt.with_flat_values(array_tile_pad.reverse(rt.flat_values,
                                                          [axis - rt.ragged_rank]))
    if axis > 1:
        return rt.with_values(_reverse_axis(rt.values, axis - 1))
    # the first ragged dimension: value j of row [start, limit) moves to
    # start + limit - 1 - j, so every row is reversed in place
    splits = cast(rt.row_splits, dtypes.int64)
    rows = cast(rt.value_rowids(), dtypes.int64)
    take = (array_index.gather(splits[:-1], rows) + array_index.gather(splits[1:], rows)
            - 1 - _range(splits[-1], dtype=dtypes.int64))
    return rt.with_values(_take_rows(rt.values, take))


def reverse(tensor, axis, name=None):
    """``tf.reverse`` of a RaggedTensor: the order of the rows (axis 0), of the
    values inside each row (a ragged axis) or of a uniform inner axis is reversed."""
    if not isinstance(tensor, RaggedTensor):
        raise CompositeTensorError("reverse: this RaggedTensor argument is not "
                                   "supported")
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    axes = [int(a) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    rank = tensor.shape.rank
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"reverse: `axis` {a} is out of range for a "
                             f"RaggedTensor of rank {rank}")
    axes = [a % rank for a in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"reverse: `axis` {axis} names a dimension more than once")
    out = tensor
    for a in axes:
        out = _reverse_axis(out, a)
    return out


def _dense_signature(signature):
    if signature is None or isinstance(signature, RaggedTensorSpec):
        return False
    return isinstance(signature, TensorSpec) or dtypes.as_dtype(signature) is not None


def _rows(leaf):
    """The rows of one ``elems`` component (RaggedTensor rows are Tensors)."""
    if isinstance(leaf, RaggedTensor):
        return list(leaf)
    t = leaf if isinstance(leaf, Tensor) else convert_to_tensor(leaf)
    if t.shape.rank == 0:
        raise ValueError("map_fn: elems must be at least rank 1 (it is unpacked on "
                         f"its first dimension); got a scalar {t}")
    return array.unstack(t)


def _stack_column(outs, signature, default_dtype):
    """One output of ``fn`` over every row: stacked densely for a dense signature
    (or scalar results), else the rows of a RaggedTensor."""
    outs = [o if isinstance(o, (Tensor, RaggedTensor)) else convert_to_tensor(o)
            for o in outs]
    want = None
    if isinstance(signature, (TensorSpec, RaggedTensorSpec)):
        want = signature.dtype
    elif signature is not None:
        want = dtypes.as_dtype(signature)
    if want is not None and outs and outs[0].dtype != want:
        raise TypeError(f"map_fn: fn returned {outs[0].dtype.name} but "
                        f"fn_output_signature says {want.name}")
    if _dense_signature(signature) or (outs and outs[0].shape.rank == 0):
        if not outs:
            return array.zeros([0], want or default_dtype)
        return array.stack(outs)
    if not outs:
        return RaggedTensor.from_row_lengths(array.zeros([0], want or default_dtype),
                                             array.zeros([0], dtypes.int64))
    lengths = [o.nrows() if isinstance(o, RaggedTensor) else
               array.shape(o, out_type=dtypes.int64)[0] for o in outs]
    values = RO.concat(outs, 0) if isinstance(outs[0], RaggedTensor) else \
        array.concat(outs, 0)
    return RaggedTensor.from_row_lengths(values, array.stack(
        [cast(n, dtypes.int64) for n in lengths]), validate=False)


def has_ragged_signature(signature):
    return any(isinstance(s, RaggedTensorSpec) for s in nest.flatten(signature))


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name=None, fn_output_signature=None):
    """``tf.map_fn`` over RaggedTensor rows, or with ragged results.

    ``fn`` gets each row (RaggedTensor rows as Tensors). An output with a dense
    signature (a dtype or ``tf.TensorSpec``) is stacked; otherwise (the default, or a
    ``tf.RaggedTensorSpec``) results of rank >= 1 become the rows of a RaggedTensor.
    """
    signature = fn_output_signature if fn_output_signature is not None else dtype
    leaves = nest.flatten(elems)
    if not any(isinstance(x, RaggedTensor) for x in leaves) and \
            not has_ragged_signature(signature):
        raise CompositeTensorError("map_fn: this RaggedTensor argument is not supported")
    columns = [_rows(leaf) for leaf in leaves]
    sizes = {len(c) for c in columns}
    if len(sizes) != 1:
        raise ValueError(f"map_fn: all elems must have the same first dimension; got "
                         f"{sorted(sizes)} rows")
    outs = [fn(nest.pack_sequence_as(elems, [c[i] for c in columns]))
            for i in range(sizes.pop())]
    structure = signature if signature is not None else (outs[0] if outs else elems)
    sig_leaves = nest.flatten(signature) if signature is not None else \
        [None] * len(nest.flatten(structure))
    flat_outs = [nest.flatten(o) for o in outs]
    results = [_stack_column([o[k] for o in flat_outs], sig, leaves[0].dtype)
               for k, sig in enumerate(sig_leaves)]
    if not back_prop:
        results = [r.with_flat_values(array.stop_gradient(r.flat_values))
                   if isinstance(r, RaggedTensor) else array.stop_gradient(r)
                   for r in results]
    return nest.pack_sequence_as(structure, results)


def squeeze(input, axis=None, name=None):  # noqa: A002 - TF's argument name
    """``tf.squeeze`` of a RaggedTensor: only uniform size-1 dimensions (the first,
    when there is one row, or inner dense ones) can be removed."""
    if not isinstance(input, RaggedTensor):
        raise CompositeTensorError("squeeze: this RaggedTensor argument is not supported")
    if axis is None:
        raise ValueError("tf.squeeze of a RaggedTensor needs an explicit `axis`")
    axes = sorted({int(a) % input.shape.rank for a in
                   (axis if isinstance(axis, (list, tuple)) else [axis])}, reverse=True)
    out = input
    for a in axes:
        if a > out.ragged_rank:
            out = out.with_flat_values(array.squeeze(out.flat_values,
                                                     [a - out.ragged_rank]))
        elif a == 0 and out.nrows_static() == 1:
            out = out.values
        else:
            raise ValueError(f"tf.squeeze: axis {a} is ragged (or not of size 1) and "
                             "cannot be squeezed")
    return out


def embedding_lookup(params, ids, max_norm=None, name=None):
    """``tf.nn.embedding_lookup`` with RaggedTensor ids: a RaggedTensor of vectors."""
    if not isinstance(ids, RaggedTensor):
        raise CompositeTensorError("embedding_lookup: RaggedTensor params are not "
                                   "supported")
    return ids.with_flat_values(nn_impl.embedding_lookup(params, ids.flat_values,
                                                         max_norm=max_norm))


def to_sparse(self, name=None):
    """This RaggedTensor as a ``tf.SparseTensor`` (one entry per value)."""
    if self.flat_values.shape.rank != 1:
        raise NotImplementedError("to_sparse supports RaggedTensors with scalar values")
    cols, rt = None, self
    while isinstance(rt, RaggedTensor):
        rows = rt.value_rowids()
        nvals = array.shape(rt.values, out_type=dtypes.int64)[0] if \
            isinstance(rt.values, Tensor) else rt.values.nrows(dtypes.int64)
        pos = _range(nvals, dtype=dtypes.int64) - array_index.gather(
            cast(rt.row_splits, dtypes.int64), rows)
        rows = cast(rows, dtypes.int64)
        cols = [rows, pos] if cols is None else \
            [array_index.gather(c, rows) for c in cols] + [pos]
        rt = rt.values
    return SparseTensor(array.stack(cols, axis=1), self.flat_values,
                        self.bounding_shape(out_type=dtypes.int64))


def _check_right_ragged(indices):
    """TF's check that row ``r``'s entries are its columns ``0..k-1`` in order (on
    concrete indices; a trace has no values to check)."""
    if isinstance(indices, Tensor) and _tracing_tensor(indices):
        return
    ind = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    rows = ind[:, 0]
    if np.any(np.diff(rows) < 0) or np.any(
            ind[:, 1] != np.arange(len(rows)) - np.searchsorted(rows, rows)):
        raise InvalidArgumentError(None, None, "from_sparse: SparseTensor is not "
                                   f"right-ragged; got indices {ind.tolist()}")


@classmethod
def from_sparse(cls, st_input, name=None, row_splits_dtype=dtypes.int64):
    """A 2-D SparseTensor in row-major order, each row's columns ``0..k-1``, as a
    RaggedTensor."""
    if not isinstance(st_input, SparseTensor):
        raise TypeError(f"from_sparse: `st_input` must be a SparseTensor, got "
                        f"{type(st_input).__name__}")
    if st_input.indices.shape[1] != 2:
        raise ValueError(f"from_sparse: `st_input` must be rank 2, got "
                         f"{st_input.indices.shape[1]}")
    _check_right_ragged(st_input.indices)
    rows = st_input.indices[:, 0]
    out = cls.from_value_rowids(st_input.values, rows, nrows=st_input.dense_shape[0])
    return out.with_row_splits_dtype(row_splits_dtype)


def register():
    """Adds these implementations to the composite dispatch and ``RaggedTensor``."""
    COMPOSITE_DISPATCH.update({
        array.tile: tile, array.squeeze: squeeze, functional_ops.map_fn: map_fn,
        array_tile_pad.reverse: reverse,
        nn_impl.embedding_lookup: embedding_lookup,
    })
    RaggedTensor.to_sparse = to_sparse
    RaggedTensor.from_sparse = from_sparse


register()
