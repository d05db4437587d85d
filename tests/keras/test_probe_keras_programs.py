"""Regressions found by running real TF2/Keras programs under TensorFlow 2.21 and dlframe:
weight order with frozen layers, stateful RNNs in fit/train_on_batch, learning-rate
schedules that cannot be overwritten, and Keras's auto names of metrics."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers
RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()   # auto names ('auc', 'auc_1') count per session
    yield
    keras.backend.clear_session()


# -- weights are listed in layer order, whatever is frozen -----------------------------
def _bn_model():
    inp = keras.Input((5,))
    h = layers.Dense(4, name="d1")(inp)
    h = layers.BatchNormalization(name="bn")(h)
    return keras.Model(inp, layers.Dense(2, name="head")(h))


def test_weights_are_in_layer_order_like_keras():
    model = _bn_model()
    # order and shapes as TF 2.21 prints them: per layer, trainable then moving stats
    assert [w.shape for w in model.get_weights()] == [
        (5, 4), (4,), (4,), (4,), (4,), (4,), (4, 2), (2,)]
    names = [w.name.split("/")[-1].split(":")[0] for w in model.weights]
    assert names == ["kernel", "bias", "gamma", "beta", "moving_mean",
                     "moving_variance", "kernel", "bias"]
    before = [w.shape for w in model.get_weights()]
    model.get_layer("d1").trainable = False
    assert [w.shape for w in model.get_weights()] == before
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 4


def test_weights_of_frozen_model_load_into_unfrozen_twin():
    x = RNG.random((6, 5)).astype("float32")
    src = _bn_model()
    src.get_layer("d1").trainable = False
    src.get_layer("bn").trainable = False
    dst = _bn_model()
    dst.set_weights(src.get_weights())
    np.testing.assert_allclose(dst.predict(x, verbose=0), src.predict(x, verbose=0),
                               atol=1e-6)


# -- stateful RNNs ----------------------------------------------------------------------
def _stateful_model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input(batch_shape=(4, 3, 2)),
                              layers.LSTM(5, stateful=True, name="lstm"), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    return model


def test_model_stateful_reports_stateful_layers():
    assert _stateful_model().stateful
    assert not _bn_model().stateful
    outer = keras.Sequential([keras.Input(batch_shape=(4, 3, 2)), _stateful_model()])
    assert outer.stateful   # found inside a nested model too


def test_train_on_batch_advances_stateful_rnn_once():
    model = _stateful_model()
    x = RNG.random((4, 3, 2)).astype("float32")
    lstm = model.get_layer("lstm")
    model.train_on_batch(x, np.ones((4, 1), "float32"))     # lr 0: weights unchanged
    after_train = np.asarray(lstm.states[0]).copy()
    model.reset_states()
    model.predict_on_batch(x)
    np.testing.assert_allclose(after_train, np.asarray(lstm.states[0]), atol=1e-6)


def test_fit_and_evaluate_stateful_model_with_its_batch_size():
    model = _stateful_model()
    x = RNG.random((8, 3, 2)).astype("float32")
    hist = model.fit(x, np.ones((8, 1), "float32"), batch_size=4, epochs=2,
                     shuffle=False, verbose=0)
    assert len(hist.history["loss"]) == 2
    model.reset_states()
    loss = model.evaluate(x, np.ones((8, 1), "float32"), batch_size=4, verbose=0)
    assert np.isfinite(loss)
    model.reset_states()
    assert all(np.all(np.asarray(s) == 0) for s in model.get_layer("lstm").states)


# -- learning rates ---------------------------------------------------------------------
def _schedule():
    return keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10,
                                                       decay_rate=0.5)


def test_float_cannot_replace_a_learning_rate_schedule():
    opt = keras.optimizers.SGD(_schedule())
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.01
    opt.learning_rate = keras.optimizers.schedules.ExponentialDecay(0.2, 10, 0.5)
    assert float(opt.learning_rate) == pytest.approx(0.2)
    plain = keras.optimizers.SGD(0.1)
    plain.learning_rate = 0.01
    assert float(plain.learning_rate.numpy()) == pytest.approx(0.01)


def test_lr_scheduler_on_schedule_optimizer_raises_and_keeps_schedule():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(_schedule()), "mse")
    x, y = RNG.random((16, 3)).astype("float32"), RNG.random((16, 1)).astype("float32")
    with pytest.raises(TypeError):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01)])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    steps = int(model.optimizer.iterations.numpy())
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 * 0.5 ** (steps / 10))


# -- metric names -----------------------------------------------------------------------
def test_unnamed_metrics_get_unique_auto_names():
    # names as TF 2.21 gives them
    assert [keras.metrics.AUC().name, keras.metrics.AUC().name] == ["auc", "auc_1"]
    assert [keras.metrics.Precision().name, keras.metrics.Precision().name] == [
        "precision", "precision_1"]
    assert keras.metrics.MeanIoU(num_classes=2).name == "mean_io_u"
    assert keras.metrics.TruePositives().name == "true_positives"
    # metrics with a fixed default name keep it
    assert [keras.metrics.Mean().name, keras.metrics.Mean().name] == ["mean", "mean"]
    assert keras.metrics.MeanSquaredError().name == "mean_squared_error"
    assert keras.metrics.AUC(name="roc").name == "roc"

    class Hits(keras.metrics.Metric):
        def update_state(self, *args, **kwargs):
            pass

        def result(self):
            return 0.0
    assert [Hits().name, Hits().name] == ["hits", "hits_1"]
    keras.backend.clear_session()
    assert keras.metrics.AUC().name == "auc"


def _binary_data():
    x = RNG.random((32, 4)).astype("float32")
    return x, (x[:, :1] > 0.5).astype("float32")


def test_history_keys_of_second_model_with_default_metrics():
    x, y = _binary_data()
    keys = []
    for _ in range(2):   # k-fold style loop, as TF logs 'auc' then 'auc_1'
        model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy",
                      metrics=[keras.metrics.AUC(), keras.metrics.Precision()])
        keys.append(sorted(model.fit(x, y, epochs=1, verbose=0).history))
    assert keys == [["auc", "loss", "precision"], ["auc_1", "loss", "precision_1"]]


def test_snake_case_metric_strings_in_compile():
    x, y = _binary_data()
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["precision", "recall", "auc"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == ["auc", "loss", "precision", "recall"]
    pred = model.predict(x, verbose=0) > 0.5
    tp = float(np.sum(pred & (y > 0.5)))
    assert logs["recall"] == pytest.approx(tp / float(np.sum(y > 0.5)), abs=1e-6)
    assert logs["precision"] == pytest.approx(tp / max(float(np.sum(pred)), 1.0),
                                              abs=1e-6)
    assert isinstance(keras.metrics.get("recall"), keras.metrics.Recall)
    with pytest.raises(ValueError, match="no_such_metric"):
        model.compile("adam", "binary_crossentropy", metrics=["no_such_metric"])


def test_same_metric_object_twice_is_deduplicated_without_double_suffix():
    x, y = _binary_data()
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc"), keras.metrics.AUC(), "AUC"])
    # TF 2.21: a metric given by name logs under that name ("AUC")
    assert sorted(model.fit(x, y, epochs=1, verbose=0).history) == [
        "AUC", "auc", "auc_1", "loss"]
