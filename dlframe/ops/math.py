"""Elementwise math: arithmetic, powers, exp/log, trig, special functions, complex parts.

Each primitive's gradient rule sits directly below its forward and is written in
dlframe ops (DESIGN.md §4). Broadcasting is undone centrally by the tape. Comparisons,
logic, casts and ``where`` live in ``dlframe.ops.logic`` and are re-exported here.
"""

from dlframe.backends.base import np
from dlframe.core import basic, dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.ops._util import operands, t
from dlframe.ops.logic import (  # noqa: F401 - re-exported: one object per name
    _ALLOWED, _bcast, _binary, _check, _kind, bitwise_and, bitwise_or, bitwise_xor, cast,
    cast_p, equal, greater, greater_equal, invert, less, less_equal, logical_and,
    logical_not, logical_or, logical_xor, not_equal, ones_like, where, where_p, zeros_like)


def _binary_prim(name, fn, kinds, doc, into=None):
    """A broadcasting binary primitive and its public op (gradient attached later);
    ``into`` is the ufunc computing ``fn`` into a given buffer (Primitive.into)."""
    p = primitive(name)(_bcast(name, fn))
    p.into = into

    def op(x, y, name=None):
        return _binary(p, x, y, kinds)
    op.__doc__ = doc
    return p, op


def _conj_if_complex(x):
    return conj(x) if _kind(x) == "c" else x


# ---------------------------------------------------------------- arithmetic
add_p = basic.add_p


def add(x, y, name=None):
    """Returns x + y elementwise (broadcasting); string tensors are concatenated."""
    if _is_string(x) or _is_string(y):
        from dlframe.ops import strings
        return strings.join([x, y])
    return _binary(add_p, x, y, "fciu")


def _is_string(v):
    if isinstance(v, Tensor):
        return v.dtype == dtypes.string
    return isinstance(v, (str, bytes))


sub_p, subtract = _binary_prim("Sub", lambda xp, x, y: xp.subtract(x, y), "fciu",
                               "Returns x - y elementwise.", np.subtract)


@sub_p.defgrad
def _sub_grad(inputs, out, dy):
    return dy, negative(dy)


mul_p, multiply = _binary_prim("Mul", lambda xp, x, y: xp.multiply(x, y), "fciu",
                               "Returns x * y elementwise.", np.multiply)


@mul_p.defgrad
def _mul_grad(inputs, out, dy):
    x, y = inputs
    return multiply(dy, _conj_if_complex(y)), multiply(_conj_if_complex(x), dy)


div_p, realdiv = _binary_prim("RealDiv", lambda xp, x, y: xp.divide(x, y), "fc",
                              "x / y for floating x and y (no integer conversion).",
                              np.divide)


@div_p.defgrad
def _div_grad(inputs, out, dy):
    y = inputs[1]
    gx = divide(dy, _conj_if_complex(y))
    return gx, negative(multiply(gx, _conj_if_complex(out)))  # d(x/y)/dy = -(x/y)/y


def _to_float_for_div(x):
    if _kind(x) in "iu":
        size = x._value.dtype.itemsize
        return cast(x, dtypes.float64 if size >= 4 else dtypes.float32)
    return x


def divide(x, y, name=None):
    """Python-3 division: integers are converted to floating point first (TF truediv).

    Args:
      x: a numeric Tensor or value.
      y: a numeric Tensor or value of the same dtype.

    Returns:
      ``x / y``; int8/int16/uint8/uint16 give float32, wider integers float64.
    """
    x, y = operands(x, y, "RealDiv")
    if _kind(x) in "iu":
        x, y = _to_float_for_div(x), _to_float_for_div(y)
    _check("RealDiv", x, "fc")
    return call(div_p, (x, y))


truediv = divide


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
    return _binary(div_no_nan_p, x, y, "fc")


div_no_nan = divide_no_nan


@primitive("FloorDiv")
def floordiv_p(d, x, y):
    xp = d.xp
    if x.dtype.kind in "iu" and xp.any(y == 0):
        raise InvalidArgumentError("FloorDiv: Integer division by zero [Op:FloorDiv]")
    return xp.floor_divide(x, y)


def floordiv(x, y, name=None):
    """Floor division x // y (integer or floating; not differentiable)."""
    return _binary(floordiv_p, x, y, "fiu")


floor_div = floordiv


