"""keras.io text / structured / timeseries / graph examples (round 19) on tiny
synthetic data: QR embeddings (a ``StringLookup(num_oov_indices=0)`` inside a user
layer called on a symbolic string Input) and the Switch Transformer (a user layer
that reshapes to a size computed for one batch size)."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


class QREmbedding(layers.Layer):
    """keras.io "Memory-efficient embeddings": quotient * remainder embeddings."""

    def __init__(self, vocabulary, embedding_dim, num_buckets, **kwargs):
        super().__init__(**kwargs)
        self.num_buckets = num_buckets
        self.index_lookup = layers.StringLookup(
            vocabulary=vocabulary, mask_token=None, num_oov_indices=0)
        self.q_embeddings = layers.Embedding(num_buckets, embedding_dim)
        self.r_embeddings = layers.Embedding(num_buckets, embedding_dim)

    def call(self, inputs):
        index = self.index_lookup(inputs)
        quotient = self.q_embeddings(tf.math.floordiv(index, self.num_buckets))
        remainder = self.r_embeddings(tf.math.floormod(index, self.num_buckets))
        return quotient * remainder


def test_qr_embedding_no_oov_lookup_builds_on_symbolic_string_input():
    vocab = [str(i) for i in range(50)]
    inp = layers.Input(name="user_id", shape=(), dtype="string")
    qr = QREmbedding(vocab, 4, 8)
    emb = qr(inp)   # the symbolic call's placeholders are no user tokens
    assert emb.shape.as_list() == [None, 4]
    model = keras.Model(inp, layers.Dense(1)(emb))
    model.compile("adam", "mse")
    ids = tf.constant(["1", "17", "49", "40"])
    model.fit(ids, tf.constant([1.0, 2.0, 3.0, 4.0]), epochs=2, verbose=0)
    out = qr(ids).numpy()
    index = np.array([1, 17, 49, 40])
    q = qr.q_embeddings.embeddings.numpy()[index // 8]
    r = qr.r_embeddings.embeddings.numpy()[index % 8]
    np.testing.assert_allclose(out, q * r, rtol=1e-6)
    # real data out of the vocabulary still fails, naming the OOV token
    with pytest.raises(tf.errors.InvalidArgumentError, match="zzz"):
        qr(tf.constant(["zzz"]))


def test_floordiv_floormod_follow_python_signs():
    # values from TF 2.21
    np.testing.assert_array_equal(
        tf.math.floormod(tf.constant([-7, 7]), tf.constant([3, -3])).numpy(), [2, -2])
    np.testing.assert_array_equal(
        tf.math.floordiv(tf.constant([-7.5, 7.0]), 2.0).numpy(), [-4.0, 3.0])
    idx = tf.constant([7, 17, 49], dtype="int64")
    assert tf.math.floordiv(idx, 8).dtype == tf.int64
    np.testing.assert_array_equal(tf.math.floordiv(idx, 8).numpy(), [0, 2, 6])


BATCH, TOKENS, EMBED, EXPERTS = 5, 10, 8, 4


class FixedBatchMixer(layers.Layer):
    """The Switch Transformer's Switch layer pattern: reshape to
    ``[batch_size * tokens, embed]`` with the batch size a Python constant, route
    with top_k / one_hot / cumsum, dispatch and combine with einsum."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.route = layers.Dense(EXPERTS)
        self.expert = layers.Dense(EMBED)

    def call(self, inputs):
        batch_size = tf.shape(inputs)[0]
        x = tf.reshape(inputs, [BATCH * TOKENS, EMBED])
        probs = keras.activations.softmax(self.route(x), axis=-1)
        gate, index = tf.math.top_k(probs, k=1)
        mask = tf.one_hot(index, depth=EXPERTS)                    # [50, 1, 4]
        position = tf.cast(tf.math.cumsum(mask, axis=0) * mask, tf.int32)
        capacity = BATCH * TOKENS // EXPERTS + 1
        dispatch = tf.squeeze(tf.one_hot(position, depth=capacity), 1)   # [50, 4, c]
        dispatch = dispatch * tf.reshape(gate, [-1, 1, 1])
        expert_in = tf.einsum("ab,acd->cdb", x, dispatch)                # [4, c, 8]
        combined = tf.einsum("cdb,acd->ab", self.expert(expert_in), dispatch)
        return tf.reshape(combined, [batch_size, TOKENS, EMBED])


