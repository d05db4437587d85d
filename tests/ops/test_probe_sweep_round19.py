"""Regressions from the round-19 differential sweep of ops against TensorFlow 2.21."""

import numpy as np
import pytest

import dlframe as tf

I32_MAX_F32 = 2147483520   # the largest float32 below 2**31 (TF 2.21's result too)


def test_stack_of_python_numbers_converts_whole_list():
    # TF: tf.stack([1, 2.]) packs like tf.constant([1, 2.]) -> float32
    got = tf.stack([1, 2.])
    assert got.dtype == tf.float32
    np.testing.assert_array_equal(got.numpy(), [1., 2.])
    got = tf.stack([[1, 2], [3, 4.5]])
    assert got.dtype == tf.float32 and got.shape == (2, 2)
    assert tf.stack((True, False)).dtype == tf.bool
    # with tensors the per-value rules stay: numbers take the tensor's dtype
    assert tf.stack([tf.constant(1.), 2]).dtype == tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.stack([tf.constant(1), tf.constant(2.)])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.stack([[1, 2], [3]])        # ragged: the Pack shape error
    # other axes never convert the whole list
    np.testing.assert_array_equal(tf.stack([[1, 2], [3, 4]], axis=1).numpy(),
                                  [[1, 3], [2, 4]])


def test_stack_mixed_numbers_gradient_free_and_in_function():
    f = tf.function(lambda: tf.stack([1, 2.5, 3]))
    np.testing.assert_array_equal(f().numpy(), np.array([1, 2.5, 3], np.float32))


def test_saturate_cast_inf_to_int32_stays_positive():
    # pinned to the CPU: NaN -> int is the device's cast (x86: INT_MIN, CUDA: 0, in
    # TF as here; tests/ops/test_gpu_fixes_round21_d.py checks both devices)
    with tf.device("/CPU:0"):
        got = tf.dtypes.saturate_cast([np.nan, np.inf, -np.inf, 3e9, -3e9, 7.9],
                                      tf.int32)
    # from TF 2.21: NaN -> INT_MIN (cast), +inf/3e9 -> largest float32 < 2**31
    np.testing.assert_array_equal(
        got.numpy(), [-2**31, I32_MAX_F32, -2**31, I32_MAX_F32, -2**31, 7])


def test_saturate_cast_float_infs_clamp_to_finite():
    # from TF 2.21: a floating input's +-inf go to its own finite range
    got = tf.dtypes.saturate_cast(tf.constant([np.inf, -np.inf], tf.float16), tf.int32)
    np.testing.assert_array_equal(got.numpy(), [65504, -65504])
    got = tf.dtypes.saturate_cast(tf.constant([np.inf, -np.inf, np.nan]), tf.float64)
    f32max = float(np.finfo(np.float32).max)
    np.testing.assert_array_equal(got.numpy()[:2], [f32max, -f32max])
    assert np.isnan(got.numpy()[2])
    got = tf.dtypes.saturate_cast(tf.constant([1e6, -1e6]), tf.float16)
    np.testing.assert_array_equal(got.numpy(), np.array([65504, -65504], np.float16))
    got = tf.dtypes.saturate_cast(tf.constant([np.inf, -1.], tf.float64), tf.uint8)
    np.testing.assert_array_equal(got.numpy(), [255, 0])


def test_saturate_cast_int64_bound_stays_in_range():
    got = tf.dtypes.saturate_cast(tf.constant([np.inf, -np.inf], tf.float64), tf.int64)
    big = int(np.nextafter(np.float64(2.0**63), 0))
    np.testing.assert_array_equal(got.numpy(), [big, -2**63])
    got = tf.dtypes.saturate_cast(tf.constant([1e30, -1e30], tf.bfloat16), tf.int32)
    # from TF 2.21: largest bfloat16 below 2**31
    np.testing.assert_array_equal(got.numpy(), [2139095040, -2**31])


def test_saturate_cast_complex_clamps_real_part():
    got = tf.dtypes.saturate_cast(tf.constant([1 + 2j, 300 - 1j, -4 + 9j], tf.complex64),
                                  tf.uint8)
    np.testing.assert_array_equal(got.numpy(), [1, 255, 0])   # from TF 2.21


