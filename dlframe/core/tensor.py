"""The eager Tensor and conversion of Python/NumPy values into tensors.

A Tensor holds a backend array and the Device it lives on; its dtype is derived
from the array. Tensors are immutable. Python operators are installed by
``dlframe.ops.operators`` (ops sit above core in the layering).
"""

import os
import sys

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import dtypes as _dt
from dlframe.core import tensor_convert as _convert
from dlframe.core.tensor_convert import (  # noqa: F401  (_leaves: ops.array_join)
    _TENSOR_LEAF,
    _cast_host,
    _host_value,
    _is_host_array,
    _leaf_kinds,
    _leaves,
    _short_repr,
)
from dlframe.core.tensor_shape import TensorShape, from_array_shape
from dlframe.errors import DTypeMismatchError


class Tensor:
    """An immutable multidimensional array on a device.

    Attributes:
      shape: a ``TensorShape``.
      dtype: a ``DType``.
      device: TensorFlow's device string of the device holding the data.
    """

    __slots__ = ("__weakref__", "_device", "_value")
    _is_variable = False
    __array_priority__ = 100

    def __init__(self, value, device):
        self._value = value
        self._device = device

    # -- metadata ----------------------------------------------------------
    @property
    def shape(self):
        state = _trace_state
        if state is not None and state.trace is not None:
            dims = _user_static_dims(self, state.trace)
            if dims is not None:   # UnknownRankDims (core.static_dims): rank unknown
                return TensorShape(None if getattr(dims, "unknown_rank", False)
                                   else dims)
        return from_array_shape(self._value.shape)

    get_shape = shape.fget

    def set_shape(self, shape):
        from dlframe.core.primitive import STATE
        static = getattr(STATE.trace, "static_shape", None)   # a trace's static view
        dims = static(self) if static else None
        have = TensorShape(None if getattr(dims, "unknown_rank", False) else
                           dims or self._value.shape)
        if not have.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {have} is not compatible with "
                             f"supplied shape {TensorShape(shape)}.")
        note = getattr(STATE.trace, "note_static_shape", None)
        if note is not None:   # a trace that keeps TF's static shapes (Dataset.map)
            note(self, shape)

    @property
    def dtype(self):
        return _dt.from_numpy(self._value.dtype)

    @property
    def device(self):
        return self._device.tf_name

    @property
    def name(self):
        """The graph name of a tensor traced inside a ``dlframe.function``
        ('add:0', 'block/out:0', 'x:0'); eager tensors have none, as in TF."""
        state = _trace_state
        if state is not None and state.trace is not None or _out_of_scope(self):
            name = _graph_name(self)
            if name is not None:
                return name
        raise AttributeError("Tensor.name is undefined when eager execution is "
                             "enabled.")

    @property
    def op(self):
        """The graph operation that produced a traced tensor (``.name``, ``.type``);
        eager tensors have none, as in TF."""
        if _trace_state is not None and _trace_state.trace is not None:
            graph_op = getattr(_trace_state.trace, "graph_op", None)
            op = graph_op(self) if graph_op is not None else None
            if op is not None:
                return op
        raise AttributeError("Tensor.op is undefined when eager execution is "
                             "enabled.")

    @property
    def backing_device(self):
        return self._device.tf_name

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def rank(self):
        return self._value.ndim

    # -- host access ---------------------------------------------------------
    def numpy(self):
        """Returns a NumPy copy of the tensor's value."""
        _check_concrete(self, "numpy()")
        value = self._device.to_numpy(self._value)
        return value[()] if value.ndim == 0 else value

    def __array__(self, dtype=None, copy=None):
        _check_concrete(self, "conversion to a NumPy array")
        value = self._device.to_numpy(self._value)
        return value if dtype is None else value.astype(dtype, copy=False)

    def __bool__(self):
        _check_concrete(self, "use as a Python bool", bool_check=True)
        if self._value.size == 0:
            return False   # as TF's eager tensors
        if self._value.size != 1:
            raise ValueError(
                "The truth value of a tensor with more than one element is ambiguous; "
                f"shape={tuple(self._value.shape)}. Use reduce_any or reduce_all.")
        return bool(self._device.to_numpy(self._value).reshape(()))

    def __float__(self):
        _check_concrete(self, "conversion to float")
        return float(self._python_scalar("float"))

    def __int__(self):
        _check_concrete(self, "conversion to int")
        return int(self._python_scalar("int"))

    def _python_scalar(self, kind):
        """The single element as a NumPy scalar; TF's TypeError for larger tensors."""
        if self._value.size != 1:
            raise TypeError(f"only 0-dimensional arrays can be converted to Python "
                            f"scalars: {kind}() of a tensor of shape "
                            f"{tuple(self._value.shape)}")
        return self._device.to_numpy(self._value).reshape(())

    def __complex__(self):
        return complex(self._device.to_numpy(self._value).reshape(()))

    def __index__(self):
        if self._value.dtype.kind not in "iub":
            raise TypeError(f"Only integer scalar tensors can be used as an index, "
                            f"got dtype {self.dtype.name}")
        return int(self)

    def __len__(self):
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        # as TF: a Python loop over a traced tensor would bake its trace-time length
        # (AutoGraph turns `for x in tensor` in converted code into a graph loop)
        _check_concrete(self, "Iterating over elements")
        return (self[i] for i in range(self._value.shape[0]))

    def __format__(self, format_spec):
        # as TF: f"{t}" and f"{t:.3f}" format the value, not the repr; a traced
        # tensor has no value, and f"{t}" gives its str() (error messages use it)
        if not format_spec and _tracing_tensor(self):
            return str(self)
        return format(self.numpy(), format_spec)

    def __hash__(self):
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def ref(self):
        """A hashable reference to this tensor (``deref()`` gives it back)."""
        return Reference(self)

    experimental_ref = ref

    def cpu(self):
        """Returns a copy of this tensor on ``cpu:0`` (a recorded copy)."""
        return copy_to_device(self, "cpu:0")

    def gpu(self, gpu_index=0):
        """Returns a copy of this tensor on GPU ``gpu_index`` (a recorded copy).

        Raises:
          RuntimeError: when that GPU does not exist (as TF's "unknown device").
        """
        try:
            device = backends.get_device(f"gpu:{int(gpu_index)}")
        except ValueError as exc:
            raise RuntimeError(f"GPU:{gpu_index} unknown device.") from exc
        return copy_to_device(self, device)

    def __repr__(self):
        if _tracing_tensor(self):
            name = _graph_name(self)
            if name is not None:
                return (f"<tf.Tensor '{name}' shape={_shape_str(self)} "
                        f"dtype={self.dtype.name}>")
            return f"<tf.Tensor: shape={_shape_str(self)}, dtype={self.dtype.name}, (traced)>"
        body = _numpy_repr(self)
        if "\n" in body:
            return (f"<tf.Tensor: shape={_shape_str(self)}, dtype={self.dtype.name}, "
                    f"numpy=\n{body}>")
        return f"<tf.Tensor: shape={_shape_str(self)}, dtype={self.dtype.name}, numpy={body}>"

    def __str__(self):
        if _tracing_tensor(self):
            name = _graph_name(self)
            name = f'"{name}", ' if name is not None else ""
            return f"Tensor({name}shape={_shape_str(self)}, dtype={self.dtype.name})"
        value = self.numpy()
        body = np.array2string(np.asarray(value)) if self._value.ndim else repr(value)
        if self._value.ndim == 0 and self._value.dtype.kind in "fiubc":
            body = str(np.asarray(value))
        sep = "\n" if "\n" in body else ""
        return f"tf.Tensor({sep}{body}, shape={_shape_str(self)}, dtype={self.dtype.name})"

    def __reduce__(self):
        return constant_from_numpy, (self.numpy(),)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return Tensor(self._device.xp.array(self._value, copy=True), self._device)


