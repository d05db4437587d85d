"""``tf.experimental.numpy`` (tnp): NumPy's API on dlframe tensors.

The functions are the shared implementation behind ``keras.ops`` (the
``dlframe.ops.numpy_api*`` modules), each called under NumPy's dtype rules:
``int32 + float32`` is float64, Python floats and ``tnp.zeros`` default to float64,
Python ints and ``tnp.arange`` to int64 (TF's default "legacy" tnp behaviour).

``experimental_enable_numpy_behavior()`` adds NumPy-style methods to tensors
(``reshape``, ``astype``, ``ravel``, ``tolist``, ``transpose``, ``clip``, ``mean``,
``sum``, ...) and lets binary operators promote mixed dtypes by NumPy's rules
instead of raising.
"""

import functools as _functools
import importlib as _importlib

from dlframe.backends.base import np as _np
from dlframe.core import dtypes as _dtypes
from dlframe.core.tensor import Tensor as ndarray
from dlframe.errors import DTypeMismatchError as _DTypeMismatchError
from dlframe.experimental.numpy import random  # noqa: F401
from dlframe.ops import numpy_api as _api
from dlframe.ops import numpy_api_promote as _promote
from dlframe.ops import slicing as _slicing

_MODULES = ("numpy_api", "numpy_api_reduce", "numpy_api_create", "numpy_api_shape",
            "numpy_api_index", "numpy_api_tnp", "numpy_api_tnp_rules")
_LINALG = ("cross", "dot", "einsum", "inner", "kron", "matmul", "outer", "tensordot",
           "vdot")


def _numpy_rules(fn):
    @_functools.wraps(fn)
    def call(*args, **kwargs):
        with _api.numpy_rules():
            return fn(*args, **kwargs)
    return call


def _table():
    out = {}
    for mod in _MODULES:
        m = _importlib.import_module(f"dlframe.ops.{mod}")
        for name in m.__all__:
            out[name] = _numpy_rules(getattr(m, name))
    linalg = _importlib.import_module("dlframe.ops.numpy_api_linalg")
    for name in _LINALG:
        out[name] = _numpy_rules(getattr(linalg, name))
    return out


globals().update(_table())
asanyarray = ascontiguousarray = asarray  # noqa: F821 - set by the table above

# dtypes and constants are NumPy's, as in TF's tnp
bool_, int8, int16, int32, int64 = _np.bool_, _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
float16, float32, float64 = _np.float16, _np.float32, _np.float64
complex64, complex128 = _np.complex64, _np.complex128
float_, int_, complex_ = _np.float64, _np.int64, _np.complex128
inexact, object_, string_, unicode_ = _np.inexact, _np.object_, _np.bytes_, _np.str_
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, None
iinfo, finfo, issubdtype, promote_types = _np.iinfo, _np.finfo, _np.issubdtype, \
    _np.promote_types


def result_type(*arrays_and_dtypes):
    """The dtype (a DType) ``arrays_and_dtypes`` promote to under NumPy's rules."""
    with _api.numpy_rules():
        values = [a for a in arrays_and_dtypes if not _is_dtype(a)]
        kinds = [_dtypes.as_dtype(a)._np for a in arrays_and_dtypes if _is_dtype(a)]
        found = [_api.result_type(*values)._np] if values else []
        return _dtypes.as_dtype(_np.result_type(*found, *kinds))


def _is_dtype(v):
    return isinstance(v, (type, str, _np.dtype, _dtypes.DType))


def isscalar(x):
    """Whether ``x`` is a Python/NumPy scalar or a 0-d tensor."""
    if isinstance(x, ndarray):
        return x.ndim == 0
    return _np.isscalar(x)


def array_equal(a1, a2):
    """Whether two arrays have the same shape and elements (a bool tensor)."""
    a1, a2 = asarray(a1), asarray(a2)  # noqa: F821
    if tuple(a1.shape) != tuple(a2.shape):
        return asarray(False)  # noqa: F821
    return all(equal(a1, a2))  # noqa: F821


