"""``tf.image.sample_distorted_bounding_box`` and its stateless twin: the random
crop of Inception-style training, constrained to cover part of a labelled box.

The search is a short data-dependent loop, so it runs on the host inside one
primitive (not differentiable, as in TF). It reads Philox words as TF's kernel does,
keyed by two integers: an int32 pair drawn by a device random op, so a traced
function draws a new crop on every call (stateful version), or the ``seed`` itself,
which gives TF's crop for the same seed (stateless version).
"""

import collections

from dlframe.backends.base import np  # host search loop
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as _math
from dlframe.ops import philox as _philox
from dlframe.ops import random as _random
from dlframe.ops._util import t

_DEFAULT_ASPECT_RATIO_RANGE = (0.75, 1.33)
_DEFAULT_AREA_RANGE = (0.05, 1.0)
_DEFAULT_MAX_ATTEMPTS = 100
_INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
# TF returns its ops' named outputs (``.begin``, ``.size``, ``.bboxes``)
SampleDistortedBoundingBoxV2 = collections.namedtuple(
    "SampleDistortedBoundingBoxV2", ["begin", "size", "bboxes"])
StatelessSampleDistortedBoundingBox = collections.namedtuple(
    "StatelessSampleDistortedBoundingBox", ["begin", "size", "bboxes"])


class _WordStream:
    """TF's ``SimplePhilox`` over Philox4x32-10: 32-bit words read one at a time
    from consecutive blocks of one key and counter."""

    def __init__(self, seed):
        if len(seed) == 6:   # a stateful stream's key words and counter words
            self.key = int(seed[0]), int(seed[1])
            self.counter = sum(int(w) << (32 * i) for i, w in enumerate(seed[2:]))
        else:
            self.key, self.counter = _philox.stateless_key_counter(int(seed[0]),
                                                                   int(seed[1]))
        self.words = []

    def word(self):
        if not self.words:
            self.words = list(_philox.philox_block(self.key, self.counter))
            self.counter = _philox.add_counter(self.counter, 1)
        return self.words.pop(0)

    def below(self, n):
        """A word modulo ``n`` (``n > 0``)."""
        return self.word() % n

    def unit_float(self):
        """The word's 23 low bits as a float32 mantissa: ``[0, 1)``."""
        bits = np.uint32(0x3F800000 | (self.word() & 0x7FFFFF))
        return float(bits.view(np.float32)) - 1.0


def _f32(value):
    return float(np.float32(value))


def _rint(value):
    """C's ``lrintf``: float32 rounded half to even."""
    return int(np.rint(np.float32(value)))


def _random_crop(stream, height, width, aspect_ratio, min_area, max_area):
    """A ``(y, x, h, w)`` window of the given aspect ratio and an area in
    ``[min_area, max_area]`` (float32 pixel counts), at a uniform position; None if
    none fits. Heights are drawn as TF's kernel draws them, so a seed gives TF's
    window."""
    lo = _rint(np.sqrt(np.float32(min_area / aspect_ratio)))
    hi = _rint(np.sqrt(np.float32(max_area / aspect_ratio)))
    if _rint(hi * aspect_ratio) > width:  # keep the width inside the image
        hi = int(_f32((width + 0.5 - 1e-7) / aspect_ratio))
        if _rint(hi * aspect_ratio) > width:
            hi -= 1
    hi = min(hi, height)
    h = min(lo, hi)
    if h < hi:
        h += stream.below(hi - h + 1)
    w = _rint(h * aspect_ratio)
    if w * h < min_area:  # rounding left the area just below the range
        h += 1
        w = _rint(h * aspect_ratio)
    if w * h > max_area:  # or just above it
        h -= 1
        w = _rint(h * aspect_ratio)
    if not (min_area <= w * h <= max_area and 0 < h <= height and 0 < w <= width):
        return None
    y = stream.below(height - h) if h < height else 0
    x = stream.below(width - w) if w < width else 0
    return y, x, h, w


def _covers(crop, boxes, min_object_covered):
    """Whether ``crop`` holds at least ``min_object_covered`` of one of ``boxes``
    (integer pixel rectangles ``(y0, x0, y1, x1)``; empty ones are skipped)."""
    y, x, h, w = crop
    if h * w < 1:
        return False
    for y0, x0, y1, x1 in boxes:
        area = (y1 - y0) * (x1 - x0)
        if area < 1:
            continue
        inter_h, inter_w = min(y + h, y1) - max(y, y0), min(x + w, x1) - max(x, x0)
        inside = inter_h * inter_w if inter_h > 0 and inter_w > 0 else 0
        if _f32(_f32(inside) / _f32(area)) >= min_object_covered:
            return True
    return False


