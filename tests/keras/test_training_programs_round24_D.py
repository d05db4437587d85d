"""Keras training programs as users write them, checked against TF 2.21 figures.

Each figure below was printed by the same program under TensorFlow 2.21 / Keras 3.15
(CPU) with ``import tensorflow as tf``; dlframe must print the same.
"""
import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


def _sigmoid_model(units=3):
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(
            units, activation="sigmoid",
            kernel_initializer=keras.initializers.Constant(0.1),
            bias_initializer=keras.initializers.Constant(np.linspace(-0.3, 0.3, units)))])
    return model


def _data():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.integers(0, 3, size=(32,))
    return x, y, rng


@pytest.mark.parametrize("loss", ["binary_crossentropy", "object"])
def test_accuracy_string_picks_by_shapes_not_by_loss(loss):
    # TF (Keras 2 and 3) turns "accuracy" into categorical accuracy for a 3-unit output
    # with one-hot targets even when the loss is binary cross-entropy.
    x, y, _ = _data()
    onehot = np.eye(3, dtype="float32")[y]
    model = _sigmoid_model()
    model.compile(keras.optimizers.SGD(0.1),
                  keras.losses.BinaryCrossentropy() if loss == "object" else loss,
                  metrics=["accuracy", "acc"])
    got = model.evaluate(x, onehot, verbose=0, return_dict=True)
    assert sorted(got) == ["acc", "accuracy", "loss"]
    np.testing.assert_allclose(got["accuracy"], 0.4375, atol=1e-4)   # TF 2.21
    np.testing.assert_allclose(got["acc"], 0.4375, atol=1e-4)
    np.testing.assert_allclose(got["loss"], 0.6774, atol=1e-4)
    pred = model.predict(x, verbose=0)
    categorical = np.mean(np.argmax(pred, 1) == y)
    assert got["accuracy"] == pytest.approx(categorical, abs=1e-6)
    hist = model.fit(x, onehot, epochs=2, batch_size=16, shuffle=False, verbose=0).history
    np.testing.assert_allclose(hist["accuracy"], [0.4375, 0.4375], atol=1e-4)
    np.testing.assert_allclose(hist["loss"], [0.6771, 0.6732], atol=1e-4)


def test_accuracy_on_multi_hot_targets_is_categorical_as_tf():
    x, _, rng = _data()
    rng.integers(0, 3, size=(32,))  # keep the draw order of the TF program
    multi_hot = (rng.uniform(size=(32, 3)) > 0.5).astype("float32")
    model = _sigmoid_model()
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"])
    got = model.evaluate(x, multi_hot, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    categorical = np.mean(np.argmax(pred, 1) == np.argmax(multi_hot, 1))
    binary = np.mean((pred > 0.5) == multi_hot)
    assert got["accuracy"] == pytest.approx(categorical, abs=1e-6)
    assert abs(categorical - binary) > 0.1   # the two readings really differ here


def test_accuracy_single_unit_and_sparse_targets_unchanged():
    x, y, _ = _data()
    binary_y = (y == 1).astype("float32")[:, None]
    model = _sigmoid_model(1)
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    got = model.evaluate(x, binary_y, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["accuracy"], 0.5625, atol=1e-4)   # TF 2.21
    np.testing.assert_allclose(got["loss"], 0.6894, atol=1e-4)
    soft = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(3, activation="softmax",
                           kernel_initializer=keras.initializers.Constant(0.1),
                           bias_initializer=keras.initializers.Constant(
                               np.linspace(-0.3, 0.3, 3)))])
    soft.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    got = soft.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["accuracy"], 0.4375, atol=1e-4)   # TF 2.21
    np.testing.assert_allclose(got["loss"], 1.044, atol=1e-4)


class CallableObj:
    def __call__(self, y_true, y_pred):
        return tf.reduce_mean(y_pred, axis=-1)


def test_metric_callables_without_name_log_their_class_name():
    # TF 2.21 (and Keras 2's get_custom_object_name) log a functools.partial as
    # 'partial' and a callable object under its snake-cased class name.
    import functools
    rng = np.random.default_rng(21)
    x = rng.normal(size=(30, 4)).astype("float32")
    y = rng.integers(0, 2, size=(30, 1)).astype("float32")
    scaled = functools.partial(lambda a, b, k: tf.reduce_mean(b, axis=-1) * k, k=2.0)
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(1, activation="sigmoid",
                           kernel_initializer=keras.initializers.Constant(0.1))])
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy",
                  metrics=[scaled, CallableObj()])
    hist = model.fit(x, y, epochs=1, batch_size=10, verbose=0, shuffle=False).history
    assert sorted(hist) == ["callable_obj", "loss", "partial"]   # TF 2.21
    got = model.evaluate(x, y, verbose=0, return_dict=True)
    mean_pred = float(np.mean(model.predict(x, verbose=0)))
    assert got["partial"] == pytest.approx(2 * mean_pred, rel=1e-5)


