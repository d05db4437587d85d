"""Elementwise math: arithmetic, powers, exp/log, trig, comparisons, logic, casts.

Each primitive's gradient rule sits directly below its forward and is written in
dlframe ops (DESIGN.md §4). Broadcasting is undone centrally by the tape.
"""

from dlframe.core import basic, dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.ops._util import (FLOAT, FLOAT_NAMES, NUMERIC, NUMERIC_NAMES, binary,
                               float_unary, operands, require, t, unary)


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


# ---------------------------------------------------------------- arithmetic
add_p = basic.add_p


def add(x, y, name=None):
    """Returns x + y elementwise (broadcasting)."""
    x, y = operands(x, y, "AddV2")
    if x._value.dtype.kind == "b":
        require("AddV2", x, NUMERIC, NUMERIC_NAMES)
    return call(add_p, (x, y))


sub_p = primitive("Sub")(_bcast("Sub", lambda xp, x, y: xp.subtract(x, y)))


@sub_p.defgrad
def _sub_grad(inputs, out, dy):
    return dy, negative(dy)


def subtract(x, y, name=None):
    """Returns x - y elementwise."""
    return binary(sub_p, x, y)


mul_p = primitive("Mul")(_bcast("Mul", lambda xp, x, y: xp.multiply(x, y)))


@mul_p.defgrad
def _mul_grad(inputs, out, dy):
    x, y = inputs
    return multiply(dy, y), multiply(dy, x)


def multiply(x, y, name=None):
    """Returns x * y elementwise."""
    return binary(mul_p, x, y)


div_p = primitive("RealDiv")(_bcast("RealDiv", lambda xp, x, y: xp.divide(x, y)))


@div_p.defgrad
def _div_grad(inputs, out, dy):
    x, y = inputs
    gx = divide(dy, y)
    return gx, negative(multiply(gx, out))  # d(x/y)/dy = -(x/y)/y


def _to_float_for_div(x):
    kind = x._value.dtype.kind
    if kind in "iu":
        size = x._value.dtype.itemsize
        return cast(x, dtypes.float64 if size >= 4 else dtypes.float32)
    return x


def divide(x, y, name=None):
    """Python-3 division: integers are converted to floating point first (TF truediv)."""
    x, y = operands(x, y, "RealDiv")
    if x._value.dtype.kind in "iu":
        x, y = _to_float_for_div(x), _to_float_for_div(y)
    elif x._value.dtype.kind == "b":
        require("RealDiv", x, NUMERIC, NUMERIC_NAMES)
    return call(div_p, (x, y))


truediv = divide


def realdiv(x, y, name=None):
    """x / y for floating x and y (no integer conversion)."""
    return binary(div_p, x, y)


@primitive("DivNoNan")
def div_no_nan_p(d, x, y):
    xp = d.xp
    safe = xp.where(y == 0, xp.ones_like(y), y)
    return xp.where(y == 0, xp.zeros((), dtype=x.dtype), x / safe).astype(x.dtype, copy=False)


@div_no_nan_p.defgrad
def _div_no_nan_grad(inputs, out, dy):
    x, y = inputs
    gx = divide_no_nan(dy, y)
    return gx, negative(divide_no_nan(multiply(gx, x), y))


def divide_no_nan(x, y, name=None):
    """x / y, with 0 wherever y == 0."""
    return binary(div_no_nan_p, x, y)


div_no_nan = divide_no_nan


@primitive("FloorDiv")
def floordiv_p(d, x, y):
    xp = d.xp
    if x.dtype.kind in "iu" and xp.any(y == 0):
        raise InvalidArgumentError("FloorDiv: Integer division by zero [Op:FloorDiv]")
    return xp.floor_divide(x, y)


def floordiv(x, y, name=None):
    """Floor division x // y (integer or floating)."""
    return binary(floordiv_p, x, y)


floor_div = floordiv


@primitive("FloorMod")
def floormod_p(d, x, y):
    xp = d.xp
    if x.dtype.kind in "iu" and xp.any(y == 0):
        raise InvalidArgumentError("FloorMod: Integer division by zero [Op:FloorMod]")
    return xp.mod(x, y)


