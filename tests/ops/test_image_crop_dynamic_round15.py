"""Crops, pads and slices whose boxes are graph tensors (keras.io's CutMix example):
one trace follows every box, tf.shape of such slices runs with the graph, results and
gradients equal eager ones, and bad boxes fail at run time as in TF's graphs."""

import numpy as np
import pytest

import dlframe as tf

IMAGE = np.arange(2 * 6 * 5 * 3, dtype=np.float32).reshape(2, 6, 5, 3)
BOXES = [(1, 2, 3, 2), (0, 0, 6, 5), (4, 1, 2, 4), (2, 3, 1, 1)]


def _np_crop(x, oh, ow, th, tw):
    return x[..., oh:oh + th, ow:ow + tw, :]


def _np_pad(x, oh, ow, th, tw):
    h, w = x.shape[-3:-1]
    pads = [(0, 0)] * (x.ndim - 3) + [(oh, th - oh - h), (ow, tw - ow - w), (0, 0)]
    return np.pad(x, pads)


def _cutmix_paste(image1, image2, oh, ow, th, tw):
    crop2 = tf.image.crop_to_bounding_box(image2, oh, ow, th, tw)
    pasted = tf.image.pad_to_bounding_box(crop2, oh, ow, 6, 5)
    crop1 = tf.image.crop_to_bounding_box(image1, oh, ow, th, tw)
    hole = tf.image.pad_to_bounding_box(crop1, oh, ow, 6, 5)
    return image1 - hole + pasted, tf.shape(crop2)


@pytest.mark.parametrize("rank", [3, 4])
def test_cutmix_paste_with_graph_boxes_matches_numpy_for_every_box(rank):
    one = IMAGE if rank == 4 else IMAGE[0]
    two = -one
    compiled = tf.function(_cutmix_paste)
    for box in BOXES:
        mixed, crop_shape = compiled(tf.constant(one), tf.constant(two),
                                     *(tf.constant(v) for v in box))
        oh, ow, th, tw = box
        want = one.copy()
        want[..., oh:oh + th, ow:ow + tw, :] = two[..., oh:oh + th, ow:ow + tw, :]
        np.testing.assert_array_equal(mixed.numpy(), want)
        np.testing.assert_array_equal(crop_shape.numpy(),
                                      _np_crop(one, *box).shape)
        eager, _ = _cutmix_paste(tf.constant(one), tf.constant(two), *box)
        np.testing.assert_array_equal(mixed.numpy(), eager.numpy())
    assert compiled.experimental_get_tracing_count() == 1


def test_graph_box_crop_and_pad_gradients_match_eager():
    def loss(x, oh, ow):
        crop = tf.image.crop_to_bounding_box(x, oh, ow, 2, 3)
        padded = tf.image.pad_to_bounding_box(crop * crop, oh, ow, 6, 5)
        return tf.reduce_sum(padded * 0.5)

    def grad(x, oh, ow):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss(x, oh, ow)
        return tape.gradient(value, x)

    x = tf.constant(IMAGE[0])
    compiled = tf.function(grad)
    for oh, ow in [(1, 2), (4, 0)]:
        got = compiled(x, tf.constant(oh), tf.constant(ow)).numpy()
        want = np.zeros_like(IMAGE[0])
        want[oh:oh + 2, ow:ow + 3] = IMAGE[0][oh:oh + 2, ow:ow + 3]   # d(x^2/2)/dx
        np.testing.assert_allclose(got, want)
        np.testing.assert_allclose(got, grad(x, oh, ow).numpy())


def test_graph_box_outside_the_image_fails_when_the_graph_runs():
    crop = tf.function(lambda x, oh: tf.image.crop_to_bounding_box(x, oh, 0, 3, 2))
    pad = tf.function(lambda x, oh: tf.image.pad_to_bounding_box(x, oh, 0, 7, 5))
    x = tf.constant(IMAGE[0])
    assert crop(x, tf.constant(3)).shape == (3, 2, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="height"):
        crop(x, tf.constant(4))
    np.testing.assert_array_equal(pad(x, tf.constant(1)).numpy(),
                                  _np_pad(IMAGE[0], 1, 0, 7, 5))
    with pytest.raises(tf.errors.InvalidArgumentError, match="height"):
        pad(x, tf.constant(2))


def test_static_boxes_keep_their_early_value_errors():
    with pytest.raises(ValueError, match="target_height"):
        tf.image.crop_to_bounding_box(IMAGE[0], 0, 0, 0, 2)
    with pytest.raises(ValueError, match="offset"):
        tf.image.pad_to_bounding_box(IMAGE[0], -1, 0, 8, 5)


def test_shape_of_slices_with_tensor_bounds_follows_each_call():
    @tf.function
    def shapes(x, a):
        return (tf.shape(x[a:a + 2, :]), tf.shape(x[0:a]),
                tf.shape(tf.slice(x, tf.stack([a, 0]), [1, -1])), tf.shape(x[a]))

    x = tf.constant(np.zeros((8, 6), np.float32))
    for a in [1, 5, 7]:
        got = [s.numpy().tolist() for s in shapes(x, tf.constant(a))]
        assert got == [[min(2, 8 - a), 6], [a, 6], [1, 6], [6]]
    assert shapes.experimental_get_tracing_count() == 1
