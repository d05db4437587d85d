"""TF2 time-series programs: Dataset.window + flat_map windowing,
keras.utils.timeseries_dataset_from_array, a Normalization layer adapted on the data
and a small LSTM forecaster. Expected values were recorded from TensorFlow 2.21."""

import numpy as np
import pytest

import dlframe as tf


def test_window_flat_map_split_features_and_label():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(20, dtype="float32"))
    windows = ds.window(5, shift=1, drop_remainder=True)
    assert windows.element_spec == tf.data.DatasetSpec(tf.TensorSpec([], tf.float32))
    pairs = windows.flat_map(lambda w: w.batch(5)).map(lambda w: (w[:-1], w[-1]))
    assert int(pairs.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    first = list(pairs.take(2).as_numpy_iterator())
    np.testing.assert_array_equal(first[0][0], [0, 1, 2, 3])
    assert first[0][1] == 4.0 and first[1][1] == 5.0
    batches = list(pairs.shuffle(100, seed=4).batch(4).prefetch(1))
    assert len(batches) == 4
    labels = np.concatenate([y.numpy() for _, y in batches])
    assert sorted(labels.tolist()) == list(range(4, 20))
    for x, y in batches:   # features and labels stay paired through the shuffle
        np.testing.assert_array_equal(x.numpy()[:, -1] + 1, y.numpy())


def test_window_stride_and_nested_structures():
    strided = tf.data.Dataset.range(7).window(3, shift=2, stride=2)
    assert [list(w.as_numpy_iterator()) for w in strided] == [[0, 2, 4], [2, 4, 6],
                                                              [4, 6], [6]]
    zipped = tf.data.Dataset.zip((tf.data.Dataset.range(5),
                                  tf.data.Dataset.range(5, 10))).window(2)
    assert [(list(a.as_numpy_iterator()), list(b.as_numpy_iterator()))
            for a, b in zipped] == [([0, 1], [5, 6]), ([2, 3], [7, 8]), ([4], [9])]
    dicts = tf.data.Dataset.from_tensor_slices({"a": [1, 2, 3, 4],
                                                "b": [5., 6., 7., 8.]}).window(2)
    batched = list(dicts.flat_map(lambda e: tf.data.Dataset.zip(e).batch(2))
                   .as_numpy_iterator())
    assert [v["a"].tolist() for v in batched] == [[1, 2], [3, 4]]
    assert batched[0]["a"].dtype == np.int32 and batched[0]["b"].dtype == np.float32


def test_timeseries_dataset_from_array_matches_tf():
    data = np.arange(30).reshape(15, 2).astype("float32")
    targets = np.arange(15)
    ds = tf.keras.utils.timeseries_dataset_from_array(data, targets[3:], sequence_length=3,
                                                      batch_size=4)
    x_spec, y_spec = ds.element_spec
    assert x_spec.dtype == tf.float32 and x_spec.shape.as_list()[::2] == [None, 2]
    assert y_spec == tf.TensorSpec([None], tf.int64)
    assert int(ds.cardinality()) == 3
    x, y = next(iter(ds))
    np.testing.assert_array_equal(x.numpy()[1], [[2, 3], [4, 5], [6, 7]])
    assert y.numpy().tolist() == [3, 4, 5, 6]
    assert np.concatenate([y.numpy() for _, y in ds]).tolist() == list(range(3, 15))

    strided = tf.keras.utils.timeseries_dataset_from_array(
        np.arange(10), None, sequence_length=4, sampling_rate=2, sequence_stride=3,
        batch_size=2)
    assert [b.tolist() for b in strided.as_numpy_iterator()] == [[[0, 2, 4, 6],
                                                                  [3, 5, 7, 9]]]


def test_timeseries_shuffle_start_end_and_errors():
    ds = tf.keras.utils.timeseries_dataset_from_array(
        np.arange(100), np.arange(100), sequence_length=5, batch_size=8, shuffle=True,
        seed=3, start_index=10, end_index=60)
    xs, ys = [], []
    for x, y in ds:   # one pass: windows and targets stay paired
        xs.append(x.numpy())
        ys.append(y.numpy())
    xs, ys = np.concatenate(xs), np.concatenate(ys)
    assert sorted(ys.tolist()) == list(range(10, 56))
    np.testing.assert_array_equal(xs[:, 0], ys)
    np.testing.assert_array_equal(xs, ys[:, None] + np.arange(5))
    assert ys.tolist() != sorted(ys.tolist())
    with pytest.raises(ValueError, match="`sampling_rate` must be higher than 0"):
        tf.keras.utils.timeseries_dataset_from_array(np.arange(10), None, 3,
                                                     sampling_rate=0)
    with pytest.raises(ValueError, match="`start_index` must be 0 or greater"):
        tf.keras.utils.timeseries_dataset_from_array(np.arange(10), None, 3,
                                                     start_index=20)


def test_normalization_adapted_on_data_matches_tf():
    data = np.arange(30).reshape(15, 2).astype("float32")
    norm = tf.keras.layers.Normalization(axis=-1)
    norm.adapt(data)
    assert norm.mean.shape == [1, 2]
    np.testing.assert_allclose(norm.mean.numpy(), [[14.0, 15.0]])
    np.testing.assert_allclose(norm.variance.numpy(), [[74.6667, 74.6667]], rtol=1e-5)
    np.testing.assert_allclose(norm(data[:2]).numpy(), [[-1.6202, -1.6202],
                                                        [-1.3887, -1.3887]], atol=1e-4)
    scalar = tf.keras.layers.Normalization(axis=None)
    scalar.adapt(tf.data.Dataset.from_tensor_slices(data).batch(5))
    np.testing.assert_allclose(scalar.mean.numpy(), [[14.5]])
    np.testing.assert_allclose(scalar(np.array([[1.0, 2.0]])).numpy(),
                               [[-1.5597, -1.4442]], atol=1e-4)
    inverse = tf.keras.layers.Normalization(mean=3.0, variance=4.0, invert=True)
    np.testing.assert_allclose(inverse(np.array([0.0, 1.0])).numpy(), [3.0, 5.0])
    per_position = tf.keras.layers.Normalization(axis=(1, 2))
    per_position.adapt(np.arange(24, dtype="float32").reshape(2, 3, 4))
    assert per_position.mean.shape == [1, 3, 4]


def test_lstm_forecaster_learns_from_windows():
    series = np.sin(np.arange(200) * 0.1).astype("float32")
    windows = tf.keras.utils.timeseries_dataset_from_array(
        series[:, None], series[10:], sequence_length=10, batch_size=16)
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((10, 1)), tf.keras.layers.LSTM(8),
                                 tf.keras.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(windows, epochs=15, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