@floormod_p.defgrad
def _floormod_grad(inputs, out, dy):
    x, y = inputs
    return dy, negative(multiply(dy, floor(divide(x, y))))


def floormod(x, y, name=None):
    """Python-style remainder x % y (sign of the divisor)."""
    return binary(floormod_p, x, y)


mod = floormod
truncatemod = floormod


@primitive("Pow")
def pow_p(d, x, y):
    xp = d.xp
    if x.dtype.kind in "iu" and xp.any(y < 0):
        raise InvalidArgumentError("Pow: Integers to negative integer powers are not "
                                   "allowed [Op:Pow]")
    return xp.power(x, y)


@pow_p.defgrad
def _pow_grad(inputs, out, dy):
    x, y = inputs
    gx = multiply(dy, multiply(y, pow(x, subtract(y, 1))))
    safe_log = where(greater(x, 0), log(where(greater(x, 0), x, ones_like(x))), zeros_like(x))
    gy = multiply(dy, multiply(out, safe_log))
    return gx, gy


def pow(x, y, name=None):  # noqa: A001 - TF's public name
    """x ** y elementwise."""
    return binary(pow_p, x, y)


@primitive("Maximum")
def maximum_p(d, x, y):
    return d.xp.maximum(x, y)


@maximum_p.defgrad
def _maximum_grad(inputs, out, dy):
    x, y = inputs
    mask = cast(greater_equal(x, y), dy.dtype)
    return multiply(dy, mask), multiply(dy, subtract(1.0, mask))


def maximum(x, y, name=None):
    """Elementwise maximum (the gradient goes to x where x >= y)."""
    return binary(maximum_p, x, y)


@primitive("Minimum")
def minimum_p(d, x, y):
    return d.xp.minimum(x, y)


@minimum_p.defgrad
def _minimum_grad(inputs, out, dy):
    x, y = inputs
    mask = cast(less_equal(x, y), dy.dtype)
    return multiply(dy, mask), multiply(dy, subtract(1.0, mask))


def minimum(x, y, name=None):
    """Elementwise minimum (the gradient goes to x where x <= y)."""
    return binary(minimum_p, x, y)


@primitive("SquaredDifference")
def squared_difference_p(d, x, y):
    diff = x - y
    return diff * diff


@squared_difference_p.defgrad
def _sqdiff_grad(inputs, out, dy):
    x, y = inputs
    g = multiply(dy, multiply(2.0, subtract(x, y)))
    return g, negative(g)


def squared_difference(x, y, name=None):
    """(x - y) ** 2 elementwise."""
    return binary(squared_difference_p, x, y)


@primitive("Atan2")
def atan2_p(d, y, x):
    return d.xp.arctan2(y, x)


@atan2_p.defgrad
def _atan2_grad(inputs, out, dy):
    y, x = inputs
    denom = add(square(x), square(y))
    return multiply(dy, divide(x, denom)), multiply(dy, negative(divide(y, denom)))


def atan2(y, x, name=None):
    """Elementwise arctangent of y/x with quadrant."""
    return binary(atan2_p, y, x)


# ---------------------------------------------------------------- unary
def _unary_prim(name, fn, grad=None, float_only=True):
    p = primitive(name)(lambda d, x: fn(d.xp, x))
    if grad is not None:
        p.defgrad(grad)

    if float_only:
        def op(x, name=None):
            return float_unary(p, x)
    else:
        def op(x, name=None):
            return unary(p, x)
    return p, op


neg_p, negative = _unary_prim("Neg", lambda xp, x: xp.negative(x),
                              lambda i, o, dy: negative(dy), float_only=False)
neg = negative


def _abs_grad(inputs, out, dy):
    return multiply(dy, sign(inputs[0]))


abs_p, abs = _unary_prim("Abs", lambda xp, x: xp.abs(x), _abs_grad, float_only=False)  # noqa: A001
sign_p, sign = _unary_prim("Sign", lambda xp, x: xp.sign(x),
                           lambda i, o, dy: zeros_like(dy), float_only=False)
