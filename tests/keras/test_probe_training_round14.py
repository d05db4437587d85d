"""Multi-input/output ``fit``/``evaluate`` and Keras 3 loss rules found different
from TF 2.21 by probe programs (round 14): one ``sample_weight`` array for every
output, ``<output>_weighted_<metric>`` names, unknown target keys, "No loss to
compute" without a compiled or added loss, a compiled loss without targets."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras

RNG = np.random.default_rng(0)
XA = RNG.normal(size=(32, 4)).astype("float32")
XB = RNG.normal(size=(32, 3)).astype("float32")
YA = RNG.integers(0, 3, size=(32,))
YB = RNG.normal(size=(32, 1)).astype("float32")
SW = np.linspace(0.1, 2.0, 32).astype("float32")
X = {"in_a": XA, "in_b": XB}
Y = {"a": YA, "b": YB}


def _two_output_model():
    """Inputs ``in_a``/``in_b``; outputs ``a`` (3-class softmax) and ``b`` (scalar)."""
    in_a = keras.Input((4,), name="in_a")
    in_b = keras.Input((3,), name="in_b")
    hidden = keras.layers.Dense(8, activation="tanh")(
        keras.layers.Concatenate()([in_a, in_b]))
    out_a = keras.layers.Dense(3, activation="softmax", name="a")(hidden)
    out_b = keras.layers.Dense(1, name="b")(hidden)
    model = keras.Model({"in_a": in_a, "in_b": in_b}, {"a": out_a, "b": out_b})
    # each weight drawn from a fresh generator, as in the TF 2.21 probe program
    model.set_weights([np.random.default_rng(7).normal(size=w.shape).astype("float32")
                       * 0.5 for w in model.get_weights()])
    return model


def _references(model, sample_weight=None):
    """Per-output losses and accuracy from the model's predictions, in NumPy."""
    pred = model.predict(X, verbose=0)
    sw = np.ones(32, "float32") if sample_weight is None else sample_weight
    nll = -np.log(pred["a"][np.arange(32), YA])
    squared = ((pred["b"] - YB) ** 2)[:, 0]
    hit = (pred["a"].argmax(-1) == YA).astype("float64")
    return {"a_loss": (sw * nll).mean(), "b_loss": (sw * squared).mean(),
            "accuracy": hit.mean(), "weighted_accuracy": (sw * hit).sum() / sw.sum()}


def test_loss_weights_dict_and_list_give_the_weighted_total():
    for loss_weights in ({"a": 2.0, "b": 0.5}, [2.0, 0.5]):
        model = _two_output_model()
        model.compile("sgd", loss={"a": "sparse_categorical_crossentropy", "b": "mse"},
                      loss_weights=loss_weights)
        logs = model.evaluate(X, Y, verbose=0, return_dict=True)
        ref = _references(model)
        assert sorted(logs) == ["a_loss", "b_loss", "loss"]
        np.testing.assert_allclose(logs["a_loss"], ref["a_loss"], rtol=1e-5)
        np.testing.assert_allclose(logs["b_loss"], ref["b_loss"], rtol=1e-5)
        np.testing.assert_allclose(
            logs["loss"], 2.0 * ref["a_loss"] + 0.5 * ref["b_loss"], rtol=1e-5)
        # TF 2.21 reports loss 3.1493, a_loss 1.1316, b_loss 1.772 for these weights.
        np.testing.assert_allclose(logs["loss"], 3.1493, atol=2e-4)


def test_one_sample_weight_array_weights_every_output():
    model = _two_output_model()
    model.compile("sgd", loss={"a": "sparse_categorical_crossentropy", "b": "mse"})
    logs = model.evaluate(X, Y, sample_weight=SW, verbose=0, return_dict=True)
    ref = _references(model, SW)
    np.testing.assert_allclose(logs["a_loss"], ref["a_loss"], rtol=1e-5)
    np.testing.assert_allclose(logs["b_loss"], ref["b_loss"], rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], ref["a_loss"] + ref["b_loss"], rtol=1e-5)
    # TF 2.21: {'a_loss': 1.2247, 'b_loss': 2.0104, 'loss': 3.2351}
    np.testing.assert_allclose([logs["a_loss"], logs["b_loss"]], [1.2247, 2.0104],
                               atol=2e-4)
    history = model.fit(X, Y, sample_weight=SW, epochs=1, verbose=0)
    assert sorted(history.history) == ["a_loss", "b_loss", "loss"]


