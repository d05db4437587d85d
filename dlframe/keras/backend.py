"""``keras.backend``: global Keras settings, name counters and a few Keras-2 helpers.

The helpers (``K.sum``, ``K.int_shape``, ...) forward to dlframe ops; they are the
small subset Keras 2 code commonly reaches for.
"""

import collections
import threading

from dlframe import config as _config
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red

floatx = _config.floatx
set_floatx = _config.set_floatx
epsilon = _config.epsilon
set_epsilon = _config.set_epsilon
image_data_format = _config.image_data_format
set_image_data_format = _config.set_image_data_format

_UIDS = collections.defaultdict(int)
_LOCK = threading.Lock()
_SESSION_CALLBACKS = []


def get_uid(prefix=""):
    """Returns 1, 2, 3... for successive calls with the same prefix."""
    with _LOCK:
        _UIDS[prefix] += 1
        return _UIDS[prefix]


def reset_uids():
    _UIDS.clear()


def unique_object_name(base):
    """'dense', 'dense_1', 'dense_2'... (zero-based, as Keras names layers)."""
    with _LOCK:
        n = _UIDS[("name", base)]
        _UIDS[("name", base)] = n + 1
    return base if n == 0 else f"{base}_{n}"


def observe_object_name(name):
    """Records an explicitly chosen name (no effect on auto names; kept for API)."""


def clear_session(free_memory=True):
    """Resets the Keras name counters (the next Dense is 'dense' again)."""
    reset_uids()
    for fn in _SESSION_CALLBACKS:
        fn()


def register_clear_session_callback(fn):
    _SESSION_CALLBACKS.append(fn)


def learning_phase():
    return 0


def set_learning_phase(value):
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1, got {value!r}")


def is_keras_tensor(x):
    from dlframe.keras.engine.keras_tensor import KerasTensor
    return isinstance(x, KerasTensor)


# ---------------------------------------------------------------- Keras 2 helpers
def int_shape(x):
    try:
        return tuple(x.shape.as_list()) if hasattr(x.shape, "as_list") else tuple(x.shape)
    except ValueError:
        return None


def ndim(x):
    return len(x.shape)


def dtype(x):
    return x.dtype.name if hasattr(x.dtype, "name") else str(x.dtype)


def variable(value, dtype=None, name=None, constraint=None):
    return Variable(value, dtype=dtype or floatx(), name=name, constraint=constraint)


def constant(value, dtype=None, shape=None, name=None):
    from dlframe.core.tensor import constant as _const
    return _const(value, dtype=dtype or floatx(), shape=shape)


def get_value(x):
    return x.numpy()


def batch_get_value(tensors):
    return [get_value(t) for t in tensors]


def set_value(x, value):
    x.assign(convert_to_tensor(value, dtype=x.dtype))


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


def cast(x, dtype):
    return _math.cast(x, dtype)


def cast_to_floatx(x):
    return _math.cast(convert_to_tensor(x), floatx())


def _reducer(fn):
    def reduce(x, axis=None, keepdims=False):
        return fn(x, axis=axis, keepdims=keepdims)
    return reduce


sum = _reducer(_red.reduce_sum)
mean = _reducer(_red.reduce_mean)
max = _reducer(_red.reduce_max)
min = _reducer(_red.reduce_min)
prod = _reducer(_red.reduce_prod)


def square(x):
    return _math.square(x)


def sqrt(x):
    return _math.sqrt(_math.maximum(x, 0.0))


def abs(x):
    return _math.abs(x)


def exp(x):
    return _math.exp(x)


def log(x):
    return _math.log(x)


def pow(x, a):
    return _math.pow(x, a)


def maximum(x, y):
    return _math.maximum(x, y)


def minimum(x, y):
    return _math.minimum(x, y)


def clip(x, min_value, max_value):
    return _math.minimum(_math.maximum(x, min_value), max_value)


def dot(x, y):
    return _linalg.matmul(x, y)


def reshape(x, shape):
    return _array.reshape(x, shape)


def concatenate(tensors, axis=-1):
    return _array.concat(list(tensors), axis)


def expand_dims(x, axis=-1):
    return _array.expand_dims(x, axis)


def squeeze(x, axis):
    return _array.squeeze(x, [axis])


def shape(x):
    return _array.shape(x)


def zeros(shape, dtype=None, name=None):
    return Variable(_array.zeros(shape, dtype=dtype or floatx()), name=name)


def ones(shape, dtype=None, name=None):
    return Variable(_array.ones(shape, dtype=dtype or floatx()), name=name)


def stop_gradient(x):
    return _array.stop_gradient(x)


def transpose(x):
    return _array.transpose(x)


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "collections", "threading", "convert_to_tensor", "is_tensor", "Variable")]
