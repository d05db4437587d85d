"""The CPU device's folded leading-axes sum against float64 NumPy references."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends.numpy_reduce import folded_sum

CASES = [((64, 26, 26, 32), (0, 1, 2)), ((43264, 32), (0,)), ((4099, 7), (0,)),
         ((3, 5000, 3), (0, 1)), ((64, 11, 11, 64), (0, 1, 2)), ((32, 128), (0,)),
         ((300, 80), (1,)), ((100, 200, 3), (2, 0))]


@pytest.mark.parametrize("shape,axes", CASES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_matches_float64_reference(shape, axes, keepdims):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ref = x.astype(np.float64).sum(axis=axes, keepdims=keepdims)
    got = folded_sum(x, axes, keepdims)
    assert got.dtype == np.float32 and got.shape == ref.shape
    # tolerance from the number of summed terms; never worse than NumPy's own sum
    np_err = np.abs(x.sum(axis=axes, keepdims=keepdims) - ref).max()
    assert np.abs(got - ref).max() <= max(np_err, 1e-6 * x.size / ref.size)


def test_integers_exact_and_dtype_argument():
    x = np.random.default_rng(1).integers(-50, 50, (5000, 9)).astype(np.int32)
    np.testing.assert_array_equal(folded_sum(x, (0,)), x.sum(axis=0))
    h = np.random.default_rng(2).standard_normal((2000, 16)).astype(np.float16)
    got = folded_sum(h, (0,), dtype=np.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, h.astype(np.float64).sum(0), rtol=1e-5, atol=1e-3)


def test_non_contiguous_input_falls_back():
    x = np.random.default_rng(3).standard_normal((400, 100)).astype(np.float32).T
    np.testing.assert_allclose(folded_sum(x, (0,)), x.sum(axis=0), rtol=1e-6)


def test_bias_gradient_and_reductions_use_it():
    """NHWC bias gradients, reduce_sum/reduce_mean over the batch and spatial axes."""
    x = np.random.default_rng(4).standard_normal((16, 20, 20, 24)).astype(np.float32)
    b = tf.Variable(np.zeros(24, np.float32))
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        y = tf.nn.bias_add(xt, b) * xt
    ref = x.astype(np.float64).sum(axis=(0, 1, 2))  # d(sum((x + b) * x))/db
    np.testing.assert_allclose(tape.gradient(y, b).numpy(), ref, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(tf.reduce_sum(xt, [0, 1, 2]).numpy(),
                               x.astype(np.float64).sum((0, 1, 2)), rtol=1e-5, atol=1e-3)
    mean = tf.reduce_mean(xt, [0, 1, 2], keepdims=True)
    assert mean.dtype == tf.float32 and mean.shape == (1, 1, 1, 24)
    np.testing.assert_allclose(mean.numpy()[0, 0, 0], x.astype(np.float64).mean((0, 1, 2)),
                               rtol=1e-5, atol=1e-6)
    compiled = tf.function(lambda t: tf.reduce_mean(t, [0, 1, 2]))
    np.testing.assert_allclose(compiled(xt).numpy(), mean.numpy()[0, 0, 0], rtol=1e-6)
