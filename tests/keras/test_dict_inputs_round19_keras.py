"""Functional models fed dicts: by the keys of the ``inputs`` structure (Keras 3) or
by the Input layers' names (Keras 2), in any key order, through call, predict, fit,
evaluate, tf.data and saved/reloaded models."""

import re
import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

S = np.array([[1.0], [2.0], [-1.0], [0.5]], "float32")
T = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, -2.0], [1.5, 1.0]], "float32")
# Dense(ones) on concat([s, t]) is the row sum
ROW_SUM = np.concatenate([S, T], axis=1).sum(axis=1, keepdims=True)


def _keyed_model():
    a = keras.Input((1,), name="a_name")
    b = keras.Input((2,), name="other")
    x = keras.layers.Concatenate()([a, b])
    out = keras.layers.Dense(1, kernel_initializer="ones", name="d")(x)
    return keras.Model({"s": a, "t": b}, out)


FEEDS = {
    "keys": lambda: {"s": S, "t": T},
    "keys reversed": lambda: {"t": T, "s": S},
    "input names": lambda: {"a_name": S, "other": T},
    "input names reversed": lambda: {"other": T, "a_name": S},
    "keys plus extra": lambda: {"t": T, "s": S, "unused": T},
}


@pytest.mark.parametrize("feed", list(FEEDS))
def test_call_and_predict_match_by_key_or_name(feed):
    model = _keyed_model()
    np.testing.assert_allclose(model(FEEDS[feed]()).numpy(), ROW_SUM, rtol=1e-6)
    np.testing.assert_allclose(model.predict(FEEDS[feed](), verbose=0), ROW_SUM,
                               rtol=1e-6)


def test_flat_inputs_and_spec_names_follow_sorted_keys():
    a, b = keras.Input((1,), name="a_name"), keras.Input((1,), name="other")
    model = keras.Model({"zk": a, "ak": b}, keras.layers.Concatenate()([a, b]))
    # TF 2.21: model.inputs sorted by key, input specs named after the keys
    assert [t.name for t in model.inputs] == ["other", "a_name"]
    assert [s.name for s in model.input_spec] == ["ak", "zk"]
    one = np.ones((1, 1), "float32")
    np.testing.assert_array_equal(model({"zk": one, "ak": 2 * one}).numpy(),
                                  [[1.0, 2.0]])
    np.testing.assert_array_equal(model({"other": 2 * one, "a_name": one}).numpy(),
                                  [[1.0, 2.0]])


def test_list_input_model_takes_names_and_ignores_extra_keys():
    a, b = keras.Input((1,), name="a_name"), keras.Input((1,), name="other")
    model = keras.Model([a, b], keras.layers.Concatenate()([a, b]))
    one = np.ones((1, 1), "float32")
    got = model({"other": 2 * one, "a_name": one, "zz": one}).numpy()
    np.testing.assert_array_equal(got, [[1.0, 2.0]])


@pytest.mark.parametrize("feed,missing", [
    ({"x": S, "y": T}, "s"), ({"s": S}, "t"), ({"a_name": S}, "s")])
def test_no_match_names_expected_and_received_keys(feed, missing):
    model = _keyed_model()
    # TF 2.21's message, plus the Keras 2 spelling dlframe also accepts
    message = (f'Missing data for input "{missing}". You passed a data dictionary '
               f"with keys {list(feed)}. Expected the following keys: ['s', 't'] "
               "(or the Input names ['a_name', 'other'])")
    with pytest.raises(ValueError, match=re.escape(message)):
        model(feed)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=f'Missing data for input "{missing}"'):
        model.fit(feed, ROW_SUM, verbose=0)


def test_same_keys_and_names_keep_the_plain_message():
    x, y = keras.Input((1,), name="x"), keras.Input((1,), name="y")
    model = keras.Model({"x": x, "y": y}, keras.layers.Concatenate()([x, y]))
    with pytest.raises(ValueError) as info:
        model({"x": np.ones((1, 1))})
    assert str(info.value).endswith("Expected the following keys: ['x', 'y']")


def _regression_data(seed=0, n=256):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, 1)).astype("float32")
    t = rng.normal(size=(n, 2)).astype("float32")
    y = 2.0 * s - t[:, :1] + 0.5 * t[:, 1:] + 1.0
    return s, t, y


