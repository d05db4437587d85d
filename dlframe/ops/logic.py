"""Shared dtype checks for elementwise ops, comparisons, logical and bitwise ops, casts
and selection (``where``, ``ones_like``, ``zeros_like``).

``dlframe.ops.math`` builds on these and re-exports the public ones (one object per
name, DESIGN.md §1).
"""

from dlframe.core import basic, dtypes
from dlframe.core import indexed_slices as _slices
from dlframe.core.primitive import REGISTRY, call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import (
    DTypeMismatchError,
    InvalidArgumentError,
    ShapeMismatchError,
    UnsupportedCastError,
)
from dlframe.ops._util import AUTOCAST, FLOAT_NAMES, NUMERIC_NAMES, operands, t, unary

# dtype kinds an op accepts -> TF's list of allowed types, for error messages
_ALLOWED = {
    "f": "bfloat16, half, float, double",
    "fc": FLOAT_NAMES,
    "fci": "bfloat16, half, float, double, int8, int16, int32, int64, complex64, "
           "complex128",
    "fiu": "bfloat16, half, float, double, int8, uint8, int16, uint16, int32, uint32, "
           "int64, uint64",
    "fciu": NUMERIC_NAMES,
    "fciub": NUMERIC_NAMES + ", bool",
    "fciubO": NUMERIC_NAMES + ", bool, string",
}


def _kind(x):
    """The dtype kind of a Tensor ('f' also for bfloat16, which NumPy calls 'V')."""
    k = x._value.dtype.kind
    return "f" if k == "V" and x.dtype.is_floating else k


def _check(op, x, kinds):
    """Raises TF's InvalidArgumentError unless ``x``'s dtype kind is in ``kinds``."""
    if _kind(x) not in kinds:
        raise InvalidArgumentError(
            f"{op}: Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
            f"values: {_ALLOWED[kinds]} [Op:{op}]")


def _bcast(op, fn):
    """Wraps an xp binary function so shape errors name the op like TF."""
    def forward(d, x, y):
        try:
            return fn(d.xp, x, y)
        except ValueError as exc:
            if "broadcast" in str(exc):
                raise ShapeMismatchError(f"{op}: Incompatible shapes: {list(x.shape)} vs. "
                                         f"{list(y.shape)} [Op:{op}]") from None
            raise
    return forward


def _binary(p, x, y, kinds):
    """TF operand conversion, a dtype check and the primitive call."""
    x, y = operands(x, y, p.name)
    if _kind(x) not in kinds:
        _check(p.name, x, kinds)
    return call(p, (x, y))


# ---------------------------------------------------------------- comparisons
def _compare(name, fn, kinds):
    p = primitive(name)(_bcast(name, fn))

    def op(x, y, name=None):
        return _binary(p, x, y, kinds)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} of x and y (broadcasting; bool result)."
    return op


# as in TF, (in)equality also compares strings
equal = _compare("Equal", lambda xp, x, y: xp.equal(x, y), "fciubO")
not_equal = _compare("NotEqual", lambda xp, x, y: xp.not_equal(x, y), "fciubO")


def _compares_strings(inputs):
    return inputs[0]._value.dtype == object


# string comparisons run on the host; on a GPU their masks go beside the numbers
for _name in ("Equal", "NotEqual"):
    REGISTRY[_name].host_kernel = _compares_strings
less = _compare("Less", lambda xp, x, y: xp.less(x, y), "fiu")
less_equal = _compare("LessEqual", lambda xp, x, y: xp.less_equal(x, y), "fiu")
greater = _compare("Greater", lambda xp, x, y: xp.greater(x, y), "fiu")
greater_equal = _compare("GreaterEqual", lambda xp, x, y: xp.greater_equal(x, y), "fiu")


def _bool_error(op, x, i=0):
    return DTypeMismatchError(
        f"cannot compute {op} as input #{i}(zero-based) was expected to be a bool tensor "
        f"but is a {x.dtype.name} tensor [Op:{op}]")


def _logical(name, fn):
    p = primitive(name)(_bcast(name, fn))

    def op(x, y, name=None):
        x, y = operands(x, y, p.name)
        if x._value.dtype.kind != "b":
            raise _bool_error(p.name, x)
        return call(p, (x, y))
    op.__doc__ = f"Elementwise {name} of two bool tensors (broadcasting)."
    return op


logical_and = _logical("LogicalAnd", lambda xp, x, y: xp.logical_and(x, y))
logical_or = _logical("LogicalOr", lambda xp, x, y: xp.logical_or(x, y))
logical_xor = _logical("LogicalXor", lambda xp, x, y: xp.logical_xor(x, y))
_logical_not_p = primitive("LogicalNot")(lambda d, x: d.xp.logical_not(x))


