"""Keras 2's ``backend.function``: intermediate layer values from a built model."""

import numpy as np
import pytest

import dlframe as tf

K = tf.keras.backend


def _model():
    inp = tf.keras.Input((4,))
    hidden = tf.keras.layers.Dense(3, activation="relu", name="h")(inp)
    out = tf.keras.layers.Dense(2, name="o")(hidden)
    return tf.keras.Model(inp, out)


def test_function_returns_intermediate_values_as_numpy():
    model = _model()
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    kernel, bias = model.get_layer("h").get_weights()
    want_hidden = np.maximum(x @ kernel + bias, 0)
    f = K.function([model.input], [model.get_layer("h").output, model.output])
    hidden, out = f([x])
    np.testing.assert_allclose(hidden, want_hidden, rtol=1e-6)
    np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=1e-6)
    single = K.function(model.input, model.get_layer("h").output)
    np.testing.assert_allclose(single([x]), want_hidden, rtol=1e-6)


def test_function_on_a_sequential_model_and_bad_calls():
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3),
                                 tf.keras.layers.Dense(1)])
    f = K.function([model.layers[0].input], [model.layers[0].output])
    x = np.ones((2, 4), "float32")
    kernel, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(f([x])[0], x @ kernel + bias, rtol=1e-6)
    with pytest.raises(ValueError, match="takes 1 input"):
        f([x, x])
    with pytest.raises(ValueError, match="updates"):
        K.function([model.input], [model.output], updates=[("v", 1)])


def test_resize_volumes_repeats_each_spatial_axis():
    x = np.arange(8, dtype="float32").reshape(1, 2, 2, 2, 1)
    out = K.resize_volumes(x, 2, 1, 3, "channels_last").numpy()
    np.testing.assert_array_equal(out, np.repeat(np.repeat(x, 2, axis=1), 3, axis=3))
