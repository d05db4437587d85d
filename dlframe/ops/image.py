"""Image ops (``tf.image``): flips, rotations, crops/pads, dtype conversion, colour
adjustments and the projective transform behind Keras's augmentation layers.

Images are NHWC (batch, height, width, channels) or HWC. Resizing lives in
``dlframe.ops.image_resize`` and is re-exported here.
"""

import math as _pymath

from dlframe.core import dtypes
from dlframe.core import static_dims as _static_dims
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import as_operand, is_symbolic_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import image_crop_dynamic as _box
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import random as _random
from dlframe.ops import reduction as _red
from dlframe.ops._util import t
from dlframe.ops.image_resize import (  # noqa: F401 - re-exported
    _METHODS,
    ResizeMethod,
    _batched,
    _int_size,
    _resize_float,
    _size,
    _unbatch,
    resize,
    resize_grad_p,
    resize_p,
)


# ---------------------------------------------------------------- flips and rotations
def image_3d_or_4d(image):
    """``image`` as a Tensor of rank 3 (one image) or 4 (a batch); ValueError for
    another rank (TF's static check in its flip, transpose and rotation ops)."""
    x = t(image)
    nd = x._value.ndim
    if nd < 3:
        raise ValueError(f"'image' (shape {tuple(x.shape)}) must be at least "
                         "three-dimensional.")
    if nd > 4:
        raise ValueError(f"'image' (shape {tuple(x.shape)}) must have either 3 or 4 "
                         "dimensions.")
    return x


def flip_left_right(image):
    """Flips images horizontally (the width axis); ValueError unless ``image`` is 3-D or 4-D."""
    x = image_3d_or_4d(image)
    return _array.reverse(x, [x._value.ndim - 2])


def flip_up_down(image):
    """Flips images vertically (the height axis); ValueError unless ``image`` is 3-D or 4-D."""
    x = image_3d_or_4d(image)
    return _array.reverse(x, [x._value.ndim - 3])


def transpose(image, name=None):
    """Swaps the height and width axes."""
    x = image_3d_or_4d(image)
    nd = x._value.ndim
    perm = list(range(nd))
    perm[-3], perm[-2] = perm[-2], perm[-3]
    return _array.transpose(x, perm)


def rot90(image, k=1, name=None):
    """Rotates images counter-clockwise by ``k`` quarter turns."""
    k = int(k) % 4
    x = image_3d_or_4d(image)
    if k == 0:
        return x
    if k == 2:
        return flip_up_down(flip_left_right(x))
    if k == 1:
        return flip_up_down(transpose(x))
    return transpose(flip_up_down(x))


def _random_flip(image, seed, flip):
    x, squeeze = _batched(image_3d_or_4d(image), "random_flip")
    n = x._value.shape[0]
    if squeeze:
        choose = _math.less(_random.uniform([], 0, 1.0, seed=seed), 0.5)
    else:
        choose = flip_batch_choice(_random.uniform([n, 1, 1, 1], 0, 1.0, seed=seed))
    choose = _array.broadcast_to(choose, list(x._value.shape))
    return _unbatch(_logic.where(choose, flip(x), x), squeeze)


def flip_batch_choice(coins):
    """Which images of a batch a random flip flips: TF rounds each uniform draw
    (half to even), so a batch flips where the draw is above 0.5 while a single image
    flips where it is below."""
    return _math.greater(coins, 0.5)


def random_flip_left_right(image, seed=None):
    """Flips each image horizontally with probability 1/2."""
    return _random_flip(image, seed, flip_left_right)


def random_flip_up_down(image, seed=None):
    """Flips each image vertically with probability 1/2."""
    return _random_flip(image, seed, flip_up_down)


# ---------------------------------------------------------------- crops and pads
def image_hw(x):
    """``x``'s height and width: ints where the graph knows them, else int32 scalar
    tensors read when the graph runs (a decoded image inside ``Dataset.map``:
    sizes computed from the traced image's would be baked into the graph)."""
    dims = _static_dims.graph_dims(x)[-3:-1]
    if None not in dims:
        return int(dims[0]), int(dims[1])
    shape = _array.shape(x)
    return shape[-3], shape[-2]


