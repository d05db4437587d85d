"""UpSampling2D with every interpolation Keras accepts (not only 'nearest')."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad
from tests.keras.layer_test_utils import run_layer_test

X = np.array([[1., 4., 2.], [0., 3., 5.]], np.float32).reshape(1, 2, 3, 1)

# UpSampling2D((2, 2), interpolation=m)(X)[0, :, :, 0], from TF 2.21 (Keras 3)
TF_OUT = {
    "bicubic": [[0.82353, 1.7091, 3.58577, 3.77346, 2.24753, 1.52768],
                [0.52815, 1.38785, 3.20922, 3.73964, 2.90944, 2.51807],
                [-0.05756, 0.75083, 2.46254, 3.67257, 4.22195, 4.48193],
                [-0.35294, 0.42958, 2.08599, 3.63875, 4.88386, 5.47232]],
    "lanczos3": [[0.68049, 1.89894, 3.73595, 3.8529, 2.1603, 1.00615],
                 [0.33443, 1.38924, 3.11636, 3.87411, 3.08273, 2.4446],
                 [-0.11833, 0.72237, 2.30572, 3.90186, 4.28959, 4.32658],
                 [-0.46439, 0.21266, 1.68612, 3.92308, 5.21202, 5.76503]],
    "lanczos5": [[0.62628, 2.01141, 3.82993, 3.88157, 2.11982, 0.74669],
                 [0.32319, 1.36780, 3.0711, 3.94187, 3.19578, 2.35336],
                 [-0.01109, 0.65797, 2.23421, 4.00836, 4.38242, 4.12533],
                 [-0.31419, 0.01437, 1.47538, 4.06866, 5.45838, 5.732]],
}


def _bilinear_matrix(n_in, factor):
    """Half-pixel-centre linear interpolation weights (n_in * factor, n_in)."""
    n_out = n_in * factor
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        pos = (o + 0.5) / factor - 0.5
        lo = int(np.floor(pos))
        frac = pos - lo
        m[o, min(max(lo, 0), n_in - 1)] += 1 - frac
        m[o, min(max(lo + 1, 0), n_in - 1)] += frac
    return m


def _bilinear_ref(x, fh, fw):
    mh = _bilinear_matrix(x.shape[1], fh)
    mw = _bilinear_matrix(x.shape[2], fw)
    return np.einsum("ph,bhwc,qw->bpqc", mh, x.astype(np.float64), mw)


def test_bilinear_matches_numpy_reference():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2)).astype(np.float32)
    y = tf.keras.layers.UpSampling2D((2, 3), interpolation="bilinear")(x)
    assert y.shape == (2, 6, 12, 2) and y.dtype == tf.float32
    np.testing.assert_allclose(y.numpy(), _bilinear_ref(x, 2, 3), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", sorted(TF_OUT))
def test_kernel_methods_match_tf(method):
    y = tf.keras.layers.UpSampling2D((2, 2), interpolation=method)(X)
    np.testing.assert_allclose(y.numpy()[0, :, :, 0], TF_OUT[method], atol=2e-5)


def test_area_and_nearest_repeat_pixels():
    want = np.repeat(np.repeat(X, 2, axis=1), 2, axis=2)
    for method in ("nearest", "area"):
        y = tf.keras.layers.UpSampling2D(2, interpolation=method)(X)
        np.testing.assert_array_equal(y.numpy(), want)


@pytest.mark.parametrize("method", ["gaussian", "mitchellcubic"])
def test_keras2_methods_follow_image_resize(method):
    y = tf.keras.layers.UpSampling2D((2, 3), interpolation=method)(X)
    want = tf.image.resize(X, (4, 9), method=method)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


def test_channels_first():
    xc = np.transpose(X, (0, 3, 1, 2))
    layer = tf.keras.layers.UpSampling2D((2, 3), data_format="channels_first",
                                         interpolation="bicubic")
    y = layer(xc)
    assert y.shape == (1, 1, 4, 9)
    # first row, from TF 2.21
    np.testing.assert_allclose(
        y.numpy()[0, 0, 0], [0.77262, 1.08824, 1.99578, 3.29323, 4.08824, 3.54718,
                             2.48685, 1.73529, 1.48775], atol=2e-5)
    last = tf.keras.layers.UpSampling2D((2, 3), interpolation="bicubic")(X)
    np.testing.assert_allclose(y.numpy(), np.transpose(last.numpy(), (0, 3, 1, 2)),
                               rtol=1e-6, atol=1e-6)


def test_config_round_trip_and_layer_checks():
    layer, _ = run_layer_test(tf.keras.layers.UpSampling2D,
                              {"size": (2, 3), "interpolation": "bilinear"},
                              input_shape=(2, 3, 4, 2),
                              expected_output_shape=(2, 6, 12, 2))
    config = layer.get_config()
    assert config["interpolation"] == "bilinear" and tuple(config["size"]) == (2, 3)
    clone = tf.keras.layers.UpSampling2D.from_config(config)
    assert clone.interpolation == "bilinear"
    np.testing.assert_array_equal(clone(X).numpy(), layer(X).numpy())


def test_symbolic_shape_and_dtype():
    inp = tf.keras.Input((None, 5, 3))
    out = tf.keras.layers.UpSampling2D((2, 3), interpolation="lanczos3")(inp)
    assert out.shape.as_list() == [None, None, 15, 3]
    y = tf.keras.layers.UpSampling2D(2, interpolation="bilinear",
                                     dtype="float64")(X.astype(np.float64))
    assert y.dtype == tf.float64


def test_function_matches_eager():
    layer = tf.keras.layers.UpSampling2D((3, 2), interpolation="bicubic")
    x = tf.constant(np.random.default_rng(1).standard_normal((2, 4, 3, 2)), tf.float32)
    np.testing.assert_allclose(tf.function(layer)(x).numpy(), layer(x).numpy(),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "lanczos3", "area"])
def test_gradient_matches_finite_differences(method):
    layer = tf.keras.layers.UpSampling2D((2, 2), interpolation=method)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 3, 2, 1)).astype(np.float32)
    w = rng.standard_normal((1, 6, 4, 1)).astype(np.float32)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt) * w)
    got = tape.gradient(loss, xt).numpy()

    def scalar(a):
        return float(np.sum(layer(a.astype(np.float32)).numpy().astype(np.float64) * w))
    # the layer is linear, so a large step keeps float32 rounding small
    want = numeric_grad(scalar, [x.astype(np.float64)], 0, eps=0.5)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_bad_interpolation_names_the_argument():
    with pytest.raises(ValueError, match="interpolation='cubic'"):
        tf.keras.layers.UpSampling2D(interpolation="cubic")
