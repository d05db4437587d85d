"""Ragged inputs through Keras: ``Input(ragged=True)`` models (Embedding, global
pooling, RNNs, Lambda layers, TextVectorization(ragged=True)) and fit/evaluate/predict
on RaggedTensors and ragged datasets. Symbolic shapes and refusals were checked
against TF 2.21 (Keras 3); RNNs take ragged rows as Keras 2 did (padded + masked)."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
ROWS = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 1]]
TABLE = np.arange(40, dtype="float32").reshape(10, 4) / 40.0


def _ids(rows=ROWS):
    return tf.ragged.constant(rows, dtype=tf.int64)


def _embedding(**kwargs):
    return keras.layers.Embedding(10, 4, embeddings_initializer=keras.initializers
                                  .Constant(TABLE), **kwargs)


def _padded(rows):
    width = max(len(r) for r in rows)
    ids = np.array([r + [0] * (width - len(r)) for r in rows])
    mask = np.array([[j < len(r) for j in range(width)] for r in rows])
    return ids, mask


def test_ragged_input_is_symbolic_ragged_and_embedding_keeps_it():
    x = keras.Input(shape=(None,), dtype="int64", ragged=True)
    assert x.ragged and not x.sparse and x.shape.as_list() == [None, None]
    assert tf.as_dtype(x.dtype) == tf.int64
    e = keras.layers.Embedding(10, 4)(x)
    assert e.ragged and e.shape.as_list() == [None, None, 4]
    p = keras.layers.GlobalAveragePooling1D()(e)
    assert not p.ragged and p.shape.as_list() == [None, 4]
    s = keras.Input(shape=(None,), dtype="string", ragged=True)
    assert s.ragged and tf.as_dtype(s.dtype) == tf.string


def test_sparse_and_ragged_input_is_refused():
    with pytest.raises(ValueError, match="sparse=True.*ragged=True"):
        keras.Input(shape=(None,), sparse=True, ragged=True)


@pytest.mark.parametrize("pool,reduce", [
    (keras.layers.GlobalAveragePooling1D, np.mean),
    (keras.layers.GlobalMaxPooling1D, np.max)])
def test_global_pooling_pools_each_row_over_its_own_length(pool, reduce):
    x = keras.Input(shape=(None,), dtype="int64", ragged=True)
    model = keras.Model(x, pool()(_embedding()(x)))
    want = np.stack([reduce(TABLE[r], axis=0) for r in ROWS])
    np.testing.assert_allclose(model(_ids()).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(model.predict(_ids(), verbose=0), want, rtol=1e-6)
    np.testing.assert_allclose(model.predict(_ids(), batch_size=3, verbose=0), want,
                               rtol=1e-6)


def test_ragged_average_pooling_gradient_is_one_over_row_length():
    values = tf.Variable(np.random.default_rng(0).normal(size=(6, 2)).astype("float32"))
    layer = keras.layers.GlobalAveragePooling1D()
    with tf.GradientTape() as tape:
        rt = tf.RaggedTensor.from_row_lengths(values, [3, 1, 2])
        loss = tf.reduce_sum(layer(rt))
    grad = tape.gradient(loss, values).numpy()
    want = np.repeat([1 / 3, 1.0, 1 / 2], [3, 1, 2])[:, None] * np.ones((6, 2))
    np.testing.assert_allclose(grad, want, rtol=1e-6)


def test_mask_zero_embedding_masks_inside_ragged_rows():
    x = keras.Input(shape=(None,), dtype="int64", ragged=True)
    e = _embedding(mask_zero=True)(x)
    model = keras.Model(x, keras.layers.GlobalAveragePooling1D()(e))
    out = model(_ids([[1, 0, 3], [4]])).numpy()
    np.testing.assert_allclose(out, [(TABLE[1] + TABLE[3]) / 2, TABLE[4]], rtol=1e-6)


@pytest.mark.parametrize("cls", [keras.layers.LSTM, keras.layers.GRU,
                                 keras.layers.SimpleRNN])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_on_ragged_rows_equals_padded_rows_with_mask(cls, go_backwards):
    rnn = cls(3, return_sequences=True, go_backwards=go_backwards)
    x = keras.Input(shape=(None,), dtype="int64", ragged=True)
    seq = rnn(_embedding()(x))
    assert seq.ragged and seq.shape.as_list() == [None, None, 3]
    model = keras.Model(x, seq)
    out = model(_ids())
    assert isinstance(out, tf.RaggedTensor)
    assert out.row_lengths().numpy().tolist() == [len(r) for r in ROWS]
    ids, mask = _padded(ROWS)
    dense = rnn(tf.nn.embedding_lookup(TABLE, ids), mask=tf.constant(mask)).numpy()
    if go_backwards:   # the ragged rows come back in input time order
        dense = dense[:, ::-1]
    for row, got, length in zip(dense, out.to_list(), map(len, ROWS)):
        np.testing.assert_allclose(got, row[:length], rtol=1e-5, atol=1e-6)
    last = cls(3, go_backwards=go_backwards)
    last.build((None, None, 4))
    last.set_weights(rnn.get_weights())
    want = last(tf.nn.embedding_lookup(TABLE, ids), mask=tf.constant(mask)).numpy()
    np.testing.assert_allclose(last(_embedding()(_ids())).numpy(), want, rtol=1e-5,
                               atol=1e-6)


def test_lambda_layers_see_ragged_tensors():
    x = keras.Input(shape=(None,), ragged=True)
    dense = keras.layers.Lambda(lambda r: r.to_tensor())(x)
    lengths = keras.layers.Lambda(lambda r: r.row_lengths())(x)
    squared = keras.layers.Lambda(tf.square)(x)
    assert squared.ragged and not dense.ragged
    model = keras.Model(x, [dense, lengths, squared])
    rt = tf.ragged.constant([[1.0, 2.0, 3.0], [4.0], [5.0, 6.0]])
    d, n, sq = model(rt)
    np.testing.assert_array_equal(d.numpy(), [[1, 2, 3], [4, 0, 0], [5, 6, 0]])
    assert n.numpy().tolist() == [3, 1, 2]
    assert sq.to_list() == [[1.0, 4.0, 9.0], [16.0], [25.0, 36.0]]


def _classifier(body):
    x = keras.Input(shape=(None,), dtype="int64", ragged=True)
    h = body(keras.layers.Embedding(10, 8)(x))
    model = keras.Model(x, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy"])
    return model


def _task(n=96, seed=0):
    rng = np.random.default_rng(seed)
    rows = [list(rng.integers(1, 10, size=rng.integers(1, 7))) for _ in range(n)]
    labels = np.array([float(5 in r) for r in rows], dtype="float32")
    return tf.ragged.constant(rows, dtype=tf.int64), labels


def test_fit_evaluate_predict_on_ragged_arrays_learns():
    keras.utils.set_random_seed(0)
    x, y = _task()
    model = _classifier(keras.layers.GlobalMaxPooling1D())
    history = model.fit(x, y, epochs=25, batch_size=16, shuffle=True, verbose=0,
                        validation_split=0.25)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    _, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9
    assert model.predict(x, batch_size=10, verbose=0).shape == (96, 1)
    assert model.predict_on_batch(x[:5]).shape == (5, 1)
    assert np.isfinite(model.train_on_batch(x[:8], y[:8])[0])


def test_fit_on_ragged_dataset_with_lstm_learns():
    keras.utils.set_random_seed(1)
    x, y = _task()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(96, seed=0).batch(16)
    assert isinstance(ds.element_spec[0], tf.RaggedTensorSpec)
    model = _classifier(keras.layers.LSTM(8))
    # compiled steps: the padded width the RNN unrolls is part of the trace key
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(ds, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    preds = model.predict(tf.data.Dataset.from_tensor_slices(x).batch(32), verbose=0)
    assert preds.shape == (96, 1)
    assert model.evaluate(ds, verbose=0)[1] > 0.85


def test_text_vectorization_ragged_feeds_embedding_and_trains():
    keras.utils.set_random_seed(2)
    texts = np.array(["good movie", "bad film", "very good", "very bad plot",
                      "good good fun", "bad boring film"] * 4)
    labels = np.array([1, 0, 1, 0, 1, 0] * 4, dtype="float32")
    vectorize = keras.layers.TextVectorization(max_tokens=20, ragged=True)
    vectorize.adapt(texts)
    ids = vectorize(tf.constant(texts[:2]))
    assert isinstance(ids, tf.RaggedTensor)
    assert ids.row_lengths().numpy().tolist() == [2, 2]
    x = keras.Input(shape=(), dtype="string")
    h = keras.layers.GlobalAveragePooling1D()(
        keras.layers.Embedding(20, 8)(vectorize(x)))
    model = keras.Model(x, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(texts, labels, epochs=20, batch_size=8, verbose=0)
    assert model.evaluate(texts, labels, verbose=0)[1] == 1.0


def test_ragged_input_model_saves_and_reloads(tmp_path):
    x = keras.Input(shape=(None,), dtype="int64", ragged=True, name="tokens")
    h = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(10, 4)(x))
    model = keras.Model(x, keras.layers.Dense(2)(h))
    path = str(tmp_path / "ragged.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].get_config()["ragged"] is True
    np.testing.assert_allclose(loaded.predict(_ids(), verbose=0),
                               model.predict(_ids(), verbose=0), rtol=1e-6)


def test_compiled_to_tensor_width_is_keyed():
    @tf.function
    def columns(rt):
        dense = rt.to_tensor()
        return tf.stack(tf.unstack(dense, num=dense.shape[1], axis=1), axis=1)
    assert columns(_ids([[1, 2, 3], [4]])).numpy().tolist() == [[1, 2, 3], [4, 0, 0]]
    # same number of rows and values, another width
    assert columns(_ids([[1, 2], [3, 4]])).numpy().tolist() == [[1, 2], [3, 4]]


def test_ragged_pooling_gradient_in_function_with_varying_row_totals():
    layer = keras.layers.GlobalAveragePooling1D()

    @tf.function
    def grad(values, lengths):
        with tf.GradientTape() as tape:
            tape.watch(values)
            loss = tf.reduce_sum(layer(tf.RaggedTensor.from_row_lengths(values,
                                                                        lengths)))
        return tape.gradient(loss, values)
    for lengths in ([2, 1], [3, 1], [1, 1]):   # one trace, totals 3, 4, 2 values
        values = tf.ones([sum(lengths), 2])
        want = np.repeat([1 / n for n in lengths], lengths)[:, None] * np.ones((1, 2))
        np.testing.assert_allclose(grad(values, tf.constant(lengths, tf.int64)).numpy(),
                                   want, rtol=1e-6)
