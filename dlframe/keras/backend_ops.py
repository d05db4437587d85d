"""Keras-2 ``keras.backend`` math helpers used by hand-written losses and metrics
(``K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))``): thin wrappers over the ops for
elementwise math, activations, reductions, shape changes, losses and random draws.

``dlframe.keras.backend`` re-exports everything here.
"""

import builtins

from dlframe.config import floatx
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import creation as _creation
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import random as _random
from dlframe.ops import reduction as _red


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


def _unary(fn, doc):
    def op(x):
        return fn(convert_to_tensor(x))
    op.__doc__ = doc
    return op


round = _unary(_math.round,
               "Element-wise rounding to the nearest integer (half to even).")
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
    return losses.categorical_focal_crossentropy(
        target, output, alpha=alpha, gamma=gamma, from_logits=from_logits, axis=axis)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample categorical cross-entropy over ``axis``."""
    from dlframe.keras import losses
    return losses.categorical_crossentropy(target, output, from_logits=from_logits,
                                           axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample cross-entropy of integer ``target`` against ``output``."""
    from dlframe.keras import losses
    return losses.sparse_categorical_crossentropy(
        target, output, from_logits=from_logits, axis=axis)


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
