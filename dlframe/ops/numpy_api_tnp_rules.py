"""``tf.experimental.numpy`` functions whose TF behaviour differs from ``keras.ops``.

The shared ``numpy_api*`` implementations follow Keras 3; these wrappers add what
TF's tnp does on top (found by probing against TF 2.21):

- ``take`` has NumPy's ``mode`` with TF's default ``"clip"`` (an index of -1 is
  clipped to 0, as in ``numpy.take(..., mode="clip")``).
- ``meshgrid`` keeps each input's dtype (NumPy), rather than promoting them.
- ``average`` takes ``returned=True`` (the average and the sum of the weights).
- ``divide`` of integers no wider than 16 bits gives float32 (wider ones and
  booleans float64).
- ``linspace``/``logspace``/``geomspace`` with Python-number bounds give float32
  under ``experimental_enable_numpy_behavior(prefer_float32=True)``.
"""

import numbers

from dlframe.core import dtypes
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import math as _m
from dlframe.ops import numpy_api as _api
from dlframe.ops import numpy_api_create as _create
from dlframe.ops import numpy_api_promote as _promote
from dlframe.ops import numpy_api_reduce as _reduce
from dlframe.ops import numpy_api_shape as _shape
from dlframe.ops.numpy_api import as_tensor, promote

_TAKE_MODES = ("clip", "wrap")


def take(a, indices, axis=None, out=None, mode="clip"):
    """Elements of ``a`` at ``indices`` along ``axis`` (the flattened ``a`` when
    None).

    Args:
      a: input array.
      indices: integer indices.
      axis: int or None.
      out: unsupported (must be None).
      mode: ``"clip"`` (TF's default: indices clipped into ``[0, n - 1]``, so
        negative ones give the first element) or ``"wrap"`` (indices taken modulo
        ``n``).

    Raises:
      ValueError: ``out`` is given, or ``mode`` is ``"raise"`` or unknown.
    """
    if out is not None:
        raise ValueError(f"take: the `out` argument is not supported, got {out!r}")
    if mode not in _TAKE_MODES:
        raise ValueError(f"take: `mode` must be 'clip' or 'wrap' ('raise' is not "
                         f"supported), got mode={mode!r}")
    x = as_tensor(a)
    gather = _ai.gather
    if axis is None:   # a flattened take's gradient is dense, as in TF
        x, axis, gather = _a.reshape(x, [-1]), 0, _ai.gather_dense_grad
    axis = _shape._axis(axis, x._value.ndim, "take")
    size = x._value.shape[axis]
    idx = as_tensor(indices)
    if idx.dtype.is_floating or idx.dtype == dtypes.bool:
        raise TypeError(f"take: `indices` must be integers, got dtype {idx.dtype.name}")
    if mode == "clip":
        idx = _m.minimum(_m.maximum(idx, 0), max(size - 1, 0))
    else:
        idx = _m.floormod(idx, size)
    return gather(x, idx, axis=axis)


def meshgrid(*xi, **kwargs):
    """Coordinate matrices from 1-D vectors, each keeping its own dtype.

    Args:
      *xi: 1-D arrays.
      **kwargs: ``indexing`` (``"xy"``, the default, or ``"ij"``).
    """
    return _a.meshgrid(*[as_tensor(x) for x in xi], **kwargs)


def average(a, axis=None, weights=None, returned=False):
    """The (weighted) mean along ``axis``.

    Args:
      a: input array.
      axis: int or None (all elements).
      weights: optional weights, 1-D along ``axis`` or ``a``'s shape.
      returned: also return the sum of the weights (the element count without
        weights), broadcast to the average's shape.

    Returns:
      The average, or ``(average, sum_of_weights)`` with ``returned``.
    """
    avg = _reduce.average(a, axis=axis, weights=weights)
    if not returned:
        return avg
    x = as_tensor(a)
    if weights is None:
        count = x._value.size if axis is None else x._value.shape[axis]
        total = _m.cast(count, avg.dtype)
    else:
        w = _m.cast(as_tensor(weights), avg.dtype)
        if w._value.ndim == 1 and x._value.ndim > 1 and axis is not None:
            total = _reduce.sum(w)
        else:
            total = _reduce.sum(_shape.broadcast_to(w, tuple(x._value.shape)),
                                axis=axis)
    return avg, _shape.broadcast_to(total, tuple(avg._value.shape))


def divide(x1, x2):
    """Elementwise true division ``x1 / x2``; integers up to 16 bits divide in
    float32, wider integers and booleans in float64 (TF's tnp).

    Args:
      x1: dividend.
      x2: divisor.
    """
    a, b = promote(x1, x2)
    if a.dtype.is_integer and a.dtype.size <= 2:
        a, b = _m.cast(a, dtypes.float32), _m.cast(b, dtypes.float32)
    return _api.divide(a, b)


true_divide = divide


def _float_bounds(*bounds):
    """Python-number bounds as float32 tensors under ``prefer_float32``."""
    if not _promote._PREFER_FLOAT32[0]:
        return bounds
    return tuple(as_tensor(b, dtypes.float32)
                 if isinstance(b, numbers.Number) and not isinstance(b, bool) else b
                 for b in bounds)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced samples from ``start`` to ``stop`` (see
    ``keras.ops.linspace``); float32 from Python bounds under ``prefer_float32``."""
    if dtype is None:
        start, stop = _float_bounds(start, stop)
    return _create.linspace(start, stop, num, endpoint, retstep, dtype, axis)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``; float32 from Python bounds under
    ``prefer_float32``."""
    if dtype is None:
        start, stop = _float_bounds(start, stop)
    return _create.logspace(start, stop, num, endpoint, base, dtype, axis)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """A geometric progression from ``start`` to ``stop``; float32 from Python
    bounds under ``prefer_float32``."""
    if dtype is None:
        start, stop = _float_bounds(start, stop)
    return _create.geomspace(start, stop, num, endpoint, dtype, axis)


__all__ = ["average", "divide", "geomspace", "linspace", "logspace", "meshgrid",
           "take", "true_divide"]
