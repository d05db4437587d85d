"""Box ops of ``tf.image``: ``crop_and_resize``, the non-max-suppression family and
``draw_bounding_boxes``.

``crop_and_resize`` is a composite of gathers and lerps, so its gradients (w.r.t. the
image and the boxes) come from the primitives it is made of. Non-max suppression is
greedy and data dependent: one host primitive per variant, not differentiable (as in
TF), whose tensor arguments are primitive inputs so a traced function replays it for
new boxes, scores and thresholds.
"""

import collections

from dlframe.backends.base import np  # host loops of the greedy suppression
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import _tracing_tensor
from dlframe.errors import (
    DTypeMismatchError,
    InvalidArgumentError,
    OutOfRangeError,
    ShapeMismatchError,
)
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import creation as _creation
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops._util import t


# ---------------------------------------------------------------- crop_and_resize
def _sample_positions(lo, hi, n_in, n_out, dtype):
    """[N, n_out] sample coordinates along one axis (TF's corner-aligned boxes)."""
    scale = float(n_in - 1)
    if n_out > 1:
        steps = _math.cast(_creation.range(n_out), dtype)
        step = _math.divide(_math.multiply(_math.subtract(hi, lo), scale),
                            float(n_out - 1))   # TF's float order: x.5 rounding
        return _math.add(_array.expand_dims(_math.multiply(lo, scale), 1),
                         _math.multiply(steps[None, :], step[:, None]))
    centre = _math.multiply(_math.add(lo, hi), 0.5 * scale)
    return _array.expand_dims(centre, 1)


def _inside(pos, n_in):
    return _logic.logical_and(_logic.greater_equal(pos, 0.0),
                              _logic.less_equal(pos, float(n_in - 1)))


def _index_of(pos, n_in):
    return _math.cast(_math.minimum(_math.maximum(pos, 0.0), float(n_in - 1)),
                      dtypes.int64)


def _check_box_indices(box_indices, batch):
    if _tracing_tensor(box_indices):
        return
    host = box_indices.numpy()
    bad = (host < 0) | (host >= batch)
    if bad.any():
        i = int(np.argmax(bad))
        raise OutOfRangeError(f"crop_and_resize: box_indices[{i}] = {int(host[i])} "
                                   f"is not in [0, {batch})")


def _crop_and_resize(image, boxes, box_indices, crop_size, method, extrapolation_value):
    """Crops in the image's (floating) dtype; ``crop_and_resize`` casts to float32."""
    batch, height, width, channels = (int(d) for d in image.shape)
    dtype = image.dtype
    boxes = _math.cast(t(boxes), dtype)
    if boxes.ndim != 2 or int(boxes.shape[1]) != 4:
        raise ShapeMismatchError(f"boxes must be [num_boxes, 4]; received shape "
                                 f"{tuple(boxes.shape)}")
    box_indices = _math.cast(t(box_indices), dtypes.int64)
    if box_indices.ndim != 1 or int(box_indices.shape[0]) != int(boxes.shape[0]):
        raise ShapeMismatchError(f"box_indices must be [num_boxes] = "
                                 f"[{int(boxes.shape[0])}]; received shape "
                                 f"{tuple(box_indices.shape)}")
    _check_box_indices(box_indices, batch)
    crop_h, crop_w = crop_size
    y1, x1, y2, x2 = _array.unstack(boxes, axis=1)
    ys = _sample_positions(y1, y2, height, crop_h, dtype)          # [N, crop_h]
    xs = _sample_positions(x1, x2, width, crop_w, dtype)           # [N, crop_w]
    flat = _array.reshape(image, [batch * height * width, channels])
    row_base = _math.multiply(box_indices, height)[:, None]        # [N, 1]

    def pick(yi, xi):
        rows = _math.multiply(_math.add(row_base, yi), width)      # [N, crop_h]
        return _index.gather(flat, _math.add(rows[:, :, None], xi[:, None, :]))

    if method == "nearest":
        # TF rounds half away from zero; positions inside the image are >= 0
        out = pick(_index_of(_math.floor(_math.add(ys, 0.5)), height),
                   _index_of(_math.floor(_math.add(xs, 0.5)), width))
    else:
        top, left = _math.floor(ys), _math.floor(xs)
        y_lerp = _math.subtract(ys, top)[:, :, None, None]
        x_lerp = _math.subtract(xs, left)[:, None, :, None]
        ti, bi = _index_of(top, height), _index_of(_math.ceil(ys), height)
        li, ri = _index_of(left, width), _index_of(_math.ceil(xs), width)
        upper = _lerp(pick(ti, li), pick(ti, ri), x_lerp)
        lower = _lerp(pick(bi, li), pick(bi, ri), x_lerp)
        out = _lerp(upper, lower, y_lerp)
    inside = _logic.logical_and(_inside(ys, height)[:, :, None, None],
                                _inside(xs, width)[:, None, :, None])
    fill = _math.cast(t(extrapolation_value), dtype)
    return _logic.where(inside, out, _array.broadcast_to(fill, out.shape))


