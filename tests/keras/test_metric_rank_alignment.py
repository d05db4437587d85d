"""Keras 2 metrics take labels (N,) against predictions (N, 1) as one value per sample
(the imbalanced-data and overfitting tutorials compile such models), never an (N, N)
broadcast that would silently give a wrong number."""

import numpy as np
import pytest

import dlframe as tf

Y = np.array([1.0, 0.0, 1.0, 1.0])
P = np.array([[0.9], [0.2], [0.6], [0.3]], "float32")
LOGITS = np.array([[2.0], [-1.0], [0.5], [-0.3]], "float32")


def _bce(y, p):
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


@pytest.mark.parametrize("name,metric,pred,want", [
    ("bce", lambda: tf.keras.metrics.BinaryCrossentropy(), P, _bce(Y, P[:, 0])),
    ("bce_logits", lambda: tf.keras.metrics.BinaryCrossentropy(from_logits=True), LOGITS,
     _bce(Y, 1 / (1 + np.exp(-LOGITS[:, 0])))),
    ("mse", lambda: tf.keras.metrics.MeanSquaredError(), P,
     float(np.mean((Y - P[:, 0]) ** 2))),
    ("rmse", lambda: tf.keras.metrics.RootMeanSquaredError(), P,
     float(np.sqrt(np.mean((Y - P[:, 0]) ** 2)))),
    ("mae", lambda: tf.keras.metrics.MeanAbsoluteError(), P,
     float(np.mean(np.abs(Y - P[:, 0])))),
])
def test_rank_one_labels_against_column_predictions(name, metric, pred, want):
    m = metric()
    m.update_state(Y, pred)
    assert float(m.result()) == pytest.approx(want, rel=1e-5)
    m.reset_state()
    m.update_state(Y[:, None], pred[:, 0])   # the other way round as well
    assert float(m.result()) == pytest.approx(want, rel=1e-5)


def test_fit_with_logit_metric_on_rank_one_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
    model.compile("adam", loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.BinaryCrossentropy(
                      from_logits=True, name="binary_crossentropy")])
    hist = model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    # one batch: the metric equals the loss computed on the same predictions
    assert hist.history["binary_crossentropy"][0] == pytest.approx(
        hist.history["loss"][0], rel=1e-5)


@pytest.mark.parametrize("fn", ["mean_squared_error", "mean_absolute_error", "huber",
                                "binary_crossentropy", "hinge", "log_cosh", "poisson",
                                "kl_divergence", "dice", "tversky"])
def test_loss_functions_align_ranks_like_keras3(fn):
    """Keras 3's per-sample loss functions squeeze/expand to the same rank first."""
    f = getattr(tf.keras.losses, fn)
    a, b = f(Y, P).numpy(), f(Y[:, None], P).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6)
    if fn == "mean_squared_error":
        np.testing.assert_allclose(a, (Y - P[:, 0]) ** 2, rtol=1e-6)