square_p, square = _unary_prim("Square", lambda xp, x: xp.square(x),
                               lambda i, o, dy: multiply(dy, multiply(2.0, i[0])) if
                               i[0].dtype.is_floating else multiply(dy, multiply(i[0], 2)),
                               float_only=False)
sqrt_p, sqrt = _unary_prim("Sqrt", lambda xp, x: xp.sqrt(x),
                           lambda i, o, dy: divide(multiply(dy, 0.5), o))
rsqrt_p, rsqrt = _unary_prim("Rsqrt", lambda xp, x: 1 / xp.sqrt(x),
                             lambda i, o, dy: multiply(dy, multiply(-0.5, pow(o, 3.0))))
exp_p, exp = _unary_prim("Exp", lambda xp, x: xp.exp(x), lambda i, o, dy: multiply(dy, o))
expm1_p, expm1 = _unary_prim("Expm1", lambda xp, x: xp.expm1(x),
                             lambda i, o, dy: multiply(dy, add(o, 1.0)))
log_p, log = _unary_prim("Log", lambda xp, x: xp.log(x), lambda i, o, dy: divide(dy, i[0]))
log1p_p, log1p = _unary_prim("Log1p", lambda xp, x: xp.log1p(x),
                             lambda i, o, dy: divide(dy, add(i[0], 1.0)))
reciprocal_p, reciprocal = _unary_prim(
    "Reciprocal", lambda xp, x: 1 / x, lambda i, o, dy: multiply(negative(dy), square(o)))
inv = reciprocal
sin_p, sin = _unary_prim("Sin", lambda xp, x: xp.sin(x),
                         lambda i, o, dy: multiply(dy, cos(i[0])))
cos_p, cos = _unary_prim("Cos", lambda xp, x: xp.cos(x),
                         lambda i, o, dy: multiply(dy, negative(sin(i[0]))))
tan_p, tan = _unary_prim("Tan", lambda xp, x: xp.tan(x),
                         lambda i, o, dy: multiply(dy, add(1.0, square(o))))
asin_p, asin = _unary_prim("Asin", lambda xp, x: xp.arcsin(x),
                           lambda i, o, dy: multiply(dy, rsqrt(subtract(1.0, square(i[0])))))
acos_p, acos = _unary_prim("Acos", lambda xp, x: xp.arccos(x),
                           lambda i, o, dy: negative(multiply(
                               dy, rsqrt(subtract(1.0, square(i[0]))))))
atan_p, atan = _unary_prim("Atan", lambda xp, x: xp.arctan(x),
                           lambda i, o, dy: divide(dy, add(1.0, square(i[0]))))
sinh_p, sinh = _unary_prim("Sinh", lambda xp, x: xp.sinh(x),
                           lambda i, o, dy: multiply(dy, cosh(i[0])))
cosh_p, cosh = _unary_prim("Cosh", lambda xp, x: xp.cosh(x),
                           lambda i, o, dy: multiply(dy, sinh(i[0])))
tanh_p, tanh = _unary_prim("Tanh", lambda xp, x: xp.tanh(x),
                           lambda i, o, dy: multiply(dy, subtract(1.0, square(o))))
asinh_p, asinh = _unary_prim("Asinh", lambda xp, x: xp.arcsinh(x),
                             lambda i, o, dy: multiply(dy, rsqrt(add(square(i[0]), 1.0))))
acosh_p, acosh = _unary_prim("Acosh", lambda xp, x: xp.arccosh(x),
                             lambda i, o, dy: multiply(dy, rsqrt(subtract(square(i[0]), 1.0))))
atanh_p, atanh = _unary_prim("Atanh", lambda xp, x: xp.arctanh(x),
                             lambda i, o, dy: divide(dy, subtract(1.0, square(i[0]))))


def _sigmoid_fwd(xp, x):
    # exp of -|x| never overflows; both branches share it
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid_p, sigmoid = _unary_prim(
    "Sigmoid", _sigmoid_fwd, lambda i, o, dy: multiply(dy, multiply(o, subtract(1.0, o))))


def _softplus_fwd(xp, x):
    return (xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)


softplus_p, softplus = _unary_prim("Softplus", _softplus_fwd,
                                   lambda i, o, dy: multiply(dy, sigmoid(i[0])))


