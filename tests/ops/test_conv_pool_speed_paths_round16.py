"""Sixteenth-session pooling and convolution paths.

* Max pooling with NaN follows TF's CPU kernels: the forward ignores NaN and never
  returns less than the dtype's lowest finite value; the 1-D/2-D gradient goes where
  TF's argmax scan ends (a leading NaN keeps it); the 3-D gradient goes to every
  element equal to the maximum. Expected values below came from TF 2.21 on CPU.
* Explicit max-pool padding as wide as the window is refused, as in TF.
* Single-channel convolutions build their patch matrix tap-major (a transposed view)
  and the fused conv adds a per-channel bias inside the GEMM.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import errors
from dlframe.backends import get_device
from dlframe.ops import conv_kernels, cpu_fusions, pooling
from tests.function.test_cpu_fusion_pass import (  # noqa: F401 - on_host: a fixture
    _cnn_grads,
    _compiled,
    on_host,
)
from tests.helpers import check_op
from tests.ops.test_conv import as2, geometry, ref_conv
from tests.ops.test_conv_pool_backward_fast import ref_max_pool_grad

RNG = np.random.default_rng(16)
NAN, NEG_INF = np.nan, -np.inf
F32_LOW = np.finfo(np.float32).min
CPU = get_device("cpu:0")   # the host kernels below are fed NumPy arrays
# TF's CPU kernels scan for NaN; on a GPU (TF's and ours) the gradient goes to the
# first maximum without a host check (tests/ops/test_gpu_fixes_round21_a.py)
host_nan_rules = pytest.mark.usefixtures("on_host")


def _pool_and_grad(pool, x, weights=True):
    """Pooled values and the gradient of sum(y * (1, 2, 3, ...)), eager and compiled."""
    def run(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = pool(v)
            w = tf.reshape(tf.range(1, tf.size(y) + 1, dtype=y.dtype), tf.shape(y))
            loss = tf.reduce_sum(y * w if weights else y)
        return y, tape.gradient(loss, v)
    out = []
    for fn in (run, tf.function(run)):
        y, dx = fn(tf.constant(x))
        out.append((y.numpy(), dx.numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    return out[0]


GRID = np.array([[1, NAN, 3, 4], [5, 6, NAN, NAN], [NAN, 2, 0, 0], [1, 1, 0, 0]],
                np.float32).reshape(1, 4, 4, 1)
TF_NAN_CASES = [  # pool, input, TF 2.21's y, TF 2.21's dx (flattened); the first
    # five differentiate sum(y * (1, 2, 3, ...)), the others sum(y)
    (lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID"), GRID, [6, 4, 2, 0],
     [0, 0, 0, 2, 0, 1, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]),
    (lambda v: tf.nn.max_pool2d(v, 3, 1, "VALID"), GRID, [6, 6, 6, 6],
     [0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    (lambda v: tf.nn.max_pool2d(v, 3, 2, "SAME"), GRID, [6, 4, 2, 0],
     [0, 0, 0, 2, 0, 1, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0]),
    (lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID"),
     np.array([NAN, 1, 2, 3], np.float32).reshape(1, 2, 2, 1), [3], [1, 0, 0, 0]),
    (lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID"),
     np.array([1, 2, NAN, 3], np.float32).reshape(1, 2, 2, 1), [3], [0, 0, 0, 1]),
    (lambda v: tf.nn.max_pool2d(v, 2, 1, "SAME"),   # padded windows, a leading NaN
     np.array([1, NAN, 2, NAN, 0, 1, 3, 3, NAN], np.float32).reshape(1, 3, 3, 1),
     [1, 2, 2, 3, 3, 1, 3, 3, F32_LOW], [1, 1, 1, 1, 0, 1, 1, 2, 1]),
    (lambda v: tf.nn.max_pool1d(v, 3, 1, "SAME"),
     np.array([NAN, 3, NAN, 1, 2, 2], np.float32).reshape(1, 6, 1),
     [3, 3, 3, 2, 2, 2], [2, 1, 1, 0, 2, 0]),
    (lambda v: tf.nn.max_pool3d(v, 2, 2, "VALID"),   # 3-D: every maximum
     np.array([2, NAN, 2, NAN, 2, 2, 2, 2], np.float32).reshape(1, 2, 2, 2, 1),
     [2], [1, 0, 1, 0, 1, 1, 1, 1]),
    (lambda v: tf.nn.max_pool3d(v, 2, 2, "VALID"),
     np.array([NAN, 3, NAN, 1, 2, 3, 1, NAN], np.float32).reshape(1, 2, 2, 2, 1),
     [3], [0, 1, 0, 0, 0, 1, 0, 0]),
    (lambda v: tf.nn.max_pool3d(v, [2, 2, 1], 1, "SAME"),
     np.array([1, NAN, 2, NAN, 0, 1, 3, 3, NAN], np.float32).reshape(1, 3, 3, 1, 1),
     [1, 2, 2, 3, 3, 1, 3, 3, F32_LOW], [1, 0, 2, 0, 0, 1, 2, 4, 0]),
]


@host_nan_rules
@pytest.mark.parametrize("case", range(len(TF_NAN_CASES)))
def test_max_pool_with_nan_matches_tf(case):
    pool, x, y_tf, dx_tf = TF_NAN_CASES[case]
    y, dx = _pool_and_grad(pool, x, weights=case < 5)
    np.testing.assert_array_equal(y.ravel(), np.array(y_tf, np.float32))
    np.testing.assert_array_equal(dx.ravel(), np.array(dx_tf, np.float32))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("values", [[NAN] * 4, [NEG_INF] * 4, [NEG_INF, NAN] * 2,
                                    [NAN, NEG_INF, NAN, NAN]])
def test_windows_without_a_finite_maximum_give_lowest_and_first_gets_gradient(
        dtype, values):
    x = np.array(values, dtype).reshape(1, 2, 2, 1)
    for pool in (lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID"),
                 lambda v: tf.nn.max_pool2d(v, 2, 1, "SAME")):
        y, dx = _pool_and_grad(pool, x, weights=False)
        assert y.dtype == dtype and y.ravel()[0] == np.finfo(dtype).min
        assert dx.ravel()[0] == 1   # TF: each window's first element
    y, dx = _pool_and_grad(lambda v: tf.nn.max_pool3d(v, 2, 2, "VALID"),
                           x.reshape(1, 1, 2, 2, 1).repeat(2, axis=1))
    assert y.ravel()[0] == np.finfo(dtype).min and not dx.any()   # no element equals


def test_integer_max_pool_keeps_its_range():
    low = np.iinfo(np.int32).min
    x = np.array([[low, low, 5, -3], [low, low, 7, 7]], np.int32)
    y = tf.nn.max_pool2d(tf.constant(x.reshape(1, 2, 4, 1)), 2, 2, "VALID")
    np.testing.assert_array_equal(y.numpy().ravel(), [np.iinfo(np.int32).min, 7])


@host_nan_rules
@pytest.mark.parametrize("geo", [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME"),
                                 ((2, 2), (2, 2), "SAME"), ((3, 2), (1, 2), "VALID")])
def test_nan_kernels_match_tf_scan_reference(geo):
    """Random NaN (some leading their window), ties and odd sizes, batch 1."""
    ksize, strides, padding = geo
    x = np.round(RNG.standard_normal((1, 9, 7, 3)) * 2).astype(np.float32) / 2
    x[RNG.random(x.shape) < 0.15] = np.nan
    y, dx = _pool_and_grad(lambda v: tf.nn.max_pool2d(v, ksize, strides, padding), x,
                           weights=False)
    pads = geometry(x.shape[1:3], ksize, strides, padding, (1, 1))
    np.testing.assert_array_equal(
        dx, ref_max_pool_grad(x, np.ones(y.shape, np.float32), ksize, strides, pads))
    assert not np.isnan(y).any()


@pytest.mark.usefixtures("on_host")   # the remapping pass is CPU-only
@pytest.mark.parametrize("pool_geo", [(2, 2, "VALID"), (3, 2, "SAME")])
def test_fused_relu_pool_gradient_with_nan_matches_eager_and_tf_rule(pool_geo):
    """``_ReluMaxPoolGrad`` on a ReLU output holding NaN: a NaN that takes a window's
    gradient passes none on (TF's ReluGrad of NaN is 0)."""
    x = RNG.standard_normal((2, 8, 8, 3)).astype(np.float32)
    x[0, 0, 0, 0] = x[1, 2, 2, 1] = x[1, 5, 4, 2] = np.nan   # first of their windows
    x[0, 3, 5, 1] = np.nan
    w = np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)
    fn = _cnn_grads(pool_geo, (1, "VALID"))
    args = (tf.constant(x), tf.constant(w), tf.constant(np.zeros(3, np.float32)))
    eager = [o.numpy() for o in fn(*args)]
    fused, names = _compiled(fn, args)
    assert "_ReluMaxPoolGrad" in names
    for e, f in zip(eager, fused):
        np.testing.assert_array_equal(np.isnan(e), np.isnan(f))
        np.testing.assert_allclose(f, e, rtol=1e-6, atol=1e-6)
    assert eager[2][0, 0, 0, 0] == 0 and eager[2][1, 2, 2, 1] == 0


