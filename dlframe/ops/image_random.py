"""Random image augmentation ops (``tf.image.random_*`` and their ``stateless_random_*``
twins), plus ``resize_with_pad``.

A ``random_*`` op draws from the global/op seed like ``tf.random.uniform``; a
``stateless_random_*`` op draws from its ``seed`` pair only, so the same seed always
gives the same result.
"""

from dlframe.core import static_dims as _static_dims
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import array_index as _array_index
from dlframe.ops import creation as _creation
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import random as _random
from dlframe.ops._util import t
from dlframe.ops.image import (
    adjust_brightness,
    adjust_contrast,
    flip_batch_choice,
    flip_left_right,
    flip_up_down,
    image_3d_or_4d,
    pad_to_bounding_box,
    resize,
)
from dlframe.ops.image_color import adjust_hue, adjust_saturation
from dlframe.ops.late_bound import reads_values


def _uniform(shape, low, high, seed, stateless, dtype="float32"):
    if stateless:
        return _random.stateless_uniform(shape, seed, low, high, dtype=dtype)
    return _random.uniform(shape, low, high, dtype=dtype, seed=seed)


def _scalar(value):
    return float(value.numpy()) if isinstance(value, Tensor) else float(value)


# ---------------------------------------------------------------- flips
def _flip(image, seed, flip, stateless):
    x = image_3d_or_4d(image)
    if x.ndim == 4:
        flipped = flip_batch_choice(_uniform([x.shape[0], 1, 1, 1], 0.0, 1.0, seed,
                                             stateless))
    else:
        flipped = _math.less(_uniform([], 0.0, 1.0, seed, stateless), 0.5)
    return _logic.where(_array.broadcast_to(flipped, list(x.shape)), flip(x), x)


def stateless_random_flip_left_right(image, seed):
    """Flips each image horizontally with probability 1/2, determined by ``seed``."""
    return _flip(image, seed, flip_left_right, True)


def stateless_random_flip_up_down(image, seed):
    """Flips each image vertically with probability 1/2, determined by ``seed``."""
    return _flip(image, seed, flip_up_down, True)


# ---------------------------------------------------------------- colour
def _brightness(image, max_delta, seed, stateless):
    max_delta = _scalar(max_delta)
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, _uniform([], -max_delta, max_delta, seed, stateless))


def _factor_range(lower, upper):
    lower, upper = _scalar(lower), _scalar(upper)
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    return lower, upper


def _contrast(image, lower, upper, seed, stateless):
    lower, upper = _factor_range(lower, upper)
    return adjust_contrast(image, _uniform([], lower, upper, seed, stateless))


def _saturation(image, lower, upper, seed, stateless):
    lower, upper = _factor_range(lower, upper)
    return adjust_saturation(image, _uniform([], lower, upper, seed, stateless))


def _hue(image, max_delta, seed, stateless):
    max_delta = _scalar(max_delta)
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, _uniform([], -max_delta, max_delta, seed, stateless))


def random_brightness(image, max_delta, seed=None):
    """Adds one delta drawn from ``[-max_delta, max_delta)`` to the image(s)."""
    return _brightness(image, max_delta, seed, False)


def random_contrast(image, lower, upper, seed=None):
    """``adjust_contrast`` with a factor drawn from ``[lower, upper)``."""
    return _contrast(image, lower, upper, seed, False)


def random_saturation(image, lower, upper, seed=None):
    """``adjust_saturation`` with a factor drawn from ``[lower, upper)``."""
    return _saturation(image, lower, upper, seed, False)


def random_hue(image, max_delta, seed=None):
    """``adjust_hue`` with a delta drawn from ``[-max_delta, max_delta)`` (<= 0.5)."""
    return _hue(image, max_delta, seed, False)


def stateless_random_brightness(image, max_delta, seed):
    """``random_brightness`` determined by the ``seed`` pair."""
    return _brightness(image, max_delta, seed, True)


def stateless_random_contrast(image, lower, upper, seed):
    """``random_contrast`` determined by the ``seed`` pair."""
    return _contrast(image, lower, upper, seed, True)


def stateless_random_saturation(image, lower, upper, seed):
    """``random_saturation`` determined by the ``seed`` pair."""
    return _saturation(image, lower, upper, seed, True)


def stateless_random_hue(image, max_delta, seed):
    """``random_hue`` determined by the ``seed`` pair."""
    return _hue(image, max_delta, seed, True)