@primitive("TruncateDiv")
def truncatediv_p(d, x, y):
    xp = d.xp
    if x.dtype.kind in "iu":
        if xp.any(y == 0):
            raise InvalidArgumentError("TruncateDiv: Integer division by zero "
                                       "[Op:TruncateDiv]")
        q = xp.floor_divide(x, y)
        # floor and truncation differ when the signs differ and the division is inexact
        return q + ((xp.remainder(x, y) != 0) & ((x < 0) != (y < 0))).astype(x.dtype)
    return xp.trunc(x / y).astype(x.dtype, copy=False)


def truncatediv(x, y, name=None):
    """Division rounding toward zero (C semantics; not differentiable)."""
    return _binary(truncatediv_p, x, y, "fiu")


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
    return _binary(floormod_p, x, y, "fiu")


mod = floormod


@primitive("TruncateMod")
def truncatemod_p(d, x, y):
    xp = d.xp
    if x.dtype.kind in "iu" and xp.any(y == 0):
        raise InvalidArgumentError("TruncateMod: Integer division by zero "
                                   "[Op:TruncateMod]")
    return xp.fmod(x, y)


@truncatemod_p.defgrad
def _truncatemod_grad(inputs, out, dy):
    x, y = inputs
    q = divide(x, y)
    return dy, negative(multiply(dy, where(less(q, 0), ceil(q), floor(q))))


def truncatemod(x, y, name=None):
    """C-style remainder x - y * trunc(x / y) (sign of the dividend)."""
    return _binary(truncatemod_p, x, y, "fiu")


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
    positive = greater(x, 0)
    safe_log = where(positive, log(where(positive, x, ones_like(x))), zeros_like(x))
    gy = multiply(dy, multiply(out, safe_log))
    return gx, gy


def pow(x, y, name=None):
    """x ** y elementwise (integer bases with negative integer exponents raise)."""
    return _binary(pow_p, x, y, "fciu")


maximum_p, maximum = _binary_prim(
    "Maximum", lambda xp, x, y: xp.maximum(x, y), "fiu",
    "Elementwise maximum (the gradient goes to x where x >= y).", np.maximum)


@maximum_p.defgrad
def _maximum_grad(inputs, out, dy):
    x, y = inputs
    mask = cast(greater_equal(x, y), dy.dtype)
    return multiply(dy, mask), multiply(dy, subtract(1.0, mask))


minimum_p, minimum = _binary_prim(
    "Minimum", lambda xp, x, y: xp.minimum(x, y), "fiu",
    "Elementwise minimum (the gradient goes to x where x <= y).", np.minimum)


@minimum_p.defgrad
def _minimum_grad(inputs, out, dy):
    x, y = inputs
    mask = cast(less_equal(x, y), dy.dtype)
    return multiply(dy, mask), multiply(dy, subtract(1.0, mask))


def _sqdiff_fwd(xp, x, y):
    diff = x - y
    return diff * diff


squared_difference_p, squared_difference = _binary_prim(
    "SquaredDifference", _sqdiff_fwd, "fiu", "(x - y) ** 2 elementwise.")


@squared_difference_p.defgrad
def _sqdiff_grad(inputs, out, dy):
    x, y = inputs
    g = multiply(dy, multiply(2.0, subtract(x, y)))
    return g, negative(g)


atan2_p = primitive("Atan2")(_bcast("Atan2", lambda xp, y, x: xp.arctan2(y, x)))


def atan2(y, x, name=None):
    """Elementwise arctangent of y/x, using the signs of both for the quadrant."""
    return _binary(atan2_p, y, x, "f")


@atan2_p.defgrad
def _atan2_grad(inputs, out, dy):
    y, x = inputs
    denom = add(square(x), square(y))
    return multiply(dy, divide(x, denom)), multiply(dy, negative(divide(y, denom)))


# ---------------------------------------------------------------- unary
def _unary_prim(name, fn, grad=None, kinds="fc", doc=None, into=None):
    """A unary primitive on ``fn(xp, x)`` and its public op accepting dtype ``kinds``;
    ``into`` is the ufunc computing ``fn`` into a given buffer (Primitive.into)."""
    def forward(d, x):
        if x.dtype.kind == "V":   # bfloat16: compute in float32, round once (as TF)
            return fn(d.xp, x.astype("float32")).astype(x.dtype)
        return fn(d.xp, x)

    def into_rounded_once(x, out):
        if out.dtype.kind == "V":
            out[...] = fn(np, x.astype("float32")).astype(out.dtype)
            return out
        return into(x, out=out)
    p = primitive(name)(forward)
    p.into = None if into is None else into_rounded_once
    if grad is not None:
        p.defgrad(grad)

    def op(x, name=None):
        x = x if isinstance(x, Tensor) else convert_to_tensor(x)
        if _kind(x) not in kinds:
            _check(p.name, x, kinds)
        return call(p, (x,))
    op.__doc__ = doc or f"Elementwise {name} (TF's ``{name}`` op)."
    return p, op


