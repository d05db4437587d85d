"""Training-loop programs compared with TF 2.21 (round 17): a two-output functional
model with dict losses, loss weights, per-output metrics and sample weights (history
numbers taken from TF), the Keras 2 ``history.history['lr']`` key, Progbar's Keras 3
``stateless_metrics``, TerminateOnNaN without a second NaN warning, EarlyStopping's
``start_from_epoch`` with ``restore_best_weights`` and formatted ModelCheckpoint names."""

import os
import warnings

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y1 = (x[:, 0] > 0).astype("int32")
    y2 = x.sum(1, keepdims=True).astype("float32")
    sample_weight = rng.uniform(0.5, 2, size=40).astype("float32")
    return x, y1, y2, sample_weight


def _two_output_model():
    inp = keras.Input((4,), name="feat")
    hidden = keras.layers.Dense(8, activation="tanh", name="h")(inp)
    out1 = keras.layers.Dense(2, activation="softmax", name="out1")(hidden)
    out2 = keras.layers.Dense(1, name="out2")(hidden)
    model = keras.Model(inp, {"out1": out1, "out2": out2})
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32")
                       for w in model.get_weights()])
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss={"out1": "sparse_categorical_crossentropy", "out2": "mse"},
        loss_weights={"out1": 1.0, "out2": 0.5},
        metrics={"out1": ["accuracy"], "out2": ["mae"]})
    return model


def test_two_output_history_matches_tf():
    x, y1, y2, sw = _data()
    model = _two_output_model()
    batch_logs = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batch_logs.append(dict(logs)))
    history = model.fit(x, {"out1": y1, "out2": y2}, epochs=3, batch_size=10,
                        shuffle=False, verbose=0, validation_split=0.25,
                        sample_weight=sw, callbacks=[record])
    # expected values printed by the same program under TF 2.21 (Keras 3)
    expected = {
        "loss": [3.1856, 2.7016, 2.3652],
        "out1_accuracy": [0.5667, 0.6667, 0.7],
        "out1_loss": [0.9864, 0.9164, 0.8627],
        "out2_loss": [4.3984, 3.5705, 3.0049],
        "out2_mae": [1.4064, 1.2658, 1.1738],
        "val_loss": [3.5316, 2.9615, 2.542],
        "val_out1_accuracy": [0.4, 0.4, 0.4],
        "val_out1_loss": [1.0047, 0.9703, 0.9439],
        "val_out2_loss": [5.0539, 3.9825, 3.1962],
        "val_out2_mae": [1.7353, 1.5737, 1.4287],
    }
    assert sorted(history.history) == sorted(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history.history[key], values, atol=2e-4, err_msg=key)
    assert len(batch_logs) == 9
    assert sorted(batch_logs[0]) == ["loss", "out1_accuracy", "out1_loss",
                                     "out2_loss", "out2_mae"]
    np.testing.assert_allclose(float(batch_logs[0]["loss"]), 3.286, atol=2e-4)
    # evaluate(return_dict=True): the total is the weighted sum of the outputs' losses
    result = model.evaluate(x, {"out1": y1, "out2": y2}, return_dict=True, verbose=0,
                            batch_size=7)
    np.testing.assert_allclose(result["loss"], 1.7404, atol=2e-4)   # TF 2.21
    np.testing.assert_allclose(
        result["loss"], result["out1_loss"] + 0.5 * result["out2_loss"], rtol=1e-5)
    pred = model.predict({"feat": x}, verbose=0)
    assert sorted(pred) == ["out1", "out2"]
    assert pred["out1"].shape == (40, 2) and pred["out1"].dtype == np.float32


def _lr_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    return model


def test_history_reads_keras2_lr_key():
    x = np.ones((8, 3), "float32")
    y = np.ones((8, 1), "float32")
    history = _lr_model().fit(
        x, y, epochs=3, verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(
            lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)])
    assert sorted(history.history) == ["learning_rate", "loss"]   # Keras 3 name
    np.testing.assert_allclose(history.history["lr"], [0.01, 0.005, 0.0025], rtol=1e-6)
    assert history.history["lr"] is history.history["learning_rate"]
    assert "lr" in history.history and history.history.get("lr") is not None
    assert "val_lr" not in history.history
    assert history.history.get("val_lr", "absent") == "absent"
    with pytest.raises(KeyError):
        history.history["val_lr"]


def test_history_without_lr_has_no_alias():
    history = _lr_model().fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert "lr" not in history.history
    with pytest.raises(KeyError):
        history.history["lr"]


def test_progbar_stateless_metrics(capsys):
    bar = keras.utils.Progbar(3, verbose=2, stateless_metrics=["loss"])
    for step in range(3):
        bar.update(step + 1, values=[("loss", float(step)), ("acc", 0.25 * step)])
    text = capsys.readouterr().out
    assert "loss: 1.0000" in text        # averaged over the 3 steps
    assert "acc: 0.5000" in text         # not listed: shown as given
    with pytest.raises(ValueError, match="stateless_metrics"):
        keras.utils.Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_terminate_on_nan_stops_without_a_second_warning(capsys):
    x = np.ones((16, 3), "float32")
    x[5] = np.nan
    y = np.ones((16, 1), "float32")
    model = _lr_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1
    assert np.isnan(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):   # no callback: warned
        _lr_model().fit(x, y, epochs=1, batch_size=4, verbose=0)


class _RecordWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])


def test_early_stopping_start_from_epoch_restores_best():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    model = _lr_model()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=1e6,
                                         restore_best_weights=True, start_from_epoch=2)
    record = _RecordWeights()
    history = model.fit(x, y, epochs=10, validation_data=(x, y), verbose=0,
                        callbacks=[record, stop])
    # as TF 2.21: epochs 0-1 ignored, epoch 2 is the best (the huge min_delta makes
    # nothing later an improvement), the run stops after epoch 3
    assert len(history.history["loss"]) == 4
    assert (stop.stopped_epoch, stop.best_epoch) == (3, 2)
    np.testing.assert_allclose(stop.best, history.history["val_loss"][2], rtol=1e-6)
    for restored, best in zip(model.get_weights(), record.weights[2]):
        np.testing.assert_array_equal(restored, best)


def test_checkpoint_formatted_names_and_batch_frequency(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    model = _lr_model()
    pattern = os.path.join(tmp_path, "{epoch:02d}-{val_loss:.2f}.weights.h5")
    history = model.fit(
        x, y, epochs=2, batch_size=8, verbose=0, validation_data=(x, y),
        callbacks=[keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True)])
    names = sorted(os.listdir(tmp_path))
    assert names == [f"{e + 1:02d}-{v:.2f}.weights.h5"
                     for e, v in enumerate(history.history["val_loss"])]
    fresh = _lr_model()
    fresh.load_weights(os.path.join(tmp_path, names[-1]))
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    freq_dir = tmp_path / "freq"
    freq_dir.mkdir()
    x64 = np.concatenate([x, x])
    model.fit(x64, np.concatenate([y, y]), epochs=2, batch_size=8, verbose=0, callbacks=[
        keras.callbacks.ModelCheckpoint(
            os.path.join(freq_dir, "w-{epoch:02d}-{batch:03d}.weights.h5"),
            save_weights_only=True, save_freq=3)])
    # the file names TF 2.21 writes (8 batches an epoch, saved every 3rd batch)
    assert sorted(os.listdir(freq_dir)) == [
        "w-01-003.weights.h5", "w-01-006.weights.h5", "w-02-001.weights.h5",
        "w-02-004.weights.h5", "w-02-007.weights.h5"]
