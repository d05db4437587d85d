"""Nineteenth-session speed paths.

* Dropout masks compare the host generator's raw words with a threshold instead of
  building float uniforms: the same keep probability and, from a fresh generator
  (every seeded mask), the same mask bit for bit as ``uniform >= rate``.
* The tap-major input gradient of a convolution (16+ input channels) runs one GEMM
  per tap into a shared block buffer instead of one batched GEMM over all taps:
  bit-equal to the batched form, checked against a NumPy reference and finite
  differences.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends.numpy_backend import CPUDevice
from dlframe.ops import conv_kernels, random_kernels
from tests.helpers import check_op
from tests.ops.test_conv import geometry, ref_conv, ref_conv_transpose

RNG = np.random.default_rng(19)
DEV = CPUDevice(0)


# ---------------------------------------------------------------- dropout masks
def _float_uniform_mask(rng, shape, dtype, rate):
    """The mask as drawn before: float uniforms of the generator dtype >= rate."""
    gen = np.float64 if np.dtype(dtype).itemsize == 8 else np.float32
    u = rng.random(shape, dtype=gen)
    mask = (u >= np.asarray(rate, dtype=gen)).astype(dtype)
    one = np.asarray(1, dtype=dtype)
    return mask * (one / (one - np.asarray(rate, dtype=dtype)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(), (7,), (3, 5, 7), (64, 129)])
@pytest.mark.parametrize("rate", [1e-9, 0.1, 1 / 3, 0.5, 0.9, 0.999])
def test_dropout_mask_matches_float_uniforms(dtype, shape, rate):
    ref = _float_uniform_mask(np.random.default_rng(7), shape, dtype, rate)
    got = random_kernels._sample_dropout_mask(np.random.default_rng(7), np, shape=shape,
                                              dtype=np.dtype(dtype), rate=rate)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("bit_gen", [np.random.PCG64DXSM, np.random.MT19937,
                                     np.random.Philox])
def test_dropout_mask_other_bit_generators(bit_gen):
    # PCG64DXSM takes the word path, the others draw floats: the same mask either way
    ref = _float_uniform_mask(np.random.Generator(bit_gen(3)), (50, 41), np.float32, 0.3)
    got = random_kernels._sample_dropout_mask(np.random.Generator(bit_gen(3)), np,
                                              shape=(50, 41), dtype=np.dtype(np.float32),
                                              rate=0.3)
    np.testing.assert_array_equal(got, ref)


def test_dropout_mask_rate_rounding_to_one_drops_everything():
    # float32(1 - 1e-9) == 1: no float32 uniform reaches it (the old comparison)
    got = random_kernels._uniform_at_least(np.random.default_rng(0), np, (1000,),
                                           np.float32, 1 - 1e-9)
    assert got.dtype == bool and not got.any()
    # in float64 a rate just below 1 stays below 1 (the top 8 of 2**53 steps keep)
    rate = 1 - 2.0 ** -50
    got64 = random_kernels._uniform_at_least(np.random.default_rng(0), np, (1000,),
                                             np.float64, rate)
    np.testing.assert_array_equal(
        got64, np.random.default_rng(0).random(1000) >= rate)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.75])
def test_dropout_keep_fraction_and_scale(rate):
    x = tf.ones([400, 500])
    y = tf.nn.dropout(x, rate).numpy()
    kept = y != 0
    # 200k Bernoulli draws: 6 standard deviations of the kept fraction
    assert abs(kept.mean() - (1 - rate)) < 6 * np.sqrt(rate * (1 - rate) / y.size)
    np.testing.assert_allclose(y[kept], np.float32(1) / (np.float32(1) - np.float32(rate)))


def test_seeded_dropout_repeats_and_function_matches():
    x = tf.constant(RNG.standard_normal((8, 33)).astype(np.float32))

    def run():
        tf.random.set_seed(5)
        return tf.nn.dropout(x, 0.4, seed=3)
    a, b = run().numpy(), run().numpy()
    np.testing.assert_array_equal(a, b)
    c = tf.function(run)().numpy()
    np.testing.assert_array_equal((a != 0), (c != 0))
    kept = a != 0
    np.testing.assert_allclose(a[kept], x.numpy()[kept] / np.float32(0.6), rtol=1e-6)


# ---------------------------------------------------------------- conv input grad
INPUT_GRAD_CASES = [
    # x shape, filter shape, strides, padding, dilations (all with >= 16 channels in)
    ((2, 7, 7, 16), (3, 3, 16, 5), 1, "VALID", 1),
    ((2, 6, 5, 16), (3, 3, 16, 4), 1, "SAME", 1),
    ((1, 9, 8, 17), (3, 2, 17, 3), 2, "SAME", 1),
    ((1, 9, 9, 16), (3, 3, 16, 2), 1, "SAME", 2),
    ((1, 8, 8, 16), (5, 5, 16, 3), [2, 1], "VALID", 1),
]


@pytest.mark.parametrize("xs, ws, strides, padding, dils", INPUT_GRAD_CASES)
def test_tap_major_input_grad_matches_reference(xs, ws, strides, padding, dils):
    strides = [strides] * 2 if isinstance(strides, int) else strides
    dils = [dils] * 2 if isinstance(dils, int) else dils
    pads = geometry(xs[1:-1], ws[:2], strides, padding, dils)
    out_sp = [(n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, s, d, (lo, hi) in
              zip(xs[1:-1], ws[:2], strides, dils, pads)]
    dy = RNG.standard_normal([xs[0]] + out_sp + [ws[-1]]).astype(np.float32)
    w = RNG.standard_normal(ws).astype(np.float32)
    got = conv_kernels.conv_backprop_input(DEV, dy, w, in_shape=xs[1:], strides=strides,
                                           pads=pads, dilations=dils)
    ref = ref_conv_transpose(dy.astype(np.float64), w.astype(np.float64), xs, strides,
                             pads, dils)
    assert got.shape == xs and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    # the previous form: all taps' blocks from one batched GEMM, then the same adds
    blocks = np.matmul(dy.reshape(-1, ws[-1])[None],
                       w.reshape(-1, ws[2], ws[3]).transpose(0, 2, 1))
    per_tap = dy.shape[:-1] + (ws[2],)
    batched = conv_kernels.accumulate_taps(
        np, lambda i, tap: blocks[i].reshape(per_tap), xs[0], xs[1:], ws[:2], strides,
        pads, dils, out_sp, np.float32)
    np.testing.assert_array_equal(got, batched)


@pytest.mark.parametrize("padding, strides", [("VALID", 1), ("SAME", 2)])
def test_conv2d_with_wide_input_grad_gradients(padding, strides):
    x = RNG.standard_normal((2, 6, 6, 16))
    w = RNG.standard_normal((3, 3, 16, 3)) * 0.3

    def fn(a, b):
        return tf.nn.conv2d(a, b, strides=strides, padding=padding)
    pads = geometry((6, 6), (3, 3), [strides] * 2, padding, [1, 1])
    check_op(fn, [x, w], lambda a, b: ref_conv(a, b, [strides] * 2, pads, [1, 1]), rtol=1e-6, atol=1e-6, grad_rtol=1e-5, grad_atol=1e-6)
