"""Keras 3 ``keras.ops.image`` resampling: ``map_coordinates``, ``affine_transform``,
``perspective_transform`` and ``elastic_transform``.

``affine_transform`` and ``perspective_transform`` run dlframe's
``ImageProjectiveTransformV3`` kernel (as Keras's TensorFlow backend does), so they
are differentiable in the images. ``map_coordinates`` is a composite of gathers and
products, differentiable in its inputs and (through the interpolation weights) in the
coordinates; ``elastic_transform`` resamples along a Gaussian-smoothed random field
drawn from Keras's stateless seed (``seed=<int>`` gives TensorFlow's numbers).
"""

import itertools

from dlframe import config
from dlframe.core import dtypes
from dlframe.keras.layers.augmentation_perspective import homography
from dlframe.keras.ops.image_filters import gaussian_blur
from dlframe.keras.random import draw_seed
from dlframe.ops import array as _a
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import creation as _creation
from dlframe.ops import image as _im
from dlframe.ops import logic as _logic
from dlframe.ops import math as _m
from dlframe.ops import random as _random
from dlframe.ops.numpy_api import as_tensor
from dlframe.ops.numpy_api_image import _channels_last

INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("constant", "nearest", "wrap", "reflect")
MAP_COORDINATES_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _check_choice(value, choices, arg):
    if value not in choices:
        raise ValueError(f"Invalid value for argument `{arg}`. Expected of one "
                         f"{choices}. Received: {arg}={value}")


# ---------------------------------------------------------------- map_coordinates
def _taps(coordinate, order):
    """[(index, weight)] of one axis: float index tensors and their weights."""
    if order == 0:
        return [(_m.round(coordinate), None)]   # round half to even, as Keras
    lower = _m.floor(coordinate)
    upper_weight = coordinate - lower
    return [(lower, 1.0 - upper_weight), (lower + 1.0, upper_weight)]


def _fold(index, size, fill_mode):
    """``index`` (float tensor of integers) brought inside [0, size) by
    ``fill_mode``, and (constant mode) where it was inside already."""
    if fill_mode == "constant":
        valid = _m.logical_and(_m.greater_equal(index, 0.0),
                               _m.less(index, float(size)))
        return _clip.clip_by_value(index, 0.0, size - 1.0), valid
    if fill_mode == "nearest":
        return _clip.clip_by_value(index, 0.0, size - 1.0), None
    if fill_mode == "wrap":                       # a b c d | a b c d
        return _m.floormod(index, float(size)), None
    if fill_mode == "mirror":                     # c d c b | a b c d | c b a b
        if size == 1:
            return _m.multiply(index, 0.0), None
        half = float(size - 1)
        return _m.abs(_m.floormod(index + half, 2.0 * half) - half), None
    # reflect, as Keras's TensorFlow backend computes it: |index| reflected about the
    # far edge (d c b a | a b c d | d c b a); a negative index -k reads k
    folded = _m.floormod(_m.abs(index), 2.0 * size)
    return _logic.where(_m.less(folded, float(size)), folded,
                        2.0 * size - 1.0 - folded), None


def _trailing(t, rest):
    """``t`` with ``rest`` axes of size one appended."""
    return _a.reshape(t, [int(s) for s in t.shape] + [1] * rest) if rest else t


