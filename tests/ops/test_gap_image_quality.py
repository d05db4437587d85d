"""tf.image ssim / ssim_multiscale / sobel_edges / extract_patches.

Expected values marked "TF 2.21" were recorded from TensorFlow 2.21 on the same inputs.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import image_quality as iq
from tests.helpers import check_function_matches_eager, check_grad


def _pair(shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 1, shape).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.1, shape), 0, 1).astype(np.float32)
    return a, b


def _ssim_ref(x, y, max_val, size=11, sigma=1.5, k1=0.01, k2=0.03):
    """Direct NumPy SSIM: Gaussian-weighted statistics of every valid window."""
    coords = np.arange(size) - (size - 1) / 2
    g = np.exp(-coords ** 2 / (2 * sigma ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    out = []
    for xi, yi in zip(x.astype(np.float64), y.astype(np.float64)):
        oh, ow = xi.shape[0] - size + 1, xi.shape[1] - size + 1
        vals = np.zeros((oh, ow, xi.shape[2]))
        for r in range(oh):
            for c in range(ow):
                px = xi[r:r + size, c:c + size]
                py = yi[r:r + size, c:c + size]
                mx = np.einsum("ij,ijk->k", w, px)
                my = np.einsum("ij,ijk->k", w, py)
                vx = np.einsum("ij,ijk->k", w, px * px) - mx ** 2
                vy = np.einsum("ij,ijk->k", w, py * py) - my ** 2
                cov = np.einsum("ij,ijk->k", w, px * py) - mx * my
                vals[r, c] = ((2 * mx * my + c1) * (2 * cov + c2) /
                              ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
        out.append(vals.mean())
    return np.asarray(out)


def test_ssim_matches_reference_and_tf():
    a, b = _pair((2, 16, 14, 3), 7)
    got = tf.image.ssim(a, b, 1.0)
    assert got.dtype == tf.float32 and tuple(got.shape) == (2,)
    np.testing.assert_allclose(got.numpy(), _ssim_ref(a, b, 1.0), rtol=1e-5)
    # TF 2.21
    np.testing.assert_allclose(got.numpy(), [0.9412691593170166, 0.9469566345214844],
                               rtol=1e-6)
    np.testing.assert_allclose(
        tf.image.ssim(a, b, 1.0, filter_size=7, filter_sigma=1.0, k1=0.02,
                      k2=0.04).numpy(), [0.9322826266288757, 0.9419527649879456],
        rtol=1e-6)
    np.testing.assert_allclose(tf.image.ssim(a * 255, b * 255, 255.0).numpy(),
                               [0.9412688612937927, 0.9469563364982605], rtol=1e-6)
    au, bu = (a * 255).astype(np.uint8), (b * 255).astype(np.uint8)
    np.testing.assert_allclose(tf.image.ssim(au, bu, 255).numpy(),
                               [0.9416279792785645, 0.9467840790748596], rtol=1e-6)
    np.testing.assert_allclose(tf.image.ssim(a, a, 1.0).numpy(), [1.0, 1.0], rtol=1e-6)


def test_ssim_index_map_and_errors():
    a, b = _pair((2, 16, 14, 3), 7)
    index_map = tf.image.ssim(a, b, 1.0, return_index_map=True)
    assert tuple(index_map.shape) == (2, 6, 4)
    np.testing.assert_allclose(np.mean(index_map.numpy(), axis=(1, 2)),
                               tf.image.ssim(a, b, 1.0).numpy(), rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="filter_size"):
        tf.image.ssim(a[:, :8, :8], b[:, :8, :8], 1.0)
    with pytest.raises(ValueError, match="shape"):
        tf.image.ssim(a, b[:, :15], 1.0)


def test_ssim_gradient_and_function():
    a, b = _pair((1, 7, 6, 2), 1)

    def fn(x, y):
        return iq._ssim(x, y, tf.constant(1.0, tf.float64), 5, 1.0, 0.01, 0.03)

    check_grad(fn, [a, b], rtol=1e-4, atol=1e-7)
    check_function_matches_eager(lambda x, y: tf.image.ssim(x, y, 1.0, filter_size=5),
                                 [a, b])
    # TF 2.21: sum and absolute sum of d sum(ssim) / d img1 on the 16x14 pair
    a, b = _pair((2, 16, 14, 3), 7)
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.image.ssim(x, b, 1.0))
    np.testing.assert_allclose(np.abs(tape.gradient(loss, x).numpy()).sum(),
                               1.9057002067565918, rtol=1e-4)


def test_ssim_multiscale():
    rng = np.random.default_rng(7)
    rng.uniform(0, 1, (2, 16, 14, 3))     # the draws that made the TF inputs below
    rng.normal(0, 0.1, (2, 16, 14, 3))
    c = rng.uniform(0, 1, (2, 37, 41, 1)).astype(np.float32)
    d = np.clip(c + rng.normal(0, 0.1, c.shape), 0, 1).astype(np.float32)
    got = tf.image.ssim_multiscale(c, d, 1.0, power_factors=(0.3, 0.4, 0.3),
                                   filter_size=3)
    # TF 2.21
    np.testing.assert_allclose(got.numpy(), [0.935427188873291, 0.9480979442596436],
                               rtol=1e-5)
    one = tf.image.ssim_multiscale(c, d, 1.0, power_factors=(1.0,), filter_size=3)
    np.testing.assert_allclose(one.numpy(),
                               tf.image.ssim(c, d, 1.0, filter_size=3).numpy(), rtol=1e-6)
    e, f = _pair((1, 9, 8, 1), 2)

    def fn(x, y):
        return iq._ssim_multiscale(x, y, tf.constant(1.0, tf.float64), (0.5, 0.5), 3,
                                   1.0, 0.01, 0.03)

    check_grad(fn, [e, f], rtol=1e-4, atol=1e-7)


def test_sobel_edges():
    img = (np.arange(40, dtype=np.float32).reshape(1, 4, 5, 2) * 7) % 23
    out = tf.image.sobel_edges(img)
    assert tuple(out.shape) == (1, 4, 5, 2, 2)
    # TF 2.21 (first 16 values: pixels (0, 0..3), channels, (dy, dx))
    np.testing.assert_array_equal(out.numpy().ravel()[:16],
                                  [0, 0, 0, 0, 0, 20, 0, 20, 0, 20, 0, -72, 0, 20, 0, 20])
    padded = np.pad(img[0, :, :, 0].astype(np.float64), 1, mode="reflect")
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    ref_dy = np.array([[np.sum(padded[r:r + 3, c:c + 3] * ky) for c in range(5)]
                       for r in range(4)])
    ref_dx = np.array([[np.sum(padded[r:r + 3, c:c + 3] * ky.T) for c in range(5)]
                       for r in range(4)])
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0, 0], ref_dy)
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0, 1], ref_dx)
    x = np.random.default_rng(0).standard_normal((1, 4, 3, 2))
    check_grad(tf.image.sobel_edges, [x])
    check_function_matches_eager(tf.image.sobel_edges, [x])


def _patches_ref(x, k, s, r, padding):
    """Loop reference of extract_patches with TF's SAME/VALID geometry."""
    out_sizes, pads = [], []
    for n, kk, ss, rr in zip(x.shape[1:3], k, s, r):
        span = (kk - 1) * rr + 1
        if padding == "VALID":
            out_sizes.append(-(-(n - span + 1) // ss))
            pads.append(0)
        else:
            o = -(-n // ss)
            out_sizes.append(o)
            pads.append(max((o - 1) * ss + span - n, 0) // 2)
    b, _, _, c = x.shape
    out = np.zeros((b, out_sizes[0], out_sizes[1], k[0] * k[1] * c), x.dtype)
    for i in range(out_sizes[0]):
        for j in range(out_sizes[1]):
            vals = []
            for a in range(k[0]):
                for bb in range(k[1]):
                    row = i * s[0] + a * r[0] - pads[0]
                    col = j * s[1] + bb * r[1] - pads[1]
                    inside = 0 <= row < x.shape[1] and 0 <= col < x.shape[2]
                    vals.append(x[:, row, col] if inside else np.zeros((b, c), x.dtype))
            out[:, i, j] = np.concatenate(vals, axis=1)
    return out


# TF 2.21: output shape and sum of extract_patches(arange(2*7*8*2) as [2, 7, 8, 2])
PATCH_CASES = [
    ("VALID", (2, 3), (2, 2), (1, 1), (2, 3, 3, 12), 22140.0),
    ("VALID", (3, 2), (3, 1), (2, 2), (2, 1, 6, 12), 13752.0),
    ("VALID", (2, 2), (1, 3), (1, 2), (2, 6, 2, 8), 21024.0),
    ("SAME", (2, 3), (2, 2), (1, 1), (2, 4, 4, 12), 34426.0),
    ("SAME", (3, 2), (3, 1), (2, 2), (2, 3, 8, 12), 43708.0),
    ("SAME", (2, 2), (1, 3), (1, 2), (2, 7, 3, 8), 29794.0),
]


@pytest.mark.parametrize("padding,size,stride,rate,shape,total", PATCH_CASES)
def test_extract_patches(padding, size, stride, rate, shape, total):
    img = np.arange(2 * 7 * 8 * 2, dtype=np.float32).reshape(2, 7, 8, 2)
    got = tf.image.extract_patches(img, [1, *size, 1], [1, *stride, 1], [1, *rate, 1],
                                   padding)
    assert tuple(got.shape) == shape
    assert float(got.numpy().sum()) == total
    np.testing.assert_array_equal(got.numpy(),
                                  _patches_ref(img, size, stride, rate, padding))


def test_extract_patches_gradient_and_errors():
    x = np.random.default_rng(0).standard_normal((1, 5, 4, 2))

    def fn(v):
        return tf.image.extract_patches(v, [1, 2, 2, 1], [1, 2, 1, 1], [1, 1, 2, 1],
                                        "SAME")

    check_grad(fn, [x])
    check_function_matches_eager(fn, [x])
    with pytest.raises(ValueError, match="sizes"):
        tf.image.extract_patches(x, [2, 2], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
    # TF 2.21 checks padding as an op attribute: InvalidArgumentError, exact spelling
    for padding in ("FULL", "same"):
        with pytest.raises(tf.errors.InvalidArgumentError, match="padding"):
            tf.image.extract_patches(x, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1],
                                     padding)
