"""tf.image.sample_distorted_bounding_box (+ stateless), the JPEG quality
augmentations and random_crop inside tf.function."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops.image_sample import sample_box
from tests.helpers import check_grad

BOX = [[[0.1, 0.2, 0.5, 0.9]]]


def _box_pixels(box, height, width):
    y0, x0, y1, x1 = box
    return y0 * height, x0 * width, y1 * height, x1 * width


def _coverage(begin, size, box, height, width):
    y0, x0, y1, x1 = _box_pixels(box, height, width)
    inter_h = max(0.0, min(begin[0] + size[0], y1) - max(begin[0], y0))
    inter_w = max(0.0, min(begin[1] + size[1], x1) - max(begin[1], x0))
    return inter_h * inter_w / ((y1 - y0) * (x1 - x0))


def test_sampled_crops_satisfy_every_constraint():
    height, width = 40, 60
    seen = set()
    for seed in range(30):
        begin, size, drawn = tf.image.stateless_sample_distorted_bounding_box(
            [height, width, 3], BOX, seed=(seed, 7), min_object_covered=0.5,
            aspect_ratio_range=(0.5, 2.0), area_range=(0.1, 0.9),
        )
        begin, size, drawn = begin.numpy(), size.numpy(), drawn.numpy()
        assert begin.dtype == np.int32 and size.dtype == np.int32
        assert begin[2] == 0 and size[2] == -1
        h, w = size[:2]
        assert 0 <= begin[0] and begin[0] + h <= height
        assert 0 <= begin[1] and begin[1] + w <= width
        assert 0.1 * height * width <= h * w <= 0.9 * height * width
        assert _coverage(begin, size, BOX[0][0], height, width) >= 0.5
        # the drawn box is the crop, normalized
        np.testing.assert_allclose(
            drawn,
            [[[begin[0] / height, begin[1] / width, (begin[0] + h) / height,
               (begin[1] + w) / width]]],
            rtol=1e-6,
        )
        seen.add((*begin.tolist(), *size.tolist()))
    assert len(seen) > 10  # the seed changes the crop


def test_stateless_is_deterministic_and_crop_slices():
    image = tf.reshape(tf.range(40 * 60 * 3, dtype=tf.float32), (40, 60, 3))
    first = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), BOX, seed=(1, 2))
    again = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), BOX, seed=(1, 2))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    begin, size, _ = first
    crop = tf.slice(image, begin, size).numpy()
    y, x = begin.numpy()[:2]
    h, w = size.numpy()[:2]
    np.testing.assert_array_equal(crop, image.numpy()[y:y + h, x:x + w])
    # int64 image sizes give int64 outputs, as in TF
    begin64, size64, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.constant([40, 60, 3], tf.int64), BOX, seed=(1, 2))
    assert begin64.dtype == tf.int64 and size64.dtype == tf.int64


def test_stateful_version_follows_the_global_seed_and_traces():
    tf.random.set_seed(5)
    a = tf.image.sample_distorted_bounding_box([40, 60, 3], BOX, seed=3)[1].numpy()
    tf.random.set_seed(5)
    b = tf.image.sample_distorted_bounding_box([40, 60, 3], BOX, seed=3)[1].numpy()
    np.testing.assert_array_equal(a, b)

    @tf.function
    def sample(image_size):
        return tf.image.sample_distorted_bounding_box(
            image_size, BOX, min_object_covered=0.3)[:2]

    crops = {tuple(np.concatenate([v.numpy() for v in sample(tf.constant([40, 60, 3]))]))
             for _ in range(8)}
    assert len(crops) > 1  # a new crop on every call of the traced function


def test_no_boxes_and_impossible_requests():
    with pytest.raises(tf.errors.InvalidArgumentError, match="No bounding boxes"):
        tf.image.sample_distorted_bounding_box([40, 60, 3], tf.zeros((1, 0, 4)))
    begin, size, _ = tf.image.sample_distorted_bounding_box(
        [40, 60, 3], tf.zeros((1, 0, 4)), use_image_if_no_bounding_boxes=True,
        area_range=(1.0, 1.0), aspect_ratio_range=(1.5, 1.5))
    assert size.numpy().tolist() == [40, 60, -1] and begin.numpy().tolist() == [0, 0, 0]
    # a coverage that no crop can reach falls back to the whole image (as TF)
    _, size, drawn = tf.image.stateless_sample_distorted_bounding_box(
        [40, 60, 3], BOX, seed=(0, 0), min_object_covered=1.5)
    assert size.numpy().tolist() == [40, 60, -1]
    np.testing.assert_allclose(drawn.numpy(), [[[0.0, 0.0, 1.0, 1.0]]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="area_range"):
        tf.image.sample_distorted_bounding_box([40, 60, 3], BOX, area_range=(0.1, 1.5))
    with pytest.raises(ValueError, match="bounding_boxes"):
        tf.image.sample_distorted_bounding_box([40, 60, 3], [0.1, 0.2, 0.5, 0.9])
    with pytest.raises(TypeError, match="image_size"):
        tf.image.sample_distorted_bounding_box([40.0, 60.0, 3.0], BOX)


def test_host_search_prefers_the_requested_box():
    # a tiny box in a corner: every accepted crop must contain most of it
    corner = np.array([[0.0, 0.0, 0.1, 0.1]])
    for k in range(20):
        y, x, h, w = sample_box([k, 1], 100, 100, corner, 0.9, (0.75, 1.33),
                                (0.05, 1.0), 100)
        assert _coverage((y, x), (h, w), corner[0], 100, 100) >= 0.9 or (
            (y, x, h, w) == (0, 0, 100, 100))


def test_adjust_jpeg_quality():
    rng = np.random.default_rng(0)
    # a smooth image survives high quality better than low quality
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    image = np.stack([yy, xx, (yy + xx) / 2], -1).astype("float32")
    low = tf.image.adjust_jpeg_quality(image, 5).numpy()
    high = tf.image.adjust_jpeg_quality(image, 95).numpy()
    assert low.dtype == np.float32 and low.shape == image.shape
    assert np.abs(high - image).mean() < np.abs(low - image).mean()
    assert np.abs(high - image).mean() < 0.02
    pixels = rng.integers(0, 255, (16, 16, 3)).astype("uint8")
    out = tf.image.adjust_jpeg_quality(pixels, 90)
    assert out.dtype == tf.uint8 and out.shape == (16, 16, 3)
    batch = tf.image.adjust_jpeg_quality(np.stack([image, image]), 95).numpy()
    np.testing.assert_array_equal(batch[0], high)
    with pytest.raises(tf.errors.InvalidArgumentError, match="jpeg_quality"):
        tf.image.adjust_jpeg_quality(image, 150)


def test_random_jpeg_quality():
    image = np.random.default_rng(1).uniform(0, 1, (16, 16, 3)).astype("float32")
    a = tf.image.stateless_random_jpeg_quality(image, 50, 90, seed=(1, 2)).numpy()
    b = tf.image.stateless_random_jpeg_quality(image, 50, 90, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(a, b)
    out = tf.image.random_jpeg_quality(image, 75, 95)
    assert out.shape == (16, 16, 3) and out.dtype == tf.float32
    with pytest.raises(ValueError, match="less than"):
        tf.image.random_jpeg_quality(image, 50, 40)


def test_random_crop_inside_tf_function_draws_new_windows():
    image = tf.reshape(tf.range(36 * 36, dtype=tf.float32), (36, 36, 1))

    @tf.function
    def crop(x):
        return tf.image.random_crop(x, size=[32, 32, 1])

    starts = set()
    for _ in range(10):
        out = crop(image).numpy()
        y, x = divmod(int(out[0, 0, 0]), 36)
        # a contiguous window of the image
        np.testing.assert_array_equal(out, image.numpy()[y:y + 32, x:x + 32])
        starts.add((y, x))
    assert len(starts) > 1
    stacked = tf.stack([image, image * 2])
    a, b = tf.unstack(tf.image.random_crop(stacked, size=[2, 32, 32, 1]))
    np.testing.assert_array_equal(b.numpy(), 2 * a.numpy())  # one window for both
    seeded = [tf.image.stateless_random_crop(image, [8, 8, 1], seed=(3, 4)).numpy()
              for _ in range(2)]
    np.testing.assert_array_equal(*seeded)


def test_random_crop_gradient():
    x = np.random.default_rng(2).normal(size=(5, 6)).astype("float64")
    check_grad(lambda v: tf.image.stateless_random_crop(v, [3, 4], seed=(1, 1)), [x])
