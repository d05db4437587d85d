"""sparse=True outputs of the preprocessing layers as TF 2.21 (Keras 3) gives them:
a SparseTensor of the nonzero entries of the dense vectors."""

import numpy as np
import pytest

import dlframe as tf

L = tf.keras.layers


def _parts(sp):
    assert isinstance(sp, tf.SparseTensor)
    return (sp.indices.numpy().tolist(), sp.values.numpy().tolist(), sp.values.dtype,
            sp.dense_shape.numpy().tolist())


@pytest.mark.parametrize("make,inputs,expected", [
    (lambda: L.TextVectorization(output_mode="multi_hot", sparse=True,
                                 vocabulary=["a", "b"]),
     ["a z", "b"], ([[0, 0], [0, 1], [1, 2]], [1, 1, 1], tf.int64, [2, 3])),
    (lambda: L.TextVectorization(output_mode="count", sparse=True,
                                 vocabulary=["a", "b"]),
     ["a a z", "b"], ([[0, 0], [0, 1], [1, 2]], [1, 2, 1], tf.int64, [2, 3])),
    (lambda: L.StringLookup(output_mode="multi_hot", sparse=True,
                            vocabulary=["a", "b"]),
     [["a", "z"], ["b", "b"]], ([[0, 0], [0, 1], [1, 2]], [1, 1, 1], tf.int64, [2, 3])),
    (lambda: L.StringLookup(output_mode="one_hot", sparse=True, vocabulary=["a", "b"]),
     ["a", "b"], ([[0, 1], [1, 2]], [1, 1], tf.int64, [2, 3])),
    (lambda: L.StringLookup(output_mode="count", sparse=True, vocabulary=["a", "b"]),
     [["a", "a"]], ([[0, 1]], [2], tf.int64, [1, 3])),
    (lambda: L.IntegerLookup(output_mode="multi_hot", sparse=True, vocabulary=[5, 6]),
     [[5, 7]], ([[0, 0], [0, 1]], [1, 1], tf.int64, [1, 3])),
    (lambda: L.CategoryEncoding(num_tokens=4, output_mode="count", sparse=True),
     [[0, 3, 3]], ([[0, 0], [0, 3]], [1.0, 2.0], tf.float32, [1, 4])),
    (lambda: L.CategoryEncoding(num_tokens=4, output_mode="one_hot", sparse=True),
     [0, 3], ([[0, 0], [1, 3]], [1.0, 1.0], tf.float32, [2, 4])),
    (lambda: L.Hashing(num_bins=4, output_mode="multi_hot", sparse=True),
     [["a", "b"]], ([[0, 2], [0, 3]], [1.0, 1.0], tf.float32, [1, 4])),
    (lambda: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot",
                              sparse=True),
     [-1.0, 2.0], ([[0, 0], [1, 2]], [1.0, 1.0], tf.float32, [2, 3])),
])
def test_sparse_outputs(make, inputs, expected):
    assert _parts(make()(tf.constant(inputs))) == expected


def test_hashed_crossing_sparse_one_hot():
    layer = L.HashedCrossing(num_bins=4, output_mode="one_hot", sparse=True)
    got = layer((tf.constant([1]), tf.constant(["a"])))
    assert _parts(got) == ([[0, 1]], [1.0], tf.float32, [1, 4])
    # 'int' ids stay dense, as TF
    ids = L.HashedCrossing(num_bins=4, sparse=True)(
        (tf.constant([1]), tf.constant(["a"])))
    assert not isinstance(ids, tf.SparseTensor) and ids.numpy().tolist() == [1]


def test_count_weights_sparse():
    layer = L.CategoryEncoding(num_tokens=4, output_mode="count", sparse=True)
    got = layer(tf.constant([[0, 3]]), count_weights=tf.constant([[0.5, 0.25]]))
    assert _parts(got) == ([[0, 0], [0, 3]], [0.5, 0.25], tf.float32, [1, 4])


def test_sparse_needs_a_vector_output_mode():
    for make in (lambda: L.TextVectorization(sparse=True),
                 lambda: L.StringLookup(sparse=True),
                 lambda: L.IntegerLookup(sparse=True)):
        with pytest.raises(ValueError, match="`sparse` may only be true if "
                                             "`output_mode` is `'one_hot'`"):
            make()
    with pytest.raises(ValueError, match="`sparse=True` may only be used"):
        L.Discretization(bin_boundaries=[0.0], sparse=True)
    with pytest.raises(ValueError, match="`sparse` may only be true"):
        L.Hashing(num_bins=4, sparse=True)


def test_sparse_lookup_in_a_pipeline_and_function():
    layer = L.StringLookup(output_mode="multi_hot", sparse=True, vocabulary=["a", "b"])
    ds = tf.data.Dataset.from_tensor_slices([["a", "z"], ["b", "b"]])
    ds = ds.batch(2).map(layer)
    assert isinstance(ds.element_spec, tf.SparseTensorSpec)
    assert ds.element_spec.shape.as_list() == [None, 3]
    dense = tf.sparse.to_dense(next(iter(ds))).numpy()
    np.testing.assert_array_equal(dense, [[1, 1, 0], [0, 0, 1]])
    traced = tf.function(lambda x: layer(x))(tf.constant([["a", "z"]]))
    assert traced.indices.numpy().tolist() == [[0, 0], [0, 1]]


def test_vocabulary_layers_need_max_tokens_above_one():
    for make in (lambda n: L.TextVectorization(max_tokens=n),
                 lambda n: L.StringLookup(max_tokens=n)):
        for n in (0, 1):
            with pytest.raises(ValueError, match="If set, `max_tokens` must be "
                                                 "greater than 1"):
                make(n)
    with pytest.raises(ValueError, match="If `max_tokens` is set for `IntegerLookup`"):
        L.IntegerLookup(max_tokens=1)
    layer = L.StringLookup(max_tokens=2)
    layer.adapt(["b", "b", "a"])
    assert layer.get_vocabulary() == ["[UNK]", "b"]
