"""Block rearrangements and normalization of ``tf.nn`` built from array ops:
``depth_to_space``, ``space_to_depth``, ``space_to_batch_nd``/``batch_to_space``,
``local_response_normalization`` (``lrn``) and ``max_pool_with_argmax``.

All are compositions of reshape/transpose/pad/slice (gradients come from those).
"""

import collections

from dlframe.core import dtypes
from dlframe.core.primitive import STATE, call, primitive
from dlframe.errors import GraphInvalidArgumentError, InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops import pooling as _pool
from dlframe.ops import slicing as _slicing
from dlframe.ops._util import t


def _check_block(block_size, op):
    if int(block_size) < 2:   # TF: the attr check, like the shape checks below
        raise _shape_error(f"{op}: block_size must be at least 2; received "
                           f"block_size={block_size}")
    return int(block_size)


def _shape_error(message):
    """TF's error for a bad input shape: ``InvalidArgumentError`` from an eager
    kernel, ``ValueError`` (shape inference) while a function is traced."""
    return (InvalidArgumentError if STATE.trace is None
            else GraphInvalidArgumentError)(message)


def _nhwc(x, data_format, op):
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"{op}: data_format must be 'NHWC' or 'NCHW'; received "
                         f"{data_format!r}")
    x = t(x)
    if x.ndim != 4:
        raise _shape_error(f"{op}: input must be 4-D; received shape "
                           f"{tuple(x.shape)}")
    return x if data_format == "NHWC" else _array.transpose(x, (0, 2, 3, 1))


def _back(y, data_format):
    return y if data_format == "NHWC" else _array.transpose(y, (0, 3, 1, 2))


