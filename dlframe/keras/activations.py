"""``keras.activations``: activation functions by TF's names, plus get/serialize/deserialize.

Each function forwards to a dlframe op (``tf.nn.relu``, ``tf.nn.softmax``...) or composes
ops the way Keras defines it (``hard_sigmoid``, ``mish``).
"""

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math
from dlframe.ops import names as _op_names
from dlframe.ops import nn as _nn
from dlframe.ops import numpy_api_nn as _numpy_api_nn
from dlframe.ops import reduction as _red
from dlframe.ops import sorting as _sorting


def linear(x):
    return x


def relu(x, alpha=0.0, max_value=None, threshold=0.0, negative_slope=None):
    """Rectified linear unit with optional leak, cap and threshold.

    Args:
      x: input tensor.
      alpha: slope below ``threshold`` (Keras 2 name of ``negative_slope``).
      max_value: optional cap of the output.
      threshold: values below it are zeroed (or leak with ``alpha``).
      negative_slope: Keras 3 name of ``alpha``; give one of the two.

    Returns:
      ``max(x, 0)`` modified as above, in ``x``'s dtype.
    """
    if negative_slope is not None:
        if alpha != 0:
            raise ValueError("Pass only one of `alpha` and `negative_slope` (the same "
                             f"slope). Received: alpha={alpha}, "
                             f"negative_slope={negative_slope}")
        alpha = negative_slope
    if alpha == 0 and max_value is None and threshold == 0:
        return _nn.relu(x)
    if threshold != 0:
        y = _math.where(_math.greater(x, threshold), x, _math.zeros_like(x))
    else:
        y = _nn.relu(x)
    if max_value is not None:
        y = _math.minimum(y, _math.cast(max_value, y.dtype))
    if alpha != 0:
        neg = _nn.relu(_math.negative(x) + threshold)
        y = y - alpha * neg
    return y


def relu6(x):
    return _nn.relu6(x)


def leaky_relu(x, negative_slope=0.2):
    return _nn.leaky_relu(x, alpha=negative_slope)


def elu(x, alpha=1.0):
    y = _nn.elu(x)
    if alpha == 1.0:
        return y
    return _math.where(_math.greater(x, 0), y, alpha * y)


def selu(x):
    return _nn.selu(x)


def gelu(x, approximate=False):
    return _nn.gelu(x, approximate=approximate)


