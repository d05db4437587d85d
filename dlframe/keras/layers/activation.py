"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax."""

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import activations, constraints, initializers, regularizers
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers.attention_axes import masked_softmax
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn


class _Elementwise(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class ReLU(_Elementwise):
    """``relu`` with optional ``max_value``, ``negative_slope`` and ``threshold``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError("negative_slope of a ReLU layer cannot be a negative value. "
                             f"Received: negative_slope={negative_slope}")
        self.max_value, self.negative_slope, self.threshold = (
            max_value, negative_slope, threshold)

    def call(self, inputs):
        return activations.relu(inputs, alpha=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_Elementwise):
    """``x`` if positive else ``negative_slope * x``.

    Args:
      negative_slope: slope for negative inputs (default 0.3); Keras 3's name.
      alpha: Keras 2's name of ``negative_slope``.
    """

    def __init__(self, alpha=None, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if alpha is not None and negative_slope is not None and alpha != negative_slope:
            raise ValueError("`alpha` (Keras 2) and `negative_slope` (Keras 3) name the "
                             f"same slope; received both: alpha={alpha!r}, "
                             f"negative_slope={negative_slope!r}")
        value = alpha if alpha is not None else negative_slope
        self.alpha = 0.3 if value is None else value
        if self.alpha < 0:
            raise ValueError("The alpha value of a Leaky ReLU layer cannot be None or "
                             f"negative, got {self.alpha}")

    @property
    def negative_slope(self):
        return self.alpha

    def call(self, inputs):
        return _nn.leaky_relu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.alpha
        config["alpha"] = self.alpha   # Keras 2's key
        return config


class ELU(_Elementwise):
    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(_Elementwise):
    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = theta

    def call(self, inputs):
        return inputs * _math.cast(_math.greater(inputs, self.theta), inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


class Softmax(_Elementwise):
    """Softmax over ``axis``; a boolean ``mask`` excludes positions."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        # Keras 3: masked positions come out 0, even where a whole row is masked
        return masked_softmax(inputs, mask, axis=self.axis,
                              softmax=activations.softmax)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class PReLU(Layer):
    """``x`` if positive else ``alpha * x`` with a learned ``alpha`` per feature."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = None if shared_axes is None else (
            [shared_axes] if isinstance(shared_axes, int) else list(shared_axes))

    def build(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        shape = dims[1:]
        for a in self.shared_axes or []:
            shape[a - 1] = 1
        self.alpha = self.add_weight("alpha", shape=shape,
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {i: d for i, d in enumerate(dims) if i and i not in (self.shared_axes or [])}
        self.input_spec = InputSpec(ndim=len(dims), axes=axes)
        self.built = True

    def call(self, inputs):
        return _nn.relu(inputs) - self.alpha * _nn.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": None if self.alpha_regularizer is None else
            regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": None if self.alpha_constraint is None else
            constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes})
        return config
