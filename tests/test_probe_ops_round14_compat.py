"""TF1 spellings that TF1-era Stack-Overflow snippets call through
``tf.compat.v1`` (round 14 probes; expected values from TF 2.21 runs)."""

import numpy as np
import pytest

import dlframe as tf

v1 = tf.compat.v1


def _eq(tensor, expect):
    np.testing.assert_allclose(np.asarray(tensor), expect, rtol=1e-6)


def test_renamed_math_names():
    _eq(v1.floor_div(tf.constant([7, -7]), tf.constant([2, 2])), [3, -4])
    _eq(v1.mod(tf.constant([7]), tf.constant([-2])), [-1])
    _eq(v1.where_v2(tf.constant([True, False]), 1, 0), [1, 0])
    _eq(v1.reverse_v2(tf.constant([1, 2]), [0]), [2, 1])
    assert v1.substr(tf.constant(["hello"]), 1, 2).numpy().tolist() == [b"el"]
    _eq(v1.unsorted_segment_sum(tf.constant([1, 2, 3]), tf.constant([0, 0, 1]), 2), [3, 3])
    _eq(v1.segment_max(tf.constant([1.0, 5.0, 3.0]), tf.constant([0, 0, 1])), [5.0, 3.0])


def test_batch_gather_and_setdiff1d():
    params = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    _eq(v1.batch_gather(params, tf.constant([[1], [0]])), [[2.0], [3.0]])
    out, idx = v1.setdiff1d([1, 2, 3, 2, 4], [2, 4])
    _eq(out, [1, 3])
    _eq(idx, [0, 2])
    assert idx.dtype == tf.int32
    assert v1.setdiff1d([1, 2], [2], index_dtype=tf.int64).idx.dtype == tf.int64
    with pytest.raises(ValueError, match="1-D"):
        v1.setdiff1d([[1]], [1])


def test_tf1_argument_names():
    x = tf.constant([[1.0, 2.0], [3.0, 5.0]])
    assert v1.convert_to_tensor(1, preferred_dtype=tf.float32).dtype == tf.float32
    assert v1.convert_to_tensor(1.5, preferred_dtype=tf.int32).dtype == tf.float32
    _eq(v1.norm(x, axis=1, keep_dims=True), [[np.sqrt(5.0)], [np.sqrt(34.0)]])
    e = np.exp([[1.0, 2.0], [3.0, 5.0]])
    _eq(v1.nn.softmax(x, dim=0), e / e.sum(0, keepdims=True))
    _eq(v1.nn.log_softmax(x, dim=1), np.log(e / e.sum(1, keepdims=True)))
    mean, var = v1.nn.moments(x, [0], keep_dims=True)
    _eq(mean, [[2.0, 3.5]])
    _eq(var, [[1.0, 2.25]])
    _eq(v1.nn.dropout(x, keep_prob=1.0), x.numpy())
    kept = v1.nn.dropout(tf.ones([1000]), keep_prob=0.5, seed=1).numpy()
    assert set(np.unique(kept)) <= {0.0, 2.0} and 350 < np.count_nonzero(kept) < 650
    with pytest.raises(ValueError, match="keep_prob"):
        v1.nn.dropout(x)
    # TF1 order: predictions first
    assert v1.nn.in_top_k(x, tf.constant([1, 0]), 1).numpy().tolist() == [True, False]


def test_dimension_helpers():
    shape = tf.TensorShape([3, None])
    assert tf.compat.dimension_value(shape[0]) == 3
    assert tf.compat.dimension_value(tf.compat.v1.Dimension(4)) == 4
    assert v1.dimension_value(shape[1]) is None
    assert tf.compat.dimension_at_index(shape, 0) == tf.compat.v1.Dimension(3)
    assert tf.compat.dimension_at_index(tf.TensorShape(None), 5).value is None
