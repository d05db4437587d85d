"""Elementwise unary math: sign and magnitude, powers and roots, exp/log, trig and
hyperbolic functions, sigmoid/softplus/softsign, erf, rounding and float tests.

Each primitive's gradient rule sits directly below its forward and is written in
dlframe ops (DESIGN.md §4); the rules build on ``dlframe.ops.math_binary``.
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops import unary_grads as _ug
from dlframe.ops._util import t
from dlframe.ops.logic import _check, _kind, cast, zeros_like
from dlframe.ops.math_binary import (
    _conj_if_complex,
    add,
    divide,
    multiply,
    subtract,
)


def _conjugated(grad):
    """A holomorphic rule ``dy * f'(x)`` as TF's complex convention ``dy *
    conj(f'(x))``: ``conj(rule(conj(dy)))``, the rule being linear in ``dy``."""
    def rule(inputs, out, dy):
        if _kind(inputs[0]) != "c":
            return grad(inputs, out, dy)
        return _conj_if_complex(grad(inputs, out, _conj_if_complex(dy)))
    return rule


def _unary_prim(name, fn, grad=None, kinds="fc", doc=None, into=None, holomorphic=True):
    """A unary primitive on ``fn(xp, x)`` and its public op accepting dtype ``kinds``;
    ``into`` is the ufunc computing ``fn`` into a given buffer (Primitive.into).
    ``grad`` is written as ``dy * f'(x)``; for complex inputs it is conjugated (TF's
    convention) unless ``holomorphic`` is False (rules handling complex themselves)."""
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
        p.defgrad(_conjugated(grad) if holomorphic and "c" in kinds else grad)

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
                         "Elementwise |x| (complex inputs give their real magnitude).",
                         holomorphic=False)
sign_p, sign = _unary_prim("Sign", lambda xp, x: xp.sign(x), lambda i, o, dy: zeros_like(dy),
                           "fci", "Elementwise -1, 0 or 1 (x / |x| for complex).",
                           holomorphic=False)


def _square_grad(inputs, out, dy):
    x = inputs[0]
    return multiply(dy, multiply(_conj_if_complex(x), 2 if _kind(x) in "iu" else 2.0))


square_p, square = _unary_prim("Square", lambda xp, x: xp.square(x), _square_grad, "fciu",
                               "Elementwise x * x.", np.square, holomorphic=False)
# (TF's SqrtGrad/RsqrtGrad/ReciprocalGrad: 0 where dy == 0, see unary_grads)
sqrt_p, sqrt = _unary_prim("Sqrt", lambda xp, x: xp.sqrt(x),
                           lambda i, o, dy: _ug.sqrt_grad(o, dy), into=np.sqrt)
rsqrt_p, rsqrt = _unary_prim("Rsqrt", lambda xp, x: 1 / xp.sqrt(x),
                             lambda i, o, dy: _ug.rsqrt_grad(o, dy),
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
    "Reciprocal", lambda xp, x: 1 / x, lambda i, o, dy: _ug.reciprocal_grad(o, dy),
    doc="Elementwise 1 / x.")
inv = reciprocal
sin_p, sin = _unary_prim("Sin", lambda xp, x: xp.sin(x),
                         lambda i, o, dy: multiply(dy, cos(i[0])), into=np.sin)
cos_p, cos = _unary_prim("Cos", lambda xp, x: xp.cos(x),
                         lambda i, o, dy: multiply(dy, negative(sin(i[0]))), into=np.cos)
tan_p, tan = _unary_prim("Tan", lambda xp, x: xp.tan(x),
                         lambda i, o, dy: multiply(dy, add(square(o), 1.0)))
asin_p, asin = _unary_prim("Asin", lambda xp, x: xp.arcsin(x),
                           lambda i, o, dy: multiply(dy, rsqrt(subtract(1.0, square(i[0])))))
acos_p, acos = _unary_prim("Acos", lambda xp, x: xp.arccos(x),
                           lambda i, o, dy: negative(multiply(
                               dy, rsqrt(subtract(1.0, square(i[0]))))))
atan_p, atan = _unary_prim("Atan", lambda xp, x: xp.arctan(x),
                           lambda i, o, dy: divide(dy, add(square(i[0]), 1.0)))
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
    "fc", "Elementwise 1 / (1 + exp(-x)), stable for large |x|.", into=_sigmoid_into)


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
    "Softsign", _softsign_fwd, lambda i, o, dy: divide(dy, square(add(abs(i[0]), 1.0))),
    "f", "Elementwise x / (1 + |x|).")


def _special(name, fn_name, grad, doc, domain=None, **attrs):
    """A float-only unary primitive on the device's special function ``fn_name``;
    ``domain(xp, x, out)`` returns ``out`` with TF's values where SciPy's differ
    (poles and arguments outside the domain)."""
    def forward(d, x):
        out = d.special(fn_name)(x)
        if domain is not None:
            out = domain(d.xp, x, out)
        return out.astype(x.dtype, copy=False)
    p = primitive(name)(forward)
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


# its own kernel, as TF's Erfc: 1 - erf(x) rounds the tail x > ~4 to 0
erfc_p, erfc = _special("Erfc", "erfc", lambda i, o, dy: multiply(
    dy, multiply(-1.1283791670955126, exp(negative(square(i[0]))))),
    "Complementary error function 1 - erf(x), accurate in the tail.")


def _no_gradient(inputs, out, dy):
    """TF registers Floor, Ceil and Round with a None gradient (not zeros)."""


floor_p, floor = _unary_prim("Floor", lambda xp, x: xp.floor(x), _no_gradient, "f",
                             "Elementwise largest integer not greater than x.")
ceil_p, ceil = _unary_prim("Ceil", lambda xp, x: xp.ceil(x), _no_gradient,
                           "f", "Elementwise smallest integer not less than x.")
round_p, _round_float = _unary_prim("Round", lambda xp, x: xp.rint(x), _no_gradient, "f")


def round(x, name=None):
    """Rounds half to even, as TF (integers pass through)."""
    x = t(x)
    if _kind(x) in "iu":
        return x
    return _round_float(x)


def rint(x, name=None):
    """Rounds half to even elementwise (TF's Rint: float tensors only).

    Raises:
      InvalidArgumentError: for a non-float tensor.
    """
    x = t(x)
    _check("Rint", x, "f")
    return _round_float(x)


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
