"""Random image augmentation layers: RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomContrast, RandomBrightness, RandomCrop.

As in Keras 2 and 3, ``training`` defaults to True: a direct call (``layer(images)``,
``Dataset.map``) augments, ``fit`` augments, and ``predict``/``evaluate`` or
``training=False`` give the identity (RandomCrop then crops centrally).
Each layer owns a ``SeedGenerator`` (a state Variable that every draw advances, also
inside ``Dataset.map`` and compiled steps, so every epoch sees new augmentations, as
in Keras 2 and 3): ``seed=<int>`` starts it there, so two layers built with the same
seed replay the same augmentations; without a seed it starts from Python's
``random`` (seeded by ``keras.utils.set_random_seed``). The layers draw what Keras
3.15 draws, in its order and shapes, every draw advancing the state (an empty range
too), so the same program gives TF 2.21's augmentations.
"""

import math as _pymath
import numbers as _numbers

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import default_seeds
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.preprocessing import _to_float as _float
from dlframe.keras.layers.preprocessing import crop_to_aspect_and_resize
from dlframe.keras.layers.reshaping import _data_format
from dlframe.keras.random import SeedGenerator, draw_seed
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import creation as _creation
from dlframe.ops import image as _image
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import random as _random
from dlframe.ops import reduction as _red

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def _factor_pair(factor, name):
    """``factor`` as sorted (lower, upper) floats when it is a pair (list or tuple),
    else None (Keras 3 sorts a reversed pair); another length is an error."""
    if not isinstance(factor, (tuple, list)):
        return None
    if len(factor) != 2:
        raise ValueError(f"The `{name}` argument should be a number or a list of two "
                         f"numbers. Received: {name}={factor!r}")
    return tuple(sorted((float(factor[0]), float(factor[1]))))


def _range(factor, name, symmetric=True, lower_bound=None, upper_bound=None):
    """(lower, upper) from a float (±factor, or [0, factor] when not symmetric) or pair."""
    pair = _factor_pair(factor, name)
    if pair is not None:
        lower, upper = pair
    else:
        f = float(factor)
        lower, upper = (-abs(f), abs(f)) if symmetric else (0.0, abs(f))
    if lower_bound is not None and lower < lower_bound:
        raise ValueError(f"The `{name}` argument must be >= {lower_bound}. Received "
                         f"{name}={factor!r}")
    if upper_bound is not None and upper > upper_bound:
        raise ValueError(f"The `{name}` argument must have values between "
                         f"[{lower_bound}, {upper_bound}]. Received {name}={factor!r}")
    return lower, upper


def _check_numbers(factor, name, low, high, low_open=False, shown=None,
                   each=False):
    """Keras 3's factor check, a ValueError naming the argument: a number must lie in
    [low, high] (``(low, high]`` when ``low_open``); a pair, as given, must reach
    into that range (``pair[0] <= high`` and ``pair[1] >= low``), or with ``each``
    have both numbers in it."""
    pair = isinstance(factor, (tuple, list)) and len(factor) == 2 and not each
    for v in (factor if isinstance(factor, (tuple, list)) else [factor]):
        v = float(v)
        if pair:
            bad = float(factor[0]) > high or float(factor[1]) < low
        else:
            bad = v > high or v < low or (low_open and v == low)
        if bad:
            interval = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
            raise ValueError(f"The {shown or f'`{name}`'} argument should be a number "
                             f"(or a list of two numbers) in the range {interval}. "
                             f"Received: {name}={factor!r}")


def _factor(factor, name, low=0.0, high=1.0):
    """Keras 3's stored ``(lower, upper)`` range of ``factor`` within [low, high]: a
    number f means ``(max(-|f|, low), |f|)`` (``[0, f]`` when low is 0)."""
    pair = _factor_pair(factor, name)
    if pair is None:
        f = abs(float(factor)) if float(factor) >= low else float(factor)
        pair = (max(low, -f), f)
    lower, upper = pair
    if not low <= lower <= upper <= high:
        raise ValueError(f"The `{name}` argument should be a number (or a list of two "
                         f"numbers) in the range [{low}, {high}]. Received: "
                         f"{name}={factor!r}")
    return lower, upper


