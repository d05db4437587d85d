"""Traced TensorArray writes in loops go in place (list_ops.owned_rows): values and
gradients stay equal to eager, entry values are never written, and the cost stays
linear (checked by counting copies, not by timing)."""

import numpy as np

import dlframe as tf
from dlframe.ops import list_ops


def _fill_loop(n, dynamic):
    ta = tf.TensorArray(tf.float32, size=0 if dynamic else n, dynamic_size=dynamic)
    for i in tf.range(n):
        ta = ta.write(i, tf.fill([3], tf.cast(i, tf.float32)))
    return ta.stack()


def test_loop_writes_match_eager_fixed_and_growing(device):
    with tf.device(device):
        for dynamic in (False, True):
            want = np.repeat(np.arange(37, dtype="float32")[:, None], 3, axis=1)
            got = tf.function(lambda n, d=dynamic: _fill_loop(n, d))(tf.constant(37))
            np.testing.assert_array_equal(got.numpy(), want)
            again = tf.function(lambda n, d=dynamic: _fill_loop(n, d))(tf.constant(5))
            np.testing.assert_array_equal(again.numpy(), want[:5])


def test_entry_value_of_a_loop_is_not_written(device):
    @tf.function
    def f(n):
        ta = tf.TensorArray(tf.float32, size=4).write(0, tf.ones([2]))
        before = ta
        for i in tf.range(n):
            ta = ta.write(i, tf.fill([2], 5.0))
        return before.stack(), ta.stack()

    with tf.device(device):
        before, after = f(tf.constant(3))
    np.testing.assert_array_equal(before.numpy(), [[1, 1], [0, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(after.numpy(), [[5, 5]] * 3 + [[0, 0]])
    assert not list_ops._OWNED   # released when the loop ends


def test_gradients_through_in_place_writes_match_eager(device):
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            h = x
            for i in tf.range(6):
                h = tf.sin(h) * 1.5
                ta = ta.write(i, h)
                if i % 2 == 0:
                    ta = ta.write(i, h * h)
            y = ta.stack()
            loss = tf.reduce_sum(y * tf.range(1.0, 7.0)[:, None])
        return y, tape.gradient(loss, x)

    with tf.device(device):
        x = tf.constant([0.3, -0.7])
        y_e, g_e = f(x)
        y_f, g_f = tf.function(f)(x)
    np.testing.assert_allclose(y_f.numpy(), y_e.numpy(), rtol=1e-6)
    np.testing.assert_allclose(g_f.numpy(), g_e.numpy(), rtol=1e-5)


def test_nested_loops_keep_each_outer_row(device):
    @tf.function
    def f(n):
        outer = tf.TensorArray(tf.int32, size=n)
        for i in tf.range(n):
            inner = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
            for j in tf.range(3):
                inner = inner.write(j, i * 10 + j)
            outer = outer.write(i, inner.stack())
        return outer.stack()

    with tf.device(device):
        got = f(tf.constant(4)).numpy()
    np.testing.assert_array_equal(got, np.arange(4)[:, None] * 10 + np.arange(3))


def test_growing_writes_copy_amortized(monkeypatch, device):
    grown = []
    real = list_ops._owned_rows

    def counting(d, buffer, base, need):
        out, new_base = real(d, buffer, base, need)
        if new_base is not base:
            grown.append(need)
        return out, new_base

    monkeypatch.setattr(list_ops, "_owned_rows", counting)
    with tf.device(device):
        got = tf.function(lambda n: _fill_loop(n, True))(tf.constant(1000))
    assert got.shape == (1000, 3)
    assert len(grown) <= 12   # capacity doubles: log2(1000) reallocations