def _lerp(a, b, frac):
    return _math.add(a, _math.multiply(_math.subtract(b, a), frac))


def crop_and_resize(image, boxes, box_indices, crop_size, method="bilinear",
                    extrapolation_value=0.0, name=None):
    """Crops boxes out of a batch of images and resizes each crop to ``crop_size``.

    A box ``[y1, x1, y2, x2]`` holds normalized corners (``y * (height - 1)`` is a
    pixel row); ``y1 > y2`` flips the crop. Samples outside the image take
    ``extrapolation_value``. Differentiable w.r.t. ``image`` and ``boxes``.

    Args:
      image: ``[batch, height, width, channels]`` images of a real dtype.
      boxes: ``[num_boxes, 4]`` float boxes.
      box_indices: ``[num_boxes]`` int image index of each box, in ``[0, batch)``.
      crop_size: ``[crop_height, crop_width]`` positive ints.
      method: ``"bilinear"`` or ``"nearest"``.
      extrapolation_value: value of samples outside the image.
      name: unused.

    Returns:
      float32 ``[num_boxes, crop_height, crop_width, channels]``.
    """
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"method must be 'bilinear' or 'nearest'; received {method!r}")
    size = [int(s) for s in np.asarray(t(crop_size).numpy()).reshape(-1)]
    if len(size) != 2 or min(size) <= 0:
        raise InvalidArgumentError(f"crop_size must be two positive ints; received "
                                   f"{size}")
    image = t(image)
    if image.ndim != 4:
        raise ValueError(f"image must be 4-D [batch, height, width, channels]; received "
                         f"shape {tuple(image.shape)}")
    if not image.dtype.is_floating:
        image = _math.cast(image, dtypes.float32)
    out = _crop_and_resize(image, boxes, box_indices, size, method, extrapolation_value)
    return _math.cast(out, dtypes.float32)


# ---------------------------------------------------------------- suppression
def _iou_with(boxes, areas, i):
    """IoU of box ``i`` with every box ([N] float64; 0 where an area is empty)."""
    top = np.maximum(boxes[i, 0], boxes[:, 0])
    left = np.maximum(boxes[i, 1], boxes[:, 1])
    bottom = np.minimum(boxes[i, 2], boxes[:, 2])
    right = np.minimum(boxes[i, 3], boxes[:, 3])
    inter = np.maximum(bottom - top, 0.0) * np.maximum(right - left, 0.0)
    union = areas[i] + areas - inter
    valid = (areas[i] > 0) & (areas > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid, inter / np.where(valid, union, 1.0), 0.0)


