"""InceptionResNetV2, NASNetMobile and NASNetLarge equal Keras' (parameter and layer
counts, layer names, output shapes) and run; their preprocessing and layers."""

import numpy as np
import pytest

import dlframe as tf

A = tf.keras.applications

# (constructor, kwargs, count_params, number of layers, model name, output shape),
# all from TF 2.21 (Keras 3.15) with weights=None and the same arguments.
ARCHITECTURES = [
    pytest.param(
        "InceptionResNetV2", {}, 55873736, 782, "inception_resnet_v2", (None, 1000),
        marks=pytest.mark.slow,
    ),
    (
        "InceptionResNetV2",
        {"include_top": False, "input_shape": (75, 75, 3), "pooling": "avg"},
        54336736, 781, "inception_resnet_v2", (None, 1536),
    ),
    ("NASNetMobile", {}, 5326716, 771, "nasnet_mobile", (None, 1000)),
    (
        "NASNetMobile",
        {"include_top": False, "input_shape": (32, 32, 3)},
        4269716, 769, "nasnet_mobile", (None, 1, 1, 1056),
    ),
    (
        "NASNetMobile",
        {"input_shape": (32, 32, 3), "classes": 10},
        4280286, 771, "nasnet_mobile", (None, 10),
    ),
    pytest.param(
        "NASNetLarge", {}, 88949818, 1041, "nasnet_large", (None, 1000),
        marks=pytest.mark.slow,
    ),
]


@pytest.mark.parametrize("ctor,kwargs,params,num_layers,name,output", ARCHITECTURES)
def test_counts_names_and_shapes_equal_keras(ctor, kwargs, params, num_layers, name,
                                             output):
    model = getattr(A, ctor)(weights=None, **kwargs)
    assert model.count_params() == params
    assert len(model.layers) == num_layers
    assert model.name == name
    assert model.output_shape == output


def _names(model):
    return {layer.name for layer in model.layers}


def test_layer_names_match_keras():
    # names from TF 2.21
    names = _names(A.InceptionResNetV2(weights=None, include_top=False))
    assert {
        "mixed_5b", "block35_1_mixed", "block35_1_conv", "block35_10_ac", "mixed_6a",
        "block17_20_conv", "mixed_7a", "block8_9_ac", "block8_10_conv", "conv_7b",
        "conv_7b_bn", "conv_7b_ac",
    } <= names
    assert "block8_10_ac" not in names  # the last block has no activation
    names = _names(A.NASNetMobile(weights=None))
    assert {
        "stem_conv1", "stem_bn1", "reduction_conv_1_stem_1", "reduction_pad_1_stem_1",
        "separable_conv_1_pad_reduction_left1_stem_1",
        "separable_conv_2_bn_reduction_left4_stem_2", "reduction_add4_stem_2",
        "adjust_conv_1_stem_2", "adjust_bn_stem_2", "normal_conv_1_0",
        "adjust_conv_projection_1", "normal_concat_3", "reduction_concat_reduce_4",
        "normal_add_5_5", "adjust_relu_1_5", "reduction_concat_reduce_8",
        "normal_concat_12", "predictions",
    } <= names
    names = _names(A.NASNetLarge(weights=None, include_top=False))
    assert {"reduction_concat_reduce_6", "normal_concat_7", "normal_concat_18"} <= names
    assert "normal_concat_6" not in names and "normal_concat_19" not in names


@pytest.mark.parametrize(
    "ctor,module,shape,features",
    [
        ("InceptionResNetV2", "inception_resnet_v2", (75, 75, 3), 1536),
        ("NASNetMobile", "nasnet", (32, 32, 3), 1056),
    ],
)
def test_forward_pass_matches_predict(ctor, module, shape, features):
    model = getattr(A, ctor)(
        weights=None, include_top=False, pooling="avg", input_shape=shape
    )
    images = np.random.default_rng(0).uniform(0, 255, (2, *shape))
    images = getattr(A, module).preprocess_input(images.astype("float32"))
    out = model(images).numpy()
    assert out.shape == (2, features) and np.all(np.isfinite(out))
    np.testing.assert_allclose(model.predict(images, verbose=0), out, rtol=1e-4,
                               atol=1e-5)


def test_custom_scale_layer_and_preprocessing():
    layer = A.inception_resnet_v2.CustomScaleLayer(0.17, name="scale")
    a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    np.testing.assert_allclose(layer([a, b]).numpy(), a + 0.17 * b, rtol=1e-6)
    config = layer.get_config()
    assert config["scale"] == 0.17
    assert A.inception_resnet_v2.CustomScaleLayer.from_config(config).scale == 0.17
    x = np.array([[[[0.0, 127.5, 255.0]]]], "float32")
    for module in (A.inception_resnet_v2, A.nasnet):
        # [[[[-1, 0, 1]]]] in TF 2.21
        np.testing.assert_allclose(module.preprocess_input(x.copy()), [[[[-1, 0, 1]]]])
        assert module.decode_predictions is A.imagenet_utils.decode_predictions
    assert A.nasnet.NASNetMobile is A.NASNetMobile
    assert A.inception_resnet_v2.InceptionResNetV2 is A.InceptionResNetV2


def test_nasnet_argument_checks():
    # errors and defaults as in TF 2.21
    with pytest.raises(ValueError, match="must be static"):
        A.NASNetMobile(
            weights="imagenet", include_top=False, input_shape=(None, None, 3)
        )
    with pytest.raises(ValueError, match=r"`input_shape` should be \(331, 331, 3\)"):
        A.NASNetLarge(weights="imagenet", input_shape=(224, 224, 3))
    assert A.NASNetMobile(weights=None, include_top=False).input_shape == (
        None, 224, 224, 3,
    )
    with pytest.raises(ValueError, match="at least 75x75"):
        A.InceptionResNetV2(weights=None, include_top=False, input_shape=(64, 64, 3))


def test_inception_resnet_v2_head_trains():
    base = A.InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3),
                               pooling="avg")
    base.trainable = False
    model = tf.keras.Sequential([base, tf.keras.layers.Dense(2)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    images = A.inception_resnet_v2.preprocess_input(
        rng.uniform(0, 255, (4, 75, 75, 3)).astype("float32"))
    labels = np.array([0, 1, 0, 1])
    first = model.train_on_batch(images, labels)
    for _ in range(5):
        last = model.train_on_batch(images, labels)
    assert last < first
