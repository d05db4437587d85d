"""Keras 3's ``RandomElasticTransform``: images resampled along a smooth random
displacement field (Simard et al., 2003)."""

from dlframe.core.tensor import convert_to_tensor
from dlframe.keras.layers.augmentation import _keras3_factor, _RandomLayer
from dlframe.keras.layers.augmentation_color import _check_range
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import conv as _conv
from dlframe.ops import creation as _creation
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import random as _random
from dlframe.ops import reduction as _red

_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fold(index, n, mode):
    """Integer pixel indices (float tensor) brought inside [0, n-1] by ``mode``."""
    if mode in ("constant", "nearest") or n == 1:
        return _clip.clip_by_value(index, 0.0, n - 1.0)
    if mode == "wrap":                      # a b c d | a b c d
        return _math.floormod(index, float(n))
    if mode == "mirror":                    # d c b | a b c d | c b a
        m = _math.floormod(index, 2.0 * n - 2.0)
        return _logic.where(_math.greater_equal(m, float(n)), 2.0 * n - 2.0 - m, m)
    m = _math.floormod(index, 2.0 * n)      # reflect: d c b a | a b c d | d c b a
    return _logic.where(_math.greater_equal(m, float(n)), 2.0 * n - 1.0 - m, m)


def map_coordinates_2d(images, rows, cols, interpolation="bilinear",
                       fill_mode="reflect", fill_value=0.0):
    """Samples ``images`` [n, h, w, c] at per-pixel coordinates.

    Args:
      images: [n, h, w, c] float images.
      rows, cols: [n, h, w] float coordinates in input pixels.
      interpolation: 'bilinear' or 'nearest'.
      fill_mode: how coordinates outside the image are read: 'constant' (with
        ``fill_value``), 'nearest', 'wrap', 'mirror' or 'reflect'.
      fill_value: the value outside the image in 'constant' mode.

    Returns:
      [n, h, w, c] images.
    """
    n, h, w, c = images.shape
    flat = _array.reshape(images, [n * h * w, c])
    base = _array.reshape(_math.cast(_creation.range(n), images.dtype) * float(h * w),
                          [n, 1, 1])

    def read(r, q):
        idx = base + _fold(r, h, fill_mode) * float(w) + _fold(q, w, fill_mode)
        value = _index.gather(flat, _math.cast(idx, "int32"))
        if fill_mode != "constant":
            return value
        inside = _math.logical_and(
            _math.logical_and(_math.greater_equal(r, 0.0), _math.less_equal(r, h - 1.0)),
            _math.logical_and(_math.greater_equal(q, 0.0), _math.less_equal(q, w - 1.0)))
        return _logic.where(_array.expand_dims(inside, -1), value,
                            _math.cast(fill_value, images.dtype))

    if interpolation == "nearest":
        return read(_math.floor(rows + 0.5), _math.floor(cols + 0.5))
    r0, q0 = _math.floor(rows), _math.floor(cols)
    fr = _array.expand_dims(rows - r0, -1)
    fq = _array.expand_dims(cols - q0, -1)
    top = read(r0, q0) * (1.0 - fq) + read(r0, q0 + 1.0) * fq
    bottom = read(r0 + 1.0, q0) * (1.0 - fq) + read(r0 + 1.0, q0 + 1.0) * fq
    return top * (1.0 - fr) + bottom * fr


def _gaussian_smooth(field, sigma, size):
    """``field`` [n, h, w, k] smoothed by a separable Gaussian of scalar ``sigma``
    (a tensor) over ``size`` taps, zero padded."""
    k = field.shape[-1]
    taps = convert_to_tensor([i - (size - 1) / 2.0 for i in range(size)],
                             dtype=field.dtype)
    weights = _math.exp(-_math.square(taps) / (2.0 * _math.square(sigma)))
    weights = weights / _red.reduce_sum(weights)
    for shape in ([size, 1, 1, 1], [1, size, 1, 1]):
        kernel = _array.tile(_array.reshape(weights, shape), [1, 1, k, 1])
        field = _conv.depthwise_conv2d(field, kernel, [1, 1, 1, 1], "SAME")
    return field


class RandomElasticTransform(_RandomLayer):
    """Distorts images along a random smooth displacement field.

    With training, each image is distorted with probability drawn per image from
    ``factor``. A strength ``d`` drawn once per batch from ``scale`` sets, as in
    Keras, the field's Gaussian smoothing ``sigma = 0.05 d min(h, w)`` and its
    magnitude ``alpha = 0.1 d max(h, w)`` pixels: the field is white noise times
    ``sigma``, smoothed, times ``alpha``. Outputs are clipped to ``value_range``.

    Args:
      factor: probability of distorting an image: a float f in [0, 1] (meaning
        [0, f]) or a (low, high) pair (default 1.0).
      scale: the distortion strength, a float in [0, 1] (meaning [0, s]) or a pair.
      interpolation: 'bilinear' or 'nearest'.
      fill_mode: 'reflect', 'mirror', 'wrap', 'nearest' or 'constant'.
      fill_value: the value outside the image in 'constant' mode.
      value_range: the (low, high) range of the pixel values.
      seed: random seed.
      data_format: 'channels_last' only.
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _keras3_factor(factor)
        self.scale = _keras3_factor(scale, name="scale")
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. "
                                      "Expected of one ('nearest', 'bilinear').")
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of "
                                      f"one {_FILL_MODES}.")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = _check_range(value_range)

    def _augment(self, x):
        if self.factor[1] == 0 or self.scale[1] == 0:
            return x
        n, h, w, _ = x.shape
        strength = self._uniform([], *self.scale)
        sigma = _math.maximum(_math.cast(strength, x.dtype) * (0.05 * min(h, w)), 1e-3)
        alpha = _math.cast(strength, x.dtype) * (0.1 * max(h, w))
        # the kernel covers +-3 sigma of the strongest distortion the layer can draw
        size = int(6 * int(0.05 * min(h, w) * self.scale[1])) | 1
        seed = self._next_seed()
        noise = _random.normal([n, h, w, 2]) if seed is None else \
            _random.stateless_normal([n, h, w, 2], seed)
        noise = _math.cast(noise, x.dtype)
        field = _gaussian_smooth(noise * sigma, sigma, size) * alpha
        rows = _array.reshape(_math.cast(_creation.range(h), x.dtype), [1, h, 1])
        cols = _array.reshape(_math.cast(_creation.range(w), x.dtype), [1, 1, w])
        warped = map_coordinates_2d(x, rows + field[..., 1], cols + field[..., 0],
                                    self.interpolation, self.fill_mode,
                                    self.fill_value)
        probability = self._uniform([n], *self.factor)
        apply = _math.less(self._uniform([n], 0.0, 1.0), probability)
        out = _logic.where(_array.reshape(apply, [n, 1, 1, 1]), warped, x)
        return _clip.clip_by_value(out, float(self.value_range[0]),
                                   float(self.value_range[1]))

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "scale": self.scale,
                       "interpolation": self.interpolation,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "value_range": self.value_range})
        return config


__all__ = ["RandomElasticTransform"]
