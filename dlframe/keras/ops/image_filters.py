"""Keras 3 ``keras.ops.image`` filters and samplers: ``gaussian_blur``,
``sobel_edges``, ``ssim``, ``scale_and_translate`` and ``extract_patches_3d``.

They reuse ``tf.image``'s kernels (``sobel_edges``, the SSIM terms), the resize
kernels of ``tf.image.resize`` and the patch geometry of ``tf.image.extract_patches``;
all are differentiable in the images.
"""

from dlframe import config
from dlframe.backends.base import np  # host-side resampling weights
from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops import array as _a
from dlframe.ops import conv as _conv
from dlframe.ops import creation as _creation
from dlframe.ops import image_quality as _iq
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red
from dlframe.ops.image_resize_kernels import KERNELS
from dlframe.ops.late_bound import reads_values
from dlframe.ops.numpy_api import as_tensor
from dlframe.ops.numpy_api_image import _channels_last


def _data_format(data_format):
    fmt = data_format or config.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format!r}")
    return fmt


def _two(value, arg):
    """``value`` as two entries (an int/float means both)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"Argument `{arg}` must have 2 entries (height, width). "
                             f"Received: {arg}={value!r}")
        return tuple(value)
    return (value, value)


# ---------------------------------------------------------------- gaussian_blur
def _gaussian_1d(size, sigma, dtype):
    taps = _m.cast(_creation.range(size), dtype) - (size - 1) / 2.0
    weights = _m.exp(-0.5 * _m.square(taps / _m.cast(sigma, dtype)))
    return weights / _red.reduce_sum(weights)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs image(s) with a Gaussian kernel (zero padding, output size kept).

    The kernel is the outer product of a 1-D Gaussian of ``kernel_size[1]`` taps and
    ``sigma[1]`` (rows) with one of ``kernel_size[0]`` taps and ``sigma[0]``
    (columns), laid out as ``kernel_size`` as Keras's TensorFlow backend does (for
    square kernels: rows use ``sigma[1]``, columns ``sigma[0]``).

    Args:
      images: a ``[batch, h, w, c]`` batch or one ``[h, w, c]`` image.
      kernel_size: two ints (an int means both).
      sigma: two standard deviations (a float means both); may be tensors.
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).

    Returns:
      The blurred images, shaped and typed as ``images`` (integer images are
      blurred in float32 and rounded back).
    """
    (k0, k1), (s0, s1) = _two(kernel_size, "kernel_size"), _two(sigma, "sigma")
    k0, k1 = int(k0), int(k1)
    if min(k0, k1) < 1:
        raise ValueError(f"Argument `kernel_size` must be positive. Received: "
                         f"kernel_size={kernel_size!r}")
    x, restore = _channels_last(images, data_format, "gaussian_blur")
    dtype = x.dtype
    if not dtype.is_floating:
        x = _m.cast(x, dtypes.float32)
    channels = int(x.shape[-1])
    outer = _linalg.tensordot(_gaussian_1d(k1, s1, x.dtype),
                              _gaussian_1d(k0, s0, x.dtype), axes=0)
    # Keras's TensorFlow backend reshapes the [k1, k0] product to [k0, k1]
    kernel = _a.tile(_a.reshape(outer, [k0, k1, 1, 1]), [1, 1, channels, 1])
    out = _conv.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME")
    if not dtype.is_floating:
        out = _m.saturate_cast(_m.round(out), dtype)
    return restore(out)


# ---------------------------------------------------------------- sobel_edges
def sobel_edges(images, data_format=None):
    """Sobel gradients of every channel (reflect padding at the borders).

    Args:
      images: a ``[batch, h, w, c]`` batch (``[batch, c, h, w]`` channels first).
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).

    Returns:
      ``[batch, h, w, c, 2]`` (``[batch, c, h, w, 2]`` channels first): the
      vertical (dy) then horizontal (dx) derivative.
    """
    x = as_tensor(images)
    if x.ndim != 4:
        raise ValueError("Invalid images rank: expected rank 4 (batch of images). "
                         f"Received: images.shape={list(x.shape)}")
    first = _data_format(data_format) == "channels_first"
    if first:
        x = _a.transpose(x, [0, 2, 3, 1])
    edges = _iq.sobel_edges(x)
    return _a.transpose(edges, [0, 3, 1, 2, 4]) if first else edges