def least(a, b):
    """``min(a, b)`` of Python ints, else the elementwise tensor minimum."""
    return min(a, b) if isinstance(a, int) and isinstance(b, int) else _math.minimum(a, b)


def greatest(a, b):
    """``max(a, b)`` of Python ints, else the elementwise tensor maximum."""
    return max(a, b) if isinstance(a, int) and isinstance(b, int) else _math.maximum(a, b)


def _graph_box(*corners):
    # a box computed in a graph (CutMix) is only known at run time
    return any(is_symbolic_tensor(v) for v in corners)


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Crops the box with top-left corner (offset_height, offset_width)."""
    x = t(image)
    h, w = image_hw(x)
    if _graph_box(offset_height, offset_width, target_height, target_width, h, w):
        return _box.crop(x, offset_height, offset_width, target_height, target_width)
    oh, ow, th, tw = (int(v) for v in (offset_height, offset_width, target_height,
                                       target_width))
    if oh < 0 or ow < 0:
        raise ValueError(f"offset_height and offset_width must be >= 0, got {oh}, {ow}")
    if th <= 0 or tw <= 0:
        raise ValueError(f"target_height and target_width must be > 0, got {th}, {tw}")
    if oh + th > h or ow + tw > w:
        raise _box_error(h, w)(
            f"height must be >= target + offset ({h} < {oh + th}) and width must be "
            f">= target + offset ({w} < {ow + tw})")
    return _box_shaped(x[..., oh:oh + th, ow:ow + tw, :], x, th, tw)


def _box_error(h, w):
    """The error of a box that does not fit a ``h`` x ``w`` image: TF's ValueError
    when the graph knows the sizes, else its run-time InvalidArgumentError."""
    return ValueError if isinstance(h, int) and isinstance(w, int) else \
        InvalidArgumentError


def _box_shaped(out, x, th, tw):
    """``out``, a crop or pad of ``x`` to a ``th`` x ``tw`` box, with TF's static
    shape where the graph does not know ``x``'s sizes: the box's (Python ints)."""
    if _static_dims.sizes_unknown(x):
        dims = _static_dims.graph_dims(x)
        out.set_shape(None if getattr(dims, "unknown_rank", False)
                      else dims[:-3] + [th, tw, dims[-1]])
    return out


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Zero-pads an image so it sits at (offset_height, offset_width) of a larger one."""
    x = t(image)
    h, w = image_hw(x)
    if _graph_box(offset_height, offset_width, target_height, target_width, h, w):
        return _box.pad(x, offset_height, offset_width, target_height, target_width)
    oh, ow, th, tw = (int(v) for v in (offset_height, offset_width, target_height,
                                       target_width))
    if oh < 0 or ow < 0:
        raise ValueError(f"offset_height and offset_width must be >= 0, got {oh}, {ow}")
    if th - oh - h < 0 or tw - ow - w < 0:
        raise _box_error(h, w)(
            f"target must be >= image + offset, got target {[th, tw]} for image "
            f"{[int(h), int(w)]} at offset {[oh, ow]}")
    pads = [[0, 0]] * (x._value.ndim - 3) + [[oh, th - oh - h], [ow, tw - ow - w], [0, 0]]
    return _box_shaped(_array.pad(x, pads), x, th, tw)


def resize_with_crop_or_pad(image, target_height, target_width):
    """Centrally crops and/or zero-pads images to the target size."""
    x = t(image)
    h, w = image_hw(x)
    th, tw = int(target_height), int(target_width)
    crop_h, crop_w = least(h, th), least(w, tw)
    x = crop_to_bounding_box(x, greatest(h - th, 0) // 2, greatest(w - tw, 0) // 2,
                             crop_h, crop_w)
    out = pad_to_bounding_box(x, greatest(th - h, 0) // 2, greatest(tw - w, 0) // 2,
                              th, tw)
    # TF's static shape has the target size even where the input's is unknown
    out.set_shape([None] * (out.shape.rank - 3) + [th, tw, None])
    return out


