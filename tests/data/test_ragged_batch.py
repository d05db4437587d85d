"""Ragged elements in tf.data: from_tensor_slices of a RaggedTensor, ragged_batch and
experimental.dense_to_ragged_batch (behaviour checked against TF 2.21)."""

import pytest

import dlframe as tf


def test_from_tensor_slices_of_ragged_yields_rows():
    rt = tf.ragged.constant([[1, 2], [3], []])
    ds = tf.data.Dataset.from_tensor_slices(rt)
    assert ds.element_spec.shape.as_list() == [None]
    assert [x.numpy().tolist() for x in ds] == [[1, 2], [3], []]
    pairs = tf.data.Dataset.from_tensor_slices((rt, [7, 8, 9]))
    assert [(a.numpy().tolist(), int(b)) for a, b in pairs] == [([1, 2], 7), ([3], 8),
                                                               ([], 9)]
    with pytest.raises(ValueError, match="same number of rows"):
        tf.data.Dataset.from_tensor_slices((rt, [1, 2]))


def test_ragged_batch_round_trips_rows():
    rt = tf.ragged.constant([[1], [2, 3], [4, 5, 6]])
    batched = tf.data.Dataset.from_tensor_slices((rt, [0, 1, 2])).ragged_batch(2)
    spec = batched.element_spec[0]
    assert isinstance(spec, tf.RaggedTensorSpec) and spec.ragged_rank == 1
    out = [(x.to_list(), y.numpy().tolist()) for x, y in batched]
    assert out == [([[1], [2, 3]], [0, 1]), ([[4, 5, 6]], [2])]
    dropped = tf.data.Dataset.from_tensor_slices(rt).ragged_batch(2, drop_remainder=True)
    assert [x.to_list() for x in dropped] == [[[1], [2, 3]]]
    assert dropped.cardinality().numpy() == 1


def test_dense_to_ragged_batch_then_map():
    ds = tf.data.Dataset.range(5).map(lambda n: tf.range(n)).apply(
        tf.data.experimental.dense_to_ragged_batch(2))
    assert [x.to_list() for x in ds] == [[[], [0]], [[0, 1], [0, 1, 2]], [[0, 1, 2, 3]]]
    sums = ds.map(lambda x: tf.reduce_sum(x, axis=1))
    assert [v.numpy().tolist() for v in sums] == [[0, 0], [1, 3], [6]]
    first = next(iter(ds.as_numpy_iterator()))
    assert [row.tolist() for row in first] == [[], [0]]