def test_functional_build_of_layer_reshaping_to_one_batch_size():
    inputs = layers.Input(shape=(TOKENS,))
    x = layers.Embedding(20, EMBED)(inputs)
    x = FixedBatchMixer()(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    # TF 2.21's shape inference fixes the batch at 5 here; Keras 2 may say None
    assert model.output_shape in ((BATCH, 2), (None, 2))
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    data = rng.integers(0, 20, (20, TOKENS))
    labels = rng.integers(0, 2, 20)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(data, labels, batch_size=BATCH, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(not np.allclose(b, w.numpy())
               for b, w in zip(before, model.trainable_weights))
    assert model.predict(data[:10], batch_size=BATCH, verbose=0).shape == (10, 2)


def test_reshape_that_fits_no_batch_size_still_fails_at_build():
    class Bad(layers.Layer):
        def call(self, inputs):
            return tf.reshape(inputs, [7])

    # TF 2.21 raises ValueError from graph shape inference; dlframe's dry run
    # raises the eager op's InvalidArgumentError
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="reshape"):
        Bad()(layers.Input(shape=(3,)))


class _ArgMasks(layers.Layer):
    """Keras 3's per-argument masks: ``{arg}_mask`` receives ``arg``'s Keras mask."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, query, value, query_mask=None, value_mask=None):
        self.seen.append((query_mask, value_mask))
        weights = tf.cast(value_mask, query.dtype)[:, None, :, None]
        pooled = tf.reduce_sum(value[:, None] * weights, axis=2)
        return query + pooled


def test_argument_masks_reach_call_eager_and_functional():
    emb = layers.Embedding(10, 3, mask_zero=True)
    q_ids, v_ids = tf.constant([[1, 2, 0]]), tf.constant([[4, 0, 5, 6]])
    query, value = emb(q_ids), emb(v_ids)
    layer = _ArgMasks()
    out = layer(query, value)
    q_mask, v_mask = layer.seen[-1]
    np.testing.assert_array_equal(q_mask.numpy(), [[True, True, False]])
    np.testing.assert_array_equal(v_mask.numpy(), [[True, False, True, True]])
    table = emb.embeddings.numpy()
    ref = table[[1, 2, 0]][None] + table[[4, 5, 6]].sum(0)[None, None]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    # an explicit mask wins; a single tensor argument gets no per-argument mask
    layer(query, value, value_mask=tf.constant([[True, True, True, True]]))
    np.testing.assert_array_equal(layer.seen[-1][1].numpy(), [[True] * 4])
    # functional: the masks travel with the KerasTensors
    q_in, v_in = layers.Input(shape=(None,)), layers.Input(shape=(None,))
    model = keras.Model([q_in, v_in], _ArgMasks()(emb(q_in), emb(v_in)))
    np.testing.assert_allclose(model([q_ids, v_ids]).numpy(), ref, rtol=1e-6)


def test_list_input_layer_gets_list_of_masks():
    # the Keras 3 English-Spanish Transformer decoder: call(inputs, mask=None) with
    # inputs = [decoder_embeddings, encoder_outputs]
    class Decoder(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True
            self.masks = None

        def call(self, inputs, mask=None):
            self.masks = mask
            return inputs[0]

    dec = Decoder()
    x = layers.Embedding(10, 2, mask_zero=True)(tf.constant([[3, 0]]))
    dec([x, tf.ones((1, 4, 2))])
    assert len(dec.masks) == 2 and dec.masks[1] is None
    np.testing.assert_array_equal(dec.masks[0].numpy(), [[True, False]])
