"""``tf.image.extract_glimpse``: fixed-size windows cut from a batch of images.

A composite of gathers and ``where``: each glimpse's top-left pixel comes from its
offset (TF2's ExtractGlimpseV2 placement, truncated toward zero), rows and columns are
gathered per image, and pixels that fall outside the image take the requested noise.
"""

from dlframe.core import dtypes
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import creation as _creation
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import random as _random
from dlframe.ops import reduction as _red
from dlframe.ops._util import t
from dlframe.ops.image import _size

_NOISES = ("uniform", "gaussian", "zero")


def _float32(value, arg):
    x = t(value)
    if x.dtype != dtypes.float32:
        if isinstance(value, type(x)):
            raise ValueError(f"extract_glimpse: '{arg}' must be a float32 tensor; "
                             f"received dtype {x.dtype.name}")
        x = _math.cast(x, dtypes.float32)
    return x


def _window(start, length, limit):
    """Pixel indices ``[batch, length]`` from each row of ``start`` (clipped into
    ``[0, limit)``) and whether each index lies inside the image."""
    idx = _math.add(start[:, None], _creation.range(length)[None, :])
    inside = _logic.logical_and(_logic.greater_equal(idx, 0), _logic.less(idx, limit))
    return _clip.clip_by_value(idx, 0, limit - 1), inside


def _noise(x, shape, noise):
    """Fill values for pixels outside the image, per image and channel."""
    if noise == "zero":
        return _creation.zeros(shape, dtypes.float32)
    low = _red.reduce_min(x, axis=[1, 2], keepdims=True)
    high = _red.reduce_max(x, axis=[1, 2], keepdims=True)
    if noise == "uniform":
        u = _random.uniform(shape)
        return _math.add(low, _math.multiply(u, _math.subtract(high, low)))
    mean = _red.reduce_mean(x, axis=[1, 2], keepdims=True)
    std = _red.reduce_std(x, axis=[1, 2], keepdims=True)
    g = _math.add(mean, _math.multiply(_random.normal(shape), std))
    return _clip.clip_by_value(g, low, high)


def extract_glimpse(input, size, offsets, centered=True, normalized=True,
                    noise="uniform", name=None):
    """Extracts a ``size`` window from each image of a batch.

    Args:
      input: float32 ``[batch, height, width, channels]`` images.
      size: ``[glimpse_height, glimpse_width]`` ints.
      offsets: float32 ``[batch, 2]`` ``(y, x)`` glimpse positions.
      centered: offsets are relative to the image centre (with ``normalized``, in
        ``[-1, 1]`` and naming the glimpse centre) instead of the top-left corner.
      normalized: offsets are fractions of the image size instead of pixels.
      noise: fill for pixels outside the image: ``'uniform'`` (uniform between the
        image channel's min and max), ``'gaussian'`` (its mean and standard
        deviation, clipped to that range) or ``'zero'``.
      name: unused.

    Returns:
      float32 ``[batch, glimpse_height, glimpse_width, channels]``.

    Raises:
      InvalidArgumentError: for a bad ``noise``, input rank or ``offsets`` shape.
      ValueError: for a non-float32 ``input`` or a bad ``size``.
    """
    if noise not in _NOISES:
        raise InvalidArgumentError(f"extract_glimpse: 'noise' must be one of "
                                   f"{list(_NOISES)}; received {noise!r}")
    x = _float32(input, "input")
    if x.ndim != 4:
        raise InvalidArgumentError(f"extract_glimpse: 'input' must be 4-D [batch, "
                                   f"height, width, channels]; received shape "
                                   f"{tuple(x.shape)}")
    batch, height, width, channels = (int(n) for n in x.shape)
    off = _float32(offsets, "offsets")
    if tuple(off.shape) != (batch, 2):
        raise InvalidArgumentError(f"extract_glimpse: 'offsets' must have shape "
                                   f"[{batch}, 2]; received {tuple(off.shape)}")
    gh, gw = _size(size, "extract_glimpse")
    pos = []
    for col, extent, glimpse in ((0, height, gh), (1, width, gw)):
        p = off[:, col]
        if normalized and centered:   # [-1, 1] names the glimpse centre
            p = _math.subtract(_math.multiply(_math.add(p, 1.0), extent / 2),
                               glimpse / 2)
        elif normalized:
            p = _math.multiply(p, float(extent))
        elif centered:
            p = _math.add(p, extent / 2)
        pos.append(_math.cast(p, dtypes.int32))   # truncation toward zero, as TF
    rows, rows_in = _window(pos[0], gh, height)
    cols, cols_in = _window(pos[1], gw, width)
    out = _index.gather(x, rows, axis=1, batch_dims=1)
    out = _index.gather(out, cols, axis=2, batch_dims=1)
    inside = _logic.logical_and(rows_in[:, :, None, None], cols_in[:, None, :, None])
    shape = (batch, gh, gw, channels)
    return _logic.where(inside, out, _noise(x, shape, noise))


IMAGE_NAMES = ["extract_glimpse"]
