"""Regenerates the Keras 3 fixture files in this folder (developer tool only).

Needs TensorFlow 2.16+ (Keras 3); dlframe and its tests never import TensorFlow:
the tests read the files this script wrote. Run from any directory:

    /path/to/tf-python tests/data/keras3/make_fixtures.py

Each ``<name>.keras`` (and ``seq.weights.h5``) comes with ``<name>.npz`` holding an
input batch ``x`` (or ``x0``, ``x1``...) and the model's predictions ``y``.
"""

import os
import sys
import zipfile

import keras
import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fixture_models  # noqa: E402 - the classes shared with the tests

L = keras.layers
RNG = np.random.default_rng(0)


def _deflate(path):
    """Re-packs a zip with compression: Keras stores members uncompressed and the
    HDF5 padding makes that ~10x larger."""
    with zipfile.ZipFile(path) as z:
        members = [(info.filename, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)


def _save(name, model, inputs):
    model.save(os.path.join(HERE, f"{name}.keras"))
    _deflate(os.path.join(HERE, f"{name}.keras"))
    y = model.predict(inputs, verbose=0)
    arrays = {"y": y}
    if isinstance(inputs, list):
        arrays.update({f"x{i}": v for i, v in enumerate(inputs)})
    else:
        arrays["x"] = inputs
    np.savez(os.path.join(HERE, f"{name}.npz"), **arrays)


Scale, TwoTower = fixture_models.define(keras)


def sequential():
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu"),
                              L.Dropout(0.1), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = RNG.normal(size=(16, 4)).astype("float32")
    model.fit(x, RNG.integers(0, 3, 16), epochs=2, verbose=0)
    _save("sequential", model, x)
    model.save_weights(os.path.join(HERE, "sequential.weights.h5"))


def functional():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = L.Concatenate()([L.Dense(4, name="da")(a), b])
    h = L.BatchNormalization()(h)
    h = Scale(0.5)(h)
    out = L.Dense(2, name="out")(h)
    model = keras.Model([a, b], out)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    xs = [RNG.normal(size=(8, 3)).astype("float32"),
          RNG.normal(size=(8, 2)).astype("float32")]
    model.fit(xs, RNG.normal(size=(8, 2)).astype("float32"), epochs=2, verbose=0)
    _save("functional", model, xs)


def subclassed():
    model = TwoTower(3)
    x = RNG.normal(size=(5, 2)).astype("float32")
    model(x)
    _save("subclassed", model, x)


def recurrent():
    model = keras.Sequential([keras.Input((6,), dtype="int32"), L.Embedding(10, 4),
                              L.LSTM(3, return_sequences=True),
                              L.Bidirectional(L.GRU(2)), L.Dense(1)])
    x = RNG.integers(0, 10, (4, 6)).astype("int32")
    _save("recurrent", model, x)


def convolutional():
    model = keras.Sequential([keras.Input((6, 6, 2)), L.Conv2D(3, 3, padding="same"),
                              L.MaxPooling2D(), L.LayerNormalization(), L.Flatten(),
                              L.Dense(2)])
    x = RNG.normal(size=(2, 6, 6, 2)).astype("float32")
    _save("convolutional", model, x)


if __name__ == "__main__":
    tf.random.set_seed(0)
    keras.utils.set_random_seed(0)
    for make in (sequential, functional, subclassed, recurrent, convolutional):
        make()
