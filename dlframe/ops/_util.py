"""Shared helpers of the op library: operand conversion, dtype and axis checks."""

from dlframe.core import dtypes
from dlframe.core.primitive import STATE, call
from dlframe.core.tensor import Tensor, as_operand, convert_to_tensor
from dlframe.core.variable import AUTOCAST  # noqa: F401  (keras.mixed_precision)
from dlframe.errors import AxisError, DTypeMismatchError, InvalidArgumentError


def t(x, dtype=None):
    """``x`` as a Tensor (Tensors pass through untouched)."""
    if type(x) is Tensor or isinstance(x, Tensor):
        if dtype is not None and x._value.dtype != dtypes.as_dtype(dtype)._np:
            raise DTypeMismatchError(
                f"expected a {dtypes.as_dtype(dtype).name} tensor, got {x.dtype.name}")
        return x
    return convert_to_tensor(x, dtype=dtype)


def unaliased(x):
    """``x`` as an op's result: a Variable's snapshot (TF's ops return a Tensor, never
    the variable itself, even where they leave the value unchanged)."""
    return x.value() if x._is_variable else x


def _autocast(v):
    """An autocast float Variable read as ``AUTOCAST.dtype`` (Keras's
    AutoCastVariable); ``autocast=False`` weights and plain Variables as stored."""
    if v._is_variable and v._autocast and \
            dtypes.from_numpy(v._value.dtype).is_floating and \
            v._value.dtype.name != AUTOCAST.dtype:
        from dlframe.ops.math import cast
        return cast(v, AUTOCAST.dtype)
    return v


def operands(x, y, op):
    """Two Tensors of one dtype and device for a binary op (TF conversion rules)."""
    if isinstance(x, Tensor):
        if isinstance(y, Tensor):
            if x._value.dtype is not y._value.dtype and x._value.dtype != y._value.dtype \
                    and AUTOCAST.dtype is not None:
                x, y = _autocast(x), _autocast(y)
            if x._value.dtype is not y._value.dtype and x._value.dtype != y._value.dtype:
                raise DTypeMismatchError(
                    f"cannot compute {op} as input #1(zero-based) was expected to be a "
                    f"{x.dtype.name} tensor but is a {y.dtype.name} tensor [Op:{op}]")
            return x, y
        if x._is_variable and x._autocast and AUTOCAST.dtype is not None:
            x = _autocast(x)   # a constant operand follows the compute dtype
        return x, as_operand(y, x)
    if isinstance(y, Tensor):
        if y._is_variable and y._autocast and AUTOCAST.dtype is not None:
            y = _autocast(y)
        return as_operand(x, y), y
    x = convert_to_tensor(x)
    return x, as_operand(y, x)


def binary(prim, x, y):
    """Runs a binary primitive after TF-style operand conversion."""
    x, y = operands(x, y, prim.name)
    return call(prim, (x, y))


def unary(prim, x, attrs=None):
    return call(prim, (x if isinstance(x, Tensor) else convert_to_tensor(x),), attrs)


def require(op, x, kinds, what):
    """Raises a TF-style error unless ``x``'s dtype kind is in ``kinds`` ('f', 'c', 'i'...)."""
    if x._value.dtype.kind not in kinds:
        raise InvalidArgumentError(
            f"{op}: Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
            f"values: {what} [Op:{op}]")


FLOAT = "fc"
FLOAT_NAMES = "bfloat16, half, float, double, complex64, complex128"
NUMERIC = "fciu"
NUMERIC_NAMES = "bfloat16, half, float, double, uint8, uint16, uint32, uint64, int8, " \
    "int16, int32, int64, complex64, complex128"


def float_unary(prim, x, attrs=None):
    """Unary op defined on floating types only (int inputs raise like TF)."""
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if x._value.dtype.kind not in FLOAT:
        require(prim.name, x, FLOAT, FLOAT_NAMES)
    return call(prim, (x,), attrs)


def norm_axis(axis, ndim, op):
    """Normalizes an int/list/tuple/Tensor axis to a tuple of non-negative ints (or None)."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    if isinstance(axis, (list, tuple)):
        out = []
        for a in axis:
            out.append(_one_axis(int(a), ndim, op))
        return tuple(out)
    return (_one_axis(int(axis), ndim, op),)


def _one_axis(a, ndim, op):
    if not -max(ndim, 1) <= a < max(ndim, 1):
        raise AxisError(f"{op}: Invalid reduction dimension ({a} for input with {ndim} "
                        f"dimension(s)); axis must be in [{-max(ndim, 1)}, {max(ndim, 1)})")
    return a % max(ndim, 1)


def one_axis(axis, ndim, op):
    """A single axis in [-ndim, ndim) normalized to non-negative."""
    if isinstance(axis, Tensor):
        axis = int(axis)
    return _one_axis(int(axis), ndim, op)


def static_shape(shape, op, arg="shape"):
    """A tuple of ints from a list/tuple/TensorShape/Tensor shape argument."""
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, int):
        return (shape,)
    if getattr(shape, "ndim", None) == 1 and hasattr(shape, "astype"):
        shape = [int(s) for s in shape.tolist()]   # TF truncates a NumPy float array
    try:
        dims = tuple(-1 if s is None else int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: `{arg}` must be a list of ints, got {shape!r}") from None
    if not _PLAIN_DIM_TYPES.issuperset(map(type, shape)) and any(
            map(_is_float_dim, shape)):   # TF refuses zeros([n / 2]), not truncating
        raise DTypeMismatchError(f"{op}: `{arg}` must hold integers, got {shape!r}")
    return dims


_PLAIN_DIM_TYPES = frozenset((int, type(None)))


def _is_float_dim(s):
    """True for a float shape entry: a Python/NumPy float. A float tensor entry is
    truncated, as TF packs ``[tf.math.ceil(h / 8), 1]`` (keras.io RetinaNet)."""
    if isinstance(s, float):
        return True
    if isinstance(s, Tensor):
        return False
    dtype = getattr(s, "dtype", None)
    return dtype is not None and getattr(dtype, "is_floating",
                                         getattr(dtype, "kind", "") == "f")


def probing_branch():
    """True while a cond branch or loop body is traced: it computes with the values
    at hand, which need not be those it runs with (an untaken branch, a loop body
    its run never enters: ``for i in tf.range(n): x[i]`` with ``n == 0``). Ops that
    check index values then give a result of the right shape instead of raising;
    the graph checks the indices when it runs: such a result is a stand-in (see
    ``stand_in``), never folded into the graph."""
    trace = STATE.trace
    return trace is not None and (trace.parent is not None or getattr(
        trace, "probing_now", False))   # see core.trace_deferred


def stand_in(result=None):
    """``result`` of a probing forward that replaced bad index values: the node the
    trace records next is kept out of constant folding and constant reads, so a
    branch that runs checks its real indices (``Trace.record``)."""
    STATE.stand_in = True
    return result
