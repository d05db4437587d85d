"""``keras.backend``: global Keras settings, name counters and a few Keras-2 helpers.

The helpers (``K.sum``, ``K.int_shape``, ...) forward to dlframe ops; they are the
small subset Keras 2 code commonly reaches for.
"""

import builtins
import collections
import contextlib
import threading
import types

from dlframe import config as _config
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import creation as _creation
from dlframe.ops import functional_ops as _functional
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import random as _random
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


def cast(x, dtype):
    return _math.cast(x, dtype)


def cast_to_floatx(x):
    """``x`` as floatx: a cast tensor for a tensor, else a NumPy array (as Keras)."""
    out = _math.cast(convert_to_tensor(x), floatx())
    return out if isinstance(x, (Tensor, Variable)) else out.numpy()


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
    """Element-wise clip of ``x`` into ``[min_value, max_value]``.

    As in Keras 2, ``None`` leaves that side unbounded, and a numeric
    ``max_value`` below ``min_value`` is raised to ``min_value``.
    """
    numeric = (int, float)
    if isinstance(min_value, numeric) and isinstance(max_value, numeric):
        max_value = builtins.max(max_value, min_value)
    out = convert_to_tensor(x)
    if min_value is not None:
        out = _math.maximum(out, min_value)
    if max_value is not None:
        out = _math.minimum(out, max_value)
    return out


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


# -- Keras 2 backend functions used by hand-written losses and metrics ----------------
# (``K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))``): thin wrappers over the ops.
def _unary(fn, doc):
    def op(x):
        return fn(convert_to_tensor(x))
    op.__doc__ = doc
    return op


round = _unary(_math.round, "Element-wise rounding to the nearest integer (half to even).")
sign = _unary(_math.sign, "Element-wise sign.")
sin = _unary(_math.sin, "Element-wise sine.")
cos = _unary(_math.cos, "Element-wise cosine.")
sigmoid = _unary(_math.sigmoid, "Element-wise sigmoid.")
tanh = _unary(_math.tanh, "Element-wise tanh.")
softplus = _unary(_math.softplus, "Element-wise softplus.")
softsign = _unary(_math.softsign, "Element-wise softsign.")
zeros_like = _unary(_math.zeros_like, "Zeros of ``x``'s shape and dtype.")
ones_like = _unary(_math.ones_like, "Ones of ``x``'s shape and dtype.")


def _binary(fn, doc):
    def op(x, y):
        return fn(x, y)
    op.__doc__ = doc
    return op