def _shape_str(t):
    state = _trace_state
    static = getattr(state.trace, "static_shape", None) if state is not None else None
    dims = static(t) if static is not None else None
    if getattr(dims, "unknown_rank", False):
        return "<unknown>"
    return str(tuple(dims if dims is not None else t._value.shape))


def _numpy_repr(t):
    value = t.numpy()
    if t._value.ndim == 0:
        if t._value.dtype == object:
            return repr(value)
        return repr(np.asarray(value).item())
    return repr(value)


_convert._tensor_class = Tensor


class Reference:
    """A hashable wrapper around a Tensor or Variable (``tensor.ref()``)."""

    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, Reference) and other._obj is self._obj

    def __repr__(self):
        return f"<Reference wrapping {self._obj!r}>"


# -- trace awareness (set by core.trace; kept here to avoid an import cycle) --
_trace_state = None


def _out_of_scope(t):
    """Whether ``t`` was computed by a finished function trace (see
    ``core.function_scope.retire``)."""
    return getattr(type(t._device), "out_of_scope", False)


def _tracing_tensor(t):
    if _out_of_scope(t):
        return True   # of a finished function trace
    state = _trace_state
    if state is None:
        return False
    trace = state.trace
    return trace is not None and trace.is_symbolic(t)


def _graph_name(t):
    if _out_of_scope(t):
        return t._device.graph_name
    name = getattr(_trace_state.trace, "graph_name", None)
    return name(t) if name is not None else None


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_AUTOGRAPH_DIR = os.path.join(_PACKAGE_DIR, "autograph") + os.sep


