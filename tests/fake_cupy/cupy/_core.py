"""The strict device array of the fake CuPy: a wrapper around a NumPy array.

It follows CuPy 14's rules that matter for code written against ``xp`` (GPU.md §1,
CuPy's ``_core/core.pyx`` and ``_routines_indexing.pyx``):

* an ``ndarray`` is NOT a ``numpy.ndarray``; ``numpy.asarray(x)`` raises TypeError
  (``__array__`` refuses implicit conversion), ``x.get()`` / ``cupy.asnumpy`` copy;
* ufuncs and operators refuse host ``numpy.ndarray`` operands and lists (TypeError),
  accepting device arrays, Python scalars and NumPy scalars;
* reductions and integer indexing return 0-d device arrays, never host scalars;
* NumPy calls on device arrays dispatch here through NEP-13/18
  (``__array_ufunc__``/``__array_function__``), as CuPy's do;
* indexing accepts lists and host integer/bool arrays (CuPy copies them over);
  ``a[basic] = host_array`` refuses a non-scalar host array (CuPy's ``fill``);
* object, string and bytes dtypes do not exist on the device (ValueError).
"""

import numbers

import numpy

_SCALARS = (bool, int, float, complex, numpy.generic)
_BAD_KINDS = "OUSV"


def _bad(dtype):
    # bfloat16 (ml_dtypes, kind 'V') has minimal CuPy 14 support (GPU.md §1.8)
    return dtype.kind in _BAD_KINDS and dtype.name != "bfloat16"


def _check_dtype(dtype):
    dtype = numpy.dtype(dtype)
    if _bad(dtype):
        raise ValueError(f"Unsupported dtype {dtype}")
    return dtype


class ndarray:
    """A device array (fake): holds a host NumPy array in ``_a`` that user code must
    never reach except through ``get()``/``cupy.asnumpy``."""

    __slots__ = ("__weakref__", "_a")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = numpy.empty(shape, dtype=_check_dtype(dtype), order=order)

    # -- host transfer --------------------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        _sync()
        if out is not None:
            out[...] = self._a
            return out
        return numpy.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, numpy.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self._a.shape:
            raise ValueError("Shape mismatch")
        self._a[...] = arr

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from cupy import _ufuncs
        cp_ufunc = _ufuncs.UFUNCS.get(ufunc.__name__)
        if cp_ufunc is None:
            return NotImplemented
        if method == "__call__":
            return cp_ufunc(*inputs, **kwargs)
        return getattr(cp_ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        import cupy
        module = cupy
        for part in func.__module__.split(".")[1:]:
            module = getattr(module, part, None)
            if module is None:
                return NotImplemented
        cp_func = getattr(module, func.__name__, None)
        if cp_func is None or cp_func is func:
            return NotImplemented
        return cp_func(*args, **kwargs)

    def __dlpack__(self, *args, **kwargs):
        return self._a.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return (2, 0)   # kDLCUDA, device 0

    # -- metadata ---------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: wrap(self._a.T))
    mT = property(lambda self: wrap(self._a.mT))
    real = property(lambda self: wrap(self._a.real))
    imag = property(lambda self: wrap(self._a.imag))
    base = property(lambda self: None if self._a.base is None else _BaseView(self._a.base))
    data = property(lambda self: _MemoryPointer(self._a))
    device = property(lambda self: _device())

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    def __len__(self):
        return len(self._a)

    def __repr__(self):
        return repr(self._a).replace("array(", "array(", 1)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (wrap(self._a[i]) for i in range(len(self._a)))

    # -- scalars (synchronising, allowed on size-1 arrays) ------------------------
    def __bool__(self):
        _sync()
        return bool(self._a)

    def __int__(self):
        _sync()
        return int(self._a)

    def __float__(self):
        _sync()
        return float(self._a)

    def __complex__(self):
        _sync()
        return complex(self._a)

    def __index__(self):
        _sync()
        if self._a.ndim != 0 or self._a.dtype.kind not in "iub":
            raise TypeError("only integer scalar arrays can be converted to a scalar index")
        return int(self._a)

    def item(self, *args):
        _sync()
        return self._a.item(*args)

    def tolist(self):
        _sync()
        return self._a.tolist()

    def tobytes(self, order="C"):
        return self._a.tobytes(order)

    # -- indexing -----------------------------------------------------------------
    def __getitem__(self, key):
        key = _index(key)
        if _masks(key):
            _sync()   # a boolean mask's selection size is read back to the host
        return wrap(self._a[key])

    def __setitem__(self, key, value):
        key = _index(key)
        if _masks(key):
            _sync()   # CuPy reads the mask's count back (_prepare_mask_indexing_single)
        if isinstance(value, numpy.ndarray) and value.ndim and not _advanced(key):
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        if isinstance(value, (list, tuple)) and not _advanced(key):
            raise TypeError(f"Unsupported type {type(value)}")
        self._a[key] = value._a if isinstance(value, ndarray) else value

    def __getattr__(self, name):
        # The remaining ndarray methods (sum, reshape, astype, ...) run NumPy's on the
        # wrapped data with strict arguments and wrapped results.
        if name.startswith("__") or name in _NOT_IN_CUPY:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name)
        if not callable(method):
            return wrap(method)

        def call(*args, **kwargs):
            if name == "dot":
                refuse_cublas("ndarray.dot", self, *args)
            if name in ("nonzero", "compress"):
                _sync()   # the result's size is read back to the host
            if name == "astype" and args:
                _check_dtype(args[0])
                if self._a.dtype.kind == "f" and numpy.dtype(args[0]).kind == "i" \
                        and numpy.dtype(args[0]).itemsize >= 4:
                    return wrap(_cuda_float_to_int(self._a, numpy.dtype(args[0])))
            return wrap(method(*unwrap_args(args, name), **unwrap_kwargs(kwargs, name)))
        return call

    def __copy__(self):
        return wrap(self._a.copy())

    def __deepcopy__(self, memo):
        return wrap(self._a.copy())

    def __reduce__(self):
        return (_rebuild, (self._a.copy(),))


