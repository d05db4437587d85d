"""Fast backward paths of pooling and convolution against plain references.

Tiled max-pool gradients (window == stride, VALID) compare the whole input with the
widened maxima and break ties only when a window may hold two maxima; convolution
gradient rules skip the input or filter gradient nobody asked for.
"""

import itertools
import types

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends import get_device
from dlframe.ops import conv, pooling
from tests.helpers import check_grad

RNG = np.random.default_rng(7)


def _lowest(dtype):
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def _floor(dtype):
    dtype = np.dtype(dtype)
    return np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min


def ref_max_pool_grad(x, dy, ksize, strides=None, pads=None):
    """Loop reference of TF's CPU kernels (padding is never visited). 1-D and 2-D
    windows send their gradient where TF's argmax scan ends: the window's first
    element, moved on to every later one strictly greater (NaN never is, and a NaN
    held is never left). 3-D windows send it to every element equal to the maximum
    (NaN ignored, at least the dtype's lowest finite value). ``strides`` default to
    ``ksize`` (tiled windows), ``pads`` to none."""
    strides = ksize if strides is None else strides
    pads = [(0, 0)] * len(ksize) if pads is None else pads
    dx = np.zeros(x.shape, dy.dtype)
    for b, *o, ch in np.ndindex(*dy.shape):
        corner = [i * s - lo for i, s, (lo, _) in zip(o, strides, pads)]
        cells = [p for p in itertools.product(*(range(c, c + k) for c, k in
                                                zip(corner, ksize)))
                 if all(0 <= q < n for q, n in zip(p, x.shape[1:-1]))]
        vals = [x[(b,) + p + (ch,)] for p in cells]
        g = dy[(b, *o, ch)]
        if not cells:   # a window of padding only (explicit padding)
            continue
        if len(ksize) == 3:
            top = max([v for v in vals if not np.isnan(v)] + [_floor(x.dtype)])
            for p, v in zip(cells, vals):
                if v == top:
                    dx[(b,) + p + (ch,)] += g
            continue
        held = 0
        for j in range(1, len(cells)):
            if vals[held] < vals[j]:
                held = j
        dx[(b,) + cells[held] + (ch,)] += g
    return dx


def _kernel_grad(x, ksize, dy=None, device=None):
    r = len(ksize)
    geo = {"ksize": tuple(ksize), "strides": tuple(ksize), "pads": ((0, 0),) * r,
           "dilations": (1,) * r}
    d = device or get_device("cpu:0")   # NumPy arrays: the host kernels
    y = pooling.max_pool_forward(d, x, **geo)
    if dy is None:
        dy = RNG.standard_normal(y.shape).astype(np.float32)
    return pooling.max_pool_grad(d, x, y, dy, **geo), dy


CASES = [  # spatial shape, ksize: whole tiling and uncovered edges, rank 1 to 3
    ((8,), (2,)), ((7,), (3,)), ((6, 6), (2, 2)), ((7, 5), (2, 2)), ((9, 8), (3, 2)),
    ((5, 7), (1, 3)), ((6, 5), (2, 1)), ((4, 6, 5), (2, 3, 2)), ((3, 3), (3, 3)),
]


@pytest.mark.parametrize("spatial,ksize", CASES)
@pytest.mark.parametrize("data", ["distinct", "ties", "relu"])
def test_tiled_max_pool_grad_matches_first_max_reference(spatial, ksize, data):
    shape = (2,) + spatial + (3,)
    if data == "distinct":
        x = RNG.permutation(int(np.prod(shape))).reshape(shape).astype(np.float32)
    elif data == "ties":
        x = RNG.integers(-2, 2, shape).astype(np.float32)
    else:  # ReLU output: whole windows of zeros tie
        x = np.maximum(RNG.standard_normal(shape), 0).astype(np.float32)
    dx, dy = _kernel_grad(x, ksize)
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, ksize))


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.int64, np.uint8])
def test_tiled_max_pool_grad_dtypes(dtype):
    x = RNG.integers(0, 4, (2, 7, 6, 5)).astype(dtype)
    dy = RNG.standard_normal((2, 3, 3, 5)).astype(np.float64)
    dx, _ = _kernel_grad(x, (2, 2), dy)
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, (2, 2)))


