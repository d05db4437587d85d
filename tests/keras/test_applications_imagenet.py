"""``weights='imagenet'``: keras.applications load the file Keras publishes for the
model from Keras' cache folder (``$KERAS_HOME/models``), in Keras 2's HDF5 layout,
and ``decode_predictions`` reads ``imagenet_class_index.json`` from there.

The cached files are written by the tests (random weights in the legacy layout);
the network is replaced by a failing ``urlopen``, so nothing is downloaded.
"""

import hashlib
import json
import types
import urllib.error
import urllib.request
import warnings

import h5py
import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.applications import imagenet_utils, pretrained

A = tf.keras.applications


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache, with every download attempt recorded and failing."""
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    attempts = []

    def offline(url, timeout=None):
        attempts.append(url)
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", offline)   # what _download.fetch uses
    return types.SimpleNamespace(models=home / "models", attempts=attempts)


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if w.dtype.is_integer:  # Normalization's sample count
            w.assign(rng.integers(1, 100, w.shape))
        elif "variance" in w.name:
            w.assign(rng.uniform(0.5, 1.5, w.shape))
        else:
            w.assign(rng.uniform(-0.1, 0.1, w.shape))
    return [w.numpy() for w in model.weights]


def write_legacy(model, path, chunks=1):
    """Keras 2's weights layout, written by hand: root ``layer_names`` (in
    ``chunks`` parts as Keras splits long lists), one group per layer whose
    ``weight_names`` list its trainable then non-trainable variables."""
    names = np.array([layer.name.encode() for layer in model.layers])
    with h5py.File(path, "w") as f:
        if chunks == 1:
            f.attrs["layer_names"] = names
        else:
            for i, part in enumerate(np.array_split(names, chunks)):
                f.attrs[f"layer_names{i}"] = part
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.9.0"
        for layer in sorted(model.layers, key=lambda lay: lay.name):
            group = f.create_group(layer.name)
            variables = layer.trainable_weights + layer.non_trainable_weights
            wnames = [f"{layer.name}/{v.name.split('/')[-1]}" for v in variables]
            group.attrs["weight_names"] = np.array([n.encode() for n in wnames])
            for name, v in zip(wnames, variables):
                group.create_dataset(name, data=v.numpy())


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _images(shape, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (2, *shape)).astype("float32")


def test_mobilenet_v2_feature_extractor_loads_cached_file(keras_home):
    # the transfer-learning tutorial's call, at a smaller width and resolution
    kwargs = {"alpha": 0.35, "input_shape": (96, 96, 3), "include_top": False}
    source = A.MobileNetV2(weights=None, **kwargs)
    values = _randomize(source)
    # the file name TF 2.21's Keras asks get_file for with these arguments
    fname = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    write_legacy(source, keras_home.models / fname)
    model = A.MobileNetV2(weights="imagenet", **kwargs)
    assert keras_home.attempts == []
    assert model.name == "mobilenetv2_0.35_96"
    for v, w in zip(values, model.weights):
        np.testing.assert_array_equal(v, w.numpy())
    x = A.mobilenet_v2.preprocess_input(_images((96, 96, 3)))
    np.testing.assert_allclose(
        model(x).numpy(), source(x).numpy(), rtol=1e-5, atol=1e-6
    )


def test_mobilenet_v2_other_sizes_fall_back_to_224_with_a_warning(keras_home):
    kwargs = {"alpha": 0.35, "input_shape": (100, 100, 3), "include_top": False}
    source = A.MobileNetV2(weights=None, **kwargs)
    values = _randomize(source, seed=3)
    fname = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
    write_legacy(source, keras_home.models / fname)
    with pytest.warns(UserWarning, match=r"Weights for input shape \(224, 224\)"):
        model = A.MobileNetV2(weights="imagenet", **kwargs)
    assert model.name == "mobilenetv2_0.35_224"  # as in TF 2.21
    assert model.input_shape == (None, 100, 100, 3)
    for v, w in zip(values, model.weights):
        np.testing.assert_array_equal(v, w.numpy())


def test_mobilenet_classifier_loads_chunked_layer_names(keras_home):
    kwargs = {"alpha": 0.25, "input_shape": (128, 128, 3)}
    source = A.MobileNet(weights=None, **kwargs)
    values = _randomize(source, seed=4)
    write_legacy(source, keras_home.models / "mobilenet_2_5_128_tf.h5", chunks=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 128x128 has published weights: no warning
        model = A.MobileNet(weights="imagenet", **kwargs)
    assert model.name == "mobilenet_0.25_128"
    for v, w in zip(values, model.weights):
        np.testing.assert_array_equal(v, w.numpy())
    x = A.mobilenet.preprocess_input(_images((128, 128, 3)))
    probabilities = model.predict(x, verbose=0)
    np.testing.assert_allclose(probabilities, source(x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_checksummed_file_is_verified_and_efficientnet_rescales(
    keras_home, monkeypatch
):
    kwargs = {"include_top": False, "input_shape": (64, 64, 3)}
    source = A.EfficientNetB0(weights=None, **kwargs)
    values = _randomize(source, seed=5)
    path = keras_home.models / "efficientnetb0_notop.h5"
    write_legacy(source, path)
    # the published file's md5 is Keras'; this one's is the file just written
    monkeypatch.setitem(pretrained.HASHES, "efficientnetb0", (None, _md5(path)))
    model = A.EfficientNetB0(weights="imagenet", **kwargs)
    assert keras_home.attempts == []
    for v, w in zip(values, model.weights):
        np.testing.assert_array_equal(v, w.numpy())
    # ImageNet weights add Keras' extra division by sqrt(stddev) after Normalization
    rescaling = tf.keras.layers.Rescaling
    rescale = [lay for lay in model.layers if isinstance(lay, rescaling)]
    assert len(rescale) == 2
    np.testing.assert_allclose(
        np.ravel(rescale[1].scale), 1 / np.sqrt([0.229, 0.224, 0.225]), rtol=1e-6
    )
    x = _images((64, 64, 3))
    first = tf.keras.Model(model.input, rescale[1].input)(x).numpy()
    np.testing.assert_allclose(
        tf.keras.Model(model.input, rescale[1].output)(x).numpy(),
        first / np.sqrt([0.229, 0.224, 0.225]),
        rtol=1e-5,
    )


def test_nasnet_mobile_loads_its_differently_named_file(keras_home, monkeypatch):
    kwargs = {"include_top": False, "input_shape": (32, 32, 3)}
    source = A.NASNetMobile(weights=None, **kwargs)
    values = _randomize(source, seed=6)
    # cached as nasnet_mobile_no_top.h5, published as NASNet-mobile-no-top.h5
    path = keras_home.models / "nasnet_mobile_no_top.h5"
    write_legacy(source, path)
    monkeypatch.setitem(pretrained.HASHES, "nasnet_mobile", (None, _md5(path)))
    model = A.NASNetMobile(weights="imagenet", **kwargs)
    for v, w in zip(values, model.weights):
        np.testing.assert_array_equal(v, w.numpy())
    path.unlink()
    with pytest.raises(ConnectionError, match="nasnet_mobile_no_top.h5"):
        A.NASNetMobile(weights="imagenet", **kwargs)
    origin = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
    assert keras_home.attempts == [origin + "NASNet-mobile-no-top.h5"]


def test_stale_cached_file_is_fetched_again(keras_home, monkeypatch):
    kwargs = {"include_top": False, "input_shape": (64, 64, 3)}
    path = keras_home.models / "efficientnetb0_notop.h5"
    path.write_bytes(b"an interrupted download")
    with (
        pytest.warns(UserWarning, match="hash does not match"),
        pytest.raises(ConnectionError, match="different checksum"),
    ):
        A.EfficientNetB0(weights="imagenet", **kwargs)
    assert keras_home.attempts == [
        "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5"
    ]


def test_missing_file_offline_names_the_file_and_the_folder(keras_home):
    with pytest.raises(ConnectionError) as info:
        A.ResNet50(weights="imagenet")
    message = str(info.value)
    fname = "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    assert fname in message and str(keras_home.models) in message
    assert "2cb95161c43110f7111970584f804107" in message  # the md5 Keras checks
    assert keras_home.attempts == [
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + fname
    ]


# (constructor, kwargs) -> the file TF 2.21's Keras asks get_file for
FILES = [
    ("VGG16", {}, "vgg16_weights_tf_dim_ordering_tf_kernels.h5"),
    (
        "VGG19",
        {"include_top": False},
        "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    ("ResNet101V2", {}, "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5"),
    (
        "DenseNet169",
        {"include_top": False},
        "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    ("InceptionV3", {}, "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"),
    (
        "Xception",
        {"include_top": False},
        "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    ("MobileNet", {"input_shape": (160, 160, 3)}, "mobilenet_1_0_160_tf.h5"),
    (
        "MobileNetV2",
        {"input_shape": (160, 160, 3), "include_top": False},
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5",
    ),
    (
        "MobileNetV3Large",
        {"alpha": 0.75, "input_shape": (224, 224, 3)},
        "weights_mobilenet_v3_large_224_0.75_float.h5",
    ),
    (
        "MobileNetV3Small",
        {"minimalistic": True, "include_top": False, "input_shape": (224, 224, 3)},
        "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5",
    ),
    ("EfficientNetB3", {"include_top": False}, "efficientnetb3_notop.h5"),
    ("EfficientNetV2S", {}, "efficientnetv2-s.h5"),
    ("ConvNeXtTiny", {"include_top": False}, "convnext_tiny_notop.h5"),
    (
        "InceptionResNetV2",
        {},
        "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
    ),
]
NASNET_LARGE = ("NASNetLarge", {"include_top": False}, "nasnet_large_no_top.h5")


@pytest.mark.parametrize("ctor, kwargs, fname", [*FILES, NASNET_LARGE])
def test_file_names_equal_keras(ctor, kwargs, fname, monkeypatch):
    asked = []

    def fetch(weights_file):
        asked.append(weights_file)
        raise KeyboardInterrupt  # stop before loading: only the name matters

    monkeypatch.setattr(pretrained, "fetch", fetch)
    with pytest.raises(KeyboardInterrupt):
        getattr(A, ctor)(weights="imagenet", **kwargs)
    assert asked[0].fname == fname
    assert asked[0].origin.startswith("https://storage.googleapis.com/")
    published = "NASNet-large-no-top.h5" if ctor == "NASNetLarge" else fname
    assert asked[0].origin.endswith("/" + published)


def test_imagenet_argument_errors_match_keras(tmp_path):
    # messages as TF 2.21 raises them, before anything is fetched
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        A.VGG16(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match=r"`input_shape` should be \(224, 224, 3\)"):
        A.ResNet50(weights="imagenet", input_shape=(200, 200, 3))
    with pytest.raises(ValueError, match=r"`input_shape` should be \(299, 299, 3\)"):
        A.InceptionV3(weights="imagenet", input_shape=(224, 224, 3))
    with pytest.raises(ValueError, match="must have 3 channels"):
        A.ResNet50(weights="imagenet", include_top=False, input_shape=(64, 64, 1))
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations"):
        A.ResNet50(weights="imagenet", classifier_activation="relu")
    with pytest.raises(ValueError, match="alpha can be one of"):
        A.MobileNet(weights="imagenet", alpha=0.3)
    with pytest.raises(ValueError, match="depth multiplier must be 1"):
        A.MobileNet(weights="imagenet", depth_multiplier=2)
    with pytest.raises(ValueError, match="alpha must be one of"):
        A.MobileNetV2(weights="imagenet", alpha=0.2)
    with pytest.raises(ValueError, match="for minimalistic only"):
        A.MobileNetV3Large(weights="imagenet", alpha=0.75, minimalistic=True)
    with pytest.raises(ValueError, match='not match weights variant "convnext_tiny"'):
        A.ConvNeXtTiny(weights="imagenet", name="foo")
    missing = str(tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="Received: weights='.*missing.h5'"):
        A.DenseNet121(weights=missing)
    with pytest.raises(ValueError, match="Only `None` and `softmax`"):
        A.MobileNetV2(weights=__file__, classifier_activation="tanh")


def test_nested_model_weights_load_from_path_names(tmp_path):
    """A nested model's group lists its variables by path (ConvNeXt's stem)."""
    def build():
        inputs = tf.keras.Input((4,))
        block = tf.keras.Sequential(
            [tf.keras.layers.Dense(3, name="inner"),
             tf.keras.layers.BatchNormalization(name="bn")],
            name="block",
        )
        outputs = tf.keras.layers.Dense(2, name="head")(block(inputs))
        return tf.keras.Model(inputs, outputs)

    source, target = build(), build()
    values = _randomize(source, seed=7)
    path = tmp_path / "nested.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"input_1", b"block", b"head"])
        f.create_group("input_1").attrs["weight_names"] = np.array([], "S1")
        for layer in source.layers[1:]:
            group = f.create_group(layer.name)
            variables = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{layer.name}/{v.name}" for v in variables]  # nested paths
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for name, v in zip(names, variables):
                group.create_dataset(name, data=v.numpy())
    target.load_weights(str(path))
    for v, w in zip(values, target.weights):
        np.testing.assert_array_equal(v, w.numpy())


def test_save_weights_chunks_long_name_lists(tmp_path):
    from dlframe.keras.saving import weights_io

    names = [f"layer_with_a_rather_long_name_{i:05d}" for i in range(3000)]
    with h5py.File(tmp_path / "names.h5", "w") as f:
        weights_io.write_names(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
        assert weights_io.read_names(f, "layer_names") == names


@pytest.fixture
def class_index(keras_home, monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = keras_home.models / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    monkeypatch.setattr(pretrained, "CLASS_INDEX_HASH", _md5(path))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    return index


def test_decode_predictions_reads_the_cached_class_index(class_index, keras_home):
    rng = np.random.default_rng(0)
    preds = rng.uniform(size=(3, 1000)).astype("float32")
    preds[1, 17] = 5.0
    decoded = A.resnet50.decode_predictions(preds, top=3)
    assert keras_home.attempts == []
    assert len(decoded) == 3 and all(len(row) == 3 for row in decoded)
    for row, pred in zip(decoded, preds):
        best = np.argsort(pred)[::-1][:3]
        expected = [tuple(class_index[str(i)]) for i in best]
        assert [entry[:2] for entry in row] == expected
        np.testing.assert_array_equal([entry[2] for entry in row], pred[best])
    assert decoded[1][0][:2] == ("n00000017", "class_17")
    # default top=5, tensors accepted, every family exports the same function
    assert len(imagenet_utils.decode_predictions(tf.constant(preds))[0]) == 5
    assert A.mobilenet_v2.decode_predictions is A.imagenet_utils.decode_predictions


def test_decode_predictions_errors(keras_home, monkeypatch):
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    with pytest.raises(ValueError, match=r"\(samples, 1000\).*\(1000,\)"):
        A.vgg16.decode_predictions(np.zeros((1000,), "float32"))
    with pytest.raises(ValueError, match=r"Received array with shape: \(2, 10\)"):
        A.vgg16.decode_predictions(np.zeros((2, 10), "float32"))
    with pytest.raises(ConnectionError, match="imagenet_class_index.json"):
        A.vgg16.decode_predictions(np.zeros((1, 1000), "float32"))
    assert keras_home.attempts == [pretrained.CLASS_INDEX_ORIGIN]