def greedy_nms(boxes, scores, max_output_size, iou_threshold, score_threshold,
               soft_nms_sigma=0.0, canonical=True, in_order=False):
    """Greedy (soft) NMS on host arrays: ``(indices, scores)`` of the kept boxes.

    The highest remaining score is kept (the lowest index among equals), or with
    ``in_order`` the next box by index (TF's ``sorted_input`` trusts the order).
    Hard NMS drops every candidate whose IoU with the kept box is above
    ``iou_threshold``; soft NMS (``soft_nms_sigma > 0``) instead multiplies each
    candidate's score by ``exp(-iou^2 / (2 sigma))`` and, as TF's kernel, ignores
    ``iou_threshold``. Candidates at or below ``score_threshold`` leave.
    ``canonical`` orders each box's corners first; without it a box whose
    ``y1 > y2`` or ``x1 > x2`` overlaps nothing.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    corners = boxes
    if canonical:
        corners = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]),
                                  np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)
    areas = (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])
    return _greedy(lambda i: _iou_with(corners, areas, i), scores, max_output_size,
                   iou_threshold, score_threshold, soft_nms_sigma, in_order)


def _greedy(overlap_with, scores, max_output_size, threshold, score_threshold,
            soft_nms_sigma=0.0, in_order=False):
    """The greedy selection loop; ``overlap_with(i)`` gives box ``i``'s overlap with
    every box ([N] float64)."""
    current = np.asarray(scores, dtype=np.float64).reshape(-1).copy()
    alive = current > score_threshold
    kept, kept_scores = [], []
    while len(kept) < max_output_size and alive.any():
        best = int(np.argmax(alive if in_order else np.where(alive, current, -np.inf)))
        kept.append(best)
        kept_scores.append(current[best])
        alive[best] = False
        overlap = overlap_with(best)
        if soft_nms_sigma > 0:
            current = np.where(alive, current * np.exp(
                -0.5 / soft_nms_sigma * overlap * overlap), current)
            alive &= current > score_threshold
        else:
            alive &= overlap <= threshold
    return np.asarray(kept, dtype=np.int64), np.asarray(kept_scores)


def _host_scalar(d, value):
    return float(d.to_numpy(value).reshape(-1)[0])


@primitive("NonMaxSuppressionV5", n_out=3)
def _nms_p(d, boxes, scores, max_size, iou_thr, score_thr, sigma, *, pad,
           canonical=True, in_order=False):
    size = max(int(_host_scalar(d, max_size)), 0)
    kept, kept_scores = greedy_nms(d.to_numpy(boxes), d.to_numpy(scores), size,
                                   _host_scalar(d, iou_thr), _host_scalar(d, score_thr),
                                   _host_scalar(d, sigma), canonical, in_order)
    valid = len(kept)
    width = size if pad else valid
    indices = np.zeros(width, dtype=np.int32)
    indices[:valid] = kept
    out_scores = np.zeros(width, dtype=d.to_numpy(scores).dtype)
    out_scores[:valid] = kept_scores
    return (d.asarray(indices), d.asarray(out_scores),
            d.asarray(np.asarray(valid, dtype=np.int32)))


_nms_p.value_shaped = True   # the kept count depends on the values (unpadded)
_nms_p.static_shape = lambda in_dims, attrs: None if attrs["pad"] else [[None], [None], []]


def _nms_inputs(boxes, scores, max_output_size, iou_threshold, score_threshold,
                soft_nms_sigma, batched=False):
    boxes, scores = t(boxes), t(scores)
    rank = 3 if batched else 2
    if boxes.ndim != rank or int(boxes.shape[-1]) != 4:
        raise ShapeMismatchError(f"boxes must be {'[batch, ' if batched else '['}"
                                 f"num_boxes, 4]; received shape {tuple(boxes.shape)}")
    if tuple(scores.shape) != tuple(boxes.shape[:-1]):
        raise ValueError(f"scores must have shape {tuple(boxes.shape[:-1])}; received "
                         f"{tuple(scores.shape)}")
    iou = t(iou_threshold, None)
    if not _tracing_tensor(iou) and not 0.0 <= float(iou.numpy()) <= 1.0:
        raise InvalidArgumentError(f"iou_threshold must be in [0, 1]; received "
                                   f"{float(iou.numpy())}")
    fdtype = scores.dtype if scores.dtype.is_floating else dtypes.float32
    scalars = (_math.cast(t(max_output_size), dtypes.int32),
               _math.cast(iou, fdtype), _math.cast(t(score_threshold), fdtype),
               _math.cast(t(soft_nms_sigma), fdtype))
    return _math.cast(boxes, fdtype), _math.cast(scores, fdtype), scalars


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5,
                        score_threshold=float("-inf"), name=None):
    """Indices of the boxes greedy non-max suppression keeps, best score first.

    Args:
      boxes: ``[num_boxes, 4]`` boxes ``[y1, x1, y2, x2]`` (any corner order).
      scores: ``[num_boxes]`` scores.
      max_output_size: the most boxes to keep.
      iou_threshold: a box is dropped when its IoU with a kept box is above this.
      score_threshold: boxes scoring at or below this are dropped.
      name: unused.

    Returns:
      int32 ``[num_kept]`` indices into ``boxes``.
    """
    boxes, scores, scalars = _nms_inputs(boxes, scores, max_output_size, iou_threshold,
                                         score_threshold, 0.0)
    return call(_nms_p, (boxes, scores) + scalars, {"pad": False})[0]


def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0,
                                    name=None):
    """Greedy (soft, when ``soft_nms_sigma > 0``) non-max suppression.

    Soft-NMS (Bodla et al.) decays overlapping boxes' scores by
    ``exp(-iou^2 / (2 * soft_nms_sigma))`` instead of dropping them.

    Returns:
      ``(selected_indices int32 [k], selected_scores [k])``: the kept boxes and their
      (decayed) scores, in selection order.
    """
    if not _tracing_tensor(t(soft_nms_sigma)) and float(t(soft_nms_sigma).numpy()) < 0:
        raise InvalidArgumentError(f"soft_nms_sigma must be non-negative; received "
                                   f"{soft_nms_sigma}")
    boxes, scores, scalars = _nms_inputs(boxes, scores, max_output_size, iou_threshold,
                                         score_threshold, soft_nms_sigma)
    indices, kept_scores, _ = call(_nms_p, (boxes, scores) + scalars, {"pad": False})
    return indices, kept_scores


def non_max_suppression_padded(boxes, scores, max_output_size, iou_threshold=0.5,
                               score_threshold=float("-inf"),
                               pad_to_max_output_size=False, name=None,
                               sorted_input=False, canonicalized_coordinates=False,
                               tile_size=512):
    """Non-max suppression whose output can be padded with zeros to a fixed size.

    ``boxes`` may carry a leading batch axis (``[batch, num_boxes, 4]``), which needs
    ``pad_to_max_output_size=True``. As in TF, ``sorted_input=True`` takes the boxes
    in the given order (scores assumed descending), and every box's corners must
    share one orientation: without ``canonicalized_coordinates`` the very first box
    decides whether all y (x) coordinates are swapped; a box left with ``y1 > y2``
    (``x1 > x2``) overlaps nothing. ``tile_size`` is a performance hint.

    Returns:
      ``(selected_indices int32, valid_outputs int32)``: ``[max_output_size]`` (or
      ``[valid]`` unpadded) indices and the count of real ones; batched inputs give
      ``[batch, max_output_size]`` and ``[batch]``.
    """
    rank = t(boxes).ndim
    attrs = {"canonical": False, "in_order": bool(sorted_input)}
    if rank > 2:
        if not pad_to_max_output_size:
            raise ValueError(f"'pad_to_max_output_size' (value "
                             f"{pad_to_max_output_size}) must be True for batched input")
        boxes, scores, scalars = _nms_inputs(boxes, scores, max_output_size,
                                             iou_threshold, score_threshold, 0.0, True)
        if not canonicalized_coordinates:
            boxes = _orient_like_first(boxes)
        rows = [call(_nms_p, (b, s) + scalars, {"pad": True, **attrs})
                for b, s in zip(_array.unstack(boxes), _array.unstack(scores))]
        return (_array.stack([r[0] for r in rows]), _array.stack([r[2] for r in rows]))
    boxes, scores, scalars = _nms_inputs(boxes, scores, max_output_size, iou_threshold,
                                         score_threshold, 0.0)
    if not canonicalized_coordinates:
        boxes = _orient_like_first(boxes)
    indices, _, valid = call(_nms_p, (boxes, scores) + scalars,
                             {"pad": bool(pad_to_max_output_size), **attrs})
    return indices, valid


def _orient_like_first(boxes):
    """TF's padded NMS canonicalization: when the first box (of the first batch row)
    has ``y1 > y2`` every box's y coordinates swap, likewise for x."""
    flat = _array.reshape(boxes, [-1, 4])
    if flat.shape[0] == 0:
        return boxes
    first = _array.unstack(flat[0], num=4)
    flip_y = _logic.greater(first[0], first[2])
    flip_x = _logic.greater(first[1], first[3])
    y1, x1, y2, x2 = _array.unstack(boxes, num=4, axis=-1)
    return _array.stack([_logic.where(flip_y, y2, y1), _logic.where(flip_x, x2, x1),
                         _logic.where(flip_y, y1, y2), _logic.where(flip_x, x1, x2)],
                        axis=-1)


