"""Keras 2 behaviour: public TF ops called on KerasTensors while building a functional
model insert op layers (TFOpLambda) that compute, train, serialize and reload."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers


def _model():
    inp = keras.Input((8,))
    h = layers.Dense(16, name="d1")(inp)
    x = tf.nn.relu(h)
    y = tf.concat([x, inp], axis=-1)
    y = tf.reshape(y, [tf.shape(inp)[0], 6, 4])      # batch size from tf.shape
    y = tf.reduce_mean(y, axis=1)
    y = tf.cast(tf.cast(y, tf.float16), "float32")
    y = tf.expand_dims(tf.math.l2_normalize(y, axis=-1), 1) * 2.0
    out = layers.Dense(1, name="d2")(tf.squeeze(y, axis=1))
    return keras.Model(inp, out)


def _reference(model, a):
    k1, b1 = (w.numpy() for w in model.get_layer("d1").weights)
    k2, b2 = (w.numpy() for w in model.get_layer("d2").weights)
    x = np.maximum(a @ k1 + b1, 0)
    y = np.concatenate([x, a], -1).reshape(len(a), 6, 4).mean(1)
    y = y.astype(np.float16).astype(np.float32)
    y = y / np.sqrt(np.maximum((y * y).sum(-1, keepdims=True), 1e-12)) * 2.0
    return y @ k2 + b2


def test_ops_on_keras_tensors_build_op_layers_that_compute():
    model = _model()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("TFOpLambda") == 12   # shape and [0] are op layers too
    names = [layer.name for layer in model.layers]
    assert "tf.nn.relu" in names and "tf.concat" in names and "tf.reshape" in names
    a = np.random.default_rng(0).random((5, 8)).astype(np.float32)
    np.testing.assert_allclose(model(a).numpy(), _reference(model, a), rtol=1e-4, atol=1e-5)
    assert model.output_shape == (None, 1)
    # another batch size: tf.shape(inp)[0] is recomputed per call
    b = np.random.default_rng(1).random((3, 8)).astype(np.float32)
    np.testing.assert_allclose(model.predict(b, verbose=0), _reference(model, b), rtol=1e-4,
                               atol=1e-5)


def test_model_with_op_layers_trains_and_reloads(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.random((64, 8)).astype(np.float32)
    target = (a[:, :1] > 0.5).astype(np.float32)
    model = _model()
    model.compile(keras.optimizers.Adam(0.02), "mse")
    hist = model.fit(a, target, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    for fname in ("m.keras", "m.h5"):
        path = os.path.join(tmp_path, fname)
        model.save(path)
        again = keras.models.load_model(path)
        np.testing.assert_allclose(again.predict(a, verbose=0), model.predict(a, verbose=0),
                                   rtol=1e-5, atol=1e-6)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(a).numpy(), model(a).numpy(), rtol=1e-5, atol=1e-6)


def test_keyword_only_call_and_constant_operands():
    inp = keras.Input((3,))
    y = tf.concat(values=[inp, inp * 2.0], axis=1)
    z = tf.add(y, tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    model = keras.Model(inp, z)
    a = np.array([[1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_allclose(model(a).numpy(), [[2, 4, 6, 6, 9, 12]])
    rebuilt = keras.Model.from_config(model.get_config())
    np.testing.assert_allclose(rebuilt(a).numpy(), [[2, 4, 6, 6, 9, 12]])


def test_public_op_activations_are_keras_activations():
    for op, name in ((tf.nn.relu, "relu"), (tf.nn.tanh, "tanh"), (tf.math.sigmoid, "sigmoid"),
                     (tf.nn.silu, "swish")):
        assert keras.activations.get(op) is getattr(keras.activations, name)
        assert layers.Dense(2, activation=op).get_config()["activation"] == name
    lstm = layers.LSTM(4, activation=tf.nn.tanh, recurrent_activation=tf.sigmoid)
    from dlframe.keras.layers import rnn_kernels
    assert rnn_kernels.fused_reason(lstm) is None


def test_concrete_values_still_refused_where_no_op_layer_applies():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match="symbolic"):
        tf.constant(x)   # not an op: no layer to insert


def test_public_wrappers_are_made_once():
    from dlframe.ops import names, random as random_ops
    for _ in range(2):   # collecting again must not wrap a wrapper
        names.collect("RANDOM_NAMES")
    split = tf.random.experimental.stateless_split
    assert split is tf.random.split
    assert names.unwrap(split) is random_ops.split
    assert names.public_op(tf.nn.relu, "nn.relu") is tf.nn.relu
