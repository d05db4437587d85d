"""broadcast_static_shape, broadcast_dynamic_shape, bitcast, histogram_fixed_width."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager


def test_broadcast_static_shape():
    assert tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3])) == \
        tf.TensorShape([2, 3])
    assert tf.broadcast_static_shape(tf.TensorShape([None, 1]),
                                     tf.TensorShape([3])).as_list() == [None, 3]
    assert tf.broadcast_static_shape(tf.TensorShape(None), tf.TensorShape([3])).rank is None
    with pytest.raises(ValueError, match=r"Received: \(2, 3\) and \(4,\)"):
        tf.broadcast_static_shape(tf.TensorShape([2, 3]), tf.TensorShape([4]))


def test_broadcast_dynamic_shape():
    out = tf.broadcast_dynamic_shape([2, 1], [3])
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 3])
    out = tf.broadcast_dynamic_shape(tf.constant([5, 1, 4], tf.int64), tf.constant([3, 1], tf.int64))
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), [5, 3, 4])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2,3\]"):
        tf.broadcast_dynamic_shape([2, 3], [4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="int64 tensor but is a int32"):
        tf.broadcast_dynamic_shape(tf.constant([2], tf.int64), tf.constant([2], tf.int32))


def test_bitcast_matches_numpy_views():
    f = np.array([1.0, 2.0], np.float32)
    np.testing.assert_array_equal(tf.bitcast(tf.constant(f), tf.int32).numpy(), f.view(np.int32))
    down = tf.bitcast(tf.constant(f), tf.uint8)
    assert down.shape == (2, 4)
    np.testing.assert_array_equal(down.numpy(), f.view(np.uint8).reshape(2, 4))
    up = tf.bitcast(down, tf.float32)
    np.testing.assert_array_equal(up.numpy(), f)
    assert tf.bitcast(tf.constant(1.0, tf.float64), tf.int64).shape == ()
    assert tf.bitcast(tf.constant(1.0), tf.uint8).shape == (4,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="last dimension must be 4"):
        tf.bitcast(tf.constant([1, 2, 3], tf.uint8), tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="bool is not in the list"):
        tf.bitcast(tf.constant([True]), tf.uint8)
    check_function_matches_eager(lambda x: tf.bitcast(x, tf.uint16), [f])


def test_histogram_fixed_width():
    values = np.array([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0], np.float32)
    out = tf.histogram_fixed_width(values, [0.0, 5.0], nbins=5)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 1, 1, 0, 2])
    np.testing.assert_array_equal(
        tf.histogram_fixed_width_bins(values, [0.0, 5.0], nbins=5).numpy(), [0, 0, 1, 2, 4, 4])
    rng = np.random.default_rng(0).uniform(0, 1, 1000)
    expect, _ = np.histogram(rng, bins=10, range=(0, 1))
    np.testing.assert_array_equal(
        tf.histogram_fixed_width(rng, [0.0, 1.0], nbins=10, dtype=tf.int64).numpy(), expect)
    np.testing.assert_array_equal(
        tf.histogram_fixed_width(tf.constant([1, 2, 3]), [0, 4], nbins=2).numpy(), [1, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="value_range"):
        tf.histogram_fixed_width(values, [5.0, 0.0], nbins=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="nbins should be a positive"):
        tf.histogram_fixed_width(values, [0.0, 5.0], nbins=0)
    check_function_matches_eager(lambda v: tf.histogram_fixed_width(v, [0.0, 5.0], 5),
                                 [values])
