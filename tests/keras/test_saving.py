"""Weights files (Keras 2 ``.h5`` and Keras 3 ``.weights.h5`` layouts) and whole-model
files re-load identically."""

import h5py
import numpy as np
import pytest

from dlframe import keras

RNG = np.random.default_rng(4)
X = RNG.normal(size=(32, 6)).astype("float32")
Y = RNG.integers(0, 3, size=(32,))


def make_model():
    m = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(6,)),
                          keras.layers.Dense(3)])
    m.compile(keras.optimizers.Adam(0.01),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"], run_eagerly=True)
    return m


@pytest.mark.parametrize("name", ["w.h5", "w.weights.h5"])
def test_save_load_weights_round_trip(tmp_path, name):
    m = make_model()
    m.fit(X, Y, epochs=2, verbose=0)
    path = tmp_path / name
    m.save_weights(str(path))
    m2 = make_model()
    m2.load_weights(str(path))
    for a, b in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(m.predict(X, verbose=0), m2.predict(X, verbose=0))
    with h5py.File(path, "r") as f:
        if name.endswith(".weights.h5"):
            assert "layers" in f and len(f["layers"]) == 2
        else:
            names = [n.decode() for n in f.attrs["layer_names"]]
            assert len(names) == 2
            assert len(f[names[0]].attrs["weight_names"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == [name]   # no temp files left


def test_load_mismatch_errors(tmp_path):
    m = make_model()
    m.save_weights(str(tmp_path / "w.h5"))
    other = keras.Sequential([keras.layers.Dense(8, input_shape=(6,))])
    with pytest.raises(ValueError, match="Layer count mismatch"):
        other.load_weights(str(tmp_path / "w.h5"))
    wrong = keras.Sequential([keras.layers.Dense(5, input_shape=(6,)),
                              keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="Shape mismatch"):
        wrong.load_weights(str(tmp_path / "w.h5"))
    with pytest.raises(FileNotFoundError):
        m.load_weights(str(tmp_path / "missing.h5"))


def test_model_save_and_load_model(tmp_path):
    m = make_model()
    m.fit(X, Y, epochs=1, verbose=0)
    path = str(tmp_path / "model.h5")
    m.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(m.predict(X, verbose=0), loaded.predict(X, verbose=0),
                               rtol=1e-6)
    for a, b in zip(m.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    h1 = m.fit(X, Y, epochs=1, shuffle=False, verbose=0).history
    h2 = loaded.fit(X, Y, epochs=1, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)


@pytest.mark.parametrize("fname", ["w.weights.h5", "w.h5"])
def test_weights_round_trip_when_layer_names_sort_differently(tmp_path, fname):
    """Layer names whose alphabetical order differs from model order (HDF5 lists groups
    alphabetically): loading must still pair each saved layer with its own layer."""
    import dlframe as tf
    from dlframe.keras import layers
    inp = tf.keras.Input((4,))
    h = layers.Dense(3, name="zeta")(inp)
    h = layers.BatchNormalization(name="alpha")(h)
    out = layers.Dense(1, name="mid")(h)
    model = tf.keras.Model(inp, out)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    before = model.predict(x, verbose=0)
    path = tmp_path / fname
    model.save_weights(path)
    for w in model.weights:
        w.assign(tf.zeros_like(w))
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-6)
