"""tf.sparse.cross / cross_hashed / reset_shape and tf.ragged.cross / cross_hashed
(expected values, hashes included, from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf


def _inputs():
    st = tf.sparse.from_dense(tf.constant([["a", ""], ["b", "c"]]))
    return st, tf.constant([["d"], ["e"]])


def _check_sparse(sp, indices, values, shape):
    np.testing.assert_array_equal(sp.indices.numpy(), indices)
    np.testing.assert_array_equal(sp.values.numpy(), values)
    np.testing.assert_array_equal(sp.dense_shape.numpy(), shape)


def test_sparse_cross():
    st, dense = _inputs()
    idx = [[0, 0], [1, 0], [1, 1]]
    _check_sparse(tf.sparse.cross([st, dense]), idx, [b"a_X_d", b"b_X_e", b"c_X_e"],
                  [2, 2])
    _check_sparse(tf.sparse.cross([st, dense], separator="|"), idx,
                  [b"a|d", b"b|e", b"c|e"], [2, 2])
    ints = tf.sparse.SparseTensor([[0, 0], [1, 0], [1, 1]],
                                  tf.constant([1, 2, 3], tf.int64), [3, 2])
    _check_sparse(tf.sparse.cross([ints, tf.constant([["x"], ["y"], ["z"]])]), idx,
                  [b"1_X_x", b"2_X_y", b"3_X_y"], [3, 2])


def test_sparse_cross_hashed_matches_tf():
    st, dense = _inputs()
    idx = [[0, 0], [1, 0], [1, 1]]
    _check_sparse(tf.sparse.cross_hashed([st, dense], num_buckets=100), idx,
                  [82, 61, 41], [2, 2])
    _check_sparse(tf.sparse.cross_hashed([st, dense], num_buckets=100, hash_key=7), idx,
                  [10, 23, 88], [2, 2])
    _check_sparse(tf.sparse.cross_hashed([st, dense]), idx,
                  [1584069791037555375, 4171697120956746554, 1746051686049959641],
                  [2, 2])
    with pytest.raises(ValueError, match="num_buckets"):
        tf.sparse.cross_hashed([st, dense], num_buckets=-1)


def test_ragged_cross():
    rt = tf.ragged.constant([["a", "b"], ["c"]])
    assert tf.ragged.cross([rt, tf.constant([["d"], ["e"]])]).to_list() == \
        [[b"a_X_d", b"b_X_d"], [b"c_X_e"]]
    ints = tf.ragged.constant([[1, 2], [3]], dtype=tf.int64)
    assert tf.ragged.cross([rt, ints]).to_list() == \
        [[b"a_X_1", b"a_X_2", b"b_X_1", b"b_X_2"], [b"c_X_3"]]
    assert tf.ragged.cross([tf.constant([["a", "b"], ["c", "d"]]),
                            tf.constant([["x"], ["y"]])]).to_list() == \
        [[b"a_X_x", b"b_X_x"], [b"c_X_y", b"d_X_y"]]
    hashed = tf.ragged.cross_hashed(
        [rt, tf.ragged.constant([[1, 2], []], dtype=tf.int64)], num_buckets=10)
    assert hashed.to_list() == [[5, 7, 3, 7], []]
    with pytest.raises(ValueError, match="batch sizes"):
        tf.ragged.cross([rt, tf.constant([["x"]])])


def test_reset_shape():
    sp = tf.sparse.SparseTensor([[0, 1]], [1.], [3, 4])
    np.testing.assert_array_equal(tf.sparse.reset_shape(sp).dense_shape.numpy(), [1, 2])
    np.testing.assert_array_equal(tf.sparse.reset_shape(sp, [5, 6]).dense_shape.numpy(),
                                  [5, 6])
    with pytest.raises(ValueError, match="dimension sizes >= sp_input.shape"):
        tf.sparse.reset_shape(sp, [1, 6])
    with pytest.raises(ValueError, match="rank"):
        tf.sparse.reset_shape(sp, [5])
