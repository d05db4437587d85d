"""compile/fit/evaluate/predict: real training, data formats, custom steps, errors."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

RNG = np.random.default_rng(0)
X = RNG.normal(size=(256, 8)).astype("float32")
W = RNG.normal(size=(8, 3))
Y = (X @ W).argmax(-1)


def make_model(eager=True, loss=None, metrics=("accuracy",), opt=None):
    model = keras.Sequential([keras.layers.Dense(16, activation="relu", input_shape=(8,)),
                              keras.layers.Dense(3)])
    model.compile(optimizer=opt or keras.optimizers.Adam(0.02), run_eagerly=eager, metrics=list(metrics),
                  loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.mark.parametrize("eager", [True, False])
def test_fit_learns_and_history(eager):
    model = make_model(eager)
    hist = model.fit(X, Y, epochs=10, batch_size=16, validation_split=0.25, verbose=0)
    h = hist.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h["loss"]) == 10 and hist.epoch == list(range(10))
    assert h["loss"][-1] < h["loss"][0] * 0.7
    assert h["accuracy"][-1] > 0.8
    res = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert set(res) == {"loss", "accuracy"} and res["accuracy"] > 0.8
    assert model.metrics_names == ["loss", "accuracy"]
    pred = model.predict(X, batch_size=50, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (256, 3)


def test_eager_and_compiled_agree():
    models = []
    for eager in (True, False):
        keras.utils.set_random_seed(1) if hasattr(keras.utils, "set_random_seed") else None
        m = make_model(eager)
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    h = [m.fit(X, Y, epochs=2, batch_size=64, shuffle=False, verbose=0).history
         for m in models]
    np.testing.assert_allclose(h[0]["loss"], h[1]["loss"], rtol=1e-4)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_epoch_loss_is_sample_weighted_mean():
    model = make_model(True, opt=keras.optimizers.SGD(0.0))  # weights never change
    x, y = X[:70], Y[:70]
    h = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    logits = model.predict(x, verbose=0)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ref = -np.log(p[np.arange(70), y]).mean()
    np.testing.assert_allclose(h["loss"][0], ref, rtol=1e-5)
    ev = model.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(ev[0], ref, rtol=1e-5)


def test_sample_weight_and_class_weight():
    model = make_model(True, opt=keras.optimizers.SGD(0.0), metrics=[])
    sw = RNG.uniform(size=len(X)).astype("float32")
    logits = model.predict(X, verbose=0)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    per = -np.log(p[np.arange(len(X)), Y])
    loss = model.evaluate(X, Y, sample_weight=sw, batch_size=len(X), verbose=0)
    np.testing.assert_allclose(loss, (per * sw).mean(), rtol=1e-5)
    cw = {0: 1.0, 1: 2.0, 2: 0.5}
    h = model.fit(X, Y, class_weight=cw, batch_size=len(X), epochs=1, verbose=0)
    np.testing.assert_allclose(h.history["loss"][0],
                               (per * np.array([cw[c] for c in Y])).mean(), rtol=1e-5)


def test_accuracy_resolution():
    bin_model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid",
                                                     input_shape=(8,))])
    bin_model.compile("adam", "binary_crossentropy", metrics=["accuracy"], run_eagerly=True)
    yb = (X[:, 0] > 0).astype("float32")
    h = bin_model.fit(X, yb, epochs=1, verbose=0).history
    pred = bin_model.predict(X, verbose=0)
    acc = bin_model.evaluate(X, yb, verbose=0)[1]
    np.testing.assert_allclose(acc, ((pred[:, 0] > 0.5) == yb).mean(), rtol=1e-6)
    assert "accuracy" in h
    onehot = np.eye(3, dtype="float32")[Y]
    cat = make_model(True, loss="categorical_crossentropy")
    cat.fit(X, onehot, epochs=1, verbose=0)
    pred = cat.predict(X, verbose=0)
    np.testing.assert_allclose(cat.evaluate(X, onehot, verbose=0)[1],
                               (pred.argmax(-1) == Y).mean(), rtol=1e-6)


def test_datasets_generators_and_tensors():
    model = make_model(True)
    model.fit(tf.constant(X), tf.constant(Y), epochs=1, verbose=0)

    def gen():
        while True:
            for i in range(0, 256, 64):
                yield X[i:i + 64], Y[i:i + 64]
    h = model.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    if hasattr(tf, "data") and hasattr(tf.data, "Dataset"):
        ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(32)
        h = model.fit(ds, epochs=2, validation_data=ds, verbose=0)
        assert len(h.history["val_loss"]) == 2
        assert model.predict(ds.map(lambda a, b: a), verbose=0).shape == (256, 3) \
            if hasattr(ds, "map") else True


def test_multi_input_multi_output_functional():
    a = keras.Input(shape=(8,), name="a")
    b = keras.Input(shape=(4,), name="b")
    h = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([a, b])) \
        if hasattr(keras.layers, "Concatenate") else keras.layers.Dense(8)(a)
    out1 = keras.layers.Dense(3, name="cls")(h)
    out2 = keras.layers.Dense(1, name="reg")(h)
    model = keras.Model(inputs=[a, b], outputs=[out1, out2])
    model.compile("adam", loss={"cls": keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), "reg": "mse"}, loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"]}, run_eagerly=True)
    xb = RNG.normal(size=(256, 4)).astype("float32")
    yr = X[:, :1] * 2
    hist = model.fit({"a": X, "b": xb} if False else [X, xb], {"cls": Y, "reg": yr},
                     epochs=2, verbose=0).history
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy"} <= set(hist)
    np.testing.assert_allclose(hist["loss"][-1],
                               hist["cls_loss"][-1] + 0.5 * hist["reg_loss"][-1],
                               rtol=1e-4)
    preds = model.predict([X, xb], verbose=0)
    assert preds[0].shape == (256, 3) and preds[1].shape == (256, 1)


def test_custom_train_step_and_metric_attribute():
    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)
            self.tracker = keras.metrics.Mean(name="my_loss")

        def call(self, x, training=None):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            self.tracker.update_state(loss)
            return {m.name: m.result() for m in self.metrics}

    model = Custom()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], run_eagerly=True)
    h = model.fit(X, Y, epochs=3, verbose=0).history
    assert {"loss", "accuracy", "my_loss"} <= set(h)
    assert h["my_loss"][-1] < h["my_loss"][0]


def test_train_test_predict_on_batch():
    model = make_model(True)
    out = model.train_on_batch(X[:32], Y[:32])
    assert isinstance(out, list) and len(out) == 2
    d = model.test_on_batch(X[:32], Y[:32], return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    assert model.predict_on_batch(X[:5]).shape == (5, 3)


def test_stop_training_flag():
    class Stopper(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True
    h = make_model(True).fit(X, Y, epochs=10, callbacks=[Stopper()], verbose=0)
    assert len(h.history["loss"]) == 2


def test_clear_errors_before_first_step():
    model = make_model(True)
    w0 = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.fit(X, Y[:100], verbose=0)
    with pytest.raises(ValueError, match=r"label value of 7.*\[0, 3\)"):
        model.fit(X, np.where(np.arange(256) == 200, 7, Y), verbose=0)
    with pytest.raises(tf.errors.InvalidArgumentError):
        model.fit(X, np.where(np.arange(256) == 200, 7, Y), verbose=0)
    with pytest.raises(ValueError, match="Unknown loss function: 'nope'"):
        model.compile("adam", loss="nope")
    with pytest.raises(ValueError, match="Unknown metric"):
        model.compile("adam", loss="mse", metrics=["nope"])
    with pytest.raises(ValueError, match="`x`"):
        model.fit(np.array([["a"] * 8] * 4), Y[:4], verbose=0)
    for a, b in zip(w0, model.get_weights()):
        np.testing.assert_array_equal(a, b)   # no step was taken
    bad = make_model(True, metrics=["mse"])  # (256,) labels vs (256, 3) outputs
    with pytest.raises(ValueError, match=r"Incompatible shapes: \[32, 3\] vs. \[32\]"):
        bad.fit(X, Y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        keras.Sequential([keras.layers.Dense(1, input_shape=(8,))]).fit(X, Y, verbose=0)


def test_nan_loss_reported():
    model = make_model(True, opt=keras.optimizers.SGD(1e30))
    with pytest.warns(RuntimeWarning, match="NaN"):
        model.fit(X * 1e20, Y, epochs=2, verbose=0)


def test_progress_bar_text(capsys):
    model = make_model(True)
    model.fit(X, Y, epochs=2, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "8/8 [==============================] - " in out
    # metrics in TF 2.21's (sorted) order: "... /step - accuracy: 0.5 - loss: 0.7"
    assert "/step - accuracy: " in out and " - loss: " in out
    model.fit(X, Y, epochs=1, batch_size=32, verbose=2)
    out = capsys.readouterr().out
    assert out.startswith("8/8 - ") and "s/epoch - " in out and "[" not in out
    model.evaluate(X, Y, verbose=1)
    out = capsys.readouterr().out
    assert "8/8 [==============================]" in out and "loss: " in out
