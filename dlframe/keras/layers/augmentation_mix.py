"""Geometric and mixing augmentation layers (Keras 3): RandomHeight, RandomWidth,
RandomShear, RandomErasing, MixUp and CutMix.

All are the identity unless called with ``training=True``. MixUp and CutMix also
accept ``{"images": ..., "labels": ...}`` and then mix the labels with the same
weights as the images.
"""

import random as _pyrandom

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras.layers.augmentation import (
    _AffineLayer,
    _factor,
    _float,
    _is_number,
    _keras3_factor,
    _RandomLayer,
    _stack_transform,
)
from dlframe.keras import random as _keras_random
from dlframe.keras.layers.augmentation_color import _check_range
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import creation as _creation
from dlframe.ops import image as _image
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import random as _random


class _RandomResize(_RandomLayer):
    """Resizes the batch along one axis by a random ``1 + U(factor)`` scale.

    The new size sets the output shape, so it is drawn on the host (from ``seed``):
    inside a ``dlframe.function`` it is fixed per trace.
    """

    _axis = -3
    _arg = "height_factor"

    def __init__(self, factor, interpolation="bilinear", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self._lower, self._upper = _resize_range(factor)
        self.interpolation = interpolation
        self._host_rng = _pyrandom.Random(seed)

    def _augment(self, x):
        n = x.shape[self._axis]
        scale = self._host_rng.uniform(1.0 + self._lower, 1.0 + self._upper)
        size = max(1, int(n * scale))
        target = [size, x.shape[2]] if self._axis == -3 else [x.shape[1], size]
        return _math.cast(_image.resize(x, target, method=self.interpolation), x.dtype)

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).as_list()
        shape[self._axis] = None
        return TensorShape(shape)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        config.update({"factor": self.factor, "interpolation": self.interpolation})
        return config


def _resize_range(factor):
    """RandomHeight/RandomWidth's (lower, upper) as Keras (2 and 3) reads ``factor``:
    a number f is ``(-f, f)``, a list its first two numbers as written (not sorted);
    the upper bound may not be below the lower one, and the lower one must be above
    -1."""
    if isinstance(factor, (tuple, list)):
        if len(factor) < 2:
            raise ValueError("The `factor` argument should be a number or a list of "
                             f"two numbers. Received: factor={factor!r}")
        lower, upper = factor[0], factor[1]
    else:
        lower, upper = factor, factor
    if not all(_is_number(v) for v in (lower, upper)):
        raise TypeError("The `factor` argument should be a number or a list of two "
                        f"numbers. Received: factor={factor!r}")
    if not isinstance(factor, (tuple, list)):
        lower = -factor
    if upper < lower:
        raise ValueError("`factor` argument cannot have an upper bound lesser than the "
                         f"lower bound. Received: factor={factor!r}")
    if lower <= -1.0:   # Keras takes -1 itself, then may draw an empty image
        raise ValueError("`factor` argument must have values greater than -1. "
                         f"Received: factor={factor!r}")
    return float(lower), float(upper)


class RandomHeight(_RandomResize):
    """Scales the image height by ``1 + U(factor)`` (a float f means [-f, f]) in
    training; the identity at inference."""


class RandomWidth(_RandomResize):
    """Scales the image width by ``1 + U(factor)`` (a float f means [-f, f]) in
    training; the identity at inference."""

    _axis = -2


class RandomShear(_AffineLayer):
    """Shears images: ``x_in = x + s_x y``, ``y_in = y + s_y x`` with ``s`` drawn
    from ``x_factor``/``y_factor`` (a float f means (-f, f)) and a random sign."""

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value,
                         data_format=data_format, **kwargs)
        # Keras 3 keeps the ranges: a number f is (-f, f) (drawn, then a random sign)
        self._x = self.x_factor = _shear_range(x_factor, "x_factor")
        self._y = self.y_factor = _shear_range(y_factor, "y_factor")

    def _transforms(self, n, h, w):
        # Keras 3's draws: one sign for both shears (negative above 1/2), then y, x
        sign = _logic.where(_math.greater(self._uniform([n], 0.0, 1.0), 0.5), -1.0, 1.0)
        sy = self._uniform([n], *self._y) * sign
        sx = self._uniform([n], *self._x) * sign
        return _stack_transform([1.0, sx, 0.0, sy, 1.0, 0.0, 0.0, 0.0], n)

    def get_config(self):
        config = super().get_config()
        config.update({"x_factor": self.x_factor, "y_factor": self.y_factor})
        return config

    @classmethod
    def from_config(cls, config):
        # get_config stores a number f as the range (-f, f), which the constructor
        # refuses (Keras 3's own round trip fails there): read it back as f
        config = dict(config)
        for key in ("x_factor", "y_factor"):
            value = config.get(key)
            if isinstance(value, (tuple, list)) and len(value) == 2 and \
                    value[0] < 0 and value[0] == -value[1]:
                config[key] = value[1]
        return super().from_config(config)


