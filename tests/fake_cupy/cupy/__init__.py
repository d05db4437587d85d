"""A strict, CPU-only stand-in for CuPy 14 that lets dlframe's GPU paths run in tests.

Only for the harness in tests/test_fake_gpu_round19.py (``PYTHONPATH=tests/fake_cupy``).
Device arrays are ``cupy._core.ndarray`` wrappers (not ``numpy.ndarray`` subclasses)
that refuse implicit host conversion and host/device mixing as CuPy does; see
``_core`` for the rules. Kernel compilers (``ElementwiseKernel``, ``RawKernel``,
``ReductionKernel``, ``RawModule``) raise NotImplementedError, CUDA graph capture
raises RuntimeError, cuDNN is absent (as in CuPy 14) and NCCL reports unavailable,
so dlframe takes its portable fallbacks. ``fuse`` returns the function unchanged
(a fused kernel computes what the plain chain computes).
"""

import builtins
import importlib
import sys
import types

import numpy

from cupy import _core, _ufuncs
from cupy._core import ndarray, unwrap, unwrap_args, unwrap_kwargs, wrap

__version__ = "14.2.0"

# dtypes and constants are NumPy's objects (CuPy re-exports them)
dtype = numpy.dtype
newaxis = None
ufunc = _ufuncs.ufunc
_HOST_ATTRS = {"pi", "e", "inf", "nan", "euler_gamma", "finfo", "iinfo", "result_type",
               "can_cast", "promote_types", "issubdtype", "min_scalar_type",
               "common_type", "isscalar", "ndim", "shape", "size", "broadcast_shapes",
               "AxisError", "ComplexWarning", "errstate", "seterr", "geterr"}
_NOT_IN_CUPY = {"frompyfunc", "nditer", "char", "rec", "ma", "datetime64", "timedelta64",
                "busday_count", "object_", "str_", "bytes_", "void", "set_printoptions",
                "fromiter", "fromstring", "loadtxt", "genfromtxt", "savetxt",
                "datetime_data", "busday_offset", "is_busday", "testing"}
# functions that call a method of their first argument in CuPy: a list, tuple or
# host array there fails (AttributeError), so the fake requires a device array.
_METHOD_STYLE = {"sum", "prod", "mean", "max", "min", "amax", "amin", "any", "all",
                 "argmax", "argmin", "cumsum", "cumprod", "std", "var", "nansum",
                 "nanprod", "ptp", "round", "around", "clip", "nonzero", "argsort",
                 "sort", "ravel", "squeeze", "swapaxes", "transpose"}
_CONVERT = {"array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray"}


def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == numpy.dtype(dtype) else a.astype(dtype)
    return array(a, dtype=dtype, copy=True, order=order)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *,
          blocking=False):
    if isinstance(obj, (list, tuple)) and not builtins.any(isinstance(o, ndarray) for o in obj) \
            or isinstance(obj, numpy.ndarray) and obj.ndim:
        _core.h2d()   # host data is copied to the device (0-d values: not checked)
    host = _host_tree(obj)
    result = numpy.array(host, dtype=dtype, copy=True, order=order, ndmin=ndmin)
    if _core._bad(result.dtype):
        raise ValueError(f"Unsupported dtype {result.dtype}")
    return wrap(result)


asanyarray = ascontiguousarray = asarray


def asfortranarray(a, dtype=None):
    return wrap(numpy.asfortranarray(unwrap(asarray(a, dtype))))


def _host_tree(obj):
    if isinstance(obj, ndarray):
        return obj._a
    if isinstance(obj, (list, tuple)):
        return [_host_tree(o) for o in obj]
    return obj


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    result = numpy.asarray(a, order=order)
    if out is not None:
        out[...] = result
        return out
    return result


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else numpy


def from_dlpack(obj, *, device=None, copy=None):
    if isinstance(obj, ndarray):
        return obj
    return wrap(numpy.from_dlpack(obj).copy())


def fuse(*args, **kwargs):
    """``@fuse`` / ``fuse(fn)`` / ``fuse(kernel_name=...)``: the function itself."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return _Fused(args[0])
    return lambda fn: _Fused(fn)


class _Fused:
    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args):
        for a in args:
            if isinstance(a, numpy.ndarray):
                _core.reject_host(a, "a fused kernel")
        return self._fn(*args)


class _NoKernel:
    """A CUDA C kernel compiler: unavailable on the fake device."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            f"fake CuPy cannot compile CUDA kernels ({type(self).__name__})")


class ElementwiseKernel(_NoKernel):
    pass


class ReductionKernel(_NoKernel):
    pass


class RawKernel(_NoKernel):
    pass


class RawModule(_NoKernel):
    pass


_CUBLAS = {"dot", "tensordot", "einsum", "inner", "vdot"}   # cuBLAS-backed functions


# results whose size depends on values: CuPy reads a count back (a host sync)
_SIZED_BY_VALUES = {"nonzero", "flatnonzero", "argwhere", "unique", "extract",
                    "compress"}


