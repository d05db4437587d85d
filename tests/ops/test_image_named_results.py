"""tf.image ops whose TF results are named tuples of the op's outputs."""

import numpy as np

import dlframe as tf

BOXES = np.array([[[[0.0, 0.0, 1.0, 1.0]], [[0.0, 0.1, 1.0, 1.1]],
                   [[0.0, -0.1, 1.0, 0.9]], [[0.0, 10.0, 1.0, 11.0]]]], np.float32)
SCORES = np.array([[[0.9, 0.1], [0.75, 0.8], [0.6, 0.3], [0.95, 0.5]]], np.float32)


def _check_nms_result(result):
    assert type(result).__name__ == "CombinedNonMaxSuppression"
    assert result._fields == ("nmsed_boxes", "nmsed_scores", "nmsed_classes",
                              "valid_detections")
    boxes, scores, classes, valid = result   # still unpacks as a 4-tuple
    assert result.nmsed_boxes is boxes and result.valid_detections is valid
    # per class NMS (IoU 0.5) keeps boxes 3, 0 of class 0 and 1, 3 of class 1
    np.testing.assert_allclose(scores.numpy(), [[0.95, 0.9, 0.8]])
    np.testing.assert_array_equal(classes.numpy(), [[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(boxes.numpy()[0, 1], [0.0, 0.0, 1.0, 1.0])
    assert valid.numpy().tolist() == [3] and valid.dtype == tf.int32


def test_combined_nms_is_a_named_tuple_eager_and_traced():
    _check_nms_result(tf.image.combined_non_max_suppression(BOXES, SCORES, 2, 3))
    fn = tf.function(lambda b, s: tf.image.combined_non_max_suppression(b, s, 2, 3))
    _check_nms_result(fn(tf.constant(BOXES), tf.constant(SCORES)))


def test_sample_distorted_bounding_box_results_are_named():
    image_size = tf.constant([40, 30, 3])
    boxes = tf.constant([[[0.1, 0.2, 0.6, 0.9]]])
    stateful = tf.image.sample_distorted_bounding_box(image_size, boxes, seed=3,
                                                      min_object_covered=0.2)
    stateless = tf.image.stateless_sample_distorted_bounding_box(
        image_size, boxes, seed=[1, 2], min_object_covered=0.2)
    for result, name in ((stateful, "SampleDistortedBoundingBoxV2"),
                         (stateless, "StatelessSampleDistortedBoundingBox")):
        assert type(result).__name__ == name
        assert result._fields == ("begin", "size", "bboxes")
        begin, _size, bboxes = result
        assert result.begin is begin and result.bboxes is bboxes
        crop = tf.slice(tf.zeros([40, 30, 3]), result.begin, result.size)
        assert crop.shape[2] == 3 and bboxes.shape == (1, 1, 4)
    traced = tf.function(lambda: tf.image.stateless_sample_distorted_bounding_box(
        image_size, boxes, seed=[1, 2], min_object_covered=0.2))()
    assert type(traced).__name__ == "StatelessSampleDistortedBoundingBox"
    np.testing.assert_array_equal(traced.begin.numpy(), stateless.begin.numpy())


def test_other_tuple_results_stay_plain_tuples():
    # as in TF 2.21: these return ordinary tuples
    boxes = tf.constant(BOXES[0, :, 0])
    scores = tf.constant(SCORES[0, :, 0])
    assert type(tf.image.non_max_suppression_with_scores(boxes, scores, 3)) is tuple
    assert type(tf.image.non_max_suppression_padded(boxes, scores, 3)) is tuple