@primitive("NonMaxSuppressionWithOverlaps")
def _nms_overlaps_p(d, overlaps, scores, max_size, overlap_thr, score_thr):
    overlaps = np.asarray(d.to_numpy(overlaps), dtype=np.float64)
    kept, _ = _greedy(lambda i: overlaps[i], d.to_numpy(scores),
                      max(int(_host_scalar(d, max_size)), 0),
                      _host_scalar(d, overlap_thr), _host_scalar(d, score_thr))
    return d.asarray(kept.astype(np.int32))


def non_max_suppression_overlaps(overlaps, scores, max_output_size,
                                 overlap_threshold=0.5, score_threshold=float("-inf"),
                                 name=None):
    """Greedy non-max suppression from a precomputed overlap matrix.

    Args:
      overlaps: float ``[num_boxes, num_boxes]``; row ``i`` holds box ``i``'s overlap
        with every box (any measure: IoU, intersection over area, ...).
      scores: float ``[num_boxes]`` scores.
      max_output_size: the most boxes to keep.
      overlap_threshold: a box is dropped when its overlap with a kept box is above
        this.
      score_threshold: boxes scoring at or below this are dropped.
      name: unused.

    Returns:
      int32 ``[num_kept]`` indices, best score first.
    """
    overlaps, scores = t(overlaps), t(scores)
    n = int(scores.shape[0]) if scores.ndim == 1 else -1
    if scores.ndim != 1 or tuple(overlaps.shape) != (n, n):
        raise ValueError(f"non_max_suppression_overlaps: 'overlaps' must be [num_boxes, "
                         f"num_boxes] and 'scores' [num_boxes]; received shapes "
                         f"{tuple(overlaps.shape)} and {tuple(scores.shape)}")
    return call(_nms_overlaps_p, (
        _math.cast(overlaps, dtypes.float32), _math.cast(scores, dtypes.float32),
        _math.cast(t(max_output_size), dtypes.int32),
        _math.cast(t(overlap_threshold), dtypes.float32),
        _math.cast(t(score_threshold), dtypes.float32)))


