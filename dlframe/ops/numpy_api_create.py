"""NumPy-style creation functions (``keras.ops.zeros``, ``arange``, ``linspace``,
``eye``, ``full``, ``array``, ...) and the shape queries ``shape``/``ndim``/``size``.

Default dtypes follow ``numpy_api``: floatx/int32 under Keras 3 rules (``zeros`` and
``full`` are floatx unless ``dtype`` is given), float64/int64 under NumPy rules.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.tensor import Tensor
from dlframe.ops import array as _a
from dlframe.ops import creation as _c
from dlframe.ops import math as _m
from dlframe.ops._util import static_shape
from dlframe.ops.numpy_api import (
    as_tensor,
    default_float,
    default_int,
    keras_dtype,
    promote,
    result_type,
    to_float,
    using_numpy_rules,
)


def _shape_arg(shape, op):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    out = static_shape(shape, op)
    if any(s < 0 for s in out):
        raise ValueError(f"{op}: `shape` must be non-negative, got {shape!r}")
    return out


def _fill_dtype(dtype, fill_value=None):
    """``dtype`` as a DType, else the type of ``fill_value`` (NumPy rules) or the
    default float (no ``fill_value``: zeros, ones, eye)."""
    if dtype is not None and using_numpy_rules():
        return keras_dtype(dtype)   # NumPy's spelling: float is float64
    if dtype is not None:
        return dtypes.as_dtype(dtype)   # tf.zeros-style, as Keras' TF backend
    if using_numpy_rules() and fill_value is not None:
        return result_type(fill_value)
    return default_float()


def array(x, dtype=None):
    """A tensor holding ``x`` (a copy of its values), optionally cast to ``dtype``.

    Args:
      x: a Tensor, array, Python scalar or nested list.
      dtype: optional element type.

    Returns:
      A Tensor; a Variable gives a tensor of its current value, as in TF.
    """
    out = as_tensor(x, dtype)
    # a Variable is a Tensor subclass here: TF returns a plain tensor of its value
    return _a.identity(out) if type(out) is not Tensor and isinstance(out, Tensor) \
        else out


asarray = array


def copy(x):
    """A copy of ``x``.

    Args:
      x: input tensor.
    """
    return _a.identity(as_tensor(x))


def zeros(shape, dtype=None):
    """A tensor of zeros.

    Args:
      shape: int or sequence of ints.
      dtype: element type (default: floatx, float64 under NumPy rules).
    """
    return _c.zeros(_shape_arg(shape, "zeros"), dtype=_fill_dtype(dtype))


def ones(shape, dtype=None):
    """A tensor of ones.

    Args:
      shape: int or sequence of ints.
      dtype: element type (default: floatx, float64 under NumPy rules).
    """
    return _c.ones(_shape_arg(shape, "ones"), dtype=_fill_dtype(dtype))


empty = zeros


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (which may be a tensor that
    broadcasts to ``shape``).

    Args:
      shape: int or sequence of ints.
      fill_value: scalar or broadcastable tensor.
      dtype: element type (default: floatx under Keras rules, the value's type under
        NumPy rules).
    """
    shape = _shape_arg(shape, "full")
    value = as_tensor(fill_value, _fill_dtype(dtype, fill_value))
    return _a.broadcast_to(value, shape)


def _like(x, dtype):
    x = as_tensor(x)
    return x, (keras_dtype(dtype) if dtype is not None else x.dtype)


def zeros_like(x, dtype=None):
    """Zeros with the shape (and dtype unless ``dtype``) of ``x``.

    Args:
      x: input tensor.
      dtype: optional element type.
    """
    x, dt = _like(x, dtype)
    return _m.zeros_like(x, dtype=dt)


def ones_like(x, dtype=None):
    """Ones with the shape (and dtype unless ``dtype``) of ``x``.

    Args:
      x: input tensor.
      dtype: optional element type.
    """
    x, dt = _like(x, dtype)
    return _m.ones_like(x, dtype=dt)


empty_like = zeros_like


def full_like(x, fill_value, dtype=None):
    """``fill_value`` broadcast to the shape of ``x``, in ``x``'s dtype unless ``dtype``.

    Args:
      x: input tensor.
      fill_value: scalar or broadcastable tensor.
      dtype: optional element type.
    """
    x, dt = _like(x, dtype)
    return _a.broadcast_to(as_tensor(fill_value, dt), tuple(x._value.shape))