@pytest.mark.parametrize("style", ["keys", "names"])
def test_fit_and_evaluate_learn_from_dicts(style):
    keras.utils.set_random_seed(1)
    s, t, y = _regression_data()
    a, b = keras.Input((1,), name="a_name"), keras.Input((2,), name="other")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
    model = keras.Model({"s": a, "t": b}, out)
    model.compile(keras.optimizers.Adam(0.05), "mse")
    feed = {"t": t, "s": s} if style == "keys" else {"other": t, "a_name": s}
    before = model.evaluate(feed, y, verbose=0)
    history = model.fit(feed, y, epochs=30, batch_size=32, verbose=0)
    after = model.evaluate(feed, y, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after < 0.01 < before
    w = np.concatenate([v.numpy().ravel() for v in model.layers[-1].weights])
    np.testing.assert_allclose(w, [2.0, -1.0, 0.5, 1.0], atol=0.05)


def test_dataset_of_dict_elements_by_keys():
    keras.utils.set_random_seed(2)
    s, t, y = _regression_data(seed=3)
    ds = tf.data.Dataset.from_tensor_slices(({"t": t, "s": s}, y)).batch(32)
    a, b = keras.Input((1,), name="a_name"), keras.Input((2,), name="other")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
    model = keras.Model({"s": a, "t": b}, out)
    model.compile(keras.optimizers.Adam(0.05), "mse")
    model.fit(ds, epochs=30, verbose=0)
    assert model.evaluate(ds, verbose=0) < 0.01
    by_ds = model.predict(ds.map(lambda features, target: features), verbose=0)
    np.testing.assert_allclose(by_ds, model.predict({"s": s, "t": t}, verbose=0),
                               rtol=1e-5, atol=1e-6)


def _nested_model():
    p, q, r = (keras.Input((1,), name=n) for n in "pqr")
    out = keras.layers.Concatenate()([p, q, r])
    return keras.Model({"x": {"u": p, "v": q}, "z": r}, out)


def test_nested_structure_by_keys_and_by_names():
    model = _nested_model()
    one = np.ones((1, 1), "float32")
    by_keys = model({"z": 3 * one, "x": {"v": 2 * one, "u": one}}).numpy()
    by_names = model({"r": 3 * one, "q": 2 * one, "p": one}).numpy()
    np.testing.assert_array_equal(by_keys, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(by_names, [[1.0, 2.0, 3.0]])


def test_nested_mismatch_flattens_with_warning_as_keras3():
    model = _nested_model()
    one = np.ones((1, 1), "float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = model({"z": 3 * one, "x": {"w": 2 * one, "u": one}}).numpy()
    # TF 2.21: [[1, 2, 3]] (the leaves in sorted-key order) and a UserWarning
    np.testing.assert_array_equal(got, [[1.0, 2.0, 3.0]])
    assert any("doesn't match the expected structure" in str(w.message)
               for w in caught)
    with pytest.raises(ValueError, match='Missing data for input "x"'):
        model({"z": one, "x": {"w": one}})


@pytest.mark.parametrize("filename", ["m.keras", "m.h5"])
def test_saved_and_reloaded_model_takes_keys_and_names(tmp_path, filename):
    model = _keyed_model()
    path = str(tmp_path / filename)
    model.save(path)
    loaded = keras.models.load_model(path)
    assert sorted(loaded.input) == ["s", "t"]
    for feed in ({"t": T, "s": S}, {"other": T, "a_name": S}):
        np.testing.assert_allclose(loaded.predict(feed, verbose=0), ROW_SUM, rtol=1e-6)


def test_saved_model_and_export_take_keys(tmp_path):
    model = _keyed_model()
    tf.saved_model.save(model, str(tmp_path / "sm"))
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    np.testing.assert_allclose(loaded({"t": T, "s": S}).numpy(), ROW_SUM, rtol=1e-6)
    model.export(str(tmp_path / "export"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "export"))
    for feed in ({"t": T, "s": S}, {"other": T, "a_name": S}):
        np.testing.assert_allclose(served.serve(feed).numpy(), ROW_SUM, rtol=1e-6)


def test_call_under_function_matches_eager():
    model = _keyed_model()
    compiled = tf.function(lambda d: model(d))
    for feed in (FEEDS["keys reversed"](), FEEDS["input names"]()):
        np.testing.assert_allclose(compiled(feed).numpy(), model(feed).numpy(),
                                   rtol=1e-6)