# ---------------------------------------------------------------- crops
def _crop(value, size, seed, stateless):
    x = t(value)
    size = [int(s) for s in (size.numpy().tolist() if isinstance(size, Tensor) else size)]
    shape = list(x.shape)
    if len(size) != len(shape):
        raise InvalidArgumentError(f"random_crop: size {size} must have one entry per "
                                   f"dimension of value (shape {shape})")
    if any(s < 0 or s > d for s, d in zip(size, shape)):
        raise InvalidArgumentError(f"Need value.shape >= size, got {shape} and {size}")
    limits = [d - s + 1 for s, d in zip(size, shape)]
    draws = _uniform([len(shape)], 0, 2**31 - 1, seed, stateless, dtype="int32")
    # the offsets stay tensors (gathers, not a static slice), so a traced
    # tf.function draws a new crop on every call
    offsets = _math.floormod(draws, t(limits, "int32"))
    for axis, (s, d) in enumerate(zip(size, shape)):
        if s < d:
            window = _math.add(offsets[axis], _creation.range(s, dtype="int32"))
            x = _array_index.gather(x, window, axis=axis)
    if _static_dims.sizes_unknown(value if isinstance(value, Tensor) else x):
        x.set_shape(size)   # TF knows the crop's size
    return x


def _crop_static_dims(value, size, seed=None, name=None):
    """The crop's dims TF knows: its Python-int sizes (a tensor size is unknown)."""
    if isinstance(size, Tensor):
        return [None] * (size.shape[0] if size.shape.rank == 1 else 0) or None
    return [None if isinstance(s, Tensor) else int(s) for s in size]


@reads_values("size", stateful=True, static_shape=_crop_static_dims)
def random_crop(value, size, seed=None, name=None):
    """A window of shape ``size`` at a uniformly random offset of ``value``.

    Raises:
      InvalidArgumentError: ``size`` larger than ``value``'s shape.
    """
    return _crop(value, size, seed, False)


def stateless_random_crop(value, size, seed, name=None):
    """``random_crop`` determined by the ``seed`` pair."""
    return _crop(value, size, seed, True)


# ---------------------------------------------------------------- resize_with_pad
def resize_with_pad(image, target_height, target_width, method="bilinear",
                    antialias=False):
    """Resizes keeping the aspect ratio so the image fits, then pads with zeros to
    ``target_height`` x ``target_width`` (float32 result, as ``resize``)."""
    x = t(image)
    if x.ndim not in (3, 4):
        raise ValueError(f"'image' must have either 3 or 4 dimensions, got shape "
                         f"{list(x.shape)}")
    target_height, target_width = int(target_height), int(target_width)
    if target_height <= 0 or target_width <= 0:
        raise ValueError("target_height and target_width must be > 0.")
    if _static_dims.sizes_unknown(x):   # sizes read when the graph runs (float32,
        return _resize_with_pad_in_graph(x, target_height, target_width, method,
                                         antialias)   # as TF's graph), not baked in
    height, width = x.shape[-3], x.shape[-2]
    ratio = max(width / target_width, height / target_height)
    exact_h, exact_w = height / ratio, width / ratio
    resized = resize(x, (int(exact_h), int(exact_w)), method=method,
                     antialias=antialias)
    # the offsets centre the unrounded size, as TensorFlow computes them
    return pad_to_bounding_box(resized, max(0, int((target_height - exact_h) // 2)),
                               max(0, int((target_width - exact_w) // 2)), target_height,
                               target_width)


def _resize_with_pad_in_graph(x, target_height, target_width, method, antialias):
    """``resize_with_pad`` of images whose sizes the trace's graph does not know."""
    shape = _array.shape(x)
    height = _math.cast(shape[-3], "float32")
    width = _math.cast(shape[-2], "float32")
    ratio = _math.maximum(width / target_width, height / target_height)
    exact_h, exact_w = height / ratio, width / ratio
    size = _array.stack([_math.cast(_math.floor(exact_h), "int32"),
                         _math.cast(_math.floor(exact_w), "int32")])
    resized = resize(x, size, method=method, antialias=antialias)
    offset_h = _math.maximum(0, _math.cast((target_height - exact_h) / 2, "int32"))
    offset_w = _math.maximum(0, _math.cast((target_width - exact_w) / 2, "int32"))
    return pad_to_bounding_box(resized, offset_h, offset_w, target_height, target_width)


IMAGE_NAMES = [
    "random_brightness", "random_contrast", "random_saturation", "random_hue",
    "random_crop", "stateless_random_flip_left_right", "stateless_random_flip_up_down",
    "stateless_random_brightness", "stateless_random_contrast",
    "stateless_random_saturation", "stateless_random_hue", "stateless_random_crop",
    "resize_with_pad",
]