def sample_box(key, height, width, boxes, min_object_covered, aspect_ratio_range,
               area_range, max_attempts):
    """The host search: ``(y, x, h, w)`` of the first sampled crop covering at
    least ``min_object_covered`` of one of the boxes; the whole image when
    ``max_attempts`` samples all fail. Each attempt draws an aspect ratio, a height
    and a position from the Philox words of ``key``, as TF's kernel does.

    Args:
      key: the two seed integers of the stateless op, or the six words (key,
        then counter from its lowest word) of the stateful op's Philox stream.
      height: image rows.
      width: image columns.
      boxes: ``[n, 4]`` normalized ``[ymin, xmin, ymax, xmax]`` boxes (n >= 1).
      min_object_covered: the fraction of a box the crop must cover.
      aspect_ratio_range: ``(low, high)`` width / height of the crop.
      area_range: ``(low, high)`` fraction of the image area of the crop.
      max_attempts: number of crops tried.

    Returns:
      ``(y, x, h, w)`` ints.
    """
    stream = _WordStream(key)
    scaled = np.asarray(boxes, np.float32) * np.float32([height, width, height, width])
    pixels = [tuple(int(v) for v in row) for row in scaled]   # truncated, as TF
    min_area = _f32(_f32(area_range[0]) * width * height)
    max_area = _f32(_f32(area_range[1]) * width * height)
    low, high = _f32(aspect_ratio_range[0]), _f32(aspect_ratio_range[1])
    covered = _f32(min_object_covered)
    for _ in range(max_attempts):
        aspect_ratio = _f32(_f32(stream.unit_float() * (high - low)) + low)
        crop = _random_crop(stream, height, width, aspect_ratio, min_area, max_area)
        if crop is not None and _covers(crop, pixels, covered):
            return crop
    return 0, 0, height, width


@primitive("SampleDistortedBoundingBoxV2", n_out=3)
def _sample_p(d, image_size, boxes, min_covered, key, *, aspect_ratio_range,
              area_range, max_attempts, use_image):
    size = d.to_numpy(image_size).astype(np.int64)
    height, width = int(size[0]), int(size[1])
    boxes = d.to_numpy(boxes).reshape(-1, 4).astype(np.float64)
    if len(boxes) == 0:
        if not use_image:
            raise InvalidArgumentError(
                "No bounding boxes provided as input. One must enable "
                "use_image_if_no_bounding_boxes if you wish to not provide any "
                "bounding boxes.")
        boxes = np.array([[0.0, 0.0, 1.0, 1.0]])
    if height <= 0 or width <= 0:
        raise InvalidArgumentError(f"image height and width must be positive; "
                                   f"received image_size {size.tolist()}")
    covered = float(d.to_numpy(min_covered).reshape(-1)[0])
    y, x, h, w = sample_box(d.to_numpy(key).reshape(-1), height, width, boxes,
                            covered, aspect_ratio_range, area_range, max_attempts)
    dtype = d.to_numpy(image_size).dtype
    begin = np.array([y, x, 0], dtype=dtype)
    extent = np.array([h, w, -1], dtype=dtype)
    drawn = np.array([[[y / height, x / width, (y + h) / height, (x + w) / width]]],
                     dtype=np.float32)
    return d.asarray(begin), d.asarray(extent), d.asarray(drawn)


def _pair(value, default, arg):
    if value is None:
        return default
    values = value.numpy().tolist() if isinstance(value, Tensor) else list(value)
    if len(values) != 2:
        raise ValueError(f"{arg} must contain 2 floats; received {arg}={value!r}")
    low, high = float(values[0]), float(values[1])
    if min(low, high) <= 0:
        raise InvalidArgumentError(f"{arg} must hold positive floats; received "
                                   f"{arg}={value!r}")
    return low, high


def _sample(image_size, bounding_boxes, key_fn, min_object_covered,
            aspect_ratio_range, area_range, max_attempts,
            use_image_if_no_bounding_boxes, result):
    image_size = t(image_size)
    if image_size.dtype.name not in _INT_DTYPES:
        raise TypeError(f"image_size must be an integer tensor; received dtype "
                        f"{image_size.dtype.name}")
    if tuple(image_size.shape) != (3,):
        raise ValueError(f"image_size must be 1-D [height, width, channels]; received "
                         f"shape {tuple(image_size.shape)}")
    boxes = _math.cast(t(bounding_boxes), "float32")
    if boxes.ndim != 3 or int(boxes.shape[-1]) != 4:
        raise ValueError(f"bounding_boxes must have shape [batch, N, 4]; received "
                         f"shape {tuple(boxes.shape)}")
    area_range = _pair(area_range, _DEFAULT_AREA_RANGE, "area_range")
    if max(area_range) > 1.0:
        raise InvalidArgumentError(f"Area range must be less than or equal to 1.0; "
                                   f"received area_range={area_range!r}")
    aspect_ratio_range = _pair(aspect_ratio_range, _DEFAULT_ASPECT_RATIO_RANGE,
                               "aspect_ratio_range")
    max_attempts = _DEFAULT_MAX_ATTEMPTS if max_attempts is None else int(max_attempts)
    if max_attempts <= 0:
        raise ValueError(f"max_attempts must be positive; received "
                         f"max_attempts={max_attempts}")
    # a coverage above 1 is no error: every attempt fails and the whole image
    # is returned, as in TF
    covered = t(min_object_covered, None)
    key = key_fn()
    static = {"aspect_ratio_range": aspect_ratio_range, "area_range": area_range,
              "max_attempts": max_attempts,
              "use_image": bool(use_image_if_no_bounding_boxes)}
    return result(*call(_sample_p, (image_size, boxes, _math.cast(covered, "float32"),
                                    key), static))


