"""``keras.utils.audio_dataset_from_directory`` on tiny generated WAV files, and the
"Simple audio recognition" tutorial's pipeline on top of it (stft spectrograms,
shard, Normalization.adapt on a mapped dataset, Resizing, training)."""

import wave

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

RATE = 8000
FREQS = {"down": 300.0, "go": 1000.0, "up": 2500.0}


def _write_wav(path, samples):
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return pcm.astype(np.float32) / 32768.0


@pytest.fixture
def speech_dir(tmp_path):
    rng = np.random.default_rng(0)
    waves = {}
    for label, freq in FREQS.items():
        (tmp_path / label).mkdir()
        for i in range(8):
            n = 800 if i % 2 else int(rng.integers(500, 800))
            t = np.arange(n) / RATE
            sig = 0.5 * np.sin(2 * np.pi * freq * t) + rng.normal(0, 0.05, n)
            waves[f"{label}/{label}_{i}.wav"] = _write_wav(
                tmp_path / label / f"{label}_{i}.wav", sig)
    (tmp_path / "README.md").write_text("not audio")
    return tmp_path, waves


def test_batches_pad_to_the_longest_or_to_output_sequence_length(speech_dir):
    root, waves = speech_dir
    ds = keras.utils.audio_dataset_from_directory(root, batch_size=4, shuffle=False)
    assert ds.class_names == ["down", "go", "up"]
    audio, labels = next(iter(ds))
    assert audio.dtype == tf.float32 and labels.dtype == tf.int32
    assert labels.numpy().tolist() == [0, 0, 0, 0]
    names = [p.split("/")[-2] + "/" + p.split("/")[-1] for p in ds.file_paths[:4]]
    longest = max(len(waves[n]) for n in names)
    assert tuple(audio.shape) == (4, longest, 1)
    for row, name in zip(audio.numpy(), names):
        ref = waves[name]
        np.testing.assert_allclose(row[:len(ref), 0], ref, atol=1e-6)
        assert not row[len(ref):].any()
    fixed = keras.utils.audio_dataset_from_directory(
        root, batch_size=4, shuffle=False, output_sequence_length=600)
    assert tuple(next(iter(fixed))[0].shape) == (4, 600, 1)
    single = keras.utils.audio_dataset_from_directory(
        root, batch_size=None, shuffle=False, output_sequence_length=900)
    audio, label = next(iter(single))
    assert tuple(audio.shape) == (900, 1) and label.shape == ()
    ragged = keras.utils.audio_dataset_from_directory(root, batch_size=4, ragged=True,
                                                      shuffle=False)
    rt = next(iter(ragged))[0]
    assert isinstance(rt, tf.RaggedTensor)
    assert rt.row_lengths().numpy().tolist() == [len(waves[n]) for n in names]


def test_labels_modes_subsets_and_errors(speech_dir):
    root, _ = speech_dir
    cat = keras.utils.audio_dataset_from_directory(root, batch_size=24,
                                                   label_mode="categorical", seed=1)
    _, onehot = next(iter(cat))
    assert tuple(onehot.shape) == (24, 3) and onehot.numpy().sum() == 24
    bare = keras.utils.audio_dataset_from_directory(root, labels=None, batch_size=5)
    assert isinstance(next(iter(bare)), tf.Tensor)
    train, val = keras.utils.audio_dataset_from_directory(
        root, batch_size=8, validation_split=0.25, subset="both", seed=0,
        output_sequence_length=800)
    assert sum(int(b[1].shape[0]) for b in train) == 18
    assert sum(int(b[1].shape[0]) for b in val) == 6
    assert set(train.file_paths).isdisjoint(val.file_paths)
    with pytest.raises(ValueError, match="Cannot set both `ragged`"):
        keras.utils.audio_dataset_from_directory(root, ragged=True,
                                                 output_sequence_length=10)
    with pytest.raises(ValueError, match="sampling_rate=-1"):
        keras.utils.audio_dataset_from_directory(root, sampling_rate=-1)
    with pytest.raises(ImportError, match="tensorflow_io"):
        keras.utils.audio_dataset_from_directory(root, sampling_rate=16000)
    with pytest.raises(ValueError, match="output_sequence_length=-3"):
        keras.utils.audio_dataset_from_directory(root, output_sequence_length=-3)
    with pytest.raises(ValueError, match="exactly 2"):
        keras.utils.audio_dataset_from_directory(root, label_mode="binary")


def _spectrogram(waveform):
    return tf.abs(tf.signal.stft(waveform, frame_length=63, frame_step=32))[..., None]


def test_simple_audio_recognition_pipeline_learns(speech_dir):
    root, _ = speech_dir
    train, val = keras.utils.audio_dataset_from_directory(
        root, batch_size=4, validation_split=0.25, seed=0, subset="both",
        output_sequence_length=800)
    label_names = np.array(train.class_names)
    train = train.map(lambda a, y: (tf.squeeze(a, axis=-1), y), tf.data.AUTOTUNE)
    val = val.map(lambda a, y: (tf.squeeze(a, axis=-1), y), tf.data.AUTOTUNE)
    test = val.shard(num_shards=2, index=0)
    spec = train.map(lambda a, y: (_spectrogram(a), y), num_parallel_calls=2)
    spec = spec.cache().shuffle(100, seed=0).prefetch(tf.data.AUTOTUNE)
    example = next(iter(spec))[0]
    norm = keras.layers.Normalization()
    norm.adapt(spec.map(lambda s, y: s))
    model = keras.Sequential([
        keras.layers.Input(shape=example.shape[1:]),
        keras.layers.Resizing(16, 16), norm,
        keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(len(label_names))])
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(spec, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    test_spec = test.map(lambda a, y: (_spectrogram(a), y))
    y_pred = tf.argmax(model.predict(test_spec, verbose=0), axis=1)
    y_true = tf.concat(list(test_spec.map(lambda s, y: y)), axis=0)
    assert tf.math.confusion_matrix(y_true, y_pred).numpy().trace() == len(y_true)

    @tf.function
    def classify(path):
        x, _ = tf.audio.decode_wav(tf.io.read_file(path), desired_channels=1,
                                   desired_samples=800)
        logits = model(_spectrogram(tf.squeeze(x, axis=-1))[None], training=False)
        return tf.gather(label_names, tf.argmax(logits, axis=-1))
    for label in ("up", "down"):
        got = classify(tf.constant(str(root / label / f"{label}_1.wav")))
        assert got.numpy().tolist() == [label.encode()]
