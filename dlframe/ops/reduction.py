"""Reductions: sum, mean, max, min, prod and friends, with keepdims and axis checks."""

from dlframe.core import basic
from dlframe.core.primitive import call, primitive
from dlframe.ops import math as m
from dlframe.ops._util import norm_axis, t


def _kept_shape(shape, axes):
    """Shape of a keepdims reduction of ``shape`` over ``axes`` (None = all)."""
    if axes is None:
        return tuple(1 for _ in shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(dy, x, axes, keepdims):
    """Broadcasts a reduction's output gradient back to the input's shape."""
    shape = tuple(x._value.shape)
    if not keepdims:
        from dlframe.ops.array import reshape
        dy = reshape(dy, _kept_shape(shape, axes))
    return basic.broadcast_to(dy, shape)


@primitive("Sum")
def sum_p(d, x, *, axes, keepdims):
    return d.xp.sum(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@sum_p.defgrad
def _sum_grad(inputs, out, dy, *, axes, keepdims):
    return _expand_back(dy, inputs[0], axes, keepdims)


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum of elements across ``axis`` (all axes when None)."""
    x = t(input_tensor)
    axes = norm_axis(axis, x._value.ndim, "Sum")
    return call(sum_p, (x,), {"axes": axes, "keepdims": bool(keepdims)})


@primitive("Mean")
def mean_p(d, x, *, axes, keepdims):
    if x.dtype.kind in "iu":  # TF's integer mean truncates
        s = d.xp.sum(x, axis=axes, keepdims=keepdims, dtype=x.dtype)
        n = x.size // max(s.size, 1) if x.size else 1
        return (s // n if n else s).astype(x.dtype)
    return d.xp.mean(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@mean_p.defgrad
def _mean_grad(inputs, out, dy, *, axes, keepdims):
    x = inputs[0]
    n = x._value.size // max(out._value.size, 1)
    return m.divide(_expand_back(dy, x, axes, keepdims), float(max(n, 1)))


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean of elements across ``axis`` (integer inputs give a truncated integer mean)."""
    x = t(input_tensor)
    axes = norm_axis(axis, x._value.ndim, "Mean")
    return call(mean_p, (x,), {"axes": axes, "keepdims": bool(keepdims)})


def _extreme(name, fn):
    p = primitive(name)(lambda d, x, *, axes, keepdims: fn(d.xp, x, axes, keepdims))

    @p.defgrad
    def grad(inputs, out, dy, *, axes, keepdims):
        x = inputs[0]
        peak = _expand_back(out, x, axes, keepdims)
        mask = m.cast(m.equal(x, peak), dy.dtype)
        count = reduce_sum(mask, axis=axes, keepdims=True)
        return m.divide(m.multiply(_expand_back(dy, x, axes, keepdims), mask), count)

    def op(input_tensor, axis=None, keepdims=False, name=None):
        x = t(input_tensor)
        axes = norm_axis(axis, x._value.ndim, p.name)
        return call(p, (x,), {"axes": axes, "keepdims": bool(keepdims)})
    return p, op


def _max_fwd(xp, x, axes, keepdims):
    if x.size == 0:
        shape = [1 if (axes is None or i in axes) else s for i, s in enumerate(x.shape)]
        fill = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        out = xp.full([s for i, s in enumerate(shape) if keepdims or
                       not (axes is None or i in axes)], fill, dtype=x.dtype)
        return out
    return xp.max(x, axis=axes, keepdims=keepdims)


def _min_fwd(xp, x, axes, keepdims):
    if x.size == 0:
        fill = xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).max
        shape = [s for i, s in enumerate(x.shape) if keepdims or
                 not (axes is None or i in axes)]
        shape = [1 if (axes is None or i in axes) else s for i, s in enumerate(x.shape)] \
            if keepdims else shape
        return xp.full(shape, fill, dtype=x.dtype)
    return xp.min(x, axis=axes, keepdims=keepdims)


max_p, reduce_max = _extreme("Max", _max_fwd)
min_p, reduce_min = _extreme("Min", _min_fwd)


@primitive("Prod")
def prod_p(d, x, *, axes, keepdims):
    return d.xp.prod(x, axis=axes, keepdims=keepdims, dtype=x.dtype)


@prod_p.defgrad
def _prod_grad(inputs, out, dy, *, axes, keepdims):
    # d prod / dx_i = prod / x_i where x_i != 0; exact for inputs without zeros
    x = inputs[0]
    full = _expand_back(out, x, axes, keepdims)
    return m.multiply(_expand_back(dy, x, axes, keepdims), m.divide_no_nan(full, x))


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """Product of elements across ``axis``."""
    x = t(input_tensor)
    axes = norm_axis(axis, x._value.ndim, "Prod")
    return call(prod_p, (x,), {"axes": axes, "keepdims": bool(keepdims)})

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"]