# ---------------------------------------------------------------- numpy behaviour
_METHODS = {
    "reshape": lambda self, *shape, **kw: reshape(  # noqa: F821
        self, kw.get("newshape", shape[0] if len(shape) == 1 else shape)),
    "astype": lambda self, dtype: _api.as_tensor(self, dtype),
    "ravel": lambda self: ravel(self),  # noqa: F821
    "flatten": lambda self: ravel(self),  # noqa: F821
    "tolist": lambda self: self.numpy().tolist(),
    "transpose": lambda self, *axes: transpose(  # noqa: F821
        self, (axes[0] if len(axes) == 1 else axes) or None),
    "clip": lambda self, a_min=None, a_max=None: clip(self, a_min, a_max),  # noqa: F821
    "mean": lambda self, axis=None, dtype=None, out=None, keepdims=False: _reduce(
        mean, self, axis, dtype, out, keepdims),  # noqa: F821
    "sum": lambda self, axis=None, dtype=None, out=None, keepdims=False: _reduce(
        sum, self, axis, dtype, out, keepdims),
    "max": lambda self, axis=None, out=None, keepdims=False: _reduce(
        max, self, axis, None, out, keepdims),
    "min": lambda self, axis=None, out=None, keepdims=False: _reduce(
        min, self, axis, None, out, keepdims),
    "squeeze": lambda self, axis=None: squeeze(self, axis),  # noqa: F821
    "swapaxes": lambda self, a, b: swapaxes(self, a, b),  # noqa: F821
    "item": lambda self: self.numpy().item(),
}
_OPERATORS = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
              "floordiv": "floor_divide", "mod": "mod", "pow": "power", "lt": "less",
              "le": "less_equal", "gt": "greater", "ge": "greater_equal"}
_PROPERTIES = {"size": lambda self: _static_size(self),
               "data": lambda self: self}


def _static_size(x):
    """``Tensor.size``: a NumPy int64 when the shape is static (as TF), else a
    tensor."""
    if x.shape.is_fully_defined():
        return _np.int64(x.shape.num_elements())
    return size(x)  # noqa: F821
_ENABLED = [False]


def _reduce(fn, x, axis, dtype, out, keepdims):
    """A reduction method; takes NumPy's ``dtype``/``out`` so ``np.sum(t)`` works."""
    if out is not None:
        raise NotImplementedError(f"{fn.__name__}: `out` is not supported, got {out!r}")
    if dtype is None:
        return fn(x, axis, keepdims=keepdims)
    return _api.as_tensor(fn(_api.as_tensor(x, dtype), axis, keepdims=keepdims), dtype)


def _promoting(original, fn, reflected):
    """``original`` operator, retried with NumPy promotion on a dtype mismatch.

    NumPy arrays of another dtype, and Python floats under ``prefer_float32``
    (typed float32, not weak), take NumPy promotion directly.
    """
    def op(self, other):
        if not _numpy_promotes(self, other):
            try:
                return original(self, other)
            except _DTypeMismatchError:
                pass
        return fn(other, self) if reflected else fn(self, other)
    return op


def _numpy_promotes(tensor, other):
    if isinstance(other, (_np.ndarray, _np.generic)):   # NumPy scalars keep dtypes
        return other.dtype != tensor._value.dtype
    return _promote._PREFER_FLOAT32[0] and isinstance(other, (float, complex))


def experimental_enable_numpy_behavior(prefer_float32=False,
                                       dtype_conversion_mode="legacy"):
    """Adds NumPy methods to tensors and NumPy dtype promotion to their operators.

    Args:
      prefer_float32: if True, Python floats (and complexes) become float32
        (complex64) arrays instead of NumPy's float64 (``tnp.asarray(1.5)``,
        ``int8_tensor + 1.5``); dtype defaults (``tnp.zeros``) stay float64.
      dtype_conversion_mode: 'legacy' (NumPy's rules); other modes are not supported.
    """
    if dtype_conversion_mode not in ("legacy", "all", "safe"):
        raise ValueError(f"experimental_enable_numpy_behavior: unknown "
                         f"dtype_conversion_mode {dtype_conversion_mode!r}")
    _promote.set_prefer_float32(prefer_float32)
    _slicing.set_numpy_indexing(True)
    if _ENABLED[0]:
        return
    table = globals()
    for name, method in _METHODS.items():
        setattr(ndarray, name, method)
    for name, getter in _PROPERTIES.items():
        setattr(ndarray, name, property(getter))
    for dunder, fname in _OPERATORS.items():
        fn = table[fname]
        setattr(ndarray, f"__{dunder}__",
                _promoting(getattr(ndarray, f"__{dunder}__"), fn, False))
        if hasattr(ndarray, f"__r{dunder}__"):
            setattr(ndarray, f"__r{dunder}__",
                    _promoting(getattr(ndarray, f"__r{dunder}__"), fn, True))
    _ENABLED[0] = True
