"""Convolution ops against straightforward NumPy loops, TF-checked anchors and
finite-difference gradients."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import errors
from tests.helpers import check_grad, check_op, numeric_grad

RNG = np.random.default_rng(1234)


def rand(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------- NumPy references
def tf_same_pads(n, k, s, d):
    """TF's SAME rule: output ceil(n / s); the odd padding element goes after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return (total // 2, total - total // 2)


def geometry(x_sp, ks, strides, padding, dils):
    if padding == "SAME":
        return [tf_same_pads(n, k, s, d) for n, k, s, d in zip(x_sp, ks, strides, dils)]
    if padding == "VALID":
        return [(0, 0)] * len(ks)
    return [tuple(p) for p in padding[1:-1]]


def ref_conv(x, w, strides, pads, dils):
    """Grouped N-d cross-correlation, one output position and tap at a time."""
    r = x.ndim - 2
    xpad = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
    ks, cg, cout = w.shape[:r], w.shape[r], w.shape[-1]
    groups = x.shape[-1] // cg
    cog = cout // groups
    out_sp = [(xpad.shape[1 + i] - (ks[i] - 1) * dils[i] - 1) // strides[i] + 1
              for i in range(r)]
    out = np.zeros([x.shape[0]] + out_sp + [cout])
    for o in np.ndindex(*out_sp):
        for k in np.ndindex(*ks):
            pos = tuple(o[i] * strides[i] + k[i] * dils[i] for i in range(r))
            patch = xpad[(slice(None),) + pos]
            for g in range(groups):
                out[(slice(None),) + o + (slice(g * cog, (g + 1) * cog),)] += \
                    patch[:, g * cg:(g + 1) * cg] @ w[k][:, g * cog:(g + 1) * cog]
    return out


def ref_conv_transpose(x, w, out_shape, strides, pads, dils):
    """Scatters every input pixel through the [k..., out, in] filter."""
    r = x.ndim - 2
    full = [n + lo + hi for n, (lo, hi) in zip(out_shape[1:-1], pads)]
    out = np.zeros([x.shape[0]] + full + [w.shape[-2]])
    for o in np.ndindex(*x.shape[1:-1]):
        for k in np.ndindex(*w.shape[:r]):
            pos = tuple(o[i] * strides[i] + k[i] * dils[i] for i in range(r))
            out[(slice(None),) + pos] += x[(slice(None),) + o] @ w[k].T
    idx = (slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                 zip(out_shape[1:-1], pads))
    return out[idx]


def ref_depthwise(x, w, strides, pads, dils):
    xpad = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
    kh, kw, c, m = w.shape
    oh = (xpad.shape[1] - (kh - 1) * dils[0] - 1) // strides[0] + 1
    ow = (xpad.shape[2] - (kw - 1) * dils[1] - 1) // strides[1] + 1
    out = np.zeros((x.shape[0], oh, ow, c * m))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    v = xpad[:, i * strides[0] + a * dils[0], j * strides[1] + b * dils[1]]
                    for ch in range(c):
                        out[:, i, j, ch * m:(ch + 1) * m] += v[:, ch:ch + 1] * w[a, b, ch]
    return out


def as2(v):
    return [v, v] if isinstance(v, int) else list(v)


# ---------------------------------------------------------------- conv2d
CONV2D_CASES = [
    # x shape, filter shape, strides, padding, dilations
    ((2, 6, 6, 3), (3, 3, 3, 4), 1, "SAME", 1),
    ((2, 7, 6, 2), (3, 2, 2, 3), 2, "SAME", 1),
    ((1, 6, 6, 2), (2, 2, 2, 3), 2, "SAME", 1),          # even kernel: asymmetric pad
    ((2, 9, 8, 2), (3, 3, 2, 2), [2, 3], "VALID", 1),
    ((1, 8, 8, 2), (3, 3, 2, 2), 1, "SAME", 2),           # dilated
    ((1, 9, 9, 2), (3, 2, 2, 2), 2, "VALID", [2, 1]),     # dilated and strided
    ((2, 5, 5, 3), (1, 1, 3, 4), 1, "VALID", 1),          # pointwise GEMM
    ((2, 5, 5, 3), (1, 1, 3, 4), 2, "SAME", 1),           # strided pointwise
    ((1, 6, 7, 2), (3, 3, 2, 2), [1, 1, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]], 1),
    ((2, 5, 5, 4), (3, 3, 2, 6), 1, "SAME", 1),           # 2 groups
    ((1, 9, 9, 3), (4, 4, 3, 2), 3, "SAME", 1),
]


