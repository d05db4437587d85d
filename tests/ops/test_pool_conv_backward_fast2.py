"""Second round of fast pooling / convolution backward paths against plain references.

Covers the whole-array tie breaking of tiled max-pool gradients, padded and
overlapping max-pool gradients (per-tap path with a reused block buffer), and
col2im that adds only the inside part of each tap block.
"""

import itertools
import types

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends import get_device
from dlframe.ops import conv_kernels, pooling
from dlframe.ops.conv_geometry import resolve_pads
from tests.helpers import check_grad
from tests.ops.test_conv_pool_backward_fast import _lowest, ref_max_pool_grad

RNG = np.random.default_rng(11)
CPU = get_device("cpu:0")   # the kernels are fed NumPy arrays: the host device
GPU_LIKE = types.SimpleNamespace(xp=np, is_gpu=True)  # always breaks ties




def _run(x, ksize, strides, padding, device=CPU, dy=None):
    r = len(ksize)
    pads, _ = resolve_pads(padding, x.shape[1:-1], ksize, strides, (1,) * r, r, True,
                           "MaxPool")
    geo = {"ksize": tuple(ksize), "strides": tuple(strides), "pads": pads,
           "dilations": (1,) * r}
    y = pooling.max_pool_forward(device, x, **geo)
    if dy is None:  # exact sums: overlapping windows add in another order than loops
        dy = (RNG.integers(-64, 64, y.shape) / 8).astype(np.float32)
    return pooling.max_pool_grad(device, x, y, dy, **geo), dy, pads


def _data(kind, shape, dtype=np.float32):
    if kind == "distinct":
        return RNG.permutation(int(np.prod(shape))).reshape(shape).astype(dtype)
    if kind == "ties":
        return RNG.integers(-2, 2, shape).astype(dtype)
    return np.maximum(RNG.standard_normal(shape), 0).astype(dtype)  # ReLU: zero ties


# ---------------------------------------------------------------- tie breaking
def ref_keep_first(eq, ksize, c):
    """First true of every window of a rows-shaped mask, row-major over taps."""
    n, r = eq.shape[0], len(ksize)
    lead = eq.shape[1:-1]
    out_sp = tuple(lead[0::2]) + (eq.shape[-1] // (ksize[-1] * c),)
    blocks = eq.reshape((n,) + lead + (out_sp[-1], ksize[-1], c))
    got = np.zeros_like(blocks)
    for idx in np.ndindex(*((n,) + out_sp + (c,))):
        b, o, ch = idx[0], idx[1:1 + r], idx[-1]
        for tap in itertools.product(*(range(k) for k in ksize)):
            pos = (b,)
            for oi, ti in zip(o, tap):
                pos += (oi, ti)
            if blocks[pos + (ch,)]:
                got[pos + (ch,)] = True
                break
    return got.reshape(eq.shape)


@pytest.mark.parametrize("ksize,c", [((3,), 2), ((2, 2), 1), ((2, 3), 3), ((3, 2), 4),
                                     ((1, 3), 2), ((2, 1), 3), ((2, 2, 2), 2),
                                     ((1, 2, 3), 1)])
def test_keep_first_in_rows_matches_loop_reference(ksize, c):
    out_sp = (3,) * len(ksize)
    rows, _ = pooling._row_shapes(2, c, out_sp, ksize)
    for p in (0.2, 0.6, 1.0):
        eq = RNG.random(rows) < p
        expect = ref_keep_first(eq, ksize, c)
        pooling._keep_first_in_rows(np, eq, ksize, c)
        np.testing.assert_array_equal(eq, expect)


@pytest.mark.parametrize("spatial,ksize", [((26, 26), (2, 2)), ((7, 9), (3, 3)),
                                           ((9,), (4,)), ((4, 6, 6), (2, 2, 3))])
@pytest.mark.parametrize("kind", ["relu", "ties"])
@pytest.mark.parametrize("device", [CPU, GPU_LIKE], ids=["cpu", "gpu_path"])
def test_tiled_grad_with_ties(spatial, ksize, kind, device):
    x = _data(kind, (2,) + spatial + (5,))
    dx, dy, pads = _run(x, ksize, ksize, "VALID", device)
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, ksize, ksize, pads))


