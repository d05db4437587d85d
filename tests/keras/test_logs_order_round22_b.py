"""The order of Keras logs as TF 2.21 (Keras 3) gives them: callbacks, ``History``
and ``evaluate(return_dict=True)`` see their logs sorted by name; ``evaluate()``'s
list holds the loss, the per-output losses (in the order of a ``loss`` dict's keys)
and then the compiled metrics: a single-output model's in compile order, a
multi-output model's (whose names carry the output's prefix) sorted by name;
``metrics_names`` (once built) names that list. Figures marked TF 2.21 were printed by TensorFlow 2.21 for the same
programs."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

X = np.arange(12, dtype="float32").reshape(4, 3) / 10
SUM = X.sum(1, keepdims=True)


def _two_outputs(output_order, as_dict=True):
    inp = keras.Input((3,), name="inp")
    outs = {name: keras.layers.Dense(
        1, name=name, kernel_initializer="ones" if name == "zeta" else "zeros")(inp)
        for name in output_order}
    return keras.Model(inp, outs if as_dict else [outs[n] for n in output_order])


@pytest.mark.parametrize("loss_order,expect", [
    (["zeta", "alpha"], [5.385, 3.735, 1.65, 3.735, 1.65]),    # TF 2.21
    (["alpha", "zeta"], [5.385, 1.65, 3.735, 3.735, 1.65]),    # TF 2.21
])
@pytest.mark.parametrize("output_order", [["zeta", "alpha"], ["alpha", "zeta"]])
def test_evaluate_list_follows_loss_dict_then_sorted_metrics(loss_order, expect,
                                                             output_order):
    model = _two_outputs(output_order)
    losses = {"zeta": "mse", "alpha": "mae"}
    model.compile("sgd", loss={k: losses[k] for k in loss_order},
                  metrics={"zeta": ["mae"], "alpha": ["mse"]})
    y = {"zeta": 2 * SUM, "alpha": SUM}
    scores = model.evaluate(X, y, verbose=0)
    np.testing.assert_allclose(scores, expect, rtol=1e-5)
    assert model.metrics_names == ["loss"] + [f"{k}_loss" for k in loss_order] + \
        ["alpha_mse", "zeta_mae"]
    as_dict = model.evaluate(X, y, verbose=0, return_dict=True)
    assert list(as_dict) == sorted(as_dict)                    # TF 2.21
    assert dict(zip(model.metrics_names, scores)) == pytest.approx(as_dict)


def test_list_outputs_with_dict_loss():
    model = _two_outputs(["zeta", "alpha"], as_dict=False)
    model.compile("sgd", loss={"alpha": "mae", "zeta": "mse"},
                  metrics={"alpha": ["mse"], "zeta": ["mae"]})
    scores = model.evaluate(X, [2 * SUM, SUM], verbose=0)
    np.testing.assert_allclose(scores, [5.385, 3.735, 1.65, 3.735, 1.65],
                               rtol=1e-5)   # TF 2.21
    assert model.metrics_names == ["loss", "zeta_loss", "alpha_loss", "alpha_mse",
                                   "zeta_mae"]


def test_callback_logs_and_history_are_sorted():
    rng = np.random.RandomState(0)
    x = rng.rand(40, 4).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(
                      k=1, name="top1")])
    seen = {}

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.setdefault("batch", list(logs))

        def on_test_end(self, logs=None):
            seen.setdefault("test_end", list(logs))

        def on_epoch_end(self, epoch, logs=None):
            seen["epoch"] = list(logs)

    history = model.fit(x, y, epochs=1, batch_size=16, validation_data=(x, y),
                        verbose=0, callbacks=[Record()])
    # TF 2.21
    assert seen["batch"] == ["accuracy", "loss", "top1"]
    assert seen["test_end"] == ["accuracy", "loss", "top1"]
    assert seen["epoch"] == ["accuracy", "loss", "top1", "val_accuracy", "val_loss",
                             "val_top1"]
    assert list(history.history) == seen["epoch"]
    scores = model.evaluate(x, y, verbose=0)
    assert model.metrics_names == ["loss", "accuracy", "top1"]
    assert dict(zip(model.metrics_names, scores)) == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True))


def test_custom_train_step_logs_are_sorted():
    class Custom(keras.Model):
        def train_step(self, data):
            x, _ = data
            return {"zeta": tf.reduce_sum(x), "alpha": tf.constant(1.0),
                    "mid": tf.constant(2.0)}

        def test_step(self, data):
            return {"zeta": tf.constant(3.0), "alpha": tf.constant(1.0)}

    inp = keras.Input((2,))
    model = Custom(inp, keras.layers.Dense(1)(inp))
    model.compile("sgd")
    batches = []
    cb = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: batches.append(list(logs)))
    ones = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    history = model.fit(*ones, epochs=1, verbose=0, validation_data=ones,
                        callbacks=[cb])
    assert batches[0] == ["alpha", "mid", "zeta"]                       # TF 2.21
    assert list(history.history) == ["alpha", "mid", "val_alpha", "val_zeta", "zeta"]
    assert model.evaluate(*ones, verbose=0) == [1.0, 3.0]               # TF 2.21


def test_learning_rate_added_by_a_callback_comes_last():
    x = np.linspace(-1, 1, 32).reshape(32, 1).astype("float32")
    model = keras.Sequential([keras.Input((1,)),
                              keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(0.5), "mse")
    cb = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                           min_delta=0.5, cooldown=1, min_lr=0.01)
    history = model.fit(x, np.sin(3 * x), epochs=6, batch_size=32, verbose=0,
                        callbacks=[cb], shuffle=False)
    assert list(history.history) == ["loss", "learning_rate"]           # TF 2.21
    np.testing.assert_allclose(history.history["learning_rate"],
                               [0.5, 0.5, 0.25, 0.125, 0.0625, 0.03125])
    np.testing.assert_allclose(history.history["loss"],
                               [0.50727, 0.31895, 0.24056, 0.22249, 0.21608, 0.21336],
                               atol=2e-5)


def test_model_checkpoint_messages(tmp_path, capsys):
    x = np.linspace(-1, 1, 64).reshape(16, 4).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [3.0], [0.5]], np.float32)
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    path = str(tmp_path / "best.keras")
    cb = keras.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True,
                                         verbose=1)
    model.fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=0,
              callbacks=[cb], shuffle=False)
    out = capsys.readouterr().out
    # TF 2.21's lines (Keras 2 said "from inf" and had no "finished" line)
    assert "\nEpoch 1: val_loss improved from None to " in out
    assert f"\nEpoch 1: finished saving model to {path}\n" in out
    assert out.count("finished saving model") == 2
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored.predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_metric_given_by_class_name_logs_under_that_name():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([keras.Input((6,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=["AUC", "AUC", "auc", "Precision"])
    history = model.fit(x, y, epochs=1, verbose=0)
    # TF 2.21 (Keras 2 logged 'auc', 'auc_1', ... 'precision')
    assert list(history.history) == ["AUC", "AUC_1", "Precision", "auc", "loss"]
    assert model.metrics_names == ["loss", "AUC", "AUC_1", "auc", "Precision"]


def test_single_output_evaluate_keeps_compile_order():
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile("sgd", "mse", metrics=[
        "mse", "mae", keras.metrics.RootMeanSquaredError(name="zz"), "accuracy"])
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    # TF 2.21: loss, then mse, mae, zz, accuracy as compiled (`a, b, c = evaluate()`)
    assert model.evaluate(x, y, verbose=0) == pytest.approx([9.0, 9.0, 3.0, 3.0, 0.0])
    assert model.metrics_names == ["loss", "mse", "mae", "zz", "accuracy"]
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == [
        "accuracy", "loss", "mae", "mse", "zz"]


def test_nested_step_results_take_the_place_of_their_key():
    """Keras 3 flattens a step's dict result where its key sorts: TF 2.21 logs
    ['bb', 'zz', 'loss'] for {"loss": .., "extra": {"zz": .., "bb": ..}}."""
    class Nested(keras.Model):
        def train_step(self, data):
            return {"loss": tf.constant(1.0),
                    "extra": {"zz": tf.constant(2.0), "bb": tf.constant(3.0)}}

    inp = keras.Input((2,))
    model = Nested(inp, keras.layers.Dense(1)(inp))
    model.compile("sgd")
    keys = []
    cb = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: keys.append(list(logs)))
    history = model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"),
                        epochs=1, verbose=0, callbacks=[cb])
    assert keys[0] == ["bb", "zz", "loss"]
    assert list(history.history) == ["bb", "zz", "loss"]
    assert history.history["bb"] == [3.0]