def _sync():
    """A device-to-host read (CuPy synchronises): refused during fake capture
    (``cupy.cuda.fake_capture``), as CuPy 14 refuses it while a stream captures."""
    if CAPTURING[0]:
        raise RuntimeError("the current stream is capturing, so synchronous API "
                           "calls are disallowed")


def _cuda_float_to_int(a, target):
    """CUDA's float -> int32/int64 conversion (as real CuPy's ``astype``): it
    saturates at the type's bounds and sends NaN to 0 (NumPy on x86: INT_MIN)."""
    info, edge = numpy.iinfo(target), 2.0 ** (8 * target.itemsize - 1)
    src = numpy.nan_to_num(a.astype(numpy.float64), nan=0.0, posinf=edge, neginf=-edge)
    high, low = src >= edge, src < -edge
    out = numpy.where(high | low, 0.0, src).astype(target)
    out[high], out[low] = info.max, info.min
    return out


def _rebuild(host):
    return wrap(host)


# Opt-in stand-in for CUDA-graph stream capture (``cupy.cuda.fake_capture()``): while
# set, every stream reports ``is_capturing()`` and CuPy's cuBLAS/cuSOLVER wrappers
# refuse as CuPy 14 does during a real capture (its ``setStream`` raises).
CAPTURING = [False]


def refuse_cublas(name, *operands):
    """Raises during fake capture when ``cupy.<name>`` would call cuBLAS: a float or
    complex operand (integer products run CuPy's own kernel)."""
    if CAPTURING[0] and any(isinstance(a, ndarray) and a.dtype.kind in "fc"
                            for a in operands):
        raise NotImplementedError(f"cupy.{name}: calling cuBLAS API during stream "
                                  "capture is currently unsupported")


_NOT_IN_CUPY = {"tofile_text", "byteswap", "newbyteorder", "getfield", "setfield",
                "ctypes", "resize", "itemset", "__array_interface__", "dumps_numpy"}


class _BaseView:
    """Stand-in for ``x.base`` (only identity/None checks make sense on it)."""

    def __init__(self, host):
        self._a = host


class _MemoryPointer:
    def __init__(self, host):
        self.ptr = host.__array_interface__["data"][0]
        self.mem = self


def _device():
    from cupy import cuda
    return cuda.Device()


def _masks(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, numpy.ndarray) and k.dtype == bool and k.ndim
               for k in keys)


def _advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (numpy.ndarray, list)) for k in keys)


def _index(key):
    if isinstance(key, ndarray):
        return key._a
    if isinstance(key, tuple):
        for k in key:
            _h2d_index(k)
        return tuple(k._a if isinstance(k, ndarray) else k for k in key)
    _h2d_index(key)
    return key


def _h2d_index(k):
    """A list or host-array index is copied to the device first (refused in capture)."""
    if isinstance(k, list) or isinstance(k, numpy.ndarray) and k.ndim:
        h2d()


def h2d():
    """A host-to-device copy: refused during fake capture, as CuPy 14 refuses it
    while a stream captures."""
    if CAPTURING[0]:
        raise RuntimeError("the current stream is capturing, so H2D transfers are "
                           "disallowed")


def wrap(value):
    """Host results -> device results: arrays and NumPy scalars become ``ndarray``."""
    if isinstance(value, numpy.ndarray):
        if _bad(value.dtype):
            raise ValueError(f"Unsupported dtype {value.dtype}")
        out = ndarray.__new__(ndarray)
        out._a = value
        return out
    if isinstance(value, numpy.generic):
        return wrap(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def reject_host(value, where):
    raise TypeError(
        f"Unsupported type {type(value)} in {where}: a host numpy.ndarray cannot be "
        "mixed with cupy.ndarray operands (fake CuPy, as CuPy 14)")


def unwrap(value, where="", allow_lists=True):
    """Device -> wrapped host array; a host ``numpy.ndarray`` (ndim > 0) is an error."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, numpy.ndarray):
        if value.ndim == 0 and not _bad(value.dtype):
            return value[()]   # 0-d host arrays act as scalars
        reject_host(value, where)
    if isinstance(value, (list, tuple)):
        if not allow_lists:
            raise TypeError(f"Unsupported type {type(value)} in {where}")
        return type(value)(unwrap(v, where) for v in value)
    return value


# CuPy copies host index arrays/lists of these to the device (``core.array``):
# ``cupy.take(a, host_idx)``, ``a.put(host_idx, host_vals)``, ``a.compress(host)``
_CONVERTS_HOST_ARGS = {"take", "put", "compress"}
# these run a ufunc on their array operands: a host ``numpy.ndarray``, even a 0-d
# one, is CuPy's "Unsupported type" TypeError (``cupy.where(c, x, numpy.asarray(0))``)
_UFUNC_OPERANDS = {"where", "clip"}


def unwrap_args(args, where):
    name = where.rsplit(".", 1)[-1]
    if name in _CONVERTS_HOST_ARGS:
        return [a._a if isinstance(a, ndarray) else a for a in args]
    if name in _UFUNC_OPERANDS:
        for a in args:
            if isinstance(a, numpy.ndarray):
                reject_host(a, where)
    return [unwrap(a, where) for a in args]


def unwrap_kwargs(kwargs, where):
    return {k: (v if k in ("dtype", "out") and not isinstance(v, ndarray)
                else unwrap(v, where)) for k, v in kwargs.items()}


def is_scalar(value):
    return isinstance(value, (*_SCALARS, numbers.Number))