def _int_arg(v, name, op):
    if isinstance(v, Tensor):
        v = v.numpy()
    try:
        out = int(v)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: `{name}` must be an int, got {v!r}") from None
    if out != v:
        raise TypeError(f"{op}: `{name}` must be an int, got {v!r}")
    return out


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on the ``k``-th diagonal.

    Args:
      N: number of rows.
      M: number of columns (default ``N``).
      k: diagonal offset (positive: above the main diagonal).
      dtype: element type (default floatx / float64).
    """
    rows = _int_arg(N, "N", "eye")
    cols = rows if M is None else _int_arg(M, "M", "eye")
    k = _int_arg(k, "k", "eye")
    dt = _fill_dtype(dtype)
    r = _a.reshape(_c.range(rows, dtype=dtypes.int32), [-1, 1])
    c = _a.reshape(_c.range(cols, dtype=dtypes.int32), [1, -1])
    return _m.cast(_m.equal(_m.subtract(c, r), k), dt)


def identity(n, dtype=None):
    """The ``n`` x ``n`` identity matrix.

    Args:
      n: size.
      dtype: element type (default floatx / float64).
    """
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """A matrix with ones at and below the ``k``-th diagonal.

    Args:
      N: number of rows.
      M: number of columns (default ``N``).
      k: diagonal offset.
      dtype: element type (default floatx / float64).
    """
    rows = _int_arg(N, "N", "tri")
    cols = rows if M is None else _int_arg(M, "M", "tri")
    r = _a.reshape(_c.range(rows, dtype=dtypes.int32), [-1, 1])
    c = _a.reshape(_c.range(cols, dtype=dtypes.int32), [1, -1])
    return _m.cast(_m.less_equal(_m.subtract(c, r), _int_arg(k, "k", "tri")),
                   _fill_dtype(dtype))


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in ``[start, stop)`` by ``step``.

    Args:
      start: first value (or the stop value when ``stop`` is None).
      stop: end (exclusive).
      step: spacing (default 1).
      dtype: element type (default: int32/floatx from the arguments; int64/float64
        under NumPy rules).
    """
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    values = [v.numpy().item() if isinstance(v, Tensor) else v for v in (start, stop, step)]
    if step == 0:
        raise ValueError(f"arange: `step` must not be 0, got {step!r}")
    dt = keras_dtype(dtype) if dtype is not None else result_type(*values)
    if dt.is_integer:
        bounds = [int(v) for v in values]
        # NumPy (and tnp): a range that runs the wrong way is empty, not an error
        return _c.range(*bounds if range(*bounds) else [0], dtype=dt)
    host = np.arange(*values, dtype=np.float64)   # NumPy's length rule, then cast
    return _m.cast(_c.range(len(host), dtype=dt), dt) * _m.cast(values[2], dt) + \
        _m.cast(values[0], dt)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced samples from ``start`` to ``stop`` (tensor bounds give
    one sequence per element, along ``axis``).

    Args:
      start: first value (scalar or tensor).
      stop: last value (included when ``endpoint``).
      num: number of samples.
      endpoint: whether ``stop`` is the last sample.
      retstep: also return the spacing.
      dtype: element type (default floatx / float64).
      axis: the axis of the samples in the result.
    """
    num = _int_arg(num, "num", "linspace")
    if num < 0:
        raise ValueError(f"linspace: `num` must be non-negative, got {num}")
    a, b = promote(start, stop)
    a, b = to_float(a), to_float(b)
    div = (num - 1) if endpoint else num
    step = _m.divide(_m.subtract(b, a), float(div)) if div > 0 else _m.subtract(b, a)
    nd = len(np.broadcast_shapes(tuple(a._value.shape), tuple(b._value.shape)))
    idx = _a.reshape(_m.cast(_c.range(num), a.dtype), [num] + [1] * nd)
    out = _m.add(a, _m.multiply(idx, step))
    if endpoint and num > 1:   # the last sample is exactly ``stop``
        last = _m.equal(idx, float(num - 1))
        out = _m.where(last, _a.broadcast_to(b, tuple(out._value.shape)), out)
    if axis != 0:
        out = _a.transpose(out, _move_first(out._value.ndim, axis))
    if dtype is not None:
        out = _m.cast(out, keras_dtype(dtype))
    return (out, step) if retstep else out


def _move_first(ndim, axis):
    """The permutation moving axis 0 to position ``axis``."""
    axis %= ndim
    rest = list(range(1, ndim))
    return rest[:axis] + [0] + rest[axis:]


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``.

    Args:
      start: first exponent.
      stop: last exponent.
      num: number of samples.
      endpoint: whether ``stop`` is included.
      base: the base of the powers.
      dtype: element type.
      axis: the axis of the samples.
    """
    exps = linspace(start, stop, num, endpoint, axis=axis)
    out = _m.pow(_m.cast(as_tensor(base), exps.dtype), exps)
    return _m.cast(out, dtype) if dtype is not None else out


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Geometric progression from ``start`` to ``stop`` (same signs).

    Args:
      start: first value.
      stop: last value.
      num: number of samples.
      endpoint: whether ``stop`` is included.
      dtype: element type.
      axis: the axis of the samples.
    """
    a, b = promote(start, stop)
    a, b = to_float(a), to_float(b)
    sgn = _m.sign(a)
    out = _m.multiply(sgn, _m.exp(linspace(_m.log(_m.abs(a)), _m.log(_m.abs(b)), num,
                                           endpoint, axis=axis)))
    return _m.cast(out, dtype) if dtype is not None else out


def shape(x):
    """The static shape of ``x`` as a tuple of ints (None for unknown dimensions).

    Args:
      x: a tensor (or a symbolic Keras tensor).
    """
    s = getattr(x, "shape", None)
    if s is None or isinstance(x, (list, tuple)) or not hasattr(s, "__iter__"):
        s = as_tensor(x).shape
    if hasattr(s, "as_list"):
        return tuple(s.as_list()) if s.rank is not None else None
    return tuple(None if d is None else int(d) for d in s)


def ndim(x):
    """The number of dimensions of ``x`` (a Python int).

    Args:
      x: input tensor.
    """
    s = shape(x)
    return None if s is None else len(s)


def size(x):
    """The number of elements of ``x`` (an int32 tensor; int64 under NumPy rules).

    Args:
      x: input tensor.
    """
    x = as_tensor(x)
    return _a.size(x, out_type=default_int())


__all__ = [
    "arange", "array", "asarray", "copy", "empty", "empty_like", "eye", "full",
    "full_like", "geomspace", "identity", "linspace", "logspace", "ndim", "ones",
    "ones_like", "shape", "size", "tri", "zeros", "zeros_like",
]
