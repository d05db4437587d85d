"""dynamic_partition and dynamic_stitch: NumPy references, errors, gradients."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad


def test_dynamic_partition():
    out = tf.dynamic_partition(tf.constant([10, 20, 30, 40, 50]), [0, 0, 1, 1, 0], 2)
    np.testing.assert_array_equal(out[0].numpy(), [10, 20, 50])
    np.testing.assert_array_equal(out[1].numpy(), [30, 40])
    data = np.arange(6).reshape(3, 2)
    out = tf.dynamic_partition(data, [1, 0, 1], 3)
    np.testing.assert_array_equal(out[1].numpy(), data[[0, 2]])
    assert out[2].shape == (0, 2)
    out = tf.dynamic_partition(tf.constant([[1, 2], [3, 4]]), [[0, 1], [1, 0]], 2)
    np.testing.assert_array_equal(out[0].numpy(), [1, 4])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"partitions\[1\] = 3 is not in"):
        tf.dynamic_partition(tf.constant([1, 2]), [0, 3], 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must start with"):
        tf.dynamic_partition(tf.constant([1, 2]), [0, 1, 1], 2)


def test_dynamic_stitch():
    out = tf.dynamic_stitch([[0, 2], [1, 3]], [[10, 30], [20, 40]])
    np.testing.assert_array_equal(out.numpy(), [10, 20, 30, 40])
    out = tf.dynamic_stitch([[0, 1], [1, 2]], [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(out.numpy(), [1, 3, 4])       # the last write wins
    out = tf.dynamic_stitch([tf.constant(1), [0, 2]], [[1.0, 2.0], [[3.0, 4.0], [5.0, 6.0]]])
    np.testing.assert_array_equal(out.numpy(), [[3, 4], [1, 2], [5, 6]])
    np.testing.assert_array_equal(tf.dynamic_stitch([[0, 3]], [[1.0, 2.0]]).numpy(),
                                  [1, 0, 0, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not start with"):
        tf.dynamic_stitch([[0, 1]], [[1.0, 2.0, 3.0]])


def test_partition_then_stitch_round_trip():
    data = np.random.default_rng(0).standard_normal((5, 3))
    parts = [0, 2, 1, 0, 2]

    def fn(x):
        pieces = tf.dynamic_partition(x, parts, 3)
        where = tf.dynamic_partition(tf.range(5), parts, 3)
        return tf.dynamic_stitch(where, [p * (k + 1.0) for k, p in enumerate(pieces)])
    out = fn(tf.constant(data)).numpy()
    np.testing.assert_allclose(out, data * (np.array(parts)[:, None] + 1))
    check_grad(fn, [data])
    check_function_matches_eager(fn, [data])


def test_gradients():
    data = np.random.default_rng(1).standard_normal((4, 2))
    check_grad(lambda x: tf.dynamic_partition(x, [1, 0, 1, 1], 2), [data])
    # overwritten values get no gradient
    check_grad(lambda a, b: tf.dynamic_stitch([[0, 1], [1, 2]], [a, b]),
               [np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    check_grad(lambda a: tf.dynamic_stitch([[[0, 2]], [1]], [a[None], a[0:1]]),
               [np.array([[1.0, 2.0], [3.0, 4.0]])])
