"""Keras 3 ``.keras`` archives and ``*.weights.h5`` files, both ways with TF's Keras.

The files under tests/data/keras3/ were written by TensorFlow 2.21 / Keras 3.15
(tests/data/keras3/make_fixtures.py, with the predictions TF made), so these tests
check interoperability without importing TensorFlow.
"""

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

from dlframe import keras
from tests.data.keras3 import fixture_models

L = keras.layers
DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "keras3")
FIXTURES = ["sequential", "functional", "subclassed", "recurrent", "convolutional"]


Scale, TwoTower = fixture_models.define(keras)   # as make_fixtures.py defines them


def _fixture(name):
    data = np.load(os.path.join(DATA, f"{name}.npz"))
    xs = [data[k] for k in sorted(data.files) if k.startswith("x")]
    return os.path.join(DATA, f"{name}.keras"), (xs if len(xs) > 1 else xs[0]), data["y"]


def _datasets(h5file):
    out = {}
    h5file.visititems(lambda n, o: out.__setitem__(n, o.shape)
                      if isinstance(o, h5py.Dataset) else None)
    return out


def _archive_weights(path):
    with zipfile.ZipFile(path) as z:
        return h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")


def _same_architectures():
    """dlframe builds of the fixtures' architectures, by fixture name."""
    seq = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"),
                            L.Dropout(0.1), L.Dense(3, activation="softmax")])
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = Scale(0.5)(L.BatchNormalization()(L.Concatenate()([L.Dense(4, name="da")(a), b])))
    func = keras.Model([a, b], L.Dense(2, name="out")(h))
    sub = TwoTower(3)
    sub(np.zeros((1, 2), "float32"))
    rnn = keras.Sequential([keras.Input((6,), dtype="int32"), L.Embedding(10, 4),
                            L.LSTM(3, return_sequences=True), L.Bidirectional(L.GRU(2)),
                            L.Dense(1)])
    cnn = keras.Sequential([keras.Input((6, 6, 2)), L.Conv2D(3, 3, padding="same"),
                            L.MaxPooling2D(), L.LayerNormalization(), L.Flatten(),
                            L.Dense(2)])
    return {"sequential": seq, "functional": func, "subclassed": sub, "recurrent": rnn,
            "convolutional": cnn}


@pytest.mark.parametrize("name", FIXTURES)
def test_files_tf_keras_wrote_load_with_identical_predictions(name):
    path, x, y = _fixture(name)
    model = keras.models.load_model(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-5, atol=1e-6)


def test_compile_settings_and_optimizer_state_come_back():
    path, x, _ = _fixture("functional")
    model = keras.models.load_model(path)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.momentum == pytest.approx(0.9)
    assert isinstance(model.loss, keras.losses.MeanSquaredError)
    stored = _archive_weights(path)["optimizer/vars"]
    assert int(model.optimizer.iterations.numpy()) == 2
    for i, var in enumerate(model.optimizer.variables):
        np.testing.assert_allclose(var.numpy(), np.asarray(stored[str(i)]), rtol=1e-6)
    target = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    before = model.evaluate(x, target, verbose=0)[0]
    model.fit(x, target, epochs=20, verbose=0)
    assert model.evaluate(x, target, verbose=0)[0] < before
    uncompiled = keras.models.load_model(path, compile=False)
    assert not getattr(uncompiled, "_is_compiled", False)


@pytest.mark.parametrize("name", FIXTURES)
def test_written_weights_use_the_paths_tf_keras_writes(tmp_path, name):
    model = _same_architectures()[name]
    if name in ("sequential", "functional"):
        model.compile(optimizer="adam" if name == "sequential" else
                      keras.optimizers.SGD(0.01, momentum=0.9), loss="mse")
        model.optimizer.build(model.trainable_variables)
    out = str(tmp_path / "m.keras")
    model.save(out)
    assert sorted(zipfile.ZipFile(out).namelist()) == [
        "config.json", "metadata.json", "model.weights.h5"]
    theirs = _datasets(_archive_weights(os.path.join(DATA, f"{name}.keras")))
    assert _datasets(_archive_weights(out)) == theirs