def test_weighted_metric_of_an_output_is_named_output_weighted_metric():
    model = _two_output_model()
    model.compile("sgd", loss={"a": "sparse_categorical_crossentropy", "b": "mse"},
                  metrics={"a": "accuracy"}, weighted_metrics={"a": ["accuracy"]})
    sample_weight = {"a": SW, "b": np.ones(32, "float32")}
    logs = model.evaluate(X, Y, sample_weight=sample_weight, verbose=0,
                          return_dict=True)
    assert sorted(logs) == ["a_accuracy", "a_loss", "a_weighted_accuracy", "b_loss",
                            "loss"]
    ref = _references(model, SW)
    np.testing.assert_allclose(logs["a_accuracy"], ref["accuracy"], rtol=1e-5)
    np.testing.assert_allclose(logs["a_weighted_accuracy"], ref["weighted_accuracy"],
                               rtol=1e-5)
    history = model.fit(X, Y, sample_weight=sample_weight, epochs=1, verbose=0,
                        validation_data=(X, Y, sample_weight))
    assert "val_a_weighted_accuracy" in history.history


def test_single_output_weighted_metric_keeps_keras_name():
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    logs = model.evaluate(XA, YA, sample_weight=SW, verbose=0, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss", "weighted_accuracy"]


def test_target_key_naming_no_output_is_an_error():
    model = _two_output_model()
    model.compile("sgd", loss={"a": "sparse_categorical_crossentropy", "b": "mse"})
    with pytest.raises(ValueError, match=r"unexpected keys.*'zz'"):
        model.fit(X, {"a": YA, "zz": YB}, epochs=1, verbose=0)


def test_dict_targets_keyed_by_layer_names_on_a_list_output_model():
    in_a = keras.Input((4,), name="in_a")
    in_b = keras.Input((3,), name="in_b")
    hidden = keras.layers.Concatenate()([in_a, in_b])
    out_a = keras.layers.Dense(3, activation="softmax", name="a")(hidden)
    out_b = keras.layers.Dense(1, name="b")(hidden)
    model = keras.Model([in_a, in_b], [out_a, out_b])
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"],
                  metrics=[["accuracy"], ["mae"]])
    history = model.fit(X, Y, epochs=1, verbose=0, validation_data=([XA, XB], [YA, YB]))
    assert sorted(history.history) == [
        "a_accuracy", "a_loss", "b_loss", "b_mae", "loss", "val_a_accuracy",
        "val_a_loss", "val_b_loss", "val_b_mae", "val_loss"]
    values = model.evaluate([XA, XB], [YA, YB], verbose=0)
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    # the list form follows loss, per-output losses, then the metrics
    np.testing.assert_allclose(
        values, [logs[k] for k in ("loss", "a_loss", "b_loss", "a_accuracy", "b_mae")],
        rtol=1e-6)


