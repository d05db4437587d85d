"""keras.applications beyond the classic set: EfficientNet(V2), InceptionV3,
Xception, ResNetV2, MobileNetV3 and ConvNeXt equal Keras' (parameter and layer
counts, names, output shapes) and run, train and re-load."""

import numpy as np
import pytest

import dlframe as tf

A = tf.keras.applications
_slow = pytest.mark.slow

# (constructor, kwargs, count_params, number of layers, model name, output shape),
# all from TF 2.21 (Keras 3.15) with weights=None and the same arguments.
ARCHITECTURES = [
    ("EfficientNetB0", {}, 5330571, 240, "efficientnetb0", (None, 1000)),
    ("EfficientNetB1", {}, 7856239, 342, "efficientnetb1", (None, 1000)),
    ("EfficientNetB2", {}, 9177569, 342, "efficientnetb2", (None, 1000)),
    ("EfficientNetB3", {}, 12320535, 387, "efficientnetb3", (None, 1000)),
    ("EfficientNetB4", {}, 19466823, 477, "efficientnetb4", (None, 1000)),
    pytest.param(
        "EfficientNetB5", {}, 30562527, 579, "efficientnetb5", (None, 1000),
        marks=_slow,
    ),
    pytest.param(
        "EfficientNetB6", {}, 43265143, 669, "efficientnetb6", (None, 1000),
        marks=_slow,
    ),
    pytest.param(
        "EfficientNetB7", {}, 66658687, 816, "efficientnetb7", (None, 1000),
        marks=_slow,
    ),
    (
        "EfficientNetB0",
        {"input_shape": (64, 64, 3), "include_top": False, "pooling": "avg"},
        4049571, 238, "efficientnetb0", (None, 1280),
    ),
    (
        "EfficientNetB3",
        {"input_shape": (64, 64, 3), "classes": 10},
        10798905, 387, "efficientnetb3", (None, 10),
    ),
    ("InceptionV3", {}, 23851784, 313, "inception_v3", (None, 1000)),
    (
        "InceptionV3",
        {"input_shape": (75, 75, 3), "include_top": False},
        21802784, 311, "inception_v3", (None, 1, 1, 2048),
    ),
    ("Xception", {}, 22910480, 134, "xception", (None, 1000)),
    (
        "Xception",
        {"input_shape": (71, 71, 3), "include_top": False, "pooling": "max"},
        20861480, 133, "xception", (None, 2048),
    ),
    ("ResNet50V2", {}, 25613800, 192, "resnet50v2", (None, 1000)),
    (
        "ResNet50V2",
        {"input_shape": (64, 64, 3), "include_top": False},
        23564800, 190, "resnet50v2", (None, 2, 2, 2048),
    ),
    ("ResNet101V2", {}, 44675560, 379, "resnet101v2", (None, 1000)),
    ("ResNet152V2", {}, 60380648, 566, "resnet152v2", (None, 1000)),
    ("MobileNetV3Small", {}, 2554968, 164, "MobileNetV3Small", (None, 1000)),
    ("MobileNetV3Large", {}, 5507432, 194, "MobileNetV3Large", (None, 1000)),
    (
        "MobileNetV3Small",
        {"input_shape": (64, 64, 3), "include_top": False, "alpha": 0.75},
        583160, 157, "MobileNetV3Small", (None, 2, 2, 432),
    ),
    (
        "MobileNetV3Large",
        {"input_shape": (96, 96, 3), "minimalistic": True, "classes": 5},
        2674093, 146, "MobileNetV3Large", (None, 5),
    ),
    (
        "MobileNetV3Small",
        {
            "input_shape": (32, 32, 3),
            "include_top": False,
            "include_preprocessing": False,
            "pooling": "avg",
        },
        939120, 157, "MobileNetV3Small", (None, 576),
    ),
    ("EfficientNetV2B0", {}, 7200312, 273, "efficientnetv2-b0", (None, 1000)),
    ("EfficientNetV2B1", {}, 8212124, 337, "efficientnetv2-b1", (None, 1000)),
    ("EfficientNetV2B2", {}, 10178374, 352, "efficientnetv2-b2", (None, 1000)),
    ("EfficientNetV2B3", {}, 14467622, 412, "efficientnetv2-b3", (None, 1000)),
    ("EfficientNetV2S", {}, 21612360, 516, "efficientnetv2-s", (None, 1000)),
    pytest.param(
        "EfficientNetV2M", {}, 54431388, 743, "efficientnetv2-m", (None, 1000),
        marks=_slow,
    ),
    pytest.param(
        "EfficientNetV2L", {}, 119027848, 1031, "efficientnetv2-l", (None, 1000),
        marks=_slow,
    ),
    (
        "EfficientNetV2B0",
        {"input_shape": (64, 64, 3), "include_top": False},
        5919312, 270, "efficientnetv2-b0", (None, 2, 2, 1280),
    ),
    (
        "EfficientNetV2B3",
        {
            "input_shape": (64, 64, 3),
            "include_top": False,
            "pooling": "max",
            "include_preprocessing": False,
        },
        12930622, 408, "efficientnetv2-b3", (None, 1536),
    ),
]
# ConvNeXt adds its residuals as ``inputs + x``: Keras 3 keeps those out of
# model.layers, dlframe lists them as TFOpLambda layers (as Keras 2 does), so the
# counts below are Keras 3's layers other than TFOpLambda.
CONVNEXT = [
    ("ConvNeXtTiny", {}, 28589128, 135, "convnext_tiny", (None, 1000)),
    pytest.param(
        "ConvNeXtSmall", {}, 50223688, 261, "convnext_small", (None, 1000),
        marks=_slow,
    ),
    pytest.param(
        "ConvNeXtBase", {}, 88591464, 261, "convnext_base", (None, 1000),
        marks=_slow,
    ),
    pytest.param(
        "ConvNeXtLarge", {}, 197767336, 261, "convnext_large", (None, 1000),
        marks=_slow,
    ),
    (
        "ConvNeXtTiny",
        {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"},
        27820128, 134, "convnext_tiny", (None, 768),
    ),
]


def _keras_layers(model):
    return [layer for layer in model.layers if type(layer).__name__ != "TFOpLambda"]


@pytest.mark.parametrize("ctor,kwargs,params,num_layers,name,output", ARCHITECTURES)
def test_counts_names_and_shapes_equal_keras(ctor, kwargs, params, num_layers, name,
                                             output):
    model = getattr(A, ctor)(weights=None, **kwargs)
    assert model.count_params() == params
    assert len(model.layers) == num_layers
    assert model.name == name
    assert model.output_shape == output


@pytest.mark.parametrize("ctor,kwargs,params,num_layers,name,output", CONVNEXT)
def test_convnext_counts_equal_keras(ctor, kwargs, params, num_layers, name, output):
    model = getattr(A, ctor)(weights=None, **kwargs)
    assert model.count_params() == params
    assert len(_keras_layers(model)) == num_layers
    assert model.name == name
    assert model.output_shape == output


def _names(model):
    return {layer.name for layer in model.layers}


def test_layer_names_match_keras():
    # names from TF 2.21
    assert {
        "stem_conv_pad", "stem_conv", "block1a_se_excite", "block2a_dwconv_pad",
        "block2b_drop", "block2b_add", "block7a_project_bn", "top_conv",
        "avg_pool", "top_dropout", "predictions",
    } <= _names(A.EfficientNetB0(weights=None, input_shape=(32, 32, 3)))
    assert {
        "block1a_project_activation", "block2b_add", "block4a_dwconv2",
        "block4a_se_reduce", "block6h_add", "top_activation", "max_pool",
    } <= _names(A.EfficientNetV2B0(weights=None, include_top=False, pooling="max"))
    assert {
        "mixed0", "mixed3", "mixed8", "mixed9_0", "mixed9_1", "mixed10",
    } <= _names(A.InceptionV3(weights=None, include_top=False))
    assert {
        "block1_conv1", "block2_sepconv2_act", "block2_pool", "block12_sepconv3_bn",
        "block14_sepconv2_act",
    } <= _names(A.Xception(weights=None, include_top=False))
    assert {
        "conv1_conv", "pool1_pool", "conv2_block1_preact_bn", "conv2_block3_out",
        "conv5_block3_3_conv", "post_relu",
    } <= _names(A.ResNet50V2(weights=None, include_top=False))
    assert {
        "conv", "conv_bn", "expanded_conv_squeeze_excite_mul",
        "expanded_conv_10_add", "conv_1", "conv_2", "logits", "predictions",
    } <= _names(A.MobileNetV3Small(weights=None))
    names = _names(A.ConvNeXtTiny(weights=None))
    assert {
        "convnext_tiny_prestem_normalization", "convnext_tiny_stem",
        "convnext_tiny_stage_0_block_0_layer_scale",
        "convnext_tiny_downsampling_block_2", "convnext_tiny_stage_3_block_2_identity",
        "convnext_tiny_head_gap", "convnext_tiny_head_layernorm",
        "convnext_tiny_head_dense",
    } <= names


SMALL = [
    ("EfficientNetB0", {"input_shape": (32, 32, 3)}, 1280),
    ("EfficientNetV2B0", {"input_shape": (32, 32, 3)}, 1280),
    ("InceptionV3", {"input_shape": (75, 75, 3)}, 2048),
    ("Xception", {"input_shape": (71, 71, 3)}, 2048),
    ("ResNet50V2", {"input_shape": (32, 32, 3)}, 2048),
    ("MobileNetV3Small", {"input_shape": (32, 32, 3), "alpha": 0.75}, 432),
    ("MobileNetV3Large", {"input_shape": (32, 32, 3), "minimalistic": True}, 960),
    ("ConvNeXtTiny", {"input_shape": (32, 32, 3)}, 768),
]


@pytest.mark.parametrize("ctor,kwargs,features", SMALL)
def test_forward_pass_matches_predict(ctor, kwargs, features):
    size = kwargs["input_shape"][0]
    x = np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)).astype("float32")
    model = getattr(A, ctor)(weights=None, include_top=False, pooling="avg", **kwargs)
    assert model.output_shape == (None, features)
    out = model(x, training=False).numpy()
    assert out.shape == (2, features) and np.isfinite(out).all()
    # the features depend on the image (random-init features can be tiny)
    assert not np.allclose(out[0], out[1], rtol=1e-3, atol=0)
    scale = np.abs(out).max()
    np.testing.assert_allclose(
        model.predict(x, verbose=0), out, rtol=1e-4, atol=1e-4 * scale
    )