def central_crop(image, central_fraction):
    """Keeps the central ``central_fraction`` of height and width."""
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError(f"central_fraction must be within (0, 1], got "
                         f"{central_fraction}")
    x = t(image)
    if central_fraction == 1.0:
        return x
    h, w = image_hw(x)
    if not isinstance(h, int):   # as TF: float64 arithmetic, truncated to int32
        hf, wf = _math.cast(h, "float64"), _math.cast(w, "float64")
        oh = _math.cast((hf - hf * central_fraction) / 2, "int32")
        ow = _math.cast((wf - wf * central_fraction) / 2, "int32")
        return crop_to_bounding_box(x, oh, ow, h - 2 * oh, w - 2 * ow)
    oh = int((h - h * central_fraction) / 2)
    ow = int((w - w * central_fraction) / 2)
    return crop_to_bounding_box(x, oh, ow, h - 2 * oh, w - 2 * ow)


# ---------------------------------------------------------------- dtype and colour
def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Converts between image dtypes, rescaling: floats live in [0, 1], integers in
    [0, MAX]."""
    x = t(image)
    src = x.dtype
    dst = dtypes.as_dtype(dtype)
    if not (dst.is_floating or dst.is_integer) or not (src.is_floating or src.is_integer):
        raise AttributeError(f"convert_image_dtype: unsupported dtypes {src.name} -> "
                             f"{dst.name}")
    if src == dst:
        return x
    # saturate clamps every integer result to dst's range (negatives to 0 for an
    # unsigned dst, float32 values past int32's max to its largest float32 below)
    to_dst = _math.saturate_cast if saturate else _math.cast
    if src.is_integer and dst.is_integer:
        smax, dmax = src.max, dst.max
        if smax > dmax:
            return to_dst(_math.floordiv(x, _math.cast((smax + 1) // (dmax + 1), src)),
                          dst)
        return _math.multiply(to_dst(x, dst), _math.cast((dmax + 1) // (smax + 1), dst))
    if src.is_floating and dst.is_floating:
        return _math.cast(x, dst)
    if src.is_integer:
        return _math.multiply(_math.cast(x, dst), 1.0 / src.max)
    return to_dst(_math.multiply(x, dst.max + 0.5), dst)


def per_image_standardization(image):
    """(x - mean) / max(stddev, 1/sqrt(N)) per image over height, width and channels.

    Integer, float16 and bfloat16 images give float32 (as TF); float64 images stay
    float64 (TF rounds them to float32; keeping the precision is our choice).
    """
    x = t(image)
    if x.dtype not in (dtypes.float32, dtypes.float64):
        x = _math.cast(x, dtypes.float32)
    axes = [-1, -2, -3]
    n = 1
    for s in x._value.shape[-3:]:
        n *= s
    mean = _red.reduce_mean(x, axes, keepdims=True)
    std = _red.reduce_std(x, axes, keepdims=True)
    adjusted = _math.maximum(std, _math.cast(1.0 / _pymath.sqrt(n), x.dtype))
    return _math.divide(_math.subtract(x, mean), adjusted)


def _like_input(y, x):
    if x.dtype.is_floating:
        return y
    return convert_image_dtype(y, x.dtype, saturate=True)


def adjust_brightness(image, delta):
    """Adds ``delta`` to images (integer images are converted to float and back)."""
    x = t(image)
    f = convert_image_dtype(x, dtypes.float32) if not x.dtype.is_floating else x
    return _like_input(_math.add(f, _math.cast(delta, f.dtype)), x)


def adjust_contrast(images, contrast_factor):
    """(x - mean) * contrast_factor + mean, the mean per image and channel."""
    x = t(images)
    f = convert_image_dtype(x, dtypes.float32) if not x.dtype.is_floating else x
    mean = _red.reduce_mean(f, [-3, -2], keepdims=True)
    y = _math.add(_math.multiply(_math.subtract(f, mean),
                                 _math.cast(contrast_factor, f.dtype)), mean)
    return _like_input(y, x)


_GRAY = (0.2989, 0.5870, 0.1140)


def rgb_to_grayscale(images, name=None):
    """Weighted channel sum (0.2989 R + 0.5870 G + 0.1140 B), one output channel."""
    x = t(images)
    f = convert_image_dtype(x, dtypes.float32) if not x.dtype.is_floating else x
    weights = _math.cast(as_operand(list(_GRAY), f), f.dtype)
    gray = _red.reduce_sum(_math.multiply(f, weights), [-1], keepdims=True)
    return convert_image_dtype(gray, x.dtype)


def grayscale_to_rgb(images, name=None):
    """Repeats the single channel three times."""
    x = t(images)
    if x._value.shape[-1] != 1:
        raise ValueError(f"grayscale_to_rgb: the last dimension must be 1, got shape "
                         f"{list(x._value.shape)}")
    return _array.concat([x, x, x], -1)


# ---------------------------------------------------------------- projective transform
def _map_coord(xp, c, n, mode):
    """Maps continuous coordinates outside [0, n-1] back inside (Keras fill modes)."""
    if mode in ("constant", "nearest"):
        return c if mode == "constant" else xp.clip(c, 0, n - 1)
    if n <= 1:
        return xp.zeros_like(c)
    if mode == "reflect":  # d c b a | a b c d | d c b a
        period = 2 * n
        m = xp.mod(c + 0.5, period) - 0.5
        return xp.clip(xp.where(m > n - 0.5, period - 1 - m, m), 0, n - 1)
    if mode == "wrap":  # a b c d | a b c d
        span = n - 1  # TF's kernel divides by n - 1 here; kept for identical outputs
        c = xp.where(c < 0, c + n * (xp.trunc(-c / span) + 1),
                     xp.where(c > n - 1, c - n * xp.trunc(c / span), c))
        return xp.clip(c, 0, n - 1)
    raise ValueError(f"Unknown fill_mode {mode!r}")


def _source_coords(xp, shape, transforms, fill_mode):
    """The input (row, col) each output pixel of an NHWC ``shape`` reads."""
    b, h, w, _c = shape
    # coordinates in the transforms' precision (float32 like TF's kernel), so points
    # that land on a wrap/reflect boundary fall on the same side as in TF
    ft = transforms.dtype
    ys, xs = xp.meshgrid(xp.arange(h, dtype=ft), xp.arange(w, dtype=ft), indexing="ij")
    tr = transforms
    if tr.shape[0] == 1 and b > 1:
        tr = xp.broadcast_to(tr, (b, 8))
    a = [tr[:, i][:, None, None] for i in range(8)]
    k = a[6] * xs + a[7] * ys + 1.0
    in_x = (a[0] * xs + a[1] * ys + a[2]) / k
    in_y = (a[3] * xs + a[4] * ys + a[5]) / k
    return _map_coord(xp, in_y, h, fill_mode), _map_coord(xp, in_x, w, fill_mode)


@primitive("ImageProjectiveTransformV3")
def transform_p(d, x, transforms, *, interpolation, fill_mode, fill_value):
    xp = d.xp
    b, h, w, _c = x.shape
    in_y, in_x = _source_coords(xp, x.shape, transforms, fill_mode)
    bidx = xp.arange(b)[:, None, None]
    fill = xp.asarray(fill_value, dtype=x.dtype)

    def read(yi, xi):
        inside = (yi >= 0) & (yi <= h - 1) & (xi >= 0) & (xi <= w - 1)
        yc = xp.clip(yi, 0, h - 1).astype("int64")
        xc = xp.clip(xi, 0, w - 1).astype("int64")
        return xp.where(inside[..., None], x[bidx, yc, xc], fill)

    if interpolation == "nearest":
        return read(xp.floor(in_y + 0.5), xp.floor(in_x + 0.5)).astype(x.dtype)
    y0, x0 = xp.floor(in_y), xp.floor(in_x)
    fy, fx = (in_y - y0)[..., None], (in_x - x0)[..., None]
    top = read(y0, x0) * (1 - fx) + read(y0, x0 + 1) * fx
    bottom = read(y0 + 1, x0) * (1 - fx) + read(y0 + 1, x0 + 1) * fx
    return (top * (1 - fy) + bottom * fy).astype(x.dtype)


@primitive("ImageProjectiveTransformV3Grad")
def transform_grad_p(d, dy, transforms, *, interpolation, fill_mode):
    """The adjoint of ``transform_p`` in its images: each output gradient goes back
    to the input pixels it was interpolated from, with the same weights."""
    xp = d.xp
    b, h, w, c = dy.shape
    in_y, in_x = _source_coords(xp, dy.shape, transforms, fill_mode)
    base = (xp.arange(b) * (h * w))[:, None, None]
    grad = xp.zeros((b * h * w, c), dtype=dy.dtype)

    def scatter(yi, xi, weight):
        inside = (yi >= 0) & (yi <= h - 1) & (xi >= 0) & (xi <= w - 1)
        index = base + xp.clip(yi, 0, h - 1).astype("int64") * w + \
            xp.clip(xi, 0, w - 1).astype("int64")
        d.scatter_add(grad, index.reshape(-1),
                      (dy * (weight * inside)[..., None]).reshape(-1, c))

    if interpolation == "nearest":
        scatter(xp.floor(in_y + 0.5), xp.floor(in_x + 0.5), xp.ones_like(in_y))
    else:
        y0, x0 = xp.floor(in_y), xp.floor(in_x)
        fy, fx = in_y - y0, in_x - x0
        scatter(y0, x0, (1 - fy) * (1 - fx))
        scatter(y0, x0 + 1, (1 - fy) * fx)
        scatter(y0 + 1, x0, fy * (1 - fx))
        scatter(y0 + 1, x0 + 1, fy * fx)
    return grad.reshape(b, h, w, c)


@transform_p.defgrad
def _transform_grad(inputs, out, dy, *, interpolation, fill_mode, fill_value):
    return call(transform_grad_p, (dy, inputs[1]), {"interpolation": interpolation,
                                                    "fill_mode": fill_mode}), None


@transform_grad_p.defgrad
def _transform_grad_grad(inputs, out, ddx, *, interpolation, fill_mode):
    return call(transform_p, (ddx, inputs[1]), {"interpolation": interpolation,
                                                "fill_mode": fill_mode,
                                                "fill_value": 0.0}), None


def transform(images, transforms, interpolation="nearest", fill_mode="constant",
              fill_value=0.0):
    """Applies projective transforms [a0..a7] (output point -> input point), as
    ``tf.raw_ops.ImageProjectiveTransformV3`` (differentiable in ``images``).

    Args:
      images: NHWC or HWC images.
      transforms: [8] or [batch, 8] float transforms.
      interpolation: 'nearest' or 'bilinear'.
      fill_mode: 'constant', 'reflect', 'wrap' or 'nearest'.
      fill_value: the value outside the image in 'constant' mode.
    """
    x, squeeze = _batched(images, "transform")
    tr = t(transforms)
    if tr._value.ndim == 1:
        tr = _array.reshape(tr, [1, 8])
    tr = _math.cast(tr, dtypes.float32) if not tr.dtype.is_floating else tr
    if interpolation not in ("nearest", "bilinear"):
        raise NotImplementedError(f"Unknown `interpolation` {interpolation!r}. Only "
                                  "'nearest' and 'bilinear' are supported.")
    if fill_mode not in ("constant", "reflect", "wrap", "nearest"):
        raise NotImplementedError(f"Unknown `fill_mode` {fill_mode!r}. Only 'reflect', "
                                  "'wrap', 'constant' and 'nearest' are supported.")
    out = call(transform_p, (x, tr), {"interpolation": interpolation,
                                      "fill_mode": fill_mode,
                                      "fill_value": float(fill_value)})
    return _unbatch(out, squeeze)


IMAGE_NAMES = [
    "ResizeMethod", "resize", "flip_left_right", "flip_up_down", "transpose", "rot90",
    "random_flip_left_right", "random_flip_up_down", "crop_to_bounding_box",
    "pad_to_bounding_box", "resize_with_crop_or_pad", "central_crop",
    "convert_image_dtype", "per_image_standardization", "adjust_brightness",
    "adjust_contrast", "rgb_to_grayscale", "grayscale_to_rgb",
]
