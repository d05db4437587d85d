"""A TF2 image-classification program: PNGs written with tf.io, read back with
image_dataset_from_directory (seeded validation split), a Sequential model with
augmentation layers and Rescaling, and the tf.image basics. Expected values (file
orders, pixels, specs) were recorded from TensorFlow 2.21 on the same program."""

import os

import numpy as np
import pytest

import dlframe as tf

TF_TRAIN_FILES = ["cats/4.png", "cats/0.png", "dogs/2.png", "dogs/0.png", "dogs/3.png",
                  "cats/3.png"]
TF_VAL_FILES = ["cats/1.png", "dogs/1.png", "dogs/4.png", "cats/2.png"]


@pytest.fixture
def image_dir(tmp_path):
    rng = np.random.RandomState(0)
    for cls in ["cats", "dogs"]:
        os.makedirs(tmp_path / cls)
        for i in range(5):
            img = rng.randint(0, 256, size=(12, 10, 3)).astype("uint8")
            if cls == "dogs":
                img[:] = 255 - img // 4
            tf.io.write_file(str(tmp_path / cls / f"{i}.png"), tf.io.encode_png(img))
    (tmp_path / "notes.txt").write_text("not an image")
    return str(tmp_path)


def _rel(paths, root):
    return [os.path.relpath(p, root).replace(os.sep, "/") for p in paths]


def test_read_and_decode(image_dir):
    raw = tf.io.read_file(os.path.join(image_dir, "cats", "0.png"))
    assert raw.dtype == tf.string and raw.shape == []
    image = tf.io.decode_png(raw)
    assert image.shape == [12, 10, 3] and image.dtype == tf.uint8
    first = np.random.RandomState(0).randint(0, 256, size=(12, 10, 3)).astype("uint8")
    np.testing.assert_array_equal(image.numpy(), first)
    assert tf.image.decode_image(raw, channels=1).shape == [12, 10, 1]
    assert tf.io.decode_image(raw, expand_animations=False).shape == [12, 10, 3]
    with pytest.raises(tf.errors.NotFoundError):
        tf.io.read_file(os.path.join(image_dir, "missing.png"))


def test_seeded_split_selects_tf_files(image_dir, capsys):
    kwargs = {"validation_split": 0.4, "seed": 123, "image_size": (8, 8), "batch_size": 4}
    train_ds = tf.keras.utils.image_dataset_from_directory(image_dir, subset="training",
                                                           **kwargs)
    val_ds = tf.keras.utils.image_dataset_from_directory(image_dir, subset="validation",
                                                         **kwargs)
    out = capsys.readouterr().out
    assert "Found 10 files belonging to 2 classes." in out
    assert "Using 6 files for training." in out and "Using 4 files for validation." in out
    assert train_ds.class_names == ["cats", "dogs"]
    assert _rel(train_ds.file_paths, image_dir) == TF_TRAIN_FILES
    assert _rel(val_ds.file_paths, image_dir) == TF_VAL_FILES
    x_spec, y_spec = train_ds.element_spec
    assert x_spec == tf.TensorSpec([None, 8, 8, 3], tf.float32)
    assert y_spec == tf.TensorSpec([None], tf.int32)
    assert (int(train_ds.cardinality()), int(val_ds.cardinality())) == (2, 1)
    sizes, labels_ok = [], True
    for x, y in train_ds:
        sizes.append(int(x.shape[0]))
        # dogs are bright images: labels travel with their images through shuffling
        labels_ok &= bool(np.all((x.numpy().mean(axis=(1, 2, 3)) > 180) == (y.numpy() == 1)))
    assert sizes == [4, 2] and labels_ok


def test_label_modes_color_modes_and_both(image_dir):
    ds = tf.keras.utils.image_dataset_from_directory(
        image_dir, label_mode="categorical", image_size=(6, 5), batch_size=None,
        shuffle=False, color_mode="grayscale", verbose=False)
    assert ds.element_spec == (tf.TensorSpec([6, 5, 1], tf.float32),
                               tf.TensorSpec([2], tf.float32))
    x0, y0 = next(iter(ds))
    assert y0.numpy().tolist() == [1.0, 0.0]
    assert 0.0 <= float(tf.reduce_min(x0)) and float(tf.reduce_max(x0)) <= 255.0

    near = tf.keras.utils.image_dataset_from_directory(
        image_dir, label_mode="binary", image_size=(5, 5), batch_size=None, shuffle=False,
        interpolation="nearest", verbose=False)
    assert near.element_spec == (tf.TensorSpec([5, 5, 3], tf.uint8),
                                 tf.TensorSpec([1], tf.float32))
    x, y = next(iter(near))
    assert x.numpy()[:2, :, 1].tolist() == [[243, 82, 147, 9, 244],
                                             [91, 121, 196, 100, 227]]
    assert y.numpy().tolist() == [0.0]

    train, val = tf.keras.utils.image_dataset_from_directory(
        image_dir, validation_split=0.2, subset="both", seed=1, image_size=(8, 8),
        batch_size=2, verbose=False)
    assert _rel(val.file_paths, image_dir) == ["dogs/3.png", "dogs/0.png"]
    assert (len(train), len(val)) == (4, 1)

    images = tf.keras.utils.image_dataset_from_directory(
        image_dir, labels=None, image_size=(4, 4), shuffle=False, verbose=False)
    assert images.element_spec == tf.TensorSpec([None, 4, 4, 3], tf.float32)
    assert _rel(images.file_paths, image_dir) == [f"{c}/{i}.png" for c in ("cats", "dogs")
                                                  for i in range(5)]


