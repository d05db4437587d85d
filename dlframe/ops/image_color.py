"""Colour-space image ops (``tf.image``): RGB <-> HSV/YIQ/YUV, saturation, hue and gamma
adjustments, and the image quality measures psnr, total_variation, image_gradients.

All are compositions of differentiable ops on float images; integer images are
converted to float32 in [0, 1] and back, as TensorFlow does.
"""

import math as _pymath

from dlframe.core import dtypes
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor, is_symbolic_tensor
from dlframe.errors import (
    FailedPreconditionError,
    GraphInvalidArgumentError,
    InvalidArgumentError,
)
from dlframe.ops import array as _array
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops._util import t
from dlframe.ops.image import convert_image_dtype


def _as_float(image):
    x = t(image)
    return x, (x if x.dtype.is_floating else convert_image_dtype(x, dtypes.float32))


def _hsv_input(images, op):
    """TensorFlow's HSV kernels take float tensors; other inputs (NumPy arrays of any
    dtype, lists) convert to the kernel's default float32, values unscaled."""
    if not isinstance(images, Tensor):
        return _math.cast(t(images), dtypes.float32)
    if not images.dtype.is_floating:
        raise InvalidArgumentError(   # TF: the kernel's 'T' attribute refuses it
            f"{op}: images must be a floating tensor; received dtype "
            f"{images.dtype.name}")
    return images


def _channels(x, op):
    if x.shape[-1] != 3:
        # TF 2.21: its kernels' FailedPreconditionError, or shape inference's
        # ValueError while a function is traced
        cls = (FailedPreconditionError if STATE.trace is None
               else GraphInvalidArgumentError)
        raise cls(
            f"{op}: `images` must have 3 channels (the last dimension) but has "
            f"{x.shape[-1]}: received shape {list(x.shape)}")
    return _array.unstack(x, num=3, axis=-1)


# ---------------------------------------------------------------- HSV
def rgb_to_hsv(images, name=None):
    """RGB images (floats in [0, 1]) to HSV; hue in [0, 1), 0 for grays."""
    x = _hsv_input(images, "rgb_to_hsv")
    r, g, b = _channels(x, "rgb_to_hsv")
    value = _red.reduce_max(x, -1)
    delta = _math.subtract(value, _red.reduce_min(x, -1))
    safe_delta = _logic.where(_math.greater(delta, 0), delta, _math.ones_like(delta))
    safe_value = _logic.where(_math.greater(value, 0), value, _math.ones_like(value))
    saturation = _logic.where(_math.greater(value, 0), _math.divide(delta, safe_value),
                              _math.zeros_like(value))
    # hue sector: which channel holds the maximum (red first, then green, then blue)
    hue_r = _math.divide(_math.subtract(g, b), safe_delta)
    hue_g = _math.add(_math.divide(_math.subtract(b, r), safe_delta), 2.0)
    hue_b = _math.add(_math.divide(_math.subtract(r, g), safe_delta), 4.0)
    hue = _logic.where(_math.equal(value, r), hue_r,
                       _logic.where(_math.equal(value, g), hue_g, hue_b))
    hue = _math.floormod(_math.divide(hue, 6.0), 1.0)
    hue = _logic.where(_math.greater(delta, 0), hue, _math.zeros_like(hue))
    return _array.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images, name=None):
    """HSV images (hue in [0, 1)) to RGB."""
    x = _hsv_input(images, "hsv_to_rgb")
    h, s, v = _channels(x, "hsv_to_rgb")
    dh = _math.multiply(_math.floormod(h, 1.0), 6.0)
    # each channel ramps as a clipped triangle of the hue sector
    def channel(offset):
        ramp = _math.subtract(_math.abs(_math.subtract(_math.floormod(
            _math.add(dh, offset), 6.0), 3.0)), 1.0)
        ramp = _math.minimum(_math.maximum(ramp, 0.0), 1.0)
        return _math.multiply(v, _math.add(_math.subtract(1.0, s),
                                           _math.multiply(s, ramp)))
    return _array.stack([channel(0.0), channel(4.0), channel(2.0)], axis=-1)


def _at_least_3d(x, op):
    if x._value.ndim < 3:
        raise InvalidArgumentError(f"{op}: input must be at least 3-D, got shape"
                                   f"{list(x._value.shape)} [Op:{op}]")


def adjust_saturation(image, saturation_factor, name=None):
    """Multiplies the HSV saturation by ``saturation_factor`` (clipped to [0, 1])."""
    x, f = _as_float(image)
    _at_least_3d(x, "AdjustSaturation")
    h, s, v = _array.unstack(rgb_to_hsv(f), num=3, axis=-1)
    s = _math.minimum(_math.maximum(_math.multiply(s, _math.cast(saturation_factor,
                                                                 f.dtype)), 0.0), 1.0)
    return convert_image_dtype(hsv_to_rgb(_array.stack([h, s, v], -1)), x.dtype,
                               saturate=True)


def adjust_hue(image, delta, name=None):
    """Rotates the HSV hue by ``delta`` (in [-1, 1], a fraction of a full turn)."""
    if not is_symbolic_tensor(delta):   # a traced delta (random_hue) is checked by TF
        value = float(delta.numpy()) if hasattr(delta, "numpy") else float(delta)
        if not -1.0 <= value <= 1.0:   # at run time; it comes from [-max, max] there
            raise ValueError(f"delta must be in the interval [-1, 1], got {value}")
    x, f = _as_float(image)
    _at_least_3d(x, "AdjustHue")
    h, s, v = _array.unstack(rgb_to_hsv(f), num=3, axis=-1)
    h = _math.floormod(_math.add(h, _math.cast(delta, f.dtype)), 1.0)
    return convert_image_dtype(hsv_to_rgb(_array.stack([h, s, v], -1)), x.dtype,
                               saturate=True)


