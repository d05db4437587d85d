"""Image comparison and filtering ops of ``tf.image``: ``ssim``, ``ssim_multiscale``,
``sobel_edges`` and ``extract_patches``.

All are composites of convolutions, pads and slices, so they are differentiable
through the primitives they are made of.
"""

from dlframe.backends.base import np  # the constant Gaussian / Sobel kernels
from dlframe.core import dtypes
from dlframe.errors import (
    DTypeMismatchError,
    InvalidArgumentError,
    OutOfRangeError,
    ShapeMismatchError,
    UnimplementedError,
)
from dlframe.ops import array as _array
from dlframe.ops import conv as _conv
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import pooling as _pooling
from dlframe.ops import reduction as _red
from dlframe.ops._util import t
from dlframe.ops.image import convert_image_dtype

# Wang et al. 2003, the weights of the five scales of MS-SSIM
_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


# ---------------------------------------------------------------- SSIM
def _gaussian_kernel(size, sigma, channels, dtype):
    """[size, size, channels, 1] normalized 2-D Gaussian for depthwise_conv2d."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-0.5 * coords ** 2 / float(sigma) ** 2)
    kernel = np.outer(g, g) / np.outer(g, g).sum()
    kernel = np.tile(kernel[:, :, None, None], (1, 1, channels, 1))
    return _math.cast(t(kernel), dtype)


def _ssim_terms(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """Luminance and contrast-structure maps ``[n, h', w', channels]`` (``n`` is the
    product of the leading axes) over the valid Gaussian windows."""
    height, width, channels = (int(s) for s in x.shape[-3:])
    if min(height, width) < filter_size:
        raise InvalidArgumentError(f"ssim: images of height {height} and width {width} "
                                   f"are smaller than filter_size={filter_size}")
    kernel = _gaussian_kernel(filter_size, filter_sigma, channels, x.dtype)

    def blur(z):
        flat = _array.reshape(z, [-1, height, width, channels])
        return _conv.depthwise_conv2d(flat, kernel, [1, 1, 1, 1], "VALID")

    c1 = _math.square(_math.multiply(max_val, k1))
    c2 = _math.square(_math.multiply(max_val, k2))
    mean_x, mean_y = blur(x), blur(y)
    cross = _math.multiply(_math.multiply(mean_x, mean_y), 2.0)
    squares = _math.add(_math.square(mean_x), _math.square(mean_y))
    luminance = _math.divide(_math.add(cross, c1), _math.add(squares, c1))
    num = _math.subtract(_math.multiply(blur(_math.multiply(x, y)), 2.0), cross)
    den = _math.subtract(blur(_math.add(_math.square(x), _math.square(y))), squares)
    return luminance, _math.divide(_math.add(num, c2), _math.add(den, c2))


def _ssim_per_channel(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """(ssim, contrast-structure) means over height and width: ``[..., channels]``."""
    luminance, cs = _ssim_terms(x, y, max_val, filter_size, filter_sigma, k1, k2)
    lead = [int(s) for s in x.shape[:-3]] + [int(x.shape[-1])]
    return (_array.reshape(_red.reduce_mean(_math.multiply(luminance, cs), axis=[1, 2]),
                           lead),
            _array.reshape(_red.reduce_mean(cs, axis=[1, 2]), lead))


def _prepare(img1, img2, max_val):
    """Both images (and max_val) as float32 in the images' value range."""
    img1, img2 = t(img1), t(img2)
    if img1.dtype != img2.dtype:
        raise DTypeMismatchError(f"img1 and img2 must have one dtype; received "
                                 f"{img1.dtype.name} and {img2.dtype.name}")
    if img1.ndim < 3 or tuple(img1.shape) != tuple(img2.shape):
        raise ValueError(f"img1 and img2 must be [..., height, width, channels] of one "
                         f"shape; received {tuple(img1.shape)} and {tuple(img2.shape)}")
    max_val = convert_image_dtype(_math.cast(t(max_val), img1.dtype), dtypes.float32)
    return (convert_image_dtype(img1, dtypes.float32),
            convert_image_dtype(img2, dtypes.float32), max_val)


