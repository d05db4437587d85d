"""Elementwise binary arithmetic: add, subtract, multiply, divisions, remainders, pow,
maximum/minimum, squared difference and atan2.

Each primitive's gradient rule sits directly below its forward and is written in
dlframe ops (DESIGN.md §4). Some rules use unary ops (``negative``, ``floor``, ``log``)
and ``conj``; those modules build on this one, so they are bound late.
"""

import contextlib
import threading

from dlframe.backends.base import np
from dlframe.core import basic, dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from dlframe.ops._util import operands, probing_branch, stand_in
from dlframe.ops.logic import (
    _bcast,
    _binary,
    _check,
    _kind,
    cast,
    greater,
    greater_equal,
    less,
    less_equal,
    not_equal,
    ones_like,
    where,
    zeros_like,
)


def _unary():
    from dlframe.ops import math_unary  # math_unary builds on this module: bind late
    return math_unary


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
    if _kind(x) != "c":
        return x
    from dlframe.ops import math_complex  # builds on this module: bind late
    return math_complex.conj(x)


# ---------------------------------------------------------------- arithmetic
add_p = basic.add_p


def _python_scalar_dtype(x):
    """The dtype TF gives a Python scalar converted on its own (None for others)."""
    if isinstance(x, np.generic):   # (np.float64 is a float: NumPy keeps its dtype)
        return None
    if isinstance(x, bool):
        return dtypes.bool
    if isinstance(x, int):
        return dtypes.int32 if -2**31 <= x < 2**31 else dtypes.int64
    if isinstance(x, float):
        return dtypes.float32
    if isinstance(x, complex):
        return dtypes.complex128
    return None


def first_operand_check(x, y, op):
    """TF's conversion of the first operand of ``tf.add``/``tf.matmul``: a NumPy
    value, a list or a Python scalar is converted on its own (NumPy keeps its
    dtype, a list or scalar takes its default: int32, float32, bool, complex128)
    and a second operand Tensor of another dtype is refused (``tf.add(2, f32)``
    raises as in TF). The reflected operators (``2 + t``, ``np_array + t``) and
    ``tf.multiply``/``tf.subtract`` follow ``y``'s dtype instead.

    Raises:
      InvalidArgumentError: (also a TypeError) when the dtypes differ.
    """
    if not isinstance(y, Tensor):
        return
    got = _python_scalar_dtype(x)
    if got is None:
        if not (isinstance(x, (list, tuple)) or isinstance(x, (np.ndarray, np.generic))):
            return
        if isinstance(x, (list, tuple)) or x.dtype.kind not in "biufc":
            got = convert_to_tensor(x).dtype
        else:
            got = dtypes.from_numpy(x.dtype)   # (NumPy keeps its dtype)
    want = y.dtype   # (an autocast variable's read dtype in a mixed call)
    if got != want and not (got == dtypes.string or want == dtypes.string):
        raise DTypeMismatchError(
            f"cannot compute {op} as input #1(zero-based) was expected to be a "
            f"{got.name} tensor but is a {want.name} tensor [Op:{op}]")


def _add(x, y):
    """``x + y`` with ``x`` converted to ``y``'s dtype (the reflected operator)."""
    if _is_string(x) or _is_string(y):
        from dlframe.ops import strings
        return strings.add(x, y)
    return _binary(add_p, x, y, "fciu")


def add(x, y, name=None):
    """Returns x + y elementwise (broadcasting); string tensors are concatenated.

    Args:
      x: a Tensor or value; a NumPy array or list keeps its own dtype (TF).
      y: a Tensor or value of ``x``'s dtype.
      name: unused (TF's op name).

    Raises:
      InvalidArgumentError: for operands of different dtypes.
    """
    if type(x) is not Tensor and not isinstance(x, Tensor):
        first_operand_check(x, y, "AddV2")
    return _add(x, y)


def _is_string(v):
    if isinstance(v, Tensor):
        return v.dtype == dtypes.string
    return isinstance(v, (str, bytes))


sub_p, subtract = _binary_prim("Sub", lambda xp, x, y: xp.subtract(x, y), "fciu",
                               "Returns x - y elementwise.", np.subtract)


@sub_p.defgrad
def _sub_grad(inputs, out, dy):
    return dy, _unary().negative(dy)


