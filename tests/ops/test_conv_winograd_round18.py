"""Winograd F(2x2, 3x3) (and F(4x4, 3x3)) convolution on the NumPy backend.

The kernel is checked against a float64 NumPy direct convolution and against the
GEMM path it replaces, for odd/even sizes, SAME/VALID/asymmetric padding, batch 1,
many channels and float64; the input gradient against the existing kernel and
finite differences; eager against ``tf.function``; and the dispatch rules (which
convolutions take the path at all).
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends import get_device
from dlframe.ops import conv_kernels, conv_winograd
from tests.function.test_cpu_fusion_pass import _compiled, on_host  # noqa: F401
from tests.helpers import check_function_matches_eager, check_grad
from tests.ops.test_conv import ref_conv

RNG = np.random.default_rng(18)
DEVICE = get_device("cpu:0")   # Winograd is a host (NumPy) kernel


def _direct(x, w, pads):
    """Float64 stride-1 3x3 cross-correlation with spatial ``pads``."""
    return ref_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), pads, (1, 1))


def _pair(shape, cout, dtype=np.float32):
    x = RNG.standard_normal(shape).astype(dtype)
    w = (RNG.standard_normal((3, 3, shape[-1], cout)) / np.sqrt(9 * shape[-1]))
    return x, w.astype(dtype)


@pytest.fixture
def always_winograd(monkeypatch):
    """Every eligible convolution, however small, takes the Winograd path."""
    monkeypatch.setattr(conv_winograd, "_MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_winograd, "_MIN_FLOPS", 0)


CASES = [  # x shape, out channels, pads
    ((2, 13, 13, 32), 64, ((0, 0), (0, 0))),    # the small CNN's conv2 (VALID, odd)
    ((1, 8, 8, 16), 8, ((1, 1), (1, 1))),       # batch 1, SAME, even
    ((3, 7, 10, 5), 6, ((1, 1), (1, 1))),       # odd/even mix
    ((2, 6, 5, 4), 3, ((0, 1), (2, 0))),        # asymmetric explicit padding
    ((1, 3, 3, 2), 2, ((0, 0), (0, 0))),        # a single output pixel
    ((1, 5, 4, 96), 80, ((1, 1), (1, 1))),      # many channels
]


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("shape,cout,pads", CASES)
def test_forward_matches_direct_convolution(shape, cout, pads, tile):
    x, w = _pair(shape, cout)
    ref = _direct(x, w, pads)
    y = conv_winograd.winograd_forward(DEVICE, x, w, pads, tile)
    assert y.shape == ref.shape and y.dtype == np.float32
    # F(2x2) is as exact as the GEMM path; F(4x4) loses ~10x more (still ~1e-6)
    tol = 2e-6 if tile == 2 else 2e-5
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol * np.abs(ref).max())
    gemm = conv_kernels._im2col(np, x, (3, 3), (1, 1), pads, (1, 1), ref.shape[1:3])
    gemm = (gemm @ w.reshape(-1, cout)).reshape(ref.shape)
    np.testing.assert_allclose(y, gemm, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("shape,cout,pads", CASES[:4])
def test_float64_and_input_gradient_match_existing_kernel(shape, cout, pads, tile):
    x, w = _pair(shape, cout, np.float64)
    y = conv_winograd.winograd_forward(DEVICE, x, w, pads, tile)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, _direct(x, w, pads), rtol=1e-12, atol=1e-12)
    dy = RNG.standard_normal(y.shape)
    dx = conv_winograd.winograd_backprop_input(DEVICE, dy, w, pads, tile)
    # the input gradient is the transposed convolution: <dy, conv(x)> = <dx, x>
    assert dx.shape == x.shape
    np.testing.assert_allclose(np.sum(dx * x), np.sum(dy * y), rtol=1e-10)
    # the GEMM + col2im kernel (channels too narrow for Winograd there)
    dx_gemm = conv_kernels.accumulate_taps(
        np, lambda i, tap: dy @ w[tap].T, x.shape[0], x.shape[1:], (3, 3), (1, 1),
        pads, (1, 1), y.shape[1:3], np.float64)
    np.testing.assert_allclose(dx, dx_gemm, rtol=1e-10, atol=1e-10)


def test_f4x4_float32_error_stays_near_1e_6():
    """F(4x4) on typical activations: max error ~3e-6 of the largest output."""
    x, w = _pair((4, 14, 14, 64), 64)
    x = np.maximum(x, 0)   # ReLU activations
    ref = _direct(x, w, ((1, 1), (1, 1)))
    y = conv_winograd.winograd_forward(DEVICE, x, w, ((1, 1), (1, 1)), 4)
    assert np.abs(y - ref).max() / np.abs(ref).max() < 1e-5


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv2d_gradients_vs_finite_differences(always_winograd, padding):
    x, w = _pair((2, 6, 5, 3), 4, np.float64)
    assert conv_winograd.winograd_applies(x, w, (1, 1), (1, 1), ((1, 1), (1, 1)))

    def conv(x, w):
        return tf.nn.conv2d(x, w, 1, padding)
    check_grad(conv, [x, w])
    check_function_matches_eager(conv, [x, w])


def test_nchw_takes_the_path_too(always_winograd):
    x_last, w = _pair((2, 4, 7, 6), 5, np.float64)
    x = np.ascontiguousarray(x_last.transpose(0, 3, 1, 2))
    y = tf.nn.conv2d(tf.constant(x), tf.constant(w), 1, "SAME", data_format="NCHW")
    ref = _direct(x_last, w, ((1, 1), (1, 1))).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.usefixtures("on_host")   # the path is a host kernel; GPUs never take it
def test_wide_layer_takes_the_path_by_default(monkeypatch):
    """A 64 -> 64 channel layer runs Winograd (forward and input gradient) in eager
    and compiled steps, including the fused conv + bias + ReLU of the remapper."""
    x, w = _pair((8, 14, 13, 64), 64)
    b = RNG.standard_normal(64).astype(np.float32)
    assert conv_winograd.winograd_applies(x, w, (1, 1), (1, 1), ((1, 1), (1, 1)))
    calls = []
    real_fwd, real_dgrad = conv_winograd.winograd_forward, \
        conv_winograd.winograd_backprop_input

    def spy(fn, name):
        def run(*args, **kwargs):
            calls.append(name)
            return fn(*args, **kwargs)
        return run
    monkeypatch.setattr(conv_kernels, "winograd_forward", spy(real_fwd, "fwd"))
    monkeypatch.setattr(conv_kernels, "winograd_backprop_input",
                        spy(real_dgrad, "dgrad"))

    def step(x, w, b):
        with tf.GradientTape() as tape:
            tape.watch([x, w, b])
            y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "SAME"), b))
            loss = tf.reduce_sum(y * y)
        return [loss, y] + tape.gradient(loss, [x, w, b])

    args = [tf.constant(x), tf.constant(w), tf.constant(b)]
    eager = [t.numpy() for t in step(*args)]
    assert calls == ["fwd", "dgrad"]
    graph, names = _compiled(step, args)
    assert any("Fused" in n for n in names)
    assert calls.count("fwd") == 2 and calls.count("dgrad") == 2
    for e, g in zip(eager, graph):
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-5 * np.abs(e).max())
    pads = ((1, 1), (1, 1))
    ref = np.maximum(_direct(x, w, pads) + b, 0)
    np.testing.assert_allclose(eager[1], ref, rtol=1e-5, atol=1e-5 * ref.max())
    dx_ref = conv_kernels.accumulate_taps(
        np, lambda i, tap: (2 * ref) @ w[tap].T.astype(np.float64), 8, x.shape[1:],
        (3, 3), (1, 1), pads, (1, 1), (14, 13), np.float64)
    np.testing.assert_allclose(eager[2], dx_ref, rtol=1e-4,
                               atol=1e-5 * np.abs(dx_ref).max())


@pytest.mark.parametrize("change", [
    {"strides": (2, 1)}, {"dilations": (1, 2)}, {"kernel": 5}, {"dtype": np.float16},
    {"groups": 2}, {"channels": 32}, {"pads": ((3, 3), (1, 1))},
])
def test_other_convolutions_keep_the_gemm_path(change):
    dtype = change.get("dtype", np.float32)
    c = change.get("channels", 64)
    k = change.get("kernel", 3)
    x = np.zeros((8, 12, 12, c), dtype)
    w = np.zeros((k, k, c, 64), dtype)
    assert not conv_winograd.winograd_applies(
        x, w, change.get("strides", (1, 1)), change.get("dilations", (1, 1)),
        change.get("pads", ((1, 1), (1, 1))), change.get("groups", 1))


def test_tiny_wide_convolution_keeps_the_gemm_path():
    x, w = np.zeros((1, 3, 3, 64), np.float32), np.zeros((3, 3, 64, 64), np.float32)
    assert not conv_winograd.winograd_applies(x, w, (1, 1), (1, 1), ((0, 0), (0, 0)))
