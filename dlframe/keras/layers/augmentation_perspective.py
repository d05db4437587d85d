"""Keras 3's ``RandomPerspective``: images warped by a random projective transform
that moves their corners."""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.keras.layers.augmentation import _AffineLayer, _keras3_factor
from dlframe.ops import array as _array
from dlframe.ops import image as _image
from dlframe.ops import linalg as _linalg
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math


def homography(source, target):
    """The [n, 8] projective transforms mapping each ``target`` quad to ``source``.

    Args:
      source, target: [n, 4, 2] corner coordinates ``(x, y)``.

    Returns:
      Rows ``[a0, a1, a2, b0, b1, b2, c0, c1]`` in ``tf.raw_ops.ImageProjective
      Transform`` form: the output pixel ``(x, y)`` reads the input at
      ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``.
      As an image transform it moves the ``source`` corners onto ``target``.
    """
    source = _math.cast(source, _dt.float64)
    target = _math.cast(target, _dt.float64)
    rows, rhs = [], []
    zero = _math.zeros_like(target[:, :, 0])
    one = _math.ones_like(zero)
    x, y = target[:, :, 0], target[:, :, 1]
    u, v = source[:, :, 0], source[:, :, 1]
    for i in range(4):
        xi, yi, ui, vi, z, o = x[:, i], y[:, i], u[:, i], v[:, i], zero[:, i], one[:, i]
        rows.append(_array.stack([xi, yi, o, z, z, z, -ui * xi, -ui * yi], axis=1))
        rows.append(_array.stack([z, z, z, xi, yi, o, -vi * xi, -vi * yi], axis=1))
        rhs.extend([ui, vi])
    system = _array.stack(rows, axis=1)                     # [n, 8, 8]
    values = _array.expand_dims(_array.stack(rhs, axis=1), -1)
    solution = _linalg.solve(system, values)[:, :, 0]
    return _math.cast(solution, _dt.float32)


def perspective_warp(images, start_points, end_points, interpolation="bilinear",
                     fill_value=0.0):
    """``images`` [n, h, w, c] warped so ``start_points`` land on ``end_points``
    (both [n, 4, 2] as ``(x, y)``), pixels outside filled with ``fill_value``."""
    transforms = homography(start_points, end_points)
    return _image.transform(images, transforms, interpolation=interpolation,
                            fill_mode="constant", fill_value=fill_value)


class RandomPerspective(_AffineLayer):
    """Randomly distorts the perspective of images by moving their corners.

    With training, each image is warped with probability ``p`` (drawn per image
    from the ``factor`` range): the corners other than the top-left one move by up
    to ``scale / 2`` times their own coordinates (Keras's rule, so the top-left
    corner stays fixed); uncovered pixels take ``fill_value``. Inference returns
    the inputs unchanged.

    Args:
      factor: probability of warping an image: a float ``f`` in [0, 1] (drawn in
        ``[0, f]``) or a ``(min, max)`` pair reaching into [0, 1], drawn from as
        written (Keras 3).
      scale: relative corner displacement, in [0, 1] (default 1.0).
      interpolation: 'bilinear' or 'nearest'.
      fill_value: value of pixels mapped from outside the image.
      seed: random seed.
      data_format: 'channels_last' or 'channels_first' (default: the backend's
        image_data_format).

    Raises:
      ValueError: ``factor`` or ``scale`` outside [0, 1] (as above).
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__(fill_mode="constant", interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.factor = _keras3_factor(factor)
        if not 0.0 <= float(scale) <= 1.0:
            raise ValueError("The `scale` argument should be a number in the range "
                             f"[0, 1]. Received: scale={scale}")
        self.scale = float(scale)

    def _augment(self, x):
        n, h, w = x.shape[0], x.shape[1], x.shape[2]
        probability = self._uniform([n], self.factor[0], self.factor[1])
        apply = _math.less(self._uniform([n], 0.0, 1.0), probability)
        shift = self._uniform([n, 4, 2], -0.5 * self.scale, 0.5 * self.scale)
        corners = [[0.0, 0.0], [w - 1.0, 0.0], [0.0, h - 1.0], [w - 1.0, h - 1.0]]
        start = _array.broadcast_to(convert_to_tensor([corners], dtype="float32"),
                                    [n, 4, 2])
        end = start + start * shift
        warped = perspective_warp(x, start, end, self.interpolation, self.fill_value)
        choose = _array.broadcast_to(_array.reshape(apply, [n, 1, 1, 1]), list(x.shape))
        return _logic.where(choose, _math.cast(warped, x.dtype), x)

    def get_config(self):
        config = super().get_config()
        for key in ("fill_mode",):
            config.pop(key, None)
        config.update({"factor": self.factor, "scale": self.scale})
        return config


__all__ = ["RandomPerspective"]