def test_tiled_max_pool_grad_nan_windows_follow_tf_scan():
    x = RNG.standard_normal((1, 4, 4, 2)).astype(np.float32)
    x[0, 0, 1, 0] = np.nan   # not first in its window: ignored
    x[0, 2, 0, 0] = np.nan   # first in its window: takes the gradient (TF)
    # NaN windows beside a tie: match counts alone would look tie-free
    x[0, 2, 2, 1] = x[0, 3, 3, 1] = 5.0
    dx, dy = _kernel_grad(x, (2, 2))
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, (2, 2)))
    top = np.nanargmax(x[0, :2, :2, 0])
    assert dx[0, top // 2, top % 2, 0] == dy[0, 0, 0, 0]
    assert dx[0, 2, 0, 0] == dy[0, 1, 0, 0] and not dx[0, 2:, 1, 0].any()
    assert dx[0, 2, 2, 1] == dy[0, 1, 1, 1] and dx[0, 3, 3, 1] == 0


def test_tiled_max_pool_grad_always_suppressing_path():
    """The GPU path (no host check) breaks ties for every input; run it on NumPy."""
    cpu = get_device("cpu:0")
    gpu_like = types.SimpleNamespace(xp=np, is_gpu=True)
    for data in ("distinct", "ties"):
        x = (RNG.permutation(2 * 9 * 8 * 4) if data == "distinct" else
             RNG.integers(0, 3, 2 * 9 * 8 * 4)).reshape(2, 9, 8, 4).astype(np.float32)
        dx, dy = _kernel_grad(x, (3, 2), device=gpu_like)
        np.testing.assert_array_equal(dx, _kernel_grad(x, (3, 2), dy, cpu)[0])
        np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, (3, 2)))


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_max_pool2d_tape_gradient_with_ties_eager_and_function(data_format):
    x_last = RNG.integers(0, 3, (2, 6, 7, 3)).astype(np.float32)
    dy_last = RNG.standard_normal((2, 3, 3, 3)).astype(np.float32)
    expect = ref_max_pool_grad(x_last, dy_last, (2, 2))
    to_first = (0, 3, 1, 2)
    x = x_last if data_format == "NHWC" else x_last.transpose(to_first)
    dy = dy_last if data_format == "NHWC" else dy_last.transpose(to_first)

    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.max_pool2d(x, 2, 2, "VALID", data_format=data_format)
        return tape.gradient(y, x, output_gradients=tf.constant(dy))

    for fn in (grad, tf.function(grad)):
        got = fn(tf.constant(x)).numpy()
        if data_format == "NCHW":
            got = got.transpose(0, 2, 3, 1)
        np.testing.assert_array_equal(got, expect)


