"""Round-19 probes of keras.io vision examples (Grad-CAM, MixUp / CutMix, Siamese,
ESPCN, Zero-DCE, Involution, 3-D CNN): the differences found against TF 2.21, as
regressions, plus the example paths that already agreed."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers

IMG_SIZE = 16


# -- CutMix: a pad to a fixed size with tensor offsets keeps its static shape -------
def _cutmix_box():
    """A random box (offsets and sizes as int32 tensors), as the CutMix example's."""
    cut = tf.random.uniform((), 2, 8, dtype=tf.int32)
    oy = tf.random.uniform((), 0, IMG_SIZE - 8, dtype=tf.int32)
    ox = tf.random.uniform((), 0, IMG_SIZE - 8, dtype=tf.int32)
    return oy, ox, cut


def _cutmix(image1, image2):
    oy, ox, cut = _cutmix_box()
    crop2 = tf.image.crop_to_bounding_box(image2, oy, ox, cut, cut)
    patch2 = tf.image.pad_to_bounding_box(crop2, oy, ox, IMG_SIZE, IMG_SIZE)
    crop1 = tf.image.crop_to_bounding_box(image1, oy, ox, cut, cut)
    patch1 = tf.image.pad_to_bounding_box(crop1, oy, ox, IMG_SIZE, IMG_SIZE)
    return image1 - patch1 + patch2


def test_cutmix_map_keeps_static_image_shape():
    rng = np.random.default_rng(0)
    a = rng.random((6, IMG_SIZE, IMG_SIZE, 3)).astype("float32")
    b = rng.random((6, IMG_SIZE, IMG_SIZE, 3)).astype("float32")
    ds = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(a),
                              tf.data.Dataset.from_tensor_slices(b)))
    mixed = ds.map(tf.function(_cutmix)).batch(3)
    # TF 2.21: (None, 16, 16, 3); the box's tensor sizes must not make H unknown
    assert mixed.element_spec.shape.as_list() == [None, IMG_SIZE, IMG_SIZE, 3]
    got = next(iter(mixed)).numpy()
    # every pixel comes from one of the two images
    from_a, from_b = np.isclose(got, a[:3]), np.isclose(got, b[:3])
    assert np.all(from_a | from_b) and from_b.any()


def test_crop_with_tensor_offsets_and_int_sizes_has_static_shape():
    shapes = {}

    @tf.function
    def fn(x, offset):
        crop = tf.image.crop_to_bounding_box(x, offset, offset, 3, 4)
        shapes["crop"] = crop.shape.as_list()
        pad = tf.image.pad_to_bounding_box(crop, offset, offset, 9, 9)
        shapes["pad"] = pad.shape.as_list()
        return crop, pad

    x = np.arange(8 * 8 * 2, dtype="float32").reshape(8, 8, 2)
    crop, pad = fn(tf.constant(x), tf.constant(2))
    # TF 2.21: static shapes (3, 4, 2) and (9, 9, 2)
    assert shapes == {"crop": [3, 4, 2], "pad": [9, 9, 2]}
    np.testing.assert_array_equal(crop.numpy(), x[2:5, 2:6])
    want = np.zeros((9, 9, 2), "float32")
    want[2:5, 2:6] = x[2:5, 2:6]
    np.testing.assert_array_equal(pad.numpy(), want)


def test_crop_with_tensor_sizes_stays_unknown():
    shapes = {}

    @tf.function
    def fn(x, size):
        crop = tf.image.crop_to_bounding_box(x, 0, 0, size, size)
        shapes["crop"] = crop.shape.as_list()
        return crop

    x = tf.zeros([2, 6, 6, 3])
    assert fn(x, tf.constant(3)).shape == (2, 3, 3, 3)
    assert shapes["crop"][1:] == [None, None, 3]   # TF 2.21: sizes held in tensors


# -- 3-D CNN: expand_dims of a numpy_function result has unknown rank ---------------
def _plus_one(volume):
    return volume + 1


def test_expand_dims_of_numpy_function_result_has_unknown_shape():
    vols = np.zeros((4, 3, 3, 2), "float32")
    ds = tf.data.Dataset.from_tensor_slices(vols)
    for axis in (3, -1, 0):
        mapped = ds.map(lambda v, a=axis: tf.expand_dims(
            tf.numpy_function(_plus_one, [v], tf.float32), a))
        # TF 2.21: TensorSpec(shape=<unknown>) (rank unknown), whatever the axis
        assert mapped.element_spec.shape.rank is None
    first = next(iter(ds.map(lambda v: tf.expand_dims(
        tf.numpy_function(_plus_one, [v], tf.float32), 3))))
    np.testing.assert_array_equal(first.numpy(), np.ones((3, 3, 2, 1)))


def test_expand_dims_after_ensure_shape_is_known():
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 3, 3), "float32"))
    mapped = ds.map(lambda v: tf.expand_dims(tf.ensure_shape(
        tf.numpy_function(_plus_one, [v], tf.float32), [3, 3]), 2))
    assert mapped.element_spec.shape.as_list() == [3, 3, 1]


