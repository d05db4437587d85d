"""Keras vision programs (transfer learning, augmentation, U-Net, conv variants) run
as under TensorFlow 2: regressions found by running the same programs under both.

Numbers marked "from TF 2.21" were printed by TensorFlow 2.21 / Keras 3 for the same
inputs and are hard-coded here.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

L = keras.layers


def _images(n=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (n, size, size, 3)).astype("float32")


RANDOM_LAYERS = [
    lambda **kw: L.RandomFlip("horizontal_and_vertical", **kw),
    lambda **kw: L.RandomRotation(0.3, **kw),
    lambda **kw: L.RandomZoom(0.3, **kw),
    lambda **kw: L.RandomTranslation(0.3, 0.3, **kw),
    lambda **kw: L.RandomContrast(0.9, **kw),
    lambda **kw: L.RandomBrightness(0.5, **kw),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_direct_call_augments_like_keras(make):
    # Keras 2 and 3 both default `training=True` in these layers' call(): a direct
    # call (plotting augmented images, Dataset.map) augments; training=False does not
    x = _images()
    layer = make()
    assert not all(np.allclose(layer(x).numpy(), x) for _ in range(3))
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_augmentation_in_models_direct_fit_predict():
    x = _images()
    aug = keras.Sequential([L.RandomFlip("horizontal_and_vertical", seed=1),
                            L.RandomRotation(0.3, seed=2)])
    assert not np.allclose(aug(x).numpy(), x)                 # Sequential call
    np.testing.assert_array_equal(aug(x, training=False).numpy(), x)
    inp = keras.Input((16, 16, 3))
    model = keras.Model(inp, aug(inp))
    assert not np.allclose(model(x).numpy(), x)               # functional call
    np.testing.assert_allclose(model.predict(x, verbose=0), x)  # predict: inference
    model.compile(loss="mse")
    np.testing.assert_allclose(model.evaluate(x, x, verbose=0), 0.0, atol=1e-6)


def test_random_crop_direct_call_and_inference():
    x = _images()
    crop = L.RandomCrop(10, 12, seed=3)
    windows = {tuple(crop(x).numpy()[0, 0, :2, 0]) for _ in range(6)}
    assert crop(x).shape == (4, 10, 12, 3) and len(windows) > 1
    # inference: the largest centred window of the target aspect ratio (13 of the 16
    # rows, int(16 * 10 / 12), from row 1), resized
    out = crop(x, training=False).numpy()
    ref = tf.image.resize(x[:, 1:14], (10, 12)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("make", RANDOM_LAYERS + [lambda **kw: L.RandomCrop(9, 9, **kw)])
def test_same_seed_replays_and_draws_advance(make):
    x = _images()
    a, b = make(seed=42), make(seed=42)
    first = a(x, training=True).numpy()
    np.testing.assert_allclose(b(x, training=True).numpy(), first)
    # each call draws anew
    assert not all(np.allclose(a(x, training=True).numpy(), first) for _ in range(3))
    # the seed state is not a layer weight (Keras 2 counts; Keras 3 hides it too)
    assert a.weights == []


def test_seeded_augmentation_in_compiled_fit_and_dataset_map():
    x = _images(8)
    y = np.arange(8) % 2
    aug = keras.Sequential([L.RandomFlip(seed=1), L.RandomRotation(0.2, seed=2),
                            L.RandomZoom(0.2, seed=3), L.RandomCrop(12, 12, seed=4)])
    model = keras.Sequential([keras.Input((16, 16, 3)), L.Rescaling(1 / 255.0), aug,
                              L.Conv2D(4, 3), L.GlobalAveragePooling2D(), L.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.predict(x, verbose=0).shape == (8, 2)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4).map(
        lambda a, b: (aug(a, training=True), b))
    first = [a.numpy() for a, _ in ds]
    second = [a.numpy() for a, _ in ds]
    assert [f.shape for f in first] == [(4, 12, 12, 3)] * 2
    assert not np.allclose(first[0], second[0])

    @tf.function
    def augment(a):
        return aug(a, training=True)
    assert not np.allclose(augment(x).numpy(), augment(x).numpy())


IMAGE = np.arange(2 * 6 * 5, dtype="float32").reshape(2, 6, 5, 1)
# first image after each deterministic transform, from TF 2.21
TRANSFORMS = [
    (lambda: L.RandomRotation((0.25, 0.25), fill_mode="reflect"),
     [[6.5, 11.5, 16.5, 21.5, 26.5], [6, 11, 16, 21, 26], [5, 10, 15, 20, 25],
      [4, 9, 14, 19, 24], [3, 8, 13, 18, 23], [2.5, 7.5, 12.5, 17.5, 22.5]]),
    (lambda: L.RandomZoom((-0.5, -0.5), fill_mode="nearest"),
     [[7.25, 7.75, 8.25, 8.75, 9.25], [9.75, 10.25, 10.75, 11.25, 11.75],
      [12.25, 12.75, 13.25, 13.75, 14.25], [14.75, 15.25, 15.75, 16.25, 16.75],
      [17.25, 17.75, 18.25, 18.75, 19.25], [19.75, 20.25, 20.75, 21.25, 21.75]]),
    (lambda: L.RandomZoom((0.5, 0.5), (0.2, 0.2), fill_mode="wrap"),
     [[27.75, 24.55, 25.75, 26.95, 23.75], [5.25, 2.05, 3.25, 4.45, 1.25],
      [12.75, 9.55, 10.75, 11.95, 8.75], [20.25, 17.05, 18.25, 19.45, 16.25],
      [27.75, 24.55, 25.75, 26.95, 23.75], [5.25, 2.05, 3.25, 4.45, 1.25]]),
    (lambda: L.RandomTranslation((0.25, 0.25), (0.1, 0.1), interpolation="nearest"),
     [[5, 6, 7, 8, 9], [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14],
      [15, 16, 17, 18, 19], [20, 21, 22, 23, 24]]),
]


@pytest.mark.parametrize("make,expected", TRANSFORMS)
def test_fixed_geometric_transforms_match_tf(make, expected):
    out = make()(IMAGE, training=True).numpy()
    assert out.shape == IMAGE.shape and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, :, 0], expected, atol=1e-2)


def test_resizing_accepts_every_tf_image_resize_method():
    # lanczos3/lanczos5 are Keras 3's, gaussian/mitchellcubic Keras 2's
    for method in ("lanczos3", "lanczos5", "gaussian", "mitchellcubic"):
        layer = L.Resizing(4, 7, interpolation=method)
        assert layer(IMAGE).shape == (2, 4, 7, 1)
        assert L.Resizing.from_config(layer.get_config()).interpolation == method
    out = L.Resizing(4, 7, interpolation="lanczos3")(IMAGE).numpy()
    np.testing.assert_allclose(  # from TF 2.21
        out[0, 0, :, 0], [0.66, 1.16, 2.05, 2.71, 3.37, 4.26, 4.77], atol=1e-2)
    with pytest.raises(ValueError, match="interpolation='cubic'"):
        L.Resizing(4, 4, interpolation="cubic")


@pytest.mark.parametrize("make", [
    lambda: L.Conv1D(2, 3, strides=2, dilation_rate=2),
    lambda: L.Conv2D(2, 3, strides=2, dilation_rate=2),
    lambda: L.Conv3D(2, 3, strides=(1, 2, 1), dilation_rate=(2, 1, 1)),
    lambda: L.Conv2DTranspose(2, 3, strides=2, dilation_rate=2),
    lambda: L.Conv1D(2, 3, strides=2, dilation_rate=2, padding="causal"),
])
def test_strided_dilated_convolution_is_an_early_error(make):
    with pytest.raises(ValueError, match=r"strides > 1.*dilation_rate > 1"):
        make()


def test_depthwise_strided_dilated_still_allowed():
    x = np.ones((1, 9, 9, 2), "float32")
    assert L.DepthwiseConv2D(3, strides=2, dilation_rate=2)(x).shape == (1, 3, 3, 2)
    assert L.SeparableConv2D(2, 3, strides=2, dilation_rate=2)(x).shape == (1, 3, 3, 2)


@pytest.mark.parametrize("make,arg", [
    (lambda: L.Conv2D(4, 3, groups=0), "groups=0"),
    (lambda: L.Conv1D(4, 3, groups=-2), "groups=-2"),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier=0"),
    (lambda: L.SeparableConv2D(4, 3, depth_multiplier=0), "depth_multiplier=0"),
    (lambda: L.DepthwiseConv1D(3, depth_multiplier=-1), "depth_multiplier=-1"),
    (lambda: L.SeparableConv1D(4, 3, depth_multiplier=0), "depth_multiplier=0"),
])
def test_bad_groups_and_depth_multiplier_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_depthwise_channels_first_with_bias_matches_numpy():
    # (TF 2.21 adds this bias along the wrong axis; the reference is NumPy)
    rng = np.random.default_rng(0)
    x = rng.random((2, 7, 6, 4)).astype("float32")
    kernel = rng.uniform(-1, 1, (3, 3, 4, 1)).astype("float32")
    bias = rng.uniform(-1, 1, (4,)).astype("float32")
    layer = L.DepthwiseConv2D(3, data_format="channels_first")
    layer.build((2, 4, 7, 6))
    layer.set_weights([kernel, bias])
    out = layer(np.transpose(x, (0, 3, 1, 2))).numpy()
    ref = np.zeros((2, 5, 4, 4), "float32")
    for i in range(5):
        for j in range(4):
            ref[:, i, j] = (x[:, i:i + 3, j:j + 3] * kernel[..., 0]).sum((1, 2)) + bias
    np.testing.assert_allclose(out, np.transpose(ref, (0, 3, 1, 2)), atol=1e-5)


def _param_counts(model):
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    text = "\n".join(lines)
    found = {}
    for key in ("Total", "Trainable", "Non-trainable"):
        row = next(r for r in text.split("\n") if r.strip().startswith(key + " params"))
        found[key] = int(row.split(":")[1].split()[0].replace(",", ""))
    return found


def test_transfer_learning_freeze_then_fine_tune_top_layers():
    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False,
                                          weights=None)
    base.trainable = False
    inputs = keras.Input(shape=(96, 96, 3))
    x = keras.applications.mobilenet_v2.preprocess_input(inputs)
    x = base(x, training=False)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dropout(0.2)(x)
    model = keras.Model(inputs, L.Dense(1)(x))
    # Total / Trainable / Non-trainable as TF 2.21 prints them
    assert _param_counts(model) == {"Total": 2259265, "Trainable": 1281,
                                    "Non-trainable": 2257984}
    assert len(model.trainable_variables) == 2
    base.trainable = True
    for layer in base.layers[:100]:
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.RMSprop(1e-5),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    assert len(base.layers) == 154 and len(model.trainable_variables) == 56
    assert _param_counts(model) == {"Total": 2259265, "Trainable": 1862721,
                                    "Non-trainable": 396544}
    x = _images(8, 96)
    y = (x.mean(axis=(1, 2, 3)) > 127).astype("float32")
    bn = base.get_layer("bn_Conv1")
    moving_mean = bn.moving_mean.numpy().copy()
    frozen = base.get_layer("Conv1").kernel.numpy().copy()
    head = model.layers[-1].kernel.numpy().copy()
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    np.testing.assert_array_equal(base.get_layer("Conv1").kernel.numpy(), frozen)
    assert not np.allclose(model.layers[-1].kernel.numpy(), head)
    # base(x, training=False) keeps BatchNormalization in inference mode in fit
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving_mean)


@pytest.mark.parametrize("make,shown", [
    (lambda: L.Cropping2D(((1,), (2, 3))), "cropping=((1,), (2, 3))"),
    (lambda: L.ZeroPadding2D((1, 2, 3)), "padding=(1, 2, 3)"),
    (lambda: L.ZeroPadding1D((1, 2, 3)), "padding=(1, 2, 3)"),
    (lambda: L.Cropping1D(-1), "cropping=-1"),
    (lambda: L.Cropping3D(((1, 1), (0, 1))), "cropping=((1, 1), (0, 1))"),
])
def test_bad_padding_and_cropping_are_early_errors(make, shown):
    with pytest.raises(ValueError, match=r"should be an int.*Received: " + shown
                       .replace("(", r"\(").replace(")", r"\)")):
        make()


def test_padding_and_cropping_forms_and_shapes():
    x = np.random.default_rng(0).random((1, 4, 5, 6, 2)).astype("float32")
    pad = L.ZeroPadding3D(((1, 0), 2, (0, np.int64(1))))
    assert pad.padding == ((1, 0), (2, 2), (0, 1))
    out = pad(x).numpy()
    np.testing.assert_array_equal(out, np.pad(x, [(0, 0), (1, 0), (2, 2), (0, 1), (0, 0)]))
    crop = L.Cropping3D(((1, 1), (0, 2), 1))
    np.testing.assert_array_equal(crop(x).numpy(), x[:, 1:3, 0:3, 1:5])
    # config lists (as JSON gives them back) are accepted
    again = L.Cropping3D.from_config(
        dict(crop.get_config(), cropping=[[1, 1], [0, 2], [1, 1]]))
    np.testing.assert_array_equal(again(x).numpy(), crop(x).numpy())
    assert L.Cropping1D([1, 2])(x[:, :, 0, 0]).shape == (1, 1, 2)
