"""The Keras "Text classification with Transformer" example (MultiHeadAttention +
LayerNormalization + token/position embeddings) and attention layers' details."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"),
                                     layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attn_output = self.dropout1(self.att(inputs, inputs), training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.dropout2(self.ffn(out1), training=training)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        # the example writes tf.shape(x)[-1]; see test_tf_shape_positions below
        positions = self.pos_emb(tf.range(start=0, limit=x.shape[-1], delta=1))
        return self.token_emb(x) + positions


def test_transformer_classifier_learns():
    keras.utils.set_random_seed(7)
    vocab_size, maxlen, embed_dim = 50, 12, 16
    rng = np.random.default_rng(7)
    x = rng.integers(1, vocab_size, size=(512, maxlen))
    y = (x[:, :3].sum(1) > 75).astype("int64")
    inputs = layers.Input(shape=(maxlen,))
    h = TransformerBlock(embed_dim, 2, 32)(
        TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs))
    h = layers.Dropout(0.1)(layers.GlobalAveragePooling1D()(h))
    outputs = layers.Dense(2, activation="softmax")(layers.Dense(20, activation="relu")(h))
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(3e-3, 200)),
        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.count_params() == 4670 and len(model.trainable_weights) == 22
    hist = model.fit(x, y, batch_size=32, epochs=6, validation_split=0.2, verbose=0)
    assert hist.history["loss"][-1] < 0.9 * hist.history["loss"][0]
    assert max(hist.history["val_accuracy"]) > 0.65


def test_tf_shape_positions_in_compiled_fit():
    class Positions(layers.Layer):
        def call(self, x):
            return x + tf.cast(tf.range(start=0, limit=tf.shape(x)[-1], delta=1), x.dtype)

    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(1)(Positions()(inp)))
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), verbose=0)


def test_multi_head_attention_shapes_masks_and_config():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3, output_shape=5)
    q, v = tf.random.normal((2, 3, 6)), tf.random.normal((2, 4, 7))
    out, scores = mha(q, v, return_attention_scores=True)
    assert tuple(out.shape) == (2, 3, 5) and tuple(scores.shape) == (2, 2, 3, 4)
    assert [tuple(w.shape) for w in mha.weights] == [
        (6, 2, 4), (2, 4), (7, 2, 4), (2, 4), (7, 2, 3), (2, 3), (2, 3, 5), (5,)]
    mask = np.ones((2, 3, 4), bool)
    mask[:, :, -1] = False
    _, scores = mha(q, v, attention_mask=mask, return_attention_scores=True)
    assert float(tf.reduce_max(scores[:, :, :, -1])) == 0.0
    _, causal = layers.MultiHeadAttention(2, 4)(q, q, use_causal_mask=True,
                                                return_attention_scores=True)
    assert np.allclose(np.triu(causal.numpy()[0, 0], 1), 0.0)
    config = mha.get_config()
    assert {"num_heads", "key_dim", "value_dim", "output_shape", "dropout"} <= set(config)
    assert layers.MultiHeadAttention.from_config(config).value_dim == 3


def test_additive_attention_matches_tensorflow():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    v = rng.normal(size=(2, 5, 4)).astype("float32")
    layer = layers.AdditiveAttention()
    layer([q, v])
    assert [tuple(w.shape) for w in layer.weights] == [(4,)]
    layer.set_weights([np.array([0.5, -1, 2, 0.1], "float32")])
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    out, scores = layer([q, v], mask=[None, value_mask], return_attention_scores=True)
    # values printed by TensorFlow 2.21 for the same inputs and scale
    np.testing.assert_allclose(out.numpy()[0, 0], [0.0999, 0.3927, -0.1502, -0.0371],
                               atol=1e-4)
    np.testing.assert_allclose(scores.numpy()[0, 0], [0.2685, 0.0879, 0.6436, 0, 0],
                               atol=1e-4)
    plain = layers.AdditiveAttention(use_scale=False)([q, v, v])
    np.testing.assert_allclose(plain.numpy()[1, 2], [0.3998, -0.0287, 0.9651, 1.105],
                               atol=1e-4)
    assert sorted(layer.get_config()) == ["dropout", "dtype", "name", "seed",
                                          "trainable", "use_scale"]  # as TF 2.21
