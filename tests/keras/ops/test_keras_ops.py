"""keras.ops (Keras 3): namespaces, op layers on symbolic inputs (compute, train,
save and reload) and a custom layer written with keras.ops that learns."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers, ops

# a sample of Keras 3 names per namespace (from TF 2.21 / Keras 3 dir())
NAMES = {
    "": ["add", "matmul", "mean", "softmax", "one_hot", "convert_to_numpy",
         "fori_loop", "cond", "stop_gradient", "top_k", "segment_sum", "norm",
         "expand_dims", "einsum", "logsumexp", "qr", "solve", "scatter", "slice_update",
         "vectorized_map", "dot_product_attention", "image", "linalg", "nn", "numpy"],
    "numpy": ["add", "arange", "linspace", "take_along_axis", "meshgrid", "moveaxis",
              "nan_to_num", "swapaxes", "vstack", "hstack", "trace", "diag", "cumsum"],
    "nn": ["relu", "gelu", "softmax", "conv", "conv_transpose", "max_pool",
           "average_pool", "moments", "batch_normalization", "ctc_loss", "multi_hot",
           "sparse_categorical_crossentropy", "depthwise_conv", "separable_conv"],
    "math": ["top_k", "in_top_k", "logsumexp", "segment_max", "erfinv", "rfft", "stft",
             "extract_sequences", "fft"],
    "linalg": ["inv", "det", "cholesky", "norm", "svd", "eigh", "solve", "qr"],
    "image": ["resize", "extract_patches", "rgb_to_grayscale", "rgb_to_hsv"],
}


@pytest.mark.parametrize("namespace", sorted(NAMES))
def test_namespaces_hold_keras3_names(namespace):
    mod = getattr(ops, namespace) if namespace else ops
    missing = [n for n in NAMES[namespace] if not hasattr(mod, n)]
    assert not missing
    assert keras.ops is ops


def test_aliases_are_one_object():
    assert ops.numpy.mean is ops.mean and ops.nn.relu is ops.relu
    assert ops.linalg.norm is ops.norm and ops.math.top_k is ops.top_k
    assert ops.abs is ops.absolute and ops.swish is ops.silu


def _functional_model():
    inp = keras.Input((8,))
    h = layers.Dense(12, name="d1")(inp)
    x = ops.relu(h)
    y = ops.concatenate([x, inp], axis=-1)
    y = ops.reshape(y, (-1, 5, 4))
    y = ops.mean(y, axis=1)
    y = ops.expand_dims(ops.softmax(y), 1)
    y = ops.squeeze(ops.multiply(y, 2.0), axis=1)
    out = layers.Dense(1, name="d2")(y)
    return keras.Model(inp, out)


def _reference(model, a):
    k1, b1 = (w.numpy() for w in model.get_layer("d1").weights)
    k2, b2 = (w.numpy() for w in model.get_layer("d2").weights)
    x = np.maximum(a @ k1 + b1, 0)
    y = np.concatenate([x, a], -1).reshape(len(a), 5, 4).mean(1)
    e = np.exp(y - y.max(-1, keepdims=True))
    y = 2.0 * e / e.sum(-1, keepdims=True)
    return y @ k2 + b2


def test_ops_on_keras_inputs_build_op_layers(tmp_path):
    model = _functional_model()
    assert ops.shape(model.layers[2].output) == (None, 12)
    names = [layer.name for layer in model.layers]
    assert any("keras.ops.relu" in n for n in names)
    a = np.random.default_rng(0).random((3, 8)).astype(np.float32)
    np.testing.assert_allclose(model(a).numpy(), _reference(model, a), rtol=1e-5,
                               atol=1e-6)
    path = os.path.join(tmp_path, "ops_model.keras")
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again(a).numpy(), model(a).numpy(), rtol=1e-6)


class ScaledAttentionPool(layers.Layer):
    """A custom layer written with keras.ops only (Keras 3 style)."""

    def build(self, input_shape):
        self.query = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                     name="query")
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x):
        scores = ops.einsum("btd,d->bt", x, self.query) / ops.sqrt(
            ops.cast(ops.shape(x)[-1], x.dtype))
        weights = ops.softmax(scores, axis=-1)
        pooled = ops.sum(x * ops.expand_dims(weights, -1), axis=1)
        return ops.tanh(pooled * self.scale)


def test_custom_layer_with_keras_ops_trains():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 6, 4)).astype(np.float32)
    y = (x[:, :, 0].mean(1) > 0).astype(np.int32)
    inp = keras.Input((6, 4))
    h = ScaledAttentionPool()(inp)
    h = ops.concatenate([h, ops.max(inp, axis=1), ops.mean(inp, axis=1)], axis=-1)
    out = layers.Dense(2)(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=lambda t, p: ops.mean(ops.sparse_categorical_crossentropy(
                      t, p, from_logits=True)))
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after < 0.5 * before
    acc = np.mean(np.argmax(model.predict(x, verbose=0), -1) == y)
    assert acc > 0.9


def test_keras_ops_inside_function_and_tape():
    w = tf.Variable(np.ones((3, 2), np.float32))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            logits = ops.matmul(x, w)
            loss = ops.mean(ops.categorical_crossentropy(
                ops.one_hot(ops.argmax(x[:, :2], axis=-1), 2), logits, from_logits=True))
        return loss, tape.gradient(loss, w)
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    loss, grad = step(tf.constant(x))
    eager_w = tf.constant(w.numpy())
    with tf.GradientTape() as tape:
        tape.watch(eager_w)
        logits = ops.matmul(x, eager_w)
        ref = ops.mean(ops.categorical_crossentropy(
            ops.one_hot(ops.argmax(x[:, :2], axis=-1), 2), logits, from_logits=True))
    np.testing.assert_allclose(loss.numpy(), ref.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), tape.gradient(ref, eager_w).numpy(),
                               rtol=1e-5)
