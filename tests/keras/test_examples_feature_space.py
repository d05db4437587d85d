"""keras.io "Structured data classification with FeatureSpace", on synthetic data:
``keras.utils.FeatureSpace`` encodes, adapts, builds models and saves as in Keras 3."""

import json
import zipfile

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
FeatureSpace = keras.utils.FeatureSpace


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def _heart_like(n=40, seed=0):
    rng = np.random.default_rng(seed)
    data = {"age": rng.integers(20, 80, n).astype("int64"),
            "sex": rng.integers(0, 2, n).astype("int64"),
            "thal": rng.choice(["fixed", "normal", "reversible"], n),
            "chol": rng.normal(200, 30, n)}
    rng.random(n)   # (the TF reference run drew one more column here)
    data["ca"] = rng.integers(0, 4, n).astype("int64")
    labels = (data["chol"] > 200).astype("int64")
    return data, labels


def _example_space():
    return FeatureSpace(
        features={"sex": FeatureSpace.integer_categorical(num_oov_indices=0),
                  "ca": FeatureSpace.integer_categorical(num_oov_indices=0),
                  "thal": FeatureSpace.string_categorical(num_oov_indices=0),
                  "age": FeatureSpace.float_discretized(num_bins=5),
                  "chol": FeatureSpace.float_normalized()},
        crosses=[FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=8),
                 FeatureSpace.cross(feature_names=("thal", "ca"), crossing_dim=4)],
        output_mode="concat")


def _hashed_cross(a, b, bins):
    layer = keras.layers.HashedCrossing(bins)
    return int(np.asarray(layer((tf.constant([a]), tf.constant([b])))).ravel()[0])


def test_concat_layout_matches_the_preprocessing_layers():
    data, labels = _heart_like()
    fs = _example_space()
    ds = tf.data.Dataset.from_tensor_slices((data, labels)).batch(8)
    with pytest.raises(ValueError, match=r"call `.adapt\(dataset\)`"):
        fs({k: v[:2] for k, v in data.items()})
    fs.adapt(ds.map(lambda x, _: x))
    out = np.asarray(fs({k: v[:8] for k, v in data.items()}))
    # sex 2 + ca 4 + thal 3 + age 5 bins + chol 1 + crosses 8 + 4 (TF 2.21: 28)
    assert out.shape == (8, 27) and out.dtype == np.float32
    vocab = {k: fs.preprocessors[k].get_vocabulary() for k in ("ca", "sex", "thal")}
    bounds = fs.preprocessors["age"].bin_boundaries
    assert len(bounds) == 4
    mean, std = data["chol"].mean(), data["chol"].std()
    for row, i in zip(out, range(8)):
        bucket = int(np.searchsorted(bounds, data["age"][i], side="right"))
        want = np.concatenate([
            np.eye(5)[bucket],                                           # age
            np.eye(4)[vocab["ca"].index(data["ca"][i])],                 # ca
            [(data["chol"][i] - mean) / std],                            # chol
            np.eye(2)[vocab["sex"].index(data["sex"][i])],               # sex
            np.eye(3)[vocab["thal"].index(data["thal"][i])],             # thal
            np.eye(8)[_hashed_cross(vocab["sex"].index(data["sex"][i]), bucket, 8)],
            np.eye(4)[_hashed_cross(vocab["thal"].index(data["thal"][i]),
                                    vocab["ca"].index(data["ca"][i]), 4)]])
        np.testing.assert_allclose(row, want, rtol=1e-4, atol=1e-4)
    # one sample of scalars gives one vector
    one = fs({k: v[0] for k, v in data.items()})
    np.testing.assert_allclose(np.asarray(one), out[0], atol=1e-6)