def test_3d_cnn_trains_on_numpy_function_augmented_volumes():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((8, 8, 8, 4)).astype("float32")
    y = np.array([0, 1] * 4)

    def rotate(volume):
        return np.rot90(volume, 1, axes=(0, 1)).copy()

    def prep(volume, label):
        volume = tf.numpy_function(rotate, [volume], tf.float32)
        return tf.expand_dims(volume, axis=3), label

    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(prep).batch(4)
    inputs = keras.Input((8, 8, 4, 1))
    h = layers.Conv3D(4, 3, activation="relu")(inputs)
    h = layers.MaxPool3D(2)(h)
    h = layers.GlobalAveragePooling3D()(h)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy", metrics=["acc"])
    hist = model.fit(ds, epochs=2, verbose=0)
    assert sorted(hist.history) == ["acc", "loss"]
    assert np.all(np.isfinite(hist.history["loss"]))


# -- ESPCN: depth_to_space / space_to_depth shape errors ------------------------------
@pytest.mark.parametrize("fn, x", [
    (lambda x: tf.nn.depth_to_space(x, 2), np.zeros((1, 2, 2, 3), "float32")),
    (lambda x: tf.nn.space_to_depth(x, 2), np.zeros((1, 3, 3, 3), "float32")),
    (lambda x: tf.nn.depth_to_space(x, 2), np.zeros((2, 2, 4), "float32")),
])
def test_block_rearrangement_shape_errors(fn, x):
    # TF 2.21: InvalidArgumentError from the eager kernel, ValueError when traced
    with pytest.raises(tf.errors.InvalidArgumentError, match="(divisible|4-D)"):
        fn(tf.constant(x))
    with pytest.raises(ValueError, match="(divisible|4-D)"):
        tf.function(fn)(tf.constant(x))


def test_depth_to_space_layer_upscales_and_trains():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    h = layers.Conv2D(4, 3, padding="same", kernel_initializer="orthogonal")(inputs)
    outputs = layers.Lambda(lambda v: tf.nn.depth_to_space(v, 2))(h)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((4, 6, 6, 1)).astype("float32")
    y = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.predict(x, verbose=0).shape == (4, 12, 12, 1)
    assert model.evaluate(x, y, verbose=0) < before
    # DCR order: channel c of a pixel goes to (c // 2, c % 2) of its 2x2 block
    tile = tf.nn.depth_to_space(tf.reshape(tf.range(8), (1, 1, 2, 4)), 2)
    assert tile.numpy()[0, :, :, 0].tolist() == [[0, 1, 4, 5], [2, 3, 6, 7]]


def test_psnr_and_yuv_as_espcn_uses_them():
    rng = np.random.default_rng(0)
    a = rng.random((2, 5, 5, 3)).astype("float32")
    b = np.clip(a + 0.05, 0, 1)
    mse = ((a - b) ** 2).mean(axis=(1, 2, 3))
    want = 10 * np.log10(1.0 / mse)
    np.testing.assert_allclose(tf.image.psnr(a, b, max_val=1.0).numpy(), want,
                               rtol=1e-5)
    yuv = tf.image.rgb_to_yuv(a).numpy()
    np.testing.assert_allclose(yuv[..., 0], a @ np.array([0.299, 0.587, 0.114]),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tf.image.yuv_to_rgb(yuv).numpy(), a, atol=1e-5)


# -- Grad-CAM / visualising filters: gradients w.r.t. an inner layer's output -------
def _small_cnn():
    inputs = keras.Input((12, 12, 3))
    h = layers.Conv2D(4, 3, activation="relu", name="last_conv")(inputs)
    h = layers.GlobalAveragePooling2D()(h)
    return keras.Model(inputs, layers.Dense(3, name="predictions")(h))


def test_grad_cam_gradients_match_finite_differences():
    keras.utils.set_random_seed(0)
    model = _small_cnn()
    grad_model = keras.Model(model.inputs,
                             [model.get_layer("last_conv").output, model.output])
    img = np.random.default_rng(1).random((1, 12, 12, 3)).astype("float32")
    with tf.GradientTape() as tape:
        conv_out, preds = grad_model(img)
        class_channel = preds[:, 1]
    grads = tape.gradient(class_channel, conv_out)
    assert grads.shape == (1, 10, 10, 4)
    # the score is linear in the pooled conv output: d score / d conv = w[:, 1] / 100
    dense_kernel = model.get_layer("predictions").kernel.numpy()
    want = np.broadcast_to(dense_kernel[:, 1] / 100.0, (1, 10, 10, 4))
    np.testing.assert_allclose(grads.numpy(), want, rtol=1e-5, atol=1e-7)
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_out[0] @ pooled[..., tf.newaxis])
    assert heatmap.shape == (10, 10)


def test_filter_gradient_ascent_in_function_raises_activation():
    keras.utils.set_random_seed(0)
    model = _small_cnn()
    extractor = keras.Model(model.inputs, model.get_layer("last_conv").output)

    @tf.function
    def step(img):
        with tf.GradientTape() as tape:
            tape.watch(img)
            loss = tf.reduce_mean(extractor(img)[:, 1:-1, 1:-1, 0])
        grads = tf.math.l2_normalize(tape.gradient(loss, img))
        return loss, img + 1.0 * grads

    img = (tf.random.uniform((1, 12, 12, 3)) - 0.5) * 0.25
    losses = []
    for _ in range(5):
        loss, img = step(img)
        losses.append(float(loss))
    assert losses[-1] > losses[0]