@pytest.mark.parametrize("padding,message", [
    ([[0, 0], [2, 0], [0, 0], [0, 0]],
     "Top padding 2 needs to be smaller than the window size 2"),
    ([[0, 0], [0, 3], [0, 0], [0, 0]], "Bottom padding 3"),
    ([[0, 0], [0, 0], [2, 0], [0, 0]], "Left padding 2"),
    ([[0, 0], [0, 0], [0, 2], [0, 0]], "Right padding 2"),
])
def test_explicit_max_pool_padding_as_wide_as_the_window_is_refused(padding, message):
    x = tf.constant(np.arange(30.0, dtype=np.float32).reshape(1, 6, 5, 1))
    with pytest.raises(errors.InvalidArgumentError, match=message):
        tf.nn.max_pool2d(x, 2, 2, padding)
    assert tf.nn.max_pool2d(x, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]).shape == \
        (1, 4, 3, 1)
    with pytest.raises(errors.InvalidArgumentError, match="Right padding 2"):
        tf.nn.max_pool1d(tf.constant(np.ones((1, 6, 1), np.float32)), 2, 2,
                         [[0, 0], [0, 2], [0, 0]])


# ---------------------------------------------------------------- one input channel
SINGLE_CHANNEL = [  # x shape, filter shape, strides, padding, dilations
    ((3, 9, 8, 1), (3, 3, 1, 4), 1, "VALID", 1),
    ((1, 7, 7, 1), (3, 3, 1, 2), 2, "SAME", 1),       # batch 1, odd sizes
    ((2, 6, 9, 1), (2, 3, 1, 3), [1, 2], "SAME", 1),
    ((2, 9, 9, 1), (3, 3, 1, 2), 1, "VALID", 2),       # dilated
    ((2, 5, 6, 1), (3, 2, 1, 2), 1, [[0, 0], [1, 2], [0, 1], [0, 0]], 1),
]