def test_values_and_names_match_tf():
    data, _ = _heart_like()
    fs = _example_space()
    fs.adapt(tf.data.Dataset.from_tensor_slices(data).batch(8))
    # Taken from TF 2.21 on the same data.
    thal = fs.preprocessors["thal"]
    assert thal.get_vocabulary() == ["reversible", "fixed", "normal"]
    assert fs.preprocessors["ca"].get_vocabulary() == [3, 0, 1, 2]
    np.testing.assert_allclose(fs.preprocessors["age"].bin_boundaries,
                               [25.0, 45.0, 56.0, 68.0])
    row = np.asarray(fs({k: v[:1] for k, v in data.items()}))[0]
    np.testing.assert_allclose(row[9], -0.498, atol=1e-3)
    assert row[[4, 6, 11, 12, 20, 26]].tolist() == [1, 1, 1, 1, 1, 1]
    assert row.sum() == pytest.approx(6 - 0.498, abs=1e-3)
    assert {k: v.name for k, v in fs.preprocessors.items()} == {
        "sex": "integer_categorical_preprocessor",
        "ca": "integer_categorical_1_preprocessor",
        "thal": "string_categorical_preprocessor",
        "age": "float_discretized_preprocessor",
        "chol": "float_normalized_preprocessor"}
    assert sorted(fs.crossers) == ["sex_X_age", "thal_X_ca"]


def test_keras_io_training_and_inference_models():
    data, labels = _heart_like(n=64)
    fs = _example_space()
    train_ds = tf.data.Dataset.from_tensor_slices((data, labels)).batch(16)
    fs.adapt(train_ds.map(lambda x, _: x))
    preprocessed = train_ds.map(lambda x, y: (fs(x), y),
                                num_parallel_calls=tf.data.AUTOTUNE)
    dict_inputs = fs.get_inputs()
    assert {k: (tuple(v.shape), v.dtype.name) for k, v in dict_inputs.items()} == {
        "sex": ((None, 1), "int32"), "ca": ((None, 1), "int32"),
        "thal": ((None, 1), "string"), "age": ((None, 1), "float32"),
        "chol": ((None, 1), "float32")}
    encoded = fs.get_encoded_features()
    assert tuple(encoded.shape) == (None, 27)
    x = keras.layers.Dense(16, activation="relu")(encoded)
    predictions = keras.layers.Dense(1, activation="sigmoid")(x)
    training_model = keras.Model(inputs=encoded, outputs=predictions)
    training_model.compile(optimizer=keras.optimizers.Adam(0.05),
                           loss="binary_crossentropy", metrics=["accuracy"])
    inference_model = keras.Model(inputs=dict_inputs, outputs=predictions)
    history = training_model.fit(preprocessed, epochs=25, validation_data=preprocessed,
                                 verbose=0)
    assert history.history["accuracy"][-1] >= 0.9
    sample = {"age": 60, "sex": 1, "thal": "fixed", "chol": 230.0, "ca": 0}
    inputs = {name: keras.ops.convert_to_tensor([value])
              for name, value in sample.items()}
    got = inference_model.predict(inputs, verbose=0)
    want = training_model.predict(fs(inputs), verbose=0)
    assert got.shape == (1, 1)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_dict_mode_int_and_hashed_features():
    rng = np.random.default_rng(1)
    data = {"s": rng.choice(["x", "y", "z"], 12), "i": rng.integers(0, 4, 12),
            "f": rng.random(12), "r": rng.random(12).astype("float32"),
            "h": rng.integers(0, 100, 12)}
    fs = FeatureSpace(
        features={"s": FeatureSpace.string_categorical(output_mode="int"),
                  "i": "integer_categorical", "f": "float",
                  "r": FeatureSpace.float_rescaled(scale=2.0, offset=1.0),
                  "h": "integer_hashed"},
        crosses=[FeatureSpace.cross(("s", "i"), crossing_dim=5, output_mode="int")],
        output_mode="dict", hashing_dim=6)
    fs.adapt(data)   # a dict of arrays works like a dataset of samples
    out = fs(data)
    assert sorted(out) == ["f", "h", "i", "r", "s", "s_X_i"]
    assert out["s"].dtype.is_integer and tuple(out["s"].shape) == (12, 1)
    vocab = fs.preprocessors["s"].get_vocabulary()
    assert np.asarray(out["s"]).ravel().tolist() == [vocab.index(v) for v in data["s"]]
    assert tuple(out["i"].shape) == (12, 5)   # 4 values + 1 OOV
    np.testing.assert_allclose(np.asarray(out["f"]).ravel(), data["f"], rtol=1e-6)
    assert out["f"].dtype == tf.float32
    np.testing.assert_allclose(np.asarray(out["r"]).ravel(), data["r"] * 2 + 1,
                               rtol=1e-6)
    hashed = keras.layers.Hashing(6)(data["h"][:, None])
    np.testing.assert_array_equal(np.asarray(out["h"]),
                                  np.eye(6)[np.asarray(hashed).ravel()])
    assert np.asarray(out["s_X_i"]).max() < 5


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace(features={})
    with pytest.raises(ValueError, match="Invalid feature type: 'floaty'"):
        FeatureSpace(features={"a": "floaty"})
    with pytest.raises(ValueError, match="output_mode='list'"):
        FeatureSpace(features={"a": "float"}, output_mode="list")
    with pytest.raises(ValueError, match="unknown features"):
        FeatureSpace(features={"a": "float"}, crosses=[("a", "b")])
    with pytest.raises(ValueError, match="output_mode='multi_hot'"):
        FeatureSpace.float_discretized(num_bins=3, output_mode="multi_hot")
    fs = FeatureSpace(
        features={"d": FeatureSpace.integer_categorical(output_mode="int")})
    with pytest.raises(ValueError, match="because feature 'd' has not been encoded"):
        fs.adapt({"d": [1, 2, 3]})
    plain = FeatureSpace(features={"x": "float"})
    with pytest.raises(ValueError, match="can only be called with a dict"):
        plain(np.zeros((2, 1)))
    # nothing to adapt: usable at once ("float" casts integers to float32)
    np.testing.assert_array_equal(np.asarray(plain({"x": [1, 2]})), [[1.0], [2.0]])


