"""RaggedTensor implementations of public ops (``tf.math.exp(rt)``, ``tf.reduce_sum(rt,
axis=1)``, ``tf.concat([rt1, rt2], 0)``...).

A RaggedTensor refuses implicit conversion with ``CompositeTensorError``; the public
op wrapper (``ops.names.public_op``) then calls the implementation registered here
for that op, so dense calls pay nothing for ragged support.
"""

from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.errors import CompositeTensorError, InvalidArgumentError
from dlframe.ops import (
    array,
    array_index,
    logic,
    math,
    nn_impl,
    reduction,
    reduction_arg,
    strings,
    strings_text,
    strings_unicode,
)
from dlframe.ops import ragged_ops as RO
from dlframe.ops import ragged_segment
from dlframe.ops.names import COMPOSITE_DISPATCH
from dlframe.ops.ragged_elementwise import _align
from dlframe.ops.ragged_getitem import gather_rows
from dlframe.ops.ragged_spec import DynamicRaggedShape
from dlframe.ops.ragged_tensor import RaggedTensor

_UNARY = {
    math: ["abs", "negative", "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "square",
           "sin", "cos", "tan", "tanh", "sigmoid", "sign", "floor", "ceil", "round",
           "reciprocal", "logical_not", "is_nan", "is_inf", "is_finite", "erf",
           "softplus", "real", "imag", "conj", "invert"],
    logic: ["cast", "ones_like", "zeros_like", "saturate_cast"],
    array: ["identity", "stop_gradient"],
    strings: ["lower", "upper", "strip", "length", "regex_replace", "regex_full_match",
              "to_number", "as_string", "substr", "to_hash_bucket_fast",
              "to_hash_bucket_strong", "to_hash_bucket", "split"],
    strings_text: ["bytes_split", "unicode_decode"],
    strings_unicode: ["unicode_split", "unicode_transcode"],
}
_BINARY = {
    math: ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod",
           "mod", "maximum", "minimum", "pow", "equal", "not_equal", "less",
           "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
           "logical_xor", "squared_difference", "divide_no_nan", "atan2",
           "bitwise_and", "bitwise_or", "bitwise_xor"],
}
_REDUCTIONS = {"reduce_sum": "sum", "reduce_mean": "mean", "reduce_max": "max",
               "reduce_min": "min", "reduce_prod": "prod", "reduce_any": "any",
               "reduce_all": "all"}


def _not_ragged(op):
    return CompositeTensorError(f"{op}: this RaggedTensor argument is not supported")


def unary(fn):
    """The ragged version of an elementwise op whose first argument is the tensor."""
    def impl(x, *args, **kwargs):
        if not isinstance(x, RaggedTensor):
            raise _not_ragged(fn.__name__)
        return x.with_flat_values(fn(x.flat_values, *args, **kwargs))
    return impl


def binary(fn):
    """The ragged version of a broadcasting binary elementwise op."""
    def impl(x, y, *args, **kwargs):
        if isinstance(x, RaggedTensor):
            return x.with_flat_values(fn(x.flat_values, _align(x, y), *args, **kwargs))
        if isinstance(y, RaggedTensor):
            return y.with_flat_values(fn(_align(y, x), y.flat_values, *args, **kwargs))
        raise _not_ragged(fn.__name__)
    return impl


def _reduction(kind):
    def impl(input_tensor, axis=None, keepdims=False, name=None):
        if not isinstance(input_tensor, RaggedTensor):
            raise _not_ragged(f"reduce_{kind}")
        return RO.reduce(kind, input_tensor, axis, keepdims)
    return impl


