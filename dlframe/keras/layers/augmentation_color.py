"""Colour and pixel augmentation layers (Keras 3): RandomHue, RandomSaturation,
RandomGrayscale, RandomInvert, RandomPosterization, RandomSharpness,
RandomGaussianBlur, RandomColorDegeneration, RandomColorJitter, Solarization, and
the deterministic AutoContrast and Equalization.

Like the other augmentation layers they are the identity unless called with
``training=True`` (AutoContrast is applied always, as in Keras). Each image of a
batch draws its own random parameters; ``value_range`` is the range pixel values
live in (``(0, 255)`` by default).
"""

from dlframe.core.tensor import convert_to_tensor
from dlframe.keras.layers.augmentation import (
    RandomBrightness,
    RandomContrast,
    _factor,
    _float,
    _is_number,
    _keras3_factor,
    _ValueRangeBase,
)
from dlframe.keras.ops import image_filters as _filters
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import conv as _conv
from dlframe.ops import image as _image
from dlframe.ops import image_color as _color
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import segment as _segment


def _check_range(value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or \
            value_range[0] >= value_range[1]:
        raise ValueError("The `value_range` argument should be a list of two numbers "
                         f"(lower < upper). Received: value_range={value_range!r}")
    return tuple(value_range)


class _ValueRangeLayer(_ValueRangeBase):
    """An augmentation with a ``value_range`` and a per-image factor range."""

    _factor_bounds = (0.0, 1.0)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._lower, self._upper = _keras3_factor(factor, *self._factor_bounds)
        self.factor = (self._lower, self._upper)   # Keras 3 keeps the range
        self.value_range = _check_range(value_range)

    def _per_image(self, x, low=None, high=None):
        low = self._lower if low is None else low
        high = self._upper if high is None else high
        return _math.cast(self._uniform([x.shape[0], 1, 1, 1], low, high), x.dtype)

    def _coin(self, x, probability):
        """A [N, 1, 1, 1] bool: True with ``probability`` (itself [N, 1, 1, 1])."""
        return _math.less(self._per_image(x, 0.0, 1.0), probability)

    def _to_unit(self, x):
        lo, hi = float(self.value_range[0]), float(self.value_range[1])
        return (x - lo) / (hi - lo)

    def _from_unit(self, x):
        lo, hi = float(self.value_range[0]), float(self.value_range[1])
        return x * (hi - lo) + lo


def _hsv_map(x, fn):
    """Applies ``fn(h, s, v)`` -> (h, s, v) to [0, 1] RGB images."""
    h, s, v = _array.unstack(_color.rgb_to_hsv(x), num=3, axis=-1)
    h, s, v = fn(h, s, v)
    return _color.hsv_to_rgb(_array.stack([h, s, v], axis=-1))


class RandomHue(_ValueRangeLayer):
    """Rotates the hue of each image by ``±U(factor) / 2`` of a turn (the sign is
    random); ``factor=0`` is a no-op, 1 the largest shift."""

    def _augment(self, x):
        # Keras 3: the sign's draw first, negative above 1/2, then the amount
        sign = _logic.where(_math.greater(self._per_image(x, 0.0, 1.0), 0.5), -1.0, 1.0)
        delta = _array.squeeze(self._per_image(x) * sign * 0.5, [3])
        out = _hsv_map(self._to_unit(x), lambda h, s, v: (
            _math.floormod(h + delta, 1.0), s, v))
        return self._from_unit(out)


class RandomSaturation(_ValueRangeLayer):
    """Scales the saturation by ``f / (1 - f)``, f drawn from ``factor``: 0 gives
    grayscale, 0.5 no change, 1 full saturation. As in Keras 3 a number f is the
    range ``(-f, f)`` (negative draws give grayscale)."""

    _factor_bounds = (-1.0, 1.0)

    def _augment(self, x):
        f = self._per_image(x)
        scale = _array.squeeze(f / (1.0 - f + 1e-7), [3])
        out = _hsv_map(self._to_unit(x), lambda h, s, v: (
            h, _clip.clip_by_value(s * scale, 0.0, 1.0), v))
        return self._clip_to_range(self._from_unit(out))


class RandomColorDegeneration(_ValueRangeLayer):
    """Blends each image towards its grayscale version by ``f`` drawn from
    ``factor`` (0: unchanged, 1: gray; negative values move away from gray). As in
    Keras 3 a number f is the range ``(-f, f)``."""

    _factor_bounds = (-1.0, 1.0)

    def _augment(self, x):
        f = self._per_image(x)
        return self._clip_to_range(x + f * (_image.rgb_to_grayscale(x) - x))


class RandomSharpness(_ValueRangeLayer):
    """Blends with a 3x3 smoothed copy: ``x + (1 - 2f)(smooth - x)``, f from
    ``factor`` (0: smoothed, 0.5: unchanged, 1: sharpened)."""

    def _augment(self, x):
        channels = x.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = convert_to_tensor([[a, a, a], [a, b, a], [a, a, a]], dtype=x.dtype)
        kernel = _array.tile(_array.reshape(kernel, [3, 3, 1, 1]), [1, 1, channels, 1])
        smooth = _conv.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME")
        return self._clip_to_range(x + (1.0 - 2.0 * self._per_image(x)) * (smooth - x))


class RandomInvert(_ValueRangeLayer):
    """Replaces an image by ``value_range[1] - x`` with probability drawn from
    ``factor`` (default 1.0: always)."""

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):
        super().__init__(factor, value_range, data_format, seed, **kwargs)

    def _augment(self, x):
        return _logic.where(self._coin(x, self._per_image(x)),
                            float(self.value_range[1]) - x, x)


