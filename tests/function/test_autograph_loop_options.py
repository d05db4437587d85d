"""tf.autograph.experimental.set_loop_options in converted loops, and lists holding
traced tensors (``[i]``) packed by a stack op as TF's auto-packing."""

import numpy as np
import pytest

import dlframe as tf


def test_growing_loop_variable_needs_invariants_and_set_loop_options_gives_them():
    @tf.function
    def without(n):
        i = tf.constant(0)
        out = tf.zeros([0], tf.int32)
        while i < n:
            out = tf.concat([out, [i]], 0)
            i += 1
        return out

    with pytest.raises(ValueError, match="set_loop_options"):
        without(tf.constant(3))

    @tf.function
    def grow(n):
        i = tf.constant(0)
        out = tf.zeros([0], tf.int32)
        while i < n:
            tf.autograph.experimental.set_loop_options(
                shape_invariants=[(out, tf.TensorShape([None]))])
            out = tf.concat([out, [i * i]], 0)
            i += 1
        return out

    np.testing.assert_array_equal(grow(tf.constant(4)).numpy(), [0, 1, 4, 9])
    np.testing.assert_array_equal(grow(tf.constant(2)).numpy(), [0, 1])
    tf.autograph.experimental.set_loop_options(maximum_iterations=2)   # eager: no-op


def test_set_loop_options_maximum_iterations_caps_a_traced_loop():
    @tf.function
    def count(n):
        i = tf.constant(0)
        for _ in tf.range(n):
            tf.autograph.experimental.set_loop_options(maximum_iterations=3)
            i += 1
        return i

    assert int(count(tf.constant(10))) == 3
    assert int(count(tf.constant(2))) == 2


def test_list_holding_tensors_in_binary_ops_is_packed_with_gradients():
    v = tf.Variable(2.0)
    w = tf.Variable([1.0, 1.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.concat([w, [v * 3]], 0) * 2)
    gv, gw = tape.gradient(y, [v, w])
    assert float(gv) == 6.0
    np.testing.assert_array_equal(gw.numpy(), [2.0, 2.0])
    out = tf.constant([1.0, 2.0]) + [tf.constant(1.0), 2.0]
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0])
