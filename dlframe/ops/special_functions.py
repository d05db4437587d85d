"""Special functions of tf.math and tf.math.special: Bessel functions, incomplete gamma
and beta functions, Hurwitz zeta, Dawson, exponential and Fresnel integrals, Spence.

Forwards call the device's SciPy special functions (``d.special``); gradient rules
are the functions' derivatives, written in dlframe ops. As in TF, the incomplete
gamma functions are differentiated with respect to ``a`` and ``x``, the incomplete
beta function with respect to ``x`` only, and zeta with respect to ``q`` only.
"""

import math as _pymath
import types

from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, as_operand, convert_to_tensor
from dlframe.errors import (
    DTypeMismatchError,
    InvalidArgumentError,
    NotFoundError,
    ShapeMismatchError,
)
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.special_math import lgamma, xlog1py, xlogy

# TF 2.21 registers no float16/bfloat16 kernel for these ops: NotFoundError
# (Betainc/Zeta reject half precision with InvalidArgumentError)
_NO_HALF_KERNEL = frozenset(["Dawsn", "Expint", "FresnelCos", "FresnelSin", "Spence",
                             "Igamma", "Igammac"])
_NO_HALF_DTYPE = frozenset(["Betainc", "Zeta"])


def _float(x, op):
    x = t(x)
    if m._kind(x) != "f":
        m._check(op, x, "f")
    if x.dtype.size == 2 and op in _NO_HALF_KERNEL:
        raise NotFoundError(f"Could not find device for node: {{{{node {op}}}}} = "
                            f"{op}[T={x.dtype.name}]: no {x.dtype.name} kernel "
                            f"[Op:{op}]")
    if x.dtype.size == 2 and op in _NO_HALF_DTYPE:
        raise InvalidArgumentError(f"{op}: Value for attr 'T' of {x.dtype.name} is not "
                                   f"in the list of allowed values: float, double "
                                   f"[Op:{op}]")
    return x


def _unary(name, fn_name, grad, doc, pick=None, domain=None):
    """A float unary primitive on the device's special function ``fn_name`` (output
    ``pick`` of a function returning a tuple) and its public op; ``domain(xp, x,
    out)`` puts TF's values where SciPy's differ (outside the function's domain)."""
    def forward(d, x):
        out = d.special(fn_name)(x)
        out = out if pick is None else out[pick]
        if domain is not None:
            out = domain(d.xp, x, out)
        return out.astype(x.dtype, copy=False)
    p = primitive(name)(forward)
    p.defgrad(lambda inputs, out, dy: m.multiply(dy, grad(inputs[0], out)))

    def op(x, name=None):
        return call(p, (_float(x, p.name),))
    op.__name__ = op.__qualname__ = fn_name
    op.__doc__ = doc
    return op


def _over_x(x, value, at_zero):
    """``value / x`` with the limit ``at_zero`` at x == 0 (``value`` vanishes there)."""
    zero = m.equal(x, 0)
    safe = m.where(zero, m.ones_like(x), x)
    return m.where(zero, m.multiply(m.ones_like(x), at_zero), m.divide(value, safe))


def _below_zero(value, at_zero=None):
    """TF's value for x < 0 (and, if given, x == 0) of a function defined for x > 0."""
    def domain(xp, x, out):
        out = xp.where(x < 0, value, out)
        return out if at_zero is None else xp.where(x == 0, at_zero, out)
    return domain


# ---------------------------------------------------------------- Bessel functions
bessel_i0 = _unary("BesselI0", "i0", lambda x, o: bessel_i1(x),
                   "Modified Bessel function of the first kind of order 0.")
bessel_i0e = _unary("BesselI0e", "i0e",
                    lambda x, o: m.subtract(bessel_i1e(x), m.multiply(m.sign(x), o)),
                    "Exponentially scaled modified Bessel function of order 0, "
                    "``exp(-|x|) i0(x)``.")
# i1' = i0 - i1 / x (1/2 at 0); the scaled i1e' subtracts sign(x) i1e as well.
bessel_i1 = _unary("BesselI1", "i1",
                   lambda x, o: m.subtract(bessel_i0(x), _over_x(x, o, 0.5)),
                   "Modified Bessel function of the first kind of order 1.")
