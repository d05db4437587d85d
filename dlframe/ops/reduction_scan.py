"""Scans along one axis: ``cumsum``, ``cumprod`` and ``cumulative_logsumexp``, with
TF's ``exclusive``/``reverse`` arguments and axis checks (``tf.math`` names; the
reductions re-export them)."""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import AxisError, InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.late_bound import reads_values


def _scan_forward(xp, fn, x, axis, exclusive, reverse, identity):
    if reverse:
        x = xp.flip(x, axis)
    out = fn(x, axis=axis, dtype=x.dtype)
    if exclusive:
        shifted = xp.empty_like(out)
        head = [slice(None)] * x.ndim
        head[axis] = slice(0, 1)
        body = list(head)
        body[axis] = slice(1, None)
        tail = list(head)
        tail[axis] = slice(None, -1)
        shifted[tuple(head)] = identity
        shifted[tuple(body)] = out[tuple(tail)]
        out = shifted
    if reverse:
        out = xp.flip(out, axis)
    return xp.ascontiguousarray(out)


@primitive("Cumsum")
def cumsum_p(d, x, *, axis, exclusive, reverse):
    return _scan_forward(d.xp, d.xp.cumsum, x, axis, exclusive, reverse, 0)


@cumsum_p.defgrad
def _cumsum_grad(inputs, out, dy, *, axis, exclusive, reverse):
    return cumsum(dy, axis=axis, exclusive=exclusive, reverse=not reverse)


@primitive("Cumprod")
def cumprod_p(d, x, *, axis, exclusive, reverse):
    return _scan_forward(d.xp, d.xp.cumprod, x, axis, exclusive, reverse, 1)


@cumprod_p.defgrad
def _cumprod_grad(inputs, out, dy, *, axis, exclusive, reverse):
    # d out_j / dx_i = out_j / x_i for the later j: exact where x_i != 0. At the first
    # zero in scan order the products without it are those of x with that zero read
    # as 1; at a later zero every such product holds the first zero, so it is 0. (TF's
    # rule divides by x and gives 0 at zeros; this one is exact everywhere.)
    x = inputs[0]

    def rev_sum(v):
        return cumsum(v, axis=axis, exclusive=exclusive, reverse=not reverse)

    summed = rev_sum(m.multiply(out, dy))
    is_zero = m.equal(x, 0)
    zeros_before = cumsum(m.cast(is_zero, dtypes.int32), axis=axis, exclusive=True,
                          reverse=reverse)
    first_zero = m.logical_and(is_zero, m.equal(zeros_before, 0))
    one = m.ones_like(x)
    safe_x = m.where(is_zero, one, x)
    without = call(cumprod_p, (m.where(first_zero, one, x),),
                   {"axis": axis, "exclusive": exclusive, "reverse": reverse})
    at_first_zero = rev_sum(m.multiply(without, dy))
    zero = m.zeros_like(summed)
    return m.where(is_zero, m.where(first_zero, at_first_zero, zero),
                   m.divide(summed, safe_x))


def _scan(p, x, axis, exclusive, reverse):
    x = t(x)
    m._check(p.name, x, "fciu")
    nd = x._value.ndim
    if np.ndim(axis.numpy() if isinstance(axis, Tensor) else axis) != 0:
        raise InvalidArgumentError(f"{p.name}: ScanOp: axis must be a scalar, not "
                                   f"{list(np.shape(axis))} [Op:{p.name}]")
    a = int(axis.numpy()) if isinstance(axis, Tensor) else int(axis)
    if not -nd <= a < nd:
        raise AxisError(f"{p.name}: ScanOp: Expected scan axis in the range [{-nd}, {nd}), "
                        f"but got {a} [Op:{p.name}]")
    return call(p, (x,), {"axis": a % nd, "exclusive": bool(exclusive),
                          "reverse": bool(reverse)})


@reads_values("axis")
def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along ``axis``.

    Args:
      x: a numeric tensor.
      axis: the scan axis in ``[-rank, rank)``.
      exclusive: element i sums the elements before i (the first is 0).
      reverse: scan from the end.
    """
    return _scan(cumsum_p, x, axis, exclusive, reverse)


@reads_values("axis")
def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along ``axis`` (``exclusive``/``reverse`` as in cumsum)."""
    return _scan(cumprod_p, x, axis, exclusive, reverse)


def _logaddexp_accumulate(xp):
    def scan(x, axis, dtype):
        try:
            return xp.logaddexp.accumulate(x, axis=axis, dtype=dtype)
        except (AttributeError, NotImplementedError, TypeError):
            # array modules without ufunc.accumulate: one logaddexp per step
            out = xp.empty_like(x)
            index = [slice(None)] * x.ndim
            prev = None
            for i in range(x.shape[axis]):
                index[axis] = i
                cur = x[tuple(index)]
                prev = cur if prev is None else xp.logaddexp(prev, cur)
                out[tuple(index)] = prev
            return out
    return scan


@primitive("CumulativeLogsumexp")
def cumlogsumexp_p(d, x, *, axis, exclusive, reverse):
    xp = d.xp
    return _scan_forward(xp, _logaddexp_accumulate(xp), x, axis, exclusive, reverse,
                         -xp.inf)


@cumlogsumexp_p.defgrad
def _cumlogsumexp_grad(inputs, out, dy, *, axis, exclusive, reverse):
    # dx_j = sum_i dy_i exp(x_j - out_i) over the outputs i that include j; positive and
    # negative parts of dy go through the same log-domain scan so nothing overflows
    x = inputs[0]
    neg_inf = m._fill_like(dy, float("-inf"))
    finite = m.is_finite(out)  # an exclusive scan's first output (-inf) sums nothing
    safe_out = m.where(finite, out, m.zeros_like(out))

    def part(mask, magnitude):
        mask = m.logical_and(mask, finite)
        log_dy = m.where(mask, m.log(m.where(mask, magnitude, m.ones_like(dy))), neg_inf)
        scanned = cumulative_logsumexp(m.subtract(log_dy, safe_out), axis=axis,
                                       exclusive=exclusive, reverse=not reverse)
        return m.exp(m.add(scanned, x))
    return m.subtract(part(m.greater(dy, 0), dy), part(m.less(dy, 0), m.negative(dy)))


@reads_values("axis")
def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """log(cumsum(exp(x))) along ``axis``, computed in the log domain (no overflow)."""
    x = t(x)
    m._check("CumulativeLogsumexp", x, "f")
    return _scan(cumlogsumexp_p, x, axis, exclusive, reverse)
