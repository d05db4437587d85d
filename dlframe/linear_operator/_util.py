"""Helpers shared by the LinearOperator classes: parameter conversion, static shape
arithmetic, hint checks and a few batched-matrix manipulations."""

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops.linalg import adjoint as _adjoint

FLOAT_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.complex64,
                dtypes.complex128)
INT_DTYPES = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8,
              dtypes.uint16, dtypes.uint32, dtypes.uint64)


class StaticDimension(int):
    """A known dimension of an operator's shape (``tf.compat.v1.Dimension``-like).

    It is an ``int`` (arithmetic, ``int()``, comparisons and shape arguments work) that
    also answers ``.value`` as ``tf.compat.v1.Dimension`` does.
    """

    @property
    def value(self):
        return int(self)


def dimension(value):
    """``value`` (int or None) as a StaticDimension (None stays None)."""
    return None if value is None else StaticDimension(value)


def as_parameter(value, name, dtype=None, dtype_hint=None):
    """An operator parameter as a Tensor; Variables are kept (read at each use, so
    gradients reach them and later assignments are seen)."""
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != dtypes.as_dtype(dtype):
            raise TypeError(f"Argument `{name}` must have dtype {dtypes.as_dtype(dtype)!r}."
                            f" Received: {value.dtype!r}.")
        return value
    if value is None:
        raise ValueError(f"Argument `{name}` must not be None.")
    return convert_to_tensor(value, dtype=dtype, dtype_hint=dtype_hint)


def check_dtype(value, name, allowed=FLOAT_DTYPES):
    """Raises TypeError unless ``value``'s dtype is one of ``allowed``."""
    if value.dtype not in allowed:
        names = ", ".join(f"tf.{d.name}" for d in allowed)
        raise TypeError(f"Argument `{name}` must have dtype in [{names}]. "
                        f"Received: {value.dtype}.")


def check_rank_at_least(value, name, rank):
    if len(value.shape) < rank:
        raise ValueError(f"Argument `{name}` must have at least {rank} dimensions. "
                         f"Received: {value}.")


def broadcast_shapes(*shapes):
    """The broadcast of static batch shapes (tuples of ints); ValueError if they clash."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        size = 1
        for s in shapes:
            j = len(s) - rank + i
            if j < 0 or s[j] == 1:
                continue
            if size not in (1, s[j]):
                raise ValueError(f"Incompatible batch shapes: {[tuple(s) for s in shapes]}")
            size = s[j]
        out.append(size)
    return tuple(out)


def static_shape(x):
    """``x.shape`` as a tuple of ints."""
    return tuple(TensorShape(x.shape).as_list())


def broadcast_batch(x, batch_shape):
    """``x`` ([..., M, N]) broadcast so its batch dims include ``batch_shape``."""
    shape = static_shape(x)
    batch = broadcast_shapes(shape[:-2], tuple(batch_shape))
    if batch == shape[:-2]:
        return x
    return a.broadcast_to(x, batch + shape[-2:])


def maybe_adjoint(x, flag):
    """``adjoint(x)`` of the last two dims when ``flag``, else ``x``."""
    return _adjoint(x) if flag else x


def maybe_conj(x, flag):
    return m.conj(x) if flag and x.dtype.is_complex else x


def combined_hint(values):
    """True when every hint is True, None otherwise."""
    return True if values and all(v is True for v in values) else None


def implied_hint(given, implied, message):
    """``given`` reconciled with a hint that the structure implies (True or None)."""
    if implied is True:
        if given is False:
            raise ValueError(message.format(given=given))
        return True
    return given


def as_tensor(x):
    """A parameter's current value as a plain Tensor (a Variable is read)."""
    return convert_to_tensor(x)


def constructor_parameters(local_vars):
    """An operator's constructor arguments (``parameters``) from ``locals()`` taken as
    the first statement of its ``__init__``."""
    return {k: v for k, v in local_vars.items() if k not in ("self", "__class__")}
