"""Shapes and sizes known only when a ``dlframe.function`` runs.

Tracing is concrete, but a value computed from a function's tensor arguments
(``tf.range(n)``, ``tf.zeros([n, 3])``, ``tf.reshape(x, [n, -1])`` with ``n`` a traced
tensor) must follow the argument at every call. These primitives take such values
as tensor inputs and read them when they run; the eager paths keep their static ops.
"""

import math as _pymath

from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, _tracing_tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import probing_branch, stand_in


def traced(value):
    """True when ``value`` (a tensor, or a list/tuple holding tensors) is symbolic."""
    if isinstance(value, Tensor):
        return _tracing_tensor(value)
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, Tensor) and _tracing_tensor(v) for v in value)
    return False


def shape_tensor(shape, op, device=None):
    """A traced shape argument (1-D tensor or list of ints/scalar tensors) as one
    int64 vector tensor."""
    if isinstance(shape, Tensor):
        if shape._value.ndim != 1:
            raise InvalidArgumentError(f"{op}: shape must be a vector, got shape "
                                       f"{list(shape.shape)}")
        return shape
    from dlframe.ops.array import stack  # array imports modules that import this one
    from dlframe.ops.logic import cast
    parts = []
    for s in shape:
        if isinstance(s, Tensor):
            if s._value.ndim != 0:
                raise InvalidArgumentError(f"{op}: shape entries must be scalars, got "
                                           f"shape {list(s.shape)}")
            parts.append(s if s.dtype == dtypes.int64 else cast(s, dtypes.int64))
        else:
            parts.append(convert_to_tensor(int(s), dtype=dtypes.int64, device=device))
    return stack(parts)


def _host_shape(d, shape, op):
    dims = tuple(int(v) for v in d.to_numpy(shape).reshape(-1))
    if any(v < 0 for v in dims):
        raise InvalidArgumentError(f"{op}: shape must be non-negative, got {list(dims)}")
    return dims


@primitive("DynamicFill")
def _fill_p(d, shape, value):
    return d.xp.full(_host_shape(d, shape, "Fill"), value, dtype=value.dtype)


_fill_p.value_shaped = True   # its output size depends on input values


@_fill_p.defgrad
def _fill_grad(inputs, out, dy):
    from dlframe.ops.reduction import reduce_sum
    return None, reduce_sum(dy)


def fill(shape, value, op):
    """``value`` (a scalar tensor) broadcast to a run-time ``shape``."""
    return call(_fill_p, (shape_tensor(shape, op, value._device), value))


@primitive("DynamicReshape")
def _reshape_p(d, x, shape):
    dims = [int(v) for v in d.to_numpy(shape).reshape(-1)]
    try:
        return x.reshape(_reshaped_dims(x, dims))
    except InvalidArgumentError:
        if not probing_branch():
            raise
    # a trace's placeholder shape (get_concrete_function): a stand-in of the
    # shape's rank; the graph's runs check the real shape
    return stand_in(d.xp.resize(x, [max(v, 1) for v in dims]))


def _reshaped_dims(x, dims):
    """``dims`` with its -1 entry resolved for ``x``'s size, or the error."""
    if dims.count(-1) > 1 or any(v < -1 for v in dims):
        raise InvalidArgumentError(f"Reshape: invalid target shape {dims}")
    known = _pymath.prod(v for v in dims if v != -1)
    if -1 in dims:
        if known == 0 or x.size % known:
            raise InvalidArgumentError(
                f"Reshape: Input to reshape is a tensor with {x.size} values, but the "
                f"requested shape requires a multiple of {known}")
        dims[dims.index(-1)] = x.size // known
    elif known != x.size:
        raise InvalidArgumentError(
            f"Reshape: Input to reshape is a tensor with {x.size} values, but the "
            f"requested shape has {known} [Op:Reshape]")
    return dims


_reshape_p.value_shaped = True   # its output size depends on input values


@_reshape_p.defgrad
def _reshape_grad(inputs, out, dy):
    from dlframe.ops.array import reshape
    return reshape(dy, tuple(inputs[0]._value.shape)), None


def reshape(x, shape):
    """``x`` reshaped to a run-time ``shape`` (one entry may be -1)."""
    return call(_reshape_p, (x, shape_tensor(shape, "Reshape", x._device)))


@primitive("DynamicRange")
def _range_p(d, start, limit, delta, *, dtype):
    s, lim, dl = (v.item() for v in (start, limit, delta))
    if dl == 0:
        raise InvalidArgumentError(f"Range: Requires delta != 0: {dl} [Op:Range]")
    if (dl > 0 and s > lim) or (dl < 0 and s < lim):
        raise InvalidArgumentError(f"Range: Requires start <= limit when delta > 0 (or "
                                   f">= when delta < 0): {s}/{lim}/{dl} [Op:Range]")
    if d.xp.dtype(dtype).kind in "iu":
        return d.xp.arange(int(s), int(lim), int(dl), dtype=dtype)
    n = max(_pymath.ceil((lim - s) / dl), 0)   # no extra element from float rounding
    return (d.xp.arange(n, dtype="float64") * dl + s).astype(dtype)


_range_p.value_shaped = True   # its output size depends on input values
_range_p.static_shape = lambda in_dims, attrs: [None]


def range_(start, limit, delta, dtype):
    """``tf.range`` whose bounds are traced tensors (values read at run time)."""
    parts = [v if isinstance(v, Tensor) else convert_to_tensor(v) for v in
             (start, limit, delta)]
    dev = next(p._device for p in parts if _tracing_tensor(p))
    parts = [p if p._device is dev else convert_to_tensor(p.numpy(), device=dev)
             for p in parts]
    return call(_range_p, tuple(parts), {"dtype": dtype._np})