class _AddSquareLoss(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(0.5 * tf.reduce_mean(tf.square(inputs)))
        return inputs


def test_no_compiled_or_added_loss_raises_no_loss_to_compute():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(XA, YB, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="No loss to compute"):
        model.evaluate(XA, YB, verbose=0)


@pytest.mark.filterwarnings("ignore:Gradients do not exist")
def test_added_loss_alone_trains_with_loss_none():
    inputs = keras.Input((4,))
    hidden = _AddSquareLoss()(keras.layers.Dense(3)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(keras.optimizers.SGD(0.1), loss=None)
    kernel = model.layers[1].kernel
    expected = 0.5 * np.mean(np.square(XA @ kernel.numpy() + 0.0))
    np.testing.assert_allclose(model.evaluate(XA, verbose=0), expected, rtol=1e-5)
    history = model.fit(XA, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_compiled_loss_without_targets_names_the_missing_y():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match=r"no targets \(y=None\)"):
        model.fit(XA, epochs=1, verbose=0)


def test_custom_train_step_with_compute_loss_and_compute_metrics_learns():
    class Custom(keras.Model):
        def train_step(self, data):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=y_pred,
                                         sample_weight=sample_weight)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return self.compute_metrics(x, y, y_pred, sample_weight)

    inputs = keras.Input((4,))
    model = Custom(inputs, keras.layers.Dense(1)(inputs))
    model.compile(keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    target = XA @ np.array([[1.0], [2.0], [-1.0], [0.5]], "float32")
    history = model.fit(XA, target, epochs=4, verbose=0, validation_data=(XA, target))
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    # Keras 3 on TF logs 0.0 for 'loss' here; dlframe logs the real loss.
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    np.testing.assert_allclose(
        history.history["val_loss"][-1],
        np.mean((model.predict(XA, verbose=0) - target) ** 2), rtol=1e-4)


class _GuideModel(keras.Model):
    """keras.io "Customizing fit()" (Keras 3): ``compute_loss`` then a loop updating
    every metric, the ``loss`` tracker with the step's loss."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return self._update_metrics(loss, y, y_pred)

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        return self._update_metrics(self.compute_loss(y=y, y_pred=y_pred), y, y_pred)

    def _update_metrics(self, loss, y, y_pred):
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_guide_step_updating_the_loss_tracker_counts_the_loss_once(run_eagerly):
    x = RNG.random((200, 32)).astype("float32")
    y = RNG.random((200, 1)).astype("float32")
    inputs = keras.Input((32,))
    model = _GuideModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"],
                  run_eagerly=run_eagerly)
    pred = model.predict(x, verbose=0)
    # the tracker gets one unweighted update per batch (32, ..., 32, 8 rows)
    batch_mse = [np.mean((pred[i:i + 32] - y[i:i + 32]) ** 2) for i in range(0, 200, 32)]
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, shuffle=False)
    np.testing.assert_allclose(history.history["loss"], [np.mean(batch_mse)] * 2,
                               rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"], [np.mean(np.abs(pred - y))] * 2,
                               rtol=1e-5)
    loss, _ = model.evaluate(x, y, batch_size=32, verbose=0)
    np.testing.assert_allclose(loss, np.mean(batch_mse), rtol=1e-5)


def test_compute_loss_then_compute_metrics_logs_the_real_loss():
    # Keras 3 on TF logs loss 0.0 for this step; dlframe records the loss that
    # compute_loss computed when the step leaves the tracker alone.
    class Step(keras.Model):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            self.compute_loss(x=x, y=y, y_pred=y_pred)
            return self.compute_metrics(x, y, y_pred)

    inputs = keras.Input((4,))
    model = Step(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", loss="mse")
    history = model.fit(XA, YB, batch_size=10, epochs=1, verbose=0, shuffle=False)
    expected = np.mean((model.predict(XA, verbose=0) - YB) ** 2)
    np.testing.assert_allclose(history.history["loss"], [expected], rtol=1e-5)


def _one_output_model(**compile_kwargs):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, name="out")])
    model.set_weights([np.full(w.shape, 0.1, "float32") for w in model.get_weights()])
    model.compile("sgd", **compile_kwargs)
    return model


def test_one_entry_lists_for_a_one_output_model():
    mse = np.mean((XA @ np.full((4, 1), 0.1, "float32") + 0.1 - YB) ** 2)
    for kwargs, factor in (({"loss": ["mse"]}, 1.0),
                           ({"loss": "mse", "loss_weights": [0.5]}, 0.5),
                           ({"loss": ["mse"], "loss_weights": [0.5]}, 0.5)):
        model = _one_output_model(**kwargs)
        np.testing.assert_allclose(model.evaluate(XA, YB, verbose=0), factor * mse,
                                   rtol=1e-5)
    model = _one_output_model(loss="mse")
    # targets and weights given as one-element lists
    np.testing.assert_allclose(model.evaluate(XA, [YB], verbose=0), mse, rtol=1e-5)
    np.testing.assert_allclose(
        model.evaluate(XA, [YB], sample_weight=[SW], verbose=0),
        model.evaluate(XA, YB, sample_weight=SW, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"loss_weights=\[0.5, 1.0\]"):
        _one_output_model(loss="mse", loss_weights=[0.5, 1.0]).evaluate(
            XA, YB, verbose=0)


def test_keras2_compiled_loss_step_reports_the_loss_in_each_batch_logs():
    class Keras2Step(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class BatchLosses(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.losses = []

        def on_train_batch_end(self, batch, logs=None):
            self.losses.append(float(logs["loss"]))

    inputs = keras.Input((4,))
    model = Keras2Step(inputs, keras.layers.Dense(1)(inputs))
    model.compile(keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    squared = (model.predict(XA, verbose=0) - YB) ** 2
    record = BatchLosses()
    model.fit(XA, YB, batch_size=16, epochs=1, verbose=0, shuffle=False,
              callbacks=[record])
    # running means after each batch, as Keras 2's compiled_loss records at once
    np.testing.assert_allclose(record.losses,
                               [squared[:16].mean(), squared.mean()], rtol=1e-5)
