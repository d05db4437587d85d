"""``tf.image.crop_to_bounding_box`` / ``pad_to_bounding_box`` with graph-tensor boxes.

Inside ``dlframe.function`` (or a ``Dataset.map``) the offsets and target sizes are
often computed from random draws (CutMix boxes), so their values are only known when
the graph runs. The crop then becomes a strided slice with tensor bounds and the pad a
``pad`` with tensor amounts; TF's argument checks turn into run-time assertions that
raise ``InvalidArgumentError``, as TF's graph-mode checks do.
"""

import numbers

from dlframe.core import static_dims as _static_dims
from dlframe.ops import array as _array
from dlframe.ops import debugging as _debug
from dlframe.ops import math as _math


def _int32(v):
    return _math.cast(v, "int32")


def _height_width(x):
    dims = _array.shape(x)
    return dims[-3], dims[-2]


def _static_box(out, x, target_height, target_width):
    """Gives ``out`` TF's static shape: ``x``'s leading and channel dims with the
    target sizes that are Python ints (a CutMix pad to ``IMG_SIZE`` keeps a known
    ``element_spec``); sizes held in tensors stay unknown."""
    def known(v):
        return int(v) if isinstance(v, numbers.Integral) else None

    # a traced [None, H, W, None] keeps its unknown batch and channels (TF)
    dims = _static_dims.graph_dims(x)
    out.set_shape(dims[:-3] + [known(target_height), known(target_width), dims[-1]])
    rank = len(out._value.shape)
    return _static_dims.note_unknown_axes(out, [
        a for a, d in enumerate(dims) if d is None and a not in (rank - 3, rank - 2)])


def crop(x, offset_height, offset_width, target_height, target_width):
    """Crops ``x`` (HWC or NHWC) to a box whose corners may be graph tensors."""
    h, w = _height_width(x)
    oh, ow, th, tw = (_int32(v) for v in (offset_height, offset_width, target_height,
                                          target_width))
    _debug.assert_greater_equal(oh, 0, message="offset_height must be >= 0.")
    _debug.assert_greater_equal(ow, 0, message="offset_width must be >= 0.")
    _debug.assert_greater(th, 0, message="target_height must be > 0.")
    _debug.assert_greater(tw, 0, message="target_width must be > 0.")
    _debug.assert_less_equal(_math.add(oh, th), h,
                             message="height must be >= target + offset.")
    _debug.assert_less_equal(_math.add(ow, tw), w,
                             message="width must be >= target + offset.")
    return _static_box(x[..., oh:oh + th, ow:ow + tw, :], x, target_height,
                       target_width)


def pad(x, offset_height, offset_width, target_height, target_width):
    """Zero-pads ``x`` (HWC or NHWC) into a box whose corners may be graph tensors."""
    h, w = _height_width(x)
    oh, ow, th, tw = (_int32(v) for v in (offset_height, offset_width, target_height,
                                          target_width))
    after_h = _math.subtract(_math.subtract(th, oh), h)
    after_w = _math.subtract(_math.subtract(tw, ow), w)
    _debug.assert_greater_equal(oh, 0, message="offset_height must be >= 0")
    _debug.assert_greater_equal(ow, 0, message="offset_width must be >= 0")
    _debug.assert_greater_equal(after_h, 0,
                                message="height must be <= target - offset")
    _debug.assert_greater_equal(after_w, 0,
                                message="width must be <= target - offset")
    rows = _array.stack([oh, after_h])
    cols = _array.stack([ow, after_w])
    zeros = _array.zeros([2], "int32")
    pads = [zeros] * (len(x.shape) - 3) + [rows, cols, zeros]
    return _static_box(_array.pad(x, _array.stack(pads)), x, target_height,
                       target_width)