bessel_i1e = _unary("BesselI1e", "i1e",
                    lambda x, o: m.subtract(m.subtract(bessel_i0e(x), _over_x(x, o, 0.5)),
                                            m.multiply(m.sign(x), o)),
                    "Exponentially scaled modified Bessel function of order 1, "
                    "``exp(-|x|) i1(x)``.")
bessel_j0 = _unary("BesselJ0", "j0", lambda x, o: m.negative(bessel_j1(x)),
                   "Bessel function of the first kind of order 0.")
bessel_j1 = _unary("BesselJ1", "j1",
                   lambda x, o: m.subtract(bessel_j0(x), _over_x(x, o, 0.5)),
                   "Bessel function of the first kind of order 1.")
bessel_y0 = _unary("BesselY0", "y0", lambda x, o: m.negative(bessel_y1(x)),
                   "Bessel function of the second kind of order 0.",
    domain=_below_zero(-_pymath.inf))
bessel_y1 = _unary("BesselY1", "y1", lambda x, o: m.subtract(bessel_y0(x), m.divide(o, x)),
                   "Bessel function of the second kind of order 1.",
    domain=_below_zero(-_pymath.inf, _pymath.nan))
bessel_k0 = _unary("BesselK0", "k0", lambda x, o: m.negative(bessel_k1(x)),
                   "Modified Bessel function of the second kind of order 0.",
    domain=_below_zero(_pymath.inf))
bessel_k0e = _unary("BesselK0e", "k0e", lambda x, o: m.subtract(o, bessel_k1e(x)),
                    "Exponentially scaled modified Bessel function of the second kind "
                    "of order 0, ``exp(x) k0(x)``.",
    domain=_below_zero(_pymath.inf))
bessel_k1 = _unary("BesselK1", "k1",
                   lambda x, o: m.negative(m.add(bessel_k0(x), m.divide(o, x))),
                   "Modified Bessel function of the second kind of order 1.",
    domain=_below_zero(_pymath.inf))
bessel_k1e = _unary("BesselK1e", "k1e",
                    lambda x, o: m.subtract(m.subtract(o, bessel_k0e(x)), m.divide(o, x)),
                    "Exponentially scaled modified Bessel function of the second kind "
                    "of order 1, ``exp(x) k1(x)``.",
    domain=_below_zero(_pymath.inf))

# ---------------------------------------------------------------- integrals
dawsn = _unary("Dawsn", "dawsn",
               lambda x, o: m.subtract(1.0, m.multiply(m.multiply(x, o), 2.0)),
               "Dawson's integral ``exp(-x^2) * integral_0^x exp(t^2) dt``.")
expint = _unary("Expint", "expi", lambda x, o: m.divide(m.exp(x), x),
                "Exponential integral ``Ei(x) = -integral_{-x}^inf exp(-t) / t dt``.",
                # TF's kernel gives NaN for x < 0 and for +inf
                domain=lambda xp, x, out: xp.where((x < 0) | xp.isposinf(x), xp.nan, out))
fresnel_cos = _unary("FresnelCos", "fresnel",
                     lambda x, o: m.cos(m.multiply(m.square(x), _pymath.pi / 2)),
                     "Fresnel cosine integral ``integral_0^x cos(pi t^2 / 2) dt``.", pick=1)
fresnel_sin = _unary("FresnelSin", "fresnel",
                     lambda x, o: m.sin(m.multiply(m.square(x), _pymath.pi / 2)),
                     "Fresnel sine integral ``integral_0^x sin(pi t^2 / 2) dt``.", pick=0)


def _spence_grad(x, o):
    # spence(x) = integral_1^x log(t) / (1 - t) dt; the integrand tends to -1 at t = 1
    one = m.equal(x, 1)
    safe = m.where(one, m.multiply(m.ones_like(x), 2.0), x)
    return m.where(one, m.negative(m.ones_like(x)),
                   m.divide(m.log(safe), m.subtract(1.0, safe)))


spence = _unary("Spence", "spence", _spence_grad,
                "Spence's function ``integral_1^x log(t) / (1 - t) dt``.")


