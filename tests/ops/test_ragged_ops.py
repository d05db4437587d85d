"""tf.ragged functions and public ops on RaggedTensors: reductions, concat/stack,
boolean_mask, range, gather and the row-partition helpers. Values with a TF quirk
(mean of ints is float64, empty rows reduce to the identity) came from TF 2.21."""

import numpy as np
import pytest

import dlframe as tf

ROWS = [[1.0, 5.0, 2.0], [], [4.0], [3.0, -1.0]]


def _np_rows(fn, empty):
    return np.array([fn(r) if r else empty for r in ROWS])


def _l(t):
    return t.numpy().tolist()


@pytest.mark.parametrize("name,fn,empty", [
    ("reduce_sum", np.sum, 0.0), ("reduce_max", np.max, np.finfo(np.float32).min),
    ("reduce_min", np.min, np.finfo(np.float32).max), ("reduce_prod", np.prod, 1.0),
    ("reduce_mean", np.mean, np.nan)])
def test_row_reductions_match_numpy(name, fn, empty):
    rt = tf.ragged.constant(ROWS)
    got = getattr(tf, name)(rt, axis=1)
    np.testing.assert_allclose(got.numpy(), _np_rows(fn, empty), rtol=1e-6)
    flat = [v for r in ROWS for v in r]
    np.testing.assert_allclose(getattr(tf, name)(rt).numpy(), fn(flat), rtol=1e-6)
    assert getattr(tf.math, name)(rt, axis=-1).shape.as_list() == [4]


def test_reduction_quirks_and_other_axes():
    ints = tf.ragged.constant([[1, 2], [3], []])
    mean = tf.reduce_mean(ints, axis=1)
    assert mean.dtype == tf.float64   # as TF 2.21
    np.testing.assert_array_equal(mean.numpy(), [1.5, 3.0, np.nan])
    assert _l(tf.reduce_max(ints, axis=1)) == [2, 3, -2147483648]
    assert _l(tf.reduce_sum(ints, axis=0)) == [4, 2]
    assert _l(tf.reduce_max(ints, axis=0)) == [3, 2]
    np.testing.assert_array_equal(tf.reduce_mean(ints, axis=0).numpy(), [2.0, 2.0])
    bools = tf.ragged.constant([[True, False], [], [True]])
    assert _l(tf.reduce_any(bools, axis=1)) == [True, False, True]
    assert _l(tf.reduce_all(bools, axis=1)) == [False, True, True]
    uniform = tf.ragged.constant([[[1, 2]], [[3, 4], [5, 6]]], ragged_rank=1)
    assert tf.reduce_sum(uniform, axis=2).to_list() == [[3], [7, 11]]
    assert _l(tf.reduce_sum(uniform, axis=1)) == [[1, 2], [8, 10]]
    nested = tf.ragged.constant([[[1, 2], [3]], [[4]]])
    assert tf.reduce_sum(nested, axis=2).to_list() == [[3, 3], [4]]


def test_concat_and_stack():
    a = tf.ragged.constant([[1, 2], [3], []])
    b = tf.ragged.constant([[4], [], [5, 6]])
    assert tf.concat([a, b], axis=0).to_list() == [[1, 2], [3], [], [4], [], [5, 6]]
    assert tf.concat([a, b], axis=1).to_list() == [[1, 2, 4], [3], [5, 6]]
    assert tf.concat([a, tf.constant([[7], [8], [9]])], axis=1).to_list() == [
        [1, 2, 7], [3, 8], [9]]
    assert tf.stack([a, b], axis=0).to_list() == [[[1, 2], [3], []], [[4], [], [5, 6]]]
    assert tf.stack([a, b], axis=1).to_list() == [[[1, 2], [4]], [[3], []], [[], [5, 6]]]
    n1 = tf.ragged.constant([[[1], [2, 3]]])
    n2 = tf.ragged.constant([[[4, 5]], []])
    assert tf.concat([n1, n2], axis=0).to_list() == [[[1], [2, 3]], [[4, 5]], []]
    assert tf.expand_dims(a, 0).to_list() == [[[1, 2], [3], []]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="same number of rows"):
        tf.concat([a, tf.ragged.constant([[1]])], axis=1)