def _sample(inputs, coordinates, order, fill_mode, fill_value, batch_index=None):
    """Interpolates ``inputs`` at ``coordinates`` (one float tensor per leading axis,
    all of one shape ``S``); axes past them are carried along (output ``S + rest``).
    ``batch_index`` (int tensor of shape ``S``) first picks along an extra leading
    axis of ``inputs`` exactly."""
    dtype = coordinates[0].dtype
    shape = inputs.shape[0 if batch_index is None else 1:]
    rest = len(shape) - len(coordinates)
    per_axis = [[(*_fold(i, int(size), fill_mode), w) for i, w in _taps(c, order)]
                for c, size in zip(coordinates, shape)]
    fill = _m.cast(fill_value, dtype)
    total = None
    for combo in itertools.product(*per_axis):
        indices = [_m.cast(i, dtypes.int32) for i, _valid, _w in combo]
        if batch_index is not None:
            indices.insert(0, batch_index)
        value = _m.cast(_index.gather_nd(inputs, _a.stack(indices, axis=-1)), dtype)
        valid = [v for _i, v, _w in combo if v is not None]
        weights = [w for _i, _v, w in combo if w is not None]
        if valid:
            inside = valid[0]
            for v in valid[1:]:
                inside = _m.logical_and(inside, v)
            value = _logic.where(_trailing(inside, rest), value, fill)
        if weights:
            weight = weights[0]
            for w in weights[1:]:
                weight = weight * w
            value = _trailing(weight, rest) * value
        total = value if total is None else total + value
    if inputs.dtype.is_integer:
        total = _m.round(total)
    return _m.cast(total, inputs.dtype)


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Interpolates ``inputs`` at the given coordinates.

    Args:
      inputs: an array of any rank ``r``.
      coordinates: ``[r, ...]`` (or a list of ``r`` equally shaped arrays): the
        position, along each axis of ``inputs``, of every output element.
      order: 0 (nearest, rounding half to even) or 1 (linear).
      fill_mode: how positions outside ``inputs`` are read: 'constant'
        (``fill_value``), 'nearest' (a a | a b c d | d d), 'wrap'
        (a b c d | a b c d), 'mirror' (c d c b | a b c d | c b a b) or 'reflect'
        (d c b a | a b c d | d c b a).
      fill_value: the value outside ``inputs`` in 'constant' mode.

    Returns:
      An array of ``coordinates.shape[1:]`` in the dtype of ``inputs`` (integer
      inputs are rounded).

    Raises:
      ValueError: ``coordinates`` does not give one position per axis, or an
        unknown ``fill_mode``.
      NotImplementedError: ``order`` other than 0 or 1.
    """
    x = as_tensor(inputs)
    coords = as_tensor(coordinates)
    if not coords.shape or coords.shape[0] != x.ndim:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. "
            f"Received inputs with shape: {tuple(x.shape)} and coordinate leading "
            f"dim of {coords.shape[0] if coords.shape else None}")
    if coords.ndim < 2:
        raise ValueError("Invalid coordinates rank: expected at least rank 2. Received "
                         f"input with shape: {tuple(coords.shape)}")
    if fill_mode not in MAP_COORDINATES_FILL_MODES:
        raise ValueError("Invalid value for argument `fill_mode`. Expected one of "
                         f"{set(MAP_COORDINATES_FILL_MODES)}. Received: "
                         f"fill_mode={fill_mode}")
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates currently requires order<=1; "
                                  f"received order={order!r}")
    if not coords.dtype.is_floating:
        coords = _m.cast(coords, config.floatx())
    return _sample(x, _a.unstack(coords, axis=0), order, fill_mode, fill_value)


# ---------------------------------------------------------------- projective
def _check_transform_args(images, interpolation, fill_mode):
    _check_choice(interpolation, INTERPOLATIONS, "interpolation")
    _check_choice(fill_mode, FILL_MODES, "fill_mode")
    rank = as_tensor(images).ndim
    if rank not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank "
                         "4 (batch of images). Received input with shape: "
                         f"images.shape={tuple(as_tensor(images).shape)}")


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Applies projective transform(s) to image(s).

    A row ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps the output point ``(x, y)`` to
    the input point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with
    ``k = c0 x + c1 y + 1`` (the inverse of the image's motion). Differentiable in
    ``images``, not in ``transform``.

    Args:
      images: a ``[batch, h, w, c]`` batch or one ``[h, w, c]`` image (channels
        first with ``data_format='channels_first'``).
      transform: ``[8]`` (one transform for all) or ``[batch, 8]``.
      interpolation: 'nearest' or 'bilinear'.
      fill_mode: 'constant', 'nearest', 'wrap' or 'reflect': how points outside the
        input are read.
      fill_value: the value outside the input in 'constant' mode.
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).

    Returns:
      The transformed images, shaped and typed as ``images``.
    """
    _check_transform_args(images, interpolation, fill_mode)
    tr = as_tensor(transform)
    if tr.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or "
                         "rank 2 (batch of transforms). Received input with shape: "
                         f"transform.shape={tuple(tr.shape)}")
    x, restore = _channels_last(images, data_format, "affine_transform")
    tr = _m.cast(tr if tr.ndim == 2 else _a.expand_dims(tr, 0), dtypes.float32)
    return restore(_im.transform(x, tr, interpolation=interpolation,
                                 fill_mode=fill_mode, fill_value=fill_value))