neg_p, negative = _unary_prim("Neg", lambda xp, x: xp.negative(x),
                              lambda i, o, dy: negative(dy), "fci", "Elementwise -x.",
                              np.negative)
neg = negative


def _abs_grad(inputs, out, dy):
    x = inputs[0]
    if _kind(x) == "c":   # |z| has the real dy; its gradient is dy * z / |z|
        return multiply(cast(dy, x.dtype), sign(x))
    return multiply(dy, sign(x))


abs_p, abs = _unary_prim("Abs", lambda xp, x: xp.abs(x), _abs_grad, "fci",
                         "Elementwise |x| (complex inputs give their real magnitude).")
sign_p, sign = _unary_prim("Sign", lambda xp, x: xp.sign(x), lambda i, o, dy: zeros_like(dy),
                           "fci", "Elementwise -1, 0 or 1 (x / |x| for complex).")


def _square_grad(inputs, out, dy):
    x = inputs[0]
    return multiply(dy, multiply(_conj_if_complex(x), 2 if _kind(x) in "iu" else 2.0))


square_p, square = _unary_prim("Square", lambda xp, x: xp.square(x), _square_grad, "fciu",
                               "Elementwise x * x.", np.square)
sqrt_p, sqrt = _unary_prim("Sqrt", lambda xp, x: xp.sqrt(x),
                           lambda i, o, dy: divide(multiply(dy, 0.5), o), into=np.sqrt)
rsqrt_p, rsqrt = _unary_prim("Rsqrt", lambda xp, x: 1 / xp.sqrt(x),
                             lambda i, o, dy: multiply(dy, multiply(-0.5, pow(o, 3.0))),
                             doc="Elementwise 1 / sqrt(x).")
exp_p, exp = _unary_prim("Exp", lambda xp, x: xp.exp(x), lambda i, o, dy: multiply(dy, o),
                         into=np.exp)
expm1_p, expm1 = _unary_prim("Expm1", lambda xp, x: xp.expm1(x),
                             lambda i, o, dy: multiply(dy, add(o, 1.0)),
                             doc="Elementwise exp(x) - 1, accurate near 0.")
log_p, log = _unary_prim("Log", lambda xp, x: xp.log(x), lambda i, o, dy: divide(dy, i[0]),
                         doc="Elementwise natural logarithm.", into=np.log)
log1p_p, log1p = _unary_prim("Log1p", lambda xp, x: xp.log1p(x),
                             lambda i, o, dy: divide(dy, add(i[0], 1.0)),
                             doc="Elementwise log(1 + x), accurate near 0.")
reciprocal_p, reciprocal = _unary_prim(
    "Reciprocal", lambda xp, x: 1 / x, lambda i, o, dy: multiply(negative(dy), square(o)),
    doc="Elementwise 1 / x.")
inv = reciprocal
sin_p, sin = _unary_prim("Sin", lambda xp, x: xp.sin(x),
                         lambda i, o, dy: multiply(dy, cos(i[0])), into=np.sin)
cos_p, cos = _unary_prim("Cos", lambda xp, x: xp.cos(x),
                         lambda i, o, dy: multiply(dy, negative(sin(i[0]))), into=np.cos)
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
                           lambda i, o, dy: multiply(dy, subtract(1.0, square(o))),
                           into=np.tanh)
asinh_p, asinh = _unary_prim("Asinh", lambda xp, x: xp.arcsinh(x),
                             lambda i, o, dy: multiply(dy, rsqrt(add(square(i[0]), 1.0))))
acosh_p, acosh = _unary_prim("Acosh", lambda xp, x: xp.arccosh(x),
                             lambda i, o, dy: multiply(dy, rsqrt(subtract(square(i[0]), 1.0))))
atanh_p, atanh = _unary_prim("Atanh", lambda xp, x: xp.arctanh(x),
                             lambda i, o, dy: divide(dy, subtract(1.0, square(i[0]))))


