"""Regularization layers: Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout,
AlphaDropout, ActivityRegularization. Noise is applied only when ``training`` is true.

After ``keras.utils.set_random_seed`` a noise layer built with ``rate``/``stddev`` > 0
owns a ``keras.random.SeedGenerator`` (seeded by ``seed``, or by Python's ``random``)
and draws statelessly from it, advancing it each call, as Keras 3: its masks and
noise are TF 2.21's. Layers built before draw from the TF global-seed stream
(Keras 2; ``tf.random.set_seed`` makes them reproducible)."""

import math as _pymath

from dlframe.keras import backend, default_seeds, regularizers
from dlframe.keras import random as _keras_random
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import random as _random


def _check_rate(rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                         f"value between 0 and 1. Received: rate={rate!r}")
    return rate


def _make_seed_generator(seed, amount):
    """Keras 3's seed state of a noise layer with ``amount > 0`` (after
    ``keras.utils.set_random_seed``; a ``seed=None`` one takes its seed from
    Python's ``random``, which keeps the initial weights of the layers built after
    it equal to TF's), else None: the layer draws from the TF global stream."""
    if default_seeds.active() and amount > 0:
        return _keras_random.SeedGenerator(seed)
    return None


class _MaskDropout(Layer):
    """Base of Dropout and AlphaDropout: drops units by a random mask of
    ``noise_shape`` (``rate``, ``noise_shape`` and ``seed`` as ``Dropout``)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True
        self.seed_generator = _make_seed_generator(seed, self.rate)

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        return [inputs.shape[i] if d is None else d
                for i, d in enumerate(self.noise_shape)]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape,
                       "seed": self.seed})
        return config


class Dropout(_MaskDropout):
    """Randomly zeroes a fraction ``rate`` of inputs during training (scaled by 1/(1-rate)).

    Args:
      rate: fraction of units to drop, in [0, 1].
      noise_shape: shape of the binary mask (None entries follow the input).
      seed: optional random seed.
    """

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.seed_generator is not None:
            return _keras_random.dropout(inputs, self.rate,
                                         noise_shape=self._noise_shape(inputs),
                                         seed=self.seed_generator)
        return _nn.dropout(inputs, rate=self.rate, noise_shape=self._noise_shape(inputs),
                           seed=self.seed)


class SpatialDropout1D(Dropout):
    """Drops whole feature channels of a (batch, steps, channels) input."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _noise_shape(self, inputs):
        return [inputs.shape[0], 1, inputs.shape[2]]

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        return config


class SpatialDropout2D(Dropout):
    """Drops whole feature maps of a 4-D input."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = data_format or backend.image_data_format()
        self.input_spec = InputSpec(ndim=4)

    def _noise_shape(self, inputs):
        s = inputs.shape
        if self.data_format == "channels_first":
            return [s[0], s[1], 1, 1]
        return [s[0], 1, 1, s[3]]

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        config["data_format"] = self.data_format
        return config


class SpatialDropout3D(SpatialDropout2D):
    """Drops whole 3-D feature maps of a 5-D input."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, data_format=data_format, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=5)

    def _noise_shape(self, inputs):
        s = inputs.shape
        if self.data_format == "channels_first":
            return [s[0], s[1], 1, 1, 1]
        return [s[0], 1, 1, 1, s[4]]


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise with ``stddev`` during training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError("Invalid value received for argument `stddev`. Expected a "
                             f"non-negative float. Received: stddev={stddev!r}")
        self.stddev = stddev
        self.seed = seed
        self.supports_masking = True
        self.seed_generator = _make_seed_generator(seed, stddev)

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        if self.seed_generator is not None:
            return inputs + _keras_random.normal(list(inputs.shape), stddev=self.stddev,
                                                 dtype=self.compute_dtype,
                                                 seed=self.seed_generator)
        noise = _random.normal(list(inputs.shape), mean=0.0, stddev=self.stddev,
                               dtype=inputs.dtype, seed=self.seed)
        return inputs + noise

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1 and variance rate / (1 - rate) in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(rate)
        self.seed = seed
        self.supports_masking = True
        self.seed_generator = _make_seed_generator(seed, rate)

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        std = _pymath.sqrt(self.rate / (1.0 - self.rate))
        if self.seed_generator is not None:
            return inputs * _keras_random.normal(list(inputs.shape), mean=1.0,
                                                 stddev=std, dtype=self.compute_dtype,
                                                 seed=self.seed_generator)
        noise = _random.normal(list(inputs.shape), mean=1.0, stddev=std,
                               dtype=inputs.dtype, seed=self.seed)
        return inputs * noise

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


# SELU's saturation value -scale * alpha: where dropped units of AlphaDropout go
_SELU_NEGATIVE = -1.6732632423543772 * 1.0507009873554805


class AlphaDropout(_MaskDropout):
    """Dropout for self-normalizing (SELU) networks: keeps the inputs' mean and variance.

    Dropped units are set to SELU's negative saturation value and the result is
    affinely rescaled so that zero-mean, unit-variance inputs keep those statistics.

    Args:
      rate, noise_shape, seed: as ``Dropout``.
    """

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        shape = self._noise_shape(inputs)
        if shape is None:
            shape = list(inputs.shape)
        if self.seed_generator is not None:   # Keras 3: a floatx uniform
            u = _keras_random.uniform(shape, seed=self.seed_generator)
        else:
            u = _random.uniform(shape, dtype=inputs.dtype, seed=self.seed)
        keep = _math.cast(_math.greater_equal(u, self.rate), inputs.dtype)
        rate = self.rate
        scale = ((1.0 - rate) * (1.0 + rate * _SELU_NEGATIVE ** 2)) ** -0.5
        shift = -scale * _SELU_NEGATIVE * rate
        dropped = inputs * keep + _SELU_NEGATIVE * (1.0 - keep)
        return dropped * scale + shift


class ActivityRegularization(Layer):
    """Identity that adds ``l1 * sum|x| + l2 * sum x**2`` (per sample) to the losses."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1, self.l2 = l1, l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config


_ = _math
