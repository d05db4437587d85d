"""Review of the cuBLAS routing of matrix products and einsum (round 21, reviewer 6).

The GPU einsum planner summed a letter of one operand with ``sum``, which widens
integers and bools (``tf.einsum('ab,c->a')`` on int32 gave an int64 array there);
``Device.einsum`` made the CPU depthwise filter gradient use NumPy's einsum
optimizer (slower, other rounding than before); a batch count past int32 whose
every batch dim fits made ``cublas_api.gemm`` fail instead of falling back.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.backends import cublas_api
from dlframe.backends.einsum_plan import einsum_via_matmul, plan_einsum


def _random_case(rng):
    letters = list("abcdef")
    sa = "".join(rng.choice(letters, rng.integers(0, 5), replace=False))
    sb = "".join(rng.choice(letters, rng.integers(0, 5), replace=False))
    pool = sorted(set(sa) | set(sb))
    out = "".join(rng.permutation(pool)[:rng.integers(0, len(pool) + 1)])
    sizes = {c: int(rng.integers(1, 4)) for c in letters}

    def shape(term):   # some dims of size 1: NumPy-broadcast batch letters
        return tuple(1 if rng.random() < 0.15 else sizes[c] for c in term)
    return f"{sa},{sb}->{out}", shape(sa), shape(sb)


def _operand(rng, shape, dtype):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 4).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "complex128", "int32", "int8", "bool"])
def test_planned_einsum_equals_numpy_einsum_dtype_included(dtype):
    rng = np.random.default_rng(6)
    planned = 0
    for _ in range(400):
        eq, sa, sb = _random_case(rng)
        plan = plan_einsum(eq, sa, sb)
        if plan is None:
            continue
        planned += 1
        assert plan_einsum(eq, sa, sb) is plan   # cached
        a, b = _operand(rng, sa, dtype), _operand(rng, sb, dtype)
        want = np.einsum(eq, a, b)
        got = einsum_via_matmul(np, np.matmul, plan, a, b)
        assert got.dtype == want.dtype and got.shape == want.shape, eq
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=eq)
    assert planned > 300


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
def test_einsum_with_a_summed_letter_keeps_the_dtype(device, dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    b = np.arange(5).astype(dtype)
    dev = backends.get_device(device)
    got = dev.einsum("ab,c->a", dev.asarray(a), dev.asarray(b))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(dev.to_numpy(got), np.einsum("ab,c->a", a, b))
    with tf.device(device):
        r = tf.einsum("ab,c->a", tf.constant(a), tf.constant(b)) + tf.constant(1, dtype)
    assert r.dtype == tf.as_dtype(dtype)
    np.testing.assert_array_equal(r.numpy(), np.einsum("ab,c->a", a, b) + 1)


def test_depthwise_filter_gradient_is_numpys_einsum_per_tap(device):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 9, 8, 5)).astype("float32")
    w = rng.standard_normal((3, 2, 5, 1)).astype("float32")   # multiplier 1
    with tf.device(device):
        xt, wt = tf.constant(x), tf.Variable(w)
        with tf.GradientTape() as tape:
            y = tf.nn.depthwise_conv2d(xt, wt, [1, 1, 1, 1], "VALID")
            loss = tf.reduce_sum(y * y)
        dw = tape.gradient(loss, wt).numpy()
    dy = 2 * y.numpy()
    oh, ow = dy.shape[1:3]
    want = np.empty_like(w)
    for i in range(3):
        for j in range(2):
            src = x[:, i:i + oh, j:j + ow].reshape(-1, 5)
            want[i, j] = np.einsum("pc,pcm->cm", src, dy.reshape(-1, 5, 1))
    if device.startswith("cpu"):   # as before round 21, bit for bit
        np.testing.assert_array_equal(dw, want)
    else:
        np.testing.assert_allclose(dw, want, rtol=1e-5, atol=1e-4)


def test_batch_count_past_int32_falls_back_to_cupy_matmul(monkeypatch):
    # every batch dim fits int32 but their product does not: no cuBLAS plan exists,
    # not even for contiguous copies, so gemm() must answer None (cupy.matmul)
    # rather than copy the operands and fail on the missing plan
    monkeypatch.setattr(cublas_api, "INT_MAX", 20)
    monkeypatch.setattr(cublas_api, "_PLANS", {})
    a = np.ones((5, 5, 2, 3), "float32")
    b = np.ones((5, 5, 3, 2), "float32")
    assert cublas_api.plan_gemm(a.shape, (30, 6, 3, 1), b.shape, (30, 6, 2, 1)) is None
    assert cublas_api.gemm(np, a, b) is None
    assert cublas_api._plan_for(a[:4], b[:4])[0] is not None   # 20: plans