def test_max_pool_tiled_gradient_finite_differences():
    x = RNG.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3) / 10.0
    check_grad(lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID"), [x])
    x1 = RNG.permutation(2 * 9 * 2).reshape(2, 9, 2) / 10.0
    check_grad(lambda v: tf.nn.max_pool1d(v, 3, 3, "VALID"), [x1])


def test_max_pool_second_order_through_tiled_grad():
    x = tf.constant(RNG.permutation(1 * 4 * 4 * 2).reshape(1, 4, 4, 2) / 10.0)
    v = tf.constant(RNG.standard_normal((1, 4, 4, 2)))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.nn.max_pool2d(x, 2, 2, "VALID") ** 2)
        g = inner.gradient(y, x)
        z = tf.reduce_sum(g * v)
    h = outer.gradient(z, x).numpy()
    # y = sum of squared maxima: the Hessian is 2 on each window's maximum
    first = ref_max_pool_grad(x.numpy(), np.ones((1, 2, 2, 2)), (2, 2))
    np.testing.assert_allclose(h, 2 * first * v.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- convolution needs
class _Counter:
    """Counts the forward runs of a primitive while installed."""

    def __init__(self, prim):
        self.prim, self.calls, self.orig = prim, 0, prim.forward

    def __enter__(self):
        def run(*args, **kwargs):
            self.calls += 1
            return self.orig(*args, **kwargs)
        self.prim.forward = run
        return self

    def __exit__(self, *exc):
        self.prim.forward = self.orig


def _conv_grads(x, w, sources):
    with tf.GradientTape() as tape:
        for s in sources:
            tape.watch(s)
        y = tf.nn.conv2d(x, w, 1, "SAME")
        loss = tf.reduce_sum(y * y)
    return tape.gradient(loss, sources)


def test_conv_gradient_skips_unrequested_halves():
    x = tf.constant(RNG.standard_normal((2, 5, 6, 3)))
    w = tf.constant(RNG.standard_normal((3, 3, 3, 4)))
    full = _conv_grads(x, w, [x, w])
    with _Counter(conv.conv2d_backprop_input_p) as dgrad, \
            _Counter(conv.conv2d_backprop_filter_p) as wgrad:
        (dw,) = _conv_grads(x, w, [w])
    assert (dgrad.calls, wgrad.calls) == (0, 1)
    np.testing.assert_array_equal(dw.numpy(), full[1].numpy())
    with _Counter(conv.conv2d_backprop_input_p) as dgrad, \
            _Counter(conv.conv2d_backprop_filter_p) as wgrad:
        (dx,) = _conv_grads(x, w, [x])
    assert (dgrad.calls, wgrad.calls) == (1, 0)
    np.testing.assert_array_equal(dx.numpy(), full[0].numpy())


def test_conv_second_order_with_partial_needs():
    """d/dw of <dL/dx, v> needs only the filter half of the input gradient's rule."""
    x0 = RNG.standard_normal((1, 4, 5, 2))
    w0 = RNG.standard_normal((2, 3, 2, 3))
    v = RNG.standard_normal((1, 4, 5, 2))

    def inner_dot(x, w):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, w, 1, "SAME")
            loss = tf.reduce_sum(tf.sin(y))
        return tf.reduce_sum(tape.gradient(loss, x) * v)

    x, w = tf.constant(x0), tf.constant(w0)
    with tf.GradientTape() as outer:
        outer.watch(w)
        z = inner_dot(x, w)
    got = outer.gradient(z, w).numpy()
    eps = 1e-6
    num = np.zeros_like(w0)
    for idx in itertools.product(*(range(n) for n in w0.shape)):
        wp, wm = w0.copy(), w0.copy()
        wp[idx] += eps
        wm[idx] -= eps
        num[idx] = (inner_dot(x, tf.constant(wp)).numpy() -
                    inner_dot(x, tf.constant(wm)).numpy()) / (2 * eps)
    np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-7)


def test_conv_transpose_and_depthwise_gradients_with_needs():
    dy = tf.constant(RNG.standard_normal((1, 3, 3, 4)))
    w = tf.constant(RNG.standard_normal((3, 3, 2, 4)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([dy, w])
        out = tf.nn.conv2d_transpose(dy, w, [1, 6, 6, 2], 2, "SAME")
        loss = tf.reduce_sum(out ** 2)
    both = tape.gradient(loss, [dy, w])
    only_w = tape.gradient(loss, w)
    np.testing.assert_array_equal(only_w.numpy(), both[1].numpy())
    check_grad(lambda a, b: tf.nn.conv2d_transpose(a, b, [1, 6, 6, 2], 2, "SAME"),
               [dy.numpy(), w.numpy()])
    xd = RNG.standard_normal((1, 5, 5, 2))
    wd = RNG.standard_normal((3, 3, 2, 2))
    check_grad(lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME"),
               [xd, wd])
