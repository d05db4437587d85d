"""keras.preprocessing.sequence: TimeseriesGenerator, skipgrams, make_sampling_table.
Expected values were produced by TF 2.21 (Keras 3 legacy preprocessing)."""

import random

import numpy as np
import pytest

import dlframe as tf

S = tf.keras.preprocessing.sequence


def test_timeseries_generator_windows_and_targets():
    data = np.arange(20).reshape(10, 2)
    targets = np.arange(10)
    gen = S.TimeseriesGenerator(data, targets, length=3, stride=2, batch_size=2)
    assert isinstance(gen, tf.keras.utils.PyDataset) and len(gen) == 2
    x, y = gen[0]
    np.testing.assert_array_equal(x, [[[0, 1], [2, 3], [4, 5]],
                                      [[4, 5], [6, 7], [8, 9]]])
    np.testing.assert_array_equal(y, [3, 5])
    x, y = gen[1]
    np.testing.assert_array_equal(y, [7, 9])
    np.testing.assert_array_equal(x[1], data[6:9])
    gen = S.TimeseriesGenerator(data, targets, length=4, sampling_rate=2, start_index=1,
                                end_index=8, reverse=True, batch_size=3)
    x, y = gen[0]
    assert len(gen) == 2
    np.testing.assert_array_equal(x, [[[6, 7], [2, 3]], [[8, 9], [4, 5]],
                                      [[10, 11], [6, 7]]])
    np.testing.assert_array_equal(y, [5, 6, 7])
    shuffled = S.TimeseriesGenerator(data, targets, length=3, shuffle=True,
                                     batch_size=4)
    x, y = shuffled[0]
    assert x.shape == (4, 3, 2)
    for window, target in zip(x, y):   # every window is the 3 rows before its target
        np.testing.assert_array_equal(window, data[target - 3:target])


def test_timeseries_generator_errors_and_fit():
    data = np.arange(20).reshape(10, 2)
    with pytest.raises(ValueError, match="Data length is 10 while target length is 5"):
        S.TimeseriesGenerator(data, np.arange(5), length=3)
    with pytest.raises(ValueError, match="start_index\\+length=12 > end_index=9"):
        S.TimeseriesGenerator(data, np.arange(10), length=12)
    with pytest.raises(ValueError, match="batch_size"):
        S.TimeseriesGenerator(data, np.arange(10), length=2, batch_size=0)
    # next value of a linear series from the last 4: learnable by a Dense layer
    tf.keras.utils.set_random_seed(0)   # unseeded, some suites' RNG state missed 1e-3
    series = np.linspace(0, 1, 200).astype("float32")[:, None]
    gen = S.TimeseriesGenerator(series, series, length=4, batch_size=16)
    model = tf.keras.Sequential([tf.keras.Input((4, 1)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(1)])
    model.compile(tf.keras.optimizers.Adam(0.05), "mse")
    hist = model.fit(gen, epochs=15, verbose=0)
    assert hist.history["loss"][-1] < 1e-3
    assert '"class_name": "TimeseriesGenerator"' in gen.to_json()


def test_make_sampling_table_values():
    np.testing.assert_allclose(
        S.make_sampling_table(8),
        [0.003152, 0.003152, 0.005476, 0.007416, 0.009128, 0.010684, 0.012124,
         0.013472], atol=1e-6)
    np.testing.assert_allclose(S.make_sampling_table(5, sampling_factor=1e-2),
                               [0.099683, 0.099683, 0.173165, 0.234501, 0.288658],
                               atol=1e-6)


def test_skipgrams_pairs_negatives_and_sampling():
    couples, labels = S.skipgrams([1, 2, 3, 0, 4], vocabulary_size=5, window_size=1,
                                  negative_samples=0, shuffle=False)
    assert couples == [[1, 2], [2, 1], [2, 3], [3, 2]] and labels == [1, 1, 1, 1]
    random.seed(0)
    couples, labels = S.skipgrams([1, 2, 3], vocabulary_size=5, window_size=2,
                                  categorical=True, seed=3)
    assert len(couples) == 12
    assert labels.count([0, 1]) == 6 and labels.count([1, 0]) == 6
    positives = {(1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)}
    for pair, label in zip(couples, labels):
        if label == [0, 1]:
            assert tuple(pair) in positives
        else:
            assert pair[0] in (1, 2, 3) and 1 <= pair[1] < 5
    couples, _ = S.skipgrams([1, 2, 3, 4], vocabulary_size=5, window_size=4,
                             sampling_table=np.array([0, 1, 0, 1, 1.0]),
                             negative_samples=0, shuffle=False)
    assert couples == [[1, 2], [1, 3], [1, 4], [3, 1], [3, 2], [3, 4], [4, 1], [4, 2],
                       [4, 3]]
