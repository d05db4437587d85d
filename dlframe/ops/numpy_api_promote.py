"""The dtype rules behind ``keras.ops`` and ``tf.experimental.numpy``: the Keras 3
promotion lattice (weak Python scalars), NumPy rules inside ``numpy_rules()``, Keras
dtype-name standardization, and the conversions every ``numpy_api*`` function uses
(``as_tensor``, ``promote``, ``to_float``). ``numpy_api`` re-exports all of it.
"""

import contextlib
import contextvars

from dlframe import config
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops import math as _m

_NUMPY_RULES = contextvars.ContextVar("dlframe_numpy_rules", default=False)
_WEAK = (bool, int, float, complex)


@contextlib.contextmanager
def numpy_rules():
    """Within this context the functions follow NumPy's dtype rules (tnp)."""
    token = _NUMPY_RULES.set(True)
    try:
        yield
    finally:
        _NUMPY_RULES.reset(token)


def using_numpy_rules():
    """True inside ``numpy_rules()``."""
    return _NUMPY_RULES.get()


_PREFER_FLOAT32 = [False]   # tnp.experimental_enable_numpy_behavior(prefer_float32)


def set_prefer_float32(flag):
    """Under NumPy rules, infer float32/complex64 for Python floats/complexes
    (``experimental_enable_numpy_behavior(prefer_float32=True)``)."""
    _PREFER_FLOAT32[0] = bool(flag)


def _preferred(value_dtype):
    """float64/complex128 inferred from Python values, narrowed under prefer_float32."""
    if _PREFER_FLOAT32[0]:
        return {"float64": np.dtype("float32"),
                "complex128": np.dtype("complex64")}.get(value_dtype.name, value_dtype)
    return value_dtype


def default_float():
    """float64 under NumPy rules, else Keras' floatx."""
    return dtypes.float64 if using_numpy_rules() else dtypes.as_dtype(config.floatx())


def default_int():
    """int64 under NumPy rules, else int32."""
    return dtypes.int64 if using_numpy_rules() else dtypes.int32


# ---------------------------------------------------------------- dtype names
_KERAS_DTYPES = frozenset(
    ["bool", "string", "bfloat16", "float16", "float32", "float64", "complex64",
     "complex128"] + [f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64)])


def keras_dtype(dtype):
    """``dtype`` as a DType under the active rules' spelling.

    Keras 3 (``keras.backend.standardize_dtype``) accepts canonical names, DTypes,
    NumPy dtypes and the Python types (``int`` is int64, ``float`` floatx) and
    raises ``ValueError`` on anything else ('double', 'floatx'); NumPy rules accept
    whatever NumPy does.

    Args:
      dtype: a dtype-like value (not None).

    Raises:
      ValueError: an unknown dtype under Keras rules.
    """
    if using_numpy_rules() and dtype is float:
        return dtypes.float64   # NumPy's float; tf.as_dtype(float) is float32
    if using_numpy_rules() or isinstance(dtype, dtypes.DType):
        return dtypes.as_dtype(dtype)
    if dtype is float:
        return dtypes.as_dtype(config.floatx())
    if dtype is int or (isinstance(dtype, str) and dtype == "int"):
        return dtypes.int64
    name = getattr(dtype, "name", None)
    if name is None and isinstance(dtype, type):   # np.float32 and friends
        name = getattr(np.dtype(dtype), "name", None) if issubclass(
            dtype, np.generic) else dtype.__name__
    name = dtype if isinstance(dtype, str) else name
    if name not in _KERAS_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtypes.as_dtype(name)


# ---------------------------------------------------------------- dtype lattice
def _is_weak(v):
    return isinstance(v, _WEAK) and not isinstance(v, Tensor)


def _kind(d):
    """NumPy's kind letter, with bfloat16 (an ml_dtypes 'V' type) as a float."""
    return "f" if d.name == "bfloat16" else d.kind


def dtype_kind(x):
    """The NumPy kind letter of tensor ``x``'s dtype ('f' for bfloat16 too)."""
    return _kind(x._value.dtype)


def _join(a, b):
    """Keras 3 promotion of two (non-weak) NumPy dtypes."""
    if a == b:
        return a
    ka, kb = _kind(a), _kind(b)
    if ka == "b" or kb == "b":
        return b if ka == "b" else a
    if "c" in (ka, kb):
        wide = max(a.itemsize if ka == "c" else 2 * a.itemsize,
                   b.itemsize if kb == "c" else 2 * b.itemsize)
        return np.dtype("complex128" if wide > 8 else "complex64")
    if ka == "f" and kb == "f":
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return np.dtype("float32")
        return a if a.itemsize >= b.itemsize else b
    if ka == "f" or kb == "f":
        return a if ka == "f" else b
    if ka == kb:
        return a if a.itemsize >= b.itemsize else b
    uns, sig = (a, b) if ka == "u" else (b, a)
    if sig.itemsize > uns.itemsize:
        return sig
    if uns.itemsize < 8:
        return np.dtype(f"int{16 * uns.itemsize}")
    return dtypes.as_dtype(config.floatx())._np


def _weak_join(strong, value):
    """Keras 3: a Python scalar adapts to the tensor's type when it fits its kind."""
    kind = _kind(strong)
    if isinstance(value, bool):
        return strong
    if isinstance(value, int):
        return np.dtype("int32") if kind == "b" else strong
    if isinstance(value, float):
        return strong if kind in "fc" else dtypes.as_dtype(config.floatx())._np
    if kind == "c":
        return strong
    return np.dtype("complex128" if strong == np.dtype("float64") else "complex64")