mul_p, multiply = _binary_prim("Mul", lambda xp, x, y: xp.multiply(x, y), "fciub",
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
    # d(x/y)/dy = -(x/y)/y
    return gx, _unary().negative(multiply(gx, _conj_if_complex(out)))


_DIVISIBLE = ("{tf.uint8, tf.int8, tf.uint16, tf.int16, tf.uint32, tf.int32, tf.uint64, "
              "tf.int64, tf.bfloat16, tf.float16, tf.float32, tf.float64, tf.complex64, "
              "tf.complex128}")


def _check_divisible(x, where):
    """TF's TypeError for a true division of a bool (or string) tensor."""
    if _kind(x) not in "fciu":
        raise TypeError(f"Invalid dtype {x.dtype!r} in {where}. Expected one of "
                        f"{_DIVISIBLE}.")


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
    _check_divisible(x, "__truediv__")
    if _kind(x) in "iu":
        x, y = _to_float_for_div(x), _to_float_for_div(y)
    _check("RealDiv", x, "fc")
    return call(div_p, (x, y))


def truediv(x, y, name=None):
    """Python-3 division of operands of one dtype (TF's ``tf.math.truediv``):
    a non-Tensor ``x`` keeps its own dtype, and integers divide in floating point.

    Args:
      x: a numeric Tensor or value.
      y: a numeric Tensor or value of ``x``'s dtype.
      name: unused (TF's op name).

    Raises:
      TypeError: when ``x`` and ``y`` have different dtypes.
    """
    if not isinstance(x, Tensor):
        x = convert_to_tensor(x)
    if isinstance(y, Tensor) and x.dtype != y.dtype:
        raise TypeError("`x` and `y` must have the same dtype, got "
                        f"tf.{x.dtype.name} != tf.{y.dtype.name}.")
    return divide(x, y)


@primitive("DivNoNan")
def div_no_nan_p(d, x, y):
    xp = d.xp
    safe = xp.where(y == 0, xp.ones_like(y), y)
    return xp.where(y == 0, xp.zeros((), dtype=x.dtype), x / safe).astype(x.dtype, copy=False)


@div_no_nan_p.defgrad
def _div_no_nan_grad(inputs, out, dy):
    x, y = (_conj_if_complex(v) for v in inputs)   # TF's complex convention, as divide
    gx = divide_no_nan(dy, y)
    return gx, _unary().negative(divide_no_nan(multiply(gx, x), y))


def divide_no_nan(x, y, name=None):
    """x / y, with 0 wherever y == 0.

    Args:
      x: a numeric Tensor or value.
      y: a numeric Tensor or value of the same dtype.
      name: unused (TF compatibility).

    Returns:
      The quotient; integer inputs are converted to floating point first, as in
      ``divide`` (int8/int16/uint8/uint16 give float32, wider integers float64).
    """
    x, y = operands(x, y, "DivNoNan")
    _check_divisible(x, "tf.math.divide_no_nan")
    if _kind(x) in "iu":
        x, y = _to_float_for_div(x), _to_float_for_div(y)
    return _binary(div_no_nan_p, x, y, "fc")


div_no_nan = divide_no_nan


class _IntDivision(threading.local):
    checked = True   # False: a shape-only run (a Keras symbolic build), see below


INT_DIVISION = _IntDivision()


@contextlib.contextmanager
def unchecked_int_division():
    """Integer division and modulo by zero give 0 instead of raising: for runs
    that only infer shapes (Keras builds ``i % 0`` as TF; the call raises)."""
    checked, INT_DIVISION.checked = INT_DIVISION.checked, False
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            yield
    finally:
        INT_DIVISION.checked = checked   # nested builds (a model in a model)


def _check_int_divisor(xp, x, y, op):
    """``y`` after TF's check of an integer division or modulo by zero (floats give
    inf/NaN); a trace's placeholder values divide by 1 instead (a stand-in result:
    the run checks its real divisors)."""
    if x.dtype.kind in "iu" and INT_DIVISION.checked and xp.any(y == 0):
        if not probing_branch():
            raise InvalidArgumentError(f"{op}: Integer division by zero [Op:{op}]")
        stand_in()
        return xp.where(y == 0, xp.ones_like(y), y)
    return y


@primitive("FloorDiv")
def floordiv_p(d, x, y):
    y = _check_int_divisor(d.xp, x, y, "FloorDiv")
    if x.dtype.kind in "iu":
        return d.xp.floor_divide(x, y)
    # TF floors the quotient: 1.0 // 0.1 is 10 (NumPy's floor_divide gives 9) and
    # inf // 2 is inf (NumPy: nan)
    with np.errstate(divide="ignore", invalid="ignore"):   # CuPy has no errstate
        return d.xp.floor(d.xp.true_divide(x, y)).astype(x.dtype, copy=False)


def floordiv(x, y, name=None):
    """Floor division x // y (integer or floating; not differentiable)."""
    return _binary(floordiv_p, x, y, "fiu")


floor_div = floordiv


@primitive("TruncateDiv")
def truncatediv_p(d, x, y):
    xp = d.xp
    y = _check_int_divisor(xp, x, y, "TruncateDiv")
    if x.dtype.kind in "iu":
        q = xp.floor_divide(x, y)
        # floor and truncation differ when the signs differ and the division is inexact
        return q + ((xp.remainder(x, y) != 0) & ((x < 0) != (y < 0))).astype(x.dtype)
    return xp.trunc(x / y).astype(x.dtype, copy=False)


def truncatediv(x, y, name=None):
    """Division rounding toward zero (C semantics; not differentiable)."""
    return _binary(truncatediv_p, x, y, "fiu")


@primitive("FloorMod")
def floormod_p(d, x, y):
    y = _check_int_divisor(d.xp, x, y, "FloorMod")
    return d.xp.mod(x, y)


@floormod_p.defgrad
def _floormod_grad(inputs, out, dy):
    x, y = inputs
    u = _unary()
    return dy, u.negative(multiply(dy, u.floor(divide(x, y))))


def floormod(x, y, name=None):
    """Python-style remainder x % y (sign of the divisor)."""
    return _binary(floormod_p, x, y, "fiu")


mod = floormod


@primitive("TruncateMod")
def truncatemod_p(d, x, y):
    y = _check_int_divisor(d.xp, x, y, "TruncateMod")
    return d.xp.fmod(x, y)


@truncatemod_p.defgrad
def _truncatemod_grad(inputs, out, dy):
    x, y = inputs
    q = divide(x, y)
    u = _unary()
    return dy, u.negative(multiply(dy, where(less(q, 0), u.ceil(q), u.floor(q))))


def truncatemod(x, y, name=None):
    """C-style remainder x - y * trunc(x / y) (sign of the dividend)."""
    return _binary(truncatemod_p, x, y, "fiu")


def _pow_fwd(xp, x, y):
    if x.dtype.kind in "iu" and xp.any(y < 0):
        if not probing_branch():
            raise InvalidArgumentError("Pow: Integers to negative integer powers are "
                                       "not allowed [Op:Pow]")
        y = stand_in(xp.maximum(y, 0))   # a trace's placeholders: the run checks
    return xp.power(x, y)


pow_p = primitive("Pow")(_bcast("Pow", _pow_fwd))   # (TF's shape error, not NumPy's)


@pow_p.defgrad
def _pow_grad(inputs, out, dy):
    x, y = inputs
    if _kind(x) == "c":   # TF's convention: the conjugated derivatives; log(0) -> 0
        x, y, out = (_conj_if_complex(v) for v in (x, y, out))
        gx = multiply(dy, multiply(y, pow(x, subtract(y, 1))))
        nonzero = not_equal(x, 0)
        safe_log = where(nonzero, _unary().log(where(nonzero, x, ones_like(x))),
                         zeros_like(x))
        return gx, multiply(dy, multiply(out, safe_log))
    gx = multiply(dy, multiply(y, pow(x, subtract(y, 1))))
    positive = greater(x, 0)
    safe_log = where(positive, _unary().log(where(positive, x, ones_like(x))),
                     zeros_like(x))
    gy = multiply(dy, multiply(out, safe_log))
    return gx, gy


def pow(x, y, name=None):
    """x ** y elementwise (integer bases with negative integer exponents raise).

    As in TF, unsigned integers have no Pow kernel (InvalidArgumentError)."""
    return _binary(pow_p, x, y, "fci")


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
    return diff * (xp.conj(diff) if diff.dtype.kind == "c" else diff)


squared_difference_p, _squared_difference = _binary_prim(
    "SquaredDifference", _sqdiff_fwd, "fciu", "")


def squared_difference(x, y, name=None):
    """(x - y) * conj(x - y) elementwise (the squared difference; |x - y|^2 for
    complex).

    Raises:
      InvalidArgumentError: for the integer dtypes TF has no kernel for (only
        int32 and int64).
    """
    for v in (x, y):
        if isinstance(v, Tensor) and _kind(v) in "iu" and \
                v.dtype not in (dtypes.int32, dtypes.int64):
            raise InvalidArgumentError(
                f"SquaredDifference: Value for attr 'T' of {v.dtype.name} is not in the "
                "list of allowed values: bfloat16, half, float, double, int32, int64, "
                "complex64, complex128 [Op:SquaredDifference]")
    return _squared_difference(x, y)


@squared_difference_p.defgrad
def _sqdiff_grad(inputs, out, dy):
    x, y = inputs
    g = multiply(dy, multiply(2.0, subtract(x, y)))
    return g, _unary().negative(g)


atan2_p = primitive("Atan2")(_bcast("Atan2", lambda xp, y, x: xp.arctan2(y, x)))


def atan2(y, x, name=None):
    """Elementwise arctangent of y/x, using the signs of both for the quadrant."""
    return _binary(atan2_p, y, x, "f")


@atan2_p.defgrad
def _atan2_grad(inputs, out, dy):
    y, x = inputs
    u = _unary()
    denom = add(u.square(x), u.square(y))
    return multiply(dy, divide(x, denom)), multiply(dy, u.negative(divide(y, denom)))
