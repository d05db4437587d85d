"""Review of round 19's Keras changes: a fixed-size reshape fed by two unknown dims.

Expected shapes came from TF 2.21 (Keras 3 accepts the reshape symbolically).
"""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


@pytest.mark.parametrize("target", [[10, 40], [25, 16]])
def test_fixed_reshape_of_two_unknown_dims_builds(target):
    # (None, None, 4) has 16 values at placeholder size 2: a one-unknown-dim guess
    # (size 50) does not fit, the two-unknown-dims one (size 10) does
    inputs = layers.Input((None, 4))
    out = layers.Lambda(lambda x: tf.reshape(x, target))(inputs)
    assert tuple(out.shape) == tuple(target)
    model = keras.Model(inputs, out)
    feed = np.arange(400, dtype="float32").reshape(10, 10, 4)
    np.testing.assert_array_equal(model(feed).numpy(), feed.reshape(target))


def test_reshape_no_size_fits_keeps_the_original_error():
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="reshape"):
        layers.Lambda(lambda x: tf.reshape(x, [3, 2]))(layers.Input((4,)))