def _dtype_of(v):
    """The NumPy dtype of a non-weak value (Tensor, array, list, dtype-like)."""
    if isinstance(v, Tensor):
        return v._value.dtype
    if hasattr(v, "dtype") and not isinstance(v, type):
        try:
            return dtypes.as_dtype(v.dtype)._np
        except (TypeError, ValueError):
            pass
    return as_tensor(v)._value.dtype


def result_type(*values):
    """The dtype (a DType) that ``values`` promote to under the active rules.

    Args:
      *values: Tensors, arrays, Python scalars or nested lists.
    """
    strong = [_dtype_of(v) for v in values if not _is_weak(v)]
    weak = [v for v in values if _is_weak(v)]
    if using_numpy_rules():
        if _PREFER_FLOAT32[0]:   # Python floats count as float32 arrays, not values
            strong += [_preferred(np.asarray(w).dtype) for w in weak
                       if isinstance(w, (float, complex))]
            weak = [w for w in weak if not isinstance(w, (float, complex))]
            if strong:
                return dtypes.from_numpy(np.result_type(*strong, *weak))
        if not strong:
            return dtypes.from_numpy(np.asarray(weak[-1]).dtype if len(weak) == 1
                                     else np.result_type(*[np.asarray(w) for w in weak]))
        return dtypes.from_numpy(np.result_type(*strong, *weak))
    if not strong:
        if any(isinstance(w, complex) for w in weak):
            return dtypes.complex64
        if any(isinstance(w, float) for w in weak):
            return dtypes.as_dtype(config.floatx())
        if all(isinstance(w, bool) for w in weak):
            return dtypes.bool
        return dtypes.int32
    out = strong[0]
    for s in strong[1:]:
        out = _join(out, s)
    for w in weak:
        out = _weak_join(out, w)
    return dtypes.from_numpy(out)


def dtype_attr(value):
    """``value.dtype`` for tensors and arrays, else ``value`` itself (a dtype-like)."""
    if isinstance(value, (type, str, dtypes.DType, np.dtype)):
        return value
    return getattr(value, "dtype", value)


def dtype_result_type(*dtype_likes):
    """Keras 3 ``backend.result_type``: the promoted dtype name of dtype-likes.

    Python ``int``/``float``/``bool`` (the types) are weak, as Python scalars are.

    Args:
      *dtype_likes: dtype names, DTypes, NumPy dtypes, Python types or values
        with a ``dtype``.
    """
    weak_sample = {bool: True, int: 1, float: 1.0, complex: 1j}
    values = []
    for d in dtype_likes:
        if d in weak_sample:
            values.append(weak_sample[d])
        else:
            dt = keras_dtype(dtype_attr(d))
            values.append(np.empty(0, dt._np))
    if not values:
        return config.floatx()
    return result_type(*values).name


def as_tensor(x, dtype=None, device=None):
    """``x`` as a Tensor; Python values take the active rules' defaults.

    Args:
      x: a Tensor, Variable, array, Python scalar or nested list.
      dtype: optional dtype to cast to (unlike ``tf.convert_to_tensor``, a Tensor of
        another dtype is cast, as ``keras.ops.convert_to_tensor`` does).
      device: the Device Python values are placed on (default: the current one).
    """
    if isinstance(x, Tensor):
        out = x
    elif dtype is not None and not hasattr(x, "_dlframe_tensor_"):
        want = keras_dtype(dtype)
        out = convert_to_tensor(np.asarray(x, dtype=want._np) if want.name != "string"
                                else x, device=device)
    elif using_numpy_rules() and not hasattr(x, "_dlframe_tensor_") and \
            not hasattr(x, "dtype"):
        host = np.asarray(x)
        if not isinstance(x, np.generic):   # Python values, not NumPy scalars
            host = host.astype(_preferred(host.dtype), copy=False)
        out = convert_to_tensor(host, device=device)
    else:
        out = convert_to_tensor(x, device=device)
    if dtype is not None:
        want = keras_dtype(dtype)
        if out._value.dtype != want._np:
            out = _m.cast(out, want)
    return out


def scalar(value, like):
    """``value`` (a Python number or tensor) as a Tensor of ``like``'s dtype and
    device, converted without a float32 round trip."""
    if isinstance(value, Tensor):
        return value if value.dtype == like.dtype else _m.cast(value, like.dtype)
    return as_tensor(value, like.dtype, like._device)


def promote(*values, dtype=None):
    """``values`` as Tensors of one dtype (``dtype``, else their result type) and device.

    Args:
      *values: Tensors, arrays, Python scalars or nested lists.
      dtype: optional target dtype.
    """
    target = keras_dtype(dtype) if dtype is not None else result_type(*values)
    device = next((v._device for v in values if isinstance(v, Tensor)), None)
    return [as_tensor(v, target, device) for v in values]


def to_float(x):
    """``x`` (a Tensor) cast to the default float type unless already inexact."""
    if dtype_kind(x) in "fc":
        return x
    if using_numpy_rules():   # TF's tnp: every integer/bool to float64 (not NumPy's
        return _m.cast(x, dtypes.float64)   # int8 -> float16), prefer_float32 or not
    return _m.cast(x, default_float())


def float_tensor(x):
    """``x`` as a floating Tensor (integers and bools promote as Keras/NumPy do)."""
    return to_float(as_tensor(x))
