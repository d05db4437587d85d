"""keras.preprocessing.image: NumPy augmentation functions, ImageDataGenerator and
its iterators. Values marked "TF 2.21" were produced by TensorFlow 2.21's Keras."""

import os

import numpy as np
import pytest

import dlframe as tf

I = tf.keras.preprocessing.image
CL = {"row_axis": 0, "col_axis": 1, "channel_axis": 2}


def test_affine_transform_against_numpy_references():
    img = np.arange(16, dtype="float32").reshape(4, 4, 1)
    np.testing.assert_allclose(I.apply_affine_transform(img, theta=90, **CL),
                               np.rot90(img, 1, axes=(0, 1)), atol=1e-5)
    shifted = I.apply_affine_transform(img, tx=1, fill_mode="constant", cval=-1, **CL)
    expected = np.full_like(img, -1)
    expected[:, :3] = img[:, 1:]   # TF 2.21: `tx` moves along the columns axis here
    np.testing.assert_array_equal(shifted, expected)
    assert I.apply_affine_transform(img, **CL) is img   # identity: untouched
    channels_first = np.moveaxis(img, 2, 0)
    np.testing.assert_allclose(I.apply_affine_transform(channels_first, theta=90),
                               np.moveaxis(np.rot90(img, 1, axes=(0, 1)), 2, 0),
                               atol=1e-5)
    x = np.arange(9, dtype="float32").reshape(3, 3, 1)
    np.testing.assert_allclose(   # TF 2.21
        I.apply_affine_transform(x, theta=30, **CL)[..., 0],
        [[0.63397, 1.90192, 3.90192], [1.63397, 4.0, 6.36603],
         [4.09808, 6.09808, 7.36603]],
        atol=1e-4)
    with pytest.raises(ValueError, match="fill_mode"):
        I.apply_affine_transform(img, theta=1, fill_mode="mirror", **CL)
    with pytest.raises(ValueError, match="multi-channel 2D images"):
        I.apply_affine_transform(img[..., 0], theta=1)


def test_random_transforms_follow_numpy_seed_and_ranges():
    img = np.random.RandomState(0).rand(5, 7, 3).astype("float32")
    np.random.seed(3)
    a = I.random_rotation(img, 40, **CL)
    np.random.seed(3)
    b = I.apply_affine_transform(img, theta=np.random.uniform(-40, 40), **CL)
    np.testing.assert_array_equal(a, b)
    np.random.seed(4)
    zoomed = I.random_zoom(img, (1, 1), **CL)
    np.testing.assert_array_equal(zoomed, img)
    with pytest.raises(ValueError, match="zoom_range"):
        I.random_zoom(img, 0.5, **CL)
    assert I.random_shift(img, 0.2, 0.3, **CL).shape == img.shape
    assert I.random_shear(img, 20, **CL).shape == img.shape
    shifted = I.apply_channel_shift(img * 255, 30, channel_axis=2)
    np.testing.assert_allclose(shifted, np.clip(img * 255 + 30, (img * 255).min(),
                                                (img * 255).max()), rtol=1e-6)
    assert np.abs(I.random_channel_shift(img, 0.1, channel_axis=2) - img).max() <= 0.1
    pixels = np.array([[[200.0, 100.0, 40.0], [10.0, 0.0, 250.0]]])
    dark = I.apply_brightness_shift(pixels, 0.5, scale=False)
    np.testing.assert_allclose(dark, pixels / 2, atol=1.0)   # Pillow's enhancer
    with pytest.raises(ValueError, match="brightness_range"):
        I.random_brightness(img, 0.5)