def depth_to_space(input, block_size, data_format="NHWC", name=None):
    """Moves channel blocks into ``block_size x block_size`` spatial tiles.

    ``[b, h, w, c * bs^2] -> [b, h * bs, w * bs, c]`` (TF's DCR order).
    """
    bs = _check_block(block_size, "DepthToSpace")
    x = _nhwc(input, data_format, "DepthToSpace")
    b, h, w, c = (int(s) for s in x.shape)
    if c % (bs * bs):
        raise _shape_error(f"DepthToSpace: the channel count {c} is not divisible "
                           f"by block_size^2 = {bs * bs}")
    y = _array.reshape(x, (b, h, w, bs, bs, c // (bs * bs)))
    y = _array.transpose(y, (0, 1, 3, 2, 4, 5))
    return _back(_array.reshape(y, (b, h * bs, w * bs, c // (bs * bs))), data_format)


def space_to_depth(input, block_size, data_format="NHWC", name=None):
    """Moves ``block_size x block_size`` spatial tiles into channels (inverse of
    ``depth_to_space``)."""
    bs = _check_block(block_size, "SpaceToDepth")
    x = _nhwc(input, data_format, "SpaceToDepth")
    b, h, w, c = (int(s) for s in x.shape)
    if h % bs or w % bs:
        raise _shape_error(f"SpaceToDepth: image size {h}x{w} is not divisible by "
                           f"block_size {bs}")
    y = _array.reshape(x, (b, h // bs, bs, w // bs, bs, c))
    y = _array.transpose(y, (0, 1, 3, 2, 4, 5))
    return _back(_array.reshape(y, (b, h // bs, w // bs, bs * bs * c)), data_format)


def _ints(value):
    return [int(v) for v in (value.numpy().tolist() if hasattr(value, "numpy") else value)]


def space_to_batch_nd(input, block_shape, paddings, name=None):
    """Zero-pads the spatial dims and moves ``block_shape`` blocks into the batch.

    Args:
      input: ``[batch] + spatial + remaining`` tensor.
      block_shape: ``M`` block sizes for the ``M`` spatial dims after the batch.
      paddings: ``[M, 2]`` (before, after) zero padding of those dims.
    """
    x = t(input)
    block = _ints(block_shape)
    pads = [list(p) for p in (paddings.numpy().tolist() if hasattr(paddings, "numpy")
                              else paddings)]
    m = len(block)
    x = _array.pad(x, [[0, 0]] + pads + [[0, 0]] * (x.ndim - 1 - m))
    shape = [int(s) for s in x.shape]
    batch, spatial, rest = shape[0], shape[1:m + 1], shape[m + 1:]
    for size, blk in zip(spatial, block):
        if size % blk:
            raise ValueError(f"space_to_batch_nd: padded spatial size {size} is not "
                             f"divisible by block size {blk}")
    split = [batch]
    for size, blk in zip(spatial, block):
        split += [size // blk, blk]
    y = _array.reshape(x, split + rest)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + \
        list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    y = _array.transpose(y, perm)
    prod = 1
    for blk in block:
        prod *= blk
    return _array.reshape(y, [batch * prod] + [s // b for s, b in zip(spatial, block)] +
                          rest)


def space_to_batch(input, block_shape, paddings, name=None):
    """TF2 ``tf.space_to_batch`` (same as ``space_to_batch_nd``)."""
    return space_to_batch_nd(input, block_shape, paddings)


def batch_to_space(input, block_shape, crops, name=None):
    """Inverse of ``space_to_batch_nd``: moves batch blocks back into the spatial dims
    and crops ``crops`` ([M, 2]) from them."""
    x = t(input)
    block = _ints(block_shape)
    crops = [list(c) for c in (crops.numpy().tolist() if hasattr(crops, "numpy")
                               else crops)]
    m = len(block)
    shape = [int(s) for s in x.shape]
    prod = 1
    for blk in block:
        prod *= blk
    if shape[0] % prod:
        raise ValueError(f"batch_to_space: batch size {shape[0]} is not divisible by the "
                         f"product of block_shape {block}")
    batch, spatial, rest = shape[0] // prod, shape[1:m + 1], shape[m + 1:]
    y = _array.reshape(x, block + [batch] + spatial + rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, 2 * m + 1 + len(rest)))
    y = _array.transpose(y, perm)
    full = [s * b for s, b in zip(spatial, block)]
    y = _array.reshape(y, [batch] + full + rest)
    begin = [0] + [c[0] for c in crops] + [0] * len(rest)
    size = [batch] + [f - c[0] - c[1] for f, c in zip(full, crops)] + rest
    return _slicing.slice(y, begin, size)


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5,
                                 name=None):
    """``x / (bias + alpha * sum(x^2 over +-depth_radius channels)) ** beta``."""
    x = t(input)
    if x.ndim != 4:
        raise InvalidArgumentError(f"LRN: input must be 4-dimensional; received shape "
                                   f"{tuple(x.shape)} [Op:LRN]")
    r = int(depth_radius)
    sq = _array.pad(_m.square(x), [[0, 0], [0, 0], [0, 0], [r, r]])
    c = int(x.shape[-1])
    window = _slicing.slice(sq, [0, 0, 0, 0], [-1, -1, -1, c])
    for k in range(1, 2 * r + 1):
        window = _m.add(window, _slicing.slice(sq, [0, 0, 0, k], [-1, -1, -1, c]))
    return _m.divide(x, _m.pow(_m.add(_m.multiply(window, float(alpha)), float(bias)),
                               float(beta)))


lrn = local_response_normalization


MaxPoolWithArgmax = collections.namedtuple("MaxPoolWithArgmax", ["output", "argmax"])


def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC",
                         output_dtype=dtypes.int64, include_batch_in_index=False,
                         name=None):
    """Max pooling and the flat index of each maximum.

    The index of ``[b, y, x, c]`` is ``((b * height + y) * width + x) * channels + c``
    with the batch term only when ``include_batch_in_index``.

    Returns:
      A ``MaxPoolWithArgmax(output, argmax)`` namedtuple.
    """
    if data_format != "NHWC":
        raise ValueError(f"max_pool_with_argmax supports data_format='NHWC' only; "
                         f"received {data_format!r}")
    x = t(input)
    if not x._value.size:   # TF's kernel refuses any empty input
        raise InvalidArgumentError(
            f"tensor_in must not be empty (shape {list(x._value.shape)}) "
            f"[Op:MaxPoolWithArgmax]")
    out = _pool.max_pool2d(x, ksize, strides, padding)
    return MaxPoolWithArgmax(out, _argmax_positions(
        x, out, ksize, strides, padding, output_dtype, include_batch_in_index))


@primitive("MaxPoolArgmax")
def _argmax_p(d, x, *, ksize, strides, padding, with_batch, dtype):
    """The flat index of each pooling window's maximum (first one on ties)."""
    from dlframe.ops.conv_geometry import resolve_pads
    xp = d.xp
    b, h, w, c = x.shape
    pads, (oh, ow) = resolve_pads(padding, (h, w), ksize, strides, (1, 1), 2, True,
                                  "MaxPoolWithArgmax")
    result = xp.zeros((b, oh, ow, c), dtype=xp.int64)
    channels = xp.arange(c, dtype=xp.int64)[None, :]
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * strides[0] - pads[0][0], j * strides[1] - pads[1][0]
            ys = slice(max(y0, 0), min(y0 + ksize[0], h))
            xs = slice(max(x0, 0), min(x0 + ksize[1], w))
            pos = x[:, ys, xs, :].reshape(b, -1, c).argmax(axis=1)
            wy = ys.start + pos // (xs.stop - xs.start)
            wx = xs.start + pos % (xs.stop - xs.start)
            result[:, i, j, :] = (wy * w + wx) * c + channels
    if with_batch:
        result += (xp.arange(b, dtype=xp.int64) * h * w * c)[:, None, None, None]
    return result.astype(dtype)


def _argmax_static_shape(in_dims, attrs):
    """The pooled dims TF's shape inference knows (None where the input's is)."""
    from dlframe.ops.conv_geometry import resolve_pads
    dims = in_dims[0]
    if dims is None:
        return None
    out = list(dims)
    for axis in (1, 2):
        if dims[axis] is not None:
            k, st = attrs["ksize"][axis - 1], attrs["strides"][axis - 1]
            _, (n,) = resolve_pads(attrs["padding"], (dims[axis],), (k,), (st,), (1,),
                                   1, True, "MaxPoolWithArgmax")
            out[axis] = n
    return out


_argmax_p.static_shape = _argmax_static_shape


def _argmax_positions(x, out, ksize, strides, padding, output_dtype, with_batch):
    return call(_argmax_p, (x,), {
        "ksize": _pool_pair(ksize), "strides": _pool_pair(strides),
        "padding": padding, "with_batch": bool(with_batch),
        "dtype": dtypes.as_dtype(output_dtype)._np})


def _pool_pair(value):
    vals = [value] * 4 if isinstance(value, int) else list(value)
    if len(vals) == 4:
        return int(vals[1]), int(vals[2])
    if len(vals) == 2:
        return int(vals[0]), int(vals[1])
    return int(vals[0]), int(vals[0])


__all__ = [
    "batch_to_space",
    "depth_to_space",
    "space_to_batch",
    "space_to_batch_nd",
    "space_to_depth",
]
NN_NAMES = ["depth_to_space", "space_to_depth", "space_to_batch",
            "local_response_normalization", "lrn", "max_pool_with_argmax"]
