"""tf.image box ops: crop_and_resize, the NMS family, draw_bounding_boxes.

Expected values marked "TF 2.21" were recorded from TensorFlow 2.21 on the same inputs.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import image_boxes as ib
from tests.helpers import check_function_matches_eager, check_grad

IMG = (np.arange(2 * 5 * 6 * 2, dtype=np.float32).reshape(2, 5, 6, 2) * 7) % 23
BOXES = np.array([[0.1, 0.2, 0.8, 0.9], [-0.2, 0.0, 0.5, 1.3], [0.9, 0.7, 0.2, 0.1],
                  [0.3, 0.3, 0.3, 0.3]], np.float32)
BOX_IND = np.array([0, 1, 1, 0], np.int32)


# ---------------------------------------------------------------- crop_and_resize
def _crop_ref(image, boxes, box_ind, size, method, extrapolation):
    """Per-sample NumPy reference of TF's corner-aligned crop_and_resize (positions
    in float32 as TF computes them: nearest rounding of x.5 depends on it)."""
    _, height, width, channels = image.shape
    out = np.zeros((len(boxes), size[0], size[1], channels))
    f = np.float32

    def pos(lo, hi, k, n_in, n_out):
        if n_out == 1:
            return f(0.5) * (lo + hi) * f(n_in - 1)
        return lo * f(n_in - 1) + f(k) * ((hi - lo) * f(n_in - 1) / f(n_out - 1))

    for n, (y1, x1, y2, x2) in enumerate(boxes.astype(np.float32)):
        for i in range(size[0]):
            y = float(pos(y1, y2, i, height, size[0]))
            for j in range(size[1]):
                x = float(pos(x1, x2, j, width, size[1]))
                if not (0 <= y <= height - 1 and 0 <= x <= width - 1):
                    out[n, i, j] = extrapolation
                    continue
                img = image[box_ind[n]]
                if method == "nearest":
                    out[n, i, j] = img[int(np.floor(y + 0.5)), int(np.floor(x + 0.5))]
                    continue
                t, b = int(np.floor(y)), int(np.ceil(y))
                lft, r = int(np.floor(x)), int(np.ceil(x))
                fy, fx = y - t, x - lft
                top = img[t, lft] + (img[t, r] - img[t, lft]) * fx
                bottom = img[b, lft] + (img[b, r] - img[b, lft]) * fx
                out[n, i, j] = top + (bottom - top) * fy
    return out


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(3, 4), (1, 1), (4, 1)])
def test_crop_and_resize_matches_reference(method, size):
    got = tf.image.crop_and_resize(IMG, BOXES, BOX_IND, size, method=method,
                                   extrapolation_value=-1.5)
    assert got.dtype == tf.float32 and tuple(got.shape) == (4,) + size + (2,)
    want = _crop_ref(IMG, BOXES, BOX_IND, size, method, -1.5)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-4)


def test_crop_and_resize_tf_values():
    # TF 2.21: first crop values and the total of crop_and_resize(IMG, ..., [3, 4])
    out = tf.image.crop_and_resize(IMG, BOXES, BOX_IND, [3, 4]).numpy()
    np.testing.assert_allclose(out[0, 0].ravel(), [10.8, 17.8, 11.8, 8.83333, 12.8,
                                                   10.6, 6.9, 9.3], rtol=1e-5)
    np.testing.assert_allclose(out.sum(), 918.5333251953125, rtol=1e-6)
    near = tf.image.crop_and_resize(IMG, BOXES, BOX_IND, [3, 4], "nearest").numpy()
    np.testing.assert_array_equal(near[0, 0].ravel(), [14, 21, 5, 12, 19, 3, 1, 8])
    assert tf.image.crop_and_resize(IMG.astype(np.uint8), BOXES, BOX_IND,
                                    [2, 2]).dtype == tf.float32


def test_crop_and_resize_gradients():
    # TF 2.21 gradient w.r.t. the boxes of sum(crop * cos(arange))
    w = np.cos(np.arange(4 * 3 * 4 * 2)).reshape(4, 3, 4, 2).astype(np.float32)
    x, bx = tf.constant(IMG), tf.constant(BOXES)
    with tf.GradientTape() as tape:
        tape.watch([x, bx])
        loss = tf.reduce_sum(tf.image.crop_and_resize(x, bx, BOX_IND, [3, 4]) * w)
    _, g_boxes = tape.gradient(loss, [x, bx])
    np.testing.assert_allclose(g_boxes.numpy()[1], [58.081, 86.2571, 58.081, 95.3565],
                               rtol=1e-4)
    # float64 finite differences (boxes chosen so no sample sits on a pixel edge)
    image = np.random.default_rng(0).standard_normal((2, 5, 6, 2))
    boxes = np.array([[0.13, 0.21, 0.77, 0.88], [0.91, 0.72, 0.18, 0.07]])

    def crop(img, bxs):
        return ib._crop_and_resize(img, bxs, [0, 1], [3, 4], "bilinear", 0.0)

    check_grad(crop, [image, boxes], rtol=1e-5, atol=1e-6)
    check_function_matches_eager(crop, [image, boxes])


def test_crop_and_resize_errors():
    with pytest.raises(ValueError, match="method"):
        tf.image.crop_and_resize(IMG, BOXES, BOX_IND, [2, 2], method="bicubic")
    with pytest.raises(tf.errors.OutOfRangeError, match="box_indices"):
        tf.image.crop_and_resize(IMG, BOXES, [0, 2, 1, 0], [2, 2])
    with pytest.raises(ValueError, match="boxes"):
        tf.image.crop_and_resize(IMG, BOXES[:, :3], BOX_IND, [2, 2])


# ---------------------------------------------------------------- NMS
def _nms_case():
    rng = np.random.default_rng(3)
    centre, size = rng.uniform(0, 1, (12, 2)), rng.uniform(0.1, 0.4, (12, 2))
    boxes = np.concatenate([centre - size / 2, centre + size / 2], 1).astype(np.float32)
    boxes[3] = boxes[3][[2, 3, 0, 1]]     # flipped corners
    scores = rng.uniform(0, 1, 12).astype(np.float32)
    scores[5] = scores[7]                 # a tie
    return boxes, scores


def _nms_ref(boxes, scores, max_out, iou_thr, score_thr):
    """Textbook greedy NMS: sort by score, drop boxes overlapping a kept one."""
    b = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]),
                        np.maximum(boxes[:, :2], boxes[:, 2:])], 1).astype(np.float64)
    order = sorted(range(len(b)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if scores[i] <= score_thr or len(kept) == max_out:
            continue
        ok = True
        for k in kept:
            inter = (max(0, min(b[i, 2], b[k, 2]) - max(b[i, 0], b[k, 0])) *
                     max(0, min(b[i, 3], b[k, 3]) - max(b[i, 1], b[k, 1])))
            area = lambda j: (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1])
            if inter / (area(i) + area(k) - inter) > iou_thr:
                ok = False
                break
        if ok:
            kept.append(i)
    return kept


@pytest.mark.parametrize("max_out,iou,score,want", [
    # TF 2.21
    (10, 0.3, float("-inf"), [6, 0, 4, 10, 8, 2, 9, 1, 7, 11]),
    (10, 0.3, 0.4, [6, 0, 4, 10, 8, 2]),
    (3, 0.5, float("-inf"), [6, 0, 4]),
    (12, 0.6, float("-inf"), None),
])
def test_non_max_suppression(max_out, iou, score, want):
    boxes, scores = _nms_case()
    got = tf.image.non_max_suppression(boxes, scores, max_out, iou, score)
    assert got.dtype == tf.int32
    ref = _nms_ref(boxes, scores, max_out, iou, score)
    assert got.numpy().tolist() == ref
    if want is not None:
        assert ref == want


def test_non_max_suppression_edge_cases():
    disjoint = np.array([[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]], np.float32)
    # TF 2.21: equal scores keep index order; IoU == threshold is kept; score ==
    # threshold is dropped
    assert tf.image.non_max_suppression(disjoint, [0.5, 0.5, 0.5], 3).numpy().tolist() \
        == [0, 1, 2]
    assert tf.image.non_max_suppression([[0, 0, 1, 1], [0, 0, 1, 2]], [0.9, 0.8], 3,
                                        iou_threshold=0.5).numpy().tolist() == [0, 1]
    assert tf.image.non_max_suppression(disjoint, [0.5, 0.4, 0.3], 3,
                                        score_threshold=0.4).numpy().tolist() == [0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="iou_threshold"):
        tf.image.non_max_suppression(disjoint, [0.5, 0.4, 0.3], 3, iou_threshold=1.5)
    with pytest.raises(ValueError, match="scores"):
        tf.image.non_max_suppression(disjoint, [0.5, 0.4], 3)


def test_non_max_suppression_in_function_reads_thresholds_at_run_time():
    boxes, scores = _nms_case()
    fn = tf.function(lambda b, s, thr: tf.image.non_max_suppression(b, s, 10, thr))
    for thr in (0.3, 0.6):
        got = fn(tf.constant(boxes), tf.constant(scores), tf.constant(thr))
        assert got.numpy().tolist() == _nms_ref(boxes, scores, 10, thr, -np.inf)


def test_soft_nms_matches_tf():
    boxes, scores = _nms_case()
    # TF 2.21 (soft NMS ignores iou_threshold: 0.4 and 1.0 give the same decay)
    want_idx = [6, 0, 4, 10, 8, 2, 1, 9, 7, 5]
    want_scores = {0.5: [0.871139, 0.849768, 0.698426, 0.612909, 0.533656, 0.475885,
                         0.393927, 0.367906, 0.275374, 0.221955],
                   0.3: [0.871139, 0.849768, 0.698426, 0.612909, 0.515674, 0.473370,
                         0.393927, 0.348154, 0.275374, 0.192232]}
    for sigma, iou in ((0.5, 1.0), (0.3, 0.4)):
        idx, sc = tf.image.non_max_suppression_with_scores(
            boxes, scores, 10, iou_threshold=iou, score_threshold=0.1 if iou == 1 else
            float("-inf"), soft_nms_sigma=sigma)
        assert idx.numpy().tolist() == want_idx
        np.testing.assert_allclose(sc.numpy(), want_scores[sigma], atol=2e-6)
    idx, sc = tf.image.non_max_suppression_with_scores(boxes, scores, 12, 0.3)
    assert idx.numpy().tolist() == _nms_ref(boxes, scores, 12, 0.3, -np.inf)
    np.testing.assert_array_equal(sc.numpy(), scores[idx.numpy()])
    with pytest.raises(tf.errors.InvalidArgumentError, match="soft_nms_sigma"):
        tf.image.non_max_suppression_with_scores(boxes, scores, 3, soft_nms_sigma=-1.0)


def test_non_max_suppression_padded():
    boxes, scores = _nms_case()
    idx, valid = tf.image.non_max_suppression_padded(
        boxes, scores, 10, 0.3, score_threshold=0.4, pad_to_max_output_size=True)
    # TF 2.21
    assert idx.numpy().tolist() == [6, 0, 4, 10, 8, 2, 0, 0, 0, 0]
    assert int(valid) == 6 and valid.dtype == tf.int32
    idx, valid = tf.image.non_max_suppression_padded(boxes, scores, 10, 0.3,
                                                     score_threshold=0.4)
    assert idx.numpy().tolist() == [6, 0, 4, 10, 8, 2] and int(valid) == 6
    flipped = boxes[::-1].copy()
    idx, valid = tf.image.non_max_suppression_padded(
        np.stack([boxes, flipped]), np.stack([scores, scores[::-1]]), 6, 0.3,
        score_threshold=0.2, pad_to_max_output_size=True)
    first = _nms_ref(boxes, scores, 6, 0.3, 0.2)
    second = _nms_ref(flipped, scores[::-1], 6, 0.3, 0.2)
    assert idx.numpy().tolist() == [first + [0] * (6 - len(first)),
                                    second + [0] * (6 - len(second))]
    assert valid.numpy().tolist() == [len(first), len(second)]
    with pytest.raises(ValueError, match="pad_to_max_output_size"):
        tf.image.non_max_suppression_padded(np.stack([boxes]), np.stack([scores]), 6)


# ---------------------------------------------------------------- combined NMS
def _combined_case():
    rng = np.random.default_rng(5)

    def make(n):
        centre, size = rng.uniform(0, 1, (n, 2)), rng.uniform(0.1, 0.5, (n, 2))
        return np.concatenate([centre - size / 2, centre + size / 2], 1)

    boxes = np.stack([make(6) for _ in range(2)])[:, :, None, :].astype(np.float32)
    scores = rng.uniform(0, 1, (2, 6, 3)).astype(np.float32)
    per_class = np.stack([np.stack([make(6) for _ in range(3)], 1)
                          for _ in range(2)]).astype(np.float32)
    return boxes, scores, per_class


def test_combined_non_max_suppression_matches_tf():
    boxes, scores, per_class = _combined_case()
    out = tf.image.combined_non_max_suppression(boxes, scores, 3, 5, iou_threshold=0.4)
    assert [o.dtype for o in out] == [tf.float32, tf.float32, tf.float32, tf.int32]
    nmsed_boxes, nmsed_scores, classes, valid = (o.numpy() for o in out)
    # TF 2.21
    np.testing.assert_allclose(nmsed_scores, [
        [0.951023, 0.936442, 0.933224, 0.844927, 0.741422],
        [0.991677, 0.941001, 0.847624, 0.808844, 0.798523]], atol=1e-6)
    np.testing.assert_array_equal(classes, [[2, 1, 1, 0, 1], [1, 0, 0, 0, 2]])
    np.testing.assert_array_equal(valid, [5, 5])
    np.testing.assert_allclose(nmsed_boxes[0, 1], [0.0, 0.234764, 0.182412, 0.531974],
                               atol=1e-6)   # clipped from y1 = -0.0746
    unclipped = tf.image.combined_non_max_suppression(boxes, scores, 3, 5, 0.4,
                                                      clip_boxes=False)[0].numpy()
    np.testing.assert_allclose(unclipped[0, 1, 0], -0.07455, atol=1e-5)
    out = tf.image.combined_non_max_suppression(per_class, scores, 2, 4, 0.3, 0.1)
    # TF 2.21 (one box per class: q == num_classes)
    np.testing.assert_allclose(out[1].numpy(), [[0.951023, 0.936442, 0.933224, 0.844927],
                                                [0.991677, 0.941001, 0.847624, 0.798523]],
                               atol=1e-6)
    np.testing.assert_allclose(out[0].numpy()[0, 2], [0.642625, 0.161237, 1.0, 0.396156],
                               atol=1e-6)


def test_combined_non_max_suppression_padding_and_threshold():
    boxes, scores, _ = _combined_case()
    shapes = [tuple(o.shape) for o in tf.image.combined_non_max_suppression(
        boxes, scores, 2, 20, 0.3, pad_per_class=True)]
    assert shapes == [(2, 6, 4), (2, 6), (2, 6), (2,)]        # min(20, 2 * 3)
    out = tf.image.combined_non_max_suppression(boxes, scores, 2, 20, 0.3, 0.9)
    assert tuple(out[0].shape) == (2, 20, 4)
    valid = out[3].numpy()
    np.testing.assert_array_equal(valid, (scores > 0.9).sum(axis=(1, 2)))
    assert (out[1].numpy()[0, valid[0]:] == 0).all()
    fn = tf.function(lambda b, s: tf.image.combined_non_max_suppression(b, s, 2, 4))
    for got, want in zip(fn(tf.constant(boxes), tf.constant(scores)),
                         tf.image.combined_non_max_suppression(boxes, scores, 2, 4)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


# ---------------------------------------------------------------- drawing
def test_draw_bounding_boxes_matches_tf():
    boxes = np.array([[[0.1, 0.2, 0.7, 0.8], [0.5, -0.2, 1.3, 0.5]],
                      [[0.0, 0.0, 1.0, 1.0], [1.2, 1.2, 1.5, 1.5]]], np.float32)
    colors = np.array([[1, 0, 0], [0, 0.5, 1]], np.float32)
    out = tf.image.draw_bounding_boxes(np.zeros((2, 6, 7, 3), np.float32), boxes,
                                       colors).numpy()
    # TF 2.21: the second box overwrites the first where they cross; edges outside
    # the image are not drawn; a box entirely outside is skipped
    np.testing.assert_array_equal(out[0, :, :, 0], [
        [0, 1, 1, 1, 1, 0, 0], [0, 1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, 0, 0],
        [0, 1, 1, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(out[0, :, :, 2], [
        [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0]])
    frame = np.ones((6, 7))
    frame[1:-1, 1:-1] = 0
    np.testing.assert_array_equal(out[1, :, :, 0], frame)
    assert out[1, :, :, 1:].sum() == 0
    # TF 2.21: colours are cycled; extra colour channels are ignored; negative
    # coordinates truncate toward zero
    one = tf.image.draw_bounding_boxes(np.zeros((1, 5, 5, 1), np.float32), boxes[:1],
                                       [[7.0, 2.0, 3.0, 4.0]]).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(one, [[7, 7, 7, 7, 0], [7, 0, 0, 7, 0],
                                        [7, 7, 7, 7, 0], [7, 0, 7, 0, 0],
                                        [7, 0, 7, 0, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="channels"):
        tf.image.draw_bounding_boxes(np.zeros((1, 5, 5, 4), np.float32), boxes[:1],
                                     [[7.0, 2.0]])
