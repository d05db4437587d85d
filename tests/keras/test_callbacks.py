"""Callbacks: hooks, EarlyStopping, ModelCheckpoint, LR callbacks, CSV, TensorBoard,
BackupAndRestore across a killed process."""

import csv
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dlframe as tf  # noqa: F401
from dlframe import keras

RNG = np.random.default_rng(3)
X = RNG.normal(size=(64, 4)).astype("float32")
Y = (X @ RNG.normal(size=(4, 1))).astype("float32")


def make_model(lr=0.05):
    m = keras.Sequential([keras.layers.Dense(1, input_shape=(4,))])
    m.compile(keras.optimizers.SGD(lr), "mse", run_eagerly=True)
    return m


class ScriptedLoss(keras.callbacks.Callback):
    """Overwrites the epoch's monitored value with a scripted sequence."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_all_hooks_called_in_order():
    calls = []

    def hook(name):
        return lambda self, *args, **kwargs: calls.append(name)
    names = [n for n in dir(keras.callbacks.Callback) if n.startswith("on_") and
             n not in ("on_batch_begin", "on_batch_end")]
    Rec = type("Rec", (keras.callbacks.Callback,), {n: hook(n) for n in names})

    m = make_model()
    m.fit(X, Y, batch_size=32, epochs=2, validation_data=(X, Y), callbacks=[Rec()],
          verbose=0)
    assert calls[0] == "on_train_begin" and calls[-1] == "on_train_end"
    assert calls.count("on_epoch_begin") == 2 and calls.count("on_train_batch_end") == 4
    assert calls.count("on_test_batch_end") == 4 and "on_test_begin" in calls
    calls.clear()
    m.predict(X, batch_size=32, callbacks=[Rec()], verbose=0)
    assert calls.count("on_predict_batch_end") == 2 and calls[-1] == "on_predict_end"


@pytest.mark.parametrize("kwargs,scripted,expect_epochs", [
    ({"patience": 2}, [1.0, 0.9, 0.95, 0.96, 0.5, 0.4], 4),
    ({"patience": 1, "min_delta": 0.2}, [1.0, 0.9, 0.85, 0.2, 0.1, 0.0], 2),
    ({"patience": 2, "baseline": 0.5}, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5], 6),  # as Keras 3
    ({"patience": 2, "baseline": 0.5}, [1.0] * 6, 2),
    ({"patience": 1, "start_from_epoch": 3}, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 5),
])
def test_early_stopping_epochs(kwargs, scripted, expect_epochs):
    """Epoch counts checked against Keras 3 (TF 2.21) with the same scripted values."""
    es = keras.callbacks.EarlyStopping(monitor="val_loss", **kwargs)
    h = make_model().fit(X, Y, epochs=6, callbacks=[ScriptedLoss(scripted), es], verbose=0)
    assert len(h.history["loss"]) == expect_epochs


def test_early_stopping_restores_best_weights():
    seen = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append([w.copy() for w in self.model.get_weights()])

    es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2,
                                       restore_best_weights=True)
    m = make_model()
    m.fit(X, Y, epochs=10, callbacks=[ScriptedLoss([3, 2, 1, 2, 3, 4, 5, 6, 7, 8]), Snap(),
                                      es], verbose=0)
    assert es.stopped_epoch == 4 and es.best_epoch == 2
    for a, b in zip(m.get_weights(), seen[2]):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_best_only_and_template(tmp_path):
    path = str(tmp_path / "w-{epoch:02d}-{val_loss:.2f}.weights.h5")
    ck = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True,
                                         save_weights_only=True)
    m = make_model()
    m.fit(X, Y, epochs=4, callbacks=[ScriptedLoss([0.5, 0.7, 0.3, 0.4]), ck], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["w-01-0.50.weights.h5", "w-03-0.30.weights.h5"]
    best = str(tmp_path / "best.h5")
    snaps = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snaps.append([w.copy() for w in self.model.get_weights()])
    ck2 = keras.callbacks.ModelCheckpoint(best, monitor="loss", mode="max",
                                          save_best_only=True, save_weights_only=True)
    m.fit(X, Y, epochs=4, callbacks=[Snap(), ScriptedLoss([1, 5, 2, 3], "loss"), ck2],
          verbose=0)
    m2 = make_model()
    m2.load_weights(best)
    for a, b in zip(m2.get_weights(), snaps[1]):
        np.testing.assert_array_equal(a, b)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp.h5")]


def test_lr_scheduler_and_reduce_on_plateau():
    m = make_model(0.1)
    h = m.fit(X, Y, epochs=3, verbose=0, callbacks=[
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    m = make_model(0.1)
    rl = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1,
                                           min_lr=0.02)
    h = m.fit(X, Y, epochs=5, verbose=0,
              callbacks=[ScriptedLoss([1, 1, 1, 1, 1]), rl])
    np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.1, 0.05, 0.025, 0.02],
                               rtol=1e-6)
    np.testing.assert_allclose(float(m.optimizer.learning_rate.numpy()), 0.02, rtol=1e-6)


def test_csv_logger_terminate_on_nan_lambda(tmp_path):
    path = tmp_path / "log.csv"
    ends = []
    m = make_model()
    m.fit(X, Y, epochs=2, validation_data=(X, Y), verbose=0, callbacks=[
        keras.callbacks.CSVLogger(str(path)),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: ends.append(e))])
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"] and set(rows[0]) == {
        "epoch", "loss", "val_loss"}
    assert ends == [0, 1]
    bad = make_model(1e30)
    h = bad.fit(X * 1e20, Y, epochs=3, batch_size=8, verbose=0,
                callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(h.history.get("loss", [])) <= 1


def test_tensorboard_event_files(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    m = make_model()
    m.fit(X, Y, epochs=3, validation_data=(X, Y), verbose=0, callbacks=[
        keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, update_freq="batch")])
    train = EventAccumulator(str(tmp_path / "train")).Reload()
    tags = train.Tags()   # TF 2 summaries are tensors (as TF 2.21 writes them)
    assert {"epoch_loss", "epoch_learning_rate", "batch_loss"} <= set(tags["tensors"])
    assert len(train.Tensors("epoch_loss")) == 3
    assert any(t.endswith("/histogram") for t in tags["tensors"])
    val = EventAccumulator(str(tmp_path / "validation")).Reload()
    assert len(val.Tensors("epoch_loss")) == 3


def test_backup_and_restore_resumes_after_kill(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, numpy as np
        from dlframe import keras
        rng = np.random.default_rng(3)
        X = rng.normal(size=(64, 4)).astype("float32")
        Y = (X @ rng.normal(size=(4, 1))).astype("float32")
        m = keras.Sequential([keras.layers.Dense(1, input_shape=(4,),
                              kernel_initializer="zeros")])
        m.compile(keras.optimizers.Adam(0.01), "mse", run_eagerly=True)
        class Kill(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if sys.argv[1] == "kill" and epoch == 2:
                    os._exit(3)
        br = keras.callbacks.BackupAndRestore({str(tmp_path / 'backup')!r})
        h = m.fit(X, Y, epochs=6, batch_size=16, shuffle=False, verbose=0,
                  callbacks=[br, Kill()])
        print("EPOCHS", h.epoch)
        np.save({str(tmp_path)!r} + "/w_" + sys.argv[1] + ".npy", m.get_weights()[0])
    """)
    path = tmp_path / "run.py"
    path.write_text(script)
    env = {**os.environ, "DLFRAME_DEVICE": "cpu"}
    killed = subprocess.run([sys.executable, str(path), "kill"], capture_output=True,
                            text=True, env=env, check=False)
    assert killed.returncode == 3, killed.stderr
    assert os.path.exists(tmp_path / "backup")
    resumed = subprocess.run([sys.executable, str(path), "resume"], capture_output=True,
                             text=True, env=env, check=True)
    assert "EPOCHS [3, 4, 5]" in resumed.stdout
    assert not os.path.exists(tmp_path / "backup")
    (tmp_path / "backup").mkdir()
    import shutil
    shutil.rmtree(tmp_path / "backup")
    full = subprocess.run([sys.executable, str(path), "full"], capture_output=True,
                          text=True, env=env, check=True)
    assert "EPOCHS [0, 1, 2, 3, 4, 5]" in full.stdout
    np.testing.assert_allclose(np.load(tmp_path / "w_resume.npy"),
                               np.load(tmp_path / "w_full.npy"), rtol=1e-6)
