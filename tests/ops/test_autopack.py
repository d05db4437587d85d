"""A Python list holding tensors converts with a stack op (TF's auto-packing): the
gradient reaches every element and a traced function keeps the list's values live."""

import numpy as np
import pytest

import dlframe as tf


def test_gradient_through_a_packed_list():
    v = tf.Variable([1.0, 2.0])
    w = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum([tf.reduce_mean(v), tf.reduce_sum(v * v), w, 1.0])
    gv, gw = tape.gradient(total, [v, w])
    np.testing.assert_allclose(gv.numpy(), 0.5 + 2 * np.array([1.0, 2.0]))
    assert float(gw) == 1.0
    assert float(total) == pytest.approx(1.5 + 5.0 + 3.0 + 1.0)


def test_packed_list_in_a_function_equals_eager():
    def f(x):
        return tf.reduce_sum([tf.reduce_mean(x), x[0], 2.0]), tf.convert_to_tensor(
            [[x[0], x[1]], [x[1], 1.0]])

    x = tf.constant([1.0, 3.0])
    compiled = tf.function(f)
    for a, b in zip(f(x), compiled(x)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    s, m = compiled(tf.constant([5.0, 7.0]))   # the same trace, new values
    assert float(s) == 6.0 + 5.0 + 2.0
    np.testing.assert_array_equal(m.numpy(), [[5.0, 7.0], [7.0, 1.0]])


def test_packed_dtypes():
    packed = tf.convert_to_tensor([tf.constant(1), 2])
    assert packed.dtype == tf.int32 and packed.numpy().tolist() == [1, 2]
    assert tf.convert_to_tensor([tf.constant(1.0), 2], dtype=tf.float32).dtype == \
        tf.float32
    with pytest.raises((TypeError, ValueError)):
        tf.convert_to_tensor([tf.constant(1.0), tf.constant(1)])
