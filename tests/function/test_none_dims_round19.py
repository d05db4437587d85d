"""Traces of functions whose input signature has None dims (round 19).

Expected static shapes come from TF 2.21 (run on the same programs).
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

IMAGE = tf.TensorSpec([None, None, 3])


def _image(h, w):
    return tf.constant(np.arange(h * w * 3, dtype=np.float32).reshape(h, w, 3))


@pytest.mark.parametrize("crop", [
    lambda x: tf.image.random_crop(x, [4, 4, 3]),
    lambda x: tf.image.crop_to_bounding_box(x, 0, 0, 4, 4),
    lambda x: tf.image.crop_to_bounding_box(x, 1, 2, 4, 4),
])
def test_crop_trace_on_unknown_sizes(crop):
    fn = tf.function(crop, input_signature=[IMAGE])
    # TF 2.21: (4, 4, 3); the 1-sized placeholder must not fail the size check
    assert fn.get_concrete_function().structured_outputs.shape.as_list() == [4, 4, 3]
    assert fn(_image(10, 9)).shape == (4, 4, 3)
    with pytest.raises(InvalidArgumentError):   # real inputs still checked
        fn(_image(3, 9))


def test_crop_values_after_concrete_trace():
    fn = tf.function(lambda x: tf.image.crop_to_bounding_box(x, 1, 2, 4, 4),
                     input_signature=[IMAGE])
    fn.get_concrete_function()
    image = _image(10, 9)
    np.testing.assert_array_equal(fn(image).numpy(), image.numpy()[1:5, 2:6])


def test_slice_trace_on_unknown_sizes():
    fn = tf.function(lambda x: tf.slice(x, [0, 0], [4, 3]),
                     input_signature=[tf.TensorSpec([None, 3])])
    assert fn.get_concrete_function().structured_outputs.shape.as_list() == [4, 3]
    x = np.random.rand(6, 3).astype(np.float32)
    np.testing.assert_allclose(fn(tf.constant(x)).numpy(), x[:4])
    with pytest.raises(InvalidArgumentError):
        fn(tf.zeros([2, 3]))


def test_eager_crop_too_small_stays_value_error():
    with pytest.raises(ValueError):
        tf.image.crop_to_bounding_box(_image(2, 2), 0, 0, 4, 4)


def test_creation_sizes_from_scalar_input_are_unknown():
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32),
                                  tf.TensorSpec([None, 2])])
    def make(k, x):
        return [tf.zeros([k]), tf.zeros([k, 2]), tf.fill([2, k], 1.0),
                tf.ones(tf.shape(x)[:1]), tf.zeros([tf.shape(x)[1], k]),
                tf.random.uniform([k]), tf.random.normal([k, 2]), tf.eye(k),
                tf.ones([3, 2])]

    shapes = [o.shape.as_list()
              for o in make.get_concrete_function().structured_outputs]
    # TF 2.21
    assert shapes == [[None], [None, 2], [2, None], [None], [2, None], [None],
                      [None, 2], [None, None], [3, 2]]
    outs = make(tf.constant(3), tf.zeros([4, 2]))
    assert [tuple(o.shape) for o in outs] == [
        (3,), (3, 2), (2, 3), (4,), (2, 3), (3,), (3, 2), (3, 3), (3, 2)]
    np.testing.assert_array_equal(outs[2].numpy(), np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(outs[7].numpy(), np.eye(3, dtype=np.float32))


def test_known_shape_values_stay_known():
    @tf.function(input_signature=[tf.TensorSpec([None, 2])])
    def make(x):
        return tf.zeros([tf.shape(x)[1], 5]), tf.zeros(tf.shape(x))

    shapes = [o.shape.as_list()
              for o in make.get_concrete_function().structured_outputs]
    assert shapes == [[2, 5], [None, 2]]   # TF 2.21


def test_eager_and_function_agree():
    fn = tf.function(lambda k: tf.fill([2, k], 1.5))
    np.testing.assert_array_equal(fn(tf.constant(4)).numpy(),
                                  tf.fill([2, 4], 1.5).numpy())
