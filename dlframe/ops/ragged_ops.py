"""``tf.ragged`` functions: constant, map_flat_values, range, boolean_mask, row
reductions, concat/stack and stack_dynamic_partitions."""

import builtins

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops import ragged_kernels as K
from dlframe.ops import reduction as R
from dlframe.ops import segment as S
from dlframe.ops.array import concat as dense_concat
from dlframe.ops.array import expand_dims, reshape
from dlframe.ops.array_index import boolean_mask as dense_boolean_mask
from dlframe.ops.array_index import gather
from dlframe.ops.logic import cast, ones_like, where
from dlframe.ops.math import add, divide, greater
from dlframe.ops.ragged_elementwise import _align
from dlframe.ops.ragged_getitem import gather_rows
from dlframe.ops.ragged_tensor import (
    RaggedTensor,
    _prepend_zero,
    row_splits_to_segment_ids,
    segment_ids_to_row_splits,
)


# ---------------------------------------------------------------- constant
def _depths(value, depth, out):
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if not value:
            out.setdefault("empty", set()).add(depth + 1)
        for v in value:
            _depths(v, depth + 1, out)
    else:
        out.setdefault("leaf", set()).add(depth)


def constant(pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None,
             row_splits_dtype=dtypes.int64):
    """A RaggedTensor from a nested Python list.

    Args:
      pylist: nested lists with scalars at one common depth.
      dtype: element dtype (inferred as ``tf.constant`` does when None).
      ragged_rank: number of ragged dimensions (default: all but the innermost
        uniform ``inner_shape`` dimensions).
      inner_shape: shape of the uniform innermost dimensions.
      row_splits_dtype: int64 or int32.

    Raises:
      ValueError: scalars at different depths, or a ragged_rank that does not fit.
    """
    found = {}
    _depths(pylist, 0, found)
    leaf = found.get("leaf", set())
    if len(leaf) > 1:
        raise ValueError("all scalar values must have the same nesting depth")
    depth = next(iter(leaf)) if leaf else max(found.get("empty", {1}))
    if depth == 0:
        raise ValueError(f"tf.ragged.constant needs a list of rank >= 1, got {pylist!r}")
    inner = () if inner_shape is None else tuple(int(d) for d in inner_shape)
    if ragged_rank is None:
        ragged_rank = max(depth - 1 - len(inner), 1 if depth > 1 else 0)
    ragged_rank = int(ragged_rank)
    if ragged_rank == 0:
        return convert_to_tensor(pylist, dtype=dtype)
    if ragged_rank < 0 or (leaf and ragged_rank >= depth):
        raise ValueError(f"Invalid pylist={pylist!r}: incompatible with ragged_rank="
                         f"{ragged_rank}")
    split_dt = dtypes.as_dtype(row_splits_dtype).as_numpy_dtype
    levels = []
    items = [pylist.tolist() if isinstance(pylist, np.ndarray) else pylist]
    for _ in builtins.range(ragged_rank + 1):
        lengths, nxt = [], []
        for row in items:
            row = row.tolist() if isinstance(row, np.ndarray) else row
            if not isinstance(row, (list, tuple)):
                raise ValueError(  # noqa: TRY004 - TF's error type
                    f"Invalid pylist={pylist!r}: expected a list at depth "
                                 f"{len(levels)}, got {row!r}")
            lengths.append(len(row))
            nxt.extend(row)
        levels.append(lengths)
        items = nxt
    if items:
        values = convert_to_tensor(items, dtype=dtype)
    else:
        dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.float32
        width = inner or ((0,) * max(depth - ragged_rank - 1, 0))
        values = convert_to_tensor(np.zeros((0,) + tuple(width), dtype=dt.as_numpy_dtype))
    if inner and tuple(values._value.shape[1:]) != inner:
        raise ValueError(f"Inner values have shape {list(values.shape[1:])}, expected "
                         f"inner_shape {list(inner)}")
    result = values
    for lengths in reversed(levels[1:]):
        splits = np.concatenate([[0], np.cumsum(lengths)]).astype(split_dt)
        result = RaggedTensor(result, convert_to_tensor(splits), internal=True)
    return result