def _shear_range(factor, name):
    """RandomShear's range: every number given must lie in [0, 1]; a number f means
    ``(-f, f)``, a pair is sorted."""
    lower, upper = _factor(factor, name)
    return (lower, upper) if isinstance(factor, (tuple, list)) else (-upper, upper)


def _box_mask(n, h, w, y0, y1, x0, x1):
    """[N, H, W, 1] bool: inside the per-image box [y0, y1) x [x0, x1) ([N] each)."""
    rows = _math.cast(_array.reshape(_creation.range(h), [1, h, 1, 1]), y0.dtype)
    cols = _math.cast(_array.reshape(_creation.range(w), [1, 1, w, 1]), x0.dtype)

    def col(v):
        return _array.reshape(v, [n, 1, 1, 1])
    inside_r = _math.logical_and(_math.greater_equal(rows, col(y0)),
                                 _math.less(rows, col(y1)))
    inside_c = _math.logical_and(_math.greater_equal(cols, col(x0)),
                                 _math.less(cols, col(x1)))
    return _math.logical_and(inside_r, inside_c)


class RandomErasing(_RandomLayer):
    """Erases a random box of each image (with probability drawn from ``factor``):
    its height and width are ``sqrt(U(scale))`` of the image's; it is filled with
    ``fill_value`` or, when None, with ``normal noise * value_range[1]``, clipped to
    ``value_range``."""

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._lower, self._upper = self.factor = _keras3_factor(factor)
        self.scale = scale
        self._scale = _keras3_factor(scale, name="scale")
        if fill_value is not None and not isinstance(fill_value, (int, float, list,
                                                                  tuple)):
            raise ValueError("The `fill_value` argument should be a number (or a list "
                             f"of three numbers). Received: fill_value={fill_value!r}")
        self.fill_value = fill_value
        self.value_range = _check_range(value_range)

    def _augment(self, x):
        n, h, w, _ = x.shape
        # a scale range reaching below 0 gives empty boxes there (Keras: NaN bounds)
        # Keras 3's draws, in its order: box sizes, x start, y start, probability,
        # threshold, then the noise fill
        sizes = _math.sqrt(_math.maximum(self._uniform([n, 2], *self._scale), 0.0))
        bounds = {}
        for axis, length, ratio in (("x", w, sizes[:, 0]), ("y", h, sizes[:, 1])):
            extent = ratio * float(length)
            start = self._uniform([n], 0.0, 1.0) * (float(length) - extent)
            bounds[axis] = (start, start + extent)
        mask = _box_mask(n, h, w, *bounds["y"], *bounds["x"])
        probability = self._uniform([n, 1, 1, 1], self._lower, self._upper)
        apply = _math.less(self._uniform([n, 1, 1, 1], 0.0, 1.0), probability)
        if self.fill_value is None:
            fill = _random.stateless_normal(list(x.shape), self._next_seed(),
                                            dtype=x.dtype) * float(self.value_range[1])
        else:
            fill = _math.cast(_array.broadcast_to(_math.cast(self.fill_value, x.dtype),
                                                  [x.shape[-1]]), x.dtype)
        low, high = self.value_range   # fills beyond the value range are clipped (Keras)
        fill = _clip.clip_by_value(_math.cast(fill, x.dtype), float(low), float(high))
        return _logic.where(_math.logical_and(mask, apply), fill, x)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "scale": self.scale,
                       "fill_value": self.fill_value, "value_range": self.value_range})
        return config


