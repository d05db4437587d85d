"""Sparse and ragged model inputs: ``keras.Input(sparse=True)`` feeding ``Dense`` (a
sparse-dense product), ``fit``/``evaluate``/``predict`` with a SparseTensor ``x`` or a
dataset of sparse batches, and ``keras.Input(ragged=True)`` feeding ``Embedding``.
Expected numbers were printed by TF 2.21."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import sparse_rows

keras = tf.keras


def _data():
    rng = np.random.default_rng(0)
    x = ((rng.random((64, 5)) > 0.6) * rng.random((64, 5))).astype("float32")
    y = x @ np.arange(1, 11, dtype="float32").reshape(5, 2)
    return x, y


def _model(sparse):
    inp = keras.Input(shape=(5,), sparse=sparse)
    out = keras.layers.Dense(2, kernel_initializer="zeros")(inp)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


def test_sparse_input_layer_and_dense_forward():
    inp = keras.Input(shape=(5,), sparse=True)
    assert inp.sparse and tuple(inp.shape) == (None, 5)
    dense = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
    model = keras.Model(inp, dense(inp))
    st = tf.sparse.SparseTensor(indices=[[0, 0], [1, 2], [2, 4]], values=[1., 2., 3.],
                                dense_shape=[3, 5])
    assert model(st).numpy().tolist() == [[1, 1], [2, 2], [3, 3]]
    assert model.predict(st, verbose=0).tolist() == [[1, 1], [2, 2], [3, 3]]
    assert model.get_layer(index=0).get_config()["sparse"] is True


def test_fit_on_sparse_x_matches_fit_on_dense_x():
    x, y = _data()
    sparse, dense = _model(True), _model(False)
    hs = sparse.fit(tf.sparse.from_dense(x), y, epochs=5, batch_size=16, shuffle=False,
                    verbose=0)
    hd = dense.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(hs.history["loss"], hd.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(sparse.layers[-1].kernel.numpy(),
                               dense.layers[-1].kernel.numpy(), rtol=1e-5)
    assert hs.history["loss"][-1] < hs.history["loss"][0] / 2
    # shuffled epochs and validation_split slice the SparseTensor by rows
    h = sparse.fit(tf.sparse.from_dense(x), y, epochs=2, batch_size=8,
                   validation_split=0.25, verbose=0)
    assert len(h.history["val_loss"]) == 2


def test_fit_on_dataset_of_sparse_batches():
    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((tf.sparse.from_dense(x), y)).batch(16)
    assert repr(ds.element_spec[0]) == "SparseTensorSpec(TensorShape([None, 5]), " \
        "tf.float32)"
    model = _model(True)
    hist = model.fit(ds, epochs=20, verbose=0)
    # TF 2.21: first-epoch loss 47.977, evaluate after 20 epochs 3.169
    assert round(hist.history["loss"][0], 3) == 47.977
    assert round(float(model.evaluate(tf.sparse.from_dense(x), y, verbose=0)), 3) == \
        3.169


def test_sparse_rows_take_and_slice():
    dense = np.array([[1, 0, 2], [0, 0, 0], [0, 3, 0], [4, 0, 5]], "float32")
    st = tf.sparse.from_dense(dense)
    picked = sparse_rows.take_rows(st, [3, 0, 3, 1])
    assert tf.sparse.to_dense(picked).numpy().tolist() == dense[[3, 0, 3, 1]].tolist()
    assert tf.sparse.to_dense(sparse_rows.slice_rows(st, 1, 10)).numpy().tolist() == \
        dense[1:].tolist()
    with pytest.raises(ValueError, match="rows"):
        sparse_rows.take_rows(st, [4])


def test_ragged_input_feeds_embedding():
    ids = keras.Input(shape=(None,), ragged=True, dtype="int32")
    assert ids.ragged
    vectors = keras.layers.Embedding(10, 3, embeddings_initializer="ones")(ids)
    assert tuple(vectors.shape) == (None, None, 3)
    model = keras.Model(ids, vectors)
    out = model(tf.ragged.constant([[1, 2], [3]]))
    assert isinstance(out, tf.RaggedTensor)
    assert out.to_list() == [[[1.0] * 3] * 2, [[1.0] * 3]]
    table = tf.reshape(tf.range(20, dtype=tf.float32), [10, 2])
    looked = tf.nn.embedding_lookup(table, tf.ragged.constant([[1, 2], [3]]))
    assert looked.to_list() == [[[2.0, 3.0], [4.0, 5.0]], [[6.0, 7.0]]]
