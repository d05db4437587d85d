"""sqrt/rsqrt/reciprocal gradients follow TF's SqrtGrad/RsqrtGrad/ReciprocalGrad:
0 where the incoming gradient is 0, so the "safe" ``tf.where(x > 0, f(x), 0)``
pattern has finite gradients at 0 (values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf

OPS = {"sqrt": (tf.sqrt, lambda v: 0.5 / np.sqrt(v), lambda v: -0.25 * v ** -1.5),
       "rsqrt": (tf.math.rsqrt, lambda v: -0.5 * v ** -1.5, lambda v: 0.75 * v ** -2.5),
       "reciprocal": (tf.math.reciprocal, lambda v: -1 / v ** 2, lambda v: 2 / v ** 3)}


@pytest.mark.parametrize("name", sorted(OPS))
def test_where_pattern_gives_zero_gradient_at_the_singular_point(name):
    fn, first, _ = OPS[name]

    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.where(x > 0.5, fn(x), 0.0)
        return tape.gradient(y, x)

    x = tf.constant([0.0, 1.0, 4.0])
    want = np.array([0.0, first(1.0), first(4.0)], "float32")   # TF 2.21: [0, .5, .25]
    np.testing.assert_allclose(grad(x).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(tf.function(grad)(x).numpy(), want, rtol=1e-6)


def test_log_keeps_its_nan_gradient_at_zero():   # TF has no such kernel for log
    x = tf.constant([0.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.where(x > 0.5, tf.math.log(x), 0.0)
    assert np.isnan(tape.gradient(y, x).numpy()[0])


@pytest.mark.parametrize("name", sorted(OPS))
def test_first_and_second_derivatives(name):
    fn, first, second = OPS[name]
    values = np.array([0.3, 1.0, 2.5], "float64")
    x = tf.constant(values)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = fn(x)
        g = inner.gradient(y, x)
    np.testing.assert_allclose(g.numpy(), first(values), rtol=1e-10)
    np.testing.assert_allclose(outer.gradient(g, x).numpy(), second(values), rtol=1e-10)
    eps = 1e-6   # and against finite differences of the op itself
    fd = (fn(tf.constant(values + eps)).numpy() - fn(tf.constant(values - eps)).numpy()) \
        / (2 * eps)
    np.testing.assert_allclose(g.numpy(), fd, rtol=1e-6)


def test_pairwise_distance_with_safe_sqrt_trains_without_nan():
    points = tf.Variable([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])   # a zero distance
    with tf.GradientTape() as tape:
        diff = points[:, None, :] - points[None, :, :]
        sq = tf.reduce_sum(diff * diff, axis=-1)
        dist = tf.where(sq > 0, tf.sqrt(sq), tf.zeros_like(sq))
        loss = tf.reduce_sum(dist)
    grad = tape.gradient(loss, points).numpy()
    assert np.all(np.isfinite(grad))
    s = np.sqrt(2.0)   # each pair counted twice: 2 * (p_i - p_j) / |p_i - p_j|
    np.testing.assert_allclose(grad, [[-s, -s], [-s, -s], [2 * s, 2 * s]], rtol=1e-6)
