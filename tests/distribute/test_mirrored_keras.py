"""Keras compile/fit/evaluate/predict of a model built in a 2-replica MirroredStrategy
scope equal single-device training on the same global batches."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.distribute.keras_models import classifier_data, compiled_classifier


def _data(n=200):
    return classifier_data(n)


def _train(strategy, run_eagerly, epochs=6, batch_norm=False):
    x, y = _data()
    model = compiled_classifier(strategy, 16, run_eagerly, batch_norm)
    # 200 rows in batches of 30: the last batch (20 rows) is split [10, 10]
    history = model.fit(x, y, batch_size=30, epochs=epochs, verbose=0, shuffle=False)
    evaluation = model.evaluate(x, y, batch_size=30, verbose=0)
    predictions = model.predict(x[:7], batch_size=5, verbose=0)   # last batch [1, 1]
    return model, history.history, evaluation, predictions


@pytest.mark.parametrize("run_eagerly", [False, True], ids=["function", "eager"])
def test_fit_matches_single_device_and_learns(two_cpus, run_eagerly):
    ref_model, ref_hist, ref_eval, ref_pred = _train(
        tf.distribute.OneDeviceStrategy("CPU:0"), run_eagerly)
    model, hist, evaluation, pred = _train(two_cpus, run_eagerly)
    assert model.distribute_strategy is two_cpus
    # TF: the strategy whose scope created the model
    assert isinstance(ref_model.distribute_strategy,
                      tf.distribute.OneDeviceStrategy)
    np.testing.assert_allclose(hist["loss"], ref_hist["loss"], rtol=1e-5)
    np.testing.assert_allclose(hist["accuracy"], ref_hist["accuracy"], rtol=1e-6)
    np.testing.assert_allclose(evaluation, ref_eval, rtol=1e-5)
    np.testing.assert_allclose(pred, ref_pred, atol=1e-5)
    assert pred.shape == (7, 2)
    for w, r in zip(model.weights, ref_model.weights):
        np.testing.assert_allclose(w.numpy(), r.numpy(), atol=1e-5)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert evaluation[1] >= 0.95     # accuracy reached on this linearly separable task


def test_metrics_are_aggregated_over_replicas(two_cpus):
    model, _, (_, acc), _ = _train(two_cpus, False, epochs=1)
    x, y = _data()
    logits = model.predict(x, verbose=0)
    assert acc == pytest.approx(float(np.mean(logits.argmax(-1) == y)), abs=1e-6)
    acc_metric = model.metrics[1]
    assert isinstance(acc_metric.variables[0], tf.distribute.SyncOnReadVariable)
    total = sum(float(c) for c in acc_metric.variables[0].values)
    assert total == pytest.approx(float(acc_metric.variables[0]))


def test_batch_normalization_and_odd_batches(two_cpus):
    """A model with statistics variables, and a final 1-row batch (one replica gets an
    empty shard), trains without NaN and keeps the copies identical."""
    x, y = _data(61)
    with two_cpus.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
                                  keras.layers.BatchNormalization(),
                                  keras.layers.Dense(2)])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=30, epochs=2, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()
    for w in model.weights:
        assert np.isfinite(w.numpy()).all()
        first, second = two_cpus.experimental_local_results(w)
        np.testing.assert_array_equal(first.numpy(), second.numpy())


def test_custom_train_step_with_strategy(two_cpus):
    class Custom(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss}

    x, y = _data(64)
    with two_cpus.scope():
        inputs = keras.Input((4,))
        model = Custom(inputs, keras.layers.Dense(2)(inputs))
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