def _ssim(img1, img2, max_val, filter_size, filter_sigma, k1, k2):
    per_channel, _ = _ssim_per_channel(img1, img2, max_val, int(filter_size),
                                       filter_sigma, k1, k2)
    return _red.reduce_mean(per_channel, axis=-1)


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         return_index_map=False):
    """Structural similarity of two batches of images (Wang et al. 2004).

    A Gaussian window (``filter_size``, ``filter_sigma``) slides over the valid part
    of each image; the SSIM map is averaged over height, width and channels.

    Args:
      img1: images ``[..., height, width, channels]`` (integer images are rescaled to
        [0, 1] floats, with ``max_val`` likewise).
      img2: images of the same shape and dtype.
      max_val: the dynamic range (255 for 8-bit values, 1.0 for [0, 1] floats).
      filter_size: Gaussian window size; images must be at least this large.
      filter_sigma: Gaussian window width.
      k1: the luminance stabilizer ``C1 = (k1 * max_val)^2``.
      k2: the contrast stabilizer ``C2 = (k2 * max_val)^2``.
      return_index_map: return the per-pixel SSIM map (averaged over channels)
        instead of its mean.

    Returns:
      float32 ``[...]`` SSIM per image.
    """
    img1, img2, max_val = _prepare(img1, img2, max_val)
    if return_index_map:
        return _ssim_map(img1, img2, max_val, int(filter_size), filter_sigma, k1, k2)
    return _ssim(img1, img2, max_val, filter_size, filter_sigma, k1, k2)


