"""Elementwise math: the ``tf.math`` op set and its name tables.

The ops live in modules of one job each and are re-exported here (one object per
name, DESIGN.md §1): arithmetic in ``math_binary``, unary functions in
``math_unary``, complex parts in ``math_complex``; comparisons, logic, casts and
``where`` in ``dlframe.ops.logic``. Importing them in this order keeps the
primitives' registration order.
"""

import builtins

from dlframe.backends.base import np  # the bounds' host check
from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.errors import DTypeMismatchError, ShapeMismatchError
from dlframe.ops._util import (  # noqa: F401 - operands: also math.operands
    operands,
    t,
    unaliased,
)
from dlframe.ops.logic import (  # noqa: F401 - re-exported: one object per name
    _ALLOWED,
    _bcast,
    _binary,
    _check,
    _kind,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    cast,
    cast_p,
    equal,
    greater,
    greater_equal,
    invert,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
    ones_like,
    where,
    where_p,
    zeros_like,
)
from dlframe.ops.math_binary import (  # noqa: F401 - re-exported: one object per name
    _binary_prim,
    _conj_if_complex,
    _is_string,
    _sqdiff_fwd,
    _to_float_for_div,
    add,
    add_p,
    atan2,
    atan2_p,
    div_no_nan,
    div_no_nan_p,
    div_p,
    divide,
    divide_no_nan,
    floor_div,
    floordiv,
    floordiv_p,
    floormod,
    floormod_p,
    maximum,
    maximum_p,
    minimum,
    minimum_p,
    mod,
    mul_p,
    multiply,
    pow,
    pow_p,
    realdiv,
    squared_difference,
    squared_difference_p,
    sub_p,
    subtract,
    truediv,
    truncatediv,
    truncatediv_p,
    truncatemod,
    truncatemod_p,
)
from dlframe.ops.math_unary import (  # noqa: F401 - re-exported: one object per name
    _float_pred,
    _round_float,
    _sigmoid_fwd,
    _sigmoid_into,
    _softplus_fwd,
    _softsign_fwd,
    _special,
    _unary_prim,
    abs,
    abs_p,
    acos,
    acos_p,
    acosh,
    acosh_p,
    asin,
    asin_p,
    asinh,
    asinh_p,
    atan,
    atan_p,
    atanh,
    atanh_p,
    ceil,
    ceil_p,
    cos,
    cos_p,
    cosh,
    cosh_p,
    erf,
    erf_p,
    erfc,
    exp,
    exp_p,
    expm1,
    expm1_p,
    floor,
    floor_p,
    inv,
    is_finite,
    is_inf,
    is_nan,
    log,
    log1p,
    log1p_p,
    log_p,
    log_sigmoid,
    neg,
    neg_p,
    negative,
    reciprocal,
    reciprocal_p,
    rint,
    round,
    round_p,
    rsqrt,
    rsqrt_p,
    sigmoid,
    sigmoid_p,
    sign,
    sign_p,
    sin,
    sin_p,
    sinh,
    sinh_p,
    softplus,
    softplus_p,
    softsign,
    softsign_p,
    sqrt,
    sqrt_p,
    square,
    square_p,
    tan,
    tan_p,
    tanh,
    tanh_p,
)

# isort: split
# complex parts last: their primitives register after the unary ones
from dlframe.ops.math_complex import (  # noqa: F401 - re-exported: one object per name
    _fill_like,
    angle,
    complex,
    complex_p,
    conj,
    conj_p,
    imag,
    imag_p,
    real,
    real_p,
)


def saturate_cast(value, dtype, name=None):
    """Casts with clamping to the target type's range."""
    target = dtypes.as_dtype(dtype)
    value = t(value)
    if value.dtype.is_complex and not target.is_complex:
        value = real(value)   # TF clamps the real part, as the cast keeps only it
    if target.is_integer or target.is_floating:
        # Python numbers: comparing int32's bounds with a float16 one overflows
        lo, hi = _py_number(target.min), _py_number(target.max)
        if value.dtype.is_floating or value.dtype.is_integer:
            vmin, vmax = _py_number(value.dtype.min), _py_number(value.dtype.max)
            finite = value.dtype.is_floating   # TF maps +-inf to the finite range
            if lo > vmin or finite:
                value = maximum(value, _scalar(builtins.max(lo, vmin), value))
            if hi < vmax or finite:
                value = minimum(value, _scalar(builtins.min(hi, vmax), value))
    return cast(value, target)


def _py_number(bound):
    return bound.item() if hasattr(bound, "item") else bound


def _scalar(v, like):
    """Bound ``v`` in ``like``'s dtype, rounded toward zero where that dtype cannot
    hold it exactly (float32(2**31 - 1) would round up past int32's range)."""
    if like.dtype.is_integer:
        v = int(v)
    # checked on the host (a GPU bound read back would sync the device)
    host = np.asarray(v, dtype=like.dtype._np).reshape(1)
    if like.dtype.is_floating and builtins.abs(float(host[0])) > builtins.abs(v):
        host = (host.view(f"u{host.itemsize}") - 1).view(host.dtype)  # 1 ulp to zero
    return convert_to_tensor(host[0], dtype=like.dtype, device=like._device)


# ---------------------------------------------------------------- sums
def add_n(inputs, name=None):
    """Sums a list of same-shaped tensors (any iterable of them, as in TF: a
    generator, or a Tensor / NumPy array summed over its first axis)."""
    if not isinstance(inputs, (list, tuple)):
        inputs = list(inputs)
    if not inputs:
        raise ValueError("add_n: inputs must be a non-empty list of tensors")
    total = t(inputs[0])
    for i, x in enumerate(inputs[1:], 1):
        x = t(x)   # each input converted on its own, as TF: no promotion
        if x.dtype != total.dtype:   # TF: InvalidArgumentError eager, TypeError traced
            raise DTypeMismatchError(
                f"cannot compute AddN as input #{i}(zero-based) was expected to be a "
                f"{total.dtype.name} tensor but is a {x.dtype.name} tensor [Op:AddN]")
        if not x.shape.is_compatible_with(total.shape):
            raise ShapeMismatchError(
                f"AddN: Inputs to operation AddN must have the same size and shape. "
                f"Input 0: {total.shape} != input {i}: {x.shape} [Op:AddN]")
        total = add(total, x)
    return unaliased(total)


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
