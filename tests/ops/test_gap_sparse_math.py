"""tf.sparse reductions, matmul, add/maximum/minimum, softmax, segments, bincount.

Expected values marked "TF 2.21" were recorded from TensorFlow 2.21 on the same inputs.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad

A_IDX = [[0, 1], [1, 0], [1, 2], [3, 3]]
B_IDX = [[0, 0], [1, 2], [2, 4]]
C_IDX = [[0, 0, 1], [0, 2, 0], [1, 1, 1], [1, 2, 3]]


def _sp(indices, values, shape):
    return tf.SparseTensor(indices, values, shape)


def _a(values=(1., 2., 3., 4.)):
    return _sp(A_IDX, list(values) if not isinstance(values, tf.Tensor) else values,
               [4, 5])


def _b(values=(10., -3., 5.)):
    return _sp(B_IDX, list(values) if not isinstance(values, tf.Tensor) else values,
               [4, 5])


def _c(values=(1., 2., 3., 4.)):
    return _sp(C_IDX, list(values) if not isinstance(values, tf.Tensor) else values,
               [2, 3, 4])


def _parts(sp):
    return (sp.indices.numpy().tolist(), sp.values.numpy().tolist(),
            sp.dense_shape.numpy().tolist())


def _dense(indices, values, shape):
    out = np.zeros(shape)
    for i, v in zip(indices, values):
        out[tuple(i)] += v
    return out


C_DENSE = _dense(C_IDX, [1., 2., 3., 4.], [2, 3, 4])


@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ([-1, 0], True),
                                           (2, True), ([0, 1, 2], False)])
def test_reduce_sum_matches_dense(axis, keepdims):
    got = tf.sparse.reduce_sum(_c(), axis, keepdims=keepdims)
    want = np.sum(C_DENSE, axis=None if axis is None else tuple(np.atleast_1d(axis)),
                  keepdims=keepdims)
    np.testing.assert_array_equal(got.numpy(), want)


def test_reduce_sum_and_max_tf_values():
    # TF 2.21
    assert _parts(tf.sparse.reduce_sum(_c(), 1, output_is_sparse=True)) == (
        [[0, 0], [0, 1], [1, 1], [1, 3]], [2.0, 1.0, 3.0, 4.0], [2, 4])
    assert tf.sparse.reduce_max(_c(), 1).numpy().tolist() == [[2., 1., 0., 0.],
                                                              [0., 3., 0., 4.]]
    assert float(tf.sparse.reduce_max(_c())) == 4.0
    assert _parts(tf.sparse.reduce_max(_c(), 2, output_is_sparse=True)) == (
        [[0, 0], [0, 2], [1, 1], [1, 2]], [1.0, 2.0, 3.0, 4.0], [2, 3])
    # implicit zeros do not take part in the max
    negative = _sp([[0, 1], [1, 0]], [-1., -2.], [2, 3])
    assert tf.sparse.reduce_max(negative, 1).numpy().tolist() == [-1.0, -2.0]
    kept = tf.sparse.reduce_sum(_c(), 1, keepdims=True, output_is_sparse=True)
    assert _parts(kept)[0] == [[0, 0, 0], [0, 0, 1], [1, 0, 1], [1, 0, 3]]
    assert _parts(kept)[2] == [2, 1, 4]


def test_reduce_gradients():
    vals = np.array([1., 2., 3., 4.5])
    check_grad(lambda v: tf.sparse.reduce_sum(_c(v), [0, 2]), [vals])
    check_grad(lambda v: tf.sparse.reduce_sum(_c(v), 1, output_is_sparse=True).values,
               [vals])
    check_grad(lambda v: tf.sparse.reduce_max(_c(v * v), 1), [vals])
    check_function_matches_eager(lambda v: tf.sparse.reduce_sum(_c(v), 1), [vals])


def test_sparse_dense_matmul():
    b = np.arange(10.0).reshape(5, 2)
    a_dense = _dense(A_IDX, [1., 2., 3., 4.], [4, 5])
    # TF 2.21
    assert tf.sparse.sparse_dense_matmul(_a(), tf.constant(b, tf.float32)).numpy().tolist() \
        == [[2., 3.], [12., 17.], [0., 0.], [24., 28.]]
    c = np.arange(8.0).reshape(4, 2)
    np.testing.assert_allclose(
        tf.sparse.sparse_dense_matmul(_a(), tf.constant(c, tf.float32),
                                      adjoint_a=True).numpy(), a_dense.T @ c)
    np.testing.assert_allclose(
        tf.sparse.sparse_dense_matmul(_a(), tf.constant(c.T, tf.float32),
                                      adjoint_a=True, adjoint_b=True).numpy(),
        a_dense.T @ c)
    d = np.arange(8.0).reshape(2, 4)
    np.testing.assert_allclose(
        tf.sparse.sparse_dense_matmul(tf.constant(d, tf.float32), _a()).numpy(),
        d @ a_dense)
    np.testing.assert_allclose(
        tf.sparse.sparse_dense_matmul(tf.constant(d.T, tf.float32), _a(),
                                      adjoint_a=True).numpy(), d @ a_dense)
    with pytest.raises(tf.errors.InvalidArgumentError, match="multiply"):
        tf.sparse.sparse_dense_matmul(_a(), tf.ones([4, 2]))


@pytest.mark.parametrize("adjoint_a,adjoint_b", [(False, False), (True, False),
                                                 (False, True), (True, True)])
def test_sparse_dense_matmul_gradients(adjoint_a, adjoint_b):
    rng = np.random.default_rng(0)
    inner = 4 if adjoint_a else 5
    b = rng.standard_normal((3, inner) if adjoint_b else (inner, 3))

    def fn(dense, vals):
        return tf.sparse.sparse_dense_matmul(_a(vals), dense, adjoint_a, adjoint_b)

    check_grad(fn, [b, np.array([1., -2., 0.5, 3.])])
    check_function_matches_eager(fn, [b, np.array([1., -2., 0.5, 3.])])


def test_add_maximum_minimum():
    # TF 2.21
    assert _parts(tf.sparse.add(_a(), _b())) == (
        [[0, 0], [0, 1], [1, 0], [1, 2], [2, 4], [3, 3]], [10., 1., 2., 0., 5., 4.],
        [4, 5])
    # the threshold only drops entries both operands hold
    assert _parts(tf.sparse.add(_a(), _b(), threshold=2.5)) == (
        [[0, 0], [0, 1], [1, 0], [2, 4], [3, 3]], [10., 1., 2., 5., 4.], [4, 5])
    want = _dense(A_IDX, [1., 2., 3., 4.], [4, 5]) + 1
    np.testing.assert_array_equal(tf.sparse.add(_a(), tf.ones([4, 5])).numpy(), want)
    np.testing.assert_array_equal(tf.sparse.add(tf.ones([4, 5]), _a()).numpy(), want)
    assert _parts(tf.sparse.maximum(_a(), _b()))[1] == [10., 1., 2., 3., 5., 4.]
    assert _parts(tf.sparse.minimum(_a(), _b()))[1] == [0., 0., 0., -3., 0., 0.]
    with pytest.raises(tf.errors.InvalidArgumentError, match="dense shape"):
        tf.sparse.add(_a(), _sp([[0, 0]], [1.0], [4, 6]))

    def fn(a_vals, b_vals):
        return (tf.sparse.add(_a(a_vals), _b(b_vals)).values,
                tf.sparse.maximum(_a(a_vals), _b(b_vals)).values)

    check_grad(fn, [np.array([1., 2., 3., 4.]), np.array([10., -3.5, 5.])])
    check_function_matches_eager(fn, [np.array([1., 2., 3., 4.]),
                                      np.array([10., -3.5, 5.])])


def test_softmax():
    # TF 2.21: every entry alone in its row gives 1
    assert _parts(tf.sparse.softmax(_c()))[1] == [1.0, 1.0, 1.0, 1.0]
    idx = [[0, 0], [0, 2], [0, 3], [1, 1], [2, 0], [2, 4]]
    vals = np.array([1.0, 2.0, -1.0, 0.5, 3.0, 3.5])
    got = tf.sparse.softmax(_sp(idx, vals, [3, 5])).values.numpy()
    want = np.concatenate([np.exp(v) / np.exp(v).sum()
                           for v in (vals[:3], vals[3:4], vals[4:])])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    check_grad(lambda v: tf.sparse.softmax(_sp(idx, v, [3, 5])).values, [vals])


def test_sparse_segment_reductions():
    data = tf.constant([[1., 2.], [3., 4.], [5., 6.]])
    # TF 2.21
    assert tf.sparse.segment_sum(data, [0, 2, 1], [0, 0, 1]).numpy().tolist() == [
        [6., 8.], [3., 4.]]
    assert tf.sparse.segment_mean(data, [0, 2, 1], [0, 0, 1]).numpy().tolist() == [
        [3., 4.], [3., 4.]]
    np.testing.assert_allclose(
        tf.sparse.segment_sqrt_n(data, [0, 2, 1], [0, 0, 2]).numpy(),
        [[4.2426405, 5.656854], [0., 0.], [3., 4.]], rtol=1e-6)
    assert tf.sparse.segment_sum(data, [0, 2, 1], [0, 0, 1],
                                 num_segments=4).numpy().tolist() == [
        [6., 8.], [3., 4.], [0., 0.], [0., 0.]]
    check_grad(lambda d: tf.sparse.segment_sqrt_n(d, [0, 2, 1, 2], [0, 0, 1, 1]),
               [np.arange(6.0).reshape(3, 2)])


def test_bincount():
    values = tf.constant([[1, 3, 3], [0, 5, 1]])
    # TF 2.21
    assert _parts(tf.sparse.bincount(values, axis=-1)) == (
        [[0, 1], [0, 3], [1, 0], [1, 1], [1, 5]], [1, 2, 1, 1, 1], [2, 6])
    assert _parts(tf.sparse.bincount(values)) == ([[0], [1], [3], [5]], [1, 2, 2, 1], [6])
    weights = tf.constant([[1., 2., 3.], [4., 5., 6.]])
    assert _parts(tf.sparse.bincount(values, weights=weights, axis=-1, minlength=7)) == (
        [[0, 1], [0, 3], [1, 0], [1, 1], [1, 5]], [1., 5., 4., 6., 5.], [2, 7])
    assert _parts(tf.sparse.bincount(values, axis=-1, binary_output=True,
                                     maxlength=4)) == (
        [[0, 1], [0, 3], [1, 0], [1, 1]], [1, 1, 1, 1], [2, 4])
    sparse_ids = _sp([[0, 0], [0, 2], [1, 1]], [2, 2, 4], [2, 3])
    assert _parts(tf.sparse.bincount(sparse_ids, axis=-1)) == ([[0, 2], [1, 4]], [2, 1],
                                                              [2, 5])
    with pytest.raises(ValueError, match="axis"):
        tf.sparse.bincount(values, axis=1)