@pytest.mark.parametrize("xs,ws,strides,padding,dils", SINGLE_CHANNEL)
def test_single_channel_conv_matches_reference_and_gradients(xs, ws, strides, padding,
                                                             dils):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    pads = geometry(xs[1:3], ws[:2], as2(strides), padding, as2(dils))
    check_op(lambda a, b: tf.nn.conv2d(a, b, strides, padding, dilations=dils), [x, w],
             lambda a, b: ref_conv(a, b, as2(strides), pads, as2(dils)))


def test_single_channel_patches_are_a_transposed_tap_major_block():
    x = RNG.standard_normal((2, 6, 5, 1)).astype(np.float32)
    cols = conv_kernels._im2col(np, x, (3, 2), (1, 1), ((0, 0), (0, 0)), (1, 1), (4, 4))
    assert cols.shape == (32, 6) and cols.T.flags.c_contiguous
    expect = np.stack([x[:, i:i + 4, j:j + 4, 0].ravel() for i in range(3)
                       for j in range(2)], axis=1)
    np.testing.assert_array_equal(cols, expect)


@pytest.mark.usefixtures("on_host")   # the remapping pass is CPU-only
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_single_channel_conv_nchw_and_fused_step(data_format):
    x = RNG.standard_normal((2, 10, 9, 1)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 1, 4)).astype(np.float32)
    ref = ref_conv(x.astype(np.float64), w.astype(np.float64), (1, 1),
                   [(1, 1), (1, 1)], (1, 1))
    xin = x if data_format == "NHWC" else x.transpose(0, 3, 1, 2)
    y = tf.nn.conv2d(tf.constant(xin), tf.constant(w), 1, "SAME",
                     data_format=data_format).numpy()
    if data_format == "NCHW":
        y = y.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    # the compiled CNN step (fused conv keeping its patches for the filter gradient)
    fn = _cnn_grads((2, 2, "VALID"), (1, "SAME"))
    args = (tf.constant(x), tf.constant(w),
            tf.constant(np.array([0.1, -0.2, 0.0, 0.3], np.float32)))
    eager = [o.numpy() for o in fn(*args)]
    fused, names = _compiled(fn, args)
    assert "_FusedConv2DKeepPatches" in names
    for e, f in zip(eager, fused):
        np.testing.assert_allclose(f, e, rtol=1e-5, atol=1e-5)


