"""Keras 3 ``keras.ops.image``: ``resize`` (with aspect-ratio crop/pad),
``extract_patches``, ``rgb_to_grayscale``, ``rgb_to_hsv``, ``hsv_to_rgb``,
``pad_images`` and ``crop_images``, for batched or single images in either
data format.
"""

from dlframe import config
from dlframe.ops import array as _a
from dlframe.ops import image as _im
from dlframe.ops import image_color as _ic
from dlframe.ops import image_quality as _iq
from dlframe.ops import math as _m
from dlframe.ops.numpy_api import as_tensor

_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic",
                   "area": "area"}


def _channels_last(images, data_format, op):
    """``images`` as a 4-D NHWC batch and a function restoring the caller's layout."""
    x = as_tensor(images)
    if x._value.ndim not in (3, 4):
        raise ValueError(f"{op}: `images` must be 3-D or 4-D, got shape "
                         f"{tuple(x._value.shape)}")
    fmt = data_format or config.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: `data_format` must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}")
    single = x._value.ndim == 3
    if single:
        x = _a.expand_dims(x, 0)
    first = fmt == "channels_first"
    if first:
        x = _a.transpose(x, [0, 2, 3, 1])

    def restore(y):
        if first:
            y = _a.transpose(y, [0, 3, 1, 2])
        return _a.squeeze(y, [0]) if single else y
    return x, restore


def _pair(v, arg, op):
    vals = tuple(int(i) for i in v) if isinstance(v, (list, tuple)) else (int(v),) * 2
    if len(vals) != 2:
        raise ValueError(f"{op}: `{arg}` must be an int or 2 ints, got {v!r}")
    return vals


def _crop_to_ratio(x, th, tw):
    h, w = x._value.shape[1:3]
    ch = min(h, round(w * th / tw))
    cw = min(w, round(h * tw / th))
    top, left = (h - ch) // 2, (w - cw) // 2
    return x[:, top:top + ch, left:left + cw, :]


def _pad_to_ratio(x, th, tw, fill_value):
    h, w = x._value.shape[1:3]
    ph = max(h, round(w * th / tw))
    pw = max(w, round(h * tw / th))
    top, left = (ph - h) // 2, (pw - w) // 2
    return _a.pad(x, [[0, 0], [top, ph - h - top], [left, pw - w - left], [0, 0]],
                  constant_values=fill_value)