@pytest.mark.parametrize("xs,ws,strides,padding,dils", CONV2D_CASES)
def test_conv2d_matches_loop_reference_and_gradients(xs, ws, strides, padding, dils):
    x, w = rand(*xs), rand(*ws)
    s2 = as2(strides)[-3:-1] if len(as2(strides)) == 4 else as2(strides)
    pads = geometry(xs[1:3], ws[:2], s2, padding, as2(dils))
    check_op(lambda a, b: tf.nn.conv2d(a, b, strides, padding, dilations=dils), [x, w],
             lambda a, b: ref_conv(a, b, s2, pads, as2(dils)))


def test_conv2d_wide_channels():
    x, w = rand(1, 4, 5, 32), rand(3, 3, 32, 2) * 0.1
    pads = geometry((4, 5), (3, 3), (2, 2), "SAME", (1, 1))
    check_op(lambda a, b: tf.nn.conv2d(a, b, 2, "SAME"), [x, w],
             lambda a, b: ref_conv(a, b, (2, 2), pads, (1, 1)), wrt=[0])
    check_grad(lambda a, b: tf.nn.conv2d(a, b, 1, "VALID"), [x[:, :, :4, :8], w[:, :, :8]],
               wrt=[1])


def test_conv2d_tf_anchor_same_even_kernel():
    # values produced by TensorFlow 2 for this input (SAME pads 0 before, 1 after)
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    w = (np.arange(4, dtype=np.float32) + 1).reshape(2, 2, 1, 1)
    y = tf.nn.conv2d(x, w, 2, "SAME")
    assert y.dtype == tf.float32
    np.testing.assert_array_equal(y.numpy()[0, :, :, 0],
                                  [[41, 61, 31], [141, 161, 71], [62, 68, 24]])
    y1 = tf.nn.conv2d(x, w, 1, "SAME").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y1[-1], [62, 65, 68, 71, 24])
    np.testing.assert_array_equal(y1[:, -1], [31, 51, 71, 91, 24])


def test_conv2d_nchw_is_transposed_nhwc():
    x, w = rand(2, 3, 6, 5), rand(3, 3, 3, 4)
    got = tf.nn.conv2d(x, w, [1, 1, 2, 2], "SAME", data_format="NCHW").numpy()
    want = tf.nn.conv2d(x.transpose(0, 2, 3, 1), w, 2, "SAME").numpy().transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_conv2d_float32_and_int32():
    x = RNG.integers(-3, 4, (1, 4, 4, 2))
    w = RNG.integers(-3, 4, (2, 2, 2, 3))
    yi = tf.nn.conv2d(tf.constant(x, dtype=tf.int32), tf.constant(w, dtype=tf.int32), 1,
                      "VALID")
    assert yi.dtype == tf.int32
    np.testing.assert_array_equal(yi.numpy(), ref_conv(x, w, (1, 1), [(0, 0)] * 2, (1, 1)))
    yf = tf.nn.conv2d(x.astype(np.float32), w.astype(np.float32), 1, "VALID")
    assert yf.dtype == tf.float32
    np.testing.assert_allclose(yf.numpy(), yi.numpy())


