"""``LinearModel``: a linear (or generalized linear) model over one or more inputs."""

from dlframe.keras import activations, initializers, regularizers
from dlframe.keras.engine.model import Model
from dlframe.keras.layers.core import Dense
from dlframe.ops import math as _math


def _dense_names(input_shape):
    """One Dense per input: dict inputs by sorted key, lists by position."""
    if isinstance(input_shape, dict):
        return sorted(input_shape)
    several = isinstance(input_shape, (list, tuple)) and len(input_shape) > 0 and \
        not isinstance(input_shape[0], (int, type(None)))   # shapes, not one shape
    if several:
        return [f"linear_dense_{i}" for i in range(len(input_shape))]
    return ["linear_dense"]


class LinearModel(Model):
    """``y = activation(sum_i x_i @ kernel_i + bias)`` (``tf.keras.experimental``).

    Inputs may be one tensor, a list of tensors or a dict of tensors; each gets its
    own kernel. Trains like any model (``compile``/``fit``).

    Args:
      units: output dimension.
      activation: activation of the output (None: linear).
      use_bias: add a bias.
      kernel_initializer: kernels' initializer (default 'zeros').
      bias_initializer: bias initializer (default 'zeros').
      kernel_regularizer: regularizer of the kernels.
      bias_regularizer: regularizer of the bias.
      **kwargs: Model arguments (name, ...).

    Raises:
      ValueError: ``units`` is not a positive integer.
    """

    def __init__(self, units=1, activation=None, use_bias=True,
                 kernel_initializer="zeros", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError("Argument `units` must be a positive integer. "
                             f"Received: units={units!r}")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape):
        self._input_names = _dense_names(input_shape)
        self.dense_layers = [
            Dense(self.units, use_bias=False,
                  kernel_initializer=self.kernel_initializer,
                  kernel_regularizer=self.kernel_regularizer, name=name)
            for name in self._input_names]
        self.bias = self.add_weight(
            name="bias", shape=(self.units,), initializer=self.bias_initializer,
            regularizer=self.bias_regularizer) if self.use_bias else None
        self.built = True

    def _parts(self, inputs):
        if isinstance(inputs, dict):
            missing = [n for n in self._input_names if n not in inputs]
            if missing:
                raise ValueError(f"LinearModel was built on the input names "
                                 f"{self._input_names}; the inputs lack {missing}.")
            return [inputs[n] for n in self._input_names]
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs]

    def call(self, inputs):
        parts = self._parts(inputs)
        if len(parts) != len(self.dense_layers):
            raise ValueError(f"LinearModel was built on {len(self.dense_layers)} "
                             f"input(s), received {len(parts)}.")
        outputs = [layer(x) for layer, x in zip(self.dense_layers, parts)]
        result = outputs[0] if len(outputs) == 1 else _math.add_n(outputs)
        if self.bias is not None:
            result = _math.add(result, self.bias)
        return self.activation(result) if self.activation is not None else result

    def get_config(self):
        return {"units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)
