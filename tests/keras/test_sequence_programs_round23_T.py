"""Sequence programs written as TF users write them (round 23, area T): integer
features into recurrent/attention layers, rate clipping, TextVectorization's
``ngrams`` checks, IntegerLookup input types, TimeDistributed(RNN) masks in a
hierarchical model, channels_first ConvLSTM, stateful batch errors and the
text-generation step compiled with ``tf.function``. Figures were observed with
TensorFlow 2.21 / Keras 3."""

import numpy as np
import pytest

import dlframe as tf

L = tf.keras.layers
RNG = np.random.RandomState(23)


def _randomize(layer, scale=0.5):
    layer.set_weights([RNG.uniform(-scale, scale, w.shape).astype("float32")
                       for w in layer.get_weights()])


# -- integer features ---------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: L.LSTM(3, return_sequences=True),
    lambda: L.GRU(3, go_backwards=True),
    lambda: L.SimpleRNN(3, unroll=True),
    lambda: L.RNN(L.LSTMCell(3)),
    lambda: L.Bidirectional(L.GRU(2, return_sequences=True)),
])
def test_recurrent_layers_take_integer_features(make):
    # TF 2.21: an int32 sequence gives float32 outputs (Keras 3 promotes it)
    xi = RNG.randint(0, 3, (2, 4, 3)).astype("int32")
    layer = make()
    layer(xi.astype("float32"))
    _randomize(layer)
    out = layer(xi)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), layer(xi.astype("float32")).numpy(),
                               rtol=1e-6, atol=1e-6)
    inp = tf.keras.Input((4, 3), dtype="int32")
    sym = make()(inp)
    assert sym.dtype == tf.float32


def test_cell_and_attention_take_integer_features():
    cell = L.GRUCell(2)
    h, _ = cell(np.ones((2, 3), "int32"), [np.zeros((2, 2), "float32")])
    assert h.dtype == tf.float32
    q = RNG.randint(0, 3, (2, 3, 4)).astype("int32")
    mha = L.MultiHeadAttention(2, 2)
    mha(q.astype("float32"), q.astype("float32"))
    _randomize(mha)
    out = mha(q, q)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), mha(q.astype("float32"),
                                                q.astype("float32")).numpy(), atol=1e-6)


def test_dropout_rates_are_clipped_not_refused():
    # Keras clips rates into [0, 1] (TF 2.21: LSTM(dropout=1.5).dropout == 1.0)
    layer = L.LSTM(2, dropout=1.5, recurrent_dropout=-0.2)
    assert (layer.dropout, layer.recurrent_dropout) == (1.0, 0.0)
    assert layer.get_config()["dropout"] == 1.0
    assert L.GRUCell(2, dropout=3).dropout == 1.0
    with pytest.raises(TypeError, match="dropout"):
        L.SimpleRNN(2, dropout="half")
    x = np.ones((2, 4, 3), "float32")
    ones = dict(kernel_initializer="ones", recurrent_initializer="ones")
    # TF 2.21 figures: SimpleRNN drops everything at a rate of 1 ...
    full = L.SimpleRNN(2, dropout=1.5, **ones)
    np.testing.assert_array_equal(full(x, training=True).numpy(), np.zeros((2, 2)))
    rec = L.SimpleRNN(2, recurrent_dropout=1.0, **ones)
    np.testing.assert_allclose(rec(x, training=True).numpy(), np.full((2, 2), 0.9951),
                               atol=1e-4)
    # ... while LSTM and GRU only drop for 0 < rate < 1
    for cls, figure in ((L.LSTM, 0.9923), (L.GRU, 0.1573)):
        for kw in (dict(dropout=1.5), dict(recurrent_dropout=1.0)):
            got = cls(2, **ones, **kw)(x, training=True).numpy()
            np.testing.assert_allclose(got, np.full((2, 2), figure), atol=1e-4)


