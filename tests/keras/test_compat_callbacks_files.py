"""Callbacks as TF2 programs combine them, the files they write, and the Keras 2
"Save and load models" tutorial's TensorFlow-checkpoint weights (``cp.ckpt`` prefixes
found again with ``tf.train.latest_checkpoint``)."""

import os

import numpy as np

import dlframe as tf

keras = tf.keras
layers = keras.layers
RNG = np.random.default_rng(2)
X = RNG.normal(size=(320, 10)).astype("float32")
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype("int64")


def make_model(lr=0.1):
    model = keras.Sequential([keras.Input((10,)), layers.Dense(16, activation="relu"),
                              layers.Dropout(0.1), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Recorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.begin_logs = logs
        self.epoch_keys, self.lrs = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_keys.append(sorted(logs))
        self.lrs.append(float(keras.backend.get_value(self.model.optimizer.learning_rate)))

    def on_train_batch_end(self, batch, logs=None):
        self.batch_keys = sorted(logs)


def test_callbacks_together_write_keras_files(tmp_path):
    out = str(tmp_path)
    rec, lines = Recorder(), []
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2,
                                      restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(out + "/best.keras", monitor="val_accuracy",
                                        save_best_only=True),
        keras.callbacks.ModelCheckpoint(out + "/w.{epoch:02d}-{val_loss:.2f}.weights.h5",
                                        save_weights_only=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1,
                                          min_lr=1e-3),
        keras.callbacks.CSVLogger(out + "/log.csv"),
        keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: lines.append((epoch, logs["loss"]))),
        rec,
    ]
    model = make_model()
    hist = model.fit(X, Y, epochs=4, batch_size=32, validation_split=0.2,
                     callbacks=callbacks, verbose=0, class_weight={0: 1.0, 1: 2.0})
    keys = ["accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
    assert sorted(hist.history) == keys
    assert hist.params == {"epochs": 4, "steps": 8, "verbose": 0}
    assert rec.begin_logs == {}                 # a dict, never None, as in Keras
    assert rec.epoch_keys[0] == keys and rec.batch_keys == ["accuracy", "loss"]
    assert len(lines) == 4
    files = sorted(os.listdir(out))
    assert files[:2] == ["best.keras", "log.csv"]
    assert [f.split("-")[0] for f in files[2:]] == ["w.01", "w.02", "w.03", "w.04"]
    assert all(f.endswith(".weights.h5") for f in files[2:])
    with open(out + "/log.csv") as f:
        assert f.readline().strip() == "epoch," + ",".join(keys)
    best = keras.models.load_model(out + "/best.keras")
    assert best.predict(X[:2], verbose=0).shape == (2, 2)


def test_learning_rate_scheduler_history():
    model = make_model()
    hist = model.fit(X, Y, epochs=4, verbose=0, callbacks=[
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch < 2
                                              else lr * 0.5)])
    np.testing.assert_allclose(hist.history["learning_rate"], [0.1, 0.1, 0.05, 0.025],
                               rtol=1e-6)
    np.testing.assert_allclose(float(model.optimizer.learning_rate.numpy()), 0.025,
                               rtol=1e-6)


def test_early_stopping_restores_the_best_epoch(tmp_path):
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    xv, yv = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(32, activation="relu"),
                              layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
                                         restore_best_weights=True)
    path = str(tmp_path / "best.weights.h5")
    hist = model.fit(x, y, validation_data=(xv, yv), epochs=60, verbose=0, callbacks=[
        stop, keras.callbacks.ModelCheckpoint(path, save_best_only=True,
                                              save_weights_only=True)])
    val = hist.history["val_loss"]
    assert len(val) < 60 and stop.stopped_epoch == len(val) - 1
    assert int(np.argmin(val)) == len(val) - 4       # patience epochs after the best
    np.testing.assert_allclose(model.evaluate(xv, yv, verbose=0), min(val), rtol=1e-5)
    restored = keras.models.clone_model(model)
    restored.load_weights(path)
    restored.compile("sgd", "mse")
    np.testing.assert_allclose(restored.evaluate(xv, yv, verbose=0), min(val), rtol=1e-5)


def test_save_load_tutorial_with_checkpoint_prefixes(tmp_path):
    """``cp-{epoch:04d}.ckpt`` paths are TensorFlow checkpoints, not HDF5 files."""
    checkpoint_path = str(tmp_path / "training_2" / "cp-{epoch:04d}.ckpt")
    checkpoint_dir = os.path.dirname(checkpoint_path)
    model = make_model()
    model.save_weights(checkpoint_path.format(epoch=0))
    model.fit(X, Y, epochs=4, batch_size=32, verbose=0, callbacks=[
        keras.callbacks.ModelCheckpoint(filepath=checkpoint_path, save_weights_only=True,
                                        save_freq=2 * 10)])
    assert sorted(os.listdir(checkpoint_dir)) == ["checkpoint"] + [   # TF's two files
        f"cp-000{i}.ckpt.{ext}" for i in (0, 2, 4)
        for ext in ("data-00000-of-00001", "index")]
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    assert os.path.basename(latest) == "cp-0004.ckpt"
    fresh = make_model()
    fresh.load_weights(latest).expect_partial()
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), model.predict(X, verbose=0))
    # the same prefix also restores the optimizer's slots and step count
    fresh.fit(X[:32], Y[:32], epochs=1, verbose=0)
    assert int(fresh.optimizer.iterations.numpy()) == 41


def test_save_weights_prefix_and_save_format(tmp_path):
    model = make_model()
    model.fit(X, Y, epochs=1, verbose=0)
    model.save_weights(str(tmp_path / "my_checkpoint"))
    model.save_weights(str(tmp_path / "forced"), save_format="h5")
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "forced",
                                            "my_checkpoint.data-00000-of-00001",
                                            "my_checkpoint.index"]
    for name in ("my_checkpoint", "forced"):
        fresh = make_model()
        fresh.load_weights(str(tmp_path / name))
        np.testing.assert_array_equal(fresh.predict(X, verbose=0),
                                      model.predict(X, verbose=0))
