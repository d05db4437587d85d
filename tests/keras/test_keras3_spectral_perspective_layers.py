"""Keras 3 preprocessing layers: STFTSpectrogram (against a NumPy STFT) and
RandomPerspective (homography, training vs inference, config)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.layers.augmentation_perspective import homography, perspective_warp

keras = tf.keras

_WINDOW = np.array([1.0, 2.0, 3.0, 4.0, 4.0, 3.0, 2.0, 1.0])


def _numpy_stft(x, frame_length, frame_step, fft_length, window, padding):
    """[batch, frames, channels, bins] complex spectra of [batch, time, channels]."""
    if padding == "same":
        frames = -(-x.shape[1] // frame_step)
        total = max((frames - 1) * frame_step + frame_length - x.shape[1], 0)
        x = np.pad(x, [(0, 0), (total // 2, total - total // 2), (0, 0)])
    count = (x.shape[1] - frame_length) // frame_step + 1
    frames = np.stack([x[:, i * frame_step:i * frame_step + frame_length]
                       for i in range(count)], axis=1)           # b, f, n, c
    frames = frames * window[None, None, :, None]
    return np.transpose(np.fft.rfft(frames, n=fft_length, axis=2), (0, 1, 3, 2))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle",
                                  "stft"])
def test_stft_spectrogram_against_numpy(mode, padding):
    x = np.random.RandomState(0).randn(2, 32, 3).astype("float32")
    layer = keras.layers.STFTSpectrogram(mode=mode, frame_length=8, frame_step=3,
                                         fft_length=16, window=list(_WINDOW),
                                         scaling="spectrum", padding=padding)
    got = layer(x).numpy()
    spec = _numpy_stft(x.astype(np.float64), 8, 3, 16, _WINDOW / _WINDOW.sum(), padding)
    power = np.abs(spec) ** 2
    psd = power.copy()
    psd[..., 1:-1] *= 2
    expected = {"log": 0.5 * np.log(np.maximum(power, 1e-7)),
                "magnitude": np.abs(spec), "psd": psd, "real": spec.real,
                "imag": spec.imag, "angle": np.angle(spec),
                "stft": np.concatenate([spec.real, spec.imag], -1)}[mode]
    expected = expected.reshape(expected.shape[0], expected.shape[1], -1)
    if mode == "angle":   # +pi and -pi are the same phase
        diff = np.abs(got - expected)
        assert np.minimum(diff, np.abs(diff - 2 * np.pi)).max() < 1e-4
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert layer.compute_output_shape((2, 32, 3)) == got.shape
    assert len(layer.trainable_weights) == (1 if mode in ("real", "imag") else 2)


def test_stft_spectrogram_layouts_and_defaults():
    x = np.random.RandomState(1).randn(2, 40, 3).astype("float32")
    kwargs = {"frame_length": 8, "frame_step": 4, "fft_length": 16, "window": "hann"}
    flat = keras.layers.STFTSpectrogram(**kwargs)(x).numpy()          # (2, 9, 27)
    images = keras.layers.STFTSpectrogram(expand_dims=True, **kwargs)(x).numpy()
    assert flat.shape == (2, 9, 27) and images.shape == (2, 9, 9, 3)
    np.testing.assert_allclose(flat, np.transpose(images, (0, 1, 3, 2)).reshape(
        2, 9, 27), rtol=1e-6)   # bins grouped per channel
    first = keras.layers.STFTSpectrogram(data_format="channels_first", **kwargs)(
        np.transpose(x, (0, 2, 1))).numpy()
    np.testing.assert_allclose(first, np.transpose(flat, (0, 2, 1)), rtol=1e-6)
    first_img = keras.layers.STFTSpectrogram(data_format="channels_first",
                                             expand_dims=True, **kwargs)(
        np.transpose(x, (0, 2, 1))).numpy()
    np.testing.assert_allclose(first_img, np.transpose(images, (0, 3, 1, 2)),
                               rtol=1e-6)
    default = keras.layers.STFTSpectrogram(frame_length=100)
    assert (default.frame_step, default.fft_length) == (50, 128)
    # Keras's documented example shape (3 tracks of 1 s at 16 kHz, 2 channels)
    layer = keras.layers.STFTSpectrogram(frame_length=256, frame_step=128,
                                         fft_length=512, window="hamming",
                                         padding="same")
    assert layer.compute_output_shape((3, 16000, 2)) == (3, 125, 514)


def test_stft_spectrogram_config_errors_and_training():
    layer = keras.layers.STFTSpectrogram(mode="magnitude", frame_length=8,
                                         fft_length=8, window=[1.0] * 8)
    config = layer.get_config()
    assert config["window"] == [1.0] * 8 and config["frame_step"] == 4
    clone = keras.layers.STFTSpectrogram.from_config(config)
    x = np.random.RandomState(2).randn(4, 24, 1).astype("float32")
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="mode=foo"):
        keras.layers.STFTSpectrogram(mode="foo")
    with pytest.raises(ValueError, match="padding=causal"):
        keras.layers.STFTSpectrogram(padding="causal")
    with pytest.raises(ValueError, match="fft_length=4"):
        keras.layers.STFTSpectrogram(frame_length=8, fft_length=4)
    with pytest.raises(TypeError, match="int32"):
        layer(np.ones((1, 16, 1), "int32"))
    # trainable kernels: a model on top learns, and the kernels move
    model = keras.Sequential([keras.Input((24, 1)), layer, keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    before = layer.real_kernel.numpy().copy()
    y = (x ** 2).sum(axis=(1, 2))[:, None]
    model.fit(x, y, epochs=3, verbose=0)
    assert not np.allclose(layer.real_kernel.numpy(), before)
    frozen = keras.layers.STFTSpectrogram(frame_length=8, trainable=False)
    frozen.build((None, 24, 1))
    assert frozen.trainable_weights == [] and len(frozen.weights) == 2


def test_homography_maps_points():
    rng = np.random.RandomState(0)
    start = np.array([[[0, 0], [10, 0], [0, 8], [10, 8]]] * 3, "float32")
    end = start + start * rng.uniform(-0.3, 0.3, start.shape).astype("float32")
    h = homography(start, end).numpy()
    for b in range(3):
        for (x, y), (u, v) in zip(end[b], start[b]):
            k = h[b, 6] * x + h[b, 7] * y + 1
            mapped_x = (h[b, 0] * x + h[b, 1] * y + h[b, 2]) / k
            mapped_y = (h[b, 3] * x + h[b, 4] * y + h[b, 5]) / k
            assert (mapped_x, mapped_y) == pytest.approx((u, v), abs=1e-3)


def test_perspective_warp_matches_known_cases():
    img = np.random.RandomState(0).rand(1, 9, 11, 2).astype("float32")
    corners = np.array([[[0, 0], [10, 0], [0, 8], [10, 8]]], "float32")
    np.testing.assert_allclose(perspective_warp(img, corners, corners).numpy(), img,
                               atol=1e-5)
    shifted = perspective_warp(img, corners, corners + [[2.0, 1.0]],
                               interpolation="nearest").numpy()
    np.testing.assert_allclose(shifted[0, 1:, 2:], img[0, :-1, :-2], atol=1e-6)
    assert np.all(shifted[0, 0] == 0) and np.all(shifted[0, :, :2] == 0)


def test_random_perspective_layer():
    x = (np.random.RandomState(0).rand(4, 16, 16, 3) * 255).astype("float32")
    layer = keras.layers.RandomPerspective(seed=1)
    out = layer(x, training=True).numpy()
    assert out.shape == x.shape and not np.allclose(out, x)
    assert out.min() >= 0 and out.max() <= 255 + 1e-3
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    np.testing.assert_array_equal(
        keras.layers.RandomPerspective(factor=0.0)(x, training=True).numpy(), x)
    # the top-left pixel never moves (Keras's corner rule)
    np.testing.assert_allclose(out[:, 0, 0], x[:, 0, 0], rtol=1e-4)
    single = layer(x[0], training=True).numpy()
    assert single.shape == x[0].shape
    config = layer.get_config()
    assert config["factor"] == (0.0, 1.0) and config["scale"] == 1.0
    clone = keras.layers.RandomPerspective.from_config(config)
    assert clone.factor == (0.0, 1.0) and clone.seed == 1
    with pytest.raises(ValueError, match="scale=2"):
        keras.layers.RandomPerspective(scale=2)
    with pytest.raises(ValueError, match="factor"):
        keras.layers.RandomPerspective(factor=1.5)
    model = keras.Sequential([keras.Input((16, 16, 3)), layer, keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x / 255, np.ones((4, 1)), epochs=1, verbose=0)
