"""Keras guide "Making new layers and models via subclassing" (and the Keras 2 era
functional idioms it relies on): add_weight in both argument orders, add_metric,
backend/loss functions on functional-model tensors, nested-input RNN cells."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers

K = keras.backend


# ---------------------------------------------------------------- add_weight
class _PositionalWeights(layers.Layer):
    """Keras 3's order: add_weight(shape, initializer, dtype, ...)."""

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], 3), "ones")
        self.bias = self.add_weight((3,), "zeros", "float32", name="bias")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, x):
        return tf.matmul(x, self.kernel) + self.bias


def test_add_weight_keras3_positional_order():
    layer = _PositionalWeights()
    x = np.arange(8, dtype="float32").reshape(4, 2)
    out = layer(x).numpy()
    np.testing.assert_allclose(out, x @ np.ones((2, 3)))
    assert [tuple(w.shape) for w in layer.weights] == [(2, 3), (3,), ()]
    assert [w.trainable for w in layer.weights] == [True, True, False]
    assert "bias" in layer.bias.name


def test_add_weight_keras2_positional_name_still_first():
    class Keras2(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1], 2), "float32", "ones")

        def call(self, x):
            return tf.matmul(x, self.w)

    layer = Keras2()
    np.testing.assert_allclose(layer(np.ones((1, 3), "float32")).numpy(), [[3.0, 3.0]])
    assert "w" in layer.w.name


def test_add_weight_rejects_a_value_given_twice():
    layer = layers.Layer()
    with pytest.raises(TypeError, match="multiple values for argument 'shape'"):
        layer.add_weight((2,), shape=(3,))


def test_metric_add_variable_and_add_weight_keras3_order():
    class Hits(keras.metrics.Metric):
        def __init__(self, name="hits", **kwargs):
            super().__init__(name=name, **kwargs)
            self.hits = self.add_variable((), "zeros", name="hits")
            self.seen = self.add_weight((), "zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            match = tf.cast(tf.equal(tf.argmax(y_pred, -1), tf.cast(y_true, "int64")),
                            "float32")
            self.hits.assign_add(tf.reduce_sum(match))
            self.seen.assign_add(tf.cast(tf.size(match), "float32"))

        def result(self):
            return self.hits / self.seen

    metric = Hits()
    metric.update_state(np.array([1, 2]), np.eye(3)[[1, 0]])
    assert float(metric.result()) == 0.5
    metric.reset_state()
    assert float(metric.hits) == 0.0 and len(metric.variables) == 2


# ---------------------------------------------------------------- add_metric
class _StdLogger(layers.Layer):
    def call(self, inputs):
        self.add_metric(K.std(inputs), name="std_of_activation", aggregation="mean")
        return inputs


def test_add_metric_in_a_layer_averages_its_values():
    layer = _StdLogger()
    v = np.arange(6, dtype="float32").reshape(2, 3)
    layer(v)
    layer(v * 2)
    assert [m.name for m in layer.metrics] == ["std_of_activation"]
    np.testing.assert_allclose(float(layer.metrics[0].result()),
                               (np.std(v) + np.std(2 * v)) / 2, rtol=1e-6)


def test_add_metric_reaches_fit_and_evaluate_logs():
    rng = np.random.RandomState(0)
    x = rng.rand(96, 8).astype("float32")
    y = rng.randint(0, 3, 96)
    inputs = keras.Input((8,))
    h = layers.Dense(6, activation="relu", name="hidden")(inputs)
    h = _StdLogger()(h)
    outputs = layers.Dense(3)(h)
    model = keras.Model(inputs, outputs)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert sorted(history.history) == ["loss", "std_of_activation"]
    logs = model.evaluate(x, y, batch_size=96, verbose=0, return_dict=True)
    hidden = keras.Model(inputs, model.get_layer("hidden").output)(x).numpy()
    np.testing.assert_allclose(logs["std_of_activation"], np.std(hidden), rtol=1e-5, atol=1e-6)


def test_model_add_metric_on_a_graph_tensor():
    x = np.random.RandomState(1).rand(64, 5).astype("float32")
    inputs = keras.Input((5,))
    h = layers.Dense(4, name="h")(inputs)
    out = layers.Dense(1)(h)
    model = keras.Model(inputs, out)
    model.add_metric(K.mean(h), name="mean_h", aggregation="mean")
    model.compile("sgd", "mse")
    logs = model.evaluate(x, np.zeros((64, 1)), batch_size=64, verbose=0,
                          return_dict=True)
    expect = keras.Model(inputs, h)(x).numpy().mean()
    np.testing.assert_allclose(logs["mean_h"], expect, rtol=1e-5, atol=1e-6)


def test_add_metric_errors_name_the_argument():
    layer = layers.Layer()
    with pytest.raises(ValueError, match="name"):
        layer.add_metric(tf.constant(1.0))
    with pytest.raises(ValueError, match="aggregation='sum'"):
        layer.add_metric(tf.constant(1.0), name="x", aggregation="sum")