def sigmoid(x):
    return _math.sigmoid(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid ``relu6(x + 3) / 6`` (TF 2.16+/Keras 3; Keras 2 used
    ``0.2 x + 0.5`` — we follow the current definition, as ops/rnn.py does).

    Built on ``relu6`` as TF is: same rounding, zero slope at +-3, and its second
    derivative is zero (connected), not None."""
    return _numpy_api_nn.hard_sigmoid(x)


def hard_silu(x):
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def tanh(x):
    return _math.tanh(x)


def softplus(x):
    return _math.softplus(x)


def softsign(x):
    return _math.softsign(x)


def swish(x):
    return x * _math.sigmoid(x)


silu = swish


def mish(x):
    return x * _math.tanh(_math.softplus(x))


def exponential(x):
    return _math.exp(x)


def softmax(x, axis=-1):
    """Softmax over ``axis``; a tuple of axes normalizes over all of them."""
    if len(x.shape) == 0:   # rank 1 is fine (Keras 3; Keras 2 refused it)
        raise ValueError(f"Cannot apply softmax to a scalar. Received input: {x}")
    if isinstance(axis, (tuple, list)):
        e = _math.exp(x - _red.reduce_max(x, axis=axis, keepdims=True))
        return e / _red.reduce_sum(e, axis=axis, keepdims=True)
    return _nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return _nn.log_softmax(x, axis=axis)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0)``."""
    x = _as_float(x)
    neg = _math.multiply(_math.expm1(_math.divide(_math.minimum(x, 0.0), alpha)), alpha)
    return _math.add(_math.maximum(x, 0.0), neg)


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves ``a, b`` of ``axis``."""
    x = _as_float(x)
    size = x.shape[axis]
    if size is None or size % 2:
        raise ValueError("axis size must be divisible by 2. Received: "
                         f"x.shape={x.shape} with axis={axis}")
    a, b = _array.split(x, 2, axis=axis)
    return _math.multiply(a, _math.sigmoid(b))


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    x = _as_float(x)
    return _math.where(_math.greater(_math.abs(x), threshold), x, _math.zeros_like(x))


def hard_tanh(x):
    """``x`` clipped to ``[-1, 1]``."""
    return _math.minimum(_math.maximum(_as_float(x), -1.0), 1.0)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    return _math.negative(_math.softplus(_math.negative(_as_float(x))))


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    x = _as_float(x)
    above = _math.maximum(_math.subtract(x, threshold), 0.0)
    below = _math.minimum(_math.add(x, threshold), 0.0)
    return _math.add(above, below)


def sparse_plus(x):
    """0 for ``x <= -1``, ``x`` for ``x >= 1`` and ``(x + 1)^2 / 4`` between."""
    x = _as_float(x)
    mid = _math.multiply(_math.square(_math.add(x, 1.0)), 0.25)
    y = _math.where(_math.greater_equal(x, 1.0), x, mid)
    return _math.where(_math.less_equal(x, -1.0), _math.zeros_like(x), y)


def sparse_sigmoid(x):
    """0 for ``x <= -1``, 1 for ``x >= 1`` and ``(x + 1) / 2`` between."""
    x = _as_float(x)
    return _math.minimum(_math.maximum(_math.multiply(_math.add(x, 1.0), 0.5), 0.0), 1.0)


def sparsemax(x, axis=-1):
    """Euclidean projection of ``x`` onto the probability simplex along ``axis``
    (Martins & Astudillo 2016): ``max(x - tau, 0)`` with ``tau`` making it sum to 1."""
    x = _as_float(x)
    ndim = len(x.shape)
    axis = axis % ndim
    n = x.shape[axis]
    z = _sorting.sort(x, axis=axis, direction="DESCENDING")
    k_shape = [1] * ndim
    k_shape[axis] = n
    k = _array.reshape(_math.cast(_creation.range(1, n + 1), x.dtype), k_shape)
    cum = _red.cumsum(z, axis=axis)
    support = _math.cast(_math.greater(_math.add(_math.multiply(k, z), 1.0), cum), x.dtype)
    k_z = _red.reduce_sum(support, axis=axis, keepdims=True)
    tau = _math.divide(_math.subtract(
        _red.reduce_sum(_math.multiply(support, z), axis=axis, keepdims=True), 1.0), k_z)
    return _math.maximum(_math.subtract(x, tau), 0.0)


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``, a smooth ReLU."""
    x = _as_float(x)
    return _math.multiply(_math.add(x, _math.sqrt(_math.add(_math.square(x), b))), 0.5)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = _as_float(x)
    return _math.subtract(x, _math.tanh(x))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = _as_float(x)
    return _math.where(_math.greater(x, threshold), x,
                       _math.multiply(_math.ones_like(x), default_value))


def _as_float(x):
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    return x if x.dtype.is_floating else _math.cast(x, "float32")


# Keras 2 and 3: an activation called on functional-model KerasTensors
# (``keras.activations.swish(temb)``, keras.io DDPM) inserts an op layer.
for _fn in (linear, relu, relu6, leaky_relu, elu, selu, gelu, sigmoid, hard_sigmoid,
            hard_silu, tanh, softplus, softsign, swish, mish, exponential, softmax,
            log_softmax, celu, glu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink,
            sparse_plus, sparse_sigmoid, sparsemax, squareplus, tanh_shrink, threshold):
    globals()[_fn.__name__] = generic_utils.symbolic_aware(
        _fn, f"keras.activations.{_fn.__name__}")
silu, hard_swish = swish, hard_silu
del _fn

_ALL = {f.__name__: f for f in (
    linear, relu, relu6, leaky_relu, elu, selu, gelu, sigmoid, hard_sigmoid, hard_silu,
    tanh, softplus, softsign, swish, mish, exponential, softmax, log_softmax, celu, glu,
    hard_shrink, hard_tanh, log_sigmoid, soft_shrink, sparse_plus, sparse_sigmoid,
    sparsemax, squareplus, tanh_shrink, threshold)}
_ALL.update({"silu": silu, "hard_swish": hard_silu})
_SERIALIZED = {silu: "swish"}


def serialize(activation):
    """The activation's name ('relu'), or a config dict for callable objects."""
    if activation is None:
        return "linear"
    for name, fn in _ALL.items():
        if fn is activation:
            return _SERIALIZED.get(fn, name)
    if hasattr(activation, "get_config"):
        return generic_utils.serialize_keras_object(activation)
    if hasattr(activation, "__name__"):
        return generic_utils.get_registered_name(activation)
    raise ValueError(f"Could not serialize activation {activation!r}")


def deserialize(config, custom_objects=None):
    if isinstance(config, str):
        obj = generic_utils.get_registered_object(config, custom_objects, _ALL)
        if obj is None:
            raise ValueError(f"Unknown activation function: '{config}'. Please ensure you "
                             "are using a `keras.utils.custom_object_scope` and that this "
                             "object is included in the scope.")
        return obj
    if isinstance(config, dict):
        if config.get("class_name") == "function" or "class_name" not in config:
            return deserialize(config.get("config", config.get("name")), custom_objects)
        from dlframe.keras import layers as _layers
        objs = dict(vars(_layers))
        objs.update(_ALL)
        return generic_utils.deserialize_keras_object(
            config, objs, custom_objects, "activation function")
    return config


def get(identifier):
    """Returns the activation for a name, a config dict, a callable or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        # tf.nn.relu, tf.math.tanh, ...: the Keras activation of that name, so configs
        # name it and RNNs find their fused kernel
        return _same_as_ops().get(_op_names.unwrap(identifier), identifier)
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


_OP_TWINS = None


def _same_as_ops():
    """{op function: Keras activation} for the tf.nn/tf.math ops computing the same."""
    global _OP_TWINS
    if _OP_TWINS is None:
        names = ("relu", "relu6", "elu", "selu", "gelu", "sigmoid", "tanh", "softplus",
                 "softsign", "swish", "silu", "softmax", "log_softmax", "exp")
        from dlframe import math as tf_math  # the public name tables
        from dlframe import nn as tf_nn
        _OP_TWINS = {}
        for namespace in (tf_nn, tf_math):
            for name in names:
                if hasattr(namespace, name):
                    keras_name = {"silu": "swish", "exp": "exponential"}.get(name, name)
                    _OP_TWINS.setdefault(_op_names.unwrap(getattr(namespace, name)),
                                         globals()[keras_name])
    return _OP_TWINS