def _masked_seq_model():
    inp = keras.Input((5,), dtype="int32")
    emb = keras.layers.Embedding(6, 4, mask_zero=True,
                                 embeddings_initializer=keras.initializers.Constant(0.1))(inp)
    hid = keras.layers.Dense(4, activation="tanh",
                             kernel_initializer=keras.initializers.Constant(0.3))(emb)
    out = keras.layers.Dense(3, activation="softmax",
                             kernel_initializer=keras.initializers.Constant(0.2),
                             bias_initializer=keras.initializers.Constant([0.3, 0., -0.2]))(hid)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    return model


def _masked_seq_data():
    rng = np.random.default_rng(27)
    seq = rng.integers(1, 6, size=(8, 5))
    seq[:, 3:] = 0
    seq[0, 1:] = 0
    tgt = rng.integers(0, 3, size=(8, 5))
    return seq, tgt


def test_masked_sequence_loss_is_mean_over_unmasked_steps():
    seq, tgt = _masked_seq_data()
    model = _masked_seq_model()
    got = model.evaluate(seq, tgt, verbose=0, return_dict=True)
    np.testing.assert_allclose(
        [got["loss"], got["accuracy"], got["weighted_accuracy"]],
        [1.0942, 0.4091, 0.4091], atol=1e-4)   # TF 2.21
    pred = model.predict(seq, verbose=0)
    ce = -np.log(pred[np.arange(8)[:, None], np.arange(5)[None], tgt])
    mask = seq != 0
    assert got["loss"] == pytest.approx((ce * mask).sum() / mask.sum(), rel=1e-5)
    hist = model.fit(seq, tgt, epochs=2, batch_size=4, verbose=0, shuffle=False).history
    np.testing.assert_allclose(hist["loss"], [1.1016, 1.097], atol=1e-4)   # TF 2.21


def test_per_sample_weights_broadcast_over_masked_timesteps():
    # TF 2.21 figures for weights given per timestep, (8, 5); weights given per
    # sample, (8,), mean the same thing (Keras 2 broadcast them; TF 2.21 fails on
    # the product with the (8, 5) mask) and must give the same numbers.
    seq, tgt = _masked_seq_data()
    per_sample = np.linspace(0.5, 1.5, 8).astype("float32")
    per_step = np.repeat(per_sample[:, None], 5, 1)
    for weights in (per_step, per_sample):
        model = _masked_seq_model()
        got = model.evaluate(seq, tgt, sample_weight=weights, verbose=0, return_dict=True)
        np.testing.assert_allclose(
            [got["loss"], got["accuracy"], got["weighted_accuracy"]],
            [1.1268, 0.4091, 0.4441], atol=1e-4)
        hist = model.fit(seq, tgt, sample_weight=weights, epochs=2, batch_size=4,
                         verbose=0, shuffle=False).history
        np.testing.assert_allclose(hist["loss"], [1.1082, 1.1055], atol=1e-4)
        np.testing.assert_allclose(hist["weighted_accuracy"], [0.4441, 0.4441], atol=1e-4)
    uneven = np.ones((8, 5), "float32")
    uneven[:, 0] = 3
    uneven[2] *= 0.5
    got = _masked_seq_model().evaluate(seq, tgt, sample_weight=uneven, verbose=0,
                                       return_dict=True)
    np.testing.assert_allclose([got["loss"], got["weighted_accuracy"]], [1.8723, 0.2958],
                               atol=1e-4)   # TF 2.21


