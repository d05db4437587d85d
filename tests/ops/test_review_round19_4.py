"""Review of the nineteenth session's op changes (round 19, reviewer 4).

* Half-precision softmax keeps a single float32 working buffer (the first version
  held the float32 copy and a second float32 array at once).
* ``tf.math.erfc`` has its own kernel, as TF's Erfc: ``1 - erf(x)`` rounded the tail
  to 0, and exact ``gelu`` (TF's ``0.5 * x * erfc(-x / sqrt(2))``) with it.
* ``saturate_cast`` checks its bounds on the host instead of reading a device
  scalar back per bound.
* Dropout masks from raw generator words keep ``1 - rate`` of the values for any
  generator state (one that already drew an odd number of float32s too).
"""

import tracemalloc

import numpy as np
import pytest

import dlframe as tf
from dlframe.core.tensor import Tensor
from dlframe.ops import random_kernels
from tests.helpers import check_op


# ---------------------------------------------------------------- softmax
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_softmax_rounds_once_from_float32(dtype):
    x = np.random.default_rng(0).standard_normal((6, 33)).astype(np.float32) * 4
    half = tf.cast(tf.constant(x), dtype)
    got = tf.nn.softmax(half)
    assert got.dtype.name == dtype
    x32 = half.numpy().astype(np.float64)
    e = np.exp(x32 - x32.max(-1, keepdims=True))
    want = (e / e.sum(-1, keepdims=True)).astype(np.float32).astype(got.numpy().dtype)
    # float32 arithmetic then one rounding: at most one ulp of the half type away
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.astype(np.float64),
                               rtol=2 ** -7 if dtype == "bfloat16" else 2 ** -10)


def test_half_softmax_holds_one_float32_buffer():
    x = tf.constant(np.random.default_rng(1).standard_normal((512, 1024)), tf.float16)
    nbytes = 512 * 1024 * 2
    tf.nn.softmax(x)   # warm-up: caches and kernels
    tracemalloc.start()
    try:
        out = tf.nn.softmax(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == tf.float16
    # one float32 copy (2x) and the float16 result (1x), plus row-sized temporaries;
    # two float32 arrays alive at once would peak at 5x
    assert peak < 3.5 * nbytes, peak / nbytes


def test_float32_softmax_unchanged():
    x = np.random.default_rng(2).standard_normal((4, 9)).astype(np.float32)
    e = np.exp(x.astype(np.float64) - x.max(-1, keepdims=True))
    got = tf.nn.softmax(x)
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), e / e.sum(-1, keepdims=True), rtol=1e-6)


# ---------------------------------------------------------------- erfc and gelu
def test_erfc_tail_from_tf():
    # from TF 2.21: tf.math.erfc([5., 9.]) (1 - erf gave [0, 0])
    np.testing.assert_allclose(tf.math.erfc(tf.constant([5., 9.])).numpy(),
                               [1.537460046427408e-12, 4.137031708073991e-37], rtol=1e-5)
    assert tf.math.erfc(tf.constant([0.5], tf.float16)).dtype == tf.float16
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.math.erfc(tf.constant([1, 2]))


def test_erfc_values_and_gradient():
    from scipy.special import erfc as ref
    x = np.array([-2.5, -0.3, 0.0, 0.7, 3.1])
    check_op(tf.math.erfc, [x], ref, second_order=True)


def test_gelu_keeps_the_negative_tail():
    # from TF 2.21: tf.nn.gelu (float32 and float64)
    np.testing.assert_allclose(
        tf.nn.gelu(tf.constant([-10., -6., -4.5, 0.3])).numpy(),
        [-7.619853608132182e-23, -5.919535528420283e-09, -1.5289546354324557e-05,
         0.1853734254837036], rtol=1e-5)
    # exact values (mpmath, 40 digits); TF 2.21's float64 erfc is within 2e-5 of them
    np.testing.assert_allclose(
        tf.nn.gelu(tf.constant([-30., -12.], tf.float64)).numpy(),
        [-1.472014178144456e-196, -2.1317785344932147e-32], rtol=1e-12)


def test_gelu_gradient_and_function():
    from scipy.special import erfc as ref_erfc
    x = np.array([-7.0, -1.2, 0.0, 0.4, 2.5])
    check_op(lambda v: tf.nn.gelu(v), [x],
             lambda v: 0.5 * v * ref_erfc(-v / np.sqrt(2.0)))


# ---------------------------------------------------------------- saturate_cast
def test_saturate_cast_reads_no_tensor_back(monkeypatch):
    x = tf.constant([-1e30, -3e9, 1.5, 3e9, np.inf, 7e4])

    def refuse(self):
        raise AssertionError("saturate_cast read a tensor back")
    monkeypatch.setattr(Tensor, "numpy", refuse)
    i32 = tf.saturate_cast(x, tf.int32)
    f16 = tf.saturate_cast(x, tf.float16)
    monkeypatch.undo()
    # float32(2**31 - 1) rounds up past int32: the bound is one float32 ulp lower
    np.testing.assert_array_equal(i32.numpy(), [-2 ** 31, -2 ** 31, 1, 2147483520,
                                                2147483520, 70000])
    np.testing.assert_array_equal(f16.numpy(), [-65504, -65504, 1.5, 65504, 65504,
                                                65504])


# ---------------------------------------------------------------- dropout words
@pytest.mark.parametrize("dtype", [np.float16, np.float64])
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_dropout_keep_probability_from_a_used_generator(dtype, rate):
    rng = np.random.default_rng(11)
    rng.random(3, dtype=np.float32)   # an odd number of float32s: a half word buffered
    kept = n = 0
    for size in (1, 7, 1001, 30011):
        for _ in range(4):
            mask = random_kernels._sample_dropout_mask(rng, np, shape=(size,),
                                                       dtype=np.dtype(dtype), rate=rate)
            assert mask.dtype == dtype and mask.shape == (size,)
            kept += int(np.count_nonzero(mask))
            n += size
    sigma = np.sqrt(rate * (1 - rate) / n)
    assert abs(kept / n - (1 - rate)) < 6 * sigma
    scale = np.asarray(1, dtype) / (np.asarray(1, dtype) - np.asarray(rate, dtype))
    assert set(np.unique(mask).tolist()) <= {0.0, float(scale)}
    # the word draws advanced the generator: its next float32s are not the ones a
    # generator that only made the first 3 draws gives next
    fresh = np.random.default_rng(11)
    fresh.random(3, dtype=np.float32)
    after = rng.random(5, dtype=np.float32)
    assert not np.array_equal(after, fresh.random(5, dtype=np.float32))
    assert ((after >= 0) & (after < 1)).all()