def _corner_points(points, arg):
    p = _m.cast(as_tensor(points), dtypes.float32)
    if p.ndim not in (2, 3) or tuple(p.shape[-2:]) != (4, 2):
        raise ValueError(f"Invalid {arg} shape: expected (4,2) for a single image or "
                         f"(N,4,2) for a batch. Received shape: {tuple(p.shape)}")
    return p


def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warps image(s) so that the 4 ``start_points`` move onto the ``end_points``.

    Args:
      images: a ``[batch, h, w, c]`` batch or one ``[h, w, c]`` image.
      start_points: ``[4, 2]`` or ``[batch, 4, 2]`` corner ``(x, y)`` positions in
        the input.
      end_points: where those points land in the output (same shape).
      interpolation: 'nearest' or 'bilinear'.
      fill_value: the value of output pixels read from outside the input.
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).

    Returns:
      The warped images, shaped and typed as ``images``.
    """
    _check_transform_args(images, interpolation, "constant")
    start = _corner_points(start_points, "start_points")
    end = _corner_points(end_points, "end_points")
    if tuple(start.shape) != tuple(end.shape):
        raise ValueError("start_points and end_points must have the same shape. "
                         f"Received start_points.shape={tuple(start.shape)}, "
                         f"end_points.shape={tuple(end.shape)}")
    if start.ndim == 2:
        start, end = _a.expand_dims(start, 0), _a.expand_dims(end, 0)
    x, restore = _channels_last(images, data_format, "perspective_transform")
    return restore(_im.transform(x, homography(start, end), interpolation=interpolation,
                                 fill_mode="constant", fill_value=fill_value))


# ---------------------------------------------------------------- elastic
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Distorts image(s) along a random smooth displacement field (Simard 2003).

    Unit normal noise (one ``[batch, h, w]`` field from the stateless ``seed``,
    used for both axes as Keras does) times ``sigma`` is blurred by a Gaussian of
    ``sigma`` over ``6 int(sigma) | 1`` taps; every pixel then reads the input
    ``alpha`` times that displacement away.

    Args:
      images: a ``[batch, h, w, c]`` batch or one ``[h, w, c]`` image.
      alpha: the displacement scale, in pixels.
      sigma: the smoothness of the field (the Gaussian's standard deviation).
      interpolation: 'nearest' or 'bilinear'.
      fill_mode: 'constant', 'nearest', 'wrap' or 'reflect'.
      fill_value: the value outside the input in 'constant' mode.
      seed: None, an int (reproducible, TensorFlow's draws) or a
        ``keras.random.SeedGenerator``.
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).

    Returns:
      The distorted images, shaped and typed as ``images``.
    """
    _check_transform_args(images, interpolation, fill_mode)
    x, restore = _channels_last(images, data_format, "elastic_transform")
    dtype = x.dtype if x.dtype.is_floating else dtypes.float32
    n, h, w, _c = (int(s) for s in x.shape)
    sigma_t = _m.cast(sigma, dtype)
    taps = 6 * int(float(sigma)) | 1
    noise = _random.stateless_normal([n, h, w], draw_seed(seed), dtype=dtype) * sigma_t
    field = gaussian_blur(_a.expand_dims(noise, -1), (taps, taps), (sigma_t, sigma_t),
                          data_format="channels_last")[..., 0] * _m.cast(alpha, dtype)
    rows = _a.reshape(_m.cast(_creation.range(h), dtype), [1, h, 1]) + field
    cols = _a.reshape(_m.cast(_creation.range(w), dtype), [1, 1, w]) + field
    batch = _a.broadcast_to(_a.reshape(_creation.range(n), [n, 1, 1]), [n, h, w])
    out = _sample(x, [rows, cols], INTERPOLATIONS.index(interpolation), fill_mode,
                  fill_value, batch_index=batch)
    return restore(out)


__all__ = ["affine_transform", "elastic_transform", "map_coordinates",
           "perspective_transform"]
