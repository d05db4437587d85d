"""Special functions (erfinv, lgamma, digamma, polygamma, ndtri) and elementwise
composites of the tf.math namespace (xlogy family, polyval, monotonicity checks).

The composites have no gradient rules of their own (DESIGN.md §4).
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import operands, t

erfinv_p, erfinv = m._special("Erfinv", "erfinv", lambda i, o, dy: m.multiply(
    dy, m.multiply(0.886226925452758, m.exp(m.square(o)))),  # sqrt(pi) / 2
    "Inverse of the error function.")
lgamma_p, lgamma = m._special("Lgamma", "gammaln", lambda i, o, dy: m.multiply(
    dy, digamma(i[0])), "Log of the absolute value of the Gamma function.",
    domain=lambda xp, x, out: xp.where(xp.isneginf(x), xp.inf, out))  # TF: +inf
digamma_p, digamma = m._special("Digamma", "digamma", lambda i, o, dy: m.multiply(
    dy, _polygamma(1, i[0])), "Derivative of lgamma.",
    domain=lambda xp, x, out: xp.where(x == 0, xp.nan, out))  # a pole: NaN in TF


@primitive("PolygammaN")
def _polygamma_p(d, x, *, n):
    if n == 0:   # digamma, with TF's NaN at its poles (SciPy gives -inf at 0)
        return d.xp.where(x == 0, d.xp.nan, d.special("digamma")(x)).astype(
            x.dtype, copy=False)
    # the order as an array: CuPy's polygamma calls methods of ``n == 0``
    order = d.xp.full((), n, dtype=d.xp.float64)
    return d.special("polygamma")(order, x).astype(x.dtype, copy=False)


@_polygamma_p.defgrad
def _polygamma_grad(inputs, out, dy, *, n):
    return m.multiply(dy, _polygamma(n + 1, inputs[0]))


def _polygamma(n, x):
    return call(_polygamma_p, (x,), {"n": int(n)})


def polygamma(a, x, name=None):
    """The ``a``-th derivative of digamma (``a`` read as static values).

    Args:
      a: float orders; as in TF, an order that is not a non-negative integer gives
        NaN.
      x: float Tensor (broadcasting against ``a``).
      name: unused (TF compatibility).
    """
    x = t(x)
    m._check("Polygamma", x, "f")
    if isinstance(a, Tensor) and a.dtype != x.dtype:
        raise InvalidArgumentError(f"Polygamma: `a` must be a {x.dtype.name} tensor like "
                                   f"`x`, got {a.dtype.name}")
    orders = np.asarray(a.numpy() if isinstance(a, Tensor) else a, dtype="float64")
    valid = (orders == np.floor(orders)) & (orders >= 0)
    orders = np.where(valid, orders, -1.0)   # -1 marks the NaN results
    if orders.ndim == 0 and valid:
        return _polygamma(int(orders), x)
    # a tensor of orders: elementwise over the broadcast of a and x, one kernel per
    # distinct order
    from dlframe.ops import array as _array
    from dlframe.ops.logic import where as _where
    shape = np.broadcast_shapes(orders.shape, tuple(x._value.shape))
    x = _array.broadcast_to(x, shape)
    orders = np.broadcast_to(orders, shape)
    out = None
    for n in np.unique(orders):
        part = _polygamma(int(n), x) if n >= 0 else m.multiply(x, np.nan)
        mask = convert_to_tensor(orders == n)
        out = part if out is None else _where(mask, part, out)
    return out


ndtri_p, ndtri = m._special("Ndtri", "ndtri", lambda i, o, dy: m.multiply(
    dy, m.multiply(2.5066282746310002, m.exp(m.multiply(0.5, m.square(o))))),
    "Inverse of the standard normal CDF.")  # sqrt(2 pi) exp(o^2 / 2)


def erfcinv(x, name=None):
    """Inverse of the complementary error function, -ndtri(x / 2) / sqrt(2) (accurate
    in the tails, where erfinv(1 - x) would lose digits)."""
    return m.multiply(-0.7071067811865476, ndtri(m.multiply(t(x), 0.5)))


def lbeta(x, name=None):
    """log of the multivariate Beta function over the last axis of ``x``."""
    from dlframe.ops.reduction import reduce_sum
    x = t(x)
    return m.subtract(reduce_sum(lgamma(x), axis=-1), lgamma(reduce_sum(x, axis=-1)))


@primitive("NextAfter")
def _nextafter_p(d, x1, x2):
    return d.xp.nextafter(x1, x2)


def nextafter(x1, x2, name=None):
    """The next representable float after ``x1`` toward ``x2`` (not differentiable)."""
    return m._binary(_nextafter_p, x1, x2, "f")


@primitive("InvertPermutation")
def _invert_permutation_p(d, x):
    xp = d.xp
    out = xp.empty_like(x)
    out[x] = xp.arange(x.shape[0], dtype=x.dtype)
    return out


def invert_permutation(x, name=None):
    """The inverse of a 1-D permutation of ``0..n-1`` (``out[x[i]] = i``)."""
    x = t(x)
    if m._kind(x) != "i" or x._value.ndim != 1:
        raise InvalidArgumentError(f"InvertPermutation: expected a 1-D int32/int64 "
                                   f"permutation, got {x.dtype.name} of shape "
                                   f"{list(x._value.shape)}")
    host = x.numpy()
    if sorted(host.tolist()) != list(range(host.size)):
        raise InvalidArgumentError(f"InvertPermutation: {host.tolist()} is not a "
                                   "permutation of 0..n-1 [Op:InvertPermutation]")
    return call(_invert_permutation_p, (x,))


# ---------------------------------------------------------------- composites
def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """Sums a list of same-shaped tensors (same as add_n)."""
    return m.add_n(inputs)


def multiply_no_nan(x, y, name=None):
    """x * y, with 0 wherever y == 0 (even when x is inf or nan)."""
    x, y = operands(x, y, "MulNoNan")
    m._check("MulNoNan", x, "fc")
    return m.where(m.equal(y, 0), m.zeros_like(x), m.multiply(x, y))


def xlogy(x, y, name=None):
    """x * log(y), with 0 where x == 0."""
    x, y = operands(x, y, "Xlogy")
    m._check("Xlogy", x, "fc")
    zero = m.equal(x, 0)
    return m.where(zero, m.zeros_like(x), m.multiply(x, m.log(m.where(zero, m.ones_like(y), y))))


def xlog1py(x, y, name=None):
    """x * log1p(y), with 0 where x == 0."""
    x, y = operands(x, y, "Xlog1py")
    m._check("Xlog1py", x, "fc")
    zero = m.equal(x, 0)
    return m.where(zero, m.zeros_like(x), m.multiply(x, m.log1p(m.where(zero, m.zeros_like(y), y))))


def xdivy(x, y, name=None):
    """x / y, with 0 where x == 0."""
    x, y = operands(x, y, "Xdivy")
    m._check("Xdivy", x, "fc")
    zero = m.equal(x, 0)
    return m.where(zero, m.zeros_like(x), m.divide(x, m.where(zero, m.ones_like(y), y)))


def polyval(coeffs, x, name=None):
    """Evaluates the polynomial ``coeffs[0] * x**(n-1) + ... + coeffs[n-1]`` (Horner).

    Args:
      coeffs: a list of tensors or numbers, highest degree first.
      x: the tensor at which to evaluate.
    """
    x = t(x)
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(  # noqa: TRY004 - TF raises ValueError here
            f"Argument coeffs must be list type found {type(coeffs)}.")
    if not coeffs:
        return m.zeros_like(x)
    acc = m.add(m.zeros_like(x), coeffs[0])
    for c in coeffs[1:]:
        acc = m.add(m.multiply(acc, x), c)
    return acc


def _adjacent(x, cmp):
    from dlframe.ops.array import reshape
    from dlframe.ops.reduction import reduce_all
    flat = reshape(t(x), [-1])
    n = flat._value.shape[0]
    if n < 2:
        return convert_to_tensor(True, device=flat._device)
    return reduce_all(cmp(flat[:-1], flat[1:]))


def is_non_decreasing(x, name=None):
    """True when every entry of flattened ``x`` is <= the next one."""
    return _adjacent(x, m.less_equal)


def is_strictly_increasing(x, name=None):
    """True when every entry of flattened ``x`` is < the next one."""
    return _adjacent(x, m.less)


MATH_NAMES = ["accumulate_n", "digamma", "erfcinv", "erfinv", "invert_permutation",
              "is_non_decreasing", "is_strictly_increasing", "lbeta", "lgamma",
              "multiply_no_nan", "ndtri", "nextafter", "polygamma", "polyval", "xdivy",
              "xlog1py", "xlogy"]