def test_written_config_is_keras3_style_and_round_trips(tmp_path):
    model = _same_architectures()["functional"]
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    x = [np.random.default_rng(1).normal(size=(8, 3)).astype("float32"),
         np.random.default_rng(2).normal(size=(8, 2)).astype("float32")]
    model.fit(x, np.ones((8, 2), "float32"), epochs=2, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    assert config["class_name"] == "Functional" and "module" in config
    layers = {entry["config"]["name"]: entry for entry in config["config"]["layers"]}
    assert layers["da"]["module"] == "keras.layers"
    assert layers["da"]["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert layers["a"]["config"]["batch_shape"] == [None, 3]
    custom = [e for e in layers.values() if e["class_name"] == "Scale"]
    assert [e["registered_name"] for e in custom] == ["fixtures>Scale"]
    assert config["compile_config"]["optimizer"]["class_name"] == "SGD"
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    for mine, theirs in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_sequential_with_input_shape_gets_an_input_layer_entry(tmp_path):
    model = keras.Sequential([L.Dense(5, activation="relu", input_shape=(4,)),
                              L.Dense(1)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    entries = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]["layers"]
    assert entries[0]["class_name"] == "InputLayer"
    assert all("batch_input_shape" not in e["config"] for e in entries)
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_weights_files_in_keras3_layout_both_ways(tmp_path):
    model = _same_architectures()["sequential"]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.load_weights(os.path.join(DATA, "sequential.weights.h5"))
    _, x, y = _fixture("sequential")
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-5, atol=1e-6)
    model.optimizer.build(model.trainable_variables)
    out = str(tmp_path / "w.weights.h5")
    model.save_weights(out)
    with h5py.File(os.path.join(DATA, "sequential.weights.h5"), "r") as theirs, \
            h5py.File(out, "r") as mine:
        assert _datasets(mine) == _datasets(theirs)
    other = _same_architectures()["sequential"]
    other.load_weights(out)
    np.testing.assert_allclose(other.predict(x, verbose=0), y, rtol=1e-5, atol=1e-6)


def test_lambda_layers_need_unsafe_mode(tmp_path):
    model = keras.Sequential([keras.Input((3,)), L.Lambda(lambda t: t * 2.0 + 1.0),
                              L.Dense(2)])
    path = str(tmp_path / "lam.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(path)
    x = np.ones((2, 3), "float32")
    loaded = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unregistered_custom_layer_needs_custom_objects(tmp_path):
    class Twice(L.Layer):
        def call(self, x):
            return x * 2.0

    model = keras.Sequential([keras.Input((2,)), Twice(), L.Dense(1)])
    path = str(tmp_path / "c.keras")
    model.save(path)
    with pytest.raises(ValueError, match="Twice"):
        keras.models.load_model(path)
    with keras.saving.custom_object_scope({"Twice": Twice}):
        loaded = keras.models.load_model(path)
    x = np.ones((3, 2), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bad_archives_get_clear_errors(tmp_path):
    path = str(tmp_path / "bad.keras")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(ValueError, match="config.json"):
        keras.models.load_model(path)


def test_serialize_keras_object_uses_keras3_dicts():
    dense = L.Dense(3, activation="relu")
    config = keras.saving.serialize_keras_object(dense)
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        "keras.layers", "Dense", None)
    assert config["config"]["kernel_initializer"]["module"] == "keras.initializers"
    rebuilt = keras.saving.deserialize_keras_object(config)
    assert isinstance(rebuilt, L.Dense) and rebuilt.units == 3
    scale = keras.saving.serialize_keras_object(Scale(0.25))
    assert (scale["class_name"], scale["registered_name"]) == ("Scale", "fixtures>Scale")
    assert keras.saving.deserialize_keras_object(scale).init == 0.25
    relu = keras.saving.serialize_keras_object(keras.activations.relu)
    assert relu["class_name"] == "function" and relu["config"] == "relu"
    assert keras.saving.deserialize_keras_object(relu) is keras.activations.relu
    # a config TF's Keras 3.15 wrote (newer arguments at their defaults are dropped)
    tf_config = {"module": "keras.layers", "class_name": "Embedding", "config": {
        "name": "embedding", "trainable": True, "dtype": {
            "module": "keras", "class_name": "DTypePolicy",
            "config": {"name": "float32"}, "registered_name": None},
        "input_dim": 10, "output_dim": 4, "mask_zero": False,
        "quantization_config": None}, "registered_name": None}
    emb = keras.saving.deserialize_keras_object(tf_config)
    assert (emb.input_dim, emb.output_dim, emb.dtype) == (10, 4, "float32")
    assert keras.saving.get_custom_objects()["fixtures>Scale"] is Scale