def adjust_gamma(image, gamma=1, gain=1):
    """``gain * image ** gamma`` on [0, 1] floats (integer images converted and back)."""
    if float(gamma) < 0:
        raise ValueError(f"Gamma should be a non-negative real number, got {gamma}")
    x, f = _as_float(image)
    out = _math.multiply(_math.cast(gain, f.dtype),
                         _math.pow(f, _math.cast(gamma, f.dtype)))
    return convert_image_dtype(out, x.dtype, saturate=True)


# ---------------------------------------------------------------- YIQ / YUV
# Colour matrices (rows: input channel, columns: output channel); the inverses are the
# published, rounded ones, so conversions equal TensorFlow's to float32 precision.
_RGB_TO_YIQ = ((0.299, 0.59590059, 0.2115), (0.587, -0.27455667, -0.52273617),
               (0.114, -0.32134392, 0.31119955))
_YIQ_TO_RGB = ((1, 1, 1), (0.95598634, -0.27201283, -1.10674021),
               (0.6208248, -0.64720424, 1.70423049))
_RGB_TO_YUV = ((0.299, -0.14714119, 0.61497538), (0.587, -0.28886916, -0.51496512),
               (0.114, 0.43601035, -0.10001026))
_YUV_TO_RGB = ((1, 1, 1), (0, -0.394642334, 2.03206185), (1.13988303, -0.58062185, 0))


def _linear_colour(images, matrix):
    x = t(images)
    if x.shape[-1] != 3:
        raise InvalidArgumentError(f"the last dimension of images must be 3, got shape "
                                   f"{list(x.shape)}")
    from dlframe.core.tensor import convert_to_tensor
    from dlframe.ops import linalg as _linalg
    kernel = convert_to_tensor(matrix, dtype=x.dtype)
    flat = _array.reshape(x, [-1, 3])
    return _array.reshape(_linalg.matmul(flat, kernel), _array.shape(x))


def rgb_to_yiq(images):
    """RGB to YIQ (Y luma in [0, 1], I and Q chroma)."""
    return _linear_colour(images, _RGB_TO_YIQ)


def yiq_to_rgb(images):
    """YIQ to RGB."""
    return _linear_colour(images, _YIQ_TO_RGB)


def rgb_to_yuv(images):
    """RGB to YUV (Y luma in [0, 1], U and V chroma)."""
    return _linear_colour(images, _RGB_TO_YUV)


def yuv_to_rgb(images):
    """YUV to RGB."""
    return _linear_colour(images, _YUV_TO_RGB)


# ---------------------------------------------------------------- quality measures
def psnr(a, b, max_val, name=None):
    """Peak signal-to-noise ratio per image (over the last three axes), float32."""
    a, b = t(a), t(b)
    if a.dtype != b.dtype:
        raise TypeError(f"psnr: a and b must have the same dtype, got {a.dtype.name} and "
                        f"{b.dtype.name}")
    # max_val is read in the images' dtype and, like them, measured in float32
    peak = convert_image_dtype(_math.cast(max_val, a.dtype), dtypes.float32)
    fa = convert_image_dtype(a, dtypes.float32)
    fb = convert_image_dtype(b, dtypes.float32)
    mse = _red.reduce_mean(_math.square(_math.subtract(fa, fb)), [-3, -2, -1])
    return _math.subtract(_math.multiply(_math.log(peak), 20.0 / _pymath.log(10.0)),
                          _math.multiply(_math.log(mse), 10.0 / _pymath.log(10.0)))


def total_variation(images, name=None):
    """Sum of absolute differences of neighbouring pixels: a scalar for one image
    ``[h, w, c]``, one value per image for a batch."""
    x = t(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"'images' must be either 3 or 4-dimensional, got shape "
                         f"{list(x.shape)}")
    rows = _math.abs(_math.subtract(x[..., 1:, :, :], x[..., :-1, :, :]))
    cols = _math.abs(_math.subtract(x[..., :, 1:, :], x[..., :, :-1, :]))
    axes = [-3, -2, -1]
    return _math.add(_red.reduce_sum(rows, axes), _red.reduce_sum(cols, axes))


def image_gradients(image):
    """``(dy, dx)``: forward differences of a ``[batch, h, w, c]`` image along height and
    width, zero in the last row (dy) and last column (dx)."""
    x = t(image)
    if x.ndim != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], "
                         f"not {list(x.shape)}.")
    dy = _math.subtract(x[:, 1:], x[:, :-1])
    dx = _math.subtract(x[:, :, 1:], x[:, :, :-1])
    dy = _array.concat([dy, _math.zeros_like(x[:, :1])], 1)
    dx = _array.concat([dx, _math.zeros_like(x[:, :, :1])], 2)
    return dy, dx


IMAGE_NAMES = [
    "rgb_to_hsv", "hsv_to_rgb", "adjust_saturation", "adjust_hue", "adjust_gamma",
    "rgb_to_yiq", "yiq_to_rgb", "rgb_to_yuv", "yuv_to_rgb", "psnr", "total_variation",
    "image_gradients",
]