def _ssim_map(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """The SSIM map averaged over channels (``return_index_map=True``)."""
    luminance, cs = _ssim_terms(x, y, max_val, filter_size, filter_sigma, k1, k2)
    out = _red.reduce_mean(_math.multiply(luminance, cs), axis=-1)
    return _array.reshape(out, [int(s) for s in x.shape[:-3]] +
                          [int(s) for s in out.shape[1:]])


def _halve(z):
    """2x2 average pooling after symmetric padding to even height and width."""
    shape = [int(s) for s in z.shape]
    height, width, channels = shape[-3:]
    flat = _array.reshape(z, [-1, height, width, channels])
    flat = _array.pad(flat, [[0, 0], [0, height % 2], [0, width % 2], [0, 0]],
                      mode="SYMMETRIC")
    pooled = _pooling.avg_pool2d(flat, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    return _array.reshape(pooled, shape[:-3] + [int(s) for s in pooled.shape[1:]])


def _ssim_multiscale(img1, img2, max_val, power_factors, filter_size, filter_sigma,
                     k1, k2):
    factors = _math.cast(t(list(power_factors)), img1.dtype)
    values = []
    for scale in range(len(power_factors)):
        if scale:
            img1, img2 = _halve(img1), _halve(img2)
        ssim_pc, cs = _ssim_per_channel(img1, img2, max_val, int(filter_size),
                                        filter_sigma, k1, k2)
        values.append(_nn.relu(cs))
    values[-1] = _nn.relu(ssim_pc)   # the coarsest scale contributes its full SSIM
    stacked = _array.stack(values, axis=-1)
    per_channel = _red.reduce_prod(_math.pow(stacked, factors), axis=-1)
    return _red.reduce_mean(per_channel, axis=-1)


def ssim_multiscale(img1, img2, max_val, power_factors=_MSSSIM_WEIGHTS, filter_size=11,
                    filter_sigma=1.5, k1=0.01, k2=0.03):
    """Multi-scale structural similarity (Wang, Simoncelli, Bovik 2003).

    The images are halved (2x2 averages) ``len(power_factors) - 1`` times; the
    contrast-structure term of every scale but the coarsest, and the full SSIM of the
    coarsest, are raised to their power factor and multiplied.

    Args:
      img1: images ``[..., height, width, channels]``.
      img2: images of the same shape and dtype.
      max_val: the dynamic range of the values.
      power_factors: the weight of each scale (the default has 5 scales, so images
        must be at least ``(filter_size - 1) * 16 + 1`` pixels high and wide).
      filter_size: Gaussian window size.
      filter_sigma: Gaussian window width.
      k1: the luminance stabilizer.
      k2: the contrast stabilizer.

    Returns:
      float32 ``[...]`` MS-SSIM per image.
    """
    img1, img2, max_val = _prepare(img1, img2, max_val)
    return _ssim_multiscale(img1, img2, max_val, power_factors, filter_size,
                            filter_sigma, k1, k2)


# ---------------------------------------------------------------- Sobel
_SOBEL_Y = np.asarray([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64)


def _correlate3x3(padded, kernel, height, width):
    """Sum of ``kernel[i, j] * padded[:, i:i + height, j:j + width]``."""
    out = None
    for i in range(3):
        for j in range(3):
            if kernel[i, j]:
                term = _math.multiply(padded[:, i:i + height, j:j + width, :],
                                      float(kernel[i, j]))
                out = term if out is None else _math.add(out, term)
    return out


def sobel_edges(image):
    """Sobel filter responses of each channel (reflect padding at the borders).

    Args:
      image: ``[batch, height, width, channels]`` float images.

    Returns:
      ``[batch, height, width, channels, 2]``: the vertical (dy) then the horizontal
      (dx) derivative.
    """
    x = t(image)
    if x.ndim != 4:
        raise ValueError(f"image must be 4-D [batch, height, width, channels]; "
                         f"received shape {tuple(x.shape)}")
    if not x.dtype.is_floating:
        x = _math.cast(x, dtypes.float32)
    height, width = int(x.shape[1]), int(x.shape[2])
    padded = _array.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    return _array.stack([_correlate3x3(padded, _SOBEL_Y, height, width),
                         _correlate3x3(padded, _SOBEL_Y.T, height, width)], axis=-1)


# ---------------------------------------------------------------- patches
def _window(values, what):
    """(rows, cols) of a ``[1, rows, cols, 1]`` attribute, with TF's error classes."""
    try:
        vals = [int(v) for v in values]
    except TypeError:
        vals = []
    if len(vals) != 4:   # an op-def length check: ValueError traced, else InvalidArgument
        raise ShapeMismatchError(f"{what} must be [1, rows, cols, 1] of positive ints; "
                                 f"received {values!r}")
    if min(vals) < 1:
        raise OutOfRangeError(f"{what} is out of range: {values!r} must be positive "
                              "[Op:ExtractImagePatches]")
    if vals[0] != 1 or vals[3] != 1:
        raise UnimplementedError(f"Only support {what} across space: received "
                                 f"{values!r}, need [1, rows, cols, 1] "
                                 "[Op:ExtractImagePatches]")
    return vals[1], vals[2]


def _patch_geometry(size, k, stride, rate, padding):
    """(output size, padding before, padding after) of one spatial axis."""
    span = (k - 1) * rate + 1
    if padding == "VALID":
        return max(-(-(size - span + 1) // stride), 0), 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return out, total // 2, total - total // 2


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """Extracts ``sizes`` patches of the images into the depth axis.

    Args:
      images: ``[batch, height, width, depth]``.
      sizes: ``[1, size_rows, size_cols, 1]`` patch size.
      strides: ``[1, stride_rows, stride_cols, 1]`` step between patch starts.
      rates: ``[1, rate_rows, rate_cols, 1]`` dilation inside a patch.
      padding: ``"VALID"`` or ``"SAME"`` (zero padding).
      name: unused.

    Returns:
      ``[batch, out_rows, out_cols, size_rows * size_cols * depth]``, each patch
      flattened row by row.
    """
    x = t(images)
    if padding not in ("VALID", "SAME"):
        raise InvalidArgumentError(   # an op attribute TF checks: exact spelling
            f"Value for attr 'padding' of {padding!r} is not in the list of allowed "
            "values: \"SAME\", \"VALID\"")
    (kh, kw), (sh, sw), (rh, rw) = (_window(sizes, "sizes"), _window(strides, "strides"),
                                    _window(rates, "rates"))
    if x.ndim != 4:   # TF: InvalidArgumentError from the kernel (ValueError traced)
        raise ShapeMismatchError(f"images must be 4-dimensional [batch, height, width, "
                                 f"depth]; received shape {list(x.shape)}")
    batch, height, width, depth = (int(s) for s in x.shape)
    oh, top, bottom = _patch_geometry(height, kh, sh, rh, padding)
    ow, left, right = _patch_geometry(width, kw, sw, rw, padding)
    if oh == 0 or ow == 0:
        return _array.reshape(x[:, :0, :0, :0], [batch, oh, ow, kh * kw * depth])
    if top or bottom or left or right:
        x = _array.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
    taps = [x[:, i * rh:i * rh + (oh - 1) * sh + 1:sh, j * rw:j * rw + (ow - 1) * sw + 1:sw]
            for i in range(kh) for j in range(kw)]
    # -1, not the traced batch: TF's static batch stays unknown (no retrace per size);
    # an empty patch (depth 0, no output rows) cannot infer it: the batch is given
    inner = [oh, ow, kh * kw * depth]
    lead = -1 if oh * ow * kh * kw * depth else batch
    return _array.reshape(_array.stack(taps, axis=3), [lead] + inner)


IMAGE_NAMES = ["ssim", "ssim_multiscale", "sobel_edges", "extract_patches"]
