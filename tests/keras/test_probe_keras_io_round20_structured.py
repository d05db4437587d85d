"""Round-20 probe of keras.io structured / recommendation / audio / generative examples.

Each test pins a difference found while running shrunk keras.io programs under TF 2.21
and dlframe side by side.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

keras = tf.keras


# --- speaker recognition: tf.audio.decode_wav returns a namedtuple ----------------------

def _wav_bytes(samples, rate=800):
    return tf.audio.encode_wav(samples, rate)


def test_decode_wav_returns_named_audio_and_sample_rate():
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.normal(size=(50, 2))).clip(-1, 1).astype("float32")
    decoded = tf.audio.decode_wav(_wav_bytes(audio))
    assert type(decoded).__name__ == "DecodeWav"
    assert decoded._fields == ("audio", "sample_rate")
    np.testing.assert_allclose(decoded.audio.numpy(), audio, atol=1.0 / 32768)
    assert int(decoded.sample_rate) == 800
    # still unpacks like the plain pair the keras.io example uses
    mono, rate = tf.audio.decode_wav(_wav_bytes(audio), 1, 40)
    assert mono.shape == (40, 1) and rate.dtype == tf.int32


def test_decode_wav_namedtuple_in_function_and_dataset_map():
    audio = np.linspace(-0.5, 0.5, 30, dtype="float32")[:, None]
    contents = _wav_bytes(audio)

    @tf.function
    def decode(c):
        result = tf.audio.decode_wav(c, desired_channels=1)
        return result.audio, result.sample_rate

    eager = tf.audio.decode_wav(contents, desired_channels=1)
    traced_audio, traced_rate = decode(contents)
    np.testing.assert_array_equal(traced_audio.numpy(), eager.audio.numpy())
    assert int(traced_rate) == int(eager.sample_rate)
    ds = tf.data.Dataset.from_tensors(contents).map(tf.audio.decode_wav)
    spec = ds.element_spec
    assert type(spec).__name__ == "DecodeWav"
    assert spec.audio.dtype == tf.float32 and spec.sample_rate.dtype == tf.int32
    (item,) = list(ds)
    np.testing.assert_array_equal(item.audio.numpy(), eager.audio.numpy())


# --- imbalanced data tutorial: confusion_matrix of [n, 1] labels vs [n] predictions -----

def test_confusion_matrix_drops_a_trailing_unit_axis():
    labels = np.array([[0], [1], [1], [0], [1]])
    predictions = np.array([0.2, 0.9, 0.1, 0.7, 0.8]) > 0.5
    expected = np.zeros((2, 2), np.int32)
    for lab, pred in zip(labels[:, 0], predictions.astype(int)):
        expected[lab, pred] += 1
    got = tf.math.confusion_matrix(labels, predictions)
    np.testing.assert_array_equal(got.numpy(), expected)
    assert got.dtype == tf.int32
    swapped = tf.math.confusion_matrix(labels[:, 0], predictions[:, None])
    np.testing.assert_array_equal(swapped.numpy(), expected)
    traced = tf.function(tf.math.confusion_matrix)(tf.constant(labels),
                                                  tf.constant(predictions))
    np.testing.assert_array_equal(traced.numpy(), expected)


def test_confusion_matrix_shape_errors_name_the_shapes():
    with pytest.raises(InvalidArgumentError, match=r"1-D.*\[3, 1\]"):
        tf.math.confusion_matrix([[0], [1], [1]], [[0], [1], [0]])
    with pytest.raises(InvalidArgumentError, match=r"\[2\] and \[3\]"):
        tf.math.confusion_matrix([0, 1], [0, 1, 0])
    # TF 2.21: ValueError "Shapes (3,) and (3, 1) are incompatible"
    with pytest.raises(ValueError, match=r"weights.*\[3, 1\]"):
        tf.math.confusion_matrix([0, 1, 1], [0, 1, 0], weights=[[1.0], [2.0], [3.0]])
    weighted = tf.math.confusion_matrix([0, 1, 1], [0, 1, 0], weights=[1.0, 2.0, 3.0],
                                        dtype=tf.float32)
    np.testing.assert_array_equal(weighted.numpy(), [[1.0, 0.0], [3.0, 2.0]])


# --- structured data with FeatureSpace: a missing feature is a KeyError -----------------

def test_feature_space_missing_feature_raises_key_error():
    feature_space = keras.utils.FeatureSpace(
        features={"i": "integer_categorical", "s": "string_categorical"},
        output_mode="concat")
    feature_space.adapt({"i": np.array([1, 2, 3]), "s": np.array(["a", "b", "c"])})
    # TF 2.21 raises KeyError('s'); ValueError kept for callers of earlier dlframe
    with pytest.raises(KeyError, match="'s'"):
        feature_space({"i": [1]})
    with pytest.raises(ValueError, match="Missing features"):
        feature_space({"i": [1]})
    encoded = feature_space({"i": [1, 3], "s": ["c", "zz"]})
    assert encoded.dtype == tf.float32
    # expected values from TF 2.21 (one OOV slot, then the vocabulary, per feature)
    np.testing.assert_array_equal(encoded.numpy(), [[0, 0, 0, 1, 0, 1, 0, 0],
                                                    [0, 1, 0, 0, 1, 0, 0, 0]])


# --- speech recognition with CTC: STFT features of WAV files of different lengths -------

def test_dataset_map_spectrograms_of_wav_files_of_different_lengths(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i, samples in enumerate((400, 500, 620)):
        audio = (0.2 * rng.normal(size=(samples, 1))).clip(-1, 1).astype("float32")
        path = str(tmp_path / f"clip{i}.wav")
        tf.io.write_file(path, tf.audio.encode_wav(audio, 8000))
        paths.append(path)
    mel = tf.signal.linear_to_mel_weight_matrix(8, 33, 8000)

    def features(path):
        audio, _ = tf.audio.decode_wav(tf.io.read_file(path))
        audio = tf.squeeze(audio, axis=-1)
        stft = tf.signal.stft(audio, frame_length=64, frame_step=32, fft_length=64)
        spectrogram = tf.math.pow(tf.abs(stft), 0.5)
        log_mel = tf.math.log(tf.tensordot(spectrogram, mel, 1) + 1e-6)
        mfccs = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)
        return spectrogram, mfccs, tf.signal.inverse_stft(stft, 64, 32)

    ds = tf.data.Dataset.from_tensor_slices(paths).map(
        features, num_parallel_calls=tf.data.AUTOTUNE)
    # static shapes from TF 2.21: the frame counts follow the files
    assert [tuple(s.shape) for s in ds.element_spec] == [(None, 33), (None, 8), (None,)]
    for path, samples, got in zip(paths, (400, 500, 620), ds):
        frames = 1 + (samples - 64) // 32
        assert tuple(got[0].shape) == (frames, 33)
        assert tuple(got[2].shape) == ((frames - 1) * 32 + 64,)
        for traced, eager in zip(got, features(tf.constant(path))):
            np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-5,
                                       atol=1e-5)
    batched = ds.map(lambda s, m, w: (s, tf.range(3))).padded_batch(3)
    spectrograms, _ = next(iter(batched))
    assert tuple(spectrograms.shape) == (3, 1 + (620 - 64) // 32, 33)