# ---------------------------------------------------------------- ssim
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01,
         k2=0.03, data_format=None):
    """Structural similarity of two images or batches (Wang et al. 2004).

    Unlike ``tf.image.ssim``, integer images are not rescaled: they are compared as
    float32 numbers against ``max_val``, and the result is cast back to their dtype
    (as Keras does).

    Args:
      image1: a ``[batch, h, w, c]`` batch or one ``[h, w, c]`` image.
      image2: images of the same shape.
      max_val: the dynamic range of the values (1.0 for [0, 1] images).
      filter_size: the Gaussian window size (images must be at least this big).
      filter_sigma: the Gaussian window's standard deviation.
      k1: the luminance stabilizer ``C1 = (k1 max_val)^2``.
      k2: the contrast stabilizer ``C2 = (k2 max_val)^2``.
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).

    Returns:
      The SSIM per image pair: ``[batch]``, or a scalar for single images.
    """
    tensors = []
    for arg, image in (("image1", image1), ("image2", image2)):
        t = as_tensor(image)
        if t.ndim not in (3, 4):
            raise ValueError(f"Invalid {arg} rank: expected rank 3 (single image) or "
                             "rank 4 (batch of images). Received input with shape: "
                             f"{arg}.shape={tuple(t.shape)}")
        tensors.append(t)
    if tuple(tensors[0].shape) != tuple(tensors[1].shape):
        raise ValueError("image1 and image2 must have the same shape. Received: "
                         f"{tuple(tensors[0].shape)} and {tuple(tensors[1].shape)}")
    dtype = tensors[0].dtype
    compute = dtype if dtype.is_floating else dtypes.float32
    x, _ = _channels_last(_m.cast(tensors[0], compute), data_format, "ssim")
    y, _ = _channels_last(_m.cast(tensors[1], compute), data_format, "ssim")
    per_channel, _ = _iq._ssim_per_channel(x, y, _m.cast(max_val, compute),
                                           int(filter_size), filter_sigma, k1, k2)
    out = _red.reduce_mean(per_channel, axis=-1)
    if tensors[0].ndim == 3:
        out = _a.squeeze(out, [0])
    return _m.cast(out, dtype)