def _is_number(value):
    """A real number, NumPy scalars included (Keras 2 programs pass ``np.float32``);
    booleans are not numbers here."""
    return isinstance(value, _numbers.Real) and not isinstance(value, bool) and \
        type(value).__name__ != "bool_"


def _keras3_factor(factor, low=0.0, high=1.0, name="factor"):
    """Keras 3's ``_set_factor``: a number f must lie in [low, high] and means
    ``(max(-|f|, low), |f|)``; a pair (sorted when reversed) is kept as written and
    refused only when it lies wholly outside [low, high]; anything else is a
    ValueError naming ``name``."""
    values = factor if isinstance(factor, (tuple, list)) else [factor]
    if not all(_is_number(v) for v in values) or len(values) > 2 or (
            len(values) == 2 and (factor[0] > high or factor[1] < low)):
        raise ValueError(f"The `{name}` argument should be a number (or a list of two "
                         f"numbers) in the range [{low}, {high}]. Received: "
                         f"{name}={factor!r}")
    pair = _factor_pair(factor, name)
    return pair if pair is not None else _factor(factor, name, low, high)


class _RandomLayer(Layer):
    """Shared state of the augmentation layers: seed and a training switch."""

    _casts_to_float = True
    # layers whose call moves channels_first images to channels_last and back
    _channels_first_ok = False
    # layers that draw (and so own a seed state, taking a default seed from
    # Python's ``random`` as Keras 3 does)
    _draws = True

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if self._channels_first_ok:
            self.data_format = _data_format(data_format)
        elif data_format not in (None, "channels_last"):
            raise ValueError(f"{type(self).__name__} supports data_format="
                             f"'channels_last' only. Received: data_format={data_format!r}")
        else:
            self.data_format = "channels_last"
        self.seed = seed
        self._seed_generator = SeedGenerator(seed) if self._draws else None
        self.supports_masking = True

    def _to_channels_last(self, x):
        if self.data_format != "channels_first":
            return x
        rank = len(x.shape)
        return _array.transpose(x, list(range(rank - 3)) + [rank - 2, rank - 1, rank - 3])

    def _from_channels_last(self, x):
        if self.data_format != "channels_first":
            return x
        rank = len(x.shape)
        return _array.transpose(x, list(range(rank - 3)) + [rank - 1, rank - 3, rank - 2])

    # a callable giving the seeds instead of the layer's state (a policy layer
    # replaying the seeds it drew for this one)
    _seed_source = None

    def _next_seed(self):
        """The layer's next stateless ``[2]`` seed, or None for the global stream."""
        if self._seed_source is not None:
            return self._seed_source()
        # as Keras 3: the int64 state folded to the int32 pair TF's stateless ops take
        return None if self._seed_generator is None else draw_seed(self._seed_generator)

    def _uniform(self, shape, low, high, dtype="float32"):
        # drawn (and the seed state advanced) even for an empty range, as Keras 3
        seed = self._next_seed()
        if seed is None:
            return _random.uniform(shape, low, high, dtype=dtype)
        return _random.stateless_uniform(shape, seed, low, high, dtype=dtype)

    def call(self, inputs, training=True):
        x = _float(inputs, self.compute_dtype)
        if not training:
            return x
        batched = len(x.shape) == 4
        if not batched:
            x = _array.expand_dims(x, 0)
        out = self._from_channels_last(self._augment(self._to_channels_last(x)))
        return out if batched else _array.squeeze(out, [0])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


