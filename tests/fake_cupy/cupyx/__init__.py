"""``cupyx`` of the fake CuPy: scatter_add/max/min (``numpy.<ufunc>.at`` semantics with
CuPy's dtype list for integer-array indices, GPU.md §1.9), ``scipy.special``."""

import numpy
from cupy._core import ndarray
from cupy._ufuncs import like_cupy_at

_SCATTER_DTYPES = {"int32", "int64", "float16", "float32", "float64", "uint32", "uint64"}
# scatter_max/min: no float16 (CuPy's _scatter_op_single lists int32, float32,
# float64, uint32, uint64; int64 is kept as for scatter_add, unverified for 14.2)
_SCATTER_MINMAX_DTYPES = _SCATTER_DTYPES - {"float16"}


def _scatter(ufunc, name, a, slices, value):
    if not isinstance(a, ndarray):
        raise TypeError(f"cupyx.{name} needs a cupy.ndarray, got {type(a)}")
    keys = slices if isinstance(slices, tuple) else (slices,)
    # CuPy copies host index arrays and lists to the device (_prepare_slice_list);
    # with such an index a host value is copied too, else it meets a ufunc
    host = [k._a if isinstance(k, ndarray) else k for k in keys]
    advanced = any(isinstance(k, (numpy.ndarray, list)) for k in host)
    dtypes = _SCATTER_DTYPES if name == "scatter_add" else _SCATTER_MINMAX_DTYPES
    if advanced and a.dtype.name not in dtypes:
        raise TypeError(f"cupyx.{name} does not support dtype {a.dtype}")
    if isinstance(value, numpy.ndarray) and not advanced:
        raise TypeError(f"cupyx.{name}: Unsupported type {type(value)} (a host value "
                        "with basic slices goes to a ufunc)")
    value = value._a if isinstance(value, ndarray) else value
    value = like_cupy_at(ufunc.__name__, a.dtype, value)   # float64 max/min: lossy
    ufunc.at(a._a, tuple(host) if isinstance(slices, tuple) else host[0], value)


def scatter_add(a, slices, value):
    _scatter(numpy.add, "scatter_add", a, slices, value)


def scatter_max(a, slices, value):
    _scatter(numpy.maximum, "scatter_max", a, slices, value)


def scatter_min(a, slices, value):
    _scatter(numpy.minimum, "scatter_min", a, slices, value)


# cupyx.errstate(linalg=...): CuPy's linalg reports singular input only under
# 'raise' (default 'ignore': inf/NaN results, no host sync); read by cupy.linalg
_LINALG_MODE = ["ignore"]


class errstate:  # (CuPy's name and signature)
    def __init__(self, *, linalg=None):
        self._mode = linalg

    def __enter__(self):
        self._saved = _LINALG_MODE[0]
        if self._mode is not None:
            _LINALG_MODE[0] = self._mode
        return self

    def __exit__(self, *exc):
        _LINALG_MODE[0] = self._saved
        return False


def __getattr__(name):
    if name == "scipy":
        from cupyx import scipy
        return scipy
    raise AttributeError(f"module 'cupyx' has no attribute {name!r}")