def test_boolean_mask_gather_and_range():
    data = tf.constant([[1, 2, 3], [4, 5, 6]])
    mask = tf.constant([[True, False, True], [False, False, True]])
    assert tf.ragged.boolean_mask(data, mask).to_list() == [[1, 3], [6]]
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    keep = tf.ragged.constant([[True, False], [False], [True, True, False]])
    assert tf.ragged.boolean_mask(rt, keep).to_list() == [[1], [], [4, 5]]
    assert tf.ragged.boolean_mask(rt, tf.constant([True, False, True])).to_list() == \
        [[1, 2], [4, 5, 6]]
    assert tf.boolean_mask(rt, tf.constant([False, True, True])).to_list() == \
        [[3], [4, 5, 6]]
    assert _l(tf.ragged.boolean_mask(tf.constant([1, 2, 3]),
                                     tf.constant([True, False, True]))) == [1, 3]
    assert tf.gather(rt, [2, 0]).to_list() == [[4, 5, 6], [1, 2]]
    assert _l(tf.gather(rt, 1)) == [3]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        tf.gather(rt, [3])
    assert tf.ragged.range([3, 0, 2]).to_list() == [[0, 1, 2], [], [0, 1]]
    assert tf.ragged.range([1, 2], [4, 3], [2, 1]).to_list() == [[1, 3], [2]]
    assert tf.ragged.range(3, 0, -1).to_list() == [[3, 2, 1]]
    fr = tf.ragged.range([0.0, 1.0], 2.0, 0.5)
    assert fr.dtype == tf.float32 and fr.to_list() == [[0, 0.5, 1, 1.5], [1, 1.5]]


def test_row_partition_helpers():
    splits = tf.ragged.segment_ids_to_row_splits([0, 0, 2], num_segments=4)
    assert splits.dtype == tf.int64 and _l(splits) == [0, 2, 2, 3, 3]
    assert _l(tf.ragged.segment_ids_to_row_splits([0, 0, 2])) == [0, 2, 2, 3]
    assert _l(tf.ragged.row_splits_to_segment_ids([0, 2, 2, 3])) == [0, 0, 2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="sorted"):
        tf.ragged.segment_ids_to_row_splits([1, 0])
    parts = tf.ragged.stack_dynamic_partitions([1, 2, 3, 4], [0, 1, 0, 2], 3)
    assert parts.to_list() == [[1, 3], [2], [4]]
    words = tf.ragged.stack_dynamic_partitions(["a", "b", "c"], [1, 1, 0], 3)
    assert words.to_list() == [[b"c"], [b"a", b"b"], []]
    assert int(tf.size(tf.ragged.constant([[1, 2], [3]]))) == 3
    assert int(tf.rank(tf.ragged.constant([[1, 2], [3]]))) == 2


def test_ops_on_ragged_in_function_match_eager():
    def f(rt, mask):
        kept = tf.ragged.boolean_mask(rt, mask)
        both = tf.concat([rt, kept], axis=1)
        return tf.reduce_max(both, axis=1), tf.reduce_sum(rt, axis=0), both

    compiled = tf.function(f)
    for rows, keep in ([[[1.0, 2.0], [3.0], [4.0, 5.0, 6.0]],
                        [[True, False], [True], [False, True, True]]],
                       [[[9.0], [3.0, 2.0], [1.0, 0.0, 8.0]],
                        [[False], [True, True], [True, False, False]]]):
        rt, mask = tf.ragged.constant(rows), tf.ragged.constant(keep)
        eager, graph = f(rt, mask), compiled(rt, mask)
        np.testing.assert_allclose(graph[0].numpy(), eager[0].numpy())
        np.testing.assert_allclose(graph[1].numpy(), eager[1].numpy())
        assert graph[2].to_list() == eager[2].to_list()