def _user_static_dims(t, trace):
    """TF's static dims of traced ``t`` (None where the input signature leaves them
    unknown) when user code asks; dlframe's own code keeps the concrete trace shape."""
    static = getattr(trace, "static_shape", None)
    dims = static(t) if static is not None else None
    if dims is None:
        return None
    frame = sys._getframe(2)
    while frame.f_code.co_filename.startswith(_AUTOGRAPH_DIR):
        frame = frame.f_back   # a call of converted user code (converted_call)
    return None if frame.f_code.co_filename.startswith(_PACKAGE_DIR) else dims


def _check_concrete(t, what, bool_check=False):
    state = _trace_state
    if state is None or state.trace is None:
        return
    if state.trace.is_symbolic(t):
        state.trace.refuse_concrete(t, what, bool_check)


# ---------------------------------------------------------------- conversion
# ops installs its stack-based packer here (core cannot import ops)
_autopack = None


def is_tensor(x):
    """True for dlframe Tensors and Variables (and other tensor-like types:
    SparseTensor, RaggedTensor)."""
    return isinstance(x, Tensor) or getattr(x, "_is_symbolic_tensor", False) or \
        getattr(type(x), "_is_tensor_like", False)


def is_symbolic_tensor(x):
    """True for a graph tensor: one being traced by ``dlframe.function``."""
    return isinstance(x, Tensor) and _tracing_tensor(x)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None, device=None):
    """Converts a Tensor, NumPy array, Python scalar or nested list to a Tensor.

    Args:
      value: the value to convert.
      dtype: required element type; a mismatch with a Tensor's dtype is an error.
      dtype_hint: preferred element type when ``value`` does not fix one.
      name: unused (TF compatibility).
      device: Device (default: the current device).

    Raises:
      TypeError, ValueError: when the value cannot be converted to ``dtype``.
    """
    if isinstance(value, Tensor):
        if dtype is not None:
            want = _dt.as_dtype(dtype)
            if value._value.dtype != want._np:
                raise ValueError(
                    f"Tensor conversion requested dtype {want.name} for Tensor with "
                    f"dtype {value.dtype.name}: {value!r}")
        if value._is_variable:  # TF reads it: later assigns leave the result alone
            return value.value()
        return value
    conv = getattr(value, "_dlframe_tensor_", None)
    if conv is not None:
        return conv(dtype)
    kinds = _leaf_kinds(value) if isinstance(value, (list, tuple)) else None
    if _autopack is not None and kinds and kinds & _TENSOR_LEAF:
        # TF packs a list holding tensors with a stack op: gradients and traces
        # flow through tf.reduce_sum([loss_a, loss_b])
        return _autopack(value, None if dtype is None else _dt.as_dtype(dtype))
    dev = device or backends.current_device()
    want = _dt.as_dtype(dtype) if dtype is not None else None
    if want is None and dtype_hint is not None:
        hint = _dt.as_dtype(dtype_hint)
        try:
            arr = _host_value(value, hint, kinds)
        except (TypeError, ValueError):
            arr = _host_value(value, None, kinds)
    else:
        arr = _host_value(value, want, kinds)
    if arr.dtype == object and dev.is_gpu:
        dev = backends.get_device("cpu:0")  # strings live on the host, as in TF
    return Tensor(dev.asarray(arr), dev)


def constant(value, dtype=None, shape=None, name="Const"):
    """Creates a constant tensor from a value (TF dtype inference; see module doc).

    Args:
      value: a Python scalar, nested list, NumPy array or Tensor.
      dtype: optional element type to convert to (casting allowed, as tf.constant).
      shape: optional shape; a scalar value is broadcast to it, a value with the
        same number of elements is reshaped.
      name: the graph name inside a ``dlframe.function`` ('Const:0').
    """
    out = _constant(value, dtype, shape)
    trace = _trace_state.trace if _trace_state is not None else None
    if trace is not None and hasattr(trace, "name_constant"):
        trace.name_constant(out, name)
    return out


def _constant(value, dtype, shape):
    if isinstance(value, Tensor):
        arr = value._device.to_numpy(value._value)
        dev = value._device
    else:
        dev = backends.current_device()
        want = _dt.as_dtype(dtype) if dtype is not None else None
        arr = _host_value(value, want) if want is None or not _is_host_array(value) else (
            np.asarray(value))
    if dtype is not None:
        want = _dt.as_dtype(dtype)
        if arr.dtype != want._np:
            arr = _cast_host(arr, want, value) if arr.dtype.kind != "f" or not want.is_floating \
                else arr.astype(want._np)
    if shape is not None:
        shape = tuple(TensorShape(shape).as_list())
        if arr.size == 1:
            arr = np.broadcast_to(arr.reshape(()), shape).copy()
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor "
                            f"{value!r} (converted from {value!r}) has {arr.size} elements, but "
                            f"got `shape` {shape} with {int(np.prod(shape))} elements).")
    if arr.dtype == object and dev.is_gpu:
        dev = backends.get_device("cpu:0")
    return Tensor(dev.asarray(arr), dev)


