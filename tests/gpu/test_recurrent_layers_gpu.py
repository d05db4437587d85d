"""LSTM/GRU layers on a GPU: the cuDNN kernel vs the portable fused kernel with
identical weights (forward, masks, go_backwards, gradients), and GPU vs CPU results."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

pytestmark = pytest.mark.gpu
L = keras.layers
RNG = np.random.default_rng(0)
B, T, F, U = 4, 7, 5, 8
X = RNG.standard_normal((B, T, F)).astype("float32")
MASK = np.array([[1] * 7, [1] * 4 + [0] * 3, [1] + [0] * 6, [1] * 6 + [0]], bool)


def _run(layer, weights, mask, device):
    with tf.device(device):
        x = tf.constant(X)
        m = None if mask is None else tf.constant(mask)
        layer.build((B, T, F))
        layer.set_weights(weights)
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = layer(x, mask=m, training=True)
            outs = outs if isinstance(outs, list) else [outs]
            loss = tf.add_n([tf.reduce_sum(o * o) for o in outs])
        grads = tape.gradient(loss, layer.trainable_weights + [x])
    return [o.numpy() for o in outs], [g.numpy() for g in grads], layer.last_kernel


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU])
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
def test_cudnn_matches_portable_kernel(cls, back, use_mask):
    kw = {"return_sequences": True, "return_state": True, "go_backwards": back}
    ref = cls(U, use_cudnn=False, **kw)
    with tf.device("/GPU:0"):  # its weights live where it runs (no silent copies)
        ref.build((B, T, F))
    weights = [RNG.standard_normal(tuple(w.shape)).astype("float32") * 0.3
               for w in ref.weights]
    mask = MASK if use_mask else None
    outs_c, grads_c, kernel = _run(cls(U, **kw), weights, mask, "/GPU:0")
    assert kernel == "cudnn"
    outs_f, grads_f, kernel = _run(ref, weights, mask, "/GPU:0")
    assert kernel == "fused"
    outs_cpu, grads_cpu, _ = _run(cls(U, **kw), weights, mask, "/CPU:0")
    for a, b, c in zip(outs_c, outs_f, outs_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5)
    for a, b, c in zip(grads_c, grads_f, grads_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(a, c, rtol=1e-3, atol=1e-4)


def test_ineligible_configurations_fall_back_on_gpu():
    with tf.device("/GPU:0"):
        x = tf.constant(X)
        for layer, mask in ((L.LSTM(U, activation="relu"), None),
                            (L.GRU(U, reset_after=False), None),
                            (L.LSTM(U), tf.constant(np.array([[1, 0, 1, 1, 1, 1, 1]] * B,
                                                             bool))),
                            (L.GRU(U), tf.constant(np.zeros((B, T), bool)))):
            layer(x, mask=mask)
            assert layer.last_kernel == "fused"
        with pytest.raises(ValueError, match="use_cudnn=True"):
            L.LSTM(U, use_cudnn=True, unroll=True)(x)


def test_lstm_classifier_trains_on_gpu():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 20, 1)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")[:, None]
    with tf.device("/GPU:0"):
        model = keras.Sequential([keras.Input((20, 1)), L.LSTM(16),
                                  L.Dense(1, activation="sigmoid")])
        model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, epochs=8, batch_size=32, verbose=0)
        assert model.layers[0].last_kernel == "cudnn"
        assert model.evaluate(x, y, verbose=0)[1] > 0.9
