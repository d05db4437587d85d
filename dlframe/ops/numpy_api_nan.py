"""NaN-ignoring statistics of Keras 3's ``keras.ops.numpy``: ``nanmax``/``nanmin``,
``nanargmax``/``nanargmin``, ``nanvar``/``nanstd``, ``nancumsum``/``nancumprod`` and
the quantiles (``nanquantile``, ``nanpercentile``, ``nanmedian``).

Written with dlframe ops, so they are differentiable and traceable; NaNs are replaced
before any arithmetic, so gradients stay finite.
"""

from dlframe.core import dtypes
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import math as _m
from dlframe.ops import reduction as _r
from dlframe.ops import sorting as _s
from dlframe.ops.numpy_api import (
    as_tensor,
    default_int,
    dtype_kind,
    float_tensor,
    scalar,
)
from dlframe.ops.numpy_api_reduce import (
    _METHODS,
    _nan_filled,
    interpolation_points,
    nanmean,
)


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(sorted(a % ndim for a in axis)) if ndim else ()


def _all_nan(x, axis, keepdims):
    return _r.reduce_all(_m.is_nan(x), axis=axis, keepdims=keepdims)


def _nan_extreme(name, reduce, fill):
    def fn(x, axis=None, keepdims=False):
        x = as_tensor(x)
        if dtype_kind(x) != "f":
            return reduce(x, axis=axis, keepdims=keepdims)
        out = reduce(_nan_filled(x, fill), axis=axis, keepdims=keepdims)
        nan = _m.multiply(_m.ones_like(out), float("nan"))
        return _m.where(_all_nan(x, axis, keepdims), nan, out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``{name[3:]}`` over ``axis`` ignoring NaNs (NaN where a slice is all "
                  "NaN).\n\n    Args:\n      x: input tensor.\n      axis: int, tuple "
                  "of ints or None.\n      keepdims: keep reduced axes with length 1.\n"
                  "    ")
    return fn


nanmax = _nan_extreme("nanmax", _r.reduce_max, float("-inf"))
nanmin = _nan_extreme("nanmin", _r.reduce_min, float("inf"))


def _nan_arg(name, reduce, fill):
    def fn(x, axis=None, keepdims=False):
        x = as_tensor(x)
        ndim = x._value.ndim
        flat = axis is None
        if flat:
            x = _a.reshape(x, [-1])
        out = reduce(_nan_filled(x, fill), axis=0 if flat else axis,
                     output_type=default_int())
        if keepdims:
            if flat:
                return _a.reshape(out, [1] * ndim)
            out = _a.expand_dims(out, axis)
        return out
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Index of the {name[6:]} over ``axis`` ignoring NaNs (over the "
                  "flattened tensor when ``axis`` is None).\n\n    Args:\n      x: input "
                  "tensor.\n      axis: int or None.\n      keepdims: keep the reduced axis "
                  "with length 1.\n    ")
    return fn


nanargmax = _nan_arg("nanargmax", _r.argmax, float("-inf"))
nanargmin = _nan_arg("nanargmin", _r.argmin, float("inf"))


def nanvar(x, axis=None, keepdims=False):
    """Population variance over ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    x = float_tensor(x)
    valid = _m.logical_not(_m.is_nan(x))
    filled = _nan_filled(x, 0.0)   # NaNs replaced before any arithmetic: finite grads
    centred = _m.where(valid, _m.subtract(filled, nanmean(x, axis, keepdims=True)),
                       _m.zeros_like(filled))
    count = _r.reduce_sum(_m.cast(valid, x.dtype), axis=axis, keepdims=keepdims)
    return _m.divide(_r.reduce_sum(_m.square(centred), axis=axis, keepdims=keepdims),
                     count)


def nanstd(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return _m.sqrt(nanvar(x, axis, keepdims))


def _nan_scan(name, fn, fill):
    def scan(x, axis=None, dtype=None):
        x = as_tensor(x, dtype)
        if axis is None:
            x, axis = _a.reshape(x, [-1]), 0
        return fn(_nan_filled(x, fill), axis=axis)
    scan.__name__ = scan.__qualname__ = name
    scan.__doc__ = (f"Cumulative {name[6:-4]} along ``axis`` treating NaN as "
                    f"{int(fill)} (over the flattened tensor when ``axis`` is None).\n\n"
                    "    Args:\n      x: input tensor.\n      axis: int or None.\n"
                    "      dtype: optional dtype to compute in.\n    ")
    return scan


nancumsum = _nan_scan("nancumsum", _r.cumsum, 0.0)
nancumprod = _nan_scan("nancumprod", _r.cumprod, 1.0)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles of ``x`` along ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      q: scalar or 1-D quantiles in [0, 1]; a 1-D ``q`` adds a leading axis.
      axis: int, tuple of ints or None.
      method: 'linear', 'lower', 'higher', 'midpoint' or 'nearest'.
      keepdims: keep reduced axes with length 1.
    """
    if method not in _METHODS:
        raise ValueError(f"nanquantile: `method` must be one of {_METHODS}, got "
                         f"{method!r}")
    x = float_tensor(x)
    nd = x._value.ndim
    axes = _axes(axis, nd)
    rest = [i for i in range(nd) if i not in axes]
    flat = _a.reshape(_a.transpose(x, rest + list(axes)) if nd else x,
                      [x._value.shape[i] for i in rest] + [-1])
    ordered = _s.sort(_nan_filled(flat, float("inf")), axis=-1)   # NaNs last
    count = _r.reduce_sum(_m.cast(_m.logical_not(_m.is_nan(flat)), x.dtype), axis=-1,
                          keepdims=True)
    qt = scalar(q, x)
    vector_q = qt._value.ndim == 1
    pos = _m.multiply(qt, _m.maximum(_m.subtract(count, 1.0), 0.0))   # [..., nq|1]
    lo, hi, frac = interpolation_points(pos, method)
    batch = ordered._value.ndim - 1
    take = lambda i: _ai.gather(ordered, _m.cast(i, dtypes.int32), axis=-1,
                                batch_dims=batch)
    a, b = take(lo), take(hi)
    out = _m.add(a, _m.multiply(_m.where(_m.equal(frac, 0.0), _m.zeros_like(a),
                                         _m.subtract(b, a)), frac))
    out = _m.where(_m.equal(_m.multiply(count, _m.ones_like(out)), 0.0),
                   _m.multiply(_m.ones_like(out), float("nan")), out)
    if vector_q:   # the quantile axis goes first, as NumPy
        last = out._value.ndim - 1
        out = _a.transpose(out, [last] + list(range(last)))
    else:
        out = _a.squeeze(out, axis=-1)
    if keepdims:
        lead = 1 if vector_q else 0
        for i in axes:
            out = _a.expand_dims(out, lead + i)
    return out


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) along ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      q: scalar or 1-D percentiles.
      axis: int, tuple of ints or None.
      method: interpolation method (see ``nanquantile``).
      keepdims: keep reduced axes with length 1.
    """
    x = float_tensor(x)
    return nanquantile(x, _m.divide(scalar(q, x), 100.0), axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False):
    """The median along ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return nanquantile(x, 0.5, axis, "linear", keepdims)
