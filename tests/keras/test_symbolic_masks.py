"""Keras' masking guide in the functional API: KerasTensors carry the symbolic mask
(``x._keras_mask``), and a custom layer's ``call(inputs, mask=None)`` receives it while
the model is being built, as it does when the model runs on tensors."""

import numpy as np

import dlframe as tf

keras = tf.keras
layers = keras.layers


class MyActivation(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True   # set after super().__init__, as in the guide

    def call(self, inputs):
        return tf.nn.relu(inputs)


class TemporalSoftmax(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None   # the guide's check, also while building the model
        m = tf.expand_dims(tf.cast(mask, "float32"), -1)
        e = tf.exp(inputs) * m
        return e / tf.reduce_sum(e, axis=1, keepdims=True)   # softmax over time


class TemporalSplit(layers.Layer):
    def call(self, inputs):
        return tf.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return tf.split(mask, 2, axis=1)


def test_embedding_mask_reaches_keras_tensors_and_custom_layers():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=4, mask_zero=True)(inputs)
    assert x._keras_mask is not None and x._keras_mask.dtype == tf.bool
    assert x._keras_mask.shape.as_list() == [None, None]
    x = MyActivation()(x)
    assert x._keras_mask is not None
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)
    model = keras.Model(inputs, outputs)
    ids = np.array([[3, 4, 0, 0], [5, 6, 7, 0]], dtype="int32")
    got = model(ids).numpy()[..., 0]
    emb, kern, bias = model.get_weights()   # reference from the model's weights
    logits = np.maximum(emb[ids], 0) @ kern + bias
    e = np.exp(logits[..., 0]) * (ids != 0)
    want = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_custom_compute_mask_gives_symbolic_masks_per_output():
    inputs = keras.Input(shape=(6, 3))
    x = layers.Masking()(inputs)
    assert x._keras_mask.shape.as_list() == [None, 6]
    first, second = TemporalSplit()(x)
    assert first._keras_mask.shape.as_list() == [None, 3]
    assert second._keras_mask.shape.as_list() == [None, 3]
    out = layers.LSTM(2)(second)
    model = keras.Model(inputs, out)
    data = np.ones((2, 6, 3), "float32")
    data[0, 3:] = 0.0   # the first sample's second half is fully masked
    got = model(data).numpy()
    np.testing.assert_allclose(got[0], 0.0, atol=1e-7)   # LSTM never stepped
    assert np.abs(got[1]).sum() > 0


def test_layer_without_mask_support_drops_the_mask():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(10, 4, mask_zero=True)(inputs)
    x = layers.Lambda(lambda t: t * 2.0)(x)
    y = layers.GlobalAveragePooling1D()(x)
    assert y._keras_mask is None
