"""Keras 3's ``ContrastLimitedAdaptiveHistogramEqualization`` (CLAHE).

Each image channel is cut into a grid of tiles; every tile gets its own histogram
equalization lookup table, with histogram counts clipped at ``clip_limit`` times
the mean count and the clipped excess spread over all levels. A pixel's value is
the bilinear blend of the tables of the four tiles whose centres surround it.
"""

import math as _pymath

from dlframe.core.tensor import convert_to_tensor
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.augmentation_color import _check_range
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import segment as _segment

_LEVELS = 256


def _blend_axis(size, tile, grid):
    """Static per-position (lower table index, upper index, upper weight) along
    one axis of the padded image: tables are indexed 0..grid+1, 0 and grid+1
    repeating the border tiles."""
    low, high, weight = [], [], []
    for p in range(size):
        g = (p - tile / 2.0) / tile + 1.0
        g0 = _pymath.floor(g)
        low.append(min(max(g0, 0), grid + 1))
        high.append(min(max(g0 + 1, 0), grid + 1))
        weight.append(g - g0)
    return low, high, weight


def clahe(images, clip_limit=4.0, tile_grid_size=(8, 8)):
    """CLAHE of [n, h, w, c] float images holding values in [0, 255].

    Args:
      images: [n, h, w, c] float32 images on the 0..255 scale.
      clip_limit: the histogram clip, in multiples of the mean bin count; 0 or less
        turns clipping off.
      tile_grid_size: (rows, cols) of tiles.

    Returns:
      [n, h, w, c] float32 equalized images on the 0..255 scale.
    """
    n, h, w, c = images.shape
    grid_h, grid_w = tile_grid_size
    tile_h, tile_w = -(-h // grid_h), -(-w // grid_w)
    big_h, big_w = tile_h * grid_h, tile_w * grid_w
    x = images
    if (big_h, big_w) != (h, w):
        x = _array.pad(x, [[0, 0], [0, big_h - h], [0, big_w - w], [0, 0]],
                       mode="SYMMETRIC")
    levels = _clip.clip_by_value(_math.cast(x, "int32"), 0, _LEVELS - 1)
    # one histogram slot per (image, tile row, tile col, channel, level)
    rows = convert_to_tensor([p // tile_h for p in range(big_h)], dtype="int32")
    cols = convert_to_tensor([p // tile_w for p in range(big_w)], dtype="int32")
    image_ids = _array.reshape(convert_to_tensor(list(range(n)), dtype="int32"),
                               [n, 1, 1, 1])
    tile = (image_ids * grid_h + _array.reshape(rows, [1, big_h, 1, 1])) * grid_w + \
        _array.reshape(cols, [1, 1, big_w, 1])
    channel = _array.reshape(convert_to_tensor(list(range(c)), dtype="int32"),
                             [1, 1, 1, c])
    slots = (tile * c + channel) * _LEVELS + levels
    hist = _segment.unsorted_segment_sum(_math.ones_like(x), slots,
                                         n * grid_h * grid_w * c * _LEVELS)
    hist = _array.reshape(hist, [n, grid_h, grid_w, c, _LEVELS])
    area = float(tile_h * tile_w)
    if clip_limit > 0:
        limit = clip_limit * area / _LEVELS
        clipped = _math.minimum(hist, limit)
        excess = _red.reduce_sum(hist - clipped, axis=-1, keepdims=True)
        hist = clipped + excess / float(_LEVELS)
    cdf = _red.cumsum(hist, axis=-1)
    cdf_min = _red.reduce_min(cdf, axis=-1, keepdims=True)
    denom = area - cdf_min
    denom = _logic.where(_math.equal(denom, 0.0), _math.ones_like(denom), denom)
    table = _clip.clip_by_value((cdf - cdf_min) * 255.0 / denom, 0.0, 255.0)
    # border tiles repeated so every pixel has four surrounding tables
    table = _array.concat([table[:, :1], table, table[:, -1:]], axis=1)
    table = _array.concat([table[:, :, :1], table, table[:, :, -1:]], axis=2)
    flat = _array.reshape(table, [-1])
    y0, y1, wy = _blend_axis(big_h, tile_h, grid_h)
    x0, x1, wx = _blend_axis(big_w, tile_w, grid_w)
    stride_x = c * _LEVELS
    stride_y = stride_x * (grid_w + 2)
    base = image_ids * (stride_y * (grid_h + 2)) + channel * _LEVELS + levels

    def col(values, shape):
        return _array.reshape(convert_to_tensor(values, dtype="int32"), shape)

    def read(ys, xs):
        idx = base + col(ys, [1, big_h, 1, 1]) * stride_y + \
            col(xs, [1, 1, big_w, 1]) * stride_x
        return _index.gather(flat, idx)

    fy = _array.reshape(convert_to_tensor(wy, dtype=x.dtype), [1, big_h, 1, 1])
    fx = _array.reshape(convert_to_tensor(wx, dtype=x.dtype), [1, 1, big_w, 1])
    top = read(y0, x0) * (1.0 - fx) + read(y0, x1) * fx
    bottom = read(y1, x0) * (1.0 - fx) + read(y1, x1) * fx
    out = top * (1.0 - fy) + bottom * fy
    return out[:, :h, :w, :]


class ContrastLimitedAdaptiveHistogramEqualization(Layer):
    """Contrast Limited Adaptive Histogram Equalization, applied in training and
    inference alike; the output keeps the input's dtype.

    Args:
      value_range: the (low, high) range of the input values, (0, 255) by default;
        values are mapped to 256 levels over it.
      clip_limit: limits the contrast amplification in near-constant regions, in
        multiples of a tile's mean histogram count (default 4.0; 0 disables it).
      tile_grid_size: (rows, cols) of the tile grid (default (8, 8)).
      data_format: 'channels_last' only.
    """

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{type(self).__name__} supports data_format="
                             f"'channels_last' only. Received: data_format={data_format!r}")
        self.value_range = _check_range(value_range)
        if not isinstance(clip_limit, (int, float)):
            raise TypeError(f"`clip_limit` must be a number. Received: "
                             f"clip_limit={clip_limit!r}")
        self.clip_limit = clip_limit
        if not isinstance(tile_grid_size, (tuple, list)) or len(tile_grid_size) != 2 \
                or not all(isinstance(g, int) and g > 0 for g in tile_grid_size):
            raise ValueError("`tile_grid_size` must be a pair of positive integers. "
                             f"Received: tile_grid_size={tile_grid_size!r}")
        self.tile_grid_size = tuple(tile_grid_size)
        self.data_format = "channels_last"

    def call(self, inputs, training=None):
        x = convert_to_tensor(inputs)
        dtype = x.dtype
        batched = len(x.shape) == 4
        images = _math.cast(x if batched else _array.expand_dims(x, 0), "float32")
        lo, hi = float(self.value_range[0]), float(self.value_range[1])
        images = (images - lo) * (255.0 / (hi - lo))
        out = clahe(images, self.clip_limit, self.tile_grid_size)
        out = out * ((hi - lo) / 255.0) + lo
        out = out if batched else _array.squeeze(out, [0])
        return out if dtype == out.dtype else _math.cast(out, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "clip_limit": self.clip_limit,
                       "tile_grid_size": self.tile_grid_size,
                       "data_format": self.data_format})
        return config


__all__ = ["ContrastLimitedAdaptiveHistogramEqualization"]