# ------------------------------------ Keras 2: backend and loss fns on KerasTensors
def test_keras2_vae_with_backend_functions_and_add_loss_learns(tmp_path):
    """keras/examples/variational_autoencoder.py (Keras 2): the loss is built from
    K.* and keras.losses functions on the model's symbolic tensors."""
    tf.random.set_seed(0)
    dim, latent = 16, 2
    rng = np.random.RandomState(0)
    prototypes = (rng.rand(2, dim) > 0.5).astype("float32")   # learnable structure
    data = prototypes[rng.randint(0, 2, 128)]

    def sampling(args):
        z_mean, z_log_var = args
        eps = K.random_normal(shape=(K.shape(z_mean)[0], K.int_shape(z_mean)[1]))
        return z_mean + K.exp(0.5 * z_log_var) * eps

    inputs = keras.Input((dim,))
    h = layers.Dense(8, activation="relu")(inputs)
    z_mean = layers.Dense(latent)(h)
    z_log_var = layers.Dense(latent)(h)
    z = layers.Lambda(sampling)([z_mean, z_log_var])
    outputs = layers.Dense(dim, activation="sigmoid")(layers.Dense(8)(z))
    vae = keras.Model(inputs, outputs)
    reconstruction = keras.losses.binary_crossentropy(inputs, outputs) * dim
    kl = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
    vae.add_loss(K.mean(reconstruction + kl))
    vae.compile(optimizer=keras.optimizers.Adam(0.01))
    history = vae.fit(data, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


def test_backend_function_op_layer_computes_and_reloads(tmp_path):
    inputs = keras.Input((4,))
    y = layers.Dense(3)(inputs)
    energy = K.mean(K.square(y), axis=-1, keepdims=True)
    model = keras.Model(inputs, [y, energy])
    x = np.random.RandomState(2).rand(5, 4).astype("float32")
    y_val, e_val = (t.numpy() for t in model(x))
    np.testing.assert_allclose(e_val, (y_val ** 2).mean(-1, keepdims=True), rtol=1e-6)
    for name in ("m.keras", "m.h5"):
        path = os.path.join(tmp_path, name)
        model.save(path)
        again = keras.models.load_model(path)
        np.testing.assert_allclose(again(x)[1].numpy(), e_val, rtol=1e-6)


def test_symbolic_aware_loss_functions_keep_their_identity():
    assert keras.losses.mse is keras.losses.mean_squared_error
    assert keras.losses.get("mse") is keras.losses.mse
    y, p = np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]])
    np.testing.assert_allclose(keras.losses.mse(y, p).numpy(), [0.25])


# ---------------------------------------------------------------- nested RNN cell
class NestedCell(layers.Layer):
    """The Keras 2 RNN guide's cell: a tuple input and a [vector, matrix] state."""

    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [tf.TensorShape([unit_1]), tf.TensorShape([unit_2, unit_3])]
        self.output_size = [tf.TensorShape([unit_1]), tf.TensorShape([unit_2, unit_3])]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        i1, i2, i3 = input_shapes[0][1], input_shapes[1][1], input_shapes[1][2]
        self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), name="kernel_1")
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3), name="kernel_2_3")

    def call(self, inputs, states):
        input_1, input_2 = tf.nest.flatten(inputs)
        s1, s2 = states
        output_1 = tf.matmul(input_1, self.kernel_1)
        output_2_3 = tf.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (output_1, output_2_3), (s1 + output_1, s2 + output_2_3)


def _nested_reference(cell, x1, x2):
    k1, k23 = cell.kernel_1.numpy(), cell.kernel_2_3.numpy()
    out1 = np.einsum("bti,ik->btk", x1, k1)
    out23 = np.einsum("btij,ijkl->btkl", x2, k23)
    return out1, out23


def test_rnn_over_a_nested_input_cell_matches_numpy():
    rng = np.random.RandomState(3)
    x1 = rng.rand(2, 5, 3).astype("float32")
    x2 = rng.rand(2, 5, 4, 2).astype("float32")
    cell = NestedCell(3, 2, 4)
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    seq, state_1, state_23 = rnn((x1, x2))
    ref1, ref23 = _nested_reference(cell, x1, x2)
    np.testing.assert_allclose(seq[0].numpy(), ref1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(seq[1].numpy(), ref23, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state_1.numpy(), ref1.sum(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state_23.numpy(), ref23.sum(1), rtol=1e-5, atol=1e-6)
    compiled = tf.function(lambda a, b: rnn((a, b)))(x1, x2)
    np.testing.assert_allclose(compiled[2].numpy(), state_23.numpy(), rtol=1e-6)


def test_nested_input_rnn_trains_in_a_functional_model():
    rng = np.random.RandomState(4)
    input_1, input_2 = keras.Input((None, 3)), keras.Input((None, 4, 2))
    outputs = layers.RNN(NestedCell(3, 2, 4))((input_1, input_2))
    model = keras.Model([input_1, input_2], outputs)
    assert [tuple(t.shape) for t in model.outputs] == [(None, 3), (None, 2, 4)]
    assert model.output_names[1] == model.output_names[0] + "_1"
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x = [rng.rand(64, 6, 3), rng.rand(64, 6, 4, 2)]
    y = [rng.rand(64, 3), rng.rand(64, 2, 4)]
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    names = model.output_names
    assert {f"{names[0]}_loss", f"{names[1]}_loss", "loss"} <= set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]
