"""Keras 3's MelSpectrogram (against a NumPy reference of Keras's centered STFT;
numbers checked against TF 2.21 / Keras 3) and HashedCrossing (ids from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import check_function_matches_eager
from tests.keras.layer_test_utils import run_layer_test


def _mel_reference(x, fft_length, sequence_stride, sequence_length=None, window="hann",
                   sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None,
                   power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10,
                   ref_power=1.0):
    length = sequence_length or fft_length
    padded = np.pad(x, [(0, 0), (fft_length // 2, fft_length // 2)], mode="reflect")
    frames = 1 + (padded.shape[1] - fft_length) // sequence_stride
    if window is None:
        win = np.ones(length)
    else:
        a = 0.5 if window == "hann" else 0.54
        win = a - (1 - a) * np.cos(2 * np.pi * np.arange(length) / length)
    left = (fft_length - length) // 2
    framed_window = np.zeros(fft_length)
    framed_window[left:left + length] = win
    stack = np.stack([padded[:, i * sequence_stride:i * sequence_stride + fft_length]
                      for i in range(frames)], 1)
    power = np.abs(np.fft.rfft(stack * framed_window, axis=-1)) ** mag_exp
    weights = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins, fft_length // 2 + 1, sampling_rate, min_freq,
        max_freq or sampling_rate / 2).numpy().astype(np.float64)
    mel = np.einsum("bnf,fm->bmn", power, weights)
    if not power_to_db:
        return mel
    db = 10 * np.log10(np.maximum(mel, min_power)) - 10 * np.log10(
        max(ref_power, min_power))
    return np.maximum(db, db.max() - top_db) if top_db is not None else db


_BASE = {"fft_length": 64, "sequence_stride": 16, "sampling_rate": 8000,
         "num_mel_bins": 10}
MEL_CASES = [
    _BASE,
    {**_BASE, "sequence_length": 48, "power_to_db": False, "mag_exp": 1.0},
    {**_BASE, "top_db": 20.0, "min_freq": 100.0, "max_freq": 3000.0, "ref_power": 2.0,
     "window": "hamming"},
    {"fft_length": 32, "sequence_stride": 10, "sampling_rate": 4000, "num_mel_bins": 6,
     "window": None},
]


@pytest.mark.parametrize("kwargs", MEL_CASES)
def test_mel_spectrogram_matches_numpy_reference(kwargs):
    x = np.random.default_rng(0).normal(size=(2, 1000)).astype("float32")
    x[1] *= 0.01
    layer = keras.layers.MelSpectrogram(**kwargs)
    out = layer(x)
    ref = _mel_reference(x.astype(np.float64), **kwargs)
    assert out.dtype == tf.float32
    assert tuple(out.shape) == ref.shape
    assert tuple(layer.compute_output_shape((None, 1000))) == (None,) + ref.shape[1:]
    tol = 1e-4 * np.abs(ref).max()
    np.testing.assert_allclose(out.numpy(), ref, atol=tol)
    check_function_matches_eager(layer, [x], rtol=1e-5, atol=tol)


def test_mel_spectrogram_known_values_and_unbatched():
    # Keras 3 on TF 2.21: (2, 10, 63) outputs for 1000 samples, max |dB| 40.21611
    x = np.random.default_rng(0).normal(size=(2, 1000)).astype("float32")
    x[1] *= 0.01
    out = keras.layers.MelSpectrogram(fft_length=64, sequence_stride=16,
                                      sampling_rate=8000, num_mel_bins=10)(x)
    assert tuple(out.shape) == (2, 10, 63)
    assert abs(float(tf.reduce_max(tf.abs(out))) - 40.21611) < 1e-3
    single = keras.layers.MelSpectrogram(fft_length=64)(x[0])
    assert tuple(single.shape) == (128, 2)


def test_mel_spectrogram_config_gradient_and_errors():
    layer = keras.layers.MelSpectrogram()
    config = layer.get_config()
    assert config["sequence_length"] == 2048 and config["max_freq"] == 8000
    clone = keras.layers.MelSpectrogram.from_config(config)
    assert clone.get_config()["num_mel_bins"] == 128
    small = keras.layers.MelSpectrogram(fft_length=16, sequence_stride=8,
                                        sampling_rate=800, num_mel_bins=4,
                                        power_to_db=False)
    x = tf.Variable(np.random.default_rng(1).normal(size=(1, 64)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(small(x))
    grad = tape.gradient(loss, x).numpy()
    eps, base = 1e-3, x.numpy().astype(np.float64)
    for j in (0, 17, 40):
        plus, minus = base.copy(), base.copy()
        plus[0, j] += eps
        minus[0, j] -= eps
        numeric = (_mel_reference(plus, 16, 8, sampling_rate=800, num_mel_bins=4,
                                  power_to_db=False).sum()
                   - _mel_reference(minus, 16, 8, sampling_rate=800, num_mel_bins=4,
                                    power_to_db=False).sum()) / (2 * eps)
        np.testing.assert_allclose(grad[0, j], numeric, rtol=2e-3, atol=1e-3)
    with pytest.raises(ValueError, match="fft_length=0"):
        keras.layers.MelSpectrogram(fft_length=0)
    with pytest.raises(ValueError, match="window='kaiser'"):
        keras.layers.MelSpectrogram(window="kaiser")
    with pytest.raises(ValueError, match="sequence_length"):
        keras.layers.MelSpectrogram(fft_length=32, sequence_length=64)


def test_mel_spectrogram_trains_in_a_model():
    rng = np.random.default_rng(0)
    t = np.arange(800) / 8000
    freqs = np.where(rng.random(64) < 0.5, 500.0, 2500.0)
    x = (np.sin(2 * np.pi * freqs[:, None] * t) + rng.normal(0, 0.1, (64, 800))
         ).astype("float32")
    y = (freqs > 1000).astype("float32")
    model = keras.Sequential([
        keras.Input((800,)),
        keras.layers.MelSpectrogram(fft_length=64, sequence_stride=32,
                                    sampling_rate=8000, num_mel_bins=16),
        keras.layers.Flatten(), keras.layers.Rescaling(0.01),
        keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


A = ["A", "B", "A", "B", "A"]
B = [101, 101, 101, 102, 102]


def test_hashed_crossing_ids_equal_keras():
    layer = keras.layers.HashedCrossing
    a, b = tf.constant(A), tf.constant(B)
    # all expected ids from TF 2.21 / Keras 3
    assert layer(num_bins=5)((a, b)).numpy().tolist() == [1, 4, 1, 1, 3]
    assert layer(num_bins=1000)((a, b)).numpy().tolist() == [891, 754, 891, 576, 523]
    assert layer(num_bins=1000)((b, a)).numpy().tolist() == [656, 483, 656, 364, 680]
    assert layer(num_bins=1000)([a, a, b]).numpy().tolist() == [987, 690, 987, 767,
                                                                510]
    assert layer(num_bins=10**9)((tf.constant([-1, 0]), tf.constant(["x", "y"]))
                                 ).numpy().tolist() == [113815932, 805580411]
    column = layer(num_bins=1000)((tf.reshape(a, (5, 1)), tf.reshape(b, (5, 1))))
    assert column.dtype == tf.int64 and tuple(column.shape) == (5, 1)
    assert int(layer(num_bins=1000)((tf.constant("A"), tf.constant(101)))) == 891
    hot = layer(num_bins=4, output_mode="one_hot")((a, b))
    assert hot.dtype == tf.float32
    np.testing.assert_array_equal(hot.numpy().argmax(-1), [3, 2, 3, 0, 3])
    # the feature_column cross shares the hash
    cross = tf.feature_column.crossed_column(["a", "b"], hash_bucket_size=1000)
    ids = tf.feature_column.indicator_column(cross)
    dense = keras.layers.DenseFeatures([ids])({"a": tf.reshape(a, (5, 1)),
                                               "b": tf.reshape(b, (5, 1))})
    np.testing.assert_array_equal(dense.numpy().argmax(-1), [891, 754, 891, 576, 523])


def test_hashed_crossing_layer_checks_and_errors():
    run_layer_test(keras.layers.HashedCrossing, {"num_bins": 7},
                   input_data=[np.array([1, 2, 3]), np.array([4, 5, 6])],
                   expected_output_shape=(3,), check_grad=False)
    layer = keras.layers.HashedCrossing(num_bins=5, name="hc")
    assert layer.get_config()["num_bins"] == 5
    assert tuple(layer.compute_output_shape([(None, 1), (None, 1)])) == (None, 1)
    assert tuple(keras.layers.HashedCrossing(5, output_mode="one_hot")
                 .compute_output_shape([(None,), (None,)])) == (None, 5)
    a = tf.constant(A)
    with pytest.raises(ValueError, match="list or tuple"):
        layer(a)
    with pytest.raises(ValueError, match="at least two"):
        layer((a,))
    with pytest.raises(ValueError, match="equal shape"):
        layer((tf.reshape(a, (5, 1)), a))
    with pytest.raises(ValueError, match="integer or string"):
        layer((tf.constant([1.5]), tf.constant([1])))
    with pytest.raises(ValueError, match="output_mode=multi_hot"):
        keras.layers.HashedCrossing(5, output_mode="multi_hot")
    with pytest.raises(ValueError, match="num_bins=0"):
        keras.layers.HashedCrossing(0)


def test_hashed_crossing_in_a_functional_model():
    color = keras.Input((1,), dtype="string")
    size = keras.Input((1,), dtype="int64")
    crossed = keras.layers.HashedCrossing(8, output_mode="one_hot")((color, size))
    out = keras.layers.Dense(1, activation="sigmoid")(crossed)
    model = keras.Model([color, size], out)
    colors = np.array([["red"], ["blue"]] * 16)
    sizes = np.array([[1], [2], [2], [1]] * 8)
    labels = np.array([1.0, 0.0, 0.0, 1.0] * 8)
    model.compile(keras.optimizers.Adam(0.1), "binary_crossentropy",
                  metrics=["accuracy"])
    model.fit([colors, sizes], labels, epochs=30, verbose=0)
    assert model.evaluate([colors, sizes], labels, verbose=0)[1] == 1.0