def _reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Ragged ``reduce_variance``: E[x^2] - E[x]^2 clipped at 0, as TF's ragged
    kernel (so a row's result can differ from the dense op's in the last bits;
    an empty row gives NaN; integer values give float64)."""
    if not isinstance(input_tensor, RaggedTensor):
        raise _not_ragged("reduce_variance")
    if input_tensor.dtype.is_complex:
        raise ValueError("reduce_variance is not supported for RaggedTensors with "
                         "complex dtypes.")
    squares = input_tensor.with_flat_values(math.square(input_tensor.flat_values))
    mean_of_square = RO.reduce("mean", squares, axis, keepdims)
    mean = RO.reduce("mean", input_tensor, axis, keepdims)
    if isinstance(mean, RaggedTensor):   # a reduced uniform axis keeps the rows
        return mean.with_flat_values(math.maximum(
            mean_of_square.flat_values - math.square(mean.flat_values), 0))
    return math.maximum(mean_of_square - math.square(mean), 0)


def _reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    if not isinstance(input_tensor, RaggedTensor):
        raise _not_ragged("reduce_std")
    variance = _reduce_variance(input_tensor, axis, keepdims)
    if isinstance(variance, RaggedTensor):
        return variance.with_flat_values(math.sqrt(variance.flat_values))
    return math.sqrt(variance)


def _shape(input, out_type=dtypes.int32, name=None):
    return DynamicRaggedShape(input, out_type)


def _size(input, out_type=dtypes.int32, name=None):
    return array.size(input.flat_values, out_type)


def _rank(input, name=None):
    return convert_to_tensor(input.shape.rank, dtype=dtypes.int32)


def _boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    if axis not in (None, 0):
        raise NotImplementedError("boolean_mask of a RaggedTensor supports axis=0 only")
    return RO.boolean_mask(tensor, mask)


def _gather(params, indices, validate_indices=None, axis=None, batch_dims=0,
            name=None):
    if not isinstance(params, RaggedTensor) or axis not in (None, 0) or batch_dims:
        raise NotImplementedError("gather with a RaggedTensor supports ragged params "
                                  "gathered along axis 0 only")
    idx = indices if not isinstance(indices, (list, tuple, int)) else \
        convert_to_tensor(indices)
    if getattr(idx, "ndim", 1) == 0:
        return params[int(idx)]
    return gather_rows(params, idx)


def _gather_nd(params, indices, batch_dims=0, name=None):
    """``tf.gather_nd`` of ragged ``params`` with dense int ``indices``: each index
    row walks the row splits to a flat position (as TF, an inner index is not
    checked against its row's length), then takes that row, slice or element."""
    if batch_dims:
        raise ValueError(f"gather_nd: batch_dims != 0 is not supported for a "
                         f"RaggedTensor, got batch_dims={batch_dims!r}")
    if not isinstance(params, RaggedTensor) or isinstance(indices, RaggedTensor):
        raise NotImplementedError("gather_nd with a RaggedTensor supports ragged "
                                  "params and dense indices only")
    idx = convert_to_tensor(indices)
    if not idx.dtype.is_integer or idx.ndim < 1:
        raise InvalidArgumentError(f"gather_nd: `indices` must be int32/int64 of rank >= 1, got "
                         f"{idx.dtype.name} of shape {list(idx.shape)}")
    depth = int(idx.shape[-1])
    if not 0 < depth <= params.shape.rank:
        raise ValueError(f"gather_nd: `indices` index {depth} dimensions of a "
                         f"rank-{params.shape.rank} RaggedTensor")
    batch = [int(n) for n in idx.shape[:-1]]
    rows = math.cast(array.reshape(idx, [-1, depth]), params.row_splits.dtype)
    level, pos = params, rows[:, 0]
    for k in range(1, depth):
        if not isinstance(level, RaggedTensor):   # uniform inner dimensions
            rest = array.concat([array.expand_dims(pos, 1), rows[:, k:]], 1)
            return _unflatten(array_index.gather_nd(level, rest), batch, depth)
        pos = array_index.gather(level.row_splits[:-1], pos) + rows[:, k]
        level = level.values
    out = gather_rows(level, pos) if isinstance(level, RaggedTensor) else \
        array_index.gather(level, pos)
    return _unflatten(out, batch, depth)


def _unflatten(flat, batch, depth):
    """``flat`` (leading dimension ``prod(batch)``) with leading dimensions ``batch``;
    a single row index (``indices`` of shape [1]) keeps the leading 1, as TF's."""
    if not batch:
        return flat if depth == 1 else flat[0]
    if not isinstance(flat, RaggedTensor):
        return array.reshape(flat, batch + [int(n) for n in flat.shape[1:]])
    for n in reversed(batch[1:]):
        flat = RaggedTensor.from_uniform_row_length(flat, n)
    return flat


def _expand_dims(input, axis, name=None):
    return RO._expand(input, int(axis) % (input.shape.rank + 1))


def _add_n(inputs, name=None):
    out = inputs[0]
    for v in inputs[1:]:
        out = out + v
    return out


def _where(condition, x=None, y=None, name=None):
    if x is None and y is None:
        raise NotImplementedError("tf.where(condition) of a RaggedTensor is not "
                                  "supported")
    return RO.map_flat_values(logic.where, condition, x, y)


def _embedding_lookup(params, ids, max_norm=None, name=None):
    if not isinstance(ids, RaggedTensor):
        raise _not_ragged("embedding_lookup")
    return ids.with_flat_values(nn_impl.embedding_lookup(params, ids.flat_values,
                                                         max_norm=max_norm))


def _refused_arg_reduction(op_name):
    """TF's ValueError for ``argmax``/``argmin`` of a RaggedTensor (no ragged
    kernel: TF fails converting it to a dense Tensor)."""
    def impl(input, *args, **kwargs):
        raise ValueError(f"tf.math.{op_name} does not support RaggedTensor arguments: "
                         f"got {type(input).__name__} input; apply it to "
                         "rt.to_tensor() or rt.flat_values instead.")
    return impl


def _join(inputs, separator="", name=None):
    return RO.map_flat_values(strings.join, list(inputs), separator=separator)


def register():
    """Fills ``COMPOSITE_DISPATCH`` (idempotent)."""
    for module, names in _UNARY.items():
        for name in names:
            fn = getattr(module, name, None)
            if fn is not None:
                COMPOSITE_DISPATCH[fn] = unary(fn)
    for module, names in _BINARY.items():
        for name in names:
            fn = getattr(module, name, None)
            if fn is not None:
                COMPOSITE_DISPATCH[fn] = binary(fn)
    for name, kind in _REDUCTIONS.items():
        COMPOSITE_DISPATCH[getattr(reduction, name)] = _reduction(kind)
    COMPOSITE_DISPATCH.update({
        array.concat: RO.concat, array.stack: RO.stack, array.shape: _shape,
        array.size: _size, array.rank: _rank, array.expand_dims: _expand_dims,
        array_index.boolean_mask: _boolean_mask, array_index.gather: _gather,
        array_index.gather_nd: _gather_nd,
        reduction.reduce_variance: _reduce_variance,
        reduction.reduce_std: _reduce_std,
        math.add_n: _add_n, logic.where: _where, strings.join: _join,
        nn_impl.embedding_lookup: _embedding_lookup,
        reduction_arg.argmax: _refused_arg_reduction("argmax"),
        reduction_arg.argmin: _refused_arg_reduction("argmin"),
    })
    COMPOSITE_DISPATCH.update(ragged_segment.dispatch_table())


register()
