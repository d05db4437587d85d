"""Fused layer normalization: one primitive forward, one primitive backward.

Composed of moments, rsqrt, scale and shift, a Keras ``LayerNormalization`` call
records about fifteen small ops and its gradient as many again; in a small
Transformer training step on the 2-core CPU that was ~1.2 ms of ~12 ms. Here the
forward computes mean, variance, the normalized rows and the affine map in a few
array passes, saving the normalized input and ``1 / sqrt(variance + epsilon)`` as
extra outputs, and the backward uses the closed form

    g = dy * gamma
    dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
    dgamma = sum(dy * xhat),  dbeta = sum(dy)   (over the non-normalized axes)

The backward primitive has no gradient of its own: when a tape records while the
gradient runs (a gradient penalty, ``ForwardAccumulator``), the rule returns the
VJP of the composite instead (as the fused RNN kernels do, ``ops/rnn_steps.py``),
so higher derivatives stay exact.

``rms_scaling`` follows Keras 3's deprecated option: ``x * rsqrt(var + eps) * gamma``
with the *centered* variance and no beta.
"""

from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops import nn_impl as _nn
from dlframe.ops import rnn_steps as _steps
from dlframe.ops import row_kernels as _rows
from dlframe.ops._util import norm_axis, t

__all__ = []

_HALF = ("float16", "bfloat16")
_GEMV = ("float32", "float64")   # dtypes whose row sums run as BLAS products


def _is_tail(ndim, axes):
    return axes == tuple(range(ndim - len(axes), ndim))


def _order(ndim, axes):
    """The axis order that puts the normalized ``axes`` last."""
    return [a for a in range(ndim) if a not in axes] + list(axes)


def _to_rows(a, axes):
    """``a`` as ``[rows, features]``: the normalized ``axes`` moved last and merged
    (a view for trailing axes of a contiguous array)."""
    if not _is_tail(a.ndim, axes):
        a = a.transpose(_order(a.ndim, axes))
    lead = a.ndim - len(axes)   # explicit sizes: -1 cannot be inferred at size 0
    return a.reshape(_prod(a.shape[:lead]), _prod(a.shape[lead:]))


def _from_rows(xp, rows, shape, axes):
    """The inverse of ``_to_rows`` for an array of ``shape``."""
    if _is_tail(len(shape), axes):
        return rows.reshape(shape)
    order = _order(len(shape), axes)
    moved = rows.reshape([shape[a] for a in order])
    return xp.ascontiguousarray(moved.transpose(sorted(range(len(order)),
                                                       key=order.__getitem__)))


def _row_dot(d, a, v):
    """Per row of ``a`` (``[rows, features]``), the sum of ``a * v`` (``[rows, 1]``)."""
    if a.dtype.name in _GEMV:   # Device.matmul: capture-safe on a GPU
        return d.matmul(a, v.reshape(-1, 1))
    return (a * v).sum(axis=-1, keepdims=True)


def _col_sum(d, a):
    """The column sums of ``a`` (``[rows, features]``) as a ``[features]`` array."""
    if a.dtype.name in _GEMV:
        return d.matmul(d.xp.ones((1, a.shape[0]), dtype=a.dtype), a).reshape(-1)
    return a.sum(axis=0)


def _forward(xp, x, gamma, beta, axes, epsilon, rms):
    xr = _to_rows(x, axes)
    features = max(1, xr.shape[1])
    xc = xr - _rows.sum_keepdims(xp, xr, -1) / features
    var = _rows.sum_keepdims(xp, xc * xc, -1)
    var /= features
    var += epsilon
    rstd = xp.sqrt(var, out=var)
    xp.reciprocal(rstd, out=rstd)
    xc *= rstd                               # the normalized input, centered
    y = xr * rstd if rms else xc
    y = y * gamma.reshape(-1) if gamma is not None else y.copy()
    if beta is not None:
        y += beta.reshape(-1)
    return _from_rows(xp, y, x.shape, axes), xc, rstd


@primitive("LayerNorm", n_out=3)
def layer_norm_p(d, x, *params, axes, epsilon, has_gamma, has_beta, rms):
    gamma = params[0] if has_gamma else None
    beta = params[-1] if has_beta else None
    return _forward(d.xp, x, gamma, beta, axes, epsilon, rms)


def _layer_norm_static_shape(in_dims, attrs):
    dims, axes = list(in_dims[0]), attrs["axes"]
    lead = [n for a, n in enumerate(dims) if a not in axes]
    feats = [n for a, n in enumerate(dims) if a in axes]
    rows = None if None in lead else _prod(lead)
    return [dims, [rows, None if None in feats else _prod(feats)], [rows, 1]]


def _prod(dims):
    out = 1
    for n in dims:
        out *= n
    return out


# outputs 1 and 2 (normalized rows ``[rows, features]``, ``rstd`` ``[rows, 1]``) are
# saved for the backward and never reach users
layer_norm_p.grad_outputs = 1
layer_norm_p.wants_needs = True
layer_norm_p.static_shape = _layer_norm_static_shape


