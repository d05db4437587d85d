"""Keras 2 NumPy image augmentation functions of ``keras.preprocessing.image``:
affine transforms (rotation, shift, shear, zoom), channel and brightness shifts.

Each acts on one 3-D image. As in Keras, the axis defaults are channels-first
(``row_axis=1, col_axis=2, channel_axis=0``), random draws come from NumPy's global
generator (``np.random.seed`` repeats them), and resampling uses
``scipy.ndimage.affine_transform`` with its ``fill_mode`` names ('constant',
'nearest', 'reflect', 'wrap').
"""

import math

from dlframe.backends.base import np  # host-side image utility: returns NumPy, as Keras

_FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError:
        raise ImportError("Image transformations require SciPy. Install SciPy.") \
            from None
    return ndimage


def _range_pair(value, name):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"`{name}` should be a tuple or list of two floats. "
                         f"Received: {value}")
    return float(value[0]), float(value[1])


def transform_matrix_offset_center(matrix, x, y):
    """``matrix`` (3x3, homogeneous) conjugated so that it acts about the centre of
    an ``x`` by ``y`` pixel grid instead of its corner."""
    cx, cy = x / 2.0 - 0.5, y / 2.0 - 0.5
    to_centre = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]], dtype=np.float64)
    from_centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], dtype=np.float64)
    return to_centre @ matrix @ from_centre


def _affine_matrix(theta, tx, ty, shear, zx, zy):
    """The composed output-to-input coordinate map, or None for the identity."""
    parts = []
    if theta != 0:
        t = math.radians(theta)
        parts.append([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0],
                      [0, 0, 1]])
    if tx != 0 or ty != 0:
        parts.append([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    if shear != 0:
        s = math.radians(shear)
        parts.append([[1, -math.sin(s), 0], [0, math.cos(s), 0], [0, 0, 1]])
    if zx != 1 or zy != 1:
        parts.append([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    if not parts:
        return None
    matrix = np.eye(3)
    for part in parts:
        matrix = matrix @ np.asarray(part, dtype=np.float64)
    return matrix


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1,
                           col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                           order=1):
    """Rotates, shifts, shears and zooms one image about its centre.

    Args:
      x: a 3-D image.
      theta: rotation in degrees.
      tx, ty: shifts in pixels (``tx`` along the rows' axis, ``ty`` the columns').
      shear: shear angle in degrees.
      zx, zy: zoom factors (> 1 shows a smaller part of the image).
      row_axis, col_axis, channel_axis: the axes of ``x`` (channels first or last).
      fill_mode: how points outside the image are filled.
      cval: the fill value for 'constant'.
      order: spline order of the interpolation (0 nearest, 1 bilinear).

    Returns:
      The transformed image (``x`` itself for the identity transform).
    """
    if len({row_axis, col_axis, channel_axis}) != 3:
        raise ValueError("'row_axis', 'col_axis', and 'channel_axis' must be distinct. "
                         f"Received: {row_axis}, {col_axis}, {channel_axis}")
    if {row_axis, col_axis, channel_axis} != {0, 1, 2}:
        raise ValueError("Invalid axis' indices: 'row_axis', 'col_axis' and "
                         f"'channel_axis' must be 0, 1 and 2; received {row_axis}, "
                         f"{col_axis}, {channel_axis}")
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"Invalid `fill_mode`: expected one of {_FILL_MODES}. "
                         f"Received: fill_mode={fill_mode!r}")
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"Input arrays must be multi-channel 2D images; received an "
                         f"array of shape {x.shape}.")
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed at the first and last dimensions only. "
                         f"Received: channel_axis={channel_axis}")
    matrix = _affine_matrix(theta, tx, ty, shear, zx, zy)
    if matrix is None:
        return x
    matrix = transform_matrix_offset_center(matrix, x.shape[row_axis],
                                            x.shape[col_axis])
    if col_axis > row_axis:
        # The matrix is built for (x, y) = (row, col) names, but the first coordinate
        # of the resampler is the first spatial array axis: swap the two coordinates.
        matrix = matrix[[1, 0, 2]][:, [1, 0, 2]]
    ndimage = _ndimage()
    channels = np.moveaxis(x, channel_axis, 0)
    out = np.stack([ndimage.affine_transform(c, matrix[:2, :2], matrix[:2, 2],
                                             order=order, mode=fill_mode, cval=cval)
                    for c in channels], axis=0)
    return np.moveaxis(out, 0, channel_axis)


def _random_transform(x, params, row_axis, col_axis, channel_axis, fill_mode, cval,
                      interpolation_order):
    """``apply_affine_transform`` of one image with the drawn ``params``."""
    return apply_affine_transform(x, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode,
                                  cval=cval, order=interpolation_order, **params)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0,
                    fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Rotates one image by a uniform angle in ``[-rg, rg]`` degrees."""
    theta = np.random.uniform(-rg, rg)
    return _random_transform(x, {"theta": theta}, row_axis, col_axis, channel_axis,
                             fill_mode, cval, interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Shifts one image by uniform fractions ``[-hrg, hrg]`` of its height and
    ``[-wrg, wrg]`` of its width."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return _random_transform(x, {"tx": tx, "ty": ty}, row_axis, col_axis, channel_axis,
                             fill_mode, cval, interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Shears one image by a uniform angle in ``[-intensity, intensity]`` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return _random_transform(x, {"shear": shear}, row_axis, col_axis, channel_axis,
                             fill_mode, cval, interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0,
                fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Zooms one image by factors drawn uniformly from ``zoom_range`` (a pair),
    independently for rows and columns."""
    lo, hi = _range_pair(zoom_range, "zoom_range")
    zx, zy = (1, 1) if lo == 1 and hi == 1 else np.random.uniform(lo, hi, 2)
    return _random_transform(x, {"zx": zx, "zy": zy}, row_axis, col_axis, channel_axis,
                             fill_mode, cval, interpolation_order)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds ``intensity`` to every channel, clipped to the image's own value range."""
    x = np.asarray(x)
    low, high = np.min(x), np.max(x)
    shifted = np.clip(np.moveaxis(x, channel_axis, 0) + intensity, low, high)
    return np.moveaxis(shifted, 0, channel_axis)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """``apply_channel_shift`` by a uniform intensity in ``[-range, range]``."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True):
    """Scales an image's brightness by ``brightness`` with Pillow's
    ``ImageEnhance.Brightness`` (on 0-255 pixels; a float image outside that range
    is mapped there and back).

    Args:
      x: a 3-D channels-last image.
      brightness: the factor (1 keeps the image).
      scale: rescale ``x`` to 0-255 before enhancing (as ``array_to_img``).
    """
    from PIL import ImageEnhance

    from dlframe.keras.preprocessing.image import img_to_array
    from dlframe.keras.utils.image_utils import array_to_img
    x = np.asarray(x)
    low, high = np.min(x), np.max(x)
    out_of_range = low < 0 or high > 255
    img = array_to_img(x, scale=scale or out_of_range)
    out = img_to_array(ImageEnhance.Brightness(img).enhance(brightness))
    if out_of_range and not scale:
        out = out / 255.0 * (high - low) + low
    return out


def random_brightness(x, brightness_range, scale=True):
    """``apply_brightness_shift`` by a factor drawn uniformly from
    ``brightness_range`` (a pair)."""
    lo, hi = _range_pair(brightness_range, "brightness_range")
    return apply_brightness_shift(x, np.random.uniform(lo, hi), scale)
