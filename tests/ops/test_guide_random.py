"""Guide programs: "Random number generation" (binomial draws, stateless gamma and
bounded normals, tf.random.set_seed restarting the ops of traced functions)."""

import numpy as np
import pytest

import dlframe as tf


def test_generator_binomial():
    g = tf.random.Generator.from_seed(1)
    draws = g.binomial([4000], counts=[10.0], probs=[0.3])
    assert draws.dtype == tf.int32 and draws.shape == (4000,)
    x = draws.numpy()
    assert x.min() >= 0 and x.max() <= 10
    assert abs(x.mean() - 3.0) < 0.15          # n * p
    again = tf.random.Generator.from_seed(1).binomial([4000], counts=[10.0], probs=[0.3])
    np.testing.assert_array_equal(again.numpy(), x)
    per_row = g.binomial([2, 3], counts=[[5.0], [50.0]], probs=0.5, dtype=tf.int64)
    assert per_row.dtype == tf.int64 and per_row.numpy()[0].max() <= 5
    with pytest.raises(tf.errors.InvalidArgumentError, match="counts"):
        g.binomial([3], counts=[1.0, 2.0], probs=0.5)


def test_stateless_binomial_and_gamma_repeat_per_seed():
    a = tf.random.stateless_binomial([1000], seed=[1, 2], counts=20, probs=0.25)
    b = tf.random.stateless_binomial([1000], seed=[1, 2], counts=20, probs=0.25)
    c = tf.random.stateless_binomial([1000], seed=[1, 3], counts=20, probs=0.25)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    assert abs(a.numpy().mean() - 5.0) < 0.3
    g1 = tf.random.stateless_gamma([2000, 2], seed=[3, 4], alpha=[1.0, 5.0])
    g2 = tf.random.stateless_gamma([2000, 2], seed=[3, 4], alpha=[1.0, 5.0])
    np.testing.assert_array_equal(g1.numpy(), g2.numpy())
    assert g1.shape == (2000, 2) and g1.dtype == tf.float32
    np.testing.assert_allclose(g1.numpy().mean(axis=0), [1.0, 5.0], rtol=0.1)
    scaled = tf.random.stateless_gamma([2000], seed=[3, 4], alpha=4.0, beta=2.0)
    assert abs(scaled.numpy().mean() - 2.0) < 0.15


def test_stateless_parameterized_truncated_normal_stays_in_bounds():
    x = tf.random.stateless_parameterized_truncated_normal(
        [3000], seed=[1, 2], means=1.0, stddevs=2.0, minvals=0.0, maxvals=1.5)
    v = x.numpy()
    assert v.min() >= 0.0 and v.max() <= 1.5
    y = tf.random.stateless_parameterized_truncated_normal(
        [3000], seed=[1, 2], means=1.0, stddevs=2.0, minvals=0.0, maxvals=1.5)
    np.testing.assert_array_equal(v, y.numpy())


def test_set_seed_restarts_ops_of_traced_functions():
    tf.random.set_seed(1234)

    @tf.function
    def draw():
        return tf.random.uniform([2]), tf.random.uniform([2], seed=1)

    first, second = draw(), draw()
    assert not np.array_equal(first[0].numpy(), first[1].numpy())
    assert not np.array_equal(first[0].numpy(), second[0].numpy())   # state advances
    assert not np.array_equal(first[1].numpy(), second[1].numpy())
    tf.random.set_seed(1234)
    third = draw()                                    # same graph, restarted sequences
    np.testing.assert_array_equal(third[0].numpy(), first[0].numpy())
    np.testing.assert_array_equal(third[1].numpy(), first[1].numpy())
    tf.random.set_seed(1234)
    a1, a2 = tf.random.uniform([1], seed=1), tf.random.uniform([1], seed=1)
    tf.random.set_seed(1234)
    b1, b2 = tf.random.uniform([1], seed=1), tf.random.uniform([1], seed=1)
    assert a1.numpy() == b1.numpy() and a2.numpy() == b2.numpy()
    assert a1.numpy() != a2.numpy()
