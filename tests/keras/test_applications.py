"""keras.applications: architectures equal Keras' (parameter and layer counts, names,
output shapes), forward passes, transfer learning, weights handling, preprocessing."""

import numpy as np
import pytest

import dlframe as tf

A = tf.keras.applications

# (constructor, kwargs, count_params, number of layers, model name), from TF 2.21
# (Keras 3.15) with the same arguments
ARCHITECTURES = [
    (
        "MobileNetV2",
        {"input_shape": (96, 96, 3), "include_top": False},
        2257984,
        154,
        "mobilenetv2_1.00_96",
    ),
    (
        "MobileNetV2",
        {"input_shape": (96, 96, 3), "classes": 10},
        2270794,
        156,
        "mobilenetv2_1.00_96",
    ),
    ("MobileNetV2", {}, 3538984, 156, "mobilenetv2_1.00_224"),
    (
        "MobileNetV2",
        {
            "input_shape": (64, 64, 3),
            "alpha": 0.35,
            "include_top": False,
            "pooling": "avg",
        },
        410208,
        155,
        "mobilenetv2_0.35_64",
    ),
    (
        "MobileNetV2",
        {
            "input_shape": (32, 32, 3),
            "alpha": 1.4,
            "include_top": False,
            "pooling": "max",
        },
        4363712,
        155,
        "mobilenetv2_1.40_32",
    ),
    ("ResNet50", {}, 25636712, 177, "resnet50"),
    (
        "ResNet50",
        {"input_shape": (64, 64, 3), "include_top": False},
        23587712,
        175,
        "resnet50",
    ),
    (
        "ResNet101",
        {"input_shape": (64, 64, 3), "include_top": False},
        42658176,
        345,
        "resnet101",
    ),
    (
        "ResNet152",
        {"input_shape": (64, 64, 3), "include_top": False},
        58370944,
        515,
        "resnet152",
    ),
    (
        "VGG16",
        {"input_shape": (32, 32, 3), "include_top": False},
        14714688,
        19,
        "vgg16",
    ),
    ("VGG19", {"input_shape": (64, 64, 3), "classes": 5}, 45218885, 26, "vgg19"),
    ("MobileNet", {}, 4253864, 91, "mobilenet_1.00_224"),
    (
        "MobileNet",
        {"input_shape": (64, 64, 3), "alpha": 0.5, "include_top": False},
        829536,
        86,
        "mobilenet_0.50_64",
    ),
    (
        "MobileNet",
        {"input_shape": (128, 128, 3), "alpha": 0.25, "classes": 7},
        220343,
        91,
        "mobilenet_0.25_128",
    ),
    ("DenseNet121", {}, 8062504, 429, "densenet121"),
    (
        "DenseNet121",
        {"input_shape": (64, 64, 3), "include_top": False},
        7037504,
        427,
        "densenet121",
    ),
    (
        "DenseNet169",
        {"input_shape": (64, 64, 3), "include_top": False},
        12642880,
        595,
        "densenet169",
    ),
    (
        "DenseNet201",
        {"input_shape": (64, 64, 3), "include_top": False},
        18321984,
        707,
        "densenet201",
    ),
]


@pytest.mark.parametrize(
    "ctor,kwargs,params,num_layers,name",
    ARCHITECTURES,
    ids=[f"{a[0]}-{i}" for i, a in enumerate(ARCHITECTURES)],
)
def test_param_and_layer_counts_equal_keras(ctor, kwargs, params, num_layers, name):
    model = getattr(A, ctor)(weights=None, **kwargs)
    assert model.count_params() == params
    assert len(model.layers) == num_layers
    assert model.name == name


@pytest.mark.slow
def test_full_vgg16_and_vgg19_counts():
    # from TF 2.21; the 4096-unit classifiers make these the slowest to build
    assert A.VGG16(weights=None).count_params() == 138357544
    assert len(A.VGG19(weights=None).layers) == 26


def test_layer_names_match_keras():
    names = {
        layer.name
        for layer in A.MobileNetV2(input_shape=(32, 32, 3), weights=None).layers
    }
    assert {
        "Conv1",
        "bn_Conv1",
        "expanded_conv_project_BN",
        "block_1_pad",
        "block_2_add",
        "block_16_project_BN",
        "Conv_1",
        "out_relu",
        "predictions",
    } <= names
    names = {
        layer.name
        for layer in A.ResNet50(
            input_shape=(32, 32, 3), include_top=False, weights=None, pooling="avg"
        ).layers
    }
    assert {
        "conv1_pad",
        "conv1_conv",
        "pool1_pool",
        "conv2_block1_0_conv",
        "conv3_block4_add",
        "conv5_block3_out",
        "avg_pool",
    } <= names
    names = [
        layer.name
        for layer in A.VGG16(
            input_shape=(32, 32, 3), include_top=False, weights=None
        ).layers
    ]
    assert names[1:] == [
        f"block{b}_{k}"
        for b, n in zip(range(1, 6), (2, 2, 3, 3, 3))
        for k in [f"conv{i}" for i in range(1, n + 1)] + ["pool"]
    ]
    names = {
        layer.name
        for layer in A.DenseNet121(
            input_shape=(32, 32, 3), include_top=False, weights=None
        ).layers
    }
    assert {
        "conv1_conv",
        "pool1",
        "conv2_block6_concat",
        "pool4_pool",
        "conv5_block16_concat",
        "bn",
        "relu",
    } <= names
    names = {
        layer.name
        for layer in A.MobileNet(
            input_shape=(32, 32, 3), weights=None, classes=3
        ).layers
    }
    assert {
        "conv1",
        "conv_pad_2",
        "conv_dw_13_relu",
        "conv_pw_13_relu",
        "conv_preds",
        "reshape_2",
        "predictions",
    } <= names


