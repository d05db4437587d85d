"""The TF tutorials "Text generation with an RNN" and "Text classification with an
RNN", run unchanged on a small synthetic corpus: characters through StringLookup and
back (invert=True), a subclassed GRU model called with ``states=``/``return_state=``,
a OneStep generator compiled with ``tf.function`` and saved, the Keras 2 stateful
variant with ``model.reset_states()``, and Bidirectional LSTMs over a TextVectorization
inside the model fed raw strings."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
TEXT = ("First Citizen: Before we proceed any further, hear me speak. "
        "All: Speak, speak. ") * 12


@pytest.fixture(scope="module")
def lookups():
    vocab = sorted(set(TEXT))
    ids_from_chars = keras.layers.StringLookup(vocabulary=list(vocab), mask_token=None)
    chars_from_ids = keras.layers.StringLookup(
        vocabulary=ids_from_chars.get_vocabulary(), invert=True, mask_token=None)
    return ids_from_chars, chars_from_ids


class MyModel(keras.Model):
    def __init__(self, vocab_size, embedding_dim, rnn_units):
        super().__init__(self)   # as the tutorial writes it (Keras 2 ignored it)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.GRU(rnn_units, return_sequences=True, return_state=True)
        self.dense = keras.layers.Dense(vocab_size)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = self.embedding(inputs, training=training)
        if states is None:
            states = self.gru.get_initial_state(x)
        x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)
        return (x, states) if return_state else x


class OneStep(keras.Model):
    def __init__(self, model, chars_from_ids, ids_from_chars, temperature=1.0):
        super().__init__()
        self.temperature = temperature
        self.model = model
        self.chars_from_ids = chars_from_ids
        self.ids_from_chars = ids_from_chars
        skip_ids = self.ids_from_chars(["[UNK]"])[:, None]
        sparse_mask = tf.SparseTensor(values=[-float("inf")] * len(skip_ids),
                                      indices=skip_ids,
                                      dense_shape=[len(ids_from_chars.get_vocabulary())])
        self.prediction_mask = tf.sparse.to_dense(sparse_mask)

    @tf.function
    def generate_one_step(self, inputs, states=None):
        input_chars = tf.strings.unicode_split(inputs, "UTF-8")
        input_ids = self.ids_from_chars(input_chars).to_tensor()
        predicted_logits, states = self.model(inputs=input_ids, states=states,
                                              return_state=True)
        predicted_logits = predicted_logits[:, -1, :] / self.temperature
        predicted_logits = predicted_logits + self.prediction_mask
        predicted_ids = tf.random.categorical(predicted_logits, num_samples=1)
        predicted_ids = tf.squeeze(predicted_ids, axis=-1)
        return self.chars_from_ids(predicted_ids), states


def _dataset(ids_from_chars, seq_length=40, batch=4):
    all_ids = ids_from_chars(tf.strings.unicode_split(TEXT, "UTF-8"))
    sequences = tf.data.Dataset.from_tensor_slices(all_ids).batch(seq_length + 1,
                                                                  drop_remainder=True)
    return sequences.map(lambda s: (s[:-1], s[1:])).batch(batch, drop_remainder=True)


def test_string_lookup_round_trip_and_reduce_join(lookups):
    ids_from_chars, chars_from_ids = lookups
    chars = tf.strings.unicode_split(["xeQ", "Fir"], input_encoding="UTF-8")
    ids = ids_from_chars(chars)
    assert ids.to_list()[1] == [ids_from_chars.get_vocabulary().index(c) for c in "Fir"]
    assert ids.to_list()[0][0] == 0    # 'x' is not in the vocabulary: [UNK]
    joined = tf.strings.reduce_join(chars_from_ids(ids), axis=-1).numpy().tolist()
    assert joined == [b"[UNK]e[UNK]", b"Fir"]


def test_subclassed_gru_model_trains_and_generates(lookups, tmp_path):
    ids_from_chars, chars_from_ids = lookups
    tf.keras.utils.set_random_seed(0)
    vocab_size = len(ids_from_chars.get_vocabulary())
    model = MyModel(vocab_size, embedding_dim=16, rnn_units=32)
    ds = _dataset(ids_from_chars)
    x, y = next(iter(ds))
    logits = model(x)
    assert logits.shape == (4, 40, vocab_size)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert abs(float(tf.exp(loss(y, logits))) - vocab_size) < 3   # untrained: uniform
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    history = model.fit(ds, epochs=6, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]

    # states= / return_state=: two halves with the carried state == one call
    full = model(x).numpy()
    first, states = model(x[:, :20], return_state=True)
    second = model(x[:, 20:], states=states)
    np.testing.assert_allclose(np.concatenate([first, second], 1), full, atol=1e-5)

    one_step = OneStep(model, chars_from_ids, ids_from_chars)
    states, next_char, result = None, tf.constant(["First", "All: "]), []
    for _ in range(12):
        next_char, states = one_step.generate_one_step(next_char, states=states)
        result.append(next_char)
    text = tf.strings.join(result).numpy()
    assert text.shape == (2,) and all(len(t) == 12 for t in text)
    assert all(b"[UNK]" not in t for t in text)

    # traced for a batch of one before saving, as the tutorial does: a loaded
    # function only takes the shapes it was saved with (TF's ValueError otherwise)
    tf.random.set_seed(3)
    a, _ = one_step.generate_one_step(tf.constant(["First"]))
    tf.saved_model.save(one_step, str(tmp_path / "one_step"))
    reloaded = tf.saved_model.load(str(tmp_path / "one_step"))
    tf.random.set_seed(3)
    b, _ = reloaded.generate_one_step(tf.constant(["First"]))
    assert a.numpy().tolist() == b.numpy().tolist()


def test_stateful_gru_and_model_reset_states():
    tf.keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.layers.Embedding(10, 4, batch_input_shape=[1, None]),
        keras.layers.GRU(6, return_sequences=True, stateful=True),
        keras.layers.Dense(10)])
    seq = [1, 4, 2, 7, 3]
    model.reset_states()
    full = model(tf.constant([seq])).numpy()
    model.reset_states()
    steps = np.concatenate([model(tf.constant([[c]])).numpy() for c in seq], 1)
    np.testing.assert_allclose(steps, full, atol=1e-5)
    again = model(tf.constant([[seq[0]]])).numpy()   # state carried on: differs
    assert not np.allclose(again, full[:, :1])
    model.reset_states()
    np.testing.assert_allclose(model(tf.constant([[seq[0]]])).numpy(), full[:, :1],
                               atol=1e-6)


def _reviews(n, seed):
    rng = np.random.RandomState(seed)
    pos, neg = ["great", "wonderful", "loved", "best"], ["awful", "terrible", "worst"]
    filler = ["the", "movie", "film", "was", "and", "a", "plot"]
    texts, labels = [], []
    for i in range(n):
        toks = list(rng.choice(filler, rng.randint(2, 9))) + list(
            rng.choice(pos if i % 2 else neg, 2))
        rng.shuffle(toks)
        texts.append(" ".join(toks))
        labels.append(i % 2)
    return texts, labels


def test_bidirectional_lstm_over_text_vectorization_predicts_raw_strings():
    tf.keras.utils.set_random_seed(2)
    texts, labels = _reviews(192, 0)
    train = tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(200).batch(32)
    encoder = keras.layers.TextVectorization(max_tokens=100)
    encoder.adapt(train.map(lambda text, label: text))
    # symbolic outputs carry the ids' dtype (was the input's string dtype)
    symbolic = encoder(keras.Input(shape=(1,), dtype="string"))
    assert symbolic.dtype == tf.int64
    model = keras.Sequential([
        encoder,
        keras.layers.Embedding(len(encoder.get_vocabulary()), 16, mask_zero=True),
        keras.layers.Bidirectional(keras.layers.LSTM(16, return_sequences=True)),
        keras.layers.Bidirectional(keras.layers.LSTM(8)),
        keras.layers.Dense(1)])
    sample = "The movie was great and the plot was wonderful"
    alone = model.predict(np.array([sample]), verbose=0)
    padded = model.predict(np.array([sample, "the " * 200]), verbose=0)
    assert alone.shape == (1, 1)
    np.testing.assert_allclose(padded[0], alone[0], atol=1e-5)   # masking works
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(1e-2), metrics=["accuracy"])
    model.fit(train, epochs=3, verbose=0)
    test_texts, test_labels = _reviews(64, 1)
    _, acc = model.evaluate(np.array(test_texts), np.array(test_labels), verbose=0)
    assert acc > 0.9
    scores = model.predict(tf.constant(["terrible awful film", "great best film"]),
                           verbose=0)
    assert scores[0, 0] < 0 < scores[1, 0]


@pytest.mark.parametrize("mode,dtype", [("int", "int64"), ("multi_hot", "int64"),
                                        ("count", "int64"), ("tf_idf", "float32")])
def test_text_vectorization_symbolic_dtype_is_the_eager_dtype(mode, dtype):
    layer = keras.layers.TextVectorization(max_tokens=10, output_mode=mode)
    layer.adapt(["a b c", "b c d"])
    assert layer(keras.Input(shape=(1,), dtype="string")).dtype == dtype
    assert layer(tf.constant(["a b"])).dtype == dtype
