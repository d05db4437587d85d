"""Round-20 probes of directory loaders and image pipelines: crops and pads to an
aspect ratio of images of varying sizes inside ``Dataset.map`` (each image its own
box, not the first traced image's), ``image_dataset_from_directory``'s
``crop_to_aspect_ratio`` / ``pad_to_aspect_ratio`` / TF's other interpolations
(expected values from eager runs of the same ops, and from TF 2.21 where noted)."""

import os

import numpy as np
import pytest

import dlframe as tf

_SIZES = [(13, 9), (10, 10), (13, 21), (7, 20)]


def _random_images(sizes=_SIZES, channels=3, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 255, size=(h, w, channels)).astype(np.uint8)
            for h, w in sizes]


def _generator_dataset(images):
    spec = tf.TensorSpec([None, None, images[0].shape[-1]], tf.float32)
    return tf.data.Dataset.from_generator(
        lambda: (im.astype(np.float32) for im in images), output_signature=spec)


@pytest.fixture
def image_dir(tmp_path):
    """Two classes of PNG images of the sizes ``_SIZES``; returns (root, images in
    file order)."""
    images = _random_images()
    ordered = []
    for label in ("a", "b"):
        os.makedirs(tmp_path / label)
        for k, image in enumerate(images):
            tf.io.write_file(str(tmp_path / label / f"i{k}.png"), tf.io.encode_png(image))
            ordered.append(image)
    return str(tmp_path), ordered


def _loaded(root, **kwargs):
    ds = tf.keras.utils.image_dataset_from_directory(
        root, image_size=(8, 6), batch_size=None, shuffle=False, verbose=False,
        **kwargs)
    return [x.numpy() for x, _ in ds]


# --------------------------------------------------- Resizing of varying-size images
@pytest.mark.parametrize("option", ["crop_to_aspect_ratio", "pad_to_aspect_ratio"])
def test_resizing_layer_in_map_uses_each_images_own_box(option):
    images = _random_images(channels=1)
    layer = tf.keras.layers.Resizing(8, 6, **{option: True})
    mapped = _generator_dataset(images).map(lambda x: layer(x))
    assert mapped.element_spec == tf.TensorSpec([8, 6, 1], tf.float32)
    for got, image in zip(mapped, images):
        want = layer(image.astype(np.float32)).numpy()   # eager: Python sizes
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-3)


def test_resizing_pad_to_aspect_ratio_of_ones_sums():
    ones = [np.ones((h, w, 1), np.float32) for h, w in _SIZES]
    layer = tf.keras.layers.Resizing(8, 6, pad_to_aspect_ratio=True)
    sums = [round(float(tf.reduce_sum(x)), 3)
            for x in _generator_dataset(ones).map(lambda x: layer(x))]
    # TF 2.21: [48.0, 39.0, 24.0, 12.0] (the 10 x 10 image pads 1 column a side)
    assert sums == [48.0, 39.0, 24.0, 12.0]


def test_resize_with_pad_in_map_matches_eager():
    images = _random_images()
    mapped = _generator_dataset(images).map(
        lambda x: tf.image.resize_with_pad(x, 8, 6))
    assert mapped.element_spec == tf.TensorSpec([8, 6, 3], tf.float32)
    for got, image in zip(mapped, images):
        want = tf.image.resize_with_pad(image.astype(np.float32), 8, 6).numpy()
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-3)
    # a 13 x 21 image fits as 3 x 6, padded 2 rows above and 3 below (TF 2.21)
    third = next(iter(mapped.skip(2))).numpy()
    assert np.all(third[:2] == 0) and np.all(third[5:] == 0)
    assert np.all(third[2:5].sum(axis=(1, 2)) > 0)


# ---------------------------------------------------------- image_dataset_from_directory
def test_image_dataset_crop_to_aspect_ratio_of_varying_sizes(image_dir):
    root, images = image_dir
    loaded = _loaded(root, crop_to_aspect_ratio=True)
    assert len(loaded) == 8
    for got, image in zip(loaded, images):
        want = tf.keras.layers.Resizing(8, 6, crop_to_aspect_ratio=True)(
            image.astype(np.float32)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
    # the 13 x 21 image keeps its centre 13 x 9 columns 6..14 (TF 2.21's box)
    box = images[2][:, 6:15].astype(np.float32)
    np.testing.assert_allclose(loaded[2], tf.image.resize(box, (8, 6)).numpy(),
                               rtol=1e-5, atol=1e-3)


def test_image_dataset_pad_to_aspect_ratio_is_resize_with_pad(image_dir):
    root, images = image_dir
    loaded = _loaded(root, pad_to_aspect_ratio=True)
    for got, image in zip(loaded, images):
        want = tf.image.resize_with_pad(image, 8, 6).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
    sums = [round(float(x.astype(np.float64).sum()), 1) for x in loaded[:4]]
    assert sums[2] < 0.5 * sums[0]   # the wide image is mostly padding


@pytest.mark.parametrize("method", ["lanczos3", "lanczos5", "gaussian",
                                    "mitchellcubic"])
def test_image_dataset_accepts_tfs_other_interpolations(image_dir, method):
    root, images = image_dir
    loaded = _loaded(root, interpolation=method)
    want = tf.image.resize(images[0], (8, 6), method=method).numpy()
    np.testing.assert_allclose(loaded[0], want, rtol=1e-5, atol=1e-3)
    with pytest.raises(ValueError, match="interpolation"):
        _loaded(root, interpolation="cubic-ish")


def test_resize_preserve_aspect_ratio_of_decoded_images_in_map(image_dir):
    root, images = image_dir
    files = tf.data.Dataset.list_files(os.path.join(root, "a", "*.png"), shuffle=False)
    mapped = files.map(lambda p: tf.image.resize(
        tf.io.decode_png(tf.io.read_file(p), channels=3), [16, 16],
        preserve_aspect_ratio=True))
    assert mapped.element_spec.shape.as_list() == [None, None, 3]   # TF 2.21
    got = [x.numpy() for x in mapped]
    # TF 2.21: (16, 11), (16, 16), (10, 16), (6, 16): each image's own fit
    assert [x.shape[:2] for x in got] == [(16, 11), (16, 16), (10, 16), (6, 16)]
    for out, image in zip(got, images):
        want = tf.image.resize(image, [16, 16], preserve_aspect_ratio=True).numpy()
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-3)
    square = _generator_dataset(images).map(
        lambda x: tf.image.resize(x, [16, 16], preserve_aspect_ratio=True))
    assert square.element_spec.shape.as_list() == [None, None, 3]