# ---------------------------------------------------------------- combined NMS
# TF returns its op's named outputs: results read as ``.nmsed_boxes`` or unpacked
CombinedNonMaxSuppression = collections.namedtuple(
    "CombinedNonMaxSuppression",
    ["nmsed_boxes", "nmsed_scores", "nmsed_classes", "valid_detections"])


@primitive("CombinedNonMaxSuppression", n_out=4)
def _combined_nms_p(d, boxes, scores, per_class, total, iou_thr, score_thr, *,
                    pad_per_class, clip_boxes):
    boxes, scores = d.to_numpy(boxes), d.to_numpy(scores)
    per_class, total = int(_host_scalar(d, per_class)), int(_host_scalar(d, total))
    iou_thr, score_thr = _host_scalar(d, iou_thr), _host_scalar(d, score_thr)
    batch, _, n_class = scores.shape
    width = min(total, per_class * n_class) if pad_per_class else total
    out_boxes = np.zeros((batch, width, 4), dtype=np.float32)
    out_scores = np.zeros((batch, width), dtype=np.float32)
    out_classes = np.zeros((batch, width), dtype=np.float32)
    valid = np.zeros(batch, dtype=np.int32)
    for b in range(batch):
        found = []   # (score, class, box index)
        for c in range(n_class):
            class_boxes = boxes[b, :, c if boxes.shape[2] > 1 else 0]
            kept, kept_scores = greedy_nms(class_boxes, scores[b, :, c], per_class,
                                           iou_thr, score_thr)
            found += [(s, c, i) for i, s in zip(kept.tolist(), kept_scores.tolist())]
        found.sort(key=lambda item: -item[0])   # stable: class, then rank order on ties
        found = found[:width]
        valid[b] = len(found)
        for k, (s, c, i) in enumerate(found):
            out_boxes[b, k] = boxes[b, i, c if boxes.shape[2] > 1 else 0]
            out_scores[b, k], out_classes[b, k] = s, c
    if clip_boxes:
        out_boxes = np.clip(out_boxes, 0.0, 1.0)
    return tuple(d.asarray(a) for a in (out_boxes, out_scores, out_classes, valid))