def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
           fill_value=0.0, data_format=None):
    """Resizes images to ``size``; integer images keep their dtype (rounded).

    Args:
      images: ``[batch, h, w, c]`` or ``[h, w, c]`` (channels first with
        'channels_first').
      size: ``(height, width)``.
      interpolation: 'bilinear', 'nearest', 'bicubic' or 'area'.
      antialias: low-pass filter when downsampling.
      crop_to_aspect_ratio: centre-crop to the target aspect ratio first.
      pad_to_aspect_ratio: pad to the target aspect ratio first.
      fill_mode: padding mode ('constant' only).
      fill_value: padding value.
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).
    """
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"resize: `interpolation` must be one of "
                         f"{sorted(_INTERPOLATIONS)}, got {interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of `crop_to_aspect_ratio` and "
                         "`pad_to_aspect_ratio` can be True")
    if fill_mode != "constant":
        raise ValueError(f"resize: `fill_mode` must be 'constant', got {fill_mode!r}")
    th, tw = _pair(size, "size", "resize")
    x, restore = _channels_last(images, data_format, "resize")
    dtype = x.dtype
    if crop_to_aspect_ratio:
        x = _crop_to_ratio(x, th, tw)
    elif pad_to_aspect_ratio:
        x = _pad_to_ratio(x, th, tw, fill_value)
    y = _im.resize(x, (th, tw), method=_INTERPOLATIONS[interpolation],
                   antialias=antialias)
    if dtype.is_integer and y.dtype != dtype:
        y = _m.saturate_cast(_m.round(y), dtype)
    elif y.dtype != dtype:
        y = _m.cast(y, dtype)
    return restore(y)


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of ``size`` flattened into the channel axis.

    Args:
      images: ``[batch, h, w, c]`` or ``[h, w, c]``.
      size: patch ``(height, width)`` or an int.
      strides: step between patches (default: ``size``).
      dilation_rate: dilation inside a patch.
      padding: 'valid' or 'same'.
      data_format: 'channels_last' or 'channels_first'.
    """
    ph, pw = _pair(size, "size", "extract_patches")
    sh, sw = (ph, pw) if strides is None else _pair(strides, "strides",
                                                     "extract_patches")
    dh, dw = _pair(dilation_rate, "dilation_rate", "extract_patches")
    if str(padding).lower() not in ("valid", "same"):
        raise ValueError(f"extract_patches: `padding` must be 'valid' or 'same', got "
                         f"{padding!r}")
    x, restore = _channels_last(images, data_format, "extract_patches")
    y = _iq.extract_patches(x, [1, ph, pw, 1], [1, sh, sw, 1], [1, dh, dw, 1],
                            str(padding).upper())
    return restore(y)


def rgb_to_grayscale(images, data_format=None):
    """Luma of RGB images (one channel).

    Args:
      images: RGB images.
      data_format: 'channels_last' or 'channels_first'.
    """
    x, restore = _channels_last(images, data_format, "rgb_to_grayscale")
    return restore(_im.rgb_to_grayscale(x))


def rgb_to_hsv(images, data_format=None):
    """RGB (floats in [0, 1]) to HSV.

    Args:
      images: RGB images.
      data_format: 'channels_last' or 'channels_first'.
    """
    x, restore = _channels_last(images, data_format, "rgb_to_hsv")
    return restore(_ic.rgb_to_hsv(x))


def hsv_to_rgb(images, data_format=None):
    """HSV to RGB (floats in [0, 1]).

    Args:
      images: HSV images.
      data_format: 'channels_last' or 'channels_first'.
    """
    x, restore = _channels_last(images, data_format, "hsv_to_rgb")
    return restore(_ic.hsv_to_rgb(x))


def _box(h, w, first, second, target, dim, op, names):
    """Resolves (first, second) margins from any two of first/second/target."""
    given = [v is not None for v in (first, second, target)]
    if sum(given) != 2:
        raise ValueError(f"{op}: exactly two of `{names[0]}`, `{names[1]}` and "
                         f"`{names[2]}` must be set, got {first!r}, {second!r}, "
                         f"{target!r}")
    if first is None:
        first = target - dim - second if op == "pad_images" else dim - target - second
    if second is None:
        second = target - dim - first if op == "pad_images" else dim - target - first
    if first < 0 or second < 0:
        raise ValueError(f"{op}: margins must be non-negative, got {first}, {second} for "
                         f"size {dim}")
    return int(first), int(second)


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None,
               data_format=None):
    """Zero-pads images (give two of each of top/bottom/height and left/right/width).

    Args:
      images: images.
      top_padding: rows added on top.
      left_padding: columns added on the left.
      bottom_padding: rows added at the bottom.
      right_padding: columns added on the right.
      target_height: resulting height.
      target_width: resulting width.
      data_format: 'channels_last' or 'channels_first'.
    """
    x, restore = _channels_last(images, data_format, "pad_images")
    h, w = x._value.shape[1:3]
    top, bottom = _box(h, w, top_padding, bottom_padding, target_height, h, "pad_images",
                       ("top_padding", "bottom_padding", "target_height"))
    left, right = _box(h, w, left_padding, right_padding, target_width, w, "pad_images",
                       ("left_padding", "right_padding", "target_width"))
    return restore(_a.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]))


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None,
                data_format=None):
    """Crops images (give two of each of top/bottom/height and left/right/width).

    Args:
      images: images.
      top_cropping: rows removed on top.
      left_cropping: columns removed on the left.
      bottom_cropping: rows removed at the bottom.
      right_cropping: columns removed on the right.
      target_height: resulting height.
      target_width: resulting width.
      data_format: 'channels_last' or 'channels_first'.
    """
    x, restore = _channels_last(images, data_format, "crop_images")
    h, w = x._value.shape[1:3]
    top, bottom = _box(h, w, top_cropping, bottom_cropping, target_height, h,
                       "crop_images", ("top_cropping", "bottom_cropping", "target_height"))
    left, right = _box(h, w, left_cropping, right_cropping, target_width, w,
                       "crop_images", ("left_cropping", "right_cropping", "target_width"))
    return restore(x[:, top:h - bottom, left:w - right, :])


__all__ = ["crop_images", "extract_patches", "hsv_to_rgb", "pad_images", "resize",
           "rgb_to_grayscale", "rgb_to_hsv"]
