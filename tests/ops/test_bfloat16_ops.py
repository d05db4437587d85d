"""bfloat16 tensors through common ops: dtype kept, values as float32 math rounded once
to bfloat16 (as TF's kernels), gradients close to the float32 ones, eager == function.
"""

import ml_dtypes
import numpy as np
import pytest

import dlframe as tf

BF16 = ml_dtypes.bfloat16


def _bf(x):
    return tf.cast(tf.constant(np.asarray(x, "float32")), tf.bfloat16)


def _f32(t):
    return tf.cast(t, tf.float32).numpy().astype("float64")


def _round(ref):
    """A float reference rounded once to bfloat16 (what TF's kernels return)."""
    return np.asarray(ref, "float32").astype(BF16).astype("float64")


@pytest.fixture
def x():
    return np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype("float32")


def test_cast_round_trip_and_dtype():
    b = _bf([[1.5, -2.25], [3.0, 0.5]])
    assert b.dtype == tf.bfloat16 and b.numpy().dtype == BF16
    assert tf.cast(b, tf.float32).numpy().tolist() == [[1.5, -2.25], [3.0, 0.5]]
    assert tf.cast(b, tf.int32).numpy().tolist() == [[1, -2], [3, 0]]
    assert _bf([1.00390625]).numpy().astype("float32").tolist() == [1.0]   # rounds


def test_elementwise_and_matmul_keep_bfloat16():
    a = np.array([[1.5, -2.25], [3.0, 0.5]], "float32")
    b = _bf(a)
    cases = {
        "add": (lambda: b + b, a + a), "mul": (lambda: b * b, a * a),
        "sub": (lambda: b - 1, a - 1), "div": (lambda: b / 2, a / 2),
        "matmul": (lambda: tf.matmul(b, b), a @ a),
        "einsum": (lambda: tf.einsum("ij,jk->ik", b, b), a @ a),
        "relu": (lambda: tf.nn.relu(b), np.maximum(a, 0)),
        "maximum": (lambda: tf.maximum(b, 0.0), np.maximum(a, 0)),
    }
    for name, (fn, ref) in cases.items():
        out = fn()
        assert out.dtype == tf.bfloat16, name
        np.testing.assert_array_equal(_f32(out), _round(ref), err_msg=name)


def test_transcendentals_round_once_like_tf():
    a = np.array([[1.5, -2.25], [3.0, 0.5]], "float32")
    b = _bf(a)
    # TF 2.21 printed sigmoid(1.5) = 0.816 (one rounding of 0.8176), not 0.820
    np.testing.assert_array_equal(_f32(tf.sigmoid(b)), _round(1 / (1 + np.exp(-a))))
    np.testing.assert_array_equal(_f32(tf.tanh(b)), _round(np.tanh(a)))
    np.testing.assert_array_equal(_f32(tf.exp(b)), _round(np.exp(a)))
    soft = np.exp(a) / np.exp(a).sum(-1, keepdims=True)
    np.testing.assert_allclose(_f32(tf.nn.softmax(b)), soft, rtol=1e-2)
    assert tf.nn.softmax(b).dtype == tf.bfloat16
    # TF 2.21: gelu(-2.25) in bfloat16 is -0.0275 (rounded once)
    assert round(float(_f32(tf.nn.gelu(b))[0, 1]), 4) == -0.0275


def test_reductions(x):
    b = _bf(x)
    ref = _f32(b)
    assert tf.reduce_mean(b).dtype == tf.bfloat16
    np.testing.assert_allclose(_f32(tf.reduce_mean(b, 0)), ref.mean(0), atol=2e-2)
    np.testing.assert_allclose(_f32(tf.reduce_max(b)), ref.max())
    np.testing.assert_allclose(_f32(tf.reduce_sum(b[0, 0])), ref[0, 0].sum(), rtol=1e-2)


def test_conv_and_pooling(x):
    rng = np.random.default_rng(1)
    kernel = (rng.standard_normal((3, 3, 3, 4)) / 3).astype("float32")
    b, k = _bf(x), _bf(kernel)
    conv = tf.nn.conv2d(b, k, 1, "SAME")
    assert conv.dtype == tf.bfloat16
    ref = tf.nn.conv2d(tf.constant(_f32(b), tf.float32),
                       tf.constant(_f32(k), tf.float32), 1, "SAME").numpy()
    np.testing.assert_allclose(_f32(conv), ref, rtol=2e-2, atol=2e-2)
    pooled = tf.nn.max_pool2d(b, 2, 2, "VALID")
    assert pooled.dtype == tf.bfloat16
    np.testing.assert_array_equal(
        _f32(pooled), _f32(b).reshape(2, 3, 2, 3, 2, 3).max(axis=(2, 4)))
    avg = tf.nn.avg_pool2d(b, 2, 2, "VALID")
    assert avg.dtype == tf.bfloat16
    np.testing.assert_array_equal(
        _f32(avg), _round(_f32(b).reshape(2, 3, 2, 3, 2, 3).mean(axis=(2, 4))))


def test_gradients_close_to_float32(x):
    kernel = (np.random.default_rng(2).standard_normal((3, 3, 3, 4)) / 3).astype(
        "float32")

    def grad(dtype):
        v = tf.Variable(tf.cast(x, dtype))
        k = tf.cast(kernel, dtype)
        with tf.GradientTape() as tape:
            y = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(v, k, 1, "SAME")), 2, 2, "VALID")
            loss = tf.reduce_mean(tf.square(tf.sigmoid(y)))
        return tape.gradient(loss, v)
    g16, g32 = grad(tf.bfloat16), grad(tf.float32)
    assert g16.dtype == tf.bfloat16
    np.testing.assert_allclose(_f32(g16), g32.numpy(), rtol=5e-2, atol=2e-4)


def test_function_matches_eager_for_large_elementwise_chain():
    # large enough for the compiled graph's in-place buffer reuse
    big = _bf(np.linspace(-4, 4, 1 << 17, dtype="float32"))

    def chain(t):
        return tf.sigmoid(tf.exp(tf.tanh(t)))
    eager = chain(big)
    compiled = tf.function(chain)(big)
    assert compiled.dtype == tf.bfloat16
    np.testing.assert_array_equal(_f32(eager), _f32(compiled))