def test_classifier_arguments():
    x = np.random.default_rng(1).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    for ctor in ("EfficientNetB0", "MobileNetV3Small", "ConvNeXtTiny"):
        model = getattr(A, ctor)(weights=None, input_shape=(32, 32, 3), classes=4)
        probs = model(x).numpy()
        assert probs.shape == (3, 4)
        np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    logits = A.ResNet50V2(
        weights=None, input_shape=(32, 32, 3), classes=3, classifier_activation=None
    )
    assert logits.layers[-1].get_config()["activation"] == "linear"
    # MobileNetV3 has no fixed input size, even with the classifier (as Keras)
    assert A.MobileNetV3Small(weights=None).input_shape == (None, None, None, 3)


def test_constructors_take_keras_arguments_in_keras_order():
    # positional order as Keras: MobileNetV3 starts with input_shape, alpha
    model = A.MobileNetV3Small((32, 32, 3), 0.75, True, False, weights=None)
    assert model.input_shape == (None, 32, 32, 3)
    model = A.ConvNeXtTiny(False, False, None, input_shape=(32, 32, 3))
    assert not any("prestem" in layer.name for layer in model.layers)
    with pytest.raises(TypeError, match="alpha"):
        A.EfficientNetB0(weights=None, alpha=0.5)
    assert "classifier_activation" in A.EfficientNetV2S.__doc__
    assert A.efficientnet.EfficientNetB3 is A.EfficientNetB3
    assert A.mobilenet_v3.MobileNetV3Large is A.MobileNetV3Large
    assert A.resnet_v2.ResNet101V2 is A.ResNet101V2


