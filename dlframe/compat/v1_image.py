"""``tf.compat.v1.image``: TF1's resize functions in front of ``tf.image``.

TF1 resizes on the legacy pixel grid (source = out_index * in / out) unless told
``half_pixel_centers=True``, and ``align_corners=True`` maps corner to corner; the
raw ``Resize*`` ops hold those grids. ``ResizeMethod`` is TF1's enum of integers
(``BILINEAR == 0``); TF2's method strings are accepted too.
"""

import math

from dlframe import image as _image
from dlframe import raw_ops as _raw_ops
from dlframe.backends.base import np
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops._util import t as _t
from dlframe.ops.einsum import einsum as _einsum


class ResizeMethod:
    """TF1's resize methods (integers)."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_BY_NAME = {"bilinear": 0, "nearest": 1, "bicubic": 2, "area": 3}


def _method_id(method):
    method = getattr(method, "value", method)
    if isinstance(method, str) and method in _BY_NAME:
        return _BY_NAME[method]
    if isinstance(method, int) and not isinstance(method, bool) and 0 <= method <= 3:
        return method
    raise ValueError(f"Resize method is not implemented: [{method!r}]")


def _batched(images, op, body):
    """Runs ``body`` on 4-D images, adding and dropping a batch axis for 3-D ones."""
    images = _t(images)
    if images.shape.rank not in (3, 4):
        raise ValueError(f"{op}: 'images' must have either 3 or 4 dimensions, got "
                         f"shape {images.shape}")
    if images.shape.rank == 4:
        return body(images)
    return _array.squeeze(body(_array.expand_dims(images, 0)), axis=0)


def resize_bilinear(images, size, align_corners=False, name=None,
                    half_pixel_centers=False):
    """TF1 bilinear resize of 4-D ``images`` to ``size`` (float32 result).

    Args:
      images: [batch, height, width, channels] images.
      size: [new_height, new_width].
      align_corners: map the corner pixels of input and output onto each other.
      name: unused (TF1 graph name).
      half_pixel_centers: sample at pixel centres (TF2's grid).
    """
    return _raw_ops.ResizeBilinear(images=images, size=size, align_corners=align_corners,
                                   half_pixel_centers=half_pixel_centers)


def resize_nearest_neighbor(images, size, align_corners=False, name=None,
                            half_pixel_centers=False):
    """TF1 nearest-neighbour resize of 4-D ``images`` (keeps their dtype).

    Args:
      images: [batch, height, width, channels] images.
      size: [new_height, new_width].
      align_corners: map the corner pixels of input and output onto each other.
      name: unused (TF1 graph name).
      half_pixel_centers: sample at pixel centres (TF2's grid).
    """
    return _raw_ops.ResizeNearestNeighbor(
        images=images, size=size, align_corners=align_corners,
        half_pixel_centers=half_pixel_centers)


def resize_bicubic(images, size, align_corners=False, name=None,
                   half_pixel_centers=False):
    """TF1 bicubic resize (float32 result).

    Args:
      images: [batch, height, width, channels] images.
      size: [new_height, new_width].
      align_corners: map the corner pixels of input and output onto each other.
      name: unused (TF1 graph name).
      half_pixel_centers: sample at pixel centres (TF2's grid).
    """
    return _raw_ops.ResizeBicubic(images=images, size=size, align_corners=align_corners,
                                  half_pixel_centers=half_pixel_centers)


def resize_area(images, size, align_corners=False, name=None):
    """TF1 area resize (float32 result): each output pixel averages the input
    area it covers.

    Args:
      images: [batch, height, width, channels] images.
      size: [new_height, new_width].
      align_corners: map the corner pixels of input and output onto each other.
      name: unused (TF1 graph name).
    """
    if not align_corners:
        return _image.resize(images, size, method="area")
    x = _math.cast(_t(images), "float32")
    nh, nw = (int(s) for s in _t(size).numpy().tolist())
    rows = _area_weights(x.shape[1], nh)
    cols = _area_weights(x.shape[2], nw)
    return _einsum("oh,bhwc,pw->bopc", rows, x, cols)


def _area_weights(n_in, n_out):
    """The ``[n_out, n_in]`` averaging weights of TF's area resize with
    ``align_corners`` along one axis: output ``o`` averages the input span
    ``[o, o + 1) * scale`` with ``scale = (n_in - 1) / (n_out - 1)``; cells past the
    last pixel count as the last pixel."""
    scale = (n_in - 1) / (n_out - 1) if n_out > 1 else n_in / n_out
    weights = np.zeros((n_out, n_in), np.float32)
    if scale == 0:   # one input pixel spread over several: TF copies it
        weights[:, 0] = 1
        return weights
    for o in range(n_out):
        low, high = o * scale, (o + 1) * scale
        for i in range(math.floor(low), math.ceil(high)):
            weights[o, min(i, n_in - 1)] += (min(i + 1, high) - max(i, low)) / scale
    return weights


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """TF1's ``resize_images`` (also ``tf.compat.v1.image.resize``).

    Args:
      images: 4-D [batch, height, width, channels] or 3-D [height, width, channels].
      size: [new_height, new_width].
      method: a ``ResizeMethod`` integer or a TF2 method name of the four.
      align_corners: map the corner pixels of input and output onto each other.
      preserve_aspect_ratio: fit inside ``size`` keeping the aspect ratio.
      name: unused (TF1 graph name).

    Returns:
      Resized images: float32, except nearest-neighbour which keeps the dtype;
      the input itself where its size already is the requested one.
    """
    method = _method_id(method)

    def body(x):
        h, w = x.shape[1], x.shape[2]
        nh, nw = (int(s) for s in _t(size).numpy().tolist())
        if preserve_aspect_ratio:
            factor = min(nh / h, nw / w)
            nh, nw = round(h * factor), round(w * factor)
        if (nh, nw) == (h, w):
            return x
        resizer = (resize_bilinear, resize_nearest_neighbor, resize_bicubic,
                   resize_area)[method]
        return resizer(x, [nh, nw], align_corners=align_corners)
    return _batched(images, "resize_images", body)


resize = resize_images


def resize_image_with_pad(image, target_height, target_width,
                          method=ResizeMethod.BILINEAR, align_corners=False):
    """TF1's ``resize_image_with_pad``: fit keeping the aspect ratio on TF1's grid,
    then zero-pad to ``target_height`` x ``target_width``.

    Args:
      image: 4-D or 3-D images.
      target_height: output height.
      target_width: output width.
      method: a ``ResizeMethod`` integer or method name.
      align_corners: map the corner pixels of input and output onto each other.
    """
    x = _t(image)
    if x.shape.rank not in (3, 4):
        raise ValueError(f"'image' must have either 3 or 4 dimensions, got shape "
                         f"{x.shape}")
    target_height, target_width = int(target_height), int(target_width)
    if target_height <= 0 or target_width <= 0:
        raise ValueError(f"target_height and target_width must be > 0, got "
                         f"{target_height} and {target_width}")
    height, width = x.shape[-3], x.shape[-2]
    ratio = max(width / target_width, height / target_height)
    exact_h, exact_w = height / ratio, width / ratio
    resized = resize_images(x, [int(exact_h), int(exact_w)], method=method,
                            align_corners=align_corners)
    return _image.pad_to_bounding_box(
        resized, max(0, int((target_height - exact_h) // 2)),
        max(0, int((target_width - exact_w) // 2)), target_height, target_width)


def extract_image_patches(images, ksizes=None, strides=None, rates=None, padding=None,
                          name=None, sizes=None):
    """TF1 name of ``tf.image.extract_patches`` (``ksizes`` is TF1's ``sizes``).

    Args:
      images: [batch, height, width, channels] images.
      ksizes: patch size per dimension, ``[1, rows, cols, 1]``.
      strides: patch start distance per dimension.
      rates: dilation per dimension.
      padding: 'VALID' or 'SAME'.
      name: unused (TF1 graph name).
      sizes: TF2's name of ``ksizes``.
    """
    return _image.extract_patches(images, sizes if ksizes is None else ksizes, strides,
                                  rates, padding)


resize_image_with_crop_or_pad = _image.resize_with_crop_or_pad
transpose_image = _image.transpose

__all__ = [
    "ResizeMethod",
    "extract_image_patches",
    "resize",
    "resize_area",
    "resize_bicubic",
    "resize_bilinear",
    "resize_image_with_crop_or_pad",
    "resize_image_with_pad",
    "resize_images",
    "resize_nearest_neighbor",
    "transpose_image",
]