# ---------------------------------------------------------------- padding, overlap
CASES = [  # spatial, ksize, strides, padding
    ((25, 25), (2, 2), (2, 2), "SAME"),          # lo = 0: whole windows + strips
    ((5, 7), (2, 3), (2, 3), "SAME"),
    ((7,), (3,), (3,), "SAME"),                   # lo > 0: padded input
    ((7, 8), (3, 3), (3, 3), "SAME"),
    ((5, 6, 7), (2, 2, 2), (2, 2, 2), "SAME"),
    ((6, 5), (2, 2), (2, 2), [[0, 0], [0, 3], [0, 1], [0, 0]]),  # padding-only windows
    ((6, 5), (2, 2), (2, 2), [[0, 0], [1, 0], [0, 2], [0, 0]]),
    ((9, 9), (3, 3), (2, 2), "VALID"),            # overlapping
    ((10, 11), (3, 3), (2, 2), "SAME"),
    ((8,), (3,), (1,), "SAME"),
]


@pytest.mark.parametrize("spatial,ksize,strides,padding", CASES)
@pytest.mark.parametrize("kind", ["distinct", "ties", "relu"])
@pytest.mark.parametrize("device", [CPU, GPU_LIKE], ids=["cpu", "gpu_path"])
def test_padded_and_overlapping_grad_matches_reference(spatial, ksize, strides,
                                                       padding, kind, device):
    x = _data(kind, (2,) + spatial + (3,))
    if isinstance(padding, list):
        padding = [tuple(p) for p in padding]
    dx, dy, pads = _run(x, ksize, strides, padding, device)
    assert dx.shape == x.shape and dx.flags.c_contiguous
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, ksize, strides, pads))


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.uint8])
def test_same_padded_grad_dtypes_and_lowest_values(dtype):
    x = RNG.integers(0, 3, (2, 5, 7, 3)).astype(dtype)
    x[0, 4, :, 0] = _lowest(dtype)  # a window of lowest values beside the padding
    x[1, :, 6, 1] = _lowest(dtype)
    dy = RNG.standard_normal((2, 3, 4, 3))
    dx, _, pads = _run(x, (2, 2), (2, 2), "SAME", dy=dy)
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, (2, 2), (2, 2), pads))


@pytest.mark.parametrize("ksize,strides", [((2, 2), (2, 2)), ((3, 3), (2, 2))])
def test_nan_windows_follow_tf_scan(ksize, strides):
    x = _data("relu", (1, 7, 7, 2))
    x[0, 6, 6, 0] = np.nan   # in a window touching the SAME padding
    x[0, 1, 2, 1] = np.nan
    dx, dy, pads = _run(x, ksize, strides, "SAME")
    np.testing.assert_array_equal(dx, ref_max_pool_grad(x, dy, ksize, strides, pads))
    # 2x2: the NaN is the only valid element of its window, so it is TF's argmax
    assert dx[0, 6, 6, 0] == (dy[0, 3, 3, 0] if ksize == (2, 2) else 0)
    assert dx[0, 1, 2, 1] == 0


def test_same_padded_forward_matches_reference():
    x = RNG.standard_normal((2, 7, 5, 3)).astype(np.float32)
    y = tf.nn.max_pool2d(x, 2, 2, "SAME").numpy()
    xpad = np.full((2, 8, 6, 3), -np.inf, np.float32)
    xpad[:, :7, :5] = x
    np.testing.assert_array_equal(y, xpad.reshape(2, 4, 2, 3, 2, 3).max(axis=(2, 4)))