class RandomGrayscale(_ValueRangeLayer):
    """Turns each image to grayscale (kept as 3 channels) with probability
    ``factor`` (default 0.5)."""

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        # Keras 3 compares the factor with numbers: a pair or a string is a TypeError
        if not _is_number(factor):
            raise TypeError("`factor` should be a number between 0 and 1. Received: "
                            f"factor={factor!r}")
        if not 0 <= factor <= 1:
            raise ValueError("`factor` should be between 0 and 1. Received: "
                             f"factor={factor!r}")
        super().__init__((factor, factor), (0, 255), data_format, seed, **kwargs)
        self.factor = factor

    def _augment(self, x):
        gray = _image.rgb_to_grayscale(x)
        return _logic.where(self._coin(x, float(self.factor)),
                            _array.broadcast_to(gray, list(x.shape)), x)

    def get_config(self):
        config = super().get_config()
        config.pop("value_range")
        return config


class RandomPosterization(_ValueRangeLayer):
    """Keeps ``bits`` high bits of each 8-bit pixel, as PIL's posterize.

    As Keras 3 draws it, ``bits`` is a random integer in ``[1, factor)`` (or in
    ``[lower, upper)`` for a pair; a number 1 or an equal pair is that constant);
    a pair only has to reach into [1, 8], and the bits drawn are kept within [1, 8].

    Args:
      factor: an integer in [1, 8] or a pair of integers.
      value_range: the pixel range.
      data_format: only 'channels_last' (or None) is supported.
      seed: optional random seed.

    Raises:
      TypeError: ``factor`` holds a non-integer (Keras 3 accepts it, then fails when
        called).
      ValueError: ``factor`` lies outside [1, 8].
    """

    _factor_bounds = (1.0, 8.0)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        values = factor if isinstance(factor, (tuple, list)) else [factor]
        if not all(_is_int(f) for f in values):
            raise TypeError("The `factor` argument should be an integer (or a pair of "
                            f"integers) in [1, 8]. Received: factor={factor!r}")
        self.factor = (int(self._lower), int(self._upper))

    def _augment(self, x):
        low, high = self.factor
        if high > low:   # Keras 3's randint (int64 draws): the upper end is excluded
            bits = self._uniform([x.shape[0], 1, 1, 1], low, high, dtype="int64")
            bits = _clip.clip_by_value(_math.cast(bits, x.dtype), 1.0, 8.0)
        else:
            bits = _math.cast(min(max(low, 1), 8), x.dtype)
        step = _math.pow(2.0, 8.0 - bits)
        pixels = _math.floor(_clip.clip_by_value(self._to_unit(x) * 255.0, 0.0, 255.0))
        return self._from_unit(_math.floor(pixels / step) * step / 255.0)