def test_tiled_kernel_paths_agree_with_scan_masks():
    """The fast tiled/first-max paths and the exact scan give the same gradient on
    NaN-free data (ties included)."""
    x = RNG.integers(-2, 3, (2, 8, 6, 3)).astype(np.float32)
    d = CPU
    for ksize, strides in (((2, 2), (2, 2)), ((3, 2), (2, 1))):
        geo = {"ksize": ksize, "strides": strides, "pads": ((0, 0), (0, 0)),
               "dilations": (1, 1)}
        y = pooling.max_pool_forward(d, x, **geo)
        dy = (RNG.integers(-64, 64, y.shape) / 8).astype(np.float32)   # exact sums
        fast = pooling.max_pool_grad(d, x, y, dy, **geo)
        scan = pooling._scan_masks(np, x, y, ksize, strides, geo["pads"], (1, 1))
        first = pooling._first_max_masks(np, x, y, ksize, strides, geo["pads"], (1, 1))
        for (_, a), (_, b) in zip(scan, first):   # each mask is checked as it comes
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(fast, ref_max_pool_grad(x, dy, ksize, strides))


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("relu", [True, False])
def test_single_channel_fused_conv_adds_the_bias_inside_the_gemm(dtype, tol, relu):
    d = CPU
    x = RNG.standard_normal((5, 9, 8, 1)).astype(dtype)
    w = RNG.standard_normal((3, 2, 1, 4)).astype(dtype)
    b = RNG.standard_normal(4).astype(dtype)
    for pads in (((0, 0), (0, 0)), ((1, 1), (0, 1))):
        geo = {"strides": (1, 2), "pads": pads, "dilations": (1, 1)}
        expect = conv_kernels.conv_forward(d, x, w, **geo) + b
        if relu:
            expect = np.maximum(expect, 0)
        y, cols = cpu_fusions.fused_conv_patches_p.forward(d, x, w, b, relu=relu,
                                                           **geo)
        assert y.dtype == x.dtype and cols.shape == (expect[..., 0].size, 6)
        np.testing.assert_allclose(y, expect, rtol=tol, atol=tol)
        dy = RNG.standard_normal(y.shape).astype(dtype)
        np.testing.assert_allclose(
            conv_kernels.filter_grad_from_cols(d, cols, dy, filter_shape=w.shape),
            conv_kernels.conv_backprop_filter(d, x, dy, filter_shape=w.shape, **geo),
            rtol=tol, atol=tol)
        # a bias that is not one value per channel is added after the GEMM
        b2 = RNG.standard_normal(expect.shape[1:]).astype(dtype)
        y2 = cpu_fusions.fused_conv_p.forward(d, x, w, b2, relu=False, **geo)
        np.testing.assert_array_equal(y2, conv_kernels.conv_forward(d, x, w, **geo) + b2)


def test_gpu_style_forward_ignores_nan_like_the_host_check():
    """The GPU branch (no host check: NaN-ignoring maxima, then the floor) gives the
    CPU result; run it on NumPy."""
    import types
    cpu = CPU
    gpu_like = types.SimpleNamespace(xp=np, is_gpu=True)
    x = RNG.standard_normal((2, 7, 6, 3)).astype(np.float32)
    x[RNG.random(x.shape) < 0.3] = np.nan
    x[0, :2, :2, 0] = np.nan
    x[1, :2, :2, 1] = -np.inf
    for ksize, strides, pads in (((2, 2), (2, 2), ((0, 0), (0, 0))),
                                 ((3, 3), (2, 1), ((1, 1), (0, 2)))):
        geo = {"ksize": ksize, "strides": strides, "pads": pads, "dilations": (1, 1)}
        y = pooling.max_pool_forward(cpu, x, **geo)
        np.testing.assert_array_equal(pooling.max_pool_forward(gpu_like, x, **geo), y)
        assert not np.isnan(y).any() and y.min() >= F32_LOW