# ---------------------------------------------------------------- incomplete gamma, beta
def _broadcasting(name, fn_name, domain=None):
    def forward(d, *xs):
        try:
            out = d.special(fn_name)(*xs)
            if domain is not None:
                out = domain(d.xp, *xs, out)
            return out.astype(xs[-1].dtype, copy=False)
        except ValueError:
            shapes = " vs. ".join(str(list(x.shape)) for x in xs)
            raise ShapeMismatchError(f"{name}: Incompatible shapes: {shapes} "
                                     f"[Op:{name}]") from None
    forward.__name__ = fn_name
    return primitive(name)(forward)


def _operands(*xs, op):
    """Tensors of one float dtype and device; Python values take the first tensor's."""
    ref = next((x for x in xs if isinstance(x, Tensor)), None)
    ref = convert_to_tensor(xs[0]) if ref is None else ref
    out = tuple(x if isinstance(x, Tensor) else as_operand(x, ref) for x in xs)
    for i, x in enumerate(out):
        if x.dtype != ref.dtype:
            raise DTypeMismatchError(
                f"cannot compute {op} as input #{i}(zero-based) was expected to be a "
                f"{ref.dtype.name} tensor but is a {x.dtype.name} tensor [Op:{op}]")
    return tuple(_float(x, op) for x in out)


# TF's domain: P(a, 0) = 0 for every a; otherwise NaN for a <= 0 or x < 0 (where
# SciPy gives P(0, x) = 1), and Q is NaN for a <= 0 or x < 0.
igamma_p = _broadcasting("Igamma", "gammainc", domain=lambda xp, a, x, out: xp.where(
    x == 0, 0.0, xp.where((a <= 0) | (x < 0), xp.nan, out)))
igammac_p = _broadcasting("Igammac", "gammaincc", domain=lambda xp, a, x, out: xp.where(
    (a <= 0) | (x < 0), xp.nan, out))


def _gamma_density(a, x):
    # d/dx P(a, x) = x^(a - 1) exp(-x) / Gamma(a)
    return m.exp(m.subtract(m.subtract(xlogy(m.subtract(a, 1.0), x), x), lgamma(a)))


_IGAMMA_A_TERMS = 1 << 20   # series terms evaluated at once: bounds the temporaries


@primitive("IgammaGradA")
def igamma_grad_a_p(d, a, x):
    # P(a, x) = sum_n t_n with t_n = x^(a + n) exp(-x) / Gamma(a + n + 1), so
    # dP/da = sum_n t_n (log x - digamma(a + n + 1)). As a function of k = a + n, t_n
    # is a Poisson(x) weight: only k within ~15 sqrt(x) of x counts. Far in the
    # upper tail (x - a beyond that) P is 1 and dP/da 0 to double precision; every
    # other element sums its n < x - a + 15 sqrt(x) (at least 32: in the lower tail
    # the terms shrink fast), in float64 with terms in log space, in chunks of
    # elements of similar length.
    xp = d.xp
    a64, x64 = xp.broadcast_arrays(a.astype("float64"), x.astype("float64"))
    shape, a64, x64 = a64.shape, a64.reshape(-1), x64.reshape(-1)
    ok = (a64 > 0) & (x64 > 0) & xp.isfinite(a64) & xp.isfinite(x64)
    spread = 15.0 * xp.sqrt(xp.where(ok, x64, 0.0)) + 10.0
    count = xp.where(ok & (x64 - a64 <= spread),
                     xp.maximum(xp.floor(x64 - a64 + spread) + 1, 32), 0)
    out = xp.where(ok | (x64 == 0), 0.0, xp.nan)
    rows = xp.nonzero(count > 0)[0]
    rows = rows[xp.argsort(count[rows])]
    chunk = _IGAMMA_A_TERMS // 512
    for first in range(0, int(rows.size), chunk):
        sel = rows[first:first + chunk]
        out[sel] = _poisson_window_sum(d, a64[sel], x64[sel], int(count[sel[-1]]))
    return out.reshape(shape).astype(a.dtype)


