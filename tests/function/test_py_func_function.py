"""py_function / numpy_function inside dlframe.function: the Python runs at every
call (never baked in at trace time), in loops and branches, with py_function
gradients computed by re-running the Python under a tape."""

import numpy as np
import pytest

import dlframe as tf


def test_python_runs_at_every_call():
    calls = []
    state = {"offset": 0.0}

    def body(a):
        calls.append(1)
        return a + state["offset"]

    @tf.function
    def fn(x):
        return tf.py_function(body, [x], tf.float32) * 2.0
    x = tf.constant([1.0, 2.0])
    np.testing.assert_array_equal(fn(x).numpy(), [2, 4])
    state["offset"] = 1.0           # read at run time, not baked at trace time
    np.testing.assert_array_equal(fn(x).numpy(), [4, 6])
    assert len(calls) == 2 and fn.experimental_get_tracing_count() == 1


def test_numpy_function_in_graph():
    calls = []

    @tf.function
    def fn(x):
        y = tf.numpy_function(lambda a: calls.append(1) or np.sort(a)[::-1].copy(), [x],
                              tf.float32)
        unused = tf.numpy_function(lambda a: calls.append(1) or a, [x], tf.float32)  # noqa
        return y
    np.testing.assert_array_equal(fn(tf.constant([2.0, 3.0, 1.0])).numpy(), [3, 2, 1])
    fn(tf.constant([2.0, 3.0, 1.0]))
    assert len(calls) == 4          # stateful calls are kept even when unused

    @tf.function
    def wrong(x):
        return tf.numpy_function(lambda a: a.astype(np.float64), [x], tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="is double, but expects float"):
        wrong(tf.constant([1.0]))


def test_in_loops_and_branches():
    seen = []

    @tf.function
    def fn(x, n):
        total = tf.zeros([])
        for i in tf.range(n):
            total += tf.py_function(lambda a, k: seen.append(int(k)) or a * tf.cast(
                k, tf.float32), [x, i], tf.float32)
        if total > 5.0:
            total = tf.numpy_function(lambda t: t * 100, [total], tf.float32)
        return total
    seen.clear()
    assert fn(tf.constant(1.0), tf.constant(3)).numpy() == 3.0
    assert seen[-3:] == [0, 1, 2]
    seen.clear()
    assert fn(tf.constant(1.0), tf.constant(4)).numpy() == 600.0
    assert seen == [0, 1, 2, 3]     # run once per iteration when the graph runs


def test_py_function_gradient_in_graph():
    w = tf.Variable([0.5, -1.0])

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.py_function(lambda a, v: tf.sin(a) * v, [x, w], tf.float32)
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x, w])
    x = tf.constant([0.3, 1.2])
    gx, gw = step(x)
    y = np.sin(x.numpy()) * w.numpy()
    np.testing.assert_allclose(gx.numpy(), 2 * y * np.cos(x.numpy()) * w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), 2 * y * np.sin(x.numpy()), rtol=1e-6)


def test_py_function_gradient_through_a_graph_loop():
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in tf.range(3):
                y = tf.py_function(lambda a: a * a, [y], tf.float64) + 0.0
        return y, tape.gradient(y, x)
    y, g = step(tf.constant(1.1, tf.float64))
    np.testing.assert_allclose(y.numpy(), 1.1 ** 8)
    np.testing.assert_allclose(g.numpy(), 8 * 1.1 ** 7)