def test_conv1d_and_conv3d():
    x, w = rand(2, 9, 3), rand(3, 3, 4)
    pads = geometry((1, 9), (1, 3), (1, 2), "SAME", (1, 1))
    check_op(lambda a, b: tf.nn.conv1d(a, b, 2, "SAME"), [x, w],
             lambda a, b: ref_conv(a[:, None], b[None], (1, 2), pads, (1, 1))[:, 0])
    check_op(lambda a, b: tf.nn.conv1d(a, b, 1, "VALID", dilations=2), [x, w],
             lambda a, b: ref_conv(a, b, (1,), [(0, 0)], (2,)))
    x3, w3 = rand(1, 4, 5, 4, 2), rand(2, 3, 2, 2, 3)
    pads3 = geometry((4, 5, 4), (2, 3, 2), (1, 2, 2), "SAME", (1, 1, 1))
    check_op(lambda a, b: tf.nn.conv3d(a, b, [1, 1, 2, 2, 1], "SAME"), [x3, w3],
             lambda a, b: ref_conv(a, b, (1, 2, 2), pads3, (1, 1, 1)))
    got = tf.nn.convolution(x, w, strides=2, padding="SAME")
    np.testing.assert_allclose(got.numpy(), tf.nn.conv1d(x, w, 2, "SAME").numpy())


def test_atrous_conv2d_is_dilated_conv():
    x, w = rand(1, 7, 7, 2), rand(3, 3, 2, 2)
    pads = geometry((7, 7), (3, 3), (1, 1), "SAME", (2, 2))
    np.testing.assert_allclose(tf.nn.atrous_conv2d(x, w, 2, "SAME").numpy(),
                               ref_conv(x, w, (1, 1), pads, (2, 2)), rtol=1e-10)


# ---------------------------------------------------------------- second order
def _second_order(fn, x, w, wrt_outer):
    """d/d(arg wrt_outer) of <d/dx sum(fn(x, w)^2), v> against finite differences."""
    v = rand(*x.shape)

    def inner_grad(xa, wa):
        xt, wt = tf.constant(xa), tf.constant(wa)
        with tf.GradientTape() as t:
            t.watch(xt)
            s = tf.reduce_sum(tf.square(fn(xt, wt)))
        return t.gradient(s, xt)

    xt, wt = tf.constant(x), tf.constant(w)
    with tf.GradientTape() as outer:
        outer.watch([xt, wt])
        with tf.GradientTape() as inner:
            inner.watch(xt)
            s = tf.reduce_sum(tf.square(fn(xt, wt)))
        g = inner.gradient(s, xt)
        total = tf.reduce_sum(g * tf.constant(v))
    got = outer.gradient(total, [xt, wt])[wrt_outer].numpy()
    want = numeric_grad(lambda a, b: float(np.sum(inner_grad(a, b).numpy() * v)),
                        [x.copy(), w.copy()], wrt_outer)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("wrt", [0, 1])
def test_conv2d_second_derivatives(wrt):
    _second_order(lambda a, b: tf.nn.conv2d(a, b, 2, "SAME"), rand(1, 5, 5, 2),
                  rand(3, 3, 2, 2), wrt)


@pytest.mark.parametrize("wrt", [0, 1])
def test_depthwise_second_derivatives(wrt):
    _second_order(lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME"),
                  rand(1, 4, 4, 2), rand(2, 2, 2, 2), wrt)


# ---------------------------------------------------------------- conv2d_transpose
TRANSPOSE_CASES = [
    # input spatial, output spatial, stride, padding, kernel
    (4, 8, 2, "SAME", 3),
    (5, 9, 2, "SAME", 3),
    (4, 9, 2, "VALID", 3),
    (4, 10, 2, "VALID", 3),
    (3, 7, 3, "SAME", 2),
    (5, 5, 1, "SAME", 3),
]


@pytest.mark.parametrize("n_in,n_out,stride,padding,k", TRANSPOSE_CASES)
def test_conv2d_transpose_matches_scatter_reference(n_in, n_out, stride, padding, k):
    x, w = rand(2, n_in, n_in, 4), rand(k, k, 3, 4)
    shape = [2, n_out, n_out, 3]
    pads = geometry((n_out, n_out), (k, k), (stride, stride), padding, (1, 1))
    check_op(lambda a, b: tf.nn.conv2d_transpose(a, b, shape, stride, padding), [x, w],
             lambda a, b: ref_conv_transpose(a, b, shape, (stride, stride), pads, (1, 1)))