def _poisson_window_sum(d, a, x, count):
    """sum_{n < count} t_n (log x - digamma(a + n + 1)) per element (a, x > 0)."""
    xp, gammaln, digamma = d.xp, d.special("gammaln"), d.special("psi")
    log_x = xp.log(x)[:, None]
    total, size, block = xp.zeros_like(a), xp.zeros_like(a), min(count, 512)
    for first in range(0, count, block):
        k = a[:, None] + xp.arange(first, first + block)[None, :]
        terms = xp.exp(k * log_x - x[:, None] - gammaln(k + 1.0)) * (
            log_x - digamma(k + 1.0))
        total += terms.sum(axis=1)
        size += xp.abs(terms).sum(axis=1)
    # near the upper tail (P ~ 1) the terms cancel to rounding noise: the value is 0
    return xp.where(xp.abs(total) < 1e-13 * size, 0.0, total)


@igamma_p.defgrad
def _igamma_grad(inputs, out, dy, needs=(True, True)):
    a, x = inputs
    # the a-gradient is a series per element: computed only when someone asks for it
    da = m.multiply(dy, call(igamma_grad_a_p, (a, x))) if needs[0] else None
    return da, m.multiply(dy, _gamma_density(a, x)) if needs[1] else None


@igammac_p.defgrad
def _igammac_grad(inputs, out, dy, needs=(True, True)):
    return tuple(None if g is None else m.negative(g)
                 for g in _igamma_grad(inputs, out, dy, needs))


igamma_p.wants_needs = igammac_p.wants_needs = True


def igamma(a, x, name=None):
    """Regularized lower incomplete gamma function ``P(a, x)`` (broadcasting).

    Differentiable with respect to ``a`` and ``x``.
    """
    a, x = _operands(a, x, op="Igamma")
    return call(igamma_p, (a, x))


def igammac(a, x, name=None):
    """Regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``."""
    a, x = _operands(a, x, op="Igammac")
    return call(igammac_p, (a, x))


betainc_p = _broadcasting("Betainc", "betainc", domain=lambda xp, a, b, x, out: xp.where(
    (a <= 0) | (b <= 0) | (x < 0) | (x > 1), xp.nan, out))   # NaN outside, as TF


@betainc_p.defgrad
def _betainc_grad(inputs, out, dy):
    # d/dx I_x(a, b) = x^(a - 1) (1 - x)^(b - 1) / B(a, b)
    a, b, x = inputs
    log_beta = m.subtract(m.add(lgamma(a), lgamma(b)), lgamma(m.add(a, b)))
    log_density = m.add(xlogy(m.subtract(a, 1.0), x), xlog1py(m.subtract(b, 1.0),
                                                              m.negative(x)))
    return None, None, m.multiply(dy, m.exp(m.subtract(log_density, log_beta)))


def betainc(a, b, x, name=None):
    """Regularized incomplete beta function ``I_x(a, b)`` (broadcasting).

    Differentiable with respect to ``x``.
    """
    a, b, x = _operands(a, b, x, op="Betainc")
    return call(betainc_p, (a, b, x))


zeta_p = _broadcasting("Zeta", "zeta")


@zeta_p.defgrad
def _zeta_grad(inputs, out, dy):
    # d/dq sum_n (n + q)^-x = -x zeta(x + 1, q)
    x, q = inputs
    return None, m.multiply(dy, m.negative(m.multiply(x, call(zeta_p, (m.add(x, 1.0), q)))))


def zeta(x, q, name=None):
    """Hurwitz zeta function ``sum_n (n + q)^-x`` (broadcasting).

    Differentiable with respect to ``q``.
    """
    x, q = _operands(x, q, op="Zeta")
    return call(zeta_p, (x, q))


special = types.SimpleNamespace(
    bessel_i0=bessel_i0, bessel_i0e=bessel_i0e, bessel_i1=bessel_i1, bessel_i1e=bessel_i1e,
    bessel_j0=bessel_j0, bessel_j1=bessel_j1, bessel_k0=bessel_k0, bessel_k0e=bessel_k0e,
    bessel_k1=bessel_k1, bessel_k1e=bessel_k1e, bessel_y0=bessel_y0, bessel_y1=bessel_y1,
    dawsn=dawsn, expint=expint, fresnel_cos=fresnel_cos, fresnel_sin=fresnel_sin,
    spence=spence)

MATH_NAMES = ["bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e", "betainc", "igamma",
              "igammac", "special", "zeta"]