@primitive("LayerNormGrad", n_out=3)
def layer_norm_grad_p(d, dy, x, xhat, rstd, *gamma, axes, rms, need_dx, need_dgamma,
                      need_dbeta):
    xp = d.xp
    dyr = _to_rows(dy, axes)
    features = max(1, dyr.shape[1])
    param_shape = [x.shape[a] for a in axes]
    gvec = gamma[0].reshape(-1) if gamma else None
    dx = dgamma = dbeta = xp.zeros((0,), dtype=dy.dtype)
    xr = _to_rows(x, axes) if rms else None
    dy_xhat = None
    if need_dgamma:
        dy_xhat = dyr * (xr * rstd if rms else xhat)
        dgamma = _col_sum(d, dy_xhat).reshape(param_shape)
    if need_dbeta:
        dbeta = _col_sum(d, dyr).reshape(param_shape)
    if need_dx:
        g = dyr * gvec if gvec is not None else dyr.copy()
        if rms:   # d/dx of x * rstd(var(x)) * gamma
            dx = g - xhat * (rstd * (_rows.sum_keepdims(xp, g * xr, -1) / features))
        else:     # rstd * (g - mean(g) - xhat * mean(g * xhat))
            if dy_xhat is not None and gvec is not None:
                s2 = _row_dot(d, dy_xhat, gvec)
            else:
                s2 = _rows.sum_keepdims(xp, g * xhat, -1)
            s2 /= features
            dx = g
            dx -= _rows.sum_keepdims(xp, g, -1) / features
            dx -= xhat * s2
        dx *= rstd
        dx = _from_rows(xp, dx, x.shape, axes)
    return dx, dgamma, dbeta


layer_norm_grad_p.static_shape = lambda in_dims, attrs: None


def _composite(x, *params, axes, epsilon, has_gamma, has_beta, rms):
    """The same normalization in ordinary ops (the differentiable reference)."""
    bshape = [x.shape[a] if a in axes else 1 for a in range(len(x.shape))]
    gamma = _array.reshape(params[0], bshape) if has_gamma else None
    beta = _array.reshape(params[-1], bshape) if has_beta else None
    mean, var = _nn.moments(x, list(axes), keepdims=True)
    inv = _m.rsqrt(_m.add(var, epsilon))
    if rms:
        y = _m.multiply(x, inv)
    else:
        y = _m.multiply(_m.subtract(x, mean), inv)
    if gamma is not None:
        y = _m.multiply(y, gamma)
    if beta is not None:
        y = _m.add(y, beta)
    return (y,)


@layer_norm_p.defgrad
def _layer_norm_grad(inputs, outs, dys, *, axes, epsilon, has_gamma, has_beta, rms,
                     needs=None):
    dy = dys[0]
    attrs = {"axes": axes, "epsilon": epsilon, "has_gamma": has_gamma,
             "has_beta": has_beta, "rms": rms}
    if _steps.records(inputs, (dy,)):   # a tape records the backward: ops
        return _steps.vjp(_composite, inputs, len(inputs), (dy,), needs, **attrs)
    needs = needs or (True,) * len(inputs)
    need_gamma = has_gamma and needs[1]
    need_beta = has_beta and needs[-1]
    x = inputs[0]
    dx, dgamma, dbeta = call(
        layer_norm_grad_p, (dy, x, outs[1], outs[2]) + tuple(inputs[1:1 + has_gamma]),
        {"axes": axes, "rms": rms, "need_dx": needs[0], "need_dgamma": need_gamma,
         "need_dbeta": need_beta})
    grads = [dx if needs[0] else None]
    if has_gamma:
        grads.append(dgamma if need_gamma else None)
    if has_beta:
        grads.append(dbeta if need_beta else None)
    return tuple(grads)


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3, rms_scaling=False):
    """Layer normalization of ``x`` over ``axis`` as Keras's ``LayerNormalization``.

    float16/bfloat16 inputs are normalized in float32 and the result cast back.

    Args:
      x: a float tensor.
      gamma: optional scale of shape ``[x.shape[a] for a in axis]`` (sorted axes).
      beta: optional offset of the same shape (ignored with ``rms_scaling``).
      axis: int or list of ints, the normalized axes.
      epsilon: added to the variance.
      rms_scaling: Keras 3's deprecated ``x * rsqrt(variance + epsilon) * gamma``.

    Returns:
      A tensor of ``x``'s shape and dtype.

    Raises:
      ValueError: when ``gamma`` or ``beta`` does not have the normalized shape.
    """
    x = t(x)
    ndim = x._value.ndim
    axes = tuple(sorted(set(norm_axis(axis, ndim, "LayerNorm"))))
    in_dtype = x.dtype
    if in_dtype.name in _HALF:
        x = _m.cast(x, dtypes.float32)
    params = []
    want = tuple(x._value.shape[a] for a in axes)
    bshape = tuple(n if a in axes else 1 for a, n in enumerate(x._value.shape))
    for name, p in (("gamma", gamma), ("beta", None if rms_scaling else beta)):
        if p is None:
            continue
        p = _m.cast(t(p), x.dtype)
        if tuple(p._value.shape) == bshape and bshape != want:
            p = _array.reshape(p, list(want))
        if tuple(p._value.shape) != want:
            raise ValueError(f"`{name}` must have shape {list(want)} (the normalized "
                             f"dims of an input of shape {list(x._value.shape)}). "
                             f"Received: {name}.shape={list(p._value.shape)}")
        params.append(p)
    y = call(layer_norm_p, (x, *params), {
        "axes": axes, "epsilon": float(epsilon), "has_gamma": gamma is not None,
        "has_beta": beta is not None and not rms_scaling, "rms": bool(rms_scaling)})[0]
    return y if y.dtype == in_dtype else _m.cast(y, in_dtype)
