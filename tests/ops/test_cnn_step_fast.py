"""CPU kernels of the small-CNN step: ReLU into a buffer, the ReLU gradient, the
fused convolution + bias [+ ReLU] and the ReLU-masked max-pool gradient, against
the plain NumPy formulas and the unfused kernels."""

import numpy as np
import pytest

from dlframe.backends import get_device
from dlframe.ops import conv_kernels, cpu_fusions, nn, pooling
from tests.ops.test_conv_pool_backward_fast import ref_max_pool_grad

RNG = np.random.default_rng(11)
D = get_device("cpu:0")   # host kernels fed NumPy arrays, whatever the default device


@pytest.mark.parametrize("n", [1, 100, 4096, 4097, 3 * 4096 + 5])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_relu_into_matches_maximum(n, dtype):
    x = (RNG.standard_normal(n) * 10).astype(dtype)
    if dtype != "int32":
        x[::5] = -0.0
        x[::7] = np.nan
    expect = np.maximum(x, 0)
    out = np.empty_like(x)
    assert nn.relu_into(x, out) is out
    np.testing.assert_array_equal(out, expect)
    assert not np.signbit(out[::5]).any()       # relu(-0.0) is +0.0 as max(-0., 0)
    nn.relu_into(x, x)                          # in place
    np.testing.assert_array_equal(x, expect)


def test_relu_into_strided_input():
    x = RNG.standard_normal((64, 130)).astype("float32")[:, ::2]
    out = np.empty(x.shape, x.dtype)
    np.testing.assert_array_equal(nn.relu_into(x, out), np.maximum(x, 0))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
def test_relu_grad_into_matches_mask_product(dtype):
    dy = (RNG.standard_normal(5000) * 4).astype(dtype)
    y = np.maximum(RNG.standard_normal(5000) * 4, 0).astype(dtype)
    out = np.empty_like(dy)
    nn.relu_grad_p.into(dy, y, out=out)
    np.testing.assert_array_equal(out, dy * (y > 0))
    assert out.dtype == dy.dtype


@pytest.mark.parametrize("shape, bias_shape", [
    ((8, 5, 7, 3), (3,)),        # tiled per sample
    ((2, 5, 7, 3), (3,)),        # small batch: broadcast
    ((8, 1, 1, 3), (3,)),        # sample as long as the bias
    ((8, 4, 4, 3), (4, 1, 3)),   # any bias broadcasting into the output
])
def test_add_bias_in_place(shape, bias_shape):
    y = RNG.standard_normal(shape).astype("float32")
    b = RNG.standard_normal(bias_shape).astype("float32")
    expect = y + b
    got = cpu_fusions.add_bias(np, y, b)
    assert got is y
    np.testing.assert_array_equal(got, expect)


GEO = [  # input shape, filter shape, strides, pads
    ((4, 9, 8, 3), (3, 3, 3, 5), (1, 1), ((0, 0), (0, 0))),
    ((4, 9, 9, 2), (3, 3, 2, 4), (2, 2), ((1, 1), (1, 1))),
    ((3, 6, 6, 4), (1, 1, 4, 2), (1, 1), ((0, 0), (0, 0))),
    ((2, 5, 5, 4), (3, 3, 2, 4), (1, 1), ((1, 1), (1, 1))),     # grouped
]


@pytest.mark.parametrize("xs, ws, strides, pads", GEO)
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_conv_matches_conv_bias_relu(xs, ws, strides, pads, relu, dtype):
    x = RNG.standard_normal(xs).astype(dtype)
    w = RNG.standard_normal(ws).astype(dtype)
    b = RNG.standard_normal(ws[-1]).astype(dtype)
    geo = {"strides": strides, "pads": pads, "dilations": (1, 1)}
    expect = conv_kernels.conv_forward(D, x, w, **geo) + b
    if relu:
        expect = np.maximum(expect, 0)
    got = cpu_fusions.fused_conv_p.forward(D, x, w, b, relu=relu, **geo)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, expect)


def _relu_out(shape, dtype, ties):
    x = RNG.standard_normal(shape)
    if ties:
        x = np.round(x)          # many equal positive maxima and all-zero windows
    return np.maximum(x, 0).astype(dtype)


