"""The Keras 2 era "Simple audio recognition" tutorial: file names from
tf.io.gfile.glob, labels from tf.strings.split of the path, tf.audio.decode_wav,
zero padding by ``[N] - tf.shape(waveform)``, tf.signal.stft spectrograms, label ids
from ``tf.argmax(label == commands)``, and layers.experimental.preprocessing."""

import os
import wave

import numpy as np

import dlframe as tf
from dlframe.keras.layers.experimental import preprocessing

RATE, LENGTH = 8000, 800
FREQS = {"down": 300.0, "go": 1200.0, "left": 2500.0}


def _write(path, n, freq, rng):
    t = np.arange(n) / RATE
    sig = 0.5 * np.sin(2 * np.pi * freq * t) + rng.normal(0, 0.05, n)
    pcm = (np.clip(sig, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return pcm.astype("float32") / 32768.0


def decode_audio(audio_binary):
    audio, _ = tf.audio.decode_wav(audio_binary)
    return tf.squeeze(audio, axis=-1)


def get_label(file_path):
    return tf.strings.split(file_path, os.path.sep)[-2]


def get_waveform_and_label(file_path):
    return decode_audio(tf.io.read_file(file_path)), get_label(file_path)


def get_spectrogram(waveform):
    zero_padding = tf.zeros([LENGTH] - tf.shape(waveform), dtype=tf.float32)
    equal_length = tf.concat([tf.cast(waveform, tf.float32), zero_padding], 0)
    return tf.abs(tf.signal.stft(equal_length, frame_length=63, frame_step=32))


def test_keras2_audio_pipeline_learns(tmp_path):
    rng = np.random.default_rng(0)
    waves = {}
    for label, freq in FREQS.items():
        (tmp_path / label).mkdir()
        for i in range(8):
            n = LENGTH if i % 2 else int(rng.integers(500, LENGTH))
            waves[str(tmp_path / label / f"{i}.wav")] = _write(
                tmp_path / label / f"{i}.wav", n, freq, rng)
    commands = np.array(sorted(tf.io.gfile.listdir(str(tmp_path))))
    filenames = tf.random.shuffle(tf.io.gfile.glob(str(tmp_path) + "/*/*"))
    assert filenames.dtype == tf.string and len(filenames) == 24

    def get_spectrogram_and_label_id(audio, label):
        spectrogram = tf.expand_dims(get_spectrogram(audio), -1)
        return spectrogram, tf.argmax(label == commands)

    files_ds = tf.data.Dataset.from_tensor_slices(filenames)
    waveform_ds = files_ds.map(get_waveform_and_label, num_parallel_calls=tf.data.AUTOTUNE)
    for waveform, label in waveform_ds.take(3):
        path = [p for p in waves if os.path.basename(os.path.dirname(p)) ==
                label.numpy().decode() and len(waves[p]) == waveform.shape[0]]
        assert path and any(np.allclose(waves[p], waveform.numpy()) for p in path)
        padded = get_spectrogram(waveform)
        assert padded.shape == (24, 33)
    spectrogram_ds = waveform_ds.map(get_spectrogram_and_label_id)
    for spectrogram, label_id in spectrogram_ds.take(1):
        assert spectrogram.shape == (24, 33, 1) and label_id.dtype == tf.int64
    norm_layer = preprocessing.Normalization()
    norm_layer.adapt(spectrogram_ds.map(lambda x, _: x))
    specs = np.stack([s.numpy() for s, _ in spectrogram_ds])
    np.testing.assert_allclose(np.squeeze(norm_layer.mean.numpy()), specs.mean(),
                               rtol=1e-4)
    layers = tf.keras.layers
    model = tf.keras.models.Sequential([
        layers.Input(shape=(24, 33, 1)), preprocessing.Resizing(16, 16), norm_layer,
        layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(len(commands))])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), metrics=["accuracy"],
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(spectrogram_ds.batch(8).cache(), epochs=8, verbose=0)
    assert history.history["accuracy"][-1] >= 0.9
    y_pred = np.argmax(model.predict(specs, verbose=0), axis=1)
    y_true = np.array([int(i) for _, i in spectrogram_ds])
    assert np.mean(y_pred == y_true) >= 0.9