def test_weights_argument(tmp_path):
    for ctor in ("EfficientNetB0", "InceptionV3", "Xception", "ResNet50V2",
                 "MobileNetV3Small", "ConvNeXtTiny", "EfficientNetV2B0"):
        with pytest.raises(ValueError, match="`classes` should be 1000"):
            getattr(A, ctor)(weights="imagenet", classes=10)
    model = A.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), classes=3)
    path = str(tmp_path / "mnv3.weights.h5")
    model.save_weights(path)
    loaded = A.MobileNetV3Small(weights=path, input_shape=(32, 32, 3), classes=3)
    x = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_input_size_limits():
    with pytest.raises(ValueError, match="at least 75x75"):
        A.InceptionV3(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="at least 71x71"):
        A.Xception(weights=None, include_top=False, input_shape=(64, 64, 3))
    assert A.InceptionV3(weights=None).input_shape == (None, 299, 299, 3)
    assert A.EfficientNetB2(weights=None).input_shape == (None, 260, 260, 3)
    assert A.EfficientNetV2S(weights=None).input_shape == (None, 384, 384, 3)


def test_layer_scale_saves_and_reloads(tmp_path):
    layer_scale = A.convnext.LayerScale(0.5, 4, name="scale")
    inputs = tf.keras.Input((3, 4))
    model = tf.keras.Model(inputs, layer_scale(tf.keras.layers.Dense(4)(inputs)))
    assert layer_scale.get_config()["projection_dim"] == 4
    layer_scale.gamma.assign([1.0, 2.0, 3.0, 4.0])
    x = np.random.default_rng(4).normal(size=(2, 3, 4)).astype("float32")
    dense = model.layers[1]
    expected = (x @ dense.kernel.numpy() + dense.bias.numpy()) * [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    path = str(tmp_path / "scale.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)


@_slow
def test_convnext_model_saves_and_reloads(tmp_path):
    model = A.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=3)
    scale = model.get_layer("convnext_tiny_stage_0_block_0_layer_scale")
    np.testing.assert_allclose(scale.gamma.numpy(), np.full(96, 1e-6, np.float32))
    path = str(tmp_path / "convnext.keras")
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    x = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5)


def test_fine_tuning_trains():
    base = A.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))
    base.trainable = False
    inputs = tf.keras.Input((32, 32, 3))
    x = A.efficientnet.preprocess_input(inputs)
    x = base(x, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(x))
    assert len(model.trainable_weights) == 2
    model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-2),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 2, 8)
    first = model.train_on_batch(images, labels)
    for _ in range(5):
        last = model.train_on_batch(images, labels)
    assert last < first


def test_preprocess_input_modules():
    x = np.array([[[[0.0, 127.5, 255.0]]]], np.float32)
    for module in ("efficientnet", "efficientnet_v2", "mobilenet_v3", "convnext"):
        # these models rescale inside; preprocess_input is the identity (as Keras)
        np.testing.assert_array_equal(getattr(A, module).preprocess_input(x), x)
    for module in ("inception_v3", "xception", "resnet_v2"):
        np.testing.assert_allclose(
            getattr(A, module).preprocess_input(x.copy()), [[[[-1.0, 0.0, 1.0]]]]
        )
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\)"):
        A.efficientnet.decode_predictions(np.zeros((1, 10), np.float32))