def test_custom_cell_keras3_get_initial_state_signature():
    # Keras 3 cells define get_initial_state(self, batch_size=None): TF 2.21 gives
    # [[8, 8], [8, 8]] here (5 + one per step)
    class Counter(L.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.state_size = 2

        def get_initial_state(self, batch_size=None):
            return [tf.ones((batch_size, 2)) * 5.0]

        def call(self, inputs, states):
            h = states[0] + 1.0
            return h, [h]

    x = np.ones((2, 3, 4), "float32")
    np.testing.assert_array_equal(L.RNN(Counter())(x).numpy(), np.full((2, 2), 8.0))
    layer = L.RNN(Counter(), return_state=True)
    assert layer.get_initial_state(3)[0].numpy().tolist() == [[5.0, 5.0]] * 3


def test_stacked_cells_take_keras3_get_initial_state():
    # TF 2.21: get_initial_state(self, batch_size=None) cells stack; [[4, 4], ...]
    x = RNG.rand(2, 3, 4).astype("float32")

    class Plain(L.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.state_size = 2

        def get_initial_state(self, batch_size=None):   # the Keras 3 signature
            return tf.ones((batch_size, 2))

        def call(self, inputs, states):
            h = states[0] + 1.0
            return h, h

    _, a, b = L.RNN(L.StackedRNNCells([Plain(), Plain()]), return_state=True)(x)
    assert tuple(a.shape) == (2, 2)
    np.testing.assert_array_equal(b.numpy(), np.full((2, 2), 4.0))


# -- text preprocessing ---------------------------------------------------------
def test_text_vectorization_ngrams_argument_checks():
    TV = L.TextVectorization
    for bad in ([1, 2], 2.0, "2"):
        with pytest.raises(ValueError, match="`ngrams` must be None, an integer, or "
                                             "a tuple of integers"):
            TV(ngrams=bad)
    with pytest.raises(ValueError, match="All ngram_widths must be greater than 0. "
                                         "Got 0"):
        TV(ngrams=(0,))
    t = TV(ngrams=(1, 3))
    t.adapt(["a b c", "a b"])
    assert t.get_vocabulary() == ["", "[UNK]", "b", "a", "c", "a b c"]
    assert t(["a b c"]).numpy().tolist() == [[3, 2, 4, 5]]
    config = t.get_config()
    assert config["ngrams"] == (1, 3)
    config["ngrams"] = [1, 3]   # as read back from a JSON file
    assert TV.from_config(config).ngrams == (1, 3)


def test_integer_lookup_refuses_strings():
    # TF 2.21: TypeError (cannot convert ['a'] to int64); no silent OOV index
    layer = L.IntegerLookup(vocabulary=[12, 36])
    with pytest.raises(TypeError, match="IntegerLookup"):
        layer(["a"])
    assert layer([[12, 7, 36]]).numpy().tolist() == [[1, 0, 2]]


def test_vector_modes_read_a_1d_input_as_one_sample():
    # TF 2.21 (and Keras 2's bincount): a 1-D input is one sample, as the
    # layers' compute_output_shape already says; one_hot stays per element
    SL = L.StringLookup
    got = SL(vocabulary=["a", "b"], output_mode="multi_hot")(["a", "b", "b"])
    assert got.numpy().tolist() == [0, 1, 1]
    got = SL(vocabulary=["a", "b"], output_mode="tf_idf", idf_weights=[1.0, 2.0])(
        ["a", "b", "b"])
    np.testing.assert_allclose(got.numpy(), [0.0, 1.0, 4.0])
    got = SL(vocabulary=["a", "b"], output_mode="multi_hot", mask_token="")(["a", ""])
    assert got.numpy().tolist() == [0, 1, 0]
    assert SL(vocabulary=["a", "b"], output_mode="multi_hot")("a").numpy().tolist() == \
        [0, 1, 0]
    assert L.IntegerLookup(vocabulary=[5, 6], output_mode="count")(
        [5, 6, 6]).numpy().tolist() == [0, 1, 2]
    enc = L.CategoryEncoding(4, output_mode="count")
    assert enc([0, 1, 1]).numpy().tolist() == [1.0, 2.0, 0.0, 0.0]
    assert tuple(enc.compute_output_shape((3,))) == (4,)
    assert L.CategoryEncoding(4, output_mode="one_hot")([0, 1]).shape == (2, 4)
    # 2-D inputs keep one row per sample
    assert SL(vocabulary=["a", "b"], output_mode="multi_hot")(
        [["a"], ["b"]]).numpy().tolist() == [[0, 1, 0], [0, 0, 1]]


def test_string_layers_refuse_to_adapt_on_numbers():
    # TF 2.21: ValueError (a NumPy int array cannot become string data)
    for layer in (L.TextVectorization(), L.StringLookup()):
        with pytest.raises(ValueError, match="expects string data"):
            layer.adapt(np.array([1, 2]))
    ds = tf.data.Dataset.from_tensor_slices(["b a", "b"]).batch(1)
    text = L.TextVectorization()
    text.adapt(ds)
    assert text.get_vocabulary() == ["", "[UNK]", "b", "a"]
    ints = L.IntegerLookup()
    ints.adapt(np.array([5, 5, 3]))
    assert ints.get_vocabulary() == [-1, 5, 3]
    with pytest.raises(ValueError, match="TF-IDF output mode, the `idf_weights`"):
        L.TextVectorization(output_mode="tf_idf", vocabulary=["a"])


# -- TimeDistributed over a masked RNN: a hierarchical model ------------------------
def test_time_distributed_rnn_mask_reduces_to_timesteps():
    docs = np.array([[[1, 2, 0], [3, 0, 0]], [[4, 5, 6], [0, 0, 0]]], "int32")
    emb = L.Embedding(10, 3, mask_zero=True)
    e = emb(docs)
    td = L.TimeDistributed(L.GRU(2))
    td(e)
    _randomize(td)
    sentences = td(e)
    # a sentence is kept when any of its words is (Keras 2; TF 2.21 fails here)
    np.testing.assert_array_equal(sentences._keras_mask.numpy(),
                                  [[True, True], [True, False]])
    seq = L.TimeDistributed(L.GRU(2, return_sequences=True))(e)
    np.testing.assert_array_equal(seq._keras_mask.numpy(), docs != 0)

    inp = tf.keras.Input((2, 3), dtype="int32")
    words = L.Embedding(10, 3, mask_zero=True)
    word_rnn = L.GRU(2)
    doc_rnn = L.GRU(2)
    h = doc_rnn(L.TimeDistributed(word_rnn)(words(inp)))
    model = tf.keras.Model(inp, h)
    for layer in (words, word_rnn, doc_rnn):
        _randomize(layer)
    out = model(docs).numpy()
    # document 1's second sentence is all padding: the doc RNN sees one step
    first = word_rnn(words(docs[1:, 0]))
    expect = doc_rnn(tf.expand_dims(first, 1)).numpy()
    np.testing.assert_allclose(out[1:], expect, atol=1e-6)
    both = doc_rnn(tf.stack([word_rnn(words(docs[:1, 0])),
                             word_rnn(words(docs[:1, 1]))], axis=1)).numpy()
    np.testing.assert_allclose(out[:1], both, atol=1e-6)


# -- ConvLSTM channels_first ---------------------------------------------------------
@pytest.mark.parametrize("rank,kw", [
    (2, dict(padding="same", return_sequences=True)),
    (2, dict(strides=2, go_backwards=True)),
    (1, dict(padding="same", dilation_rate=2, return_sequences=True)),
])
def test_conv_lstm_channels_first_matches_channels_last(rank, kw):
    cls = {1: L.ConvLSTM1D, 2: L.ConvLSTM2D}[rank]
    x = RNG.rand(2, 3, *([5] * rank), 2).astype("float32")
    last = cls(3, 3, **kw)
    last(x)
    _randomize(last)
    first = cls(3, 3, data_format="channels_first", **kw)
    perm = [0, 1, rank + 2] + list(range(2, rank + 2))
    xf = np.transpose(x, perm)
    first(xf)
    first.set_weights(last.get_weights())   # same weight shapes, as Keras
    got = first(xf).numpy()
    want = last(x).numpy()
    axes = list(range(got.ndim))
    back = axes[:-rank - 1] + axes[-rank:] + [axes[-rank - 1]]
    np.testing.assert_allclose(np.transpose(got, back), want, atol=1e-5)
    assert tuple(first.compute_output_shape(xf.shape)) == got.shape


def test_conv_lstm_channels_first_states_and_errors():
    # TF 2.21 figures: states follow the data format
    inp = tf.keras.Input((3, 2, 6, 6))
    out = L.ConvLSTM2D(4, 3, data_format="channels_first", return_sequences=True,
                       return_state=True)(inp)
    assert [tuple(t.shape) for t in out] == [(None, 3, 4, 4, 4), (None, 4, 4, 4),
                                             (None, 4, 4, 4)]
    layer = L.ConvLSTM1D(2, 3, data_format="channels_first", padding="same",
                         stateful=True)
    model = tf.keras.Sequential([tf.keras.Input((3, 2, 5), batch_size=2), layer])
    assert model(np.ones((2, 3, 2, 5), "float32")).shape == (2, 2, 5)
    assert [tuple(v.shape) for v in layer.states] == [(2, 2, 5), (2, 2, 5)]
    with pytest.raises(ValueError, match="data_format"):
        L.ConvLSTM2D(2, 3, data_format="nchw")


def test_stateful_batch_mismatch_is_invalid_argument():
    layer = L.LSTM(2, stateful=True)
    model = tf.keras.Sequential([tf.keras.Input((4, 3), batch_size=2), layer])
    model(np.ones((2, 4, 3), "float32"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size"):
        model.predict(np.ones((3, 4, 3), "float32"), batch_size=3, verbose=0)
    with pytest.raises(ValueError, match="batch size"):
        layer(np.ones((3, 4, 3), "float32"))


def test_stateful_bidirectional_states_and_reset_state():
    x = RNG.rand(2, 3, 4).astype("float32")
    bi = L.Bidirectional(L.LSTM(2, stateful=True))
    assert bi.states is None
    model = tf.keras.Sequential([tf.keras.Input((3, 4), batch_size=2), bi])
    first = model(x).numpy()
    second = model(x).numpy()
    assert not np.allclose(first, second)   # the states carried over
    # TF 2.21: forward (h, c) then backward (h, c)
    assert len(bi.states) == 4 and all(tuple(s.shape) == (2, 2) for s in bi.states)
    np.testing.assert_allclose(bi.states[0].numpy(), bi.forward_layer.states[0].numpy())
    np.testing.assert_allclose(bi.states[2].numpy(), bi.backward_layer.states[0].numpy())
    bi.reset_state()
    assert all(not np.any(s.numpy()) for s in bi.states)
    np.testing.assert_allclose(model(x).numpy(), first, atol=1e-6)


# -- the text-generation step of TF's tutorial, compiled ------------------------
def test_zeros_of_a_traced_ragged_batch_size():
    @tf.function
    def initial(texts):
        ids = tf.strings.unicode_decode(texts, "UTF-8").to_tensor()
        return tf.zeros([tf.shape(ids)[0], 3]), \
            tf.keras.layers.GRU(3).get_initial_state(tf.shape(ids)[0])

    zeros, states = initial(tf.constant(["hel", "lo"]))
    assert zeros.shape == (2, 3) and np.all(zeros.numpy() == 0)
    assert [tuple(s.shape) for s in states] == [(2, 3)]
    zeros, _ = initial(tf.constant(["a", "b", "c"]))
    assert zeros.shape == (3, 3)


def test_one_step_text_generation_loop():
    text = "hello world hello there "
    ids_from_chars = L.StringLookup(vocabulary=sorted(set(text)), mask_token=None)
    chars_from_ids = L.StringLookup(vocabulary=ids_from_chars.get_vocabulary(),
                                    invert=True, mask_token=None)
    vocab = len(ids_from_chars.get_vocabulary())

    class CharModel(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.embedding = L.Embedding(vocab, 4)
            self.gru = L.GRU(8, return_sequences=True, return_state=True)
            self.dense = L.Dense(vocab)

        def call(self, inputs, states=None, return_state=False, training=False):
            x = self.embedding(inputs, training=training)
            if states is None:
                states = self.gru.get_initial_state(tf.shape(x)[0])
            x, states = self.gru(x, initial_state=states, training=training)
            x = self.dense(x, training=training)
            return (x, states) if return_state else x

    model = CharModel()
    model(np.array([[1, 2, 3]]))
    # the [UNK] id can never be drawn
    mask = tf.sparse.to_dense(tf.SparseTensor(
        values=[-float("inf")], indices=ids_from_chars(["[UNK]"])[:, None],
        dense_shape=[vocab]))

    @tf.function
    def generate_one_step(inputs, states=None):
        chars = tf.strings.unicode_split(inputs, "UTF-8")
        input_ids = ids_from_chars(chars).to_tensor()
        logits, states = model(inputs=input_ids, states=states, return_state=True)
        logits = logits[:, -1, :] + mask
        predicted = tf.squeeze(tf.random.categorical(logits, num_samples=1), axis=-1)
        return chars_from_ids(predicted), states

    next_char, states, result = tf.constant(["hel"]), None, [tf.constant(["hel"])]
    for _ in range(8):
        next_char, states = generate_one_step(next_char, states=states)
        result.append(next_char)
    generated = tf.strings.join(result)[0].numpy().decode()
    assert len(generated) == 11 and generated.startswith("hel")
    assert set(generated) <= set(text)
    assert tuple(states.shape) == (1, 8)
