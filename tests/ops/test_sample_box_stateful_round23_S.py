"""Seeded ``tf.image.sample_distorted_bounding_box`` (stateful) gives TF 2.21's crops.

Expected values were printed by TensorFlow 2.21 for the same calls.
"""

import pytest

import dlframe as tf


@pytest.fixture(autouse=True)
def _no_global_seed():
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


def _crop(**kw):
    boxes = tf.constant([[[0.1, 0.2, 0.6, 0.7]]])
    begin, size, _ = tf.image.sample_distorted_bounding_box(
        [100, 120, 3], boxes, min_object_covered=0.3, **kw)
    return begin.numpy().tolist() + size.numpy().tolist()


def test_op_seed_sequence_matches_tf():
    assert _crop(seed=7) == [13, 40, 0, 56, 58, -1]
    assert _crop(seed=7) == [10, 3, 0, 86, 114, -1]     # counter + 100 blocks
    assert _crop(seed=7) == [8, 9, 0, 78, 98, -1]


def test_counter_advances_by_max_attempts_per_call():
    assert _crop(seed=7, max_attempts=10) == [13, 40, 0, 56, 58, -1]
    assert _crop(seed=7, max_attempts=10) == [9, 45, 0, 50, 62, -1]


def test_global_seed_with_op_seed_matches_tf_and_restarts():
    tf.random.set_seed(3)
    first = [_crop(seed=5), _crop(seed=5)]
    assert first == [[1, 19, 0, 95, 93, -1], [17, 26, 0, 65, 75, -1]]
    # other attributes: a kernel of its own, with its own counter
    assert _crop(seed=5, max_attempts=20) == [1, 19, 0, 95, 93, -1]
    assert _crop(seed=5, max_attempts=20) == [21, 5, 0, 52, 60, -1]
    assert _crop(seed=5) == [7, 3, 0, 88, 112, -1]
    tf.random.set_seed(3)
    assert _crop(seed=5) == [1, 19, 0, 95, 93, -1]


def test_unseeded_crops_stay_inside_the_image():
    for _ in range(5):
        y, x, _, h, w, _ = _crop()
        assert 0 <= y and 0 <= x and y + h <= 100 and x + w <= 120 and h > 0 and w > 0