def combined_non_max_suppression(boxes, scores, max_output_size_per_class,
                                 max_total_size, iou_threshold=0.5,
                                 score_threshold=float("-inf"), pad_per_class=False,
                                 clip_boxes=True, name=None):
    """Per-class greedy NMS over a batch, then the best ``max_total_size`` detections.

    Args:
      boxes: float ``[batch, num_boxes, q, 4]``; ``q`` is 1 (boxes shared by all
        classes) or ``num_classes``.
      scores: float ``[batch, num_boxes, num_classes]``.
      max_output_size_per_class: the most boxes NMS keeps per class.
      max_total_size: the most detections kept per image.
      iou_threshold: IoU above which a box is suppressed.
      score_threshold: boxes scoring at or below this are dropped.
      pad_per_class: pad the outputs to ``min(max_total_size,
        max_output_size_per_class * num_classes)`` instead of ``max_total_size``.
      clip_boxes: clip the output coordinates to ``[0, 1]``.
      name: unused.

    Returns:
      A ``CombinedNonMaxSuppression`` named tuple ``(nmsed_boxes [batch, k, 4],
      nmsed_scores [batch, k], nmsed_classes [batch, k], valid_detections int32
      [batch])``, best score first and zero padded.
    """
    boxes, scores = t(boxes), t(scores)
    if boxes.ndim != 4 or int(boxes.shape[-1]) != 4:
        raise ValueError(f"boxes must be [batch, num_boxes, q, 4]; received shape "
                         f"{tuple(boxes.shape)}")
    if scores.ndim != 3 or tuple(scores.shape[:2]) != tuple(boxes.shape[:2]):
        raise ValueError(f"scores must be [batch, num_boxes, num_classes] matching "
                         f"boxes {tuple(boxes.shape)}; received {tuple(scores.shape)}")
    q = int(boxes.shape[2])
    if q not in (1, int(scores.shape[2])):
        raise InvalidArgumentError(f"boxes' third dimension must be 1 or num_classes "
                                   f"({int(scores.shape[2])}); received {q}")
    scalars = (_math.cast(t(max_output_size_per_class), dtypes.int32),
               _math.cast(t(max_total_size), dtypes.int32),
               _math.cast(t(iou_threshold), dtypes.float32),
               _math.cast(t(score_threshold), dtypes.float32))
    return CombinedNonMaxSuppression(*call(
        _combined_nms_p, (_math.cast(boxes, dtypes.float32),
                          _math.cast(scores, dtypes.float32)) + scalars,
        {"pad_per_class": bool(pad_per_class), "clip_boxes": bool(clip_boxes)}))


# ---------------------------------------------------------------- drawing
# TF's colours for boxes drawn without a colour table (RGBA)
_DEFAULT_COLORS = np.asarray([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1],
                              [0.5, 0, 0.5, 1], [0.5, 0.5, 0, 1], [0.5, 0, 0, 1],
                              [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]])


