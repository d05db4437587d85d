"""Pooling and convolution kernels on every device (round 21, first real GPU run).

The host-kernel tests (test_conv_pool_backward_fast*.py, test_cnn_step_fast.py,
test_conv_winograd_round18.py, test_cpu_fusion_pass.py) feed NumPy arrays to host
kernels and are pinned to the CPU. The same max-pool and convolution kernels run on
a GPU with device arrays (``xp`` is CuPy there): here they run through the ``device``
fixture against the loop references and the CPU results.

Max pooling with NaN differs by design: the CPU follows TF's CPU kernels (an argmax
scan that can land on a leading NaN), a GPU skips that host check and sends each
gradient to the window's first maximum ignoring NaN (the first element of a window
without a finite value, as on the CPU).
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends import get_device
from dlframe.ops import conv_kernels, pooling
from dlframe.ops.conv_geometry import resolve_pads
from tests.ops.test_conv_pool_backward_fast import ref_max_pool_grad

RNG = np.random.default_rng(21)


def _data(kind, shape, dtype=np.float32):
    if kind == "distinct":
        return RNG.permutation(int(np.prod(shape))).reshape(shape).astype(dtype)
    if kind == "ties":
        return RNG.integers(-2, 2, shape).astype(dtype)
    return np.maximum(RNG.standard_normal(shape), 0).astype(dtype)  # ReLU output


def _pool_on(device, x, ksize, strides, padding, dy=None):
    """Max pool forward and gradient kernels on ``device``'s arrays; host results."""
    dev = get_device(device)
    r = len(ksize)
    pads, _ = resolve_pads(padding, x.shape[1:-1], ksize, strides, (1,) * r, r, True,
                           "MaxPool")
    geo = {"ksize": tuple(ksize), "strides": tuple(strides), "pads": pads,
           "dilations": (1,) * r}
    y = pooling.max_pool_forward(dev, dev.asarray(x), **geo)
    if dy is None:  # exact sums: overlapping windows add in another order than loops
        dy = (RNG.integers(-64, 64, y.shape) / 8).astype(np.float32)
    dx = pooling.max_pool_grad(dev, dev.asarray(x), y, dev.asarray(dy), **geo)
    assert dev.is_array(y) and dev.is_array(dx)
    return dev.to_numpy(y), dev.to_numpy(dx), dy, pads


POOLS = [  # spatial, ksize, strides, padding
    ((8,), (2,), (2,), "VALID"),                  # tiled
    ((7, 5), (2, 2), (2, 2), "VALID"),            # tiled, uncovered edge
    ((9, 8), (3, 2), (3, 2), "VALID"),
    ((4, 6, 5), (2, 3, 2), (2, 3, 2), "VALID"),   # 3-D: every maximum
    ((25, 25), (2, 2), (2, 2), "SAME"),
    ((7, 8), (3, 3), (3, 3), "SAME"),             # padded input
    ((9, 9), (3, 3), (2, 2), "VALID"),            # overlapping
    ((10, 11), (3, 3), (2, 2), "SAME"),
    ((8,), (3,), (1,), "SAME"),
]


@pytest.mark.parametrize("spatial,ksize,strides,padding", POOLS)
@pytest.mark.parametrize("kind", ["distinct", "ties", "relu"])
def test_max_pool_kernels_on_device_match_loop_reference(device, spatial, ksize,
                                                         strides, padding, kind):
    x = _data(kind, (2,) + spatial + (3,))
    _, dx, dy, pads = _pool_on(device, x, ksize, strides, padding)
    _, dx_cpu, _, _ = _pool_on("cpu:0", x, ksize, strides, padding, dy)
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, ksize, strides, pads))
    np.testing.assert_array_equal(dx, dx_cpu)
    assert dx.dtype == dy.dtype and dx.shape == x.shape


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.uint8])
@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_max_pool_kernels_on_device_keep_dtypes_and_lowest_values(device, dtype,
                                                                  padding):
    x = RNG.integers(0, 3, (2, 5, 7, 3)).astype(dtype)
    low = np.finfo(dtype).min if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min
    x[0, 4, :, 0] = low   # windows of lowest values (beside the padding)
    x[1, :, 6, 1] = low
    dy = RNG.standard_normal((2, 3, 4, 3) if padding == "SAME" else (2, 2, 3, 3))
    y, dx, _, pads = _pool_on(device, x, (2, 2), (2, 2), padding, dy)
    assert y.dtype == dtype and dx.dtype == np.float64
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, (2, 2), (2, 2), pads))


def _first_max_grad(x, y, dy, ksize, strides, pads):
    """Loop reference of the GPU rule: each gradient goes to the first element of
    its window equal to the NaN-ignoring maximum (NaN and -inf count as the lowest
    finite value, the floor of a window without a finite one)."""
    x = np.fmax(x, np.finfo(x.dtype).min)
    dx = np.zeros(x.shape, dy.dtype)
    for b, i, j, ch in np.ndindex(*dy.shape):
        for a, c in np.ndindex(*ksize):
            p, q = i * strides[0] - pads[0][0] + a, j * strides[1] - pads[1][0] + c
            if 0 <= p < x.shape[1] and 0 <= q < x.shape[2] and \
                    x[b, p, q, ch] == y[b, i, j, ch]:
                dx[b, p, q, ch] += dy[b, i, j, ch]
                break
    return dx


@pytest.mark.parametrize("ksize,strides,padding", [((2, 2), (2, 2), "VALID"),
                                                    ((3, 3), (2, 2), "SAME"),
                                                    ((2, 2), (1, 1), "SAME")])