class RandomFlip(_RandomLayer):
    """Flips each image with probability 1/2 ('horizontal', 'vertical' or
    'horizontal_and_vertical': as Keras 3, one draw per image flips both ways)."""

    _channels_first_ok = True

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode "
                             f"argument {mode}")
        self.mode = mode

    def _augment(self, x):
        coin = self._uniform([x.shape[0], 1, 1, 1], 0.0, 1.0)
        choose = _array.broadcast_to(_math.less_equal(coin, 0.5), list(x.shape))
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            x = _logic.where(choose, _image.flip_left_right(x), x)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            x = _logic.where(choose, _image.flip_up_down(x), x)
        return x

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _AffineLayer(_RandomLayer):
    """Augmentation through a per-image projective transform (output -> input)."""

    _channels_first_ok = True

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Only `reflect`, "
                                      "`wrap`, `constant` and `nearest` are supported.")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Only "
                                      "`nearest` and `bilinear` are supported.")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _augment(self, x):
        transforms = self._transforms(x.shape[0], x.shape[1], x.shape[2])
        return _image.transform(x, transforms, interpolation=self.interpolation,
                                fill_mode=self.fill_mode, fill_value=self.fill_value)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "interpolation": self.interpolation})
        return config


def _stack_transform(cols, n):
    """[n, 8] transforms from 8 entries that are scalars or [n] tensors."""
    full = [c if isinstance(c, Tensor) and len(c.shape) == 1 else
            _creation.fill([n], _math.cast(c, _dt.float32)) for c in cols]
    return _array.stack([_math.cast(c, _dt.float32) for c in full], axis=1)


class RandomRotation(_AffineLayer):
    """Rotates images by a random angle in ``factor * 2pi`` (counter-clockwise for
    positive values).

    Args:
      factor: a float (range [-factor, factor]) or a (lower, upper) pair, fractions
        of a full turn.
      fill_mode: 'reflect', 'wrap', 'constant' or 'nearest'.
      interpolation: 'bilinear' or 'nearest'.
      fill_value: the value outside the image in 'constant' mode.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        _check_numbers(factor, "factor", -1, 1)
        self._lower, self._upper = _range(factor, "factor")
        self.factor = (self._lower, self._upper)   # Keras 3 keeps the range

    def _transforms(self, n, h, w):
        angle = self._uniform([n], self._lower * 2 * _pymath.pi,
                              self._upper * 2 * _pymath.pi)
        cos, sin = _math.cos(angle), _math.sin(angle)
        x_off = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2.0
        y_off = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2.0
        return _stack_transform([cos, -sin, x_off, sin, cos, y_off, 0.0, 0.0], n)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_AffineLayer):
    """Zooms by a random factor: positive ``height_factor`` values zoom out (the image
    shrinks), negative ones zoom in. ``width_factor=None`` keeps the aspect ratio."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        for arg, value in (("height_factor", height_factor),
                           ("width_factor", width_factor)):
            if value is not None:
                _check_numbers(value, arg, -1.0, 1.0, low_open=True, each=True,
                               shown="`height_factor` and `width_factor`")
        self._h = _range(height_factor, "height_factor", lower_bound=-1)
        self._w = None if width_factor is None else _range(width_factor, "width_factor",
                                                           lower_bound=-1)

    def _transforms(self, n, h, w):
        zy = self._uniform([n], 1.0 + self._h[0], 1.0 + self._h[1])
        zx = zy if self._w is None else self._uniform([n], 1.0 + self._w[0],
                                                      1.0 + self._w[1])
        x_off = (w - 1) / 2.0 * (1.0 - zx)
        y_off = (h - 1) / 2.0 * (1.0 - zy)
        return _stack_transform([zx, 0.0, x_off, 0.0, zy, y_off, 0.0, 0.0], n)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config