def logical_not(x, name=None):
    """Elementwise NOT of a bool tensor."""
    x = t(x)
    if x._value.dtype.kind != "b":
        raise _bool_error("LogicalNot", x)
    return call(_logical_not_p, (x,))


def _bitwise(name, fn):
    p = primitive(name)(_bcast(name, fn))

    def op(x, y, name=None):
        return _binary(p, x, y, "iub")
    return op


_ALLOWED["iub"] = "int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool"
bitwise_and = _bitwise("BitwiseAnd", lambda xp, x, y: xp.bitwise_and(x, y))
bitwise_or = _bitwise("BitwiseOr", lambda xp, x, y: xp.bitwise_or(x, y))
bitwise_xor = _bitwise("BitwiseXor", lambda xp, x, y: xp.bitwise_xor(x, y))
_invert_p = primitive("Invert")(lambda d, x: d.xp.invert(x))


_ALLOWED["iu"] = "int8, int16, int32, int64, uint8, uint16, uint32, uint64"


def invert(x, name=None):
    """Bitwise NOT of an integer tensor (TF refuses floats and bools)."""
    x = t(x)
    _check("Invert", x, "iu")
    return unary(_invert_p, x)


# ---------------------------------------------------------------- cast, select
@primitive("Cast")
def cast_p(d, x, *, dtype):
    if x.dtype.kind in "fc" and dtype.kind in "iu":
        return d.xp.trunc(x).astype(dtype) if x.dtype.kind == "f" else x.real.astype(dtype)
    if x.dtype.kind == "c" and dtype.kind == "f":
        return x.real.astype(dtype)
    return x.astype(dtype)


@cast_p.defgrad
def _cast_grad(inputs, out, dy, *, dtype):
    x = inputs[0]
    if _kind(x) not in "fc" or _kind(dy) not in "fc":
        return None
    return cast(dy, x.dtype)


def cast(x, dtype, name=None):
    """Casts ``x`` to ``dtype`` (floats to ints truncate toward zero, as TF)."""
    target = dtypes.as_dtype(dtype)
    if isinstance(x, _slices.IndexedSlices):   # TF: the values are cast, slices kept
        return _slices.like_slices(x, cast(x.values, target), x.indices)
    if type(x).__name__ == "SparseTensor":   # TF: the values are cast (duck-typed:
        return x.with_values(cast(x.values, target))   # sparse_tensor imports us)
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if x._value.dtype == target._np and not (
            x._is_variable and x._autocast and AUTOCAST.dtype is not None):
        return x   # (an autocast variable in a mixed layer's call: a stored read)
    if target is dtypes.string or x._value.dtype.kind == "O":
        raise UnsupportedCastError(
            f"Cast {x.dtype.name} to {target.name} is not supported (argument `x` of "
            "Cast); use strings.as_string / strings.to_number [Op:Cast]")
    return call(cast_p, (x,), {"dtype": target._np})


@primitive("Select")
def where_p(d, cond, x, y):
    try:
        out = d.xp.where(cond, x, y)
    except ValueError:
        raise ShapeMismatchError(
            f"SelectV2: Incompatible shapes: condition {list(cond.shape)}, x "
            f"{list(x.shape)}, y {list(y.shape)}") from None
    # CuPy 14 selects bfloat16 (ml_dtypes) through float32: keep the operands' dtype
    return out if out.dtype == x.dtype else out.astype(x.dtype)


@where_p.defgrad
def _where_grad(inputs, out, dy):
    cond = inputs[0]
    zeros = zeros_like(dy)
    return None, where(cond, dy, zeros), where(cond, zeros, dy)


def where(condition, x=None, y=None, name=None):
    """Selects from ``x`` where ``condition`` else ``y``; with one argument returns
    the coordinates of true elements as int64 ``[n, rank]``."""
    condition = t(condition)
    if x is None and y is None:
        from dlframe.ops.array import _where_indices
        return _where_indices(condition)
    if x is None or y is None:
        raise ValueError("where: x and y must both be given or both be None")
    if condition._value.dtype.kind != "b":
        raise InvalidArgumentError(f"SelectV2: condition must be bool, got "
                                   f"{condition.dtype.name}")
    x, y = operands(x, y, "SelectV2")
    return call(where_p, (condition, x, y))


def ones_like(input, dtype=None, name=None):  # noqa: A002
    """A tensor of ones with the shape (and dtype) of ``input``."""
    x = t(input)
    if x._value.dtype == object:   # TF's OnesLike has no string kernel
        _check("OnesLike", x, "fciub")
    out = basic.ones_like_t(x)
    return cast(out, dtype) if dtype is not None else out


def zeros_like(input, dtype=None, name=None):  # noqa: A002
    """A tensor of zeros with the shape (and dtype) of ``input``."""
    x = t(input)
    out = basic.zeros_like_t(x)
    return cast(out, dtype) if dtype is not None else out