# ---------------------------------------------------------------- map_flat_values
def _ragged_leaves(value, out):
    if isinstance(value, RaggedTensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _ragged_leaves(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _ragged_leaves(v, out)


def _replace_flat(value):
    if isinstance(value, RaggedTensor):
        return value.flat_values
    if isinstance(value, (list, tuple)):
        return type(value)(_replace_flat(v) for v in value)
    if isinstance(value, dict):
        return {k: _replace_flat(v) for k, v in value.items()}
    return value


def map_flat_values(op, *args, **kwargs):
    """``op`` applied to the flat values of the RaggedTensor arguments; the result
    keeps their (identical) row partitions.

    Raises:
      ValueError: no RaggedTensor argument, or arguments with different partitions.
    """
    found = []
    _ragged_leaves((args, kwargs), found)
    if not found:
        raise ValueError("map_flat_values requires at least one RaggedTensor argument")
    first = found[0]
    for other in found[1:]:
        _align(first, other)
    out = op(*_replace_flat(list(args)), **_replace_flat(kwargs))
    return first.with_flat_values(out)


# ---------------------------------------------------------------- range
def range(starts, limits=None, deltas=1, dtype=None, name=None,
          row_splits_dtype=dtypes.int64):
    """Row ``i`` is ``range(starts[i], limits[i], deltas[i])`` (``starts`` default 0
    when only one bound is given); scalars broadcast."""
    if limits is None:
        starts, limits = 0, starts
    args = [a if isinstance(a, Tensor) else convert_to_tensor(a) for a in
            (starts, limits, deltas)]
    dt = dtypes.as_dtype(dtype) if dtype is not None else next(
        (a.dtype for a in args if a.dtype.is_floating), dtypes.int32)
    if any(a.dtype.is_floating for a in args) and not dt.is_floating:
        dt = next(a.dtype for a in args if a.dtype.is_floating)
    args = [cast(a, dt) if a.dtype != dt else a for a in args]
    sd = dtypes.as_dtype(row_splits_dtype)
    splits, values = call(K.range_p, tuple(args), {"splits_dtype": sd.as_numpy_dtype})
    return RaggedTensor(values, splits, internal=True)


# ---------------------------------------------------------------- boolean_mask
def boolean_mask(data, mask, name=None):
    """Keeps ``data`` where ``mask`` is True; with a mask of rank k > 1 the result is
    ragged in its last kept dimension.

    Args:
      data: a Tensor or RaggedTensor.
      mask: a bool Tensor or RaggedTensor whose shape is a prefix of ``data``'s.
    """
    if not isinstance(mask, RaggedTensor):
        mask = mask if isinstance(mask, Tensor) else convert_to_tensor(mask)
        if mask.dtype != dtypes.bool:
            raise TypeError(f"mask must be a bool tensor, got {mask.dtype.name}")
        if mask.ndim == 1:
            if isinstance(data, RaggedTensor):
                return gather_rows(data, reshape(where(mask), [-1]))
            return dense_boolean_mask(data, mask)
        mask = RaggedTensor.from_tensor(mask, ragged_rank=mask.ndim - 1)
        if not isinstance(data, RaggedTensor):
            data = RaggedTensor.from_tensor(data, ragged_rank=mask.ragged_rank)
    if not isinstance(data, RaggedTensor):
        data = data if isinstance(data, Tensor) else convert_to_tensor(data)
        data = RaggedTensor.from_tensor(data, ragged_rank=mask.ragged_rank)
    if mask.ragged_rank != data.ragged_rank:
        raise ValueError(f"boolean_mask: mask has ragged_rank {mask.ragged_rank} but data "
                         f"has {data.ragged_rank}")
    keep = mask.flat_values
    if keep.ndim != 1:
        raise ValueError("boolean_mask: mask's flat values must be a vector")
    _align(data, mask)
    flat = dense_boolean_mask(data.flat_values, keep)
    return _rebuild_kept(data, keep, flat)


def _rebuild_kept(rt, keep, flat):
    """``rt``'s partitions with the innermost rows counting only kept values."""
    if isinstance(rt.values, RaggedTensor):
        return RaggedTensor(_rebuild_kept(rt.values, keep, flat), rt.row_splits,
                            internal=True)
    ones = cast(keep, rt.row_splits.dtype)
    lens = S.unsorted_segment_sum(ones, rt.value_rowids(), rt.nrows_static())
    return RaggedTensor(flat, _prepend_zero(lens), internal=True)


# ---------------------------------------------------------------- reductions
def _segment(kind, values, ids, num):
    if kind == "sum":
        return S.unsorted_segment_sum(values, ids, num)
    if kind == "prod":
        return S.unsorted_segment_prod(values, ids, num)
    if kind == "max":
        return S.unsorted_segment_max(values, ids, num)
    if kind == "min":
        return S.unsorted_segment_min(values, ids, num)
    if kind == "mean":
        if not values.dtype.is_floating:
            values = cast(values, dtypes.float64)   # as TF's ragged reduce_mean
        total = S.unsorted_segment_sum(values, ids, num)
        count = S.unsorted_segment_sum(ones_like(ids, dtype=values.dtype), ids, num)
        count = reshape(count, [num] + [1] * (values.ndim - 1))
        return divide(total, count)
    as_int = cast(values, dtypes.int32)
    if kind == "any":
        return greater(S.unsorted_segment_max(as_int, ids, num), 0)
    return greater(S.unsorted_segment_min(as_int, ids, num), 0)   # all


_DENSE = {"sum": R.reduce_sum, "prod": R.reduce_prod, "max": R.reduce_max,
          "min": R.reduce_min, "mean": R.reduce_mean, "any": R.reduce_any,
          "all": R.reduce_all}


_IDENTITY = {"sum": lambda dt: 0, "prod": lambda dt: 1, "any": lambda dt: False,
             "all": lambda dt: True,
             "max": lambda dt: S._lowest(np, dt.as_numpy_dtype),
             "min": lambda dt: S._highest(np, dt.as_numpy_dtype)}


def _reduce_rows(kind, rt):
    """Reduction across the rows (axis 0): pad with the reduction's identity."""
    if kind == "mean":
        values = rt.values if rt.dtype.is_floating else cast(rt.values, dtypes.float64)
        total = _reduce_rows("sum", rt.with_values(values))
        count = _reduce_rows("sum", rt.with_values(ones_like(values)))
        return divide(total, count)
    fill = _IDENTITY[kind](rt.dtype)
    dense = rt.to_tensor(default_value=np.array(fill, dtype=rt.dtype.as_numpy_dtype))
    return _DENSE[kind](dense, axis=0)


def _reduce_axis(kind, rt, axis):
    if axis in (0, 1) and rt.ragged_rank == 2:   # items that are ragged rows
        from dlframe.ops.ragged_tensor_reduce import reduce_ragged_items
        return reduce_ragged_items(kind, rt, axis, _segment)
    if axis == 0:
        if rt.ragged_rank != 1:
            raise NotImplementedError("reducing axis 0 of a RaggedTensor is supported "
                                      "for ragged_rank 1 or 2 only")
        return _reduce_rows(kind, rt)
    if axis == 1:
        if isinstance(rt.values, RaggedTensor):
            raise NotImplementedError("reducing a ragged dimension whose items have "
                                      "ragged_rank > 1 is not supported")
        return _segment(kind, rt.values, rt.value_rowids(), rt.nrows())
    if axis > rt.ragged_rank:
        return rt.with_flat_values(_DENSE[kind](rt.flat_values,
                                                axis=axis - rt.ragged_rank))
    return rt.with_values(_reduce_axis(kind, rt.values, axis - 1))


def reduce(kind, input_tensor, axis=None, keepdims=False):
    """``reduce_<kind>`` of a RaggedTensor over ``axis`` (None: every value)."""
    rt = input_tensor
    if axis is None:
        out = _DENSE[kind](rt.flat_values)
        if kind == "mean" and not rt.dtype.is_floating:
            out = R.reduce_mean(cast(rt.flat_values, dtypes.float64))
        return out
    rank = rt.shape.rank
    axes = sorted({int(a) % rank for a in (axis if isinstance(axis, (list, tuple))
                                           else [axis])}, reverse=True)
    if kind == "mean" and len(axes) > 1:   # TF: one sum over one count (not nested means)
        values = rt.flat_values if rt.dtype.is_floating else \
            cast(rt.flat_values, dtypes.float64)
        total = reduce("sum", rt.with_flat_values(values), axis, keepdims)
        count = reduce("sum", rt.with_flat_values(ones_like(values)), axis, keepdims)
        return divide(total, count)
    out = rt
    for a in axes:
        if isinstance(out, RaggedTensor):
            out = _reduce_axis(kind, out, a)
        else:
            out = _DENSE[kind](out, axis=a)
        if keepdims:
            out = _expand(out, a) if isinstance(out, RaggedTensor) else expand_dims(out, a)
    return out


# ---------------------------------------------------------------- concat and stack
def _as_ragged(value, ragged_rank):
    if isinstance(value, RaggedTensor):
        return value
    x = value if isinstance(value, Tensor) else convert_to_tensor(value)
    return RaggedTensor.from_tensor(x, ragged_rank=ragged_rank)


def _concat_rows(values):
    """Concatenation along axis 0 of Tensors or (equally nested) RaggedTensors."""
    if not isinstance(values[0], RaggedTensor):
        return dense_concat(list(values), 0)
    inner = _concat_rows([v.values for v in values])
    parts, offset = [values[0].row_splits], values[0].row_splits[-1:]
    for v in values[1:]:
        parts.append(v.row_splits[1:] + offset)
        offset = offset + v.row_splits[-1:]
    return RaggedTensor(inner, dense_concat(parts, 0), internal=True)


def _row_splits_dtype(values):
    """The one row-splits dtype of the RaggedTensors among ``values`` (TF refuses to
    mix int32 and int64 splits)."""
    found = {v.row_splits.dtype for v in values if isinstance(v, RaggedTensor)}
    if len(found) > 1:
        raise ValueError("Input RaggedTensors have mismatched row_splits dtypes; use "
                         "RaggedTensor.with_row_splits_dtype() to convert them to "
                         "compatible dtypes.")
    return found.pop()


def concat(values, axis, name=None):
    """``tf.concat`` of RaggedTensors (and dense tensors) along axis 0 or 1."""
    values = list(values)
    rr = max(v.ragged_rank for v in values if isinstance(v, RaggedTensor))
    split_dtype = _row_splits_dtype(values)
    values = [_as_ragged(v, rr).with_row_splits_dtype(split_dtype) for v in values]
    if any(v.ragged_rank != rr for v in values):
        raise ValueError("concat of RaggedTensors with different ragged ranks is not "
                         "supported")
    axis = int(axis) % values[0].shape.rank
    if axis == 0:
        return _concat_rows(values)
    if axis == 1:
        splits, order = call(K.concat_rows_order_p, tuple(v.row_splits for v in values))
        stacked = _concat_rows([v.values for v in values])
        inner = gather_rows(stacked, order) if isinstance(stacked, RaggedTensor) else \
            gather(stacked, order)
        return RaggedTensor(inner, splits, internal=True)
    return values[0].with_values(concat([v.values for v in values], axis - 1))


def stack(values, axis=0, name=None):
    """``tf.stack`` of RaggedTensors (and dense tensors) along axis 0 or 1; dense
    inputs of different sizes become rows of a RaggedTensor (every dimension below
    the new one ragged, as TF's)."""
    values = [v if isinstance(v, (RaggedTensor, Tensor)) else convert_to_tensor(v)
              for v in values]
    ranks = [v.ragged_rank for v in values if isinstance(v, RaggedTensor)]
    if not ranks and values[0].shape.rank == 1 and int(axis) == 0:
        lengths = [int(v.shape[0]) for v in values]
        return RaggedTensor.from_row_lengths(dense_concat(values, 0),
                                             convert_to_tensor(lengths, dtypes.int32))
    rr = max(ranks) if ranks else max(values[0].shape.rank - 1, 1)
    values = [_as_ragged(v, rr) for v in values]
    axis = int(axis) % (values[0].shape.rank + 1)
    expanded = [_expand(v, axis) for v in values]
    return concat(expanded, axis)


def _expand(rt, axis):
    """``rt`` with a new size-1 dimension at ``axis`` (0 or a row dimension)."""
    sd = rt.row_splits.dtype.as_numpy_dtype
    if axis in (0, 1):   # a uniform partition: its static size shows in the shape
        n = rt.nrows_static()
        splits = np.array([0, n], dtype=sd) if axis == 0 else np.arange(n + 1, dtype=sd)
        out = RaggedTensor(rt, convert_to_tensor(splits), internal=True)
        out._uniform_row_length = n if axis == 0 else 1
        return out
    return rt.with_values(_expand(rt.values, axis - 1) if isinstance(
        rt.values, RaggedTensor) else expand_dims(rt.values, axis - 1))


# ---------------------------------------------------------------- partitions
def stack_dynamic_partitions(data, partitions, num_partitions, name=None):
    """Row ``p`` holds the items of ``data`` whose partition is ``p``, in order."""
    x = data if isinstance(data, Tensor) else convert_to_tensor(data)
    parts = partitions if isinstance(partitions, Tensor) else \
        convert_to_tensor(partitions)
    order = call(K.stable_argsort_p, (parts,))
    ids = cast(gather(parts, order), dtypes.int64)
    splits = segment_ids_to_row_splits(ids, int(num_partitions))
    return RaggedTensor(gather(x, order), splits, internal=True)


def ragged_add(x, y):
    """Elementwise sum (used by ``tf.add_n`` of RaggedTensors)."""
    return add(x, y)


__all__ = [
    "boolean_mask",
    "concat",
    "constant",
    "map_flat_values",
    "range",
    "reduce",
    "row_splits_to_segment_ids",
    "segment_ids_to_row_splits",
    "stack",
    "stack_dynamic_partitions",
]
