"""control_dependencies, group, no_op, init_scope, identity_n, get_static_value and
timestamp, eagerly and inside dlframe.function."""

import time

import numpy as np

import dlframe as tf


def test_control_dependencies_keep_program_order_in_graphs():
    v = tf.Variable(1.0)

    @tf.function
    def fn(x):
        update = v.assign_add(x)
        with tf.control_dependencies([update]):
            out = tf.identity(v.read_value() * 2.0)
        with tf.control_dependencies(None):
            pass
        return out
    assert fn(tf.constant(2.0)).numpy() == 6.0
    assert fn(tf.constant(2.0)).numpy() == 10.0
    with tf.control_dependencies([tf.constant(1.0)]) as scope:
        assert scope is None


def test_group_and_no_op():
    v = tf.Variable(0.0)

    @tf.function
    def fn():
        op = tf.group(v.assign_add(1.0), v.assign_add(2.0), tf.no_op())
        return op
    assert fn() is None and v.numpy() == 3.0
    fn()
    assert v.numpy() == 6.0       # the grouped effects run at every call
    assert tf.group() is None and tf.no_op() is None


def test_init_scope_lifts_out_of_the_trace():
    seen = []

    @tf.function
    def fn(x):
        with tf.init_scope():
            seen.append(tf.executing_eagerly())
            scale = tf.constant(3.0) * 2.0
        seen.append(tf.executing_eagerly())
        return x * scale
    assert fn(tf.constant(1.0)).numpy() == 6.0
    assert seen == [True, False]
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        with tf.init_scope():
            y = x * x          # not recorded: init_scope pauses tapes
        z = x * 3.0
    assert tape.gradient([y, z], x).numpy() == 3.0


def test_identity_n():
    x = tf.constant([1.0, 2.0])
    out = tf.identity_n([x, 3])
    assert isinstance(out, list) and out[1].dtype == tf.int32
    with tf.GradientTape() as tape:
        tape.watch(x)
        a, b = tf.identity_n([x, x * 2.0])
        y = tf.reduce_sum(a + b)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [3, 3])


def test_get_static_value():
    x = tf.constant([1.0, 2.0])
    np.testing.assert_array_equal(tf.get_static_value(x), [1, 2])
    assert tf.get_static_value([1, 2]) == [1, 2] and tf.get_static_value(3) == 3
    assert tf.get_static_value(tf.Variable(1.0)) is None
    assert tf.get_static_value(None) is None
    seen = {}

    @tf.function
    def fn(a):
        seen["input"] = tf.get_static_value(a)
        seen["shape"] = tf.get_static_value(tf.shape(a))
        seen["derived"] = tf.get_static_value(a + 1.0)
        return a
    fn(x)
    assert seen["input"] is None and seen["derived"] is None
    np.testing.assert_array_equal(seen["shape"], [2])


def test_timestamp_runs_each_call():
    before = time.time()
    stamp = tf.timestamp()
    assert stamp.dtype == tf.float64 and before <= stamp.numpy() <= time.time()

    @tf.function
    def fn():
        return tf.timestamp()
    first = fn().numpy()
    time.sleep(0.01)
    assert fn().numpy() > first
