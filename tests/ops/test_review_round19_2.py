"""Review (round 19, 2): static shapes of ``RaggedTensor.from_tensor`` and of
``tf.image.crop_to_bounding_box`` / ``pad_to_bounding_box`` inside a traced function
keep the dimensions the input signature leaves unknown; HSV channel and
``depth_to_space`` block-size errors eagerly and traced (expected values from
TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf


def test_from_tensor_in_function_keeps_unknown_row_length():
    shapes = {}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
    def unknown(x):
        shapes["unknown"] = tf.RaggedTensor.from_tensor(x).shape.as_list()
        return tf.RaggedTensor.from_tensor(x).row_lengths()

    @tf.function(input_signature=[tf.TensorSpec([None, 3, None], tf.float32)])
    def known(x):
        rt = tf.RaggedTensor.from_tensor(x, ragged_rank=2)
        shapes["known"] = rt.shape.as_list()[1:]
        return rt.flat_values

    lengths = unknown(tf.ones([2, 3]))
    assert lengths.numpy().tolist() == [3, 3]
    assert shapes["unknown"][1] is None                    # TF 2.21: (None, None)
    values = known(tf.reshape(tf.range(24.0), [2, 3, 4]))
    np.testing.assert_array_equal(values.numpy(), np.arange(24.0))
    assert shapes["known"] == [3, None]                    # TF 2.21: (None, 3, None)
    eager = tf.RaggedTensor.from_tensor(np.zeros((2, 3, 4)), ragged_rank=2)
    assert eager.shape.as_list() == [2, 3, 4]              # TF 2.21: (2, 3, 4)


def test_crop_and_pad_in_function_keep_unknown_batch_and_channels():
    shapes = {}

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.float32),
                                  tf.TensorSpec([], tf.int32)])
    def crop(x, offset):
        out = tf.image.crop_to_bounding_box(x, offset, offset, 4, 4)
        shapes["crop"] = out.shape.as_list()
        padded = tf.image.pad_to_bounding_box(out, offset, offset, 10, 10)
        shapes["pad"] = padded.shape.as_list()
        return out, padded

    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    got, padded = crop(tf.constant(x), tf.constant(1))
    assert shapes == {"crop": [None, 4, 4, None], "pad": [None, 10, 10, None]}  # TF
    np.testing.assert_array_equal(got.numpy(), x[:, 1:5, 1:5])
    want = np.zeros((2, 10, 10, 3), "float32")
    want[:, 1:5, 1:5] = x[:, 1:5, 1:5]
    np.testing.assert_array_equal(padded.numpy(), want)
    other, _ = crop(tf.ones([1, 9, 9, 2]), tf.constant(2))   # same graph, other sizes
    assert other.shape == (1, 4, 4, 2)


@pytest.mark.parametrize("op", [tf.image.rgb_to_hsv, tf.image.hsv_to_rgb])
def test_hsv_of_four_channels_in_function_is_a_value_error(op):
    # TF 2.21: eager FailedPreconditionError; traced, shape inference's ValueError
    with pytest.raises(ValueError, match="3 channels"):
        tf.function(op)(tf.zeros([2, 2, 4]))
    with pytest.raises(tf.errors.FailedPreconditionError, match="3 channels"):
        op(tf.zeros([2, 2, 4]))


@pytest.mark.parametrize("op", [tf.nn.depth_to_space, tf.nn.space_to_depth])
def test_block_size_one_is_invalid_argument_eagerly(op):
    x = tf.zeros([1, 2, 2, 4])
    # TF 2.21: InvalidArgumentError eagerly, ValueError while traced
    with pytest.raises(tf.errors.InvalidArgumentError, match="block_size"):
        op(x, 1)
    with pytest.raises(ValueError, match="block_size"):
        tf.function(lambda v: op(v, 1))(x)
    assert op(x, 2).shape.num_elements() == 16


def test_expand_dims_of_a_reshape_of_unknown_rank_keeps_its_rank():
    shapes = {}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def fn(x):
        flat = tf.reshape(x, [-1])
        out = tf.expand_dims(flat, 0)
        shapes.update(flat=flat.shape.as_list(), out=out.shape.as_list(),
                      raw=tf.expand_dims(x, 0).shape.rank)
        return out

    got = fn(tf.reshape(tf.range(6.0), [2, 3]))
    np.testing.assert_array_equal(got.numpy(), [np.arange(6.0)])
    # TF 2.21: (None,), (1, None); expand_dims of the unknown-rank input: <unknown>
    assert shapes == {"flat": [None], "out": [1, None], "raw": None}