@pytest.mark.parametrize(
    "ctor,kwargs,features",
    [
        ("MobileNetV2", {"alpha": 0.35}, 1280),
        ("MobileNet", {"alpha": 0.25}, 256),
        ("ResNet50", {}, 2048),
        ("VGG16", {}, 512),
        ("DenseNet121", {}, 1024),
    ],
)
def test_forward_pass_shapes(ctor, kwargs, features):
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    model = getattr(A, ctor)(
        input_shape=(32, 32, 3),
        include_top=False,
        weights=None,
        pooling="avg",
        **kwargs,
    )
    assert model.output_shape == (None, features)
    out = model(x, training=False).numpy()
    assert out.shape == (2, features) and np.isfinite(out).all()
    np.testing.assert_allclose(model.predict(x, verbose=0), out, rtol=1e-4, atol=1e-4)
    feature_map = getattr(A, ctor)(
        input_shape=(32, 32, 3), include_top=False, weights=None, **kwargs
    )
    assert feature_map.output_shape == (None, 1, 1, features)


def test_classifier_top_outputs_probabilities():
    model = A.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=4)
    x = np.random.default_rng(1).uniform(-1, 1, (3, 32, 32, 3)).astype("float32")
    probs = model(x).numpy()
    assert probs.shape == (3, 4)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    logits = A.ResNet50(
        input_shape=(32, 32, 3), weights=None, classes=3, classifier_activation=None
    )
    assert logits.layers[-1].get_config()["activation"] == "linear"


def test_transfer_learning_head_trains_one_step():
    base = A.MobileNetV2(
        input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None
    )
    base.trainable = False
    inputs = tf.keras.Input(shape=(32, 32, 3))
    x = tf.keras.applications.mobilenet_v2.preprocess_input(inputs)
    x = base(x, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(2)(x)
    model = tf.keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2
    model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-2),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 2, 8)
    frozen = [w.numpy().copy() for w in base.weights]
    head = model.layers[-1].kernel.numpy().copy()
    first = model.train_on_batch(images, labels)
    for _ in range(5):
        last = model.train_on_batch(images, labels)
    assert last < first
    assert not np.allclose(model.layers[-1].kernel.numpy(), head)
    for before, after in zip(frozen, base.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_weights_argument(tmp_path):
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        A.MobileNetV2(weights="imagenet", classes=10)  # imagenet: see *_imagenet.py
    with pytest.raises(ValueError, match="should be either `None`"):
        A.ResNet50(weights=str(tmp_path / "missing.h5"))
    model = A.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=3)
    path = str(tmp_path / "mobilenet.weights.h5")
    model.save_weights(path)
    loaded = A.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=path, classes=3)
    x = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_input_arguments():
    with pytest.raises(ValueError, match="static `input_shape`"):
        A.ResNet50(weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="at least 32x32"):
        A.VGG16(weights=None, input_shape=(16, 16, 3), include_top=False)
    with pytest.raises(ValueError, match="pooling"):
        A.DenseNet121(weights=None, include_top=False, pooling="sum")
    model = A.MobileNetV2(weights=None, include_top=False)
    assert model.input_shape == (None, None, None, 3)
    assert model.name == "mobilenetv2_1.00_None"
    image = tf.keras.Input(shape=(48, 48, 3))
    model = A.ResNet50(input_tensor=image, include_top=False, weights=None)
    assert model.inputs[0] is image and model.output_shape == (None, 2, 2, 2048)


def test_module_access_and_preprocessing():
    assert A.resnet50.ResNet50 is A.ResNet50 is A.resnet.ResNet50
    assert A.vgg16.VGG16 is A.VGG16 and A.densenet.DenseNet121 is A.DenseNet121
    assert A.mobilenet.MobileNet is A.MobileNet
    x = np.array([[[[0.0, 127.5, 255.0], [10.0, 20.0, 30.0]]]], np.float32)
    np.testing.assert_allclose(A.mobilenet_v2.preprocess_input(x.copy()), x / 127.5 - 1)
    np.testing.assert_allclose(A.mobilenet.preprocess_input(x.copy()), x / 127.5 - 1)
    caffe = x[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)
    np.testing.assert_allclose(A.resnet50.preprocess_input(x.copy()), caffe, rtol=1e-6)
    np.testing.assert_allclose(A.vgg19.preprocess_input(x.copy()), caffe, rtol=1e-6)
    torch = (x / 255 - np.array([0.485, 0.456, 0.406])) / np.array(
        [0.229, 0.224, 0.225]
    )
    np.testing.assert_allclose(A.densenet.preprocess_input(x.copy()), torch, rtol=1e-5)
    first = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_allclose(
        A.vgg16.preprocess_input(first.copy(), data_format="channels_first"),
        np.transpose(caffe, (0, 3, 1, 2)),
        rtol=1e-6,
    )
    out = A.resnet50.preprocess_input(tf.constant(x))
    assert isinstance(out, tf.Tensor)
    np.testing.assert_allclose(out.numpy(), caffe, rtol=1e-6)
    # mobilenet_v2 values from TF 2.21: [[[-1, 0, 1]]]
    np.testing.assert_allclose(
        A.mobilenet_v2.preprocess_input(np.array([[[0.0, 127.5, 255.0]]])),
        [[[-1.0, 0.0, 1.0]]],
    )
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\)"):
        A.mobilenet_v2.decode_predictions(np.zeros((1, 10), np.float32))