def _outline(canvas, box, color):
    """Draws the 1-pixel outline of a normalized box into ``canvas`` [H, W, C]."""
    height, width = canvas.shape[:2]
    top, left = int(box[0] * (height - 1)), int(box[1] * (width - 1))  # truncation
    bottom, right = int(box[2] * (height - 1)), int(box[3] * (width - 1))
    if top > bottom or left > right:
        return
    if top > height - 1 or bottom < 0 or left > width - 1 or right < 0:
        return
    r0, r1 = max(top, 0), min(bottom, height - 1)
    c0, c1 = max(left, 0), min(right, width - 1)
    for row, inside in ((top, 0 <= top < height), (bottom, 0 <= bottom < height)):
        if inside:
            canvas[row, c0:c1 + 1] = color
    for col, inside in ((left, 0 <= left < width), (right, 0 <= right < width)):
        if inside:
            canvas[r0:r1 + 1, col] = color


@primitive("DrawBoundingBoxesV2")
def _draw_p(d, images, boxes, colors):
    out = d.to_numpy(images).copy()
    boxes = d.to_numpy(boxes).astype(np.float64)
    colors = d.to_numpy(colors).astype(out.dtype)
    for b in range(out.shape[0]):
        for k in range(boxes.shape[1]):
            _outline(out[b], boxes[b, k], colors[k % len(colors), :out.shape[-1]])
    return d.asarray(out)


def draw_bounding_boxes(images, boxes, colors, name=None):
    """Draws the outlines of boxes into a batch of images (not differentiable).

    Args:
      images: float32 or float16 ``[batch, height, width, depth]`` images (NumPy
        values and lists are read as float32, as TF).
      boxes: ``[batch, num_boxes, 4]`` normalized ``[y1, x1, y2, x2]`` boxes.
      colors: ``[num_colors, >= depth]`` colours, cycled over the boxes; None or
        empty for TF's default table.
      name: unused.

    Returns:
      The images with the outlines drawn, in the images' dtype.
    """
    host_input = isinstance(images, (np.ndarray, list, tuple))
    images = t(images)
    if host_input and images.dtype != dtypes.float32:
        # as TF converts host values to the op's default T (float16/64 arrays too)
        images = _math.cast(images, dtypes.float32)
    if images.ndim != 4:
        raise ShapeMismatchError(f"The rank of the images should be 4 [batch, height, "
                                 f"width, depth]; received shape {tuple(images.shape)}")
    if images.dtype not in (dtypes.float32, dtypes.float16):
        raise DTypeMismatchError(f"draw_bounding_boxes needs float32 or float16 "
                                 f"images; received {images.dtype.name}")
    if int(images.shape[-1]) not in (1, 3, 4):
        raise InvalidArgumentError(f"Channel depth should be either 1 (GRY), 3 (RGB), "
                                   f"or 4 (RGBA); received {int(images.shape[-1])}")
    boxes = _math.cast(t(boxes), dtypes.float32)
    if boxes.ndim != 3 or int(boxes.shape[-1]) != 4 or \
            int(boxes.shape[0]) != int(images.shape[0]):
        raise ValueError(f"boxes must be [batch, num_boxes, 4] with batch "
                         f"{int(images.shape[0])}; received shape {tuple(boxes.shape)}")
    if colors is None or int(np.prod(t(colors).shape)) == 0:
        colors = _DEFAULT_COLORS
    colors = _math.cast(t(colors), dtypes.float32)
    depth = int(images.shape[-1])
    if colors.ndim != 2 or int(colors.shape[1]) < depth:
        raise InvalidArgumentError(f"colors must have equal or more channels than the "
                                   f"image provided ({depth}); received shape "
                                   f"{list(colors.shape)}")
    return call(_draw_p, (images, boxes, _math.cast(colors, images.dtype)))


IMAGE_NAMES = [
    "crop_and_resize", "non_max_suppression", "non_max_suppression_with_scores",
    "non_max_suppression_padded", "combined_non_max_suppression",
    "non_max_suppression_overlaps",
    "draw_bounding_boxes",
]