def test_aspect_ratio_options_match_tf_pixels(image_dir):
    crop = tf.keras.utils.image_dataset_from_directory(
        image_dir, shuffle=False, image_size=(6, 4), batch_size=None,
        crop_to_aspect_ratio=True, verbose=False)
    x, _ = next(iter(crop))
    np.testing.assert_allclose(x.numpy()[:2, :, 0], [[212.25, 163.75, 111.25, 111.75],
                                                     [93.0, 106.5, 63.75, 133.0]])
    pad = tf.keras.utils.image_dataset_from_directory(
        image_dir, shuffle=False, image_size=(6, 8), batch_size=None,
        pad_to_aspect_ratio=True, verbose=False)
    x, _ = next(iter(pad))
    np.testing.assert_allclose(x.numpy()[0, :, 0],
                               [0.0, 145.25, 213.0, 124.25, 108.0, 110.5, 0.0, 0.0])


def test_directory_argument_errors(image_dir):
    with pytest.raises(ValueError, match="If `subset` is set, `validation_split` must be"):
        tf.keras.utils.image_dataset_from_directory(image_dir, subset="training")
    with pytest.raises(ValueError, match="must provide a `seed`"):
        tf.keras.utils.image_dataset_from_directory(image_dir, validation_split=0.2,
                                                    subset="training")
    with pytest.raises(ValueError, match="`label_mode` argument must be one of"):
        tf.keras.utils.image_dataset_from_directory(image_dir, label_mode="sparse")
    with pytest.raises(ValueError, match="`color_mode` must be one of"):
        tf.keras.utils.image_dataset_from_directory(image_dir, color_mode="bgr")
    with pytest.raises(ValueError, match="did not match the names of the subdirectories"):
        tf.keras.utils.image_dataset_from_directory(image_dir, class_names=["cats", "x"])
    with pytest.raises(FileNotFoundError):
        tf.keras.utils.image_dataset_from_directory(os.path.join(image_dir, "nope"))


def test_augmentation_model_trains_on_the_directory_dataset(image_dir):
    train_ds = tf.keras.utils.image_dataset_from_directory(
        image_dir, validation_split=0.4, subset="training", seed=123, image_size=(8, 8),
        batch_size=4, verbose=False)
    val_ds = tf.keras.utils.image_dataset_from_directory(
        image_dir, validation_split=0.4, subset="validation", seed=123, image_size=(8, 8),
        batch_size=4, verbose=False)
    augment = tf.keras.Sequential([tf.keras.layers.RandomFlip("horizontal"),
                                   tf.keras.layers.RandomRotation(0.1),
                                   tf.keras.layers.RandomZoom(0.1)])
    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(8, 8, 3)), augment, tf.keras.layers.Rescaling(1. / 255),
        tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(), tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(2)])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(train_ds.cache().shuffle(10).prefetch(tf.data.AUTOTUNE),
                        validation_data=val_ds, epochs=3, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.trainable_weights))
    assert model.predict(val_ds, verbose=0).shape == (4, 2)

    x = tf.random.uniform((2, 8, 8, 3))
    assert bool(tf.reduce_all(augment(x, training=False) == x))
    assert augment(x, training=True).shape == [2, 8, 8, 3]
    mapped = train_ds.map(lambda images, labels: (augment(images, training=True), labels))
    assert mapped.element_spec[0] == tf.TensorSpec([None, 8, 8, 3], tf.float32)


