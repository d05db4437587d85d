"""``fit`` arguments and callbacks found different from TF 2.21 by probe programs:
datasets and generators across epochs with ``steps_per_epoch`` (continued iterators,
the "ran out of data" warning), ``batch_size`` with a dataset, ``class_weight`` with
classes missing from the dict, EarlyStopping's restore at the end of training,
CSVLogger's ``val_`` columns; plus the hook order and ``logs`` keys of a fit."""

import csv
import math
import warnings

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


def _batch_index_model():
    """An identity model trained with MAE on zero targets: a batch's loss is the
    mean of its inputs, so the epoch loss tells which batches the epoch saw."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Lambda(lambda t: t * 1.0)])
    model.compile("sgd", "mae")
    return model


def _batch_index_data(batches=10, size=4):
    """Batch ``i`` holds the value ``i`` in every row."""
    x = np.repeat(np.arange(batches, dtype="float32"), size).reshape(-1, 1)
    return x, np.zeros_like(x)


class _CountBatches(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.per_epoch = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.per_epoch[-1] += 1


def test_repeated_dataset_with_steps_per_epoch_continues_across_epochs():
    x, y = _batch_index_data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat()
    h = _batch_index_model().fit(ds, steps_per_epoch=4, epochs=3, verbose=0)
    # epoch 1: batches 0-3, epoch 2: 4-7, epoch 3: 8, 9, 0, 1 (as in TF 2.21)
    np.testing.assert_allclose(h.history["loss"], [1.5, 5.5, 4.5], rtol=1e-6)


def test_finite_dataset_running_out_warns_and_restarts_next_epoch():
    x, y = _batch_index_data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    count = _CountBatches()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = _batch_index_model().fit(ds, steps_per_epoch=7, epochs=3, verbose=0,
                                     callbacks=[count])
    assert count.per_epoch == [7, 3, 7] and h.epoch == [0, 1, 2]   # TF 2.21
    np.testing.assert_allclose(h.history["loss"], [3.0, 8.0, 3.0], rtol=1e-6)


def test_dataset_whose_cardinality_equals_steps_restarts_silently():
    x, y = _batch_index_data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = _batch_index_model().fit(ds, steps_per_epoch=5, epochs=3, verbose=0)
    np.testing.assert_allclose(h.history["loss"], [2.0, 7.0, 2.0], rtol=1e-6)


def test_validation_dataset_starts_a_fresh_pass_each_epoch():
    x, y = _batch_index_data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    h = _batch_index_model().fit(ds, validation_data=ds.repeat(), validation_steps=2,
                                 epochs=3, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"], [0.5] * 3, rtol=1e-6)


def _finite_generator(x, y, size=4):
    for start in range(0, len(x), size):
        yield x[start:start + size], y[start:start + size]


def test_exhausted_generator_warns_and_stops_training():
    x, y = _batch_index_data(batches=5)
    count = _CountBatches()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = _batch_index_model().fit(_finite_generator(x, y), steps_per_epoch=3,
                                     epochs=3, verbose=0, callbacks=[count])
    assert count.per_epoch == [3, 2] and h.epoch == [0, 1]
    np.testing.assert_allclose(h.history["loss"], [1.0, 3.5], rtol=1e-6)
    count = _CountBatches()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = _batch_index_model().fit(_finite_generator(x, y), epochs=3, verbose=0,
                                     callbacks=[count])
    assert count.per_epoch == [5] and h.epoch == [0]


def test_batch_size_is_ignored_for_datasets_and_generators():
    x, y = _batch_index_data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    count = _CountBatches()
    _batch_index_model().fit(ds, batch_size=2, epochs=1, verbose=0, callbacks=[count])
    assert count.per_epoch == [10]   # the dataset's own batches, as in Keras 3
    _batch_index_model().fit(_finite_generator(x, y), batch_size=2, epochs=1,
                             verbose=0, callbacks=[count])
    assert count.per_epoch == [10]


@pytest.mark.parametrize("class_weight, expected", [
    ({0: 2.0}, 1.25), ({0: 2.0, 2: 3.0}, 2.25), ({1: 4.0}, 1.75)])
def test_class_weight_missing_classes_weigh_one(class_weight, expected):
    x = np.zeros((4, 1), "float32")
    labels = np.array([0, 1, 2, 2])
    model = keras.Sequential([keras.Input((1,)),
                              keras.layers.Dense(3, activation="softmax",
                                                 kernel_initializer="zeros")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    h = model.fit(x, labels, class_weight=class_weight, batch_size=4, epochs=1,
                  verbose=0)
    # uniform predictions: loss = ln(3) * mean(weights); ratios from TF 2.21
    assert math.isclose(h.history["loss"][0] / math.log(3), expected, rel_tol=1e-5)


class _FakeMetric(keras.callbacks.Callback):
    """Writes a scripted ``val_loss`` into the epoch logs (runs first)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