# ---------------------------------------------------------------- scale_and_translate
_METHODS = {"linear": "bilinear", "bilinear": "bilinear", "trilinear": "bilinear",
            "cubic": "bicubic", "bicubic": "bicubic", "tricubic": "bicubic",
            "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


def _weight_matrix(n_in, n_out, scale, translation, kernel, antialias):
    """``[n_in, n_out]`` weights: output sample ``o`` sits at input position
    ``(o + 0.5 - translation) / scale - 0.5`` (half-pixel centers)."""
    inv_scale = 1.0 / scale
    stretch = max(inv_scale, 1.0) if antialias else 1.0
    sample = (np.arange(n_out) + 0.5) * inv_scale - translation * inv_scale - 0.5
    distance = np.abs(sample[None, :] - np.arange(n_in)[:, None]) / stretch
    weights = kernel(np, distance)
    total = weights.sum(axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000.0 * float(np.finfo(np.float32).eps),
                       weights / np.where(total != 0, total, 1.0), 0.0)
    inside = (sample >= -0.5) & (sample <= n_in - 0.5)
    return np.where(inside[None, :], weights, 0.0)


@reads_values("scale", "translation")
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Resamples ``images`` to ``output_shape`` with a scale and a translation.

    Along each of ``spatial_dims``, the input position ``p`` goes to
    ``p * scale + translation`` (half-pixel centers); outputs that come from
    outside the input are zero. Differentiable in ``images``.

    Args:
      images: an array of any rank.
      output_shape: the full output shape (one size per axis of ``images``).
      scale: ``[K]`` scales, one per entry of ``spatial_dims``.
      translation: ``[K]`` translations.
      spatial_dims: the ``K`` resampled axes.
      method: 'linear' / 'bilinear' / 'trilinear', 'cubic' / 'bicubic' /
        'tricubic' (Keys cubic), 'lanczos3' or 'lanczos5'.
      antialias: widen the kernel when downsampling.

    Returns:
      The resampled array, in the dtype of ``images`` (integer images are rounded
      and clipped to their input range).
    """
    if method not in _METHODS:
        raise ValueError("Invalid value for argument `method`. Expected of one "
                         f"{set(_METHODS)}. Received: method={method}")
    x = as_tensor(images)
    scales = np.asarray(as_tensor(scale).numpy(), dtype=np.float64).reshape(-1)
    shifts = np.asarray(as_tensor(translation).numpy(), dtype=np.float64).reshape(-1)
    dims = [int(d) % x.ndim for d in spatial_dims]
    if not len(scales) == len(shifts) == len(dims):
        raise ValueError(f"`scale`, `translation` and `spatial_dims` must have one "
                         f"entry per resampled axis. Received: scale={scale!r}, "
                         f"translation={translation!r}, spatial_dims={spatial_dims!r}")
    if len(output_shape) != x.ndim:
        raise ValueError(f"`output_shape` must have one size per axis of `images` "
                         f"(rank {x.ndim}). Received: output_shape={output_shape!r}")
    kernel = KERNELS[_METHODS[method]][0]
    out = x if x.dtype.is_floating else _m.cast(x, dtypes.float32)
    for axis, s, shift in zip(dims, scales, shifts):
        weights = _weight_matrix(int(x.shape[axis]), int(output_shape[axis]), s, shift,
                                 kernel, antialias)
        weights = convert_to_tensor(weights.astype(out.dtype.as_numpy_dtype))
        out = _linalg.tensordot(out, weights, axes=[[axis], [0]])
        order = list(range(out.ndim - 1))
        order.insert(axis, out.ndim - 1)
        out = _a.transpose(out, order)
    if not x.dtype.is_floating and dims:
        out = _m.round(out)
        out = _m.minimum(_m.maximum(out, _m.cast(_red.reduce_min(x), out.dtype)),
                         _m.cast(_red.reduce_max(x), out.dtype))
        out = _m.cast(out, x.dtype)
    return out


# ---------------------------------------------------------------- extract_patches_3d
def _triple(value, arg, error=ValueError):
    if isinstance(value, int):
        return (value,) * 3
    vals = tuple(int(v) for v in value)
    if len(vals) != 3:
        raise error(f"Invalid `{arg}` argument. Expected an int or a tuple of length 3. "
                    f"Received: {arg}={value}")
    return vals


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Extracts ``size`` patches of volume(s) into the channel axis.

    Args:
      volumes: a ``[batch, d, h, w, c]`` batch or one ``[d, h, w, c]`` volume
        (channels first with ``data_format='channels_first'``).
      size: the patch ``(depth, height, width)``, or an int for all three.
      strides: the step between patches (default: ``size``).
      dilation_rate: the spacing of the samples inside a patch.
      padding: 'valid' or 'same' (zero padding).
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).

    Returns:
      ``[batch, d', h', w', pd * ph * pw * c]`` (the channel axis second with
      'channels_first'), each patch flattened depth, row, column, channel.
    """
    sizes = _triple(size, "size", TypeError)
    steps = sizes if strides is None else _triple(strides, "strides")
    rates = _triple(dilation_rate, "dilation_rate")
    pad = str(padding).upper()
    if pad not in ("VALID", "SAME"):
        raise ValueError(f"Invalid `padding` argument. Expected 'valid' or 'same'. "
                         f"Received: padding={padding!r}")
    x = as_tensor(volumes)
    if x.ndim not in (4, 5):
        raise ValueError("Invalid volumes rank: expected rank 4 (single volume) or rank "
                         f"5 (batch of volumes). Received: volumes.shape={tuple(x.shape)}")
    first = _data_format(data_format) == "channels_first"
    single = x.ndim == 4
    if single:
        x = _a.expand_dims(x, 0)
    if first:
        x = _a.transpose(x, [0, 2, 3, 4, 1])
    geometry = [_iq._patch_geometry(int(n), k, s, r, pad)
                for n, k, s, r in zip(x.shape[1:4], sizes, steps, rates)]
    if any(g[1] or g[2] for g in geometry):
        x = _a.pad(x, [[0, 0]] + [[g[1], g[2]] for g in geometry] + [[0, 0]])
    outs = [g[0] for g in geometry]
    taps = []
    for offsets in np.ndindex(*sizes):
        index = tuple(slice(o * r, o * r + (n - 1) * s + 1, s)
                      for o, r, s, n in zip(offsets, rates, steps, outs))
        taps.append(x[(slice(None),) + index])
    batch, channels = int(x.shape[0]), int(x.shape[-1])
    out = _a.reshape(_a.stack(taps, axis=4),
                     [batch] + outs + [int(np.prod(sizes)) * channels])
    if first:
        out = _a.transpose(out, [0, 4, 1, 2, 3])
    return _a.squeeze(out, [0]) if single else out


__all__ = ["extract_patches_3d", "gaussian_blur", "scale_and_translate", "sobel_edges",
           "ssim"]
