"""``cupyx`` of the fake CuPy: scatter_add/max/min (``numpy.<ufunc>.at`` semantics with
CuPy's dtype list for integer-array indices, GPU.md §1.9), ``scipy.special``."""

import numpy
from cupy._core import ndarray

_SCATTER_DTYPES = {"int32", "int64", "float16", "float32", "float64", "uint32", "uint64"}


def _scatter(ufunc, name, a, slices, value):
    if not isinstance(a, ndarray):
        raise TypeError(f"cupyx.{name} needs a cupy.ndarray, got {type(a)}")
    keys = slices if isinstance(slices, tuple) else (slices,)
    host = []
    for k in keys:
        if isinstance(k, numpy.ndarray) and k.ndim:
            raise TypeError(f"cupyx.{name}: host index arrays are not supported")
        host.append(k._a if isinstance(k, ndarray) else k)
    if any(isinstance(k, numpy.ndarray) for k in host) and \
            a.dtype.name not in _SCATTER_DTYPES:
        raise TypeError(f"cupyx.{name} does not support dtype {a.dtype}")
    if isinstance(value, numpy.ndarray) and value.ndim:
        raise TypeError(f"cupyx.{name}: host value arrays are not supported")
    value = value._a if isinstance(value, ndarray) else value
    ufunc.at(a._a, tuple(host) if isinstance(slices, tuple) else host[0], value)


def scatter_add(a, slices, value):
    _scatter(numpy.add, "scatter_add", a, slices, value)


def scatter_max(a, slices, value):
    _scatter(numpy.maximum, "scatter_max", a, slices, value)


def scatter_min(a, slices, value):
    _scatter(numpy.minimum, "scatter_min", a, slices, value)


def __getattr__(name):
    if name == "scipy":
        from cupyx import scipy
        return scipy
    raise AttributeError(f"module 'cupyx' has no attribute {name!r}")
