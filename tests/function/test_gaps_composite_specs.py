"""RaggedTensor and SparseTensor arguments of ``dlframe.function``: RaggedTensorSpec /
SparseTensorSpec in ``get_concrete_function`` and ``input_signature``, and ragged
calls without a spec, trace once for every row length as in TF."""

import numpy as np

import dlframe as tf

ROWS = ([[1.0, 2.0], [3.0]], [[1.0], [2.0, 3.0, 4.0], []], [[5.0, 5.0, 5.0, 5.0]])


def test_ragged_spec_concrete_function_serves_every_row_length():
    @tf.function
    def row_sums(rt):
        return tf.reduce_sum(rt, axis=1)

    spec = tf.RaggedTensorSpec(shape=[None, None], dtype=tf.float32, ragged_rank=1)
    concrete = row_sums.get_concrete_function(spec)
    assert concrete.structured_input_signature == ((spec,), {})
    for rows in ROWS:
        expect = [sum(r) for r in rows]
        np.testing.assert_allclose(row_sums(tf.ragged.constant(rows)).numpy(), expect)
        np.testing.assert_allclose(concrete(tf.ragged.constant(rows)).numpy(), expect)
    assert row_sums.experimental_get_tracing_count() == 1


def test_ragged_input_signature_and_plain_calls_trace_once():
    @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)])
    def lengths(rt):
        return rt.row_lengths(), rt.flat_values * 2

    for rows in ([[1, 2], [3]], [[1], [2, 3, 4], []]):
        got = lengths(tf.ragged.constant(rows))
        assert got[0].numpy().tolist() == [len(r) for r in rows]
        assert got[1].numpy().tolist() == [2 * v for r in rows for v in r]
    assert lengths.experimental_get_tracing_count() == 1

    plain = tf.function(lambda rt: tf.reduce_max(rt, axis=1))
    for n in (1, 2, 5):       # same number of rows, other row lengths: TF's trace type
        out = plain(tf.ragged.constant([[1.0] * n, [7.0]]))
        np.testing.assert_allclose(out.numpy(), [1.0, 7.0])
    assert plain.experimental_get_tracing_count() == 1


def _sparse(n):
    return tf.sparse.SparseTensor(indices=[[0, 1], [n - 1, 3]], values=[1.0, float(n)],
                                  dense_shape=[n, 4])


def test_sparse_spec_with_none_dims_traces_once():
    spec = tf.SparseTensorSpec(shape=[None, 4], dtype=tf.float32)

    @tf.function(input_signature=[spec])
    def summed(st):
        return tf.sparse.reduce_sum(st, axis=1), tf.sparse.to_dense(st)

    for n in (2, 3, 5):
        sums, dense = summed(_sparse(n))
        expect = np.zeros((n, 4), np.float32)
        expect[0, 1] += 1.0
        expect[n - 1, 3] += n
        np.testing.assert_allclose(dense.numpy(), expect)
        np.testing.assert_allclose(sums.numpy(), expect.sum(1))
    assert summed.experimental_get_tracing_count() == 1

    @tf.function
    def total(st):
        return tf.sparse.reduce_sum(st)
    concrete = total.get_concrete_function(spec)
    assert concrete.structured_input_signature == ((spec,), {})
    assert [total(_sparse(n)).numpy() for n in (2, 3, 5)] == [3.0, 4.0, 6.0]
    assert total.experimental_get_tracing_count() == 1
    # without a spec, a SparseTensor's dense shape is part of its trace type (as TF)
    other = tf.function(lambda st: tf.sparse.reduce_sum(st))
    for n in (2, 3, 3):
        other(_sparse(n))
    assert other.experimental_get_tracing_count() == 2
