"""Plain-op differences found running keras.io vision examples (round 16)."""

import numpy as np
import pytest

import dlframe as tf


def _anchors(image_height, image_width, stride=8, num_anchors=2):
    # keras.io "Object Detection with RetinaNet": AnchorBox._get_anchors gets float
    # feature sizes from tf.math.ceil and puts them in tile/reshape shape lists.
    feature_height = tf.math.ceil(image_height / stride)
    feature_width = tf.math.ceil(image_width / stride)
    rx = tf.range(feature_width, dtype=tf.float32) + 0.5
    ry = tf.range(feature_height, dtype=tf.float32) + 0.5
    centers = tf.stack(tf.meshgrid(rx, ry), axis=-1) * stride
    centers = tf.tile(tf.expand_dims(centers, axis=-2), [1, 1, num_anchors, 1])
    dims = tf.tile(tf.ones((1, 1, num_anchors, 2)), [feature_height, feature_width, 1, 1])
    anchors = tf.concat([centers, dims], axis=-1)
    return tf.reshape(anchors, [feature_height * feature_width * num_anchors, 4])


def test_float_tensor_entries_of_shape_lists_are_truncated_like_tf():
    eager = _anchors(tf.constant(24), tf.constant(16))
    graph = tf.function(_anchors)(tf.constant(24), tf.constant(16))
    ys, xs = np.meshgrid(np.arange(3) + 0.5, np.arange(2) + 0.5, indexing="ij")
    ref = np.stack([xs, ys], -1)[:, :, None, :].repeat(2, axis=2).reshape(-1, 2) * 8
    for out in (eager, graph):
        assert tuple(out.shape) == (12, 4)
        np.testing.assert_allclose(out.numpy()[:, :2], ref)
        np.testing.assert_allclose(out.numpy()[:, 2:], 1.0)
    x = tf.ones((1, 2))
    # TF 2.21: float tensor entries truncate (2.5 -> 2), as do NumPy float arrays
    assert tuple(tf.tile(x, [tf.constant(2.5), 1]).shape) == (2, 2)
    assert tuple(tf.tile(x, np.array([3.0, 1.0])).shape) == (3, 2)
    assert tuple(tf.zeros([tf.constant(4.0), 2]).shape) == (4, 2)
    assert tuple(tf.fill([tf.constant(3.0)], 1.0).shape) == (3,)
    assert tuple(tf.broadcast_to(x, [tf.constant(3.0), 2]).shape) == (3, 2)
    assert tuple(tf.reshape(tf.ones((2, 1)), np.array([1.0, 2.0])).shape) == (1, 2)


def test_python_floats_and_float_tensors_as_shapes_are_still_refused():
    x = tf.ones((1, 2))
    for make in (lambda: tf.tile(x, [2.0, 1]), lambda: tf.tile(x, tf.constant([2.0, 1.0])),
                 lambda: tf.reshape(x, [2.0, 1]), lambda: tf.zeros([np.float32(2.0)])):
        with pytest.raises((TypeError, tf.errors.InvalidArgumentError)):
            make()


def _hue_shift_ref(rgb, delta):
    import colorsys
    flat = rgb.reshape(-1, 3)
    out = []
    for r, g, b in flat:
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        out.append(colorsys.hsv_to_rgb((h + delta) % 1.0, s, v))
    return np.asarray(out, dtype=np.float32).reshape(rgb.shape)


def test_random_hue_and_adjust_hue_with_a_tensor_delta_trace():
    # keras.io "NNCLR": RandomColorJitter calls tf.image.random_hue inside train_step
    images = np.random.default_rng(0).uniform(0, 1, (2, 4, 4, 3)).astype("float32")

    @tf.function
    def shift(x, delta):
        return tf.image.adjust_hue(x, delta)

    for delta in (0.2, -0.35):
        ref = _hue_shift_ref(images, delta)
        np.testing.assert_allclose(shift(images, tf.constant(delta)).numpy(), ref,
                                   atol=1e-5)
        np.testing.assert_allclose(tf.image.adjust_hue(images, delta).numpy(), ref,
                                   atol=1e-5)

    @tf.function
    def jitter(x):
        return tf.image.random_hue(x, 0.1, seed=3)

    out = jitter(tf.constant(images)).numpy()
    assert out.shape == images.shape
    # a hue rotation keeps each pixel's value (max) and its min
    np.testing.assert_allclose(out.max(-1), images.max(-1), atol=1e-5)
    np.testing.assert_allclose(out.min(-1), images.min(-1), atol=1e-5)
    with pytest.raises(ValueError, match="delta"):
        tf.image.adjust_hue(images, 1.5)


def test_jpeg_quality_augmentations_run_inside_a_traced_function():
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    eager = tf.image.adjust_jpeg_quality(images, 60).numpy()
    graph = tf.function(lambda x, q: tf.image.adjust_jpeg_quality(x, q))(
        tf.constant(images), tf.constant(60)).numpy()
    np.testing.assert_array_equal(graph, eager)
    assert not np.array_equal(eager, images)   # the codec did change the pixels
    assert np.abs(eager - images).mean() < 0.2
    single = tf.function(lambda x: tf.image.random_jpeg_quality(x, 50, 90))(
        tf.constant(images[0]))
    assert tuple(single.shape) == (16, 16, 3) and single.dtype == tf.float32
    uint8 = (images * 255).astype("uint8")
    out = tf.function(lambda x: tf.image.adjust_jpeg_quality(x, 90))(tf.constant(uint8))
    assert out.dtype == tf.uint8
    np.testing.assert_array_equal(out.numpy(),
                                  tf.image.adjust_jpeg_quality(uint8, 90).numpy())
