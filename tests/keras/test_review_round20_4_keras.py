"""Review round 20 (R4) regressions in Keras layers: the Softmax layer (and
MultiHeadAttention's masked softmax) take integer masks, as Keras 3 does."""

import numpy as np

import dlframe as tf

keras = tf.keras
SCORES = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], np.float32)


def _masked_reference(scores, keep):
    e = np.where(keep, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    total = e.sum(-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def test_softmax_integer_mask_matches_bool_mask():
    mask = np.array([[1, 0, 2], [0, 0, 0]], np.int32)
    layer = keras.layers.Softmax()
    out = layer(tf.constant(SCORES), mask=tf.constant(mask))
    assert out.dtype == tf.float32
    # TF 2.21: [[0.1192, 0, 0.8808], [0, 0, 0]] (a fully masked row is zeros)
    np.testing.assert_allclose(out.numpy(), _masked_reference(SCORES, mask != 0),
                               atol=1e-6)
    np.testing.assert_allclose(out.numpy(), layer(tf.constant(SCORES),
                                                  mask=tf.constant(mask != 0)).numpy())


def test_softmax_integer_mask_gradient_and_function():
    mask = tf.constant([[1, 0, 1], [0, 1, 1]])
    x = tf.Variable(SCORES)
    weights = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    layer = keras.layers.Softmax()

    def loss():
        return tf.reduce_sum(layer(x, mask=mask) * weights)

    with tf.GradientTape() as tape:
        value = loss()
    grad = tape.gradient(value, x).numpy()
    assert grad[0, 1] == 0.0 and grad[1, 0] == 0.0   # masked scores get none
    eps, numeric = 1e-3, np.zeros_like(SCORES)
    for i in np.ndindex(SCORES.shape):
        for sign in (1, -1):
            shifted = SCORES.copy()
            shifted[i] += sign * eps
            numeric[i] += sign * float(tf.reduce_sum(layer(
                tf.constant(shifted), mask=mask) * weights)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, atol=2e-3)
    np.testing.assert_allclose(tf.function(loss)().numpy(), value.numpy(), rtol=1e-6)


def test_multi_head_attention_integer_padding_mask():
    keras.utils.set_random_seed(0)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    q = tf.constant(np.random.RandomState(0).randn(2, 4, 3).astype(np.float32))
    pad = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], np.int32)
    _, by_int = mha(q, q, attention_mask=tf.constant(pad[:, None, :]),
                    return_attention_scores=True)
    _, by_bool = mha(q, q, attention_mask=tf.constant(pad[:, None, :] != 0),
                     return_attention_scores=True)
    np.testing.assert_allclose(by_int.numpy(), by_bool.numpy(), atol=1e-6)
    assert np.all(by_int.numpy()[0, :, :, 2:] == 0.0)
    np.testing.assert_allclose(by_int.numpy().sum(-1), 1.0, rtol=1e-5)
