"""NumPy-style functions on tensors: the one implementation behind Keras 3's
``keras.ops`` and ``tf.experimental.numpy``.

Both APIs take NumPy argument names (``x1, x2``, ``axis``, ``keepdims``) and promote
mixed dtypes instead of raising as TF ops do. They differ only in the promotion rule:

* Keras 3 rules (the default): a JAX-like lattice where Python scalars are *weak*
  (``int32 tensor + 2`` stays int32, ``int32 tensor + 1.5`` is floatx), integer
  tensors mixed with float tensors take the float type, and integer math that must
  produce a float (``divide``, ``sqrt``, ``mean``) gives floatx.
* NumPy rules (inside ``numpy_rules()``, used by ``tf.experimental.numpy``): NumPy 2
  promotion (``int32 + float32`` is float64) and NumPy's float64/int64 defaults.

The promotion machinery lives in ``numpy_api_promote`` (re-exported here); this
module holds the elementwise functions and the other ``numpy_api_*`` modules hold reductions, shapes, linear algebra, nn, core and image.
Everything is written with dlframe ops, so it is differentiable and traceable.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.ops import array_misc as _misc
from dlframe.ops import bitwise as _bits
from dlframe.ops import clip_ops as _clip
from dlframe.ops import math as _m
from dlframe.ops import reduction as _r
from dlframe.ops import special_math as _sf
from dlframe.ops.numpy_api_promote import (  # noqa: F401 - re-exported
    as_tensor,
    default_float,
    default_int,
    dtype_attr,
    dtype_kind,
    dtype_result_type,
    float_tensor,
    keras_dtype,
    numpy_rules,
    promote,
    result_type,
    scalar,
    to_float,
    using_numpy_rules,
)


# ---------------------------------------------------------------- factories
def _binary(name, op, floating=False, doc=""):
    def fn(x1, x2):
        a, b = promote(x1, x2)
        if floating:
            a, b = to_float(a), to_float(b)
        return op(a, b)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{doc}\n\n    Args:\n      x1: first input tensor or value.\n"
                  f"      x2: second input, broadcast against ``x1``.\n\n    Returns:\n"
                  f"      The elementwise result in the promoted dtype.\n    ")
    return fn


def _unary(name, op, floating=True, doc=""):
    def fn(x):
        x = as_tensor(x)
        return op(to_float(x) if floating else x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{doc}\n\n    Args:\n      x: input tensor or value.\n\n"
                  f"    Returns:\n      The elementwise result"
                  f"{' (integers are promoted to float)' if floating else ''}.\n    ")
    return fn


# ---------------------------------------------------------------- binary arithmetic
def _add_or(a, b):
    """``a + b``; two bool tensors under NumPy rules (tnp) give ``a or b``."""
    if dtype_kind(a) == "b" and using_numpy_rules():
        return _m.logical_or(a, b)
    return _m.add(a, b)


add = _binary("add", _add_or, doc="Elementwise ``x1 + x2``.")
subtract = _binary("subtract", _m.subtract, doc="Elementwise ``x1 - x2``.")
multiply = _binary("multiply", _m.multiply, doc="Elementwise ``x1 * x2``.")
divide = _binary("divide", _m.divide, True, "Elementwise true division ``x1 / x2``.")
true_divide = divide
divide_no_nan = _binary("divide_no_nan", _m.divide_no_nan, True,
                        "``x1 / x2`` with 0 wherever ``x2`` is 0.")
floor_divide = _binary("floor_divide", _m.floordiv, doc="Elementwise ``x1 // x2``.")
mod = _binary("mod", _m.floormod, doc="Elementwise remainder with the divisor's sign.")
remainder = mod
fmod = _binary("fmod", _m.truncatemod, doc="C-style remainder (sign of ``x1``).")
power = _binary("power", lambda a, b: _m.cast(_m.pow(_m.cast(a, "int64"), _m.cast(
    b, "int64")), a.dtype) if dtype_kind(a) == "u" else _m.pow(a, b),
    doc="Elementwise ``x1 ** x2``.")
maximum = _binary("maximum", _m.maximum, doc="Elementwise maximum.")
minimum = _binary("minimum", _m.minimum, doc="Elementwise minimum.")
fmax, fmin = maximum, minimum
arctan2 = _binary("arctan2", _m.atan2, True, "Quadrant-aware arctangent of x1 / x2.")


def _hypot(a, b):
    return _m.sqrt(_m.add(_m.square(a), _m.square(b)))


def _logaddexp(a, b):
    big = _m.maximum(a, b)
    return _m.add(big, _m.log1p(_m.exp(_m.negative(_m.abs(_m.subtract(a, b))))))


logaddexp2 = _binary("logaddexp2", lambda a, b: _m.divide(
    _logaddexp(_m.multiply(a, float(np.log(2.0))), _m.multiply(b, float(np.log(2.0)))),
    float(np.log(2.0))), True, "Elementwise ``log2(2**x1 + 2**x2)``, computed stably.")
hypot = _binary("hypot", _hypot, True, "Elementwise ``sqrt(x1**2 + x2**2)``.")
logaddexp = _binary("logaddexp", _logaddexp, True,
                    "Elementwise ``log(exp(x1) + exp(x2))``, computed stably.")


def _heaviside(a, b):
    zero = _m.zeros_like(a)
    return _m.where(_m.less(a, zero), zero,
                    _m.where(_m.greater(a, zero), _m.ones_like(a), b))


heaviside = _binary("heaviside", _heaviside, True, "Heaviside step (``x2`` at 0).")
equal = _binary("equal", _m.equal, doc="Elementwise ``x1 == x2`` (bool).")
not_equal = _binary("not_equal", _m.not_equal, doc="Elementwise ``x1 != x2`` (bool).")
greater = _binary("greater", _m.greater, doc="Elementwise ``x1 > x2`` (bool).")
greater_equal = _binary("greater_equal", _m.greater_equal, doc="Elementwise ``x1 >= x2``.")
less = _binary("less", _m.less, doc="Elementwise ``x1 < x2`` (bool).")
less_equal = _binary("less_equal", _m.less_equal, doc="Elementwise ``x1 <= x2`` (bool).")
bitwise_and = _binary("bitwise_and", _m.bitwise_and, doc="Elementwise bitwise AND.")
bitwise_or = _binary("bitwise_or", _m.bitwise_or, doc="Elementwise bitwise OR.")
bitwise_xor = _binary("bitwise_xor", _m.bitwise_xor, doc="Elementwise bitwise XOR.")
left_shift = _binary("left_shift", _bits.left_shift, doc="Elementwise ``x1 << x2``.")
right_shift = _binary("right_shift", _bits.right_shift, doc="Elementwise ``x1 >> x2``.")
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def _as_bool(x):
    x = as_tensor(x)
    return x if dtype_kind(x) == "b" else _m.not_equal(x, _m.zeros_like(x))


def logical_and(x1, x2):
    """Elementwise truth-value AND (non-bool inputs are compared with 0)."""
    return _m.logical_and(_as_bool(x1), _as_bool(x2))


def logical_or(x1, x2):
    """Elementwise truth-value OR (non-bool inputs are compared with 0)."""
    return _m.logical_or(_as_bool(x1), _as_bool(x2))


def logical_xor(x1, x2):
    """Elementwise truth-value XOR (non-bool inputs are compared with 0)."""
    return _m.logical_xor(_as_bool(x1), _as_bool(x2))


def logical_not(x):
    """Elementwise truth-value NOT (non-bool inputs are compared with 0)."""
    return _m.logical_not(_as_bool(x))


def bitwise_invert(x):
    """Elementwise bitwise NOT (logical NOT for bool)."""
    x = as_tensor(x)
    return _m.logical_not(x) if dtype_kind(x) == "b" else _m.invert(x)


bitwise_not = bitwise_invert


# ---------------------------------------------------------------- unary math
sqrt = _unary("sqrt", _m.sqrt, doc="Elementwise square root.")
rsqrt = _unary("rsqrt", _m.rsqrt, doc="Elementwise ``1 / sqrt(x)``.")
exp = _unary("exp", _m.exp, doc="Elementwise exponential.")
expm1 = _unary("expm1", _m.expm1, doc="Elementwise ``exp(x) - 1``.")
log = _unary("log", _m.log, doc="Elementwise natural logarithm.")
log1p = _unary("log1p", _m.log1p, doc="Elementwise ``log(1 + x)``.")
sin = _unary("sin", _m.sin, doc="Elementwise sine.")
cos = _unary("cos", _m.cos, doc="Elementwise cosine.")
tan = _unary("tan", _m.tan, doc="Elementwise tangent.")
arcsin = _unary("arcsin", _m.asin, doc="Elementwise inverse sine.")
arccos = _unary("arccos", _m.acos, doc="Elementwise inverse cosine.")
arctan = _unary("arctan", _m.atan, doc="Elementwise inverse tangent.")
sinh = _unary("sinh", _m.sinh, doc="Elementwise hyperbolic sine.")
cosh = _unary("cosh", _m.cosh, doc="Elementwise hyperbolic cosine.")
tanh = _unary("tanh", _m.tanh, doc="Elementwise hyperbolic tangent.")
arcsinh = _unary("arcsinh", _m.asinh, doc="Elementwise inverse hyperbolic sine.")
arccosh = _unary("arccosh", _m.acosh, doc="Elementwise inverse hyperbolic cosine.")
arctanh = _unary("arctanh", _m.atanh, doc="Elementwise inverse hyperbolic tangent.")
erf = _unary("erf", _m.erf, doc="Elementwise Gauss error function.")
erfc = _unary("erfc", _m.erfc, doc="Elementwise complementary error function.")
erfinv = _unary("erfinv", _sf.erfinv, doc="Elementwise inverse error function.")
floor = _unary("floor", _m.floor, doc="Elementwise floor (integers give floats).")
ceil = _unary("ceil", _m.ceil, doc="Elementwise ceiling (integers give floats).")
reciprocal = _unary("reciprocal", _m.reciprocal, doc="Elementwise ``1 / x``.")
negative = _unary("negative", _m.negative, False, "Elementwise ``-x``.")
# bool and unsigned inputs, which TF's kernels refuse, get Keras 3's results
absolute = _unary("absolute", lambda x: x if dtype_kind(x) in "bu" else _m.abs(x),
                  False, "Elementwise absolute value.")
abs = absolute
fabs = _unary("fabs", _m.abs, doc="Elementwise absolute value as a float.")
square = _unary("square", lambda x: _m.square(
    _m.cast(x, "int32") if dtype_kind(x) == "b" and not using_numpy_rules() else x),
    False, "Elementwise ``x * x`` (bool gives int32).")
sign = _unary("sign", lambda x: _m.cast(_m.greater(x, 0), x.dtype)
              if dtype_kind(x) == "u" else _m.sign(x), False,
              "Elementwise sign (-1, 0 or 1).")
conjugate = _unary("conjugate", _m.conj, False, "Elementwise complex conjugate.")
conj = conjugate
real = _unary("real", _m.real, False, "Real part.")
imag = _unary("imag", _m.imag, False, "Imaginary part (zeros for real inputs).")
angle = _unary("angle", _m.angle, doc="Elementwise complex argument.")


def _log_base(base):
    scale = 1.0 / float(np.log(base))
    return lambda x: _m.multiply(_m.log(x), scalar(scale, x))


log2 = _unary("log2", _log_base(2.0), doc="Elementwise base-2 logarithm.")
log10 = _unary("log10", _log_base(10.0), doc="Elementwise base-10 logarithm.")
exp2 = _unary("exp2", lambda x: _m.pow(scalar(2.0, x), x),
              doc="Elementwise ``2 ** x``.")
cbrt = _unary("cbrt", lambda x: _m.multiply(_m.sign(x), _m.pow(_m.abs(x), 1.0 / 3.0)),
              doc="Elementwise real cube root.")
trunc = _unary("trunc", lambda x: _m.where(_m.less(x, 0), _m.ceil(x), _m.floor(x)),
               False, "Elementwise rounding toward zero (integers pass through).")
deg2rad = _unary("deg2rad", lambda x: _m.multiply(x, scalar(np.pi / 180, x)),
                 doc="Degrees to radians.")
rad2deg = _unary("rad2deg", lambda x: _m.multiply(x, scalar(180 / np.pi, x)),
                 doc="Radians to degrees.")
radians, degrees = deg2rad, rad2deg


def _sinc(x):
    pix = _m.multiply(x, scalar(np.pi, x))
    zero = _m.equal(x, _m.zeros_like(x))
    safe = _m.where(zero, _m.ones_like(x), pix)
    return _m.where(zero, _m.ones_like(x), _m.divide(_m.sin(safe), safe))


sinc = _unary("sinc", _sinc, doc="Normalized sinc ``sin(pi x) / (pi x)``.")


def _trunc_int(x):
    return x if dtype_kind(x) in "iub" else trunc(x)


def fix(x):
    """Rounds toward zero (NumPy's ``fix``)."""
    return _trunc_int(as_tensor(x))


def positive(x):
    """Elementwise ``+x``."""
    return as_tensor(x)


def round(x, decimals=0):
    """Rounds half to even to ``decimals`` places (NumPy's ``round``).

    Args:
      x: input tensor.
      decimals: number of decimal places; may be negative.
    """
    x = as_tensor(x)
    if not isinstance(decimals, int):
        raise TypeError(f"round: `decimals` must be an int, got {decimals!r}")
    if decimals == 0 or dtype_kind(x) in "iub" and decimals > 0:
        return _m.round(x)
    if dtype_kind(x) in "iu":
        factor = 10 ** (-decimals)
        xf = _m.cast(x, default_float())
        return _m.cast(_m.multiply(_m.round(_m.divide(xf, float(factor))), float(factor)),
                       x.dtype)
    factor = scalar(10.0 ** decimals, x)
    return _m.divide(_m.round(_m.multiply(x, factor)), factor)


around = round


def _float_test(name, fn, int_value):
    def test(x):
        x = as_tensor(x)
        if dtype_kind(x) not in "fc":
            return _m.zeros_like(x, dtype=dtypes.bool) if not int_value else \
                _m.ones_like(x, dtype=dtypes.bool)
        return fn(x)
    test.__name__ = test.__qualname__ = name
    test.__doc__ = (f"Elementwise ``{name}`` test (bool result; integers give "
                    f"{bool(int_value)}).\n\n    Args:\n      x: input tensor.\n    ")
    return test


isnan = _float_test("isnan", _m.is_nan, False)
isinf = _float_test("isinf", _m.is_inf, False)
isfinite = _float_test("isfinite", _m.is_finite, True)
isposinf = _float_test("isposinf", lambda x: _m.logical_and(
    _m.is_inf(x), _m.greater(x, 0)), False)
isneginf = _float_test("isneginf", lambda x: _m.logical_and(
    _m.is_inf(x), _m.less(x, 0)), False)


def signbit(x):
    """Elementwise test of the sign bit (True for negative values and -0.0)."""
    x = as_tensor(x)
    if dtype_kind(x) in "ub":
        return _m.zeros_like(x, dtype=dtypes.bool)
    if dtype_kind(x) == "i":
        return _m.less(x, 0)
    bits = f"int{8 * x._value.dtype.itemsize}"   # the sign bit is the int's sign
    return _m.less(_misc.bitcast(x, bits), 0)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN by ``nan`` and infinities by ``posinf``/``neginf`` (dtype limits
    by default).

    Args:
      x: input tensor.
      nan: value for NaN.
      posinf: value for +inf (default: the dtype's max).
      neginf: value for -inf (default: the dtype's lowest).
    """
    x = as_tensor(x)
    if dtype_kind(x) not in "f":
        return x
    posinf = float(x.dtype.max) if posinf is None else posinf
    neginf = float(x.dtype.min) if neginf is None else neginf
    fill = lambda v: _m.multiply(_m.ones_like(x), scalar(v, x))
    x = _m.where(_m.is_nan(x), fill(nan), x)
    x = _m.where(_m.logical_and(_m.is_inf(x), _m.greater(x, 0)), fill(posinf), x)
    return _m.where(_m.logical_and(_m.is_inf(x), _m.less(x, 0)), fill(neginf), x)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Elementwise ``|x1 - x2| <= atol + rtol * |x2|`` (bool).

    Args:
      x1: first input.
      x2: second input.
      rtol: relative tolerance.
      atol: absolute tolerance.
      equal_nan: whether NaNs compare equal.
    """
    a, b = promote(x1, x2)
    if dtype_kind(a) not in "fc":
        return _m.equal(a, b)
    diff = _m.abs(_m.subtract(a, b))
    close = _m.less_equal(diff, _m.add(scalar(atol, diff),
                                       _m.multiply(scalar(rtol, diff), _m.abs(b))))
    close = _m.logical_or(close, _m.equal(a, b))   # equal infinities
    if equal_nan:
        close = _m.logical_or(close, _m.logical_and(_m.is_nan(a), _m.is_nan(b)))
    return close


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether all elements are ``isclose`` (a bool scalar tensor).

    Args:
      x1: first input.
      x2: second input.
      rtol: relative tolerance.
      atol: absolute tolerance.
      equal_nan: whether NaNs compare equal.
    """
    return _r.reduce_all(isclose(x1, x2, rtol, atol, equal_nan))


def clip(x, x_min, x_max):
    """Clips ``x`` elementwise to ``[x_min, x_max]`` (bounds may promote the dtype).

    Args:
      x: input tensor.
      x_min: lower bound (scalar or broadcastable tensor).
      x_max: upper bound.
    """
    x = as_tensor(x)
    if dtype_kind(x) == "b":
        x = _m.cast(x, dtypes.int32)
    x, lo, hi = promote(x, x_min, x_max)
    return _m.minimum(_m.maximum(x, lo), hi)


def _keras_operand(x):
    """A Python number as the tensor Keras converts it to (int32 / float32, not a
    weakly typed scalar): ``keras.ops.mod(int8_x, 2)`` is int32 (Keras 3 on TF)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return x
    return as_tensor(x, dtypes.int32 if isinstance(x, int) else dtypes.float32)


def keras_mod(x1, x2):
    """``keras.ops.mod``: the remainder with the divisor's sign; Python numbers
    count as int32 / float32 tensors in the promotion (Keras 3 on TF).

    Args:
      x1: dividend tensor or value.
      x2: divisor tensor or value.
    """
    return mod(_keras_operand(x1), _keras_operand(x2))


def keras_clip(x, x_min, x_max):
    """``keras.ops.clip``: ``tf.clip_by_value`` of ``x`` (bool cast to int32); the
    bounds take ``x``'s dtype, so float bounds on an int tensor raise (Keras 3 on
    TF), where ``tnp.clip`` promotes.

    Args:
      x: input tensor.
      x_min: lower bound (scalar or broadcastable tensor).
      x_max: upper bound.

    Raises:
      TypeError: for bounds that do not convert to ``x``'s dtype.
    """
    x = as_tensor(x)
    if dtype_kind(x) == "b":
        x = _m.cast(x, dtypes.int32)
    return _clip.clip_by_value(x, x_min, x_max)


__all__ = [
    "abs", "absolute", "add", "allclose", "angle", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "around", "bitwise_and",
    "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "cbrt", "ceil", "clip", "conj", "conjugate",
    "cos", "cosh", "deg2rad", "degrees", "divide", "divide_no_nan", "equal", "erf",
    "erfc", "erfinv", "exp", "exp2", "expm1", "fabs", "fix", "floor", "floor_divide",
    "fmax", "fmin", "fmod", "greater", "greater_equal", "heaviside", "hypot", "imag",
    "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "left_shift",
    "less", "less_equal", "log", "log1p", "log2", "log10", "logaddexp", "logaddexp2",
    "logical_and", "logical_not", "logical_or", "logical_xor", "maximum", "minimum",
    "mod", "multiply", "nan_to_num", "negative", "not_equal", "positive", "power",
    "rad2deg", "radians", "real", "reciprocal", "remainder", "right_shift", "round",
    "rsqrt", "sign", "signbit", "sin", "sinc", "sinh", "sqrt", "square", "subtract",
    "tan", "tanh", "true_divide", "trunc",
]
