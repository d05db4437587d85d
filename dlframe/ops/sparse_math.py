"""Arithmetic ``tf.sparse`` ops: reductions, ``sparse_dense_matmul``, ``add``,
``maximum``/``minimum``, ``softmax``, the sparse segment reductions and ``bincount``.

Values flow through gathers and segment sums, so results are differentiable w.r.t.
the values (and the dense operand of a matmul); index bookkeeping runs in host
primitives of ``sparse_ops``.
"""

from dlframe.backends.base import np  # host index bookkeeping
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import segment as _segment
from dlframe.ops._util import t
from dlframe.ops.sparse_ops import _axis, _sparse, index_primitive
from dlframe.ops.sparse_tensor import SparseTensor, parts, to_dense


# ---------------------------------------------------------------- helpers
@primitive("SparseScatterAdd")
def _scatter_to_p(d, values, positions, like):
    """``out[positions[i]] += values[i]`` into zeros of length ``len(like)``."""
    out = d.xp.zeros((like.shape[0],), dtype=values.dtype)
    d.scatter_add(out, positions, values)
    return out


@_scatter_to_p.defgrad
def _scatter_to_grad(inputs, out, dy):
    return _index.gather(dy, inputs[1]), None, None


def _scatter_to(values, positions, like):
    return call(_scatter_to_p, (values, positions, like))


def _flat_ids(indices, shape, axes):
    """int64 [N]: each entry's position in the row-major flattening of ``axes``."""
    ids = None
    for a in axes:
        col = indices[:, a]
        ids = col if ids is None else _math.add(_math.multiply(ids, shape[a]), col)
    return ids


def _reduce_axes(axis, rank):
    if axis is None:
        return list(range(rank))
    axes = [int(a) for a in np.asarray(t(axis).numpy()).reshape(-1)]
    return sorted({_axis(a, rank) for a in axes})


@index_primitive("SparseReduceGroups", n_out=3)
def _groups_p(indices, *, kept, rank, keepdims):
    """The groups of entries sharing their kept coordinates, in row-major order: the
    groups' kept coordinates, each entry's group and the output indices (with zero
    coordinates on the reduced axes when ``keepdims``)."""
    keys = indices.reshape(-1, rank)[:, list(kept)]
    if len(keys):
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    else:
        uniq, inverse = np.zeros((0, len(kept)), np.int64), np.zeros(0, np.int64)
    out = uniq
    if keepdims:
        out = np.zeros((len(uniq), rank), np.int64)
        out[:, list(kept)] = uniq
    return (uniq.astype(np.int64), inverse.reshape(-1).astype(np.int64),
            out.astype(np.int64))


def _reduce(sp_input, axis, keepdims, output_is_sparse, kind):
    indices, values, shape = parts(sp_input, f"reduce_{kind}")
    rank = len(shape)
    axes = _reduce_axes(axis, rank)
    kept = [d for d in range(rank) if d not in axes]
    kept_shape = [shape[d] for d in kept]
    out_shape = [1 if d in axes else shape[d] for d in range(rank)] if keepdims \
        else kept_shape
    if output_is_sparse:
        groups, inverse, out_indices = call(_groups_p, (indices,), {
            "kept": tuple(kept), "rank": rank, "keepdims": keepdims})
        if kind == "sum":
            out_values = _scatter_to(values, inverse, groups)
        else:
            dense = _array.reshape(_reduce(sp_input, axis, False, False, kind), [-1])
            if kept:
                out_values = _index.gather(dense, _flat_ids(groups, kept_shape,
                                                            range(len(kept))))
            else:   # one group holding every entry (none without entries)
                out_values = dense[:int(int(indices.shape[0]) > 0)]
        return _sparse(out_indices, out_values, out_shape, values._device)
    n_groups = int(np.prod(kept_shape)) if kept else 1
    ids = _flat_ids(indices, shape, kept) if kept else _math.multiply(
        _index.gather(indices, 0, axis=1), 0)
    if kind == "sum":
        out = _segment.unsorted_segment_sum(values, ids, n_groups)
    else:
        # TF's sparse max ignores the implicit zeros; groups without entries give 0
        out = _segment.unsorted_segment_max(values, ids, n_groups)
        count = _segment.unsorted_segment_sum(_logic.ones_like(values), ids, n_groups)
        out = _logic.where(_math.greater(count, 0), out, _logic.zeros_like(out))
    return _array.reshape(out, out_shape)


def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """Sums the entries of a SparseTensor over ``axis`` (all by default).

    Returns:
      A dense Tensor, or (``output_is_sparse``) a SparseTensor with one entry per
      group of the remaining coordinates that holds at least one entry.
    """
    return _reduce(sp_input, axis, bool(keepdims), output_is_sparse, "sum")