def test_tf_image_basics_match_tf():
    img = tf.cast(tf.reshape(tf.range(2 * 4 * 4 * 3), (2, 4, 4, 3)), tf.uint8)
    small = tf.image.resize(img, (2, 2))
    assert small.dtype == tf.float32
    np.testing.assert_allclose(small.numpy()[0, :, :, 0], [[7.5, 13.5], [31.5, 37.5]])
    assert tf.image.resize(img, (2, 2), method="nearest").dtype == tf.uint8
    assert tf.image.flip_left_right(img).numpy()[0, 0, :, 0].tolist() == [9, 6, 3, 0]
    np.testing.assert_allclose(tf.image.convert_image_dtype(img, tf.float32).numpy()[0, 0, 1],
                               [3 / 255, 4 / 255, 5 / 255], rtol=1e-6)
    back = tf.image.convert_image_dtype(tf.constant([[[0.5, 1.0, 0.0]]]), tf.uint8)
    assert back.numpy().tolist() == [[[127, 255, 0]]]
    std = tf.image.per_image_standardization(img)
    assert std.dtype == tf.float32
    np.testing.assert_allclose(std.numpy()[0, 0, 0], [-1.6963, -1.6242, -1.552], atol=1e-4)
    assert tf.image.random_crop(img, size=(2, 3, 3, 3), seed=2).shape == [2, 3, 3, 3]
    assert tf.image.resize_with_crop_or_pad(img, 6, 2).shape == [2, 6, 2, 3]
    assert tf.image.central_crop(img[0], 0.5).shape == [2, 2, 3]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need value.shape >= size"):
        tf.image.random_crop(img, size=(3, 3, 3, 3))


def test_colour_ops_match_tf():
    rgb = tf.constant([[[0.2, 0.4, 0.6]]])
    np.testing.assert_allclose(tf.image.rgb_to_hsv(rgb).numpy(),
                               [[[0.583333, 0.666667, 0.6]]], rtol=1e-5)
    np.testing.assert_allclose(tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(rgb)).numpy(),
                               rgb.numpy(), rtol=1e-5)
    np.testing.assert_allclose(tf.image.adjust_saturation(rgb, 2.0).numpy(),
                               [[[0.0, 0.3, 0.6]]], atol=1e-6)
    np.testing.assert_allclose(tf.image.adjust_hue(rgb, 0.1).numpy(),
                               [[[0.24, 0.2, 0.6]]], atol=1e-6)
    np.testing.assert_allclose(tf.image.adjust_gamma(rgb, 2.0, 0.5).numpy(),
                               [[[0.02, 0.08, 0.18]]], rtol=1e-5)
    # TF's published inverse matrix is rounded: the round trip is exact to ~1e-5
    np.testing.assert_allclose(tf.image.yiq_to_rgb(tf.image.rgb_to_yiq(rgb)).numpy(),
                               rgb.numpy(), atol=5e-5)
    assert float(tf.image.psnr(tf.ones((4, 4, 1)), tf.ones((4, 4, 1)) * 0.5, 1.0)) == \
        pytest.approx(6.0206, abs=1e-4)
    grad = tf.reshape(tf.range(6, dtype=tf.float32), (1, 2, 3, 1))
    assert float(tf.image.total_variation(grad)[0]) == pytest.approx(3 * 3 + 2 * 2)
    dy, dx = tf.image.image_gradients(grad)
    assert dy.numpy()[0, :, :, 0].tolist() == [[3, 3, 3], [0, 0, 0]]
    assert dx.numpy()[0, :, :, 0].tolist() == [[1, 1, 0], [1, 1, 0]]
    padded = tf.image.resize_with_pad(tf.ones((5, 4, 3)), 7, 3)
    assert padded.numpy()[:, 0, 0].tolist() == [0, 1, 1, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="max_delta must be <= 0.5"):
        tf.image.random_hue(rgb, 0.7)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(rgb, 0.5, 0.2)


def test_stateless_random_ops_are_deterministic():
    img = tf.random.uniform((3, 5, 4, 3), seed=1)
    for op, args in ((tf.image.stateless_random_flip_left_right, ()),
                     (tf.image.stateless_random_brightness, (0.3,)),
                     (tf.image.stateless_random_contrast, (0.5, 1.5)),
                     (tf.image.stateless_random_saturation, (0.5, 1.5)),
                     (tf.image.stateless_random_hue, (0.2,)),
                     (tf.image.stateless_random_crop, ((3, 3, 3, 3),))):
        a, b = op(img, *args, seed=(4, 2)), op(img, *args, seed=(4, 2))
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    flipped = tf.image.stateless_random_flip_left_right(img, seed=(1, 2)).numpy()
    for i in range(3):
        assert (np.array_equal(flipped[i], img.numpy()[i])
                or np.array_equal(flipped[i], img.numpy()[i, :, ::-1]))