def _stateful_words(op_seed, attrs):
    """The six words (key, counter) of an eager seeded call's Philox stream, as TF's
    stateful kernel: keyed by the ``(global, op)`` seeds, each call of one kernel
    advancing the counter by ``max_attempts`` blocks. None when unseeded or traced
    (a fresh key is drawn per call there)."""
    from fractions import Fraction

    from dlframe import backends
    from dlframe.core.primitive import STATE
    from dlframe.ops import random_kernels
    attempts = _DEFAULT_MAX_ATTEMPTS if attrs[2] is None else int(attrs[2])
    if STATE.trace is not None or attempts <= 0:   # _sample raises for attempts
        return None
    source = random_kernels._source(
        op_seed, ("SampleDistortedBoundingBoxV2", repr(attrs)))
    if source is None:
        return None
    bits = source.reserve(backends.current_device(),
                          Fraction(attempts, _philox.SAMPLES_PER_OUTPUT))
    return [*bits.key, *((bits.counter >> (32 * i)) & 0xFFFFFFFF for i in range(4))]


def sample_distorted_bounding_box(image_size, bounding_boxes, seed=0,
                                  min_object_covered=0.1, aspect_ratio_range=None,
                                  area_range=None, max_attempts=None,
                                  use_image_if_no_bounding_boxes=None, name=None):
    """A random crop covering at least ``min_object_covered`` of one of the boxes.

    Args:
      image_size: int ``[height, width, channels]`` (e.g. ``tf.shape(image)``).
      bounding_boxes: float ``[batch, N, 4]`` normalized ``[ymin, xmin, ymax,
        xmax]`` boxes; one of them is picked per attempt.
      seed: op seed (0: none), combined with the global seed as ``tf.random`` ops.
      min_object_covered: the fraction of the chosen box the crop must contain.
      aspect_ratio_range: ``(low, high)`` width/height of the crop (default
        ``(0.75, 1.33)``).
      area_range: ``(low, high)`` fraction of the image the crop covers
        (default ``(0.05, 1.0)``).
      max_attempts: crops tried before returning the whole image (default 100).
      use_image_if_no_bounding_boxes: use the whole image as the box when
        ``bounding_boxes`` is empty (else that is an error).
      name: unused.

    Returns:
      A named tuple ``(begin, size, bboxes)``: ``begin = [y, x, 0]`` and
      ``size = [h, w, -1]`` (``image_size``'s dtype) for ``tf.slice``, and the crop
      as a float32 ``[1, 1, 4]`` normalized box for ``draw_bounding_boxes``.
    """
    op_seed = seed if seed else None

    def key():
        words = _stateful_words(op_seed, (aspect_ratio_range, area_range, max_attempts,
                                          use_image_if_no_bounding_boxes))
        if words is not None:
            return t(np.asarray(words, dtype=np.int64))
        return _random.uniform([2], 0, 2**31 - 1, dtype="int32", seed=op_seed)

    return _sample(image_size, bounding_boxes, key, min_object_covered,
                   aspect_ratio_range, area_range, max_attempts,
                   use_image_if_no_bounding_boxes, SampleDistortedBoundingBoxV2)


def stateless_sample_distorted_bounding_box(image_size, bounding_boxes, seed,
                                            min_object_covered=0.1,
                                            aspect_ratio_range=None, area_range=None,
                                            max_attempts=None,
                                            use_image_if_no_bounding_boxes=None,
                                            name=None):
    """``sample_distorted_bounding_box`` determined by the ``seed`` pair: the same
    seed and arguments always give the same crop.

    Args:
      image_size: int ``[height, width, channels]``.
      bounding_boxes: float ``[batch, N, 4]`` normalized boxes.
      seed: shape ``[2]`` integer seed.
      min_object_covered: the fraction of the chosen box the crop must contain.
      aspect_ratio_range: ``(low, high)`` width/height of the crop.
      area_range: ``(low, high)`` fraction of the image the crop covers.
      max_attempts: crops tried before returning the whole image.
      use_image_if_no_bounding_boxes: whole image as the box when there is none.
      name: unused.

    Returns:
      ``(begin, size, bboxes)`` as ``sample_distorted_bounding_box``.
    """

    def key():   # the seed itself keys the kernel's Philox words, as in TF
        key = _math.cast(t(seed), "int64")
        if tuple(key.shape) != (2,):
            raise ValueError(f"seed must have shape [2]; received shape "
                             f"{tuple(key.shape)}")
        return key

    return _sample(image_size, bounding_boxes, key, min_object_covered,
                   aspect_ratio_range, area_range, max_attempts,
                   use_image_if_no_bounding_boxes, StatelessSampleDistortedBoundingBox)


IMAGE_NAMES = ["sample_distorted_bounding_box", "stateless_sample_distorted_bounding_box"]
