"""Every loss equals a NumPy reference, with sample weights and every reduction."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import losses

EPS = 1e-7
RNG = np.random.default_rng(1)
N, C = 6, 4
REG_T = RNG.normal(size=(N, C)).astype(np.float32)
REG_P = RNG.normal(size=(N, C)).astype(np.float32)
POS_T = RNG.uniform(0.1, 3, size=(N, C)).astype(np.float32)
POS_P = RNG.uniform(0.1, 3, size=(N, C)).astype(np.float32)
BIN_T = RNG.integers(0, 2, size=(N, C)).astype(np.float32)
PROB = RNG.uniform(0.02, 0.98, size=(N, C)).astype(np.float32)
LOGITS = RNG.normal(size=(N, C)).astype(np.float32) * 2
LABELS = RNG.integers(0, C, size=(N,))
ONEHOT = np.eye(C, dtype=np.float32)[LABELS]
SOFT = PROB / PROB.sum(-1, keepdims=True)
SW = RNG.uniform(0, 2, size=(N,)).astype(np.float32)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _l2n(x):
    return x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12))


def _huber(t, p, d=1.0):
    e = np.abs(p - t)
    return np.where(e <= d, 0.5 * e * e, d * e - 0.5 * d * d).mean(-1)


CASES = {
    "mse": (losses.MeanSquaredError(), REG_T, REG_P, lambda t, p: ((p - t) ** 2).mean(-1)),
    "mae": (losses.MeanAbsoluteError(), REG_T, REG_P, lambda t, p: np.abs(p - t).mean(-1)),
    "mape": (losses.MeanAbsolutePercentageError(), REG_T, REG_P,
             lambda t, p: 100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)),
    "msle": (losses.MeanSquaredLogarithmicError(), POS_T, POS_P,
             lambda t, p: ((np.log1p(p) - np.log1p(t)) ** 2).mean(-1)),
    "bce": (losses.BinaryCrossentropy(), BIN_T, PROB, lambda t, p: _bce(t, p).mean(-1)),
    "bce_logits_smooth": (
        losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), BIN_T, LOGITS,
        lambda t, p: _bce(t * 0.8 + 0.1, _sigmoid(p)).mean(-1)),
    "focal": (losses.BinaryFocalCrossentropy(gamma=2.0), BIN_T, PROB,
              lambda t, p: ((1 - (t * p + (1 - t) * (1 - p))) ** 2 * _bce(t, p)).mean(-1)),
    "focal_balanced_logits": (
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5,
                                       from_logits=True), BIN_T, LOGITS,
        lambda t, p: ((t * 0.3 + (1 - t) * 0.7) * (1 - (t * _sigmoid(p) + (1 - t) * (
            1 - _sigmoid(p)))) ** 1.5 * _bce(t, _sigmoid(p))).mean(-1)),
    "cce": (losses.CategoricalCrossentropy(), ONEHOT, SOFT,
            lambda t, p: -(t * np.log(np.clip(p, EPS, 1 - EPS))).sum(-1)),
    "cce_logits_smooth": (
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), ONEHOT,
        LOGITS, lambda t, p: -((t * 0.9 + 0.1 / C) * np.log(_softmax(p))).sum(-1)),
    "scce": (losses.SparseCategoricalCrossentropy(), LABELS, SOFT,
             lambda t, p: -np.log(p[np.arange(N), t])),
    "scce_logits": (losses.SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS,
                    lambda t, p: -np.log(_softmax(p)[np.arange(N), t])),
    "hinge": (losses.Hinge(), BIN_T, REG_P,
              lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    "squared_hinge": (losses.SquaredHinge(), 2 * BIN_T - 1, REG_P,
                      lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1)),
    "categorical_hinge": (
        losses.CategoricalHinge(), ONEHOT, REG_P,
        lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
    "huber": (losses.Huber(), REG_T, REG_P, _huber),
    "huber_delta": (losses.Huber(delta=0.5), REG_T, REG_P, lambda t, p: _huber(t, p, 0.5)),
    "logcosh": (losses.LogCosh(), REG_T, REG_P, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    "kld": (losses.KLDivergence(), SOFT, _softmax(LOGITS),
            lambda t, p: (t * np.log(t / p)).sum(-1)),
    "poisson": (losses.Poisson(), POS_T, POS_P, lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    "cosine": (losses.CosineSimilarity(), REG_T, REG_P,
               lambda t, p: -(_l2n(t) * _l2n(p)).sum(-1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_numpy_with_reductions_and_weights(name):
    loss, t, p, ref = CASES[name]
    per = ref(t if t.dtype.kind == "i" else t.astype(np.float64), p.astype(np.float64))
    np.testing.assert_allclose(loss(t, p).numpy(), per.mean(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(loss(tf.constant(t), tf.constant(p), sample_weight=SW).numpy(),
                               (per * SW).sum() / N, rtol=1e-4, atol=1e-6)
    cls = type(loss)
    cfg = loss.get_config()
    for red, expect in (("sum", (per * SW).sum()), ("none", per * SW)):
        other = cls(**{**cfg, "reduction": red})
        np.testing.assert_allclose(other(t, p, sample_weight=SW).numpy(), expect,
                                   rtol=1e-4, atol=1e-6)
    assert loss(t, p).dtype == tf.float32


def test_function_forms_and_names():
    for name in ["mse", "mae", "mape", "msle", "MSE", "kld", "logcosh",
                 "mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy", "hinge", "huber", "poisson",
                 "cosine_similarity", "categorical_hinge", "squared_hinge",
                 "kl_divergence", "binary_focal_crossentropy"]:
        assert callable(losses.get(name))
    np.testing.assert_allclose(losses.mse(REG_T, REG_P).numpy(),
                               ((REG_P - REG_T) ** 2).mean(-1), rtol=1e-5)
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    with pytest.raises(ValueError, match="Unknown loss function"):
        losses.get("not_a_loss")


def test_sample_weight_shapes():
    loss = losses.MeanSquaredError(reduction="none")
    per = ((REG_P - REG_T) ** 2).mean(-1)
    # (B, 1) weights keep the (B, 1) shape under 'none' (as TF 2.21)
    np.testing.assert_allclose(loss(REG_T, REG_P, sample_weight=SW[:, None]).numpy(),
                               (per * SW)[:, None], rtol=1e-5)
    np.testing.assert_allclose(losses.MeanSquaredError()(REG_T, REG_P, 2.0).numpy(),
                               2 * per.mean(), rtol=1e-5)
    # per-timestep losses (N, T) weighted per sample
    y3, p3 = REG_T[:, :, None], REG_P[:, :, None]
    np.testing.assert_allclose(
        losses.MeanSquaredError(reduction="sum")(y3, p3, sample_weight=SW).numpy(),
        (((REG_P - REG_T) ** 2) * SW[:, None]).sum(), rtol=1e-5)


def test_mean_with_sample_weight_reduction():
    loss = losses.MeanAbsoluteError(reduction="mean_with_sample_weight")
    per = np.abs(REG_P - REG_T).mean(-1)
    np.testing.assert_allclose(loss(REG_T, REG_P, SW).numpy(), (per * SW).sum() / SW.sum(),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanAbsoluteError(reduction="bad")


def test_sparse_ignore_class_and_label_shapes():
    labels = LABELS.copy()
    labels[:2] = -1
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    per = -np.log(_softmax(LOGITS)[np.arange(N), np.maximum(labels, 0)])
    keep = labels != -1
    np.testing.assert_allclose(loss(labels, LOGITS).numpy(), per[keep].mean(), rtol=1e-5)
    plain = losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(plain(LABELS[:, None], LOGITS).numpy(),
                               plain(LABELS, LOGITS).numpy(), rtol=1e-6)
    np.testing.assert_allclose(plain(LABELS.astype(np.float32), LOGITS).numpy(),
                               plain(LABELS, LOGITS).numpy(), rtol=1e-6)


def test_loss_subclass():
    class Scaled(losses.Loss):
        def __init__(self, k=2.0, **kw):
            super().__init__(**kw)
            self.k = k

        def call(self, y_true, y_pred):
            return self.k * tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)

    loss = Scaled(name="scaled")
    np.testing.assert_allclose(loss(REG_T, REG_P, SW).numpy(),
                               (2 * np.abs(REG_T - REG_P).mean(-1) * SW).sum() / N, rtol=1e-5)
    assert loss.name == "scaled" and Scaled().name == "scaled"


def test_loss_is_differentiable():
    w = tf.Variable(LOGITS)
    with tf.GradientTape() as tape:
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, w)
    g = tape.gradient(loss, w).numpy()
    np.testing.assert_allclose(g, (_softmax(LOGITS) - ONEHOT) / N, rtol=1e-4, atol=1e-6)


def test_serialize_round_trip():
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    again = losses.deserialize(losses.serialize(loss))
    assert isinstance(again, losses.BinaryCrossentropy)
    assert again.get_config() == loss.get_config()
    assert losses.serialize(losses.mse) == "mean_squared_error"


def test_rank_one_labels_against_column_predictions_do_not_broadcast():
    """(N,) labels with an (N, 1) sigmoid output: Keras aligns ranks, never (N, N)."""
    import dlframe as tf
    y_true = np.array([1., 0., 1., 0.], np.float32)
    y_pred = np.array([[0.9], [0.2], [0.6], [0.4]], np.float32)
    expect = -np.mean(y_true * np.log(y_pred[:, 0]) + (1 - y_true) * np.log(1 - y_pred[:, 0]))
    got = tf.keras.losses.BinaryCrossentropy()(y_true, y_pred).numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-5)
    mse = tf.keras.losses.MeanSquaredError()(y_true, y_pred).numpy()
    np.testing.assert_allclose(mse, np.mean((y_true - y_pred[:, 0]) ** 2), rtol=1e-6)


def test_fit_learns_with_rank_one_binary_labels():
    import dlframe as tf
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")          # shape (N,)
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input((4,)),
                                 tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.3
    assert hist.history["accuracy"][-1] > 0.9