class _Mixing(_RandomLayer):
    """Mixes each image (and label) with a randomly permuted partner in the batch;
    the mixing weights follow a Beta distribution whose positive parameter is the
    constructor argument (and attribute) named ``_beta_argument``. The permutation
    and the Beta draws come from the layer's ``SeedGenerator`` in Keras 3's order
    (``_mix`` returns the mixed images, the label weights and the permutation)."""

    _beta_argument = None

    def __init__(self, beta_parameter, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        setattr(self, self._beta_argument, self._checked(beta_parameter))

    def _checked(self, value):
        name = self._beta_argument
        if not _is_number(value):
            # Keras 3 accepts it, then fails when called
            raise TypeError(f"`{name}` must be a positive number. Received: "
                            f"{name}={value!r}")
        if not value > 0:   # Keras 3's Beta draws give garbage or NaN there
            raise ValueError(f"`{name}` must be a positive number. Received: "
                             f"{name}={value!r}")
        return value

    def get_config(self):
        config = super().get_config()
        config[self._beta_argument] = getattr(self, self._beta_argument)
        return config

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            if "images" not in inputs:
                raise ValueError(f"{type(self).__name__} expects a dict with 'images' "
                                 f"(and optionally 'labels'). Received keys: "
                                 f"{sorted(inputs)}")
            images = _float(inputs["images"], self.compute_dtype)
            labels = inputs.get("labels")
        else:
            images, labels = _float(inputs, self.compute_dtype), None
        if training and len(images.shape) == 4:
            images, weight, perm = self._mix(images)
            if labels is not None:
                labels = _float(labels, self.compute_dtype)
                w = _array.reshape(weight, [-1] + [1] * (len(labels.shape) - 1))
                labels = w * labels + (1.0 - w) * _index.gather(labels, perm)
        if isinstance(inputs, dict):
            out = dict(inputs)
            out["images"] = images
            if labels is not None:
                out["labels"] = labels
            return out
        return images


class MixUp(_Mixing):
    """MixUp (Zhang et al. 2018): ``l x + (1 - l) x[perm]``, ``l ~ Beta(alpha, alpha)``
    per image.

    Args:
      alpha: the Beta distribution's parameter (default 0.2).
    """

    _beta_argument = "alpha"

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(alpha, seed=seed, data_format=data_format, **kwargs)

    def _mix(self, images):
        # Keras 3: the permutation, then the weights
        n = images.shape[0]
        perm = _keras_random.shuffle(_creation.range(n, dtype="int64"),
                                     seed=self._seed_generator)
        weight = _keras_random.beta((n,), self.alpha, self.alpha,
                                    seed=self._seed_generator)
        w = _array.reshape(_math.cast(weight, images.dtype), [-1, 1, 1, 1])
        return w * images + (1.0 - w) * _index.gather(images, perm), weight, perm


class CutMix(_Mixing):
    """CutMix (Yun et al. 2019): pastes a box of a permuted partner image covering
    ``1 - l`` of the area (``l ~ Beta(a, a)``, box clipped to the image); labels are
    mixed by the pasted area.

    Args:
      factor: a number f in [0, 1] (the range ``(0, f)``, as Keras 3 stores it) or a
        pair ``(lower, upper)``: each call draws the Beta parameter ``a`` uniformly
        from that range (default 1.0).
    """

    _beta_argument = "factor"

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(factor, seed=seed, data_format=data_format, **kwargs)

    def _checked(self, value):
        return _keras3_factor(value)

    def _mix(self, images):
        n, h, w, _ = images.shape
        # Keras 3's draws: a Beta parameter from the factor range (kept above 0
        # here, where Keras's Beta sampler gives garbage), the weights, the box
        # start along x then y (``U * (length - box)``), then the permutation
        alpha = _math.maximum(self._uniform([], *self.factor), 0.0) + 1e-6
        beta = _keras_random.beta((n,), alpha, alpha, seed=self._seed_generator)
        ratio = _math.sqrt(1.0 - beta)
        bounds = {}
        for axis, length in (("x", w), ("y", h)):
            box = ratio * float(length)
            start = self._uniform([n], 0.0, 1.0) * (float(length) - box)
            bounds[axis] = (start, start + box)
        perm = _keras_random.shuffle(_creation.range(n, dtype="int32"),
                                     seed=self._seed_generator)
        mask = _box_mask(n, h, w, *bounds["y"], *bounds["x"])
        (x0, x1), (y0, y1) = bounds["x"], bounds["y"]
        area = (x1 - x0) * (y1 - y0) / float(h * w)
        mixed = _logic.where(mask, _index.gather(images, perm), images)
        return mixed, _math.cast(1.0 - area, images.dtype), perm


__all__ = ["CutMix", "MixUp", "RandomErasing", "RandomHeight", "RandomShear",
           "RandomWidth"]
