"""Ragged and sparse elements through tf.data: slicing, batch, unbatch, map, ragged and
sparse batching. Expected specs and values were printed by TF 2.21."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.data import composite


def _rt(rows, **kw):
    return tf.ragged.constant(rows, **kw)


def test_slices_of_ragged_are_ragged_rank0_specs_and_dense_rows():
    ds = tf.data.Dataset.from_tensor_slices(_rt([[1, 2], [3], [4, 5, 6], [], [7]]))
    assert repr(ds.element_spec) == \
        "RaggedTensorSpec(TensorShape([None]), tf.int32, 0, tf.int64)"
    rows = list(ds)
    assert all(isinstance(r, tf.Tensor) for r in rows)
    assert [r.numpy().tolist() for r in rows] == [[1, 2], [3], [4, 5, 6], [], [7]]


def test_batch_of_ragged_slices_gives_ragged_tensors():
    ds = tf.data.Dataset.from_tensor_slices(_rt([[1, 2], [3], [4, 5, 6], [], [7]]))
    batched = ds.batch(2)
    assert repr(batched.element_spec) == \
        "RaggedTensorSpec(TensorShape([None, None]), tf.int32, 1, tf.int64)"
    out = list(batched)
    assert all(isinstance(b, tf.RaggedTensor) for b in out)
    assert [b.to_list() for b in out] == [[[1, 2], [3]], [[4, 5, 6], []], [[7]]]
    # rows of equal length stay ragged: the spec decides, not the values
    same = tf.data.Dataset.from_tensor_slices(_rt([[1, 2], [3, 4]])).batch(2)
    assert isinstance(next(iter(same)), tf.RaggedTensor)
    assert batched.batch(2, drop_remainder=True).element_spec.shape.as_list() == \
        [2, None, None]


def test_batch_unbatch_round_trip_nested_ragged_and_splits_dtype():
    rt = _rt([[[1], [2, 3]], [], [[4, 5, 6]]])
    ds = tf.data.Dataset.from_tensor_slices(rt)
    assert ds.element_spec.ragged_rank == 1
    assert [r.to_list() for r in ds] == [[[1], [2, 3]], [], [[4, 5, 6]]]
    batched = ds.batch(2)
    assert batched.element_spec.ragged_rank == 2
    assert [b.to_list() for b in batched] == [[[[1], [2, 3]], []], [[[4, 5, 6]]]]
    again = batched.unbatch()
    assert again.element_spec == ds.element_spec
    assert [r.to_list() for r in again] == rt.to_list()
    r32 = tf.data.Dataset.from_tensor_slices(_rt([[1, 2], [3], [4, 5, 6]],
                                                 row_splits_dtype=tf.int32))
    assert r32.element_spec.row_splits_dtype == tf.int32
    first = next(iter(r32.batch(2)))
    assert first.row_splits.dtype == tf.int32
    assert [r.numpy().tolist() for r in r32.batch(2).unbatch()] == [[1, 2], [3],
                                                                   [4, 5, 6]]


def test_map_over_ragged_rows_and_dicts():
    ds = tf.data.Dataset.from_tensor_slices(_rt([[1, 2], [3], [4, 5, 6], [], [7]]))
    doubled = ds.map(lambda x: x * 2)
    assert doubled.element_spec == tf.TensorSpec([None], tf.int32)
    assert [x.numpy().tolist() for x in doubled.take(3)] == [[2, 4], [6], [8, 10, 12]]
    sums = ds.map(tf.reduce_sum)
    assert [int(x) for x in sums] == [3, 3, 15, 0, 7]
    d = tf.data.Dataset.from_tensor_slices({"a": _rt([[1, 2], [3], [4, 5, 6], [], [7]]),
                                            "b": np.arange(5)})
    assert isinstance(d.element_spec["a"], tf.RaggedTensorSpec)
    out = [(e["a"].to_list(), e["b"].numpy().tolist()) for e in d.batch(3)]
    assert out == [([[1, 2], [3], [4, 5, 6]], [0, 1, 2]), ([[], [7]], [3, 4])]


def test_ragged_batch_and_dense_to_ragged_batch():
    d = tf.data.Dataset.from_tensor_slices(np.arange(6)).map(lambda x: tf.range(x))
    rb = d.ragged_batch(3)
    assert repr(rb.element_spec) == \
        "RaggedTensorSpec(TensorShape([None, None]), tf.int64, 1, tf.int64)"
    assert [e.to_list() for e in rb] == [[[], [0], [0, 1]],
                                         [[0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4]]]
    rb2 = d.apply(tf.data.experimental.dense_to_ragged_batch(4))
    assert [e.to_list() for e in rb2] == [[[], [0], [0, 1], [0, 1, 2]],
                                          [[0, 1, 2, 3], [0, 1, 2, 3, 4]]]
    # ragged elements get one more ragged dimension
    rows = tf.data.Dataset.from_tensor_slices(_rt([[[1], [2, 3]], [], [[4]]]))
    nested = rows.ragged_batch(2)
    assert nested.element_spec.ragged_rank == 2
    assert [e.to_list() for e in nested] == [[[[1], [2, 3]], []], [[[4]]]]


def _sparse():
    return tf.sparse.SparseTensor(indices=[[0, 0], [1, 2], [3, 1]],
                                  values=[1., 2., 3.], dense_shape=[4, 3])


def _triple(st):
    return (st.indices.numpy().tolist(), st.values.numpy().tolist(),
            st.dense_shape.numpy().tolist())


def test_slices_and_batches_of_sparse():
    ds = tf.data.Dataset.from_tensor_slices(_sparse())
    assert repr(ds.element_spec) == "SparseTensorSpec(TensorShape([3]), tf.float32)"
    rows = list(ds)
    assert all(isinstance(r, tf.sparse.SparseTensor) for r in rows)
    assert [_triple(r) for r in rows] == [([[0]], [1.0], [3]), ([[2]], [2.0], [3]),
                                          ([], [], [3]), ([[1]], [3.0], [3])]
    batches = [_triple(b) for b in ds.batch(2)]
    assert batches == [([[0, 0], [1, 2]], [1.0, 2.0], [2, 3]),
                       ([[1, 1]], [3.0], [2, 3])]
    dense = [tf.sparse.to_dense(r).numpy().tolist() for r in ds.batch(3).unbatch()]
    assert dense == tf.sparse.to_dense(_sparse()).numpy().tolist()
    mapped = ds.map(lambda s: tf.sparse.to_dense(s) * 2)
    assert mapped.element_spec == tf.TensorSpec([3], tf.float32)
    assert [x.numpy().tolist() for x in mapped][1] == [0.0, 0.0, 4.0]


def test_dense_to_sparse_batch():
    d = tf.data.Dataset.from_tensor_slices(np.arange(1, 5)).map(lambda x: tf.fill([x], x))
    sb = d.apply(tf.data.experimental.dense_to_sparse_batch(2, [5]))
    assert repr(sb.element_spec) == "SparseTensorSpec(TensorShape([None, 5]), tf.int64)"
    assert [_triple(e) for e in sb] == [
        ([[0, 0], [1, 0], [1, 1]], [1, 2, 2], [2, 5]),
        ([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [1, 3]],
         [3, 3, 3, 4, 4, 4, 4], [2, 5])]


def test_stack_ragged_matches_ragged_constant_and_rejects_mixed_inner_shapes():
    rows = [np.array([[1, 2]]), np.zeros((0, 2), np.int64), np.array([[3, 4], [5, 6]])]
    rt = composite.stack_ragged(rows)
    assert rt.to_list() == [[[1, 2]], [], [[3, 4], [5, 6]]]
    assert [r.tolist() for r in composite.ragged_rows(rt)] == [r.tolist() for r in rows]
    with pytest.raises(ValueError, match="inner dimensions"):
        composite.stack_ragged([np.zeros((1, 2)), np.zeros((1, 3))])
    with pytest.raises(ValueError, match="same number of rows"):
        tf.data.Dataset.from_tensor_slices((_sparse(), np.arange(3)))
