"""Structural tf.sparse ops and SparseTensor itself.

Expected values marked "TF 2.21" were recorded from TensorFlow 2.21 on the same inputs.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad

A_IDX = [[0, 1], [1, 0], [1, 2], [3, 3]]
B_IDX = [[0, 0], [1, 2], [2, 4]]
C_IDX = [[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 3]]


def _a():
    return tf.SparseTensor(A_IDX, [1., 2., 3., 4.], [4, 5])


def _b():
    return tf.SparseTensor(B_IDX, [10., -3., 5.], [4, 5])


def _c():
    return tf.SparseTensor(C_IDX, [1., 2., 3., 4.], [2, 3, 4])


def _parts(sp):
    return (sp.indices.numpy().tolist(), sp.values.numpy().tolist(),
            sp.dense_shape.numpy().tolist())


def _dense(sp):
    out = np.zeros(sp.dense_shape.numpy(), sp.values.numpy().dtype)
    for i, v in zip(sp.indices.numpy(), sp.values.numpy()):
        out[tuple(i)] = v
    return out


def test_from_dense_and_to_dense():
    sp = tf.sparse.from_dense([[0, 1.5], [0, 0], [2, 0]])
    # TF 2.21
    assert _parts(sp) == ([[0, 1], [2, 0]], [1.5, 2.0], [3, 2])
    assert sp.indices.dtype == tf.int64 and sp.dense_shape.dtype == tf.int64
    dense = tf.sparse.to_dense(_a(), default_value=-1.0).numpy()
    want = np.full((4, 5), -1.0)
    want[tuple(np.array(A_IDX).T)] = [1, 2, 3, 4]
    np.testing.assert_array_equal(dense, want)
    strings = tf.sparse.from_dense(tf.constant([[b"", b"x"], [b"y", b""]]))
    assert strings.values.numpy().tolist() == [b"x", b"y"]
    assert tf.sparse.to_dense(strings).numpy().tolist() == [[b"", b"x"], [b"y", b""]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="repeated"):
        tf.sparse.to_dense(tf.SparseTensor([[0], [0]], [1.0, 2.0], [3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        tf.sparse.to_dense(tf.SparseTensor([[4]], [1.0], [3]))


def test_dense_round_trip_gradients():
    # entries that are stored carry their gradient; zeros are not in the SparseTensor
    # (as in TF), so their gradient is 0
    x = tf.constant([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.sparse.from_dense(x).values * tf.constant([1., 2., 3.]))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[0, 1, 2], [0, 0, 3]])
    check_grad(lambda d: tf.sparse.to_dense(tf.sparse.from_dense(d)) * 2.0,
               [np.array([[0.5, 1.5, -2.0], [1.0, -1.0, 3.0]])])
    values = np.array([1.0, -2.0, 0.5])

    def densify(v, default):
        return tf.sparse.to_dense(tf.SparseTensor([[0, 0], [1, 2], [2, 1]], v, [3, 3]),
                                  default_value=default)

    check_grad(densify, [values, np.array(0.25)])


def test_sparse_tensor_properties_and_operators():
    sp = _a()
    assert sp.shape.as_list() == [4, 5] and sp.dtype == tf.float32
    assert _parts(sp * 2.0)[1] == [2.0, 4.0, 6.0, 8.0]
    # TF 2.21: multiplying by a broadcast dense tensor scales each stored entry
    assert _parts(sp * tf.constant([[1.0], [2.0], [3.0], [4.0]]))[1] == [1, 4, 6, 16]
    assert _parts(sp / 2.0)[1] == [0.5, 1.0, 1.5, 2.0]
    assert _parts(sp.with_values(tf.constant([9, 8, 7, 6])))[1] == [9, 8, 7, 6]
    with pytest.raises(ValueError, match="values"):
        tf.SparseTensor(A_IDX, [1.0, 2.0], [4, 5])


def test_sparse_tensor_crosses_function_boundary():
    @tf.function
    def double(sp):
        return tf.sparse.reorder(sp * 2.0)

    shuffled = tf.SparseTensor([[3, 3], [0, 1], [1, 2], [1, 0]], [4., 1., 3., 2.], [4, 5])
    out = double(shuffled)
    assert isinstance(out, tf.SparseTensor)
    assert _parts(out) == (A_IDX, [2.0, 4.0, 6.0, 8.0], [4, 5])
    again = double(tf.SparseTensor([[2, 0], [0, 4]], [1.0, 5.0], [4, 5]))
    assert _parts(again) == ([[0, 4], [2, 0]], [10.0, 2.0], [4, 5])


def test_reorder_reshape_transpose_expand_dims():
    # TF 2.21
    shuffled = tf.SparseTensor([[3, 3], [0, 1], [1, 2], [1, 0]], [4., 1., 3., 2.], [4, 5])
    assert _parts(tf.sparse.reorder(shuffled)) == (A_IDX, [1., 2., 3., 4.], [4, 5])
    assert _parts(tf.sparse.reshape(_c(), [4, -1])) == (
        [[0, 1], [1, 2], [2, 5], [3, 5]], [1., 2., 3., 4.], [4, 6])
    assert _parts(tf.sparse.transpose(_c(), [2, 0, 1])) == (
        [[0, 0, 2], [1, 0, 0], [1, 1, 1], [3, 1, 2]], [2., 1., 3., 4.], [4, 2, 3])
    assert _parts(tf.sparse.transpose(_a())) == (
        [[0, 1], [1, 0], [2, 1], [3, 3]], [2., 1., 3., 4.], [5, 4])
    assert _parts(tf.sparse.expand_dims(_a(), -1))[0] == [[0, 1, 0], [1, 0, 0],
                                                          [1, 2, 0], [3, 3, 0]]
    assert _parts(tf.sparse.expand_dims(_a(), 0))[2] == [1, 4, 5]
    np.testing.assert_array_equal(_dense(tf.sparse.transpose(_c(), [1, 2, 0])),
                                  np.transpose(_dense(_c()), [1, 2, 0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="reshape"):
        tf.sparse.reshape(_a(), [3, 7])


def test_concat_slice_split():
    # TF 2.21
    assert _parts(tf.sparse.concat(1, [_a(), _b()])) == (
        [[0, 1], [0, 5], [1, 0], [1, 2], [1, 7], [2, 9], [3, 3]],
        [1., 10., 2., 3., -3., 5., 4.], [4, 10])
    assert _parts(tf.sparse.concat(0, [_a(), _b()]))[2] == [8, 5]
    other = tf.SparseTensor([[0, 0], [5, 1]], [7., 8.], [6, 2])
    assert _parts(tf.sparse.concat(1, [_a(), other], expand_nonconcat_dims=True)) == (
        [[0, 1], [0, 5], [1, 0], [1, 2], [3, 3], [5, 6]], [1., 7., 2., 3., 4., 8.],
        [6, 7])
    with pytest.raises(tf.errors.InvalidArgumentError, match="dimension"):
        tf.sparse.concat(1, [_a(), other])
    assert _parts(tf.sparse.slice(_a(), [1, 1], [4, 3])) == ([[0, 1], [2, 2]], [3., 4.],
                                                             [3, 3])
    pieces = tf.sparse.split(sp_input=_a(), num_split=3, axis=1)
    assert [_parts(p) for p in pieces] == [
        ([[0, 1], [1, 0]], [1., 2.], [4, 2]), ([[1, 0], [3, 1]], [3., 4.], [4, 2]),
        ([], [], [4, 1])]


def test_structural_ops_pass_value_gradients():
    def pipeline(a_vals, b_vals):
        a = tf.SparseTensor(A_IDX, a_vals, [4, 5])
        b = tf.SparseTensor(B_IDX, b_vals, [4, 5])
        joined = tf.sparse.concat(0, [a, tf.sparse.transpose(tf.sparse.transpose(b))])
        cut = tf.sparse.slice(tf.sparse.reshape(joined, [5, 8]), [1, 0], [3, 8])
        return tf.sparse.to_dense(cut)

    check_grad(pipeline, [np.array([1., 2., 3., 4.]), np.array([10., -3., 5.])])


def test_retain_fill_empty_rows_indicator_eye():
    # TF 2.21
    assert _parts(tf.sparse.retain(_a(), [True, False, True, False])) == (
        [[0, 1], [1, 2]], [1., 3.], [4, 5])
    filled, empty = tf.sparse.fill_empty_rows(
        tf.SparseTensor([[1, 0], [3, 2], [3, 1]], [5, 6, 7], [5, 4]), -1)
    assert _parts(filled) == ([[0, 0], [1, 0], [2, 0], [3, 2], [3, 1], [4, 0]],
                              [-1, 5, -1, 6, 7, -1], [5, 4])
    assert empty.numpy().tolist() == [True, False, True, False, True]
    ids = tf.SparseTensor([[0, 0], [0, 1], [2, 0], [2, 1]], [0, 3, 2, 2], [3, 2])
    assert tf.sparse.to_indicator(ids, 4).numpy().tolist() == [
        [True, False, False, True], [False] * 4, [False, False, True, False]]
    assert _parts(tf.sparse.eye(3, 4)) == ([[0, 0], [1, 1], [2, 2]], [1., 1., 1.],
                                           [3, 4])
    assert tf.sparse.eye(2, dtype=tf.int32).dtype == tf.int32
    check_grad(lambda v: tf.sparse.fill_empty_rows(
        tf.SparseTensor([[1, 0], [3, 1]], v, [4, 2]), 0.5)[0].values, [np.array([1., 2.])])


def test_mask_and_map_values():
    sliced = tf.IndexedSlices(tf.constant([[1., 2.], [3., 4.], [5., 6.]]),
                              tf.constant([0, 4, 7]), tf.constant([10, 2]))
    kept = tf.sparse.mask(sliced, [4, 9])
    # TF 2.21
    assert kept.indices.numpy().tolist() == [0, 7]
    assert kept.values.numpy().tolist() == [[1., 2.], [5., 6.]]
    assert _parts(tf.sparse.map_values(tf.math.multiply, _a(), _a()))[1] == [1, 4, 9, 16]
    assert _parts(tf.sparse.map_values(tf.add, _a(), 5.0))[1] == [6., 7., 8., 9.]
    with pytest.raises(tf.errors.InvalidArgumentError, match="identical"):
        tf.sparse.map_values(tf.add, _a(), tf.SparseTensor(A_IDX[::-1], [1., 2., 3., 4.],
                                                           [4, 5]))