def test_checkpoint_best_only_with_missing_monitor_warns_and_saves(tmp_path):
    # TF 2.21: 'Can save best model only with val_acc available.' and the file of
    # every epoch is written; `best` stays None.
    x = np.ones((8, 3), "float32")
    y = np.ones((8, 1), "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "d-{epoch}.keras"),
                                           monitor="val_acc", mode="max",
                                           save_best_only=True)
    with pytest.warns(UserWarning, match="only with val_acc available"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[ckpt])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d-1.keras", "d-2.keras"]
    assert ckpt.best is None
    again = keras.models.load_model(str(tmp_path / "d-2.keras"))
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_checkpoint_best_only_still_skips_when_not_improving(tmp_path):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x @ np.array([[1.], [2.], [-1.]], "float32")).astype("float32")
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(0.3), "mse", metrics=["mae"])
    ckpt = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.keras"), monitor="val_loss",
        save_best_only=True)
    hist = model.fit(x, y, epochs=6, batch_size=40, shuffle=False, verbose=0,
                     validation_data=(x[:10] + 0.5, y[:10]), callbacks=[ckpt]).history
    np.testing.assert_allclose(hist["val_loss"], [0.94, 0.56, 0.74, 0.85, 0.91, 0.95],
                               atol=5e-3)   # TF 2.21
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-01-0.94.keras",
                                                          "m-02-0.56.keras"]
    assert ckpt.best == pytest.approx(0.5582, abs=1e-4)


def test_reduce_lr_unknown_mode_falls_back_to_auto():
    with pytest.warns(UserWarning, match="unknown"):
        cb = keras.callbacks.ReduceLROnPlateau(mode="bogus")
    assert cb.mode == "auto"   # TF 2.21


def _linear_data():
    rng = np.random.default_rng(33)
    x = rng.normal(size=(50, 3)).astype("float32")
    y = (x @ np.array([[1.], [2.], [-1.]], "float32")).astype("float32")
    return x, y


def _linear_model():
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae"])
    return model


class _BatchLog(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(("e", epoch))

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(batch)


def test_array_steps_never_run_past_the_data():
    # TF 2.21: steps larger than the data stop at its end (no wrap-around).
    x, y = _linear_data()
    model = _linear_model()
    model.fit(x, y, epochs=1, batch_size=25, verbose=0, shuffle=False)
    with pytest.warns(UserWarning, match="ran out of data"):
        pred = model.predict(x, batch_size=20, steps=10, verbose=0)
    assert pred.shape == (50, 1)
    full = model.evaluate(x, y, batch_size=20, verbose=0)
    with pytest.warns(UserWarning, match="ran out of data"):
        capped = model.evaluate(x, y, batch_size=20, steps=10, verbose=0)
    np.testing.assert_allclose(full, [2.2003, 1.188], atol=1e-4)   # TF 2.21
    np.testing.assert_allclose(capped, full, rtol=1e-6)


def test_array_steps_per_epoch_continues_the_pass_then_restarts():
    # TF 2.21, 5 batches and steps_per_epoch=3: epochs see batches 0-2, 3-4 (ran out),
    # 0-2; steps_per_epoch=8: 0-4 (ran out), 0-4.
    x, y = _linear_data()
    model, log = _linear_model(), _BatchLog()
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = model.fit(x, y, batch_size=10, epochs=3, steps_per_epoch=3, verbose=0,
                         shuffle=False, callbacks=[log]).history
    assert log.seen == [("e", 0), 0, 1, 2, ("e", 1), 0, 1, ("e", 2), 0, 1, 2]
    assert int(model.optimizer.iterations) == 8
    np.testing.assert_allclose(hist["loss"], [3.6955, 1.1191, 0.7499], atol=1e-4)
    np.testing.assert_allclose(hist["mae"], [1.5008, 0.8917, 0.6811], atol=1e-4)
    model, log = _linear_model(), _BatchLog()
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = model.fit(x, y, batch_size=10, epochs=2, steps_per_epoch=8, verbose=0,
                         shuffle=False, callbacks=[log]).history
    assert log.seen == [("e", 0), 0, 1, 2, 3, 4, ("e", 1), 0, 1, 2, 3, 4]
    assert int(model.optimizer.iterations) == 10
    np.testing.assert_allclose(hist["loss"], [2.6649, 0.5667], atol=1e-4)


def test_array_validation_steps_restart_each_epoch():
    # TF 2.21: numpy validation data is read from its start at every validation.
    x, y = _linear_data()
    rows = []

    class Rows(keras.Model):
        def test_step(self, data):
            rows.append(float(data[0][0, 0]))
            return super().test_step(data)

    inp = keras.Input((3,))
    model = Rows(inp, keras.layers.Dense(1)(inp))
    model.compile("sgd", "mse", run_eagerly=True)
    model.fit(x, y, batch_size=25, epochs=3, verbose=0, shuffle=False,
              validation_data=(x, y), validation_batch_size=20, validation_steps=2)
    np.testing.assert_allclose(rows, [x[0, 0], x[20, 0]] * 3, rtol=1e-6)
