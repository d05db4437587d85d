"""``keras.backend``: global Keras settings, name counters and a few Keras-2 helpers.

The helpers (``K.sum``, ``K.int_shape``, ...) forward to dlframe ops; they are the
small subset Keras 2 code commonly reaches for.
"""

import collections
import contextlib
import threading
import types

from dlframe import config as _config
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.keras.utils import generic_utils
from dlframe.ops import functional_ops as _functional

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
    """Returns 1, 2, 3... for successive calls with the same prefix.

    Shares its counter with layer auto-naming (as Keras does): after one ``Dense``
    named 'dense' exists, ``get_uid('dense')`` returns 2.
    """
    with _LOCK:
        _UIDS[("name", prefix)] += 1
        return _UIDS[("name", prefix)]


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


_GLOBAL_PHASE = [None]  # set_learning_phase's value; None: never set


def learning_phase():
    """Keras 2's learning phase: 1 while a layer runs in training mode, else 0.

    Inside a layer call (a ``Lambda``, a custom layer) it follows that call's
    ``training`` flag; outside one it is the value given to
    ``set_learning_phase``/``learning_phase_scope`` (0 by default).
    """
    from dlframe.keras.engine.base_layer_utils import CALL_CONTEXT
    stack = CALL_CONTEXT.training
    if stack and stack[-1] is not None:
        flag = stack[-1]
        return int(flag) if isinstance(flag, (bool, int)) else flag
    return 0 if _GLOBAL_PHASE[0] is None else _GLOBAL_PHASE[0]


def set_learning_phase(value):
    """Sets the global learning phase (0 = test, 1 = train), as Keras 2 did."""
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1, got {value!r}")
    _GLOBAL_PHASE[0] = int(value)


@contextlib.contextmanager
def learning_phase_scope(value):
    """Context manager giving ``learning_phase()`` the value 0 or 1 inside it."""
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1, got {value!r}")
    previous = _GLOBAL_PHASE[0]
    _GLOBAL_PHASE[0] = int(value)
    try:
        yield value
    finally:
        _GLOBAL_PHASE[0] = previous


def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, else ``alt`` (Keras 2).

    Args:
      x: value (or zero-argument callable) used in training.
      alt: value (or zero-argument callable) used otherwise.
      training: a Python bool/0/1 or a boolean scalar tensor; ``None`` reads
        ``learning_phase()``.

    Returns:
      ``x`` or ``alt``; a ``switch`` of the two for a tensor ``training``.
    """
    if training is None:
        training = learning_phase()
    if isinstance(training, (bool, int)):
        chosen = x if training else alt
        return chosen() if callable(chosen) else chosen
    return switch(training, x, alt)


def in_test_phase(x, alt, training=None):
    """``x`` in the test phase, else ``alt`` (Keras 2)."""
    return in_train_phase(alt, x, training=training)


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


# K.sum, K.clip, K.round, the losses and random draws (re-exported)
from dlframe.keras.backend_ops import *


def eval(x):
    """The value of a tensor or variable as a NumPy array."""
    return get_value(x)


def count_params(x):
    """Number of scalars in ``x``."""
    n = 1
    for d in x.shape:
        n *= int(d)
    return n


def update(x, new_x):
    return x.assign(new_x)


def update_add(x, increment):
    return x.assign_add(increment)


def update_sub(x, decrement):
    return x.assign_sub(decrement)


def moving_average_update(x, value, momentum):
    """``x = x * momentum + value * (1 - momentum)``."""
    return x.assign(x * momentum + value * (1.0 - momentum))


def map_fn(fn, elems, name=None, dtype=None):
    return _functional.map_fn(fn, elems, dtype=dtype)


def foldl(fn, elems, initializer=None, name=None):
    return _functional.foldl(fn, elems, initializer=initializer)


def foldr(fn, elems, initializer=None, name=None):
    return _functional.foldr(fn, elems, initializer=initializer)


def is_sparse(tensor):
    return type(tensor).__name__ == "SparseTensor"


def name_scope(name):
    from dlframe.core.variable import name_scope as scope
    return scope(name)


# conv, pooling, rnn, ctc and dtype helpers (re-exported)
from dlframe.keras.backend_extra import *

# Keras 2's backend functions are TF ops: called on functional-model tensors while a
# model is built (``K.mean(K.square(z))``) they insert an op layer. Settings, state
# and name helpers are not ops.
_NOT_OPS = frozenset((
    "get_uid", "function", "reset_uids", "unique_object_name", "observe_object_name",
    "clear_session", "register_clear_session_callback", "learning_phase",
    "set_learning_phase", "learning_phase_scope", "is_keras_tensor", "int_shape", "ndim", "dtype", "variable",
    "get_value", "batch_get_value", "set_value", "batch_set_value", "eval",
    "count_params", "update", "update_add", "update_sub", "moving_average_update",
    "is_sparse", "name_scope", "map_fn", "foldl", "foldr", "rnn", "gradients",
    "standardize_dtype", "is_float_dtype", "is_int_dtype", "result_type",
    "random_normal_variable", "random_uniform_variable"))


for _name, _fn in list(globals().items()):
    if (isinstance(_fn, types.FunctionType) and not _name.startswith("_")
            and _name not in _NOT_OPS
            and _fn.__module__ in (__name__, "dlframe.keras.backend_ops",
                               "dlframe.keras.backend_extra")):
        globals()[_name] = generic_utils.symbolic_aware(_fn, f"keras.backend.{_name}")

__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "builtins", "collections", "contextlib", "threading", "convert_to_tensor", "is_tensor", "Variable",
    "types", "generic_utils",
    "int_shape_product")]
