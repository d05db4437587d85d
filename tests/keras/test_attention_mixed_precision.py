"""MultiHeadAttention under the mixed_float16 policy: float16 compute with float32
weights, finite causal masking, results close to the float32 layer's."""

import numpy as np
import pytest

import dlframe as tf


@pytest.fixture
def mixed_policy():
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    tf.keras.mixed_precision.set_global_policy("float32")


def test_multi_head_attention_mixed_float16(mixed_policy):
    rng = np.random.default_rng(0)
    query = rng.random((2, 3, 8)).astype("float32")
    value = rng.random((2, 5, 6)).astype("float32")
    mixed = tf.keras.layers.MultiHeadAttention(2, 4)
    out = mixed(query, value)
    causal = mixed(query, query[:, :, :6], use_causal_mask=True)
    assert out.dtype == tf.float16 and causal.dtype == tf.float16
    assert all(w.dtype == tf.float32 for w in mixed.weights)
    assert np.isfinite(causal.numpy()).all()
    tf.keras.mixed_precision.set_global_policy("float32")
    exact = tf.keras.layers.MultiHeadAttention(2, 4)
    exact(query, value)
    exact.set_weights(mixed.get_weights())
    np.testing.assert_allclose(out.numpy().astype("float32"),
                               exact(query, value).numpy(), atol=3e-3)
    np.testing.assert_allclose(
        causal.numpy().astype("float32"),
        exact(query, query[:, :, :6], use_causal_mask=True).numpy(), atol=3e-3)