def _softsign_fwd(xp, x):
    return x / (1 + xp.abs(x))


softsign_p, softsign = _unary_prim(
    "Softsign", _softsign_fwd, lambda i, o, dy: divide(dy, square(add(1.0, abs(i[0])))))


def _erf_fwd(d, x):
    return d.special("erf")(x).astype(x.dtype, copy=False)


erf_p = primitive("Erf")(_erf_fwd)


@erf_p.defgrad
def _erf_grad(inputs, out, dy):
    x = inputs[0]
    return multiply(dy, multiply(1.1283791670955126, exp(negative(square(x)))))


def erf(x, name=None):
    """Gauss error function."""
    return float_unary(erf_p, x)


def erfc(x, name=None):
    """Complementary error function 1 - erf(x)."""
    return subtract(1.0, erf(x))


floor_p, floor = _unary_prim("Floor", lambda xp, x: xp.floor(x),
                             lambda i, o, dy: zeros_like(dy))
ceil_p, ceil = _unary_prim("Ceil", lambda xp, x: xp.ceil(x), lambda i, o, dy: zeros_like(dy))
round_p, _round_float = _unary_prim("Round", lambda xp, x: xp.rint(x),
                                    lambda i, o, dy: zeros_like(dy))


def round(x, name=None):  # noqa: A001 - TF's public name
    """Rounds half to even, as TF."""
    x = t(x)
    if x._value.dtype.kind in "iu":
        return x
    return _round_float(x)


rint = round


def _float_pred(name, fn):
    p = primitive(name)(lambda d, x: fn(d.xp, x))

    def op(x, name=None):
        return float_unary(p, x)
    return op


is_nan = _float_pred("IsNan", lambda xp, x: xp.isnan(x))
is_inf = _float_pred("IsInf", lambda xp, x: xp.isinf(x))
is_finite = _float_pred("IsFinite", lambda xp, x: xp.isfinite(x))


# ---------------------------------------------------------------- comparisons
def _compare(name, fn):
    p = primitive(name)(_bcast(name, fn))

    def op(x, y, name=None):
        return binary(p, x, y)
    op.__name__ = name
    return op


equal = _compare("Equal", lambda xp, x, y: xp.equal(x, y))
not_equal = _compare("NotEqual", lambda xp, x, y: xp.not_equal(x, y))
less = _compare("Less", lambda xp, x, y: xp.less(x, y))
less_equal = _compare("LessEqual", lambda xp, x, y: xp.less_equal(x, y))
greater = _compare("Greater", lambda xp, x, y: xp.greater(x, y))
greater_equal = _compare("GreaterEqual", lambda xp, x, y: xp.greater_equal(x, y))


def _logical(name, fn):
    p = primitive(name)(_bcast(name, fn))

    def op(x, y, name=None):
        x, y = operands(x, y, p.name)
        if x._value.dtype.kind != "b":
            raise InvalidArgumentError(f"{p.name}: expected bool tensors, got "
                                       f"{x.dtype.name} [Op:{p.name}]")
        return call(p, (x, y))
    return op


logical_and = _logical("LogicalAnd", lambda xp, x, y: xp.logical_and(x, y))
logical_or = _logical("LogicalOr", lambda xp, x, y: xp.logical_or(x, y))
logical_xor = _logical("LogicalXor", lambda xp, x, y: xp.logical_xor(x, y))
_logical_not_p = primitive("LogicalNot")(lambda d, x: d.xp.logical_not(x))


def logical_not(x, name=None):
    """Elementwise NOT of a bool tensor."""
    x = t(x)
    if x._value.dtype.kind != "b":
        raise InvalidArgumentError(f"LogicalNot: expected a bool tensor, got {x.dtype.name}")
    return call(_logical_not_p, (x,))


def _bitwise(name, fn):
    p = primitive(name)(_bcast(name, fn))

    def op(x, y, name=None):
        return binary(p, x, y)
    return op


