"""Work done once per trace (read-back of the twentieth session's change)."""

import numpy as np

import dlframe as tf
from dlframe.core import static_dims_values


def test_unknown_value_masks_are_computed_once_per_tensor(monkeypatch):
    # every shape argument asks which of its values the graph cannot know; a fresh
    # walk of the ancestry per question made tracing quadratic in the graph's size
    calls = [0]
    real = static_dims_values._unknown_mask

    def counted(*args):
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(static_dims_values, "_unknown_mask", counted)
    steps = 120

    def body(x):
        y = x
        for _ in range(steps):
            n = tf.cast(y[0], tf.int32) * 0 + 2
            y = y + tf.reduce_sum(tf.zeros(tf.stack([n])))
        return y

    f = tf.function(body, input_signature=[tf.TensorSpec([None], tf.float32)])
    out = f(tf.constant([1.0, 2.0]))
    np.testing.assert_allclose(out.numpy(), [1.0, 2.0])
    assert 0 < calls[0] < 30 * steps   # linear in the graph (quadratic: ~10^4 here)
