"""Review of round 20's trace static shapes: a Variable(shape=[None]) given another
length inside a dlframe.function gets a new buffer (tensors and views made from the
old one keep reading it), in the function's own graph and in branch/loop graphs."""

import numpy as np
import pytest

import dlframe as tf


def _fresh():
    return tf.Variable([1.0, 2.0], shape=tf.TensorShape([None]))


@tf.function
def _grow(v):
    v.assign(tf.range(4096, dtype=tf.float32) + 100.0)
    return tf.shape(v)


@pytest.mark.parametrize("make", [
    lambda v: tf.split(v, 2)[0],                           # a view of the buffer
    lambda v: tf.reshape(tf.stop_gradient(v), [2, 1]),     # a view of the buffer
    lambda v: tf.stop_gradient(v),                         # the buffer itself
    lambda v: tf.unstack(v)[0],
    lambda v: next(iter(tf.data.Dataset.from_tensors(v))),
], ids=["split", "stop_gradient_reshape", "stop_gradient", "unstack", "from_tensors"])
def test_tensors_made_before_a_traced_resize_keep_the_old_values(make):
    v = _fresh()
    before = make(v)
    _grow(v)
    # reuse freed memory: a stale view would now read these numbers
    junk = [np.full(2, 7e7, np.float32) for _ in range(2000)]
    assert np.asarray(before).ravel()[0] == 1.0   # TF 2.21: the value at the read
    assert v.shape.as_list() == [None] and v.numpy().shape == (4096,)
    del junk


def test_views_made_in_the_graph_before_the_resize_keep_the_old_values():
    v = _fresh()

    @tf.function
    def f(n):
        head = tf.reshape(v, [-1, 1])
        v.assign(tf.range(n, dtype=tf.float32))
        return head, v.read_value(), tf.shape(v)

    previous = np.array([1.0, 2.0])
    for n in (4096, 3, 4096):
        head, new, shape = f(tf.constant(n))
        np.testing.assert_array_equal(head.numpy().ravel(), previous)
        np.testing.assert_array_equal(new.numpy(), np.arange(n))
        assert shape.numpy().tolist() == [n]
        previous = np.arange(n)


def test_resize_in_a_branch_or_loop_is_seen_after_it():
    v = _fresh()

    @tf.function
    def in_cond(n, flag):
        if flag:
            v.assign(tf.range(n, dtype=tf.float32))
        else:
            v.assign(tf.zeros([n + 1]))
        return tf.reduce_sum(v), tf.shape(v)

    # expected numbers from TF 2.21
    for n, flag, total, shape in [(5, True, 10.0, [5]), (3, False, 0.0, [4]),
                                  (4096, True, 8386560.0, [4096])]:
        s, sh = in_cond(tf.constant(n), tf.constant(flag))
        assert float(s) == total and sh.numpy().tolist() == shape
        assert v.numpy().shape == tuple(shape)

    @tf.function
    def in_loop(n):
        total = tf.constant(0.0)
        for i in tf.range(n):
            v.assign(tf.ones([i + 2]) * tf.cast(i, tf.float32))
            total += tf.reduce_sum(v)
        return total, tf.shape(v)

    for n, total, shape in [(4, 26.0, [5]), (6, 85.0, [7])]:   # from TF 2.21
        t, sh = in_loop(tf.constant(n))
        assert float(t) == total and sh.numpy().tolist() == shape
        np.testing.assert_array_equal(v.numpy(), np.full(shape, n - 1.0))


def test_resize_of_a_variable_argument_resizes_that_variable():
    @tf.function
    def refill(var, n):
        var.assign(tf.range(n, dtype=tf.float32))
        return var.read_value() * 2

    a = tf.Variable([1.0], shape=[None])
    b = tf.Variable([1.0, 5.0], shape=[None])
    np.testing.assert_array_equal(refill(a, tf.constant(3)).numpy(), [0, 2, 4])
    np.testing.assert_array_equal(refill(b, tf.constant(4)).numpy(), [0, 2, 4, 6])
    np.testing.assert_array_equal(b.numpy(), [0, 1, 2, 3])
    np.testing.assert_array_equal(a.numpy(), [0, 1, 2])   # not the traced variable's


def test_tape_keeps_the_value_read_before_a_traced_resize():
    w = tf.Variable([1.0, 2.0], shape=[None])

    @tf.function
    def grow(n):
        w.assign(tf.range(n, dtype=tf.float32))

    with tf.GradientTape() as tape:
        y = tf.reduce_sum(w * w)
        grow(tf.constant(4096))
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), [2.0, 4.0])


def test_extract_patches_of_empty_depth_keeps_the_batch():
    # TF 2.21: (2, 3, 3, 0); -1 cannot be inferred from an empty patch
    out = tf.image.extract_patches(tf.ones([2, 4, 4, 0]), [1, 2, 2, 1], [1, 1, 1, 1],
                                   [1, 1, 1, 1], "VALID")
    assert out.shape == (2, 3, 3, 0)
    out = tf.image.extract_patches(tf.ones([2, 2, 2, 3]), [1, 3, 3, 1], [1, 1, 1, 1],
                                   [1, 1, 1, 1], "VALID")
    assert out.shape == (2, 0, 0, 27)