def _sigmoid_fwd(xp, x):
    # 1 / (1 + exp(-x)) keeps relative accuracy for very negative x (TF does too);
    # exp overflows to inf there and the result is the correct 0. float16 goes
    # through float32, whose exp overflows far later.
    if x.dtype == "float16":
        return _sigmoid_fwd(xp, x.astype("float32")).astype(x.dtype)
    if xp is np:
        with np.errstate(over="ignore"):
            e = np.asarray(np.exp(-x))
    else:
        e = xp.exp(-x)
    e += 1
    return xp.divide(1, e, out=e)


def _sigmoid_into(x, out):
    """``_sigmoid_fwd`` on NumPy, into ``out`` (same arithmetic, same bits)."""
    if out.dtype == "float16":
        out[...] = _sigmoid_fwd(np, x)
        return out
    with np.errstate(over="ignore"):
        np.exp(np.negative(x, out=out), out=out)
    out += 1
    return np.divide(1, out, out=out)


sigmoid_p, sigmoid = _unary_prim(
    "Sigmoid", _sigmoid_fwd, lambda i, o, dy: multiply(dy, multiply(o, subtract(1.0, o))),
    "f", "Elementwise 1 / (1 + exp(-x)), stable for large |x|.", into=_sigmoid_into)


def _softplus_fwd(xp, x):
    return (xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)


softplus_p, softplus = _unary_prim("Softplus", _softplus_fwd,
                                   lambda i, o, dy: multiply(dy, sigmoid(i[0])), "f",
                                   "Elementwise log(1 + exp(x)), stable for large |x|.")


def log_sigmoid(x, name=None):
    """Elementwise log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return negative(softplus(negative(t(x))))


def _softsign_fwd(xp, x):
    return x / (1 + xp.abs(x))


softsign_p, softsign = _unary_prim(
    "Softsign", _softsign_fwd, lambda i, o, dy: divide(dy, square(add(1.0, abs(i[0])))),
    "f", "Elementwise x / (1 + |x|).")


def _special(name, fn_name, grad, doc, **attrs):
    """A float-only unary primitive on the device's special function ``fn_name``."""
    p = primitive(name)(lambda d, x: d.special(fn_name)(x).astype(x.dtype, copy=False))
    p.defgrad(grad)

    def op(x, name=None):
        x = x if isinstance(x, Tensor) else convert_to_tensor(x)
        if _kind(x) != "f":
            _check(p.name, x, "f")
        return call(p, (x,))
    op.__doc__ = doc
    return p, op


erf_p, erf = _special("Erf", "erf", lambda i, o, dy: multiply(
    dy, multiply(1.1283791670955126, exp(negative(square(i[0]))))),  # 2 / sqrt(pi)
    "Gauss error function.")
def erfc(x, name=None):
    """Complementary error function 1 - erf(x)."""
    return subtract(1.0, erf(x))


floor_p, floor = _unary_prim("Floor", lambda xp, x: xp.floor(x),
                             lambda i, o, dy: zeros_like(dy), "f",
                             "Elementwise largest integer not greater than x.")
ceil_p, ceil = _unary_prim("Ceil", lambda xp, x: xp.ceil(x), lambda i, o, dy: zeros_like(dy),
                           "f", "Elementwise smallest integer not less than x.")
round_p, _round_float = _unary_prim("Round", lambda xp, x: xp.rint(x),
                                    lambda i, o, dy: zeros_like(dy), "f")


def round(x, name=None):
    """Rounds half to even, as TF (integers pass through)."""
    x = t(x)
    if _kind(x) in "iu":
        return x
    return _round_float(x)


rint = round


def _float_pred(name, fn):
    p = primitive(name)(lambda d, x: fn(d.xp, x))

    def op(x, name=None):
        x = t(x)
        if _kind(x) != "f":
            _check(p.name, x, "f")
        return call(p, (x,))
    op.__doc__ = f"Elementwise {name} test of a floating tensor (bool result)."
    return op


is_nan = _float_pred("IsNan", lambda xp, x: xp.isnan(x))
is_inf = _float_pred("IsInf", lambda xp, x: xp.isinf(x))
is_finite = _float_pred("IsFinite", lambda xp, x: xp.isfinite(x))


# ---------------------------------------------------------------- complex parts
@primitive("Conj")
def conj_p(d, x):
    return d.xp.conj(x)


@conj_p.defgrad
def _conj_grad(inputs, out, dy):
    return conj(dy)