class RandomTranslation(_AffineLayer):
    """Shifts images by random fractions of their height and width (positive values
    move the content down / right)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._h = _range(height_factor, "height_factor", lower_bound=-1, upper_bound=1)
        self._w = _range(width_factor, "width_factor", lower_bound=-1, upper_bound=1)

    def _transforms(self, n, h, w):
        dy = self._uniform([n], self._h[0], self._h[1]) * float(h)
        dx = self._uniform([n], self._w[0], self._w[1]) * float(w)
        return _stack_transform([1.0, 0.0, -dx, 0.0, 1.0, -dy, 0.0, 0.0], n)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config


class _ValueRangeBase(_RandomLayer):
    """An augmentation configured by ``factor`` whose output is clipped to its
    ``value_range``."""

    def _clip_to_range(self, x):
        return _clip.clip_by_value(x, float(self.value_range[0]),
                                   float(self.value_range[1]))

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


class RandomContrast(_ValueRangeBase):
    """``(x - mean) * c + mean`` per image and channel, ``c`` uniform in
    ``[1 - lower, 1 + upper]``, clipped to ``value_range``; a number ``factor`` f is
    the range ``(0, f)`` as in Keras 3."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.value_range = value_range
        # Keras 3: a number f is the range (0, f), so contrast only grows (Keras 2
        # drew from [1 - f, 1 + f]; pass (f, f) for that)
        _check_numbers(factor, "factor", 0, 1)
        lower, upper = _factor_pair(factor, "factor") or (0.0, float(factor))
        self.factor = (lower, upper)
        self._lower, self._upper = 1.0 - lower, 1.0 + upper

    def _augment(self, x):
        c = self._uniform([x.shape[0], 1, 1, 1], self._lower, self._upper)
        mean = _red.reduce_mean(x, [1, 2], keepdims=True)
        out = _math.add(_math.multiply(_math.subtract(x, mean), _math.cast(c, x.dtype)),
                        mean)
        return self._clip_to_range(out)


class RandomBrightness(_ValueRangeBase):
    """Adds ``delta * (value_range[1] - value_range[0])`` per image, ``delta`` uniform
    in the factor range, clipped to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.value_range = value_range
        self._lower, self._upper = _range(factor, "factor")
        self.factor = (self._lower, self._upper)   # Keras 3 keeps the range
        _check_numbers(factor, "factor", -1, 1)

    def _augment(self, x):
        lo, hi = float(self.value_range[0]), float(self.value_range[1])
        delta = self._uniform([x.shape[0], 1, 1, 1], self._lower, self._upper) * (hi - lo)
        return _clip.clip_by_value(_math.add(x, _math.cast(delta, x.dtype)), lo, hi)


class RandomCrop(_RandomLayer):
    """Crops a random ``height`` x ``width`` window in training; at inference (and for
    images smaller than the target) crops the largest centred window of the target
    aspect ratio and resizes it."""

    _channels_first_ok = True

    def __init__(self, height, width, seed=None, **kwargs):
        # Keras 3 keeps a default seed as ``seed`` and then gives the seed state
        # another one: two draws from Python's ``random`` (after set_random_seed)
        kept = default_seeds.draw() if seed is None else seed
        super().__init__(seed=seed, **kwargs)
        if kept is not None:
            self.seed = kept
        self.height = int(height)
        self.width = int(width)

    def call(self, inputs, training=True):
        x = self._to_channels_last(_float(inputs, self.compute_dtype))
        return self._from_channels_last(self._crop(x, training))

    def _crop(self, x, training):
        h, w = x.shape[-3], x.shape[-2]
        # as Keras 3: a random window only when the image exceeds it both ways
        if not training or h <= self.height or w <= self.width:
            if (h, w) == (self.height, self.width):
                return x
            return crop_to_aspect_and_resize(x, self.height, self.width)
        top = self._offset(h - self.height)
        left = self._offset(w - self.width)
        rows = _math.add(_creation.range(self.height), top)
        cols = _math.add(_creation.range(self.width), left)
        x = _index.gather(x, rows, axis=len(x.shape) - 3)
        return _index.gather(x, cols, axis=len(x.shape) - 2)

    def _offset(self, span):
        # Keras 3: a float uniform in [0, span + 1) truncated to int32
        return _math.cast(self._uniform([], 0.0, float(span + 1)), _dt.int32)

    def compute_output_shape(self, input_shape):
        shape = list(TensorShape(input_shape).as_list())
        at = len(shape) - (2 if self.data_format == "channels_first" else 3)
        shape[at:at + 2] = [self.height, self.width]
        return TensorShape(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config


__all__ = [
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
]
