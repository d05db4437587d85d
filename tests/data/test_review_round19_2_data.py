"""Review (round 19, 2): ``rebatch`` refuses elements whose components have
different batch sizes (as ``unbatch`` and TF 2.21 do) instead of dropping rows, and
conv layers of every kind refuse integer inputs with the error both Keras versions
accept."""

import numpy as np
import pytest

import dlframe as tf


def test_rebatch_of_mismatched_components_is_invalid_argument():
    ragged = tf.data.Dataset.from_tensor_slices(
        tf.ragged.constant([[1], [2, 3], [], [4, 5, 6]])).batch(3)
    dense = tf.data.Dataset.from_tensor_slices(np.arange(6).reshape(2, 3))
    pairs = tf.data.Dataset.zip((ragged, dense)).rebatch(2)
    it = iter(pairs)
    first = next(it)
    assert first[0].to_list() == [[1], [2, 3]] and first[1].numpy().tolist() == [0, 1]
    # TF 2.21: "Input element must have the same batch size in each component"
    with pytest.raises(tf.errors.InvalidArgumentError, match="same batch size"):
        list(it)


def test_rebatch_keeps_none_and_dict_components():
    ds = tf.data.Dataset.from_tensor_slices(
        {"a": np.arange(6), "b": np.arange(12).reshape(6, 2)}).batch(4)
    got = [(x["a"].numpy().tolist(), x["b"].shape.as_list()) for x in ds.rebatch(3)]
    assert got == [([0, 1, 2], [3, 2]), ([3, 4, 5], [3, 2])]


@pytest.mark.parametrize("layer, shape", [
    (lambda: tf.keras.layers.Conv2DTranspose(2, 3), [1, 4, 4, 1]),
    (lambda: tf.keras.layers.Conv1DTranspose(2, 3), [1, 4, 1]),
    (lambda: tf.keras.layers.DepthwiseConv2D(3), [1, 4, 4, 1]),
    (lambda: tf.keras.layers.SeparableConv2D(2, 3), [1, 4, 4, 1]),
])
def test_every_conv_layer_refuses_integer_inputs(layer, shape):
    x = tf.zeros(shape, tf.int32)
    # TF 2.21: ValueError (Conv2DTranspose) or InvalidArgumentError (the others)
    with pytest.raises(ValueError, match="inputs of dtype int32"):
        layer()(x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="tf.cast"):
        layer()(x)
    out = layer()(tf.ones(shape))
    assert out.dtype == tf.float32 and out.shape[0] == 1