equal = _binary(_math.equal, "Element-wise ``x == y``.")
not_equal = _binary(_math.not_equal, "Element-wise ``x != y``.")
greater = _binary(_math.greater, "Element-wise ``x > y``.")
greater_equal = _binary(_math.greater_equal, "Element-wise ``x >= y``.")
less = _binary(_math.less, "Element-wise ``x < y``.")
less_equal = _binary(_math.less_equal, "Element-wise ``x <= y``.")


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with optional leak ``alpha``, cap and threshold."""
    from dlframe.keras import activations
    return activations.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def elu(x, alpha=1.0):
    from dlframe.keras import activations
    return activations.elu(x, alpha=alpha)


def hard_sigmoid(x):
    """Keras-backend hard sigmoid ``clip(0.2 * x + 0.5, 0, 1)``.

    ``tf.keras.backend.hard_sigmoid`` keeps the Keras 2 slope of 0.2 (still so in
    TF 2.21), unlike ``keras.activations.hard_sigmoid`` (``relu6(x + 3) / 6``).
    """
    return clip(0.2 * convert_to_tensor(x) + 0.5, 0.0, 1.0)


def softmax(x, axis=-1):
    return _nn.softmax(x, axis=axis)


def argmax(x, axis=-1):
    return _red.argmax(x, axis=axis)


def argmin(x, axis=-1):
    return _red.argmin(x, axis=axis)


def all(x, axis=None, keepdims=False):
    return _red.reduce_all(_math.cast(x, "bool"), axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return _red.reduce_any(_math.cast(x, "bool"), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation (population) of ``x`` over ``axis``."""
    return _red.reduce_std(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Variance (population) of ``x`` over ``axis``."""
    return _red.reduce_variance(x, axis=axis, keepdims=keepdims)


def cumsum(x, axis=0):
    return _red.cumsum(x, axis=axis)


def cumprod(x, axis=0):
    return _red.cumprod(x, axis=axis)


def l2_normalize(x, axis=None):
    return _nn.l2_normalize(x, axis=axis)


def stack(x, axis=0):
    return _array.stack(list(x), axis=axis)


def tile(x, n):
    return _array.tile(x, [n] if isinstance(n, int) else n)


def gather(reference, indices):
    return _index.gather(reference, indices)


def one_hot(indices, num_classes):
    return _creation.one_hot(indices, num_classes)


def flatten(x):
    """``x`` as a 1-D tensor."""
    return _array.reshape(x, [-1])


def batch_flatten(x):
    """``x`` reshaped to ``(batch, -1)``."""
    return _array.reshape(x, [-1, int_shape_product(x)])


def int_shape_product(x):
    n = 1
    for d in x.shape[1:]:
        n *= int(d)
    return n


def permute_dimensions(x, pattern):
    return _array.transpose(x, list(pattern))


def repeat_elements(x, rep, axis):
    return _index.repeat(x, rep, axis=axis)


def repeat(x, n):
    """``(batch, dim)`` -> ``(batch, n, dim)``."""
    return _array.tile(_array.expand_dims(x, 1), [1, n, 1])


def reverse(x, axes):
    return _array.reverse(x, [axes] if isinstance(axes, int) else list(axes))


def switch(condition, then_expression, else_expression):
    """``then`` where ``condition`` else ``else`` (callables are called first); a
    lower-rank condition is broadcast from the left, as in Keras."""
    then_value = then_expression() if callable(then_expression) else then_expression
    else_value = else_expression() if callable(else_expression) else else_expression
    cond = convert_to_tensor(condition)
    then_value = convert_to_tensor(then_value)
    while len(cond.shape) < len(then_value.shape):
        cond = _array.expand_dims(cond, -1)
    return _math.where(cond, then_value, else_value)


def arange(start, stop=None, step=1, dtype="int32"):
    return _creation.range(start, stop, step, dtype=dtype)


def eye(size, dtype=None, name=None):
    return _creation.eye(size, dtype=dtype or floatx())


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy (not averaged)."""
    from dlframe.keras import losses
    return losses._elementwise_bce(target, output, from_logits)


def binary_focal_crossentropy(target, output, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False):
    """Element-wise focal binary cross-entropy: ``(1 - p_t)^gamma * bce``, times
    ``alpha`` (positives) or ``1 - alpha`` (negatives) with ``apply_class_balancing``.
    """
    from dlframe.keras import losses_functions as lf
    target, output = lf._pred_true(target, output)
    return lf._elementwise_binary_focal(target, output, apply_class_balancing, alpha,
                                        gamma, from_logits)


def categorical_focal_crossentropy(target, output, alpha=0.25, gamma=2.0,
                                   from_logits=False, axis=-1):
    """Per-sample focal categorical cross-entropy over ``axis``."""
    from dlframe.keras import losses
    return losses.categorical_focal_crossentropy(target, output, alpha=alpha, gamma=gamma,
                                                 from_logits=from_logits, axis=axis)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample categorical cross-entropy over ``axis``."""
    from dlframe.keras import losses
    return losses.categorical_crossentropy(target, output, from_logits=from_logits,
                                           axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample cross-entropy of integer ``target`` against ``output``."""
    from dlframe.keras import losses
    return losses.sparse_categorical_crossentropy(target, output, from_logits=from_logits,
                                                  axis=axis)


def in_top_k(predictions, targets, k):
    return _red.in_top_k(targets, predictions, k)


def bias_add(x, bias, data_format=None):
    return _nn.bias_add(x, bias, data_format="NCHW" if data_format == "channels_first"
                        else None)


def dropout(x, level, noise_shape=None, seed=None):
    return _nn.dropout(x, rate=level, noise_shape=noise_shape, seed=seed)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return _random.normal(shape, mean=mean, stddev=stddev, dtype=dtype or floatx(),
                          seed=seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return _random.uniform(shape, minval=minval, maxval=maxval, dtype=dtype or floatx(),
                           seed=seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return _random.truncated_normal(shape, mean=mean, stddev=stddev,
                                    dtype=dtype or floatx(), seed=seed)


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """1 with probability ``p``, else 0."""
    draw = _random.uniform(shape, dtype=floatx(), seed=seed)
    return _math.cast(_math.less(draw, p), dtype or floatx())


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


from dlframe.keras.backend_extra import *  # noqa: E402,F401,F403 - conv, rnn, ctc...

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
            and _fn.__module__ in (__name__, "dlframe.keras.backend_extra")):
        globals()[_name] = generic_utils.symbolic_aware(_fn, f"keras.backend.{_name}")

__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "builtins", "collections", "contextlib", "threading", "convert_to_tensor", "is_tensor", "Variable",
    "types", "generic_utils",
    "int_shape_product")]