@pytest.mark.parametrize("ksize,strides", [(2, 2), (3, 2), (3, 3)])
def test_same_max_pool_gradient_finite_differences_and_function(ksize, strides):
    x = RNG.permutation(2 * 7 * 5 * 2).reshape(2, 7, 5, 2) / 10.0
    check_grad(lambda v: tf.nn.max_pool2d(v, ksize, strides, "SAME"), [x])

    def grad(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = tf.reduce_sum(tf.nn.max_pool2d(v, ksize, strides, "SAME") ** 2)
        return tape.gradient(y, v)

    xt = tf.constant(_data("relu", (2, 7, 5, 2)).astype(np.float64))
    np.testing.assert_array_equal(grad(xt).numpy(), tf.function(grad)(xt).numpy())


# ---------------------------------------------------------------- col2im
def ref_accumulate(blocks, n, in_shape, ks, strides, pads, dils, out_sp):
    """Padded buffer, one slice-add per tap, cropped."""
    padded = (n,) + tuple(m + lo + hi for m, (lo, hi) in zip(in_shape[:-1], pads)) + \
        (in_shape[-1],)
    dx = np.zeros(padded, blocks.dtype)
    for i, tap in enumerate(itertools.product(*(range(k) for k in ks))):
        dx[conv_kernels.tap_index(tap, strides, dils, out_sp)] += blocks[i]
    return dx[conv_kernels.interior((n,) + tuple(in_shape), pads)]


@pytest.mark.parametrize("in_sp,ks,strides,dils,padding", [
    ((13, 13), (3, 3), (1, 1), (1, 1), "SAME"),
    ((28, 27), (3, 3), (2, 2), (1, 1), "SAME"),
    ((12, 11), (5, 4), (3, 2), (1, 1), "SAME"),
    ((14, 13), (3, 3), (1, 1), (2, 2), "SAME"),
    ((9, 10), (2, 3), (1, 2), (1, 1), ((4, 5), (1, 3))),  # taps seeing only padding
    ((40,), (7,), (2,), (1,), "SAME"),
    ((6, 7, 8), (3, 2, 3), (1, 2, 2), (1, 1, 1), "SAME"),
])
@pytest.mark.parametrize("clip", [True, False])
def test_accumulate_taps_matches_padded_reference(monkeypatch, in_sp, ks, strides, dils,
                                                  padding, clip):
    monkeypatch.setattr(conv_kernels, "_CLIP_MIN_SIZE", 0 if clip else 1 << 62)
    r = len(ks)
    if isinstance(padding, str):
        pads, out_sp = resolve_pads(padding, in_sp, ks, strides, dils, r, True, "Conv")
    else:
        pads = padding
        out_sp = tuple((n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, s, d, (lo, hi)
                       in zip(in_sp, ks, strides, dils, pads))
    n, c = 3, 4
    blocks = RNG.standard_normal((int(np.prod(ks)), n) + tuple(out_sp) + (c,))
    seen = []

    def block(i, tap):
        seen.append(tap)
        return blocks[i]

    got = conv_kernels.accumulate_taps(np, block, n, in_sp + (c,), ks, strides, pads,
                                       dils, out_sp, blocks.dtype)
    assert seen == list(itertools.product(*(range(k) for k in ks)))
    assert got.shape == (n,) + in_sp + (c,) and got.flags.c_contiguous
    np.testing.assert_array_equal(
        got, ref_accumulate(blocks, n, in_sp + (c,), ks, strides, pads, dils, out_sp))


def _conv_input_grad_ref(dy, w, in_shape, strides, pads):
    """Scatter reference of the conv2d input gradient."""
    n, oh, ow, _ = dy.shape
    kh, kw = w.shape[:2]
    hp, wp = in_shape[0] + sum(pads[0]), in_shape[1] + sum(pads[1])
    dx = np.zeros((n, hp, wp, in_shape[2]))
    for i, j, a, b in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        dx[:, i * strides[0] + a, j * strides[1] + b] += dy[:, i, j] @ w[a, b].T
    return dx[:, pads[0][0]:pads[0][0] + in_shape[0], pads[1][0]:pads[1][0] + in_shape[1]]


@pytest.mark.parametrize("cin,stride", [(32, 1), (3, 1), (16, 2), (5, 2)])
@pytest.mark.parametrize("clip_min", [0, 1 << 62])
def test_conv2d_backprop_input_same(monkeypatch, cin, stride, clip_min):
    """Clipped and padded col2im, on both input-gradient GEMM layouts."""
    monkeypatch.setattr(conv_kernels, "_CLIP_MIN_SIZE", clip_min)
    x_shape = (4, 33, 30, cin)
    w = RNG.standard_normal((3, 3, cin, 6))
    pads, out_sp = resolve_pads("SAME", x_shape[1:3], (3, 3), (stride,) * 2, (1, 1), 2,
                                True, "Conv2D")
    dy = RNG.standard_normal((4,) + out_sp + (6,))
    got = tf.nn.conv2d_transpose(dy, w, list(x_shape), stride, "SAME").numpy()
    np.testing.assert_allclose(got, _conv_input_grad_ref(dy, w, x_shape[1:], (stride,) * 2,
                                                         pads), rtol=1e-10, atol=1e-10)


def test_conv2d_same_gradient_finite_differences():
    x = RNG.standard_normal((2, 9, 8, 3))
    w = RNG.standard_normal((3, 3, 3, 2))
    check_grad(lambda a, b: tf.nn.conv2d(a, b, 1, "SAME"), [x, w])
    check_grad(lambda a, b: tf.nn.conv2d(a, b, 2, "SAME"), [x, w])


def test_avg_pool_same_gradient_uses_clipped_col2im(monkeypatch):
    monkeypatch.setattr(conv_kernels, "_CLIP_MIN_SIZE", 0)
    x = RNG.standard_normal((2, 7, 6, 3))
    check_grad(lambda v: tf.nn.avg_pool2d(v, 3, 2, "SAME"), [x])