def _function(name, np_func, cublas=False):
    cublas = cublas or name in _CUBLAS

    def call(*args, **kwargs):
        if cublas:   # one-operand einsum (a trace, a transpose) needs no cuBLAS
            _core.refuse_cublas(name, *(args[:2] if name != "einsum" else
                                        args[1:] if len(args) > 2 else ()))
        if name in _METHOD_STYLE and args and not isinstance(args[0], ndarray):
            raise AttributeError(
                f"cupy.{name} needs a cupy.ndarray, got {type(args[0]).__name__} "
                "(CuPy calls its method)")
        if name in _SIZED_BY_VALUES or name == "where" and len(args) == 1:
            _core._sync()   # the result's size is read back to the host
        if name in ("sort", "argsort"):   # CuPy's sorts are always stable
            kwargs = dict(kwargs, kind="stable")
            if args and getattr(args[0], "dtype", None) is not None and \
                    args[0].dtype.name == "bfloat16":   # CuPy 14.2 (H100)
                raise NotImplementedError(
                    "Sorting arrays with dtype 'bfloat16' is not supported")
        if "dtype" in kwargs and kwargs["dtype"] is not None:
            _core._check_dtype(kwargs["dtype"])
        return wrap(np_func(*unwrap_args(args, f"cupy.{name}"),
                            **unwrap_kwargs(kwargs, f"cupy.{name}")))
    call.__name__ = name
    call.__qualname__ = name
    return call


def _namespace(name, np_module, extra=None):
    """A submodule whose functions are strict wrappers of ``np_module``'s."""
    mod = types.ModuleType(name)

    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(np_module, attr)   # AttributeError for unknown names
        if callable(value) and not isinstance(value, type):
            value = _function(attr, value, cublas=name == "cupy.linalg" and
                              attr != "norm")
            setattr(mod, attr, value)
        return value

    mod.__getattr__ = __getattr__
    for key, value in (extra or {}).items():
        setattr(mod, key, value)
    sys.modules[name] = mod
    return mod


def __getattr__(name):
    if name.startswith("__") or name in _NOT_IN_CUPY:
        raise AttributeError(f"module 'cupy' has no attribute {name!r}")
    if name in _ufuncs.UFUNCS:
        return _ufuncs.UFUNCS[name]
    value = getattr(numpy, name)
    if name in _HOST_ATTRS or isinstance(value, type) or not callable(value):
        return value
    func = _function(name, value)
    globals()[name] = func
    return func


def where(condition, *xy):
    out = _function("where", numpy.where)(condition, *xy)
    if xy and out.dtype.name == "bfloat16":   # CuPy 14.2 (H100): selects in float32
        return out.astype(numpy.float32)
    return out


def _linalg_checked(np_func, name):
    """``cupy.linalg.<name>``: a singular matrix raises LinAlgError only under
    ``cupyx.errstate(linalg='raise')``, else gives NaN (CuPy checks no info)."""
    plain = _function(name, np_func, cublas=True)

    def call(a, *args):
        import cupyx
        try:
            return plain(a, *args)
        except numpy.linalg.LinAlgError:
            if cupyx._LINALG_MODE[0] == "raise":
                raise
            shape = args[0].shape if args else a.shape   # (solve's b: a's batch)
            return wrap(numpy.full(shape, numpy.nan, dtype=a.dtype))
    return call


def _linalg_solve(a, b):
    # CuPy's solve broadcasts no batch dimensions (NumPy's does)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or not (
            (b.ndim == a.ndim and b.shape[:-1] == a.shape[:-1]) or
            (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])):
        raise ValueError("a must have (..., M, M) shape and b must have (..., M, K) "
                         "for multidimensional b")
    return _linalg_checked(numpy.linalg.solve, "solve")(a, b)


linalg = _namespace("cupy.linalg", numpy.linalg, {
    "inv": _linalg_checked(numpy.linalg.inv, "inv"), "solve": _linalg_solve})
fft = _namespace("cupy.fft", numpy.fft)
lib = _namespace("cupy.lib", numpy.lib)
lib.stride_tricks = _namespace("cupy.lib.stride_tricks", numpy.lib.stride_tricks)

# real submodules (a plain ``from cupy import random`` would find numpy.random through
# the module __getattr__ before importing the file)
cuda = importlib.import_module("cupy.cuda")
random = importlib.import_module("cupy.random")
from cupy.cuda import get_default_memory_pool, get_default_pinned_memory_pool  # noqa: F401

__all__ = [
    "ElementwiseKernel",
    "RawKernel",
    "RawModule",
    "ReductionKernel",
    "array",
    "asarray",
    "asnumpy",
    "cuda",
    "fft",
    "from_dlpack",
    "fuse",
    "get_array_module",
    "lib",
    "linalg",
    "ndarray",
    "random",
    "ufunc",
]

# Every process that imports this fake (a test's subprocess too, which pytest's
# ``-p fake_gpu_plugin`` does not reach) keeps real GPU libraries (cuDNN, cuBLAS of a
# GPU machine) away from the fake's host pointers. Last, so that a circular import
# (cupy imported before dlframe) finds this module complete.
import fake_gpu_plugin  # noqa: F401
