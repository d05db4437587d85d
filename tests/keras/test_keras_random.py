"""keras.random (Keras 3): seeds, SeedGenerator, distributions, dropout, shuffle."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import numeric_grad

R = keras.random


def test_int_seed_repeats_and_seed_generator_advances():
    a = R.normal((50,), seed=3).numpy()
    np.testing.assert_array_equal(a, R.normal((50,), seed=3).numpy())
    assert not np.array_equal(a, R.normal((50,), seed=4).numpy())
    gen = R.SeedGenerator(7)
    first, second = R.normal((5,), seed=gen).numpy(), R.normal((5,), seed=gen).numpy()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(gen.state.numpy(), [7, 2])
    replay = R.SeedGenerator(7)
    np.testing.assert_array_equal(R.normal((5,), seed=replay).numpy(), first)
    assert gen.get_config()["seed"] == 7
    assert R.SeedGenerator.from_config(gen.get_config()).state.numpy()[0] == 7


def test_set_random_seed_makes_unseeded_draws_reproducible():
    keras.utils.set_random_seed(11)
    a, b = R.uniform((4,)).numpy(), R.uniform((4,)).numpy()
    keras.utils.set_random_seed(11)
    np.testing.assert_array_equal(R.uniform((4,)).numpy(), a)
    np.testing.assert_array_equal(R.uniform((4,)).numpy(), b)
    assert not np.array_equal(a, b)


def test_compiled_function_draws_fresh_numbers_and_advances_the_generator():
    gen = R.SeedGenerator(5)
    f = tf.function(lambda: R.normal((3,), seed=gen))
    a, b = f().numpy(), f().numpy()
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(gen.state.numpy(), [5, 2])
    eager = R.SeedGenerator(5)
    np.testing.assert_allclose(R.normal((3,), seed=eager).numpy(), a)


def test_distributions_dtypes_and_moments():
    n = 20000
    normal = R.normal((n,), mean=2.0, stddev=3.0, seed=1).numpy()
    assert normal.dtype == np.float32
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1
    trunc = R.truncated_normal((n,), stddev=2.0, seed=1).numpy()
    assert np.abs(trunc).max() <= 4.0
    uni = R.uniform((n,), minval=-1.0, maxval=3.0, seed=2, dtype="float64").numpy()
    assert uni.dtype == np.float64 and uni.min() >= -1 and uni.max() < 3
    ints = R.randint((n,), 2, 7, seed=3)
    assert ints.dtype == tf.int32
    assert set(np.unique(ints.numpy())) == {2, 3, 4, 5, 6}
    gamma = R.gamma((n,), 3.0, seed=4).numpy()
    assert abs(gamma.mean() - 3.0) < 0.1 and gamma.min() > 0
    beta = R.beta((n,), 2.0, 6.0, seed=5).numpy()
    assert abs(beta.mean() - 0.25) < 0.01 and 0 < beta.min() and beta.max() < 1
    binom = R.binomial((n,), counts=10, probabilities=0.3, seed=6).numpy()
    assert binom.dtype == np.float32 and abs(binom.mean() - 3.0) < 0.1
    assert binom.min() >= 0 and binom.max() <= 10


def test_categorical_follows_the_logits():
    logits = np.log([[0.1, 0.6, 0.3], [0.98, 0.01, 0.01]]).astype("float32")
    draws = R.categorical(logits, 5000, seed=9)
    assert draws.dtype == tf.int32 and tuple(draws.shape) == (2, 5000)
    freq = np.bincount(draws.numpy()[0], minlength=3) / 5000
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.03)
    with pytest.raises(ValueError, match="2-D"):
        R.categorical(np.zeros(3, "float32"), 2)


def test_dropout_scales_kept_values_and_has_the_right_gradient():
    x = np.arange(1, 2001, dtype="float32").reshape(40, 50)
    out = R.dropout(x, 0.25, seed=1).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.04
    rows = R.dropout(x, 0.5, noise_shape=(40, 1), seed=2).numpy()
    assert all(np.all(r == 0) or np.all(r != 0) for r in rows)

    x64 = np.random.default_rng(0).normal(size=(3, 4))

    def loss(v):
        return float(tf.reduce_sum(R.dropout(tf.constant(v), 0.5, seed=4) ** 2))
    xt = tf.constant(x64)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.reduce_sum(R.dropout(xt, 0.5, seed=4) ** 2)
    np.testing.assert_allclose(tape.gradient(y, xt).numpy(),
                               numeric_grad(loss, [x64.copy()], 0), rtol=1e-5, atol=1e-7)
    for bad in (1.5, -0.1, "0.5"):
        with pytest.raises(ValueError, match="rate"):
            R.dropout(x, bad)
    np.testing.assert_array_equal(R.dropout(x, 1.0, seed=4).numpy(), 0.0)  # as Keras 3


def test_shuffle_permutes_along_an_axis():
    x = np.arange(24).reshape(4, 6)
    rows = R.shuffle(x, seed=3).numpy()
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))
    cols = R.shuffle(x, axis=1, seed=3).numpy()
    np.testing.assert_array_equal(np.sort(cols, axis=1), x)
    assert not np.array_equal(cols, x)


def test_bad_seeds_and_dtypes_raise_clear_errors():
    with pytest.raises(ValueError, match="SeedGenerator"):
        R.normal((2,), seed="x")
    with pytest.raises(ValueError, match="seed=abc"):
        R.SeedGenerator("abc")
    with pytest.raises(ValueError, match="randint"):
        R.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="integer"):
        R.randint((2,), 0, 3, dtype="float32")