def test_flow_batches_subsets_and_seeded_augmentation():
    x = np.random.RandomState(0).rand(10, 6, 8, 3).astype("float32") * 255
    y = np.arange(10) % 2
    gen = I.ImageDataGenerator(rotation_range=20, width_shift_range=0.1,
                               zoom_range=0.2, horizontal_flip=True, rescale=1 / 255.0)
    it = gen.flow(x, y, batch_size=4, seed=7)
    assert isinstance(it, I.Iterator) and len(it) == 3
    first = it[0]
    again = gen.flow(x, y, batch_size=4, seed=7)[0]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert first[0].shape == (4, 6, 8, 3) and first[0].max() <= 1.0 + 1e-6
    plain = I.ImageDataGenerator(rescale=0.5).flow(x, y, batch_size=6, shuffle=False)
    bx, by = next(plain)
    np.testing.assert_allclose(bx, x[:6] * 0.5, rtol=1e-6)
    np.testing.assert_array_equal(by, y[:6])
    assert next(plain)[0].shape[0] == 4   # wraps: the remaining 4 samples
    split = I.ImageDataGenerator(validation_split=0.3)
    val = split.flow(x, y, subset="validation", shuffle=False)[0]
    np.testing.assert_array_equal(val[1], y[:3])
    train = split.flow(x, y, subset="training", shuffle=False)[0]
    np.testing.assert_array_equal(train[1], y[3:])
    with pytest.raises(ValueError, match="different number of classes"):
        split.flow(x, np.sort(y), subset="validation")
    with pytest.raises(ValueError, match="validation_split"):
        I.ImageDataGenerator(validation_split=1.5)
    weighted = I.ImageDataGenerator().flow(x, y, sample_weight=np.ones(10),
                                           shuffle=False, batch_size=5)[1]
    assert len(weighted) == 3


def test_featurewise_statistics_and_zca():
    x = np.random.RandomState(1).rand(300, 2, 2, 3)
    gen = I.ImageDataGenerator(featurewise_center=True,
                               featurewise_std_normalization=True)
    gen.fit(x)
    np.testing.assert_allclose(gen.mean[0, 0], x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(gen.std[0, 0], x.std(axis=(0, 1, 2)), rtol=1e-4)
    out = gen.standardize(x.astype("float32").copy())
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-3)
    with pytest.warns(UserWarning, match="overrides setting of `featurewise_center`"):
        zca = I.ImageDataGenerator(zca_whitening=True)
    zca.fit(x)
    # TF 2.21 gives these entries of the whitening matrix for this data
    np.testing.assert_allclose(zca.zca_whitening_matrix[:2, :4],
                               [[3.6871, -0.0367, -0.1217, 0.0405],
                                [-0.0367, 3.5643, -0.0214, -0.0095]], atol=1e-4)
    white = zca.standardize(x.astype("float32").copy()).reshape(300, -1)
    # whitened: the second moment (of the per-channel centred data) is the identity
    np.testing.assert_allclose(white.T @ white / 300, np.eye(12), atol=1e-3)


def test_flow_from_directory_and_training(tmp_path):
    from PIL import Image
    rng = np.random.RandomState(0)
    for label, colour in (("blue", (0, 0, 230)), ("red", (230, 0, 0))):
        os.makedirs(tmp_path / label)
        for k in range(6):
            noise = rng.randint(0, 25, size=(9, 7, 3))
            pixels = (np.array(colour) + noise).clip(0, 255).astype("uint8")
            Image.fromarray(pixels).save(tmp_path / label / f"{k}.png")
    gen = I.ImageDataGenerator(rescale=1 / 255.0, validation_split=0.5)
    train = gen.flow_from_directory(tmp_path, target_size=(4, 5), batch_size=3,
                                    subset="training", shuffle=False)
    assert train.class_indices == {"blue": 0, "red": 1} and train.samples == 6
    assert train.filenames[0] == os.path.join("blue", "3.png")
    bx, by = train[0]
    assert bx.shape == (3, 4, 5, 3) and by.dtype == np.float32
    np.testing.assert_array_equal(by, [[1, 0]] * 3)
    assert bx[..., 2].mean() > 0.8 and bx[..., 0].mean() < 0.2
    sparse = I.ImageDataGenerator().flow_from_directory(
        tmp_path, target_size=(4, 5), batch_size=4, class_mode="sparse",
        color_mode="grayscale", shuffle=False)
    gx, gy = sparse[2]
    assert gx.shape == (4, 4, 5, 1)
    np.testing.assert_array_equal(gy, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="class_mode"):
        I.ImageDataGenerator().flow_from_directory(tmp_path, class_mode="multi")
    model = tf.keras.Sequential([tf.keras.Input((4, 5, 3)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(2, activation="softmax")])
    model.compile(tf.keras.optimizers.Adam(0.05), "categorical_crossentropy",
                  metrics=["accuracy"])
    full = I.ImageDataGenerator(rescale=1 / 255.0, horizontal_flip=True)
    model.fit(full.flow_from_directory(tmp_path, target_size=(4, 5), batch_size=4),
              epochs=5, verbose=0)
    val = gen.flow_from_directory(tmp_path, target_size=(4, 5), subset="validation")
    assert model.evaluate(val, verbose=0)[1] == 1.0