def conj(x, name=None):
    """Complex conjugate (real and integer tensors are returned unchanged)."""
    x = t(x)
    if _kind(x) != "c":
        _check("Conj", x, "fciub")
        return x
    return call(conj_p, (x,))


@primitive("Real")
def real_p(d, x):
    return d.xp.real(x).copy()


@real_p.defgrad
def _real_grad(inputs, out, dy):
    return complex(dy, zeros_like(dy))


def real(input, name=None):
    """Real part of a complex tensor (real tensors are returned unchanged)."""
    x = t(input)
    return call(real_p, (x,)) if _kind(x) == "c" else x


@primitive("Imag")
def imag_p(d, x):
    return d.xp.imag(x).copy()


@imag_p.defgrad
def _imag_grad(inputs, out, dy):
    return complex(zeros_like(dy), dy)


def imag(input, name=None):
    """Imaginary part of a complex tensor (zeros for real tensors)."""
    x = t(input)
    return call(imag_p, (x,)) if _kind(x) == "c" else zeros_like(x)


@primitive("Complex")
def complex_p(d, re, im):
    ctype = d.xp.complex64 if re.dtype.itemsize == 4 else d.xp.complex128
    try:
        return d.xp.add(re.astype(ctype), im.astype(ctype) * 1j)
    except ValueError:
        raise ShapeMismatchError(f"Complex: Incompatible shapes: {list(re.shape)} vs. "
                                 f"{list(im.shape)} [Op:Complex]") from None


@complex_p.defgrad
def _complex_grad(inputs, out, dy):
    return real(dy), imag(dy)


def complex(real, imag, name=None):
    """Builds ``real + 1j * imag`` from float32 (complex64) or float64 (complex128) parts."""
    re, im = operands(real, imag, "Complex")
    if re._value.dtype.kind != "f" or re._value.dtype.itemsize not in (4, 8):
        raise TypeError(f"The `real` and `imag` components have incorrect types: "
                        f"{re.dtype.name} {im.dtype.name}. They must be consistent, and "
                        "one of [tf.float32, tf.float64]")
    return call(complex_p, (re, im))


def angle(input, name=None):
    """Elementwise argument of a complex tensor (pi for negative reals, else 0)."""
    x = t(input)
    if _kind(x) == "c":
        return atan2(imag(x), real(x))
    _check("Angle", x, "f")
    return where(less(x, 0), _fill_like(x, 3.141592653589793), zeros_like(x))


def _fill_like(x, value):
    """A tensor shaped like ``x`` of its dtype filled with ``value``."""
    return multiply(ones_like(x), value)


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


# ---------------------------------------------------------------- sums
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


def reciprocal_no_nan(x, name=None):
    """1 / x with 0 where x == 0."""
    x = t(x)
    return divide_no_nan(ones_like(x), x)


# tf.X names (TF's top level); the tf.math table is MATH_NAMES (dlframe/math.py).
__all__ = [
    "abs", "acos", "acosh", "add", "add_n", "asin", "asinh", "atan", "atan2", "atanh",
    "cast", "complex", "cos", "cosh", "divide", "equal", "exp", "floor", "greater",
    "greater_equal", "less", "less_equal", "logical_and", "logical_not", "logical_or",
    "maximum", "minimum", "multiply", "negative", "not_equal", "ones_like", "pow",
    "realdiv", "round", "saturate_cast", "scalar_mul", "sigmoid", "sign", "sin", "sinh",
    "sqrt", "square", "subtract", "tan", "tanh", "truediv", "truncatediv", "truncatemod",
    "where", "zeros_like",
]
MATH_NAMES = [
    "abs", "acos", "acosh", "add", "add_n", "angle", "asin", "asinh", "atan", "atan2",
    "atanh", "ceil", "conj", "cos", "cosh", "divide", "divide_no_nan", "equal", "erf",
    "erfc", "exp", "expm1", "floor", "floordiv", "floormod", "greater", "greater_equal",
    "imag", "is_finite", "is_inf", "is_nan", "less", "less_equal", "log", "log1p",
    "log_sigmoid", "logical_and", "logical_not", "logical_or", "logical_xor", "maximum",
    "minimum", "mod", "multiply", "negative", "not_equal", "pow", "real", "reciprocal",
    "reciprocal_no_nan", "rint", "round", "rsqrt", "scalar_mul", "sigmoid", "sign", "sin",
    "sinh", "softplus", "softsign", "sqrt", "square", "squared_difference", "subtract",
    "tan", "tanh", "truediv",
]