def test_saturate_cast_ints_and_function_match():
    got = tf.dtypes.saturate_cast(tf.constant([-200, 300, 5]), tf.int8)
    np.testing.assert_array_equal(got.numpy(), [-128, 127, 5])
    f = tf.function(lambda x: tf.dtypes.saturate_cast(x, tf.int32))
    x = tf.constant([np.inf, -np.inf, 2.5])
    np.testing.assert_array_equal(f(x).numpy(), tf.dtypes.saturate_cast(x, tf.int32).numpy())


def _grad(fn, x):
    x = tf.Variable(np.array(x, np.float32))
    with tf.GradientTape() as tape:
        y = fn(x)
    return tape.gradient(y, x).numpy()


def test_selu_and_elu_gradient_at_zero_takes_linear_branch():
    scale, alpha = 1.0507009873554805, 1.6732632423543772
    # TF 2.21: selu'(0) = scale (SeluGrad tests outputs < 0)
    np.testing.assert_allclose(_grad(tf.nn.selu, [0., -1., 2.]),
                               [scale, scale * alpha * np.exp(-1.), scale], rtol=1e-6)
    np.testing.assert_allclose(_grad(tf.nn.elu, [0., -1., 2.]), [1., np.exp(-1.), 1.],
                               rtol=1e-6)


def test_selu_gradient_matches_finite_differences_and_second_order():
    x = np.array([-1.5, -0.2, 0.3, 2.], np.float64)
    eps = 1e-6
    numeric = (tf.nn.selu(x + eps).numpy() - tf.nn.selu(x - eps).numpy()) / (2 * eps)
    np.testing.assert_allclose(_grad(tf.nn.selu, x.astype(np.float32)), numeric,
                               rtol=1e-4)
    v = tf.Variable([-0.5, 0.5])
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.nn.elu(v)
        g = inner.gradient(y, v)
    np.testing.assert_allclose(outer.gradient(g, v).numpy(), [np.exp(-0.5), 0.],
                               rtol=1e-6)


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_softmax_rounds_once(dtype):
    x = np.array([[1., 0., 3.], [2., 5., 1.]], np.float32)
    got = tf.nn.softmax(tf.cast(x, dtype), axis=0)
    assert got.dtype == tf.as_dtype(dtype)
    want = tf.cast(_np_softmax(x.astype(np.float64), axis=0).astype(np.float32), dtype)
    np.testing.assert_array_equal(tf.cast(got, tf.float32).numpy(),
                                  tf.cast(want, tf.float32).numpy())
    # from TF 2.21: bfloat16 softmax of [2, 5, 1] (correctly rounded)
    if dtype == "bfloat16":
        row = tf.nn.softmax(tf.constant([2., 5., 1.], tf.bfloat16))
        np.testing.assert_allclose(tf.cast(row, tf.float32).numpy(),
                                   [0.0466309, 0.9375, 0.0170898], rtol=1e-5)


def test_float16_softmax_gradient_and_function():
    x = tf.Variable(tf.constant([1., 2., 4.], tf.float16))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.softmax(x) * tf.constant([1., 0., 0.], tf.float16))
    g = tape.gradient(y, x)
    assert g.dtype == tf.float16
    s = _np_softmax(np.array([1., 2., 4.]))
    np.testing.assert_allclose(g.numpy(), s[0] * (np.eye(3)[0] - s), atol=2e-3)
    f = tf.function(tf.nn.softmax)
    xs = tf.constant([[1., 0., 3.]], tf.float16)
    np.testing.assert_array_equal(f(xs).numpy(), tf.nn.softmax(xs).numpy())


def test_float16_gelu_rounds_once():
    x = np.array([2., -1., 0.5, 3.], np.float32)
    erf = np.vectorize(__import__("math").erf)
    want = (0.5 * x * (1 + erf(x / np.sqrt(2)))).astype(np.float16)
    got = tf.nn.gelu(tf.constant(x, tf.float16))
    assert got.dtype == tf.float16
    np.testing.assert_array_equal(got.numpy(), want)   # TF 2.21: gelu(2) -> 1.9541
