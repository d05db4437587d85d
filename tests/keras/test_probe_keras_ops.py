"""Regressions found by probing Keras 3 ``keras.ops`` programs against TF 2.21.

Expected dtypes/values were taken from TF 2.21 (Keras 3.15) where noted; numbers
are checked against NumPy references.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad

ops = tf.keras.ops
backend = tf.keras.backend


# ---------------------------------------------------------------- dtype names
@pytest.mark.parametrize("a, b, expected", [   # expected from TF 2.21 / Keras 3.15
    ("int32", int, "int32"),
    ("int8", int, "int8"),
    ("uint8", float, "float32"),
    ("float16", float, "float16"),
    ("bfloat16", float, "bfloat16"),
    (bool, float, "float32"),
    (int, int, "int32"),
    ("uint8", "int8", "int16"),
    ("int32", "bfloat16", "bfloat16"),
    ("int64", "float16", "float16"),
    ("float16", "bfloat16", "float32"),
    ("int32", "float16", "float16"),
])
def test_backend_result_type_keras3_lattice(a, b, expected):
    assert backend.result_type(a, b) == expected
    assert backend.result_type(b, a) == expected


def test_backend_standardize_dtype_rejects_non_keras_names():
    assert backend.standardize_dtype(float) == "float32"   # TF 2.21
    assert backend.standardize_dtype(int) == "int64"
    assert backend.standardize_dtype(np.float32) == "float32"
    for bad in ["float", "double", "half", "floatx", "foo", 3]:
        with pytest.raises(ValueError, match="Invalid dtype"):
            backend.standardize_dtype(bad)


@pytest.mark.parametrize("make", [
    lambda d: ops.cast(np.ones(2), d),
    lambda d: ops.convert_to_tensor([1], dtype=d),
    lambda d: ops.arange(3, dtype=d),
    lambda d: ops.ones_like(np.ones(2), dtype=d),
])
def test_ops_dtype_arguments_are_standardized(make):
    assert make("int").dtype == tf.int64          # Keras 3: 'int' means int64
    for bad in ["floatx", "double", "float"]:
        with pytest.raises(ValueError, match=f"Invalid dtype: {bad}"):
            make(bad)


def test_bfloat16_stays_bfloat16():
    x = ops.convert_to_tensor([1.0, 4.0], dtype="bfloat16")
    for fn in (ops.sqrt, ops.exp, ops.mean, ops.softmax, ops.relu, ops.sigmoid,
               ops.std, ops.logsumexp):
        assert fn(x).dtype == tf.bfloat16, fn
    assert ops.add(x, 1.5).dtype == tf.bfloat16
    assert ops.add(ops.ones(2, dtype="int32"), ops.ones(2, dtype="bfloat16")).dtype \
        == tf.bfloat16
    assert ops.add(ops.ones(2, dtype="float16"), ops.ones(2, dtype="bfloat16")).dtype \
        == tf.float32
    np.testing.assert_allclose(ops.sqrt(x).numpy().astype("float32"), [1.0, 2.0])
    cleaned = ops.nan_to_num(ops.convert_to_tensor([np.nan, np.inf], dtype="bfloat16"))
    assert cleaned.dtype == tf.bfloat16
    assert float(cleaned.numpy()[0]) == 0.0
    assert float(cleaned.numpy()[1]) == pytest.approx(float(tf.bfloat16.max))


# ---------------------------------------------------------------- nn
def test_relu_keeps_integer_dtype():
    out = ops.relu(np.array([-2, 3, 9], "int32"))
    assert out.dtype == tf.int32                       # TF 2.21: int32
    np.testing.assert_array_equal(out.numpy(), [0, 3, 9])
    out6 = ops.relu6(np.array([-2, 3, 9], "int64"))
    assert out6.dtype == tf.int64
    np.testing.assert_array_equal(out6.numpy(), [0, 3, 6])
    assert ops.relu(np.array([-1.5, 2.0], "float32")).dtype == tf.float32
    kt = tf.keras.Input((3,), dtype="int32")
    assert ops.relu(kt).dtype == "int32"


def test_normalize_rejects_bad_order():
    x = np.array([[3.0, 4.0]], "float32")
    np.testing.assert_allclose(ops.normalize(x).numpy(), [[0.6, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(ops.normalize(x, order=1).numpy(), [[3 / 7, 4 / 7]],
                               rtol=1e-6)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="order"):
            ops.normalize(x, order=bad)


def test_moments_rejects_out_of_range_axes():
    x = np.arange(6, dtype="float32").reshape(2, 3)
    mean, var = ops.moments(x, axes=[-1])
    np.testing.assert_allclose(mean.numpy(), x.mean(-1))
    np.testing.assert_allclose(var.numpy(), x.var(-1), rtol=1e-6)
    for bad in ([5], [-3], 2):
        with pytest.raises(tf.errors.InvalidArgumentError, match="reduction dimension"):
            ops.moments(x, axes=bad)


# ---------------------------------------------------------------- shape / linalg
def test_transpose_rejects_non_permutation():
    x = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(ops.transpose(x, (1, 0)).numpy(), x.T)
    np.testing.assert_array_equal(ops.transpose(x, (-1, 0)).numpy(), x.T)
    for bad in [(0, 0), (0,), (0, 2)]:
        with pytest.raises(ValueError, match="valid permutation"):
            ops.transpose(x, bad)


def test_linalg_errors_are_value_errors():
    with pytest.raises(ValueError, match="Cholesky decomposition failed"):
        ops.linalg.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]], "float32"))
    with pytest.raises(ValueError, match="Incompatible shapes"):
        ops.linalg.solve(np.eye(2, dtype="float32"), np.ones((3, 1), "float32"))
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    b = np.array([1.0, 2.0])
    np.testing.assert_allclose(ops.linalg.solve(a, b).numpy(), np.linalg.solve(a, b),
                               rtol=1e-6)
    np.testing.assert_allclose(ops.linalg.cholesky(a).numpy(), np.linalg.cholesky(a),
                               rtol=1e-6)
    tall = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])   # non-square is fine here
    np.testing.assert_allclose(ops.linalg.lstsq(tall, np.array([1.0, 2.0, 2.0])).numpy(),
                               np.linalg.lstsq(tall, [1.0, 2.0, 2.0], rcond=None)[0],
                               rtol=1e-6)


def test_solve_gradient_and_function():
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    b = np.array([[1.0], [2.0]])
    check_grad(lambda x, y: ops.linalg.solve(x, y), [a, b])
    check_function_matches_eager(lambda x, y: ops.linalg.solve(x, y), [a, b])


# ---------------------------------------------------------------- core
def test_scan_returns_tensor_carry_for_python_init():
    carry, ys = ops.scan(lambda c, x: (c + 1.0, c), 0.0, None, length=3)
    assert tf.is_tensor(carry)                        # TF 2.21: a float32 tensor
    assert carry.dtype == tf.float32
    assert float(carry.numpy()) == 3.0
    np.testing.assert_allclose(ys.numpy(), [0.0, 1.0, 2.0])
    (c0, c1), ys = ops.scan(lambda c, x: ((c[0] + x, c[1] * 2.0), x * 2.0),
                            (0.0, 1.0), np.ones(3, "float32"))
    assert tf.is_tensor(c0) and tf.is_tensor(c1)
    assert (float(c0.numpy()), float(c1.numpy())) == (3.0, 8.0)


def test_keras_ops_in_custom_layers_train():
    """Backend-agnostic custom layer (KerasTensor inputs) trains in a functional model."""
    tf.keras.utils.set_random_seed(0)

    class PosEmb(tf.keras.layers.Layer):
        def call(self, x):
            length, d = ops.shape(x)[-2], ops.shape(x)[-1]
            pos = ops.cast(ops.arange(length), "float32")[:, None]
            i = ops.cast(ops.arange(d), "float32")[None, :]
            angle = pos / ops.power(10000.0, (2 * (i // 2)) / ops.cast(d, "float32"))
            even = ops.equal(ops.mod(ops.arange(d), 2), 0)[None, :]
            return x + ops.where(even, ops.sin(angle), ops.cos(angle))[None]

    inp = tf.keras.Input((6, 4))
    h = PosEmb()(inp)
    h = ops.relu(ops.mean(h, axis=1))
    out = tf.keras.layers.Dense(1)(h)
    model = tf.keras.Model(inp, out)
    x = np.random.RandomState(0).randn(128, 6, 4).astype("float32")
    y = x[:, :, 0].mean(1, keepdims=True).astype("float32")
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="mse")
    hist = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    pe = PosEmb()(np.zeros((1, 3, 4), "float32")).numpy()[0]
    np.testing.assert_allclose(pe[:, 0], np.sin(np.arange(3.0)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pe[:, 1], np.cos(np.arange(3.0)), rtol=1e-5, atol=1e-6)
