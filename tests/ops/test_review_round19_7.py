"""Review round 19 (R7): image crops and pads of images whose sizes the graph does
not know. Expected static shapes come from TF 2.21 (run on the same programs)."""

import numpy as np
import pytest

import dlframe as tf

IMAGE = tf.TensorSpec([None, None, 3])


def _image(h, w):
    return np.arange(h * w * 3, dtype=np.float32).reshape(h, w, 3)


@pytest.mark.parametrize("batched", [False, True])
def test_pad_to_bounding_box_of_unknown_size_has_the_target_shape(batched):
    def pad(x):
        return tf.image.pad_to_bounding_box(x[None] if batched else x, 1, 2, 11, 10)

    fn = tf.function(pad, input_signature=[IMAGE])
    want = [1, 11, 10, 3] if batched else [11, 10, 3]
    # TF 2.21: the target size is known although the input's is not
    assert fn.get_concrete_function().structured_outputs.shape.as_list() == want
    for h, w in [(5, 7), (6, 6), (10, 8)]:   # odd and even sizes, one at the limit
        expected = np.pad(_image(h, w), [[1, 10 - h], [2, 8 - w], [0, 0]])
        got = fn(tf.constant(_image(h, w))).numpy()
        np.testing.assert_array_equal(got[0] if batched else got, expected)


def test_pad_to_bounding_box_in_map_keeps_a_known_element_spec():
    images = [_image(5, 7), _image(9, 4)]
    ds = tf.data.Dataset.from_generator(lambda: iter(images), output_signature=IMAGE)
    padded = ds.map(lambda x: tf.image.pad_to_bounding_box(x, 1, 1, 11, 11))
    assert padded.element_spec.shape.as_list() == [11, 11, 3]   # TF 2.21
    for got, image in zip(padded, images):
        h, w = image.shape[:2]
        np.testing.assert_array_equal(
            got.numpy(), np.pad(image, [[1, 10 - h], [1, 10 - w], [0, 0]]))
    model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(padded.map(lambda x: (x, 1.0)).batch(2), epochs=1, verbose=0)
    assert model.layers[1].kernel.shape == (11 * 11 * 3, 1)


def test_crop_beyond_known_height_is_a_value_error_when_traced():
    # TF 2.21: a known height and width too small fail when traced (ValueError), even
    # with an unknown batch size
    fn = tf.function(lambda x: tf.image.crop_to_bounding_box(x, 0, 0, 30, 30),
                     input_signature=[tf.TensorSpec([None, 20, 20, 3])])
    with pytest.raises(ValueError) as info:
        fn.get_concrete_function()
    assert not isinstance(info.value, tf.errors.InvalidArgumentError)
    with pytest.raises(ValueError, match="target"):
        tf.function(lambda x: tf.image.pad_to_bounding_box(x, 0, 0, 10, 10),
                    input_signature=[tf.TensorSpec([None, 20, 20, 3])]
                    ).get_concrete_function()
