"""tf.experimental.numpy (tnp): NumPy dtype rules on the shared implementation and
experimental_enable_numpy_behavior (checked in a subprocess: it patches Tensor)."""

import subprocess
import sys

import numpy as np
import pytest

import dlframe as tf
import dlframe.experimental.numpy as tnp


def test_numpy_dtype_rules():
    # dtypes from TF 2.21 (tnp, default 'legacy' mode)
    i32, f32 = tf.constant([1, 2]), tf.constant([1.0, 2.0])
    assert tnp.array([1.5]).dtype == tf.float64 and tnp.array([1]).dtype == tf.int64
    assert tnp.add(i32, 1.5).dtype == tf.float64
    assert tnp.add(i32, f32).dtype == tf.float64
    assert tnp.add(f32, 1.5).dtype == tf.float32
    assert tnp.linspace(0, 1, 5).dtype == tf.float64
    assert tnp.arange(5).dtype == tf.int64 and tnp.arange(0.0, 1.0, 0.5).dtype == \
        tf.float64
    assert tnp.zeros(2).dtype == tf.float64 and tnp.ones((2,)).dtype == tf.float64
    assert tnp.mean(i32).dtype == tf.float64 and tnp.sqrt(i32).dtype == tf.float64
    assert tnp.sum(i32).dtype == tf.int64 and tnp.eye(2).dtype == tf.float64
    assert tnp.divide(i32, i32).dtype == tf.float64
    assert tnp.full((2,), 3.0).dtype == tf.float64
    assert tnp.result_type(i32, 1.5) == np.float64
    assert tnp.float32 is np.float32 and tnp.pi == np.pi and tnp.ndarray is tf.Tensor


def test_numpy_rules_do_not_leak_into_keras_ops():
    from dlframe.keras import ops
    tnp.add(tf.constant([1]), 1.5)
    assert ops.add(tf.constant([1]), 1.5).dtype == tf.float32
    assert ops.arange(3).dtype == tf.int32


def test_values_match_numpy():
    x = np.random.default_rng(0).standard_normal((3, 4))
    for name in ["mean", "std", "cumsum", "sort", "argmax", "ravel", "transpose"]:
        np.testing.assert_allclose(getattr(tnp, name)(x).numpy(), getattr(np, name)(x))
    np.testing.assert_allclose(tnp.matmul(x, x.T).numpy(), x @ x.T)
    np.testing.assert_allclose(tnp.linspace(0, 1, 7).numpy(), np.linspace(0, 1, 7))
    np.testing.assert_allclose(tnp.clip(x, -0.5, 0.5).numpy(), np.clip(x, -0.5, 0.5))
    assert bool(tnp.array_equal(x, x)) and not bool(tnp.array_equal(x, x[:2]))
    assert tnp.isscalar(3.0) and tnp.isscalar(tf.constant(1.0))
    tnp.random.seed(3)
    r = tnp.random.rand(2, 3)
    assert r.shape == (2, 3) and r.dtype == tf.float64
    assert tnp.random.randint(0, 5, size=10).dtype == tf.int64
    with pytest.raises(ValueError, match="high"):
        tnp.random.randint(5, 5)


def test_functions_trace_under_numpy_rules():
    f = tf.function(lambda a: tnp.sum(tnp.multiply(a, 1.5)))
    out = f(tf.constant([1, 2], tf.int32))
    assert out.dtype == tf.float64 and float(out) == 4.5


def test_enable_numpy_behavior_in_subprocess():
    code = """
import dlframe as tf
import dlframe.experimental.numpy as tnp
tnp.experimental_enable_numpy_behavior()
x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
i = tf.constant([1, 2])
assert x.reshape(4).shape == (4,) and x.reshape((1, 4)).shape == (1, 4)
assert x.reshape(-1, 1).shape == (4, 1)
assert x.astype("int32").dtype == tf.int32 and x.ravel().shape == (4,)
assert x.T.numpy().tolist() == [[1.0, 3.0], [2.0, 4.0]] and x.tolist()[1] == [3.0, 4.0]
assert (i + 1.5).dtype == tf.float64 and (1.5 + i).dtype == tf.float64
assert (i + x[0]).dtype == tf.float64 and (i * 2).dtype == tf.int32
assert float(x.mean()) == 2.5 and x.sum(axis=0).numpy().tolist() == [4.0, 6.0]
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