bitwise_and = _bitwise("BitwiseAnd", lambda xp, x, y: xp.bitwise_and(x, y))
bitwise_or = _bitwise("BitwiseOr", lambda xp, x, y: xp.bitwise_or(x, y))
bitwise_xor = _bitwise("BitwiseXor", lambda xp, x, y: xp.bitwise_xor(x, y))
_invert_p = primitive("Invert")(lambda d, x: d.xp.invert(x))


def invert(x, name=None):
    """Bitwise NOT (integers) / logical NOT (bools)."""
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
    if x._value.dtype.kind not in "fc" or dy._value.dtype.kind not in "fc":
        return None
    return cast(dy, x.dtype)


def cast(x, dtype, name=None):
    """Casts ``x`` to ``dtype`` (floats to ints truncate toward zero, as TF)."""
    target = dtypes.as_dtype(dtype)
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if x._value.dtype == target._np:
        return x
    if target is dtypes.string or x._value.dtype.kind == "O":
        raise TypeError(f"Cast: cannot cast {x.dtype.name} to {target.name}; use "
                        "strings.as_string / strings.to_number")
    return call(cast_p, (x,), {"dtype": target._np})


def saturate_cast(value, dtype, name=None):
    """Casts with clamping to the target type's range."""
    target = dtypes.as_dtype(dtype)
    value = t(value)
    if target.is_integer or target.is_floating:
        lo, hi = target.min, target.max
        if value.dtype.is_floating or value.dtype.is_integer:
            vmin, vmax = value.dtype.min, value.dtype.max
            if lo > vmin:
                value = maximum(value, _scalar(lo, value))
            if hi < vmax:
                value = minimum(value, _scalar(hi, value))
    return cast(value, target)


def _scalar(v, like):
    if like.dtype.is_integer:
        v = int(v)
    return convert_to_tensor(v, dtype=like.dtype, device=like._device)


@primitive("Select")
def where_p(d, cond, x, y):
    try:
        return d.xp.where(cond, x, y)
    except ValueError:
        raise ShapeMismatchError(
            f"SelectV2: Incompatible shapes: condition {list(cond.shape)}, x "
            f"{list(x.shape)}, y {list(y.shape)}") from None


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
    out = basic.ones_like_t(x)
    return cast(out, dtype) if dtype is not None else out


def zeros_like(input, dtype=None, name=None):  # noqa: A002
    """A tensor of zeros with the shape (and dtype) of ``input``."""
    x = t(input)
    out = basic.zeros_like_t(x)
    return cast(out, dtype) if dtype is not None else out


def add_n(inputs, name=None):
    """Sums a list of same-shaped tensors."""
    if not inputs:
        raise ValueError("add_n: inputs must be a non-empty list of tensors")
    total = t(inputs[0])
    for x in inputs[1:]:
        total = add(total, x)
    return total


def scalar_mul(scalar, x, name=None):
    """Multiplies tensor ``x`` by a scalar."""
    return multiply(scalar, x)


def real(input, name=None):  # noqa: A002
    x = t(input)
    return cast(x, x.dtype.real_dtype) if x.dtype.is_complex else x


def xlogy(x, y, name=None):
    """x * log(y), with 0 where x == 0."""
    x, y = operands(x, y, "Xlogy")
    safe = where(equal(x, 0), ones_like(y), y)
    return where(equal(x, 0), zeros_like(x), multiply(x, log(safe)))


def reciprocal_no_nan(x, name=None):
    """1 / x with 0 where x == 0."""
    x = t(x)
    return divide_no_nan(ones_like(x), x)

__all__ = [
    "abs", "acos", "acosh", "add", "add_n", "asin", "asinh", "atan", "atan2", "atanh",
    "cast", "ceil", "cos", "cosh", "divide", "equal", "exp", "expm1", "floor", "floordiv",
    "greater", "greater_equal", "less", "less_equal", "log", "log1p", "logical_and",
    "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "multiply",
    "negative", "not_equal", "ones_like", "pow", "realdiv", "reciprocal", "round", "rsqrt",
    "saturate_cast", "sigmoid", "sign", "sin", "sinh", "sqrt", "square",
    "squared_difference", "subtract", "tan", "tanh", "truediv", "where", "zeros_like",
    "floor_div", "truncatemod",
]
