"""Ragged text pipelines of the TF tutorials: StringLookup on RaggedTensors (and
``invert``), ``TextVectorization(ragged=True)``, and the pieces of "Text generation
with an RNN" (GRU initial state from the inputs, a generation step under
``tf.function``). Expected ids came from TensorFlow 2.21 where marked."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

VOCAB = list(" :FCaeinrstz")


def test_string_lookup_maps_ragged_rows_and_inverts_them():
    ids_from_chars = keras.layers.StringLookup(vocabulary=list("abcdef"), mask_token=None)
    chars = tf.strings.unicode_split(["abcdefg", "xyz"], input_encoding="UTF-8")
    ids = ids_from_chars(chars)
    assert isinstance(ids, tf.RaggedTensor)
    assert ids.to_list() == [[1, 2, 3, 4, 5, 6, 0], [0, 0, 0]]   # as TF 2.21
    chars_from_ids = keras.layers.StringLookup(
        vocabulary=ids_from_chars.get_vocabulary(), invert=True, mask_token=None)
    back = chars_from_ids(ids)
    assert back.to_list() == [[b"a", b"b", b"c", b"d", b"e", b"f", b"[UNK]"],
                              [b"[UNK]", b"[UNK]", b"[UNK]"]]
    joined = tf.strings.reduce_join(back, axis=-1)
    assert joined.numpy().tolist() == [b"abcdef[UNK]", b"[UNK][UNK][UNK]"]
    # TF 2.21 encodes each ragged row (was an error here before)
    hot = keras.layers.StringLookup(vocabulary=["a"], output_mode="multi_hot")(chars)
    assert hot.numpy().tolist() == [[1, 1], [1, 0]]
    ints = keras.layers.IntegerLookup(vocabulary=[5, 7])(
        tf.RaggedTensor.from_row_lengths(tf.constant([7, 5, 9], tf.int64), [2, 1]))
    assert ints.to_list() == [[2, 1], [0]]


def test_text_vectorization_ragged_outputs():
    layer = keras.layers.TextVectorization(ragged=True)
    layer.adapt(["a b c", "b"])
    out = layer(tf.constant(["a b", "c d e"]))
    assert isinstance(out, tf.RaggedTensor)
    assert out.to_list() == [[4, 2], [3, 1, 1]]    # as TF 2.21
    assert layer(tf.constant([["a b"], ["c d e"]])).to_list() == [[4, 2], [3, 1, 1]]
    scalar = layer(tf.constant("a b"))
    assert isinstance(scalar, tf.Tensor) and scalar.numpy().tolist() == [4, 2]
    padded = out.to_tensor()
    assert padded.numpy().tolist() == [[4, 2, 0], [3, 1, 1]]
    # Keras 3 ignores output_sequence_length when ragged
    longer = keras.layers.TextVectorization(ragged=True, output_sequence_length=3,
                                            vocabulary=["b", "c", "a"])
    assert longer(tf.constant(["a b", "c d e"])).to_list() == [[4, 2], [3, 1, 1]]
    chars = keras.layers.TextVectorization(ragged=True, split="character")
    chars.adapt(["ab c", "b"])
    assert chars(tf.constant(["ab", ""])).to_list() == [[4, 2], []]
    assert layer.get_config()["ragged"] is True
    with pytest.raises(ValueError, match="output_mode='int'"):
        keras.layers.TextVectorization(ragged=True, output_mode="multi_hot")


def test_text_vectorization_ragged_with_custom_standardize_in_a_dataset():
    def standardize(text):
        text = tf.strings.lower(text)
        text = tf.strings.regex_replace(text, "[^ a-z.?]", "")
        text = tf.strings.regex_replace(text, "[.?]", r" \0 ")
        return tf.strings.join(["[START]", tf.strings.strip(text), "[END]"],
                               separator=" ")
    layer = keras.layers.TextVectorization(standardize=standardize, ragged=True)
    texts = tf.data.Dataset.from_tensor_slices(["Hi there.", "Who?", "hi"]).batch(2)
    layer.adapt(texts)
    vocab = layer.get_vocabulary()
    assert vocab[:4] == ["", "[UNK]", "[START]", "[END]"]
    out = texts.map(lambda t: layer(t).to_tensor())
    first = next(iter(out)).numpy()
    words = [[vocab[i] for i in row if i] for row in first]
    assert words == [["[START]", "hi", "there", ".", "[END]"],
                     ["[START]", "who", "?", "[END]"]]


def test_gru_initial_state_accepts_inputs_and_batch_size():
    gru = keras.layers.GRU(3, return_sequences=True, return_state=True)
    x = tf.zeros([4, 5, 2])
    for arg in (x, 4):
        states = gru.get_initial_state(arg)
        states = states[0] if isinstance(states, (list, tuple)) else states
        assert tuple(states.shape) == (4, 3)
    out, state = gru(x, initial_state=gru.get_initial_state(x))
    assert tuple(out.shape) == (4, 5, 3) and tuple(state.shape) == (4, 3)


class _CharModel(keras.Model):
    def __init__(self, vocab_size):
        super().__init__()
        self.embedding = keras.layers.Embedding(vocab_size, 8)
        self.gru = keras.layers.GRU(16, return_sequences=True, return_state=True)
        self.dense = keras.layers.Dense(vocab_size)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = self.embedding(inputs, training=training)
        if states is None:
            states = self.gru.get_initial_state(x)
        x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)
        return (x, states) if return_state else x


def test_char_rnn_learns_and_generates_under_function():
    text = "abcabcabcabc" * 20
    ids_from_chars = keras.layers.StringLookup(vocabulary=sorted(set(text)),
                                               mask_token=None)
    chars_from_ids = keras.layers.StringLookup(
        vocabulary=ids_from_chars.get_vocabulary(), invert=True, mask_token=None)
    all_ids = ids_from_chars(tf.strings.unicode_split(text, "UTF-8"))
    seqs = tf.data.Dataset.from_tensor_slices(all_ids).batch(13, drop_remainder=True)
    ds = seqs.map(lambda s: (s[:-1], s[1:])).batch(6, drop_remainder=True)
    model = _CharModel(len(ids_from_chars.get_vocabulary()))
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=15, verbose=0,
                        callbacks=keras.callbacks.EarlyStopping(monitor="loss",
                                                                patience=3))
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]

    skip_ids = ids_from_chars(["[UNK]"])[:, None]
    mask = tf.sparse.to_dense(tf.SparseTensor(
        values=[-float("inf")] * len(skip_ids), indices=skip_ids,
        dense_shape=[len(ids_from_chars.get_vocabulary())]))

    @tf.function
    def step(inputs, states=None):
        input_ids = ids_from_chars(tf.strings.unicode_split(inputs, "UTF-8")).to_tensor()
        logits, states = model(inputs=input_ids, states=states, return_state=True)
        logits = logits[:, -1, :] / 0.01 + mask
        predicted = tf.squeeze(tf.random.categorical(logits, num_samples=1), axis=-1)
        return chars_from_ids(predicted), states

    next_char, states = tf.constant(["ab", "bc"]), None
    result = [next_char]
    for _ in range(6):
        next_char, states = step(next_char, states=states)
        result.append(next_char)
    generated = tf.strings.join(result).numpy().tolist()
    assert generated == [b"abcabcab", b"bcabcabc"]
    assert tf.losses is keras.losses and tf.metrics is keras.metrics


def test_string_lookup_ragged_eager_matches_function():
    layer = keras.layers.StringLookup(vocabulary=["x", "y"])
    fn = tf.function(lambda t: layer(tf.strings.split(t)).to_tensor())
    x = tf.constant(["x y z", "y"])
    np.testing.assert_array_equal(fn(x).numpy(),
                                  layer(tf.strings.split(x)).to_tensor().numpy())
