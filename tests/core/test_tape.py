"""GradientTape semantics as in TF2."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad


def test_records_only_while_active():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
    y = x * x
    assert tape.gradient(y, x) is None


def test_variables_watched_automatically_and_trainable_only():
    v = tf.Variable(2.0)
    frozen = tf.Variable(5.0, trainable=False)
    with tf.GradientTape() as tape:
        y = v * v * frozen
    gv, gf = tape.gradient(y, [v, frozen])
    assert gv.numpy() == 20.0 and gf is None
    assert tape.watched_variables() == (v,)


def test_watch_accessed_variables_false():
    v = tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v
    assert tape.gradient(y, v) is None


def test_persistent_and_second_call_error():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert tape.gradient(y, x).numpy() == 6.0
    assert tape.gradient(z, x).numpy() == 108.0
    with tf.GradientTape() as once:
        once.watch(x)
        y = x * x
    once.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        once.gradient(y, x)


def test_nested_second_derivative():
    x = tf.Variable(1.5)
    with tf.GradientTape() as t2:
        with tf.GradientTape() as t1:
            y = tf.sin(x) * x
        dy = t1.gradient(y, x)
    d2y = t2.gradient(dy, x)
    xv = 1.5
    assert np.isclose(dy.numpy(), np.cos(xv) * xv + np.sin(xv), rtol=1e-6)
    assert np.isclose(d2y.numpy(), -np.sin(xv) * xv + 2 * np.cos(xv), rtol=1e-5)


def test_stop_recording_and_reset():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        with tape.stop_recording():
            y = x * x
        z = x * 3.0
    assert tape.gradient(y, x) is None
    assert tape.gradient(z, x).numpy() == 3.0
    with tf.GradientTape() as tape:
        tape.watch(x)
        a = x * x
        tape.reset()
        tape.watch(x)
        b = x * 5.0
        total = a + b
    assert tape.gradient(total, x).numpy() == 5.0


def test_nested_structures_and_output_gradients():
    x, y = tf.constant(1.0), tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        out = {"a": x * y, "b": x + y}
    g = tape.gradient(out, {"x": x, "y": y})
    assert g["x"].numpy() == 3.0 and g["y"].numpy() == 2.0
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = x * tf.constant([1.0, 2.0])
    assert tape.gradient(z, x, output_gradients=tf.constant([3.0, 4.0])).numpy() == 11.0


def test_unconnected_and_integer_sources():
    x, u = tf.constant(1.0), tf.constant(1.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, u])
        y = x * 2.0
    assert tape.gradient(y, u) is None
    assert tape.gradient(y, u, unconnected_gradients="zero").numpy() == 0.0
    i = tf.constant(3)
    with tf.GradientTape() as tape:
        tape.watch(i)
        z = i * i
    assert tape.gradient(z, i) is None


def test_errors():
    with tf.GradientTape() as tape:
        y = tf.constant(1.0)
    with pytest.raises(TypeError, match="sources"):
        tape.gradient(y, 3.0)
    with pytest.raises(ValueError):
        tf.GradientTape().watch(3.0)


def test_jacobian_against_finite_differences():
    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.tanh(x @ x)
    jac = tape.jacobian(y, x).numpy()
    assert jac.shape == (2, 2, 2, 2)
    for i in range(2):
        for j in range(2):
            ref = numeric_grad(lambda m: float(np.tanh(m @ m)[i, j]), [a.copy()], 0)
            np.testing.assert_allclose(jac[i, j], ref, rtol=1e-6, atol=1e-8)


def test_batch_jacobian():
    a = np.random.default_rng(0).standard_normal((3, 2))
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.concat([x * x, tf.sin(x)], axis=1)
    bj = tape.batch_jacobian(y, x).numpy()
    assert bj.shape == (3, 4, 2)
    for b in range(3):
        expect = np.zeros((4, 2))
        expect[0, 0], expect[1, 1] = 2 * a[b, 0], 2 * a[b, 1]
        expect[2, 0], expect[3, 1] = np.cos(a[b, 0]), np.cos(a[b, 1])
        np.testing.assert_allclose(bj[b], expect, rtol=1e-10)