def test_max_pool_with_nan_forward_agrees_and_gradient_follows_the_device_rule(
        device, ksize, strides, padding):
    x = np.round(RNG.standard_normal((2, 9, 7, 3)) * 2).astype(np.float32) / 2
    x[RNG.random(x.shape) < 0.2] = np.nan
    x[0, :2, :2, 0] = np.nan       # a window without a finite value
    x[1, :2, :2, 1] = -np.inf

    def run(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = tf.nn.max_pool2d(v, ksize, strides, padding)
        return y, tape.gradient(y, v, output_gradients=tf.ones_like(y))
    for fn in (run, tf.function(run)):
        y, dx = (t.numpy() for t in fn(tf.constant(x)))
        with tf.device("/CPU:0"):
            y_cpu = tf.nn.max_pool2d(tf.constant(x), ksize, strides, padding).numpy()
        np.testing.assert_array_equal(y, y_cpu)   # NaN ignored, at least the lowest
        assert not np.isnan(y).any() and y.min() == np.finfo(np.float32).min
        pads, _ = resolve_pads(padding, x.shape[1:3], ksize, strides, (1, 1), 2, True,
                               "MaxPool")
        dy = np.ones(y.shape, np.float32)
        expect = ref_max_pool_grad(x, dy, ksize, strides, pads) if \
            device == "cpu:0" else _first_max_grad(x, y, dy, ksize, strides, pads)
        np.testing.assert_array_equal(dx, expect)


CONVS = [  # input shape, filter shape, strides, pads
    ((4, 9, 8, 3), (3, 3, 3, 5), (1, 1), ((0, 0), (0, 0))),
    ((4, 9, 9, 2), (3, 3, 2, 4), (2, 2), ((1, 1), (1, 1))),
    ((3, 6, 6, 4), (1, 1, 4, 2), (1, 1), ((0, 0), (0, 0))),      # pointwise
    ((2, 5, 5, 4), (3, 3, 2, 4), (1, 1), ((1, 1), (1, 1))),      # grouped
    ((5, 9, 8, 1), (3, 2, 1, 4), (1, 2), ((1, 1), (0, 1))),      # one input channel
    ((2, 8, 8, 64), (3, 3, 64, 64), (1, 1), ((1, 1), (1, 1))),   # Winograd on CPU
]


@pytest.mark.parametrize("xs,ws,strides,pads", CONVS)
def test_conv_kernels_on_device_match_the_cpu(device, xs, ws, strides, pads):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    geo = {"strides": strides, "pads": pads, "dilations": (1, 1)}
    cpu, dev = get_device("cpu:0"), get_device(device)
    xd, wd = dev.asarray(x), dev.asarray(w)
    y, cols = conv_kernels.conv_forward_cols(dev, xd, wd, **geo)
    y_cpu = conv_kernels.conv_forward(cpu, x, w, **geo)
    np.testing.assert_allclose(dev.to_numpy(y), y_cpu, rtol=1e-10, atol=1e-10)
    dy = RNG.standard_normal(y_cpu.shape)
    dyd = dev.asarray(dy)
    dx = conv_kernels.conv_backprop_input(dev, dyd, wd, in_shape=xs[1:], **geo)
    dw = conv_kernels.conv_backprop_filter(dev, xd, dyd, filter_shape=ws, **geo)
    dw_cols = conv_kernels.filter_grad_from_cols(dev, cols, dyd, filter_shape=ws)
    for got, expect in (
            (dx, conv_kernels.conv_backprop_input(cpu, dy, w, in_shape=xs[1:], **geo)),
            (dw, conv_kernels.conv_backprop_filter(cpu, x, dy, filter_shape=ws, **geo)),
            (dw_cols, conv_kernels.conv_backprop_filter(cpu, x, dy, filter_shape=ws,
                                                        **geo))):
        assert dev.is_array(got)
        np.testing.assert_allclose(dev.to_numpy(got), expect, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("conv_geo,pool_geo", [((1, "VALID"), (2, 2, "VALID")),
                                               ((2, "SAME"), (3, 2, "SAME"))])
def test_compiled_cnn_step_matches_eager_and_the_cpu(device, conv_geo, pool_geo):
    """The CNN step the CPU remapper fuses: a GPU graph keeps its plain ops and
    gives the eager (and the CPU's) numbers."""
    from tests.function.test_cpu_fusion_pass import _cnn_grads, _compiled
    x = np.round(RNG.standard_normal((4, 11, 10, 3)) * 2) / 2   # ties
    w, b = RNG.standard_normal((3, 3, 3, 4)), np.array([0.0, -0.5, 0.25, 1.0])
    fn = _cnn_grads(pool_geo, conv_geo)
    args = [tf.constant(a) for a in (x, w, b)]
    eager = [o.numpy() for o in fn(*args)]
    graph, _ = _compiled(fn, args)
    with tf.device("/CPU:0"):
        cpu = [o.numpy() for o in fn(*(tf.constant(a) for a in (x, w, b)))]
    for e, g, c in zip(eager, graph, cpu):   # float64: other summation orders only
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(e, c, rtol=1e-9, atol=1e-9)


def test_out_of_range_sparse_label_gives_nan_on_a_gpu_and_raises_on_the_cpu(device):
    """TF checks sparse labels on the CPU only; a GPU's loss is NaN for that row."""
    labels, probs = [5, 1], [[0.1, 0.9], [0.3, 0.7]]
    loss = tf.keras.losses.sparse_categorical_crossentropy
    if device == "cpu:0":
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 5"):
            loss(labels, probs)
        return
    got = loss(labels, probs).numpy()
    assert np.isnan(got[0])
    np.testing.assert_allclose(got[1], -np.log(0.7), rtol=1e-6)