def reduce_max(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """The largest stored entry over ``axis`` (implicit zeros are not considered, as
    in TF; groups without entries give 0)."""
    return _reduce(sp_input, axis, bool(keepdims), output_is_sparse, "max")


# ---------------------------------------------------------------- matmul
def _sparse_matmul(indices, values, shape, b, adjoint_a, adjoint_b):
    """``op(A) @ op(B)`` for a sparse rank-2 A given by its parts."""
    rows, cols = _index.gather(indices, 0, axis=1), _index.gather(indices, 1, axis=1)
    n_rows = shape[0]
    if adjoint_a:
        rows, cols, n_rows = cols, rows, shape[1]
        values = _math.conj(values) if values.dtype.is_complex else values
    if b.ndim != 2:
        raise InvalidArgumentError(f"sparse_dense_matmul: the dense operand must be a "
                                   f"matrix, got shape {list(b.shape)}")
    given = ",".join(str(int(n)) for n in b.shape)
    if adjoint_b:
        b = _array.transpose(b)
        b = _math.conj(b) if b.dtype.is_complex else b
    inner = shape[0] if adjoint_a else shape[1]
    if int(b.shape[0]) != inner:   # TF's kernel message (its "[2, 3)" included)
        raise InvalidArgumentError(
            f"Cannot multiply A and B because inner dimension does not match: {inner} "
            f"vs. {int(b.shape[0])}.  Did you forget a transpose?  Dimensions of A: "
            f"[{shape[0]}, {shape[1]}).  Dimensions of B: [{given}] "
            "[Op:SparseTensorDenseMatMul]")
    # TF: the gradient w.r.t. the dense operand is a dense Tensor
    products = _math.multiply(_array.expand_dims(values, 1),
                              _index.gather_dense_grad(b, cols))
    return _segment.unsorted_segment_sum(products, rows, n_rows)


def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """``sp_a @ b`` for a rank-2 SparseTensor and a dense matrix (either argument may
    be the sparse one). Differentiable w.r.t. the dense operand and the values.

    Args:
      sp_a: a SparseTensor (or a dense matrix when ``b`` is the SparseTensor).
      b: a dense matrix (or a SparseTensor).
      adjoint_a: use the conjugate transpose of the first argument.
      adjoint_b: use the conjugate transpose of the second argument.
      name: unused.
    """
    if isinstance(b, SparseTensor) and not isinstance(sp_a, SparseTensor):
        # a @ B = (B^H @ a^H)^H
        indices, values, shape = parts(b, "sparse_dense_matmul")
        a = _dense_operand(sp_a, values.dtype)
        out = _sparse_matmul(indices, values, shape, a, not adjoint_b, not adjoint_a)
        out = _array.transpose(out)
        return _math.conj(out) if out.dtype.is_complex else out
    indices, values, shape = parts(sp_a, "sparse_dense_matmul")
    if len(shape) != 2:
        raise InvalidArgumentError(f"sparse_dense_matmul needs a rank-2 SparseTensor; "
                                   f"received dense shape {list(shape)}")
    return _sparse_matmul(indices, values, shape, _dense_operand(b, values.dtype),
                          adjoint_a, adjoint_b)


def _dense_operand(b, dtype):
    """``b`` as a Tensor of the sparse values' ``dtype`` (a Tensor of another dtype
    is TF's InvalidArgumentError, not a silent cast)."""
    if isinstance(b, Tensor) and b.dtype != dtype:
        raise DTypeMismatchError(
            f"cannot compute SparseTensorDenseMatMul as input #3(zero-based) was "
            f"expected to be a {dtype.name} tensor but is a {b.dtype.name} tensor "
            "[Op:SparseTensorDenseMatMul]")
    return t(b, dtype)


# ---------------------------------------------------------------- elementwise
@index_primitive("SparseUnion", n_out=4)
def _union_p(a_indices, b_indices):
    """Sorted union of two index sets, each side's position in it, and which union
    entries both sides hold."""
    rank = max(a_indices.shape[1], b_indices.shape[1])
    joined = np.concatenate([a_indices.reshape(-1, rank), b_indices.reshape(-1, rank)])
    if not len(joined):
        empty = np.zeros(0, np.int64)
        return np.zeros((0, rank), np.int64), empty, empty, np.zeros(0, bool)
    uniq, inverse = np.unique(joined, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n_a = len(a_indices)
    both = np.zeros(len(uniq), bool)
    both[np.intersect1d(inverse[:n_a], inverse[n_a:])] = True
    return (uniq.astype(np.int64), inverse[:n_a].astype(np.int64),
            inverse[n_a:].astype(np.int64), both)


def _union(a, b, op):
    a_idx, a_val, a_shape = parts(a, op)
    b_idx, b_val, b_shape = parts(b, op)
    if a_shape != b_shape:
        raise InvalidArgumentError(f"{op}: operands must have one dense shape; received "
                                   f"{list(a_shape)} and {list(b_shape)}")
    if a_val.dtype != b_val.dtype:
        raise TypeError(f"{op}: operands must have one dtype; received "
                        f"{a_val.dtype.name} and {b_val.dtype.name}")
    union, pos_a, pos_b, both = call(_union_p, (a_idx, b_idx))
    return (union, _scatter_to(a_val, pos_a, union), _scatter_to(b_val, pos_b, union),
            both, a_shape, a_val._device)


def add(a, b, threshold=0, name=None):
    """``a + b`` where at least one is a SparseTensor.

    Two SparseTensors give a SparseTensor over the union of their entries; an entry
    both hold is dropped when the magnitude of its sum is below ``threshold``. A
    SparseTensor and a dense Tensor give a dense Tensor.
    """
    if not isinstance(a, SparseTensor) or not isinstance(b, SparseTensor):
        if not isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
            raise TypeError("add: at least one operand must be a SparseTensor")
        sp, dense = (a, b) if isinstance(a, SparseTensor) else (b, a)
        dense_sp = to_dense(sp)
        return _math.add(dense_sp, t(dense, dense_sp.dtype))
    union, a_vals, b_vals, both, shape, device = _union(a, b, "add")
    total = _math.add(a_vals, b_vals)
    if float(np.asarray(t(threshold).numpy())) <= 0:
        return _sparse(union, total, shape, device)
    big = _math.greater_equal(_math.abs(total), _math.cast(t(threshold), total.dtype))
    keep = _array.reshape(_array._where_indices(
        _logic.logical_or(_logic.logical_not(both), big)), [-1])
    return _sparse(_index.gather(union, keep), _index.gather(total, keep), shape, device)


def _extreme(sp_a, sp_b, fn, op):
    union, a_vals, b_vals, _, shape, device = _union(sp_a, sp_b, op)
    return _sparse(union, fn(a_vals, b_vals), shape, device)


def maximum(sp_a, sp_b, name=None):
    """Elementwise maximum of two SparseTensors over the union of their entries (a
    missing entry counts as 0)."""
    return _extreme(sp_a, sp_b, _math.maximum, "maximum")


def minimum(sp_a, sp_b, name=None):
    """Elementwise minimum of two SparseTensors over the union of their entries (a
    missing entry counts as 0)."""
    return _extreme(sp_a, sp_b, _math.minimum, "minimum")


def softmax(sp_input, name=None):
    """Softmax over the stored entries of each innermost row (implicit zeros take
    no part); the result has the same indices."""
    indices, values, shape = parts(sp_input, "softmax")
    if len(shape) < 2:
        raise InvalidArgumentError(f"softmax needs a SparseTensor of rank >= 2; "
                                   f"received dense shape {list(shape)}")
    if not values.dtype.is_floating:
        raise TypeError(f"softmax needs float values; received {values.dtype.name}")
    lead = list(range(len(shape) - 1))
    ids = _flat_ids(indices, shape, lead)
    n_rows = int(np.prod(shape[:-1]))
    top = _index.gather(_segment.unsorted_segment_max(values, ids, n_rows), ids)
    exps = _math.exp(_math.subtract(values, _array.stop_gradient(top)))
    sums = _index.gather(_segment.unsorted_segment_sum(exps, ids, n_rows), ids)
    return SparseTensor(indices, _math.divide(exps, sums), sp_input.dense_shape)


# ---------------------------------------------------------------- segments
def _sparse_segment(data, indices, segment_ids, num_segments, kind):
    rows = _index.gather_dense_grad(t(data), t(indices))   # TF: a dense gradient
    ids = t(segment_ids)
    if num_segments is None:
        total = _segment.segment_sum(rows, ids)
        count = _segment.segment_sum(_logic.ones_like(ids, dtype=rows.dtype), ids)
    else:
        total = _segment.unsorted_segment_sum(rows, ids, num_segments)
        count = _segment.unsorted_segment_sum(_logic.ones_like(ids, dtype=rows.dtype),
                                              ids, num_segments)
    if kind == "sum":
        return total
    scale = count if kind == "mean" else _math.sqrt(count)
    scale = _array.reshape(_math.maximum(scale, 1.0),
                           [-1] + [1] * (total.ndim - 1))
    return _math.divide(total, scale)


def segment_sum(data, indices, segment_ids, num_segments=None, name=None):
    """``sum`` of ``data[indices]`` rows per (sorted) segment id."""
    return _sparse_segment(data, indices, segment_ids, num_segments, "sum")


def segment_mean(data, indices, segment_ids, num_segments=None, name=None):
    """Mean of ``data[indices]`` rows per segment id (empty segments give 0)."""
    return _sparse_segment(data, indices, segment_ids, num_segments, "mean")


def segment_sqrt_n(data, indices, segment_ids, num_segments=None, name=None):
    """Sum of ``data[indices]`` rows per segment divided by sqrt(segment size)."""
    return _sparse_segment(data, indices, segment_ids, num_segments, "sqrt_n")


# ---------------------------------------------------------------- bincount
@index_primitive("SparseBincount", n_out=3)
def _bincount_p(rows, ids, weights, *, n_rows, minlength, maxlength, binary):
    top = int(ids.max()) + 1 if ids.size else 0
    width = max(top, minlength if minlength is not None else 0)
    if maxlength is not None:
        width = min(width, maxlength)
    keep = (ids >= 0) & (ids < width)
    rows, ids, weights = rows[keep], ids[keep], weights[keep]
    flat = rows * max(width, 1) + ids
    uniq, inverse = np.unique(flat, return_inverse=True)
    counts = np.zeros(len(uniq), dtype=weights.dtype)
    np.add.at(counts, inverse.reshape(-1), weights)
    if binary:
        counts = np.ones_like(counts)
    idx = np.stack([uniq // max(width, 1), uniq % max(width, 1)], axis=1)
    return idx.astype(np.int64), counts, np.asarray([n_rows, width], np.int64)


def bincount(values, weights=None, axis=0, minlength=None, maxlength=None,
             binary_output=False, name=None):
    """Counts (or sums ``weights`` of) each non-negative integer value, as a
    SparseTensor holding the non-zero bins.

    Args:
      values: int Tensor or SparseTensor (rank <= 2 for ``axis=-1``).
      weights: optional weights shaped like the values (like ``values.values`` for a
        SparseTensor).
      axis: 0 counts over everything (output ``[size]``); -1 counts per row of a
        rank-2 input (output ``[rows, size]``).
      minlength: the least output size.
      maxlength: the most output size (larger values are ignored).
      binary_output: 1 for every present value instead of counts.
      name: unused.
    """
    if isinstance(values, SparseTensor):
        indices, vals, shape = parts(values, "bincount")
        row = _index.gather(indices, 0, axis=1) if len(shape) > 1 else None
    else:
        vals = t(values)
        shape = tuple(int(s) for s in vals.shape)
        row = None
        if len(shape) == 2:
            row = _array.reshape(_array.broadcast_to(
                _array.reshape(_math.cast(t(np.arange(shape[0])), dtypes.int64),
                               [-1, 1]), list(shape)), [-1])
        vals = _array.reshape(vals, [-1])
    if not vals.dtype.is_integer:
        raise TypeError(f"bincount needs integer values; received {vals.dtype.name}")
    if axis not in (0, -1, None):
        raise ValueError(f"Unsupported axis value {axis}. Only 0 and -1 are currently "
                         "supported.")
    per_row = axis == -1 and len(shape) == 2
    if axis == -1 and len(shape) > 2:
        raise ValueError(f"bincount with axis=-1 needs a rank-2 input; received "
                         f"shape {list(shape)}")
    out_dtype = vals.dtype if weights is None else t(weights).dtype
    w = (_logic.ones_like(vals, dtype=out_dtype) if weights is None else
         _array.reshape(weights.values if isinstance(weights, SparseTensor) else
                        t(weights), [-1]))
    rows = row if per_row else _math.multiply(_math.cast(vals, dtypes.int64), 0)
    idx, counts, dense_shape = call(_bincount_p, (
        rows, _math.cast(vals, dtypes.int64), w), {
            "n_rows": shape[0] if per_row else 1,
            "minlength": None if minlength is None else int(minlength),
            "maxlength": None if maxlength is None else int(maxlength),
            "binary": bool(binary_output)})
    if per_row:
        return SparseTensor(idx, counts, dense_shape)
    return SparseTensor(idx[:, 1:], counts, dense_shape[1:])


SPARSE_NAMES = [
    "reduce_sum", "reduce_max", "sparse_dense_matmul", "add", "maximum", "minimum",
    "softmax", "segment_sum", "segment_mean", "segment_sqrt_n", "bincount",
]