def constant_from_numpy(array):
    """Tensor on the current device holding a copy of a host array (for unpickling)."""
    dev = backends.current_device()
    return Tensor(dev.asarray(np.array(array)), dev)


def copy_to_device(t, device):
    """``t`` copied to ``device``: a recorded, differentiable copy (see
    ``core.primitive.copy_to_device``; it is defined there, beside ``call``)."""
    from dlframe.core.primitive import copy_to_device as copy
    return copy(t, device)


_SCALARS = {}


def scalar_like(value, other):
    """A 0-d Tensor holding Python scalar ``value`` in ``other``'s dtype and device.

    Follows TF: a Python float combined with an integer tensor is a TypeError.
    Cached per (type, value, dtype, device) because small constants repeat a lot.
    """
    arr_dtype = other._value.dtype
    key = (type(value), value, arr_dtype, other._device)
    try:
        hit = _SCALARS.get(key)
    except TypeError:
        hit = None
    if hit is not None:
        return hit
    kind = arr_dtype.kind
    if isinstance(value, float) and kind in "iub":
        raise DTypeMismatchError(f"Cannot convert {value!r} to EagerTensor of dtype "
                                 f"{_dt.from_numpy(arr_dtype).name}")
    refused = (isinstance(value, complex) and kind != "c") or (
        # TF: uint8 tensor + True is refused, int32 tensor + True is + 1
        isinstance(value, bool) and arr_dtype not in _convert.BOOL_READERS)
    if refused:
        raise DTypeMismatchError(f"Cannot convert {value!r} to EagerTensor of dtype "
                                 f"{_dt.from_numpy(arr_dtype).name}")
    if kind in "iu" and not isinstance(value, bool):
        info = np.iinfo(arr_dtype)
        if not info.min <= value <= info.max:   # TF wraps like a C cast
            if not -(2**63) <= value < 2**64:
                raise ValueError(_convert._OUT_OF_RANGE)
            value = _convert.wrap_python_ints(np.asarray(value), arr_dtype, value)
    if kind == "O":
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype string")
    dev = other._device
    t = Tensor(dev.asarray(np.asarray(value, dtype=arr_dtype)), dev)
    if len(_SCALARS) > 4096:
        _SCALARS.clear()
    try:
        _SCALARS[key] = t
    except TypeError:
        pass
    return t


class _UnparsableOperandError(DTypeMismatchError, ValueError):
    """A NumPy string operand of a numeric op that does not parse as numbers: TF
    raises NumPy's ValueError (AddV2, which takes strings, InvalidArgumentError)."""


def _parse_numbers(array, want):
    """NumPy's parse of a string array as ``want`` numbers, as TF converts a NumPy
    string operand of a numeric op (``t == np.array(["1"])`` compares with 1)."""
    try:
        return array.astype(want._np)
    except ValueError as err:
        raise _UnparsableOperandError(
            f"cannot combine {_short_repr(array)} with a {want.name} tensor: "
            f"{err}") from None


_PY_SCALARS = frozenset((int, float, bool, complex))


def as_operand(value, other):
    """Converts ``value`` to a Tensor matching ``other``'s dtype/device (binary ops)."""
    if type(value) in _PY_SCALARS or (isinstance(value, (int, float, bool, complex))
                                      and not _is_host_array(value)):
        # Python scalars (NumPy scalars subclassing them cast like arrays, below)
        return scalar_like(value, other)
    if _is_host_array(value) or isinstance(value, (list, tuple)):
        want = _dt.from_numpy(other._value.dtype)
        if (_autopack is not None and not _is_host_array(value)
                and _leaf_kinds(value) & _TENSOR_LEAF):
            # a list holding tensors ([i] of a loop counter): packed by a stack op,
            # so traces and gradients flow through it, as TF's auto-packing
            return _autopack(value, want)
        if _is_host_array(value) and value.dtype.kind in "US" and \
                want._np.kind in "biufc":
            arr = _parse_numbers(value, want)
        else:
            arr = _host_value(value, None, strict=False)   # the tensor's dtype hints
        if arr.dtype != want._np:
            if _is_host_array(value) and arr.dtype.kind == want._np.kind == "f":
                arr = arr.astype(want._np)  # NumPy float arrays follow the tensor's width
            else:
                try:
                    arr = _host_value(value, want)
                except TypeError as err:   # TF: the op refuses the operand's dtype
                    raise DTypeMismatchError(
                        f"cannot combine {_short_repr(value)} with a {want.name} "
                        f"tensor: {err}") from None
        dev = other._device
        return Tensor(dev.asarray(arr), dev)
    return convert_to_tensor(value, dtype=other.dtype, device=other._device)