def _is_int(value):
    return hasattr(value, "__index__") and not isinstance(value, bool)


class RandomGaussianBlur(_ValueRangeLayer):
    """Blurs each image with probability drawn from ``factor``, with a Gaussian
    whose two sigmas are drawn per batch from the ``sigma`` range (as Keras 3).

    Args:
      factor: the blur probability range (a number f: ``(0, f)``).
      kernel_size: odd number of taps, or a pair ``(height, width)`` of them; kept as
        a pair, as Keras 3 does.
      sigma: the range sigma is drawn from (a number s: ``(0, s)``, kept as a pair).
      value_range: the pixel range; the output is clipped to it.
      data_format: only 'channels_last' (or None) is supported.
      seed: optional random seed.
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self.kernel_size = _odd_pair(kernel_size, "kernel_size")
        self.sigma = _factor(sigma, "sigma", 0.0, float("inf"))

    def _augment(self, x):
        n = x.shape[0]
        # Keras 3's draws: probability, threshold (per image), then two sigmas
        probability = self._uniform([n], self._lower, self._upper)
        apply = _math.less(self._uniform([n], 0.0, 1.0), probability)
        sigma = self._uniform([2], *self.sigma, dtype=self.compute_dtype) + 1e-6
        blurred = _filters.gaussian_blur(x, self.kernel_size, (sigma[0], sigma[1]),
                                         data_format="channels_last")
        apply = _array.reshape(apply, [n, 1, 1, 1])
        return self._clip_to_range(_logic.where(apply, blurred, x))

    def get_config(self):
        config = super().get_config()
        config.update({"kernel_size": self.kernel_size, "sigma": self.sigma})
        return config


def _odd_pair(value, name):
    """``value`` (an odd positive int or a pair of them) as a ``(height, width)``."""
    pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(pair) != 2 or not all(
            isinstance(k, int) and not isinstance(k, bool) and k > 0 and k % 2 == 1
            for k in pair):
        raise ValueError(f"`{name}` must be an odd positive integer or a pair of them. "
                         f"Received: {name}={value!r}")
    return pair


class Solarization(_ValueRangeLayer):
    """Adds a random amount and inverts pixels at or above a random threshold (on the
    0-255 scale). As Keras 3 draws them, the addition is uniform in
    ``[addition_factor[0], addition_factor[1] * 255]`` and the threshold in
    ``[threshold_factor[0], threshold_factor[1] * 255]`` (a float f means [0, f])."""

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        # unlike the other layers, both numbers of a pair must lie in [0, 1]
        addition = _factor(addition_factor, "addition_factor")
        super().__init__(addition, value_range, data_format, seed, **kwargs)
        self.addition_factor = self.factor   # Keras 3 keeps the ranges
        self._threshold = _factor(threshold_factor, "threshold_factor")
        self.threshold_factor = self._threshold

    def _augment(self, x):
        add = self._per_image(x, self._lower, self._upper * 255.0)
        threshold = self._per_image(x, self._threshold[0], self._threshold[1] * 255.0)
        y = _clip.clip_by_value(self._to_unit(x) * 255.0 + add, 0.0, 255.0)
        y = _logic.where(_math.less(y, threshold), y, 255.0 - y)
        return self._from_unit(y / 255.0)

    def get_config(self):
        config = super().get_config()
        config.pop("factor")
        config.update({"addition_factor": self.addition_factor,
                       "threshold_factor": self.threshold_factor})
        return config


class RandomColorJitter(_ValueRangeLayer):
    """Applies RandomBrightness, RandomContrast, RandomSaturation and RandomHue in
    that order (each only when its factor is given)."""

    def __init__(self, value_range=(0, 255), brightness_factor=None,
                 contrast_factor=None, saturation_factor=None, hue_factor=None,
                 seed=None, data_format=None, **kwargs):
        super().__init__(0.0, value_range, data_format, seed, **kwargs)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        vr = self.value_range
        self._steps = [layer for layer in (
            brightness_factor is not None and RandomBrightness(
                brightness_factor, value_range=vr, seed=seed),
            contrast_factor is not None and RandomContrast(
                contrast_factor, value_range=vr, seed=seed),
            saturation_factor is not None and RandomSaturation(
                saturation_factor, value_range=vr, seed=seed),
            hue_factor is not None and RandomHue(hue_factor, value_range=vr, seed=seed),
        ) if layer]
        for layer in self._steps:   # Keras 3: every step draws from the jitter's state
            layer._seed_generator = self._seed_generator

    def _augment(self, x):
        for layer in self._steps:
            x = layer._augment(x)
        return x

    def get_config(self):
        config = super().get_config()
        config.pop("factor")
        config.update({"brightness_factor": self.brightness_factor,
                       "contrast_factor": self.contrast_factor,
                       "saturation_factor": self.saturation_factor,
                       "hue_factor": self.hue_factor})
        return config


class AutoContrast(_ValueRangeLayer):
    """Stretches each image channel's [min, max] to ``value_range`` (applied in
    training and inference; constant channels are left as they are)."""

    _draws = False   # deterministic: no seed state (Keras 3)

    def __init__(self, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(0.0, value_range, data_format, None, **kwargs)

    def call(self, inputs, training=None):
        x = _float(inputs, self.compute_dtype)
        low = _red.reduce_min(x, axis=[-3, -2], keepdims=True)
        high = _red.reduce_max(x, axis=[-3, -2], keepdims=True)
        span = high - low
        flat = _math.less_equal(span, 0.0)
        lo, hi = float(self.value_range[0]), float(self.value_range[1])
        scaled = (x - low) / _logic.where(flat, 1.0, span) * (hi - lo) + lo
        return _logic.where(_array.broadcast_to(flat, list(x.shape)), x, scaled)

    def get_config(self):
        config = super().get_config()
        for key in ("factor", "seed"):
            config.pop(key)
        return config


class Equalization(_ValueRangeLayer):
    """Histogram equalization over ``bins`` levels (applied when ``training=True``,
    the identity otherwise, as in Keras 3). As Keras does, each channel's histogram
    is taken over the whole batch; a channel with a single level is left as is."""

    _draws = False   # deterministic: no seed state (Keras 3)

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(0.0, value_range, data_format, None, **kwargs)
        if not isinstance(bins, int) or bins < 2:
            raise ValueError(f"`bins` must be an integer >= 2. Received: bins={bins!r}")
        self.bins = bins

    def _augment(self, x):
        c, bins = x.shape[-1], self.bins
        pixels = self._to_unit(x) * 255.0
        levels = _math.cast(_clip.clip_by_value(
            _math.floor(pixels * ((bins - 1) / 255.0)), 0.0, bins - 1.0), "int32")
        channel = _math.cast(convert_to_tensor(list(range(c))), "int32") * bins
        ids = levels + channel  # [N, H, W, C]: a histogram slot per (channel, level)
        hist = _array.reshape(_segment.unsorted_segment_sum(
            _math.cast(_math.ones_like(ids), x.dtype), ids, c * bins), [c, bins])
        cdf = _red.cumsum(hist, axis=1)
        cdf_min = _red.reduce_min(_logic.where(_math.greater(cdf, 0.0), cdf,
                                               _red.reduce_max(cdf)), axis=1,
                                  keepdims=True)
        denom = cdf[:, -1:] - cdf_min
        denom = _logic.where(_math.equal(denom, 0.0), _math.ones_like(denom), denom)
        lut = _clip.clip_by_value(_math.round((cdf - cdf_min) * 255.0 / denom), 0.0,
                                  255.0)
        out = _index.gather(_array.reshape(lut, [-1]), ids)
        levels_used = _red.reduce_sum(_math.cast(_math.greater(hist, 0.0), x.dtype),
                                      axis=1)
        out = _logic.where(_math.less_equal(levels_used, 1.0), pixels, out)
        return self._from_unit(out / 255.0)

    def get_config(self):
        config = super().get_config()
        for key in ("factor", "seed"):
            config.pop(key)
        config["bins"] = self.bins
        return config


__all__ = ["AutoContrast", "Equalization", "RandomColorDegeneration",
           "RandomColorJitter", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
           "RandomInvert", "RandomPosterization", "RandomSaturation", "RandomSharpness",
           "Solarization"]