class _Snapshots(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch] = [w.copy() for w in self.model.get_weights()]


def _small_classifier():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _classification_data():
    rng = np.random.RandomState(0)
    x = rng.randn(32, 4).astype("float32")
    return x, (x[:, 0] > 0).astype("int32")


@pytest.mark.parametrize("values, patience, best_epoch, epochs_run", [
    ([1.0, 0.5, 0.7, 0.8, 0.9], 20, 1, 5),       # never stops: restored at the end
    ([1.0, 0.9, 0.95, 0.89, 0.91, 0.92, 0.93], 2, 3, 6)])
def test_early_stopping_restores_best_weights_at_train_end(values, patience,
                                                           best_epoch, epochs_run):
    x, y = _classification_data()
    model, snaps = _small_classifier(), _Snapshots()
    stop = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    h = model.fit(x, y, epochs=len(values), verbose=0,
                  callbacks=[_FakeMetric(values), snaps, stop])
    assert len(h.epoch) == epochs_run and stop.best_epoch == best_epoch
    for got, want in zip(model.get_weights(), snaps.weights[best_epoch]):
        np.testing.assert_array_equal(got, want)


def test_csv_logger_keeps_val_columns_with_validation_freq(tmp_path):
    x, y = _classification_data()
    path = tmp_path / "log.csv"
    model = _small_classifier()
    model.fit(x, y, epochs=2, validation_data=(x, y), validation_freq=2, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(path))])
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert rows[0]["val_loss"] == "NA" and float(rows[1]["val_loss"]) > 0
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(path), separator=";")])
    with open(path) as f:
        header, row = f.read().splitlines()
    assert header == "epoch;accuracy;loss;val_accuracy;val_loss"   # TF 2.21
    assert row.endswith(";NA;NA")


class _Order(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.events = [("train_begin",)]

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, sorted(logs)))

    def on_test_begin(self, logs=None):
        self.events.append(("test_begin",))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test_batch_end", batch))

    def on_test_end(self, logs=None):
        self.events.append(("test_end", sorted(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("train_end", sorted(logs)))


def test_fit_hook_order_logs_keys_and_params():
    x, y = _classification_data()
    order = _Order()
    h = _small_classifier().fit(x, y, batch_size=16, epochs=2, validation_split=0.5,
                                validation_freq=[2], verbose=0, callbacks=[order])
    keys = ["accuracy", "loss"]
    val_keys = keys + ["val_accuracy", "val_loss"]
    assert order.events == [
        ("train_begin",),
        ("epoch_begin", 0), ("batch_end", 0, keys), ("epoch_end", 0, keys),
        ("epoch_begin", 1), ("batch_end", 0, keys),
        ("test_begin",), ("test_batch_end", 0), ("test_end", keys),
        ("epoch_end", 1, val_keys), ("train_end", val_keys)]
    assert order.params == {"epochs": 2, "steps": 1, "verbose": 0}
    assert {k: len(v) for k, v in h.history.items()} == {
        "loss": 2, "accuracy": 2, "val_loss": 1, "val_accuracy": 1}


def test_initial_epoch_and_zero_epochs():
    x, y = _classification_data()
    model = _small_classifier()
    assert model.fit(x, y, epochs=5, initial_epoch=3, verbose=0).epoch == [3, 4]
    h = model.fit(x, y, epochs=0, verbose=0)
    assert h.epoch == [] and h.history == {}
