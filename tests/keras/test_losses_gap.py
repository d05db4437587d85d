"""Dice, Tversky, generalized cross-entropy, Circle and CTC losses and the Keras 3
activations (NumPy references, gradients against finite differences)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op

L = tf.keras.losses
A = tf.keras.activations


def _data():
    rng = np.random.default_rng(1)
    return (rng.random((3, 4, 2)) > 0.5).astype("float32"), \
        rng.random((3, 4, 2)).astype("float32")


def test_dice_and_tversky():
    yt, yp = _data()
    inter = (yt * yp).sum((1, 2))
    dice = 1 - 2 * inter / (yt.sum((1, 2)) + yp.sum((1, 2)) + 1e-7)
    np.testing.assert_allclose(L.dice(yt, yp, axis=(1, 2)).numpy(), dice, rtol=1e-6)
    np.testing.assert_allclose(L.Dice(axis=(1, 2))(yt, yp).numpy(), dice.mean(), rtol=1e-6)
    whole = 1 - 2 * (yt * yp).sum() / (yt.sum() + yp.sum() + 1e-7)
    np.testing.assert_allclose(L.Dice()(yt, yp).numpy(), whole, rtol=1e-6)
    missed, false_alarm = ((1 - yp) * yt).sum((1, 2)), (yp * (1 - yt)).sum((1, 2))
    tv = 1 - inter / (inter + 0.3 * missed + 0.7 * false_alarm + 1e-7)
    np.testing.assert_allclose(L.tversky(yt, yp, 0.3, 0.7, axis=(1, 2)).numpy(), tv,
                               rtol=1e-6)
    np.testing.assert_allclose(
        L.Tversky(0.3, 0.7, axis=(1, 2))(yt, yp, sample_weight=[1, 2, 0]).numpy(),
        (tv[0] + 2 * tv[1]) / 3, rtol=1e-6)
    check_op(lambda p: L.dice(yt.astype("float64"), p, axis=(1, 2)), [yp],
             lambda p: 1 - 2 * (yt * p).sum((1, 2)) / (yt.sum((1, 2)) + p.sum((1, 2)) +
                                                       1e-7))


def test_generalized_cross_entropy():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    labels = np.array([0, 1])
    want = (1 - np.array([0.7, 0.3]) ** 0.7) / 0.7
    np.testing.assert_allclose(
        L.categorical_generalized_cross_entropy(labels, probs, 0.7).numpy(), want)
    assert float(L.CategoricalGeneralizedCrossEntropy(q=0.7)(labels, probs)) == \
        pytest.approx(want.mean())
    with pytest.raises(ValueError, match="q"):
        L.CategoricalGeneralizedCrossEntropy(q=0.0)


def test_circle_masks_and_has_gradients():
    rng = np.random.default_rng(1)
    emb = rng.standard_normal((6, 5)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 3])
    loss = L.circle(labels, emb).numpy()
    assert loss.shape == (6,) and loss[3] == 0 and loss[5] == 0   # no positives
    x = tf.Variable(emb)
    with tf.GradientTape() as tape:
        value = L.Circle()(labels, x)
    grad = tape.gradient(value, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    # reduction averages over the samples with a positive loss only (Keras's mask)
    assert float(value) == pytest.approx(loss[loss > 0].mean(), rel=1e-6)


def test_ctc_loss_class():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 3, 5)).astype("float32").transpose(1, 0, 2)
    labels = np.array([[1, 2, 2, 0], [3, 1, 0, 0]], dtype="int32")
    per_sample = L.ctc(labels, logits[:2]).numpy()
    np.testing.assert_allclose(per_sample, [8.255633, 5.6908603], rtol=1e-6)   # TF 2.21
    assert float(L.CTC()(labels, logits[:2])) == pytest.approx(per_sample.mean())
    assert L.get("ctc") is L.ctc and isinstance(L.get("CTC"), L.CTC)
    with pytest.raises(ValueError, match="y_true"):
        L.ctc(labels[0], logits[:2])


def _sparsemax_ref(x):
    z = -np.sort(-x, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    cum = np.cumsum(z, axis=-1)
    support = (1 + k * z) > cum
    kz = support.sum(-1, keepdims=True)
    tau = ((z * support).sum(-1, keepdims=True) - 1) / kz
    return np.maximum(x - tau, 0)


ACTIVATIONS = {
    "celu": lambda x: np.maximum(x, 0) + np.minimum(np.expm1(x), 0),
    "glu": lambda x: x[:, :3] / (1 + np.exp(-x[:, 3:])),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "sparsemax": _sparsemax_ref,
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "tanh_shrink": lambda x: x - np.tanh(x),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_keras3_activations(name):
    # grid points avoid the kinks (|x| = 0.5, 1) where finite differences straddle
    x = np.linspace(-2.93, 2.87, 18).reshape(3, 6)
    check_op(getattr(A, name), [x], ACTIVATIONS[name], grad_rtol=1e-4, grad_atol=1e-6)
    assert A.get(name) is getattr(A, name) and A.serialize(getattr(A, name)) == name


def test_activation_options():
    x = np.linspace(-3, 3, 12).reshape(2, 6)
    np.testing.assert_allclose(A.celu(tf.constant(x), alpha=2.0).numpy(),
                               np.maximum(x, 0) + np.minimum(2 * np.expm1(x / 2), 0))
    np.testing.assert_allclose(A.threshold(tf.constant(x), 0.5, -2.0).numpy(),
                               np.where(x > 0.5, x, -2.0))
    np.testing.assert_allclose(A.sparsemax(tf.constant(x), axis=0).numpy(),
                               _sparsemax_ref(x.T).T, atol=1e-12)
    np.testing.assert_allclose(A.sparsemax(tf.constant(x)).numpy().sum(-1), 1.0)
    with pytest.raises(ValueError, match="divisible by 2"):
        A.glu(tf.ones((2, 3)))
