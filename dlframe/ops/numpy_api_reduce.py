"""NumPy-style reductions, scans, sorting and statistics (``keras.ops.sum``, ``mean``,
``argmax``, ``cumsum``, ``sort``, ``median``, ``quantile``, ...).

dtype rules follow ``numpy_api``: Keras 3 sums small integers into int32 (uint32 for
small unsigned) and averages integers into floatx; NumPy rules use int64/float64.
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
    promote,
    scalar,
    to_float,
    using_numpy_rules,
)

_SMALL_INT = ("bool", "int8", "int16", "uint8", "uint16")


def _axis_arg(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _accumulator(x):
    """The dtype a sum/product of ``x`` accumulates in."""
    name = x.dtype.name
    if name not in _SMALL_INT and not (using_numpy_rules() and name in ("int32",
                                                                       "uint32")):
        return x
    if name.startswith("uint"):
        return _m.cast(x, dtypes.uint64 if using_numpy_rules() else dtypes.uint32)
    return _m.cast(x, default_int())


def sum(x, axis=None, keepdims=False):
    """Sum of elements over ``axis`` (all axes when None).

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    x = _accumulator(as_tensor(x))
    return _r.reduce_sum(x, axis=_axis_arg(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product of elements over ``axis``.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
      dtype: optional accumulation/result dtype.
    """
    x = as_tensor(x)
    x = _m.cast(x, dtype) if dtype is not None else _accumulator(x)
    return _r.reduce_prod(x, axis=_axis_arg(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis`` (integers average into floats).

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    x = to_float(as_tensor(x))
    return _r.reduce_mean(x, axis=_axis_arg(axis), keepdims=keepdims)


def _extreme(reduce, combine, x, axis, keepdims, initial):
    x = as_tensor(x)
    logical = dtype_kind(x) == "b"   # max/min of bools are any/all, still bool
    if logical:
        x = _m.cast(x, "int32")
    out = reduce(x, axis=_axis_arg(axis), keepdims=keepdims)
    if initial is not None:
        out = combine(out, scalar(initial, out))
    return _m.cast(out, "bool") if logical else out


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over ``axis``.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
      initial: optional value the result is at least.
    """
    return _extreme(_r.reduce_max, _m.maximum, x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over ``axis``.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
      initial: optional value the result is at most.
    """
    return _extreme(_r.reduce_min, _m.minimum, x, axis, keepdims, initial)


amax, amin = max, min


def ptp(x, axis=None, keepdims=False):
    """Range ``max - min`` over ``axis``.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return _m.subtract(max(x, axis, keepdims), min(x, axis, keepdims))


def _float_reduction(reduce, doc):
    """A NumPy-style reduction computed in floating point (integers become floatx)."""
    def fn(x, axis=None, keepdims=False):
        return reduce(to_float(as_tensor(x)), axis=_axis_arg(axis), keepdims=keepdims)
    fn.__doc__ = f"""{doc}

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return fn


var = _float_reduction(_r.reduce_variance, "Population variance over ``axis``.")
std = _float_reduction(_r.reduce_std, "Population standard deviation over ``axis``.")
for _fn, _name in ((var, "var"), (std, "std")):
    _fn.__name__ = _fn.__qualname__ = _name
del _fn, _name


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (``keras.ops.logsumexp``:
    ``tf.math.reduce_logsumexp``, so integer inputs raise as in Keras on TF).

    Args:
      x: a float tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.

    Raises:
      InvalidArgumentError: for a non-float ``x``.
    """
    return _r.reduce_logsumexp(as_tensor(x), axis=_axis_arg(axis), keepdims=keepdims)


def _as_bool(x):
    x = as_tensor(x)
    return x if dtype_kind(x) == "b" else _m.not_equal(x, _m.zeros_like(x))


def all(x, axis=None, keepdims=False):
    """Whether all elements along ``axis`` are truthy.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return _r.reduce_all(_as_bool(x), axis=_axis_arg(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Whether any element along ``axis`` is truthy.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return _r.reduce_any(_as_bool(x), axis=_axis_arg(axis), keepdims=keepdims)


def count_nonzero(x, axis=None):
    """Number of non-zero elements along ``axis`` (int32; int64 under NumPy rules).

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
    """
    return _r.reduce_sum(_m.cast(_as_bool(x), default_int()), axis=_axis_arg(axis))


def _arg(reduce, x, axis, keepdims):
    x = as_tensor(x)
    if axis is None:
        flat = _a.reshape(x, [-1])
        out = reduce(flat, axis=0, output_type=default_int())
        if keepdims:
            out = _a.reshape(out, [1] * x._value.ndim)
        return out
    out = reduce(x, axis=axis, output_type=default_int())
    return _a.expand_dims(out, axis) if keepdims else out


def argmax(x, axis=None, keepdims=False):
    """Index of the largest value along ``axis`` (of the flattened input when None).

    Args:
      x: input tensor.
      axis: int or None.
      keepdims: keep the reduced axis with length 1.
    """
    return _arg(_r.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the smallest value along ``axis`` (of the flattened input when None).

    Args:
      x: input tensor.
      axis: int or None.
      keepdims: keep the reduced axis with length 1.
    """
    return _arg(_r.argmin, x, axis, keepdims)


def _scan(fn, x, axis, dtype):
    x = as_tensor(x)
    if dtype is not None:
        x = _m.cast(x, dtype)
    elif using_numpy_rules() and dtype_kind(x) in "iu":
        # tnp scans integers in result_type(x, int64): int64, float64 for uint64
        x = _m.cast(x, dtypes.float64 if x.dtype.name == "uint64" else dtypes.int64)
    elif dtype_kind(x) == "b" or (using_numpy_rules() and x.dtype.name in
                                        _SMALL_INT):
        x = _accumulator(x)
    if axis is None:
        x, axis = _a.reshape(x, [-1]), 0
    return fn(x, axis=axis)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (of the flattened input when None).

    Args:
      x: input tensor.
      axis: int or None.
      dtype: optional result dtype.
    """
    return _scan(_r.cumsum, x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (of the flattened input when None).

    Args:
      x: input tensor.
      axis: int or None.
      dtype: optional result dtype.
    """
    return _scan(_r.cumprod, x, axis, dtype)


def _flat_axis(x, axis):
    if axis is None:
        return _a.reshape(x, [-1]), -1
    return x, axis


def sort(x, axis=-1):
    """``x`` sorted ascending along ``axis`` (flattened when None).

    Args:
      x: input tensor.
      axis: int or None.
    """
    x, axis = _flat_axis(as_tensor(x), axis)
    return _s.sort(x, axis=axis)


def argsort(x, axis=-1):
    """Indices that sort ``x`` ascending along ``axis`` (stable).

    Args:
      x: input tensor.
      axis: int or None (flattened input).
    """
    x, axis = _flat_axis(as_tensor(x), axis)
    out = _s.argsort(x, axis=axis, stable=True)
    return out if default_int() == dtypes.int32 else _m.cast(out, default_int())


def average(x, axis=None, weights=None):
    """Weighted mean along ``axis``; ``weights`` is 1-D along ``axis`` or ``x``'s shape.

    Args:
      x: input tensor.
      axis: int or None.
      weights: optional weights.
    """
    if weights is None:
        return mean(x, axis)
    x, w = promote(x, weights)
    x, w = to_float(x), to_float(w)
    if w._value.ndim == 1 and x._value.ndim > 1 and axis is not None:
        shape = [1] * x._value.ndim
        shape[axis] = -1
        w = _a.reshape(w, shape)
    total = _r.reduce_sum(_m.multiply(x, w), axis=axis)
    return _m.divide(total, _r.reduce_sum(_m.multiply(_m.ones_like(x), w), axis=axis))


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def interpolation_points(pos, method):
    """``(lo, hi, frac)``: the sorted positions a quantile at fractional position
    ``pos`` reads and the weight of ``hi``, for each interpolation ``method``."""
    lo, hi = _m.floor(pos), _m.ceil(pos)
    if method == "lower":
        hi = lo
    elif method == "higher":
        lo = hi
    elif method == "nearest":
        lo = hi = _m.round(pos)
    frac = _m.subtract(pos, lo) if method == "linear" else _m.multiply(
        _m.ones_like(pos), 0.5 if method == "midpoint" else 0.0)
    return lo, hi, frac


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1]) of ``x`` along ``axis``.

    Args:
      x: input tensor.
      q: scalar or 1-D quantiles; a 1-D ``q`` adds a leading axis to the result.
      axis: int, tuple of ints or None.
      method: 'linear', 'lower', 'higher', 'midpoint' or 'nearest'.
      keepdims: keep reduced axes with length 1.
    """
    if method not in _METHODS:
        raise ValueError(f"quantile: `method` must be one of {_METHODS}, got {method!r}")
    x = to_float(as_tensor(x))
    nd = x._value.ndim
    axes = tuple(range(nd)) if axis is None else tuple(
        a % nd for a in (axis if isinstance(axis, (list, tuple)) else (axis,)))
    rest = [i for i in range(nd) if i not in axes]
    moved = _a.transpose(x, rest + list(axes)) if nd else x
    shape = [x._value.shape[i] for i in rest]
    flat = _a.reshape(moved, shape + [-1])
    ordered = _s.sort(flat, axis=-1)
    n = flat._value.shape[-1]
    qt = scalar(q, x)
    pos = _m.multiply(qt, float(n - 1))
    lo, hi, frac = interpolation_points(pos, method)
    take = lambda i: _ai.gather(ordered, _m.cast(i, dtypes.int32), axis=-1)
    last = ordered._value.ndim - 1
    a, b = take(lo), take(hi)
    out = _m.add(a, _m.multiply(_m.subtract(b, a), frac))
    if qt._value.ndim == 1:   # the quantile axis goes first, as NumPy
        out = _a.transpose(out, [last] + list(range(last)))
    if keepdims:
        lead = 1 if qt._value.ndim == 1 else 0
        for i in sorted(axes):
            out = _a.expand_dims(out, lead + i)
    return out


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) of ``x`` along ``axis``.

    Args:
      x: input tensor.
      q: scalar or 1-D percentiles.
      axis: int, tuple of ints or None.
      method: interpolation method (see ``quantile``).
      keepdims: keep reduced axes with length 1.
    """
    x = to_float(as_tensor(x))
    return quantile(x, _m.divide(scalar(q, x), 100.0), axis, method, keepdims)


def median(x, axis=None, keepdims=False):
    """Median along ``axis`` (mean of the two middle values for even counts).

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return quantile(x, 0.5, axis, "linear", keepdims)


def _nan_filled(x, value):
    x = as_tensor(x)
    if dtype_kind(x) != "f":
        return x
    return _m.where(_m.is_nan(x), _m.multiply(_m.ones_like(x), value), x)


def nansum(x, axis=None, keepdims=False):
    """Sum over ``axis`` treating NaN as zero.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return sum(_nan_filled(x, 0.0), axis, keepdims)


def nanmean(x, axis=None, keepdims=False):
    """Mean over ``axis`` ignoring NaNs.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    x = to_float(as_tensor(x))
    valid = _m.cast(_m.logical_not(_m.is_nan(x)), x.dtype)
    return _m.divide(nansum(x, axis, keepdims), sum(valid, axis, keepdims))


def nanprod(x, axis=None, keepdims=False):
    """Product over ``axis`` treating NaN as one.

    Args:
      x: input tensor.
      axis: int, tuple of ints or None.
      keepdims: keep reduced axes with length 1.
    """
    return prod(_nan_filled(x, 1.0), axis, keepdims)


__all__ = [
    "all", "amax", "amin", "any", "argmax", "argmin", "argsort", "average",
    "count_nonzero", "cumprod", "cumsum", "logsumexp", "max", "mean", "median", "min",
    "nanmean", "nanprod", "nansum", "percentile", "prod", "ptp", "quantile", "sort",
    "std", "sum", "var",
]