POOLS = [  # input shape, ksize, strides, pads
    ((3, 8, 8, 4), (2, 2), (2, 2), ((0, 0), (0, 0))),       # tiled, whole
    ((3, 11, 9, 4), (2, 2), (2, 2), ((0, 0), (0, 0))),      # tiled, odd: edge uncovered
    ((2, 9, 9, 3), (3, 3), (3, 3), ((0, 0), (0, 0))),       # 3x3 tiled
    ((2, 12, 4), (2,), (2,), ((0, 0),)),                    # 1-d
    ((2, 7, 7, 3), (3, 3), (2, 2), ((1, 1), (1, 1))),       # overlapping, SAME
]


@pytest.mark.parametrize("shape, ksize, strides, pads", POOLS)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_max_pool_grad_matches_unfused(shape, ksize, strides, pads, ties, dtype):
    x = _relu_out(shape, dtype, ties)
    geo = {"ksize": ksize, "strides": strides, "pads": pads,
           "dilations": (1,) * len(ksize)}
    y = pooling.max_pool_forward(D, x, **geo)
    dy = RNG.standard_normal(y.shape).astype(dtype)
    expect = pooling.max_pool_grad(D, x, y, dy, **geo) * (x > 0)
    got = cpu_fusions.relu_max_pool_grad_p.forward(D, x, y, dy, **geo)
    np.testing.assert_array_equal(got, expect)
    loops = ref_max_pool_grad(x, dy, ksize, strides, pads) * (x > 0)
    np.testing.assert_allclose(got, loops, rtol=1e-6 if dtype == "float32" else 1e-13)
    assert got.dtype == x.dtype and got.shape == x.shape


def test_relu_max_pool_grad_positive_tie_goes_to_first():
    x = np.zeros((1, 4, 4, 1), "float32")
    x[0, :2, :2, 0] = [[0.0, 2.0], [2.0, 1.0]]      # tie of two positive maxima
    x[0, 2:, 2:, 0] = [[0.0, 0.0], [0.0, 3.0]]
    geo = {"ksize": (2, 2), "strides": (2, 2), "pads": ((0, 0), (0, 0)),
           "dilations": (1, 1)}
    y = pooling.max_pool_forward(D, x, **geo)
    dy = np.ones(y.shape, "float32")
    got = cpu_fusions.relu_max_pool_grad_p.forward(D, x, y, dy, **geo)[0, :, :, 0]
    expect = np.zeros((4, 4), "float32")
    expect[0, 1] = expect[3, 3] = 1.0
    np.testing.assert_array_equal(got, expect)


def test_relu_max_pool_grad_nan_window_does_not_hide_a_tie():
    # one NaN window (no match) and one tied window (two matches): the counts
    # balance, so the NaN check must force the tie-breaking pass
    x = np.zeros((1, 2, 4, 1), "float32")
    x[0, :, :2, 0] = [[np.nan, 1.0], [1.0, 1.0]]
    x[0, :, 2:, 0] = [[2.0, 2.0], [0.5, 1.0]]
    geo = {"ksize": (2, 2), "strides": (2, 2), "pads": ((0, 0), (0, 0)),
           "dilations": (1, 1)}
    y = pooling.max_pool_forward(D, x, **geo)
    dy = np.ones(y.shape, "float32")
    got = cpu_fusions.relu_max_pool_grad_p.forward(D, x, y, dy, **geo)[0, :, 2:, 0]
    np.testing.assert_array_equal(got, [[1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("xs, ws, strides, pads", GEO)
def test_filter_grad_from_forward_patches_matches_backprop_filter(xs, ws, strides,
                                                                 pads):
    x = RNG.standard_normal(xs)
    w = RNG.standard_normal(ws)
    geo = {"strides": strides, "pads": pads, "dilations": (1, 1)}
    y, cols = conv_kernels.conv_forward_cols(D, x, w, **geo)
    np.testing.assert_array_equal(y, conv_kernels.conv_forward(D, x, w, **geo))
    dy = RNG.standard_normal(y.shape)
    got = conv_kernels.filter_grad_from_cols(D, cols, dy, filter_shape=ws)
    expect = conv_kernels.conv_backprop_filter(D, x, dy, filter_shape=ws, **geo)
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)
    # the patches-keeping fused primitive returns the same pair
    b = np.zeros(ws[-1])
    y2, cols2 = cpu_fusions.fused_conv_patches_p.forward(D, x, w, b, relu=False, **geo)
    np.testing.assert_array_equal(cols2, cols)
    np.testing.assert_array_equal(y2, y)