def test_config_round_trip_and_keras_archive(tmp_path):
    data, _ = _heart_like()
    fs = _example_space()
    fs.adapt(data)
    want = np.asarray(fs(data))
    clone = FeatureSpace.from_config(fs.get_config())
    assert sorted(clone.features) == sorted(fs.features)
    assert [c.name for c in clone.crosses] == ["sex_X_age", "thal_X_ca"]
    path = str(tmp_path / "featurespace.keras")
    fs.save(path)
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
        assert "assets/preprocessors/string_lookup/vocabulary.txt" in z.namelist()
    # Keras 3's module names, so that TensorFlow's Keras reads the file
    assert config["module"] == "keras.utils" and config["class_name"] == "FeatureSpace"
    assert config["config"]["features"]["sex"]["registered_name"] == "Feature"
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, FeatureSpace)
    np.testing.assert_allclose(np.asarray(reloaded(data)), want, atol=1e-6)
    with pytest.raises(ValueError, match="should end in '.keras'"):
        fs.save(str(tmp_path / "fs.h5"))


def test_model_with_adapted_lookups_reloads_from_keras_archive(tmp_path):
    """A .keras archive keeps vocabularies learned by adapt (Keras 3's assets)."""
    lookup = keras.layers.StringLookup()
    lookup.adapt(["a", "b", "a"])
    ints = keras.layers.IntegerLookup(num_oov_indices=0)
    ints.adapt([7, 3, 7])
    s_in = keras.Input((1,), dtype="string")
    i_in = keras.Input((1,), dtype="int64")
    out = keras.layers.Concatenate()([
        keras.layers.CategoryEncoding(3, output_mode="one_hot")(lookup(s_in)),
        keras.layers.CategoryEncoding(2, output_mode="one_hot")(ints(i_in))])
    model = keras.Model([s_in, i_in], out)
    x = [tf.constant([["a"], ["b"], ["z"]]), np.array([[3], [7], [7]])]
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))
    assert again.layers[2].get_vocabulary() == ["[UNK]", "a", "b"]


def test_adapted_discretization_config_round_trip():
    layer = keras.layers.Discretization(num_bins=3)
    layer.adapt(np.arange(9.0))
    clone = keras.layers.Discretization.from_config(layer.get_config())
    assert clone.bin_boundaries == layer.bin_boundaries and clone.num_bins == 3
    out = clone(np.array([0.0, 4.0, 8.0]))
    np.testing.assert_array_equal(np.asarray(out), [0, 1, 2])
