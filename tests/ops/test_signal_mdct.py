"""tf.signal.mdct / inverse_mdct / kaiser_bessel_derived_window against a NumPy
reference and values from TF 2.21."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op


def _signal():
    return np.sin(np.arange(32) * 0.3).astype(np.float32)


def _mdct_ref(x, n, window, scale):
    half = n // 2
    frames = np.stack([x[i:i + n] for i in range(0, len(x) - n + 1, half)])
    k = np.arange(half)[None, :] + 0.5
    t = np.arange(n)[:, None] + 0.5 + half / 2
    return scale * (frames * window) @ np.cos(np.pi / half * t * k)


def test_kaiser_bessel_derived_window():
    # values from TF 2.21
    np.testing.assert_allclose(
        tf.signal.kaiser_bessel_derived_window(8).numpy(),
        [0.0060718, 0.3882062, 0.9215726, 0.9999815, 0.9999815, 0.9215726, 0.3882062,
         0.0060718], atol=2e-7)
    np.testing.assert_allclose(
        tf.signal.kaiser_bessel_derived_window(6, beta=4.).numpy(),
        [0.2204788, 0.7071068, 0.9753917, 0.9753917, 0.7071068, 0.2204788], atol=2e-7)
    w = tf.signal.kaiser_bessel_derived_window(16, dtype=tf.float64).numpy()
    # the Princen-Bradley condition
    np.testing.assert_allclose(w[:8] ** 2 + w[8:] ** 2, 1.0, atol=1e-12)


def test_mdct_matches_tf_and_numpy():
    x = _signal()
    out = tf.signal.mdct(x, 8)
    assert out.shape == (7, 4) and out.dtype == tf.float32
    # rows 0 and 1 from TF 2.21
    np.testing.assert_allclose(out.numpy()[:2], [
        [-5.2643995, 9.6623778e-02, -4.6557912e-01, -2.0889342e-02],
        [-3.0266514, 1.5430205, -1.6330336e-01, 3.4086630e-03]], rtol=1e-5, atol=1e-6)
    window = tf.signal.vorbis_window(8).numpy()
    np.testing.assert_allclose(out.numpy(), _mdct_ref(x, 8, window, 2.0), rtol=1e-5,
                               atol=1e-5)
    ortho = tf.signal.mdct(x, 8, norm="ortho").numpy()
    np.testing.assert_allclose(ortho[1], [-1.0700828, 0.5455401, -0.0577365, 0.0012051],
                               rtol=1e-5, atol=1e-6)
    rect = tf.signal.mdct(x, 8, window_fn=None, norm="ortho").numpy()
    np.testing.assert_allclose(rect[0], [-1.9569271, -0.1855421, 0.1444737, 0.1127177],
                               rtol=1e-5, atol=1e-6)
    kbd = tf.signal.mdct(x, 8, window_fn=tf.signal.kaiser_bessel_derived_window)
    np.testing.assert_allclose(kbd.numpy()[1], [-3.1536155, 1.7661637, -0.3585296,
                                                0.1492435], rtol=1e-5, atol=1e-6)
    assert tf.signal.mdct(x, 8, pad_end=True).shape == (8, 4)
    assert tf.signal.mdct(x.astype(np.float64), 8).dtype == tf.float64


@pytest.mark.parametrize("norm, window_fn", [
    (None, tf.signal.vorbis_window), ("ortho", tf.signal.vorbis_window),
    ("ortho", None), (None, tf.signal.kaiser_bessel_derived_window)])
def test_inverse_mdct_reconstructs_the_inner_samples(norm, window_fn):
    x = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float64)
    back = tf.signal.inverse_mdct(tf.signal.mdct(x, 16, window_fn=window_fn, norm=norm),
                                  window_fn=window_fn, norm=norm).numpy()
    assert back.shape == (2, 64)
    np.testing.assert_allclose(back[:, 8:-8], x[:, 8:-8], atol=1e-10)


def test_inverse_mdct_values_from_tf():
    m = tf.signal.mdct(_signal(), 8)
    np.testing.assert_allclose(tf.signal.inverse_mdct(m, norm="ortho").numpy()[:6],
                               [-0.132143, -0.4769837, 0.9054748, 2.207673, 2.6362045,
                                2.821341], rtol=1e-5, atol=1e-6)


def test_mdct_gradient_and_function():
    x = np.random.default_rng(1).standard_normal(24)
    check_op(lambda s: tf.signal.mdct(s, 8),
             [x], lambda s: _mdct_ref(s, 8, tf.signal.vorbis_window(
                 8, dtype=tf.float64).numpy(), 2.0), rtol=1e-6, atol=1e-6,
             grad_rtol=1e-5, grad_atol=1e-6)
    check_op(lambda z: tf.signal.inverse_mdct(z), [np.random.default_rng(2)
                                                  .standard_normal((3, 4))],
             lambda z: tf.signal.inverse_mdct(tf.constant(z)).numpy(),
             grad_rtol=1e-5, grad_atol=1e-6)


def test_mdct_errors():
    with pytest.raises(ValueError, match="multiple of 4"):
        tf.signal.mdct(_signal(), 7)
    with pytest.raises(ValueError, match="norm"):
        tf.signal.mdct(_signal(), 8, norm="bogus")