def test_conv2d_transpose_tf_anchor_and_adjointness():
    x = (np.arange(4, dtype=np.float32) + 1).reshape(1, 2, 2, 1)
    w = np.ones((3, 3, 1, 1), np.float32)
    got = tf.nn.conv2d_transpose(x, w, [1, 4, 4, 1], 2, "SAME").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(got, [[1, 1, 3, 2], [1, 1, 3, 2], [4, 4, 10, 6],
                                        [3, 3, 7, 4]])
    got3 = tf.nn.conv2d_transpose(x, w, [1, 3, 3, 1], 2, "SAME").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(got3, [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    # <conv(a, w), b> == <a, conv_transpose(b, w)>
    a, wr, b = rand(2, 7, 7, 3), rand(3, 3, 3, 5), rand(2, 4, 4, 5)
    lhs = np.sum(tf.nn.conv2d(a, wr, 2, "SAME").numpy() * b)
    rhs = np.sum(a * tf.nn.conv2d_transpose(b, wr, [2, 7, 7, 3], 2, "SAME").numpy())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


def test_conv1d_transpose_and_nchw_transpose():
    x, w = rand(2, 5, 4), rand(3, 3, 4)
    pads = geometry((1, 9), (1, 3), (1, 2), "SAME", (1, 1))
    check_op(lambda a, b: tf.nn.conv1d_transpose(a, b, [2, 9, 3], 2, "SAME"), [x, w],
             lambda a, b: ref_conv_transpose(a[:, None], b[None], [2, 1, 9, 3], (1, 2),
                                             pads, (1, 1))[:, 0])
    x4, w4 = rand(2, 4, 3, 3), rand(3, 3, 2, 4)
    got = tf.nn.conv2d_transpose(x4, w4, [2, 2, 6, 5], 2, data_format="NCHW").numpy()
    want = tf.nn.conv2d_transpose(x4.transpose(0, 2, 3, 1), w4, [2, 6, 5, 2], 2).numpy()
    np.testing.assert_allclose(got, want.transpose(0, 3, 1, 2), rtol=1e-12)


def test_conv2d_transpose_rejects_inconsistent_output_shape():
    x, w = rand(2, 5, 5, 4), rand(3, 3, 3, 4)
    with pytest.raises(errors.InvalidArgumentError, match="out_backprop doesn't match"):
        tf.nn.conv2d_transpose(x, w, [2, 9, 9, 3], 2, "VALID")
    with pytest.raises(errors.InvalidArgumentError, match="same out_depth"):
        tf.nn.conv2d_transpose(x, rand(3, 3, 3, 2), [2, 10, 10, 3], 2, "SAME")


# ---------------------------------------------------------------- depthwise / separable
DEPTHWISE_CASES = [
    ((2, 6, 6, 3), (3, 3, 3, 2), [1, 1, 1, 1], "SAME", None),
    ((1, 7, 7, 2), (3, 3, 2, 1), [1, 2, 2, 1], "SAME", None),
    ((1, 7, 7, 2), (3, 3, 2, 3), [1, 1, 1, 1], "VALID", [2, 2]),
    ((1, 6, 6, 2), (2, 3, 2, 2), [1, 2, 2, 1], [[0, 0], [1, 0], [2, 1], [0, 0]], None),
]


@pytest.mark.parametrize("xs,ws,strides,padding,dils", DEPTHWISE_CASES)
def test_depthwise_conv2d(xs, ws, strides, padding, dils):
    x, w = rand(*xs), rand(*ws)
    d2 = as2(dils or 1)
    pads = geometry(xs[1:3], ws[:2], strides[1:3], padding, d2)
    check_op(lambda a, b: tf.nn.depthwise_conv2d(a, b, strides, padding, dilations=dils),
             [x, w], lambda a, b: ref_depthwise(a, b, strides[1:3], pads, d2))


def test_depthwise_backprop_functions_match_tape():
    x, w = rand(2, 6, 6, 3), rand(3, 3, 3, 2)
    dy = rand(2, 3, 3, 6)
    xt, wt = tf.constant(x), tf.constant(w)
    with tf.GradientTape() as tape:
        tape.watch([xt, wt])
        y = tf.nn.depthwise_conv2d(xt, wt, [1, 2, 2, 1], "SAME")
    gx, gw = tape.gradient(y, [xt, wt], output_gradients=[tf.constant(dy)])
    bx = tf.nn.depthwise_conv2d_backprop_input([2, 6, 6, 3], wt, dy, [1, 2, 2, 1], "SAME")
    bw = tf.nn.depthwise_conv2d_backprop_filter(xt, [3, 3, 3, 2], dy, [1, 2, 2, 1], "SAME")
    np.testing.assert_allclose(bx.numpy(), gx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bw.numpy(), gw.numpy(), rtol=1e-12)


def test_separable_conv2d_is_depthwise_then_pointwise():
    x, dw, pw = rand(2, 6, 6, 3), rand(3, 3, 3, 2), rand(1, 1, 6, 5)
    pads = geometry((6, 6), (3, 3), (1, 1), "SAME", (1, 1))
    check_op(lambda a, b, c: tf.nn.separable_conv2d(a, b, c, [1, 1, 1, 1], "SAME"),
             [x, dw, pw],
             lambda a, b, c: ref_depthwise(a, b, (1, 1), pads, (1, 1)) @ c[0, 0])


# ---------------------------------------------------------------- errors
def test_conv2d_errors_name_op_argument_and_shapes():
    x, w = np.zeros((2, 5, 5, 3), np.float32), np.zeros((3, 3, 3, 4), np.float32)
    with pytest.raises(errors.InvalidArgumentError, match=r"Conv2D.*4-dimensional.*\[5, 5, 3\]"):
        tf.nn.conv2d(x[0], w, 1, "SAME")
    with pytest.raises(errors.InvalidArgumentError, match="filter must be 4-dimensional"):
        tf.nn.conv2d(x, w[0], 1, "SAME")
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"evenly divisible by filter depth: 3 vs 2.*\[3, 3, 2, 4\]"):
        tf.nn.conv2d(x, np.zeros((3, 3, 2, 4), np.float32), 1, "SAME")
    with pytest.raises(errors.InvalidArgumentError, match="padding.*FULL"):
        tf.nn.conv2d(x, w, 1, "FULL")
    with pytest.raises(errors.InvalidArgumentError, match="padding.*same"):
        tf.nn.conv2d(x, w, 1, "same")
    with pytest.raises(ValueError, match="strides should be of length 1, 2 or 4"):
        tf.nn.conv2d(x, w, [1, 2, 2], "SAME")
    with pytest.raises(errors.UnimplementedError, match="batch and depth"):
        tf.nn.conv2d(x, w, [2, 1, 1, 1], "SAME")
    with pytest.raises(errors.InvalidArgumentError, match="batch or depth"):
        tf.nn.conv2d(x, w, 1, [[1, 1], [1, 1], [0, 0], [0, 0]])
    with pytest.raises(ValueError, match="must be of size 4"):
        tf.nn.conv2d(x, w, 1, [[1, 1], [0, 0]])
    with pytest.raises(errors.InvalidArgumentError, match="output size would be negative"):
        tf.nn.conv2d(x, np.zeros((7, 7, 3, 4), np.float32), 1, "VALID")
    with pytest.raises(errors.InvalidArgumentError, match="strides must be > 0"):
        tf.nn.conv2d(x, w, 0, "VALID")
    with pytest.raises(errors.InvalidArgumentError, match="Conv2D"):
        tf.nn.conv2d(tf.constant(x), tf.constant(w, dtype=tf.float64), 1, "VALID")
    with pytest.raises(errors.InvalidArgumentError, match="same depth: 3 vs 2"):
        tf.nn.depthwise_conv2d(x, np.zeros((3, 3, 2, 1), np.float32), [1, 1, 1, 1], "SAME")


def test_nn_namespace_exports():
    for name in ("conv1d", "conv2d", "conv3d", "conv2d_transpose", "depthwise_conv2d",
                 "separable_conv2d", "convolution"):
        assert callable(getattr(tf.nn, name))
