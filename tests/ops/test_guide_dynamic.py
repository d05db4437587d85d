"""Guide programs inside tf.function: sizes that are tensor arguments (tf.range(n),
tf.zeros([n, 3]), tf.reshape(x, [n, -1]), segment counts, bincount), plus the printing
of SparseTensors and tf.autograph.to_code."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad


def test_range_fill_and_reshape_follow_a_tensor_argument():
    @tf.function
    def f(n, x):
        return (tf.range(n), tf.range(1, n, 2), tf.range(tf.cast(n, tf.float32) / 2),
                tf.zeros([n, 2]), tf.ones(tf.stack([2, n]), tf.int32),
                tf.fill([n], 7.0), tf.reshape(x, [n, -1]))

    x = tf.range(12.0)
    for n in (3, 4, 6):
        got = f(tf.constant(n), x)
        assert got[0].numpy().tolist() == list(range(n))
        assert got[1].numpy().tolist() == list(range(1, n, 2))
        np.testing.assert_allclose(got[2].numpy(), np.arange(n / 2, dtype=np.float32))
        assert got[3].shape == (n, 2) and got[4].shape == (2, n)
        assert got[4].dtype == tf.int32 and got[5].numpy().tolist() == [7.0] * n
        np.testing.assert_array_equal(got[6].numpy(), np.arange(12.0).reshape(n, -1))
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(tf.errors.InvalidArgumentError, match="reshape"):
        f(tf.constant(5), x)


def test_dynamic_fill_and_reshape_gradients():
    @tf.function
    def f(n, v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = tf.reduce_sum(tf.fill([n, 2], v) * 3.0) + \
                tf.reduce_sum(tf.reshape(tf.stack([v, v]), [n - 1]) ** 2)
        return tape.gradient(y, v)

    # n copies times 2 columns times 3, plus d/dv of 2 v^2
    assert float(f(tf.constant(3), tf.constant(2.0))) == pytest.approx(3 * 2 * 3 + 8)
    assert float(f(tf.constant(3), tf.constant(1.0))) == pytest.approx(18 + 4)


def test_unsorted_segment_ops_with_a_traced_segment_count():
    @tf.function
    def f(d, ids, n):
        return (tf.math.unsorted_segment_sum(d, ids, n),
                tf.math.unsorted_segment_max(d, ids, n),
                tf.math.unsorted_segment_mean(d, ids, n),
                tf.math.unsorted_segment_prod(d, ids, n))

    d = tf.constant([3.0, 1.0, 2.0, 5.0])
    ids = tf.constant([0, 1, 0, 1])
    for n in (2, 3):
        s, mx, mean, prod = f(d, ids, tf.constant(n))
        pad = [0.0] * (n - 2)
        assert s.numpy().tolist() == [5.0, 6.0] + pad
        assert mx.numpy().tolist()[:2] == [3.0, 5.0] and mx.shape == (n,)
        assert mean.numpy().tolist() == [2.5, 3.0] + pad
        assert prod.numpy().tolist() == [6.0, 5.0] + [1.0] * (n - 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        f(d, tf.constant([0, 4, 0, 1]), tf.constant(3))


def test_segment_gradients_with_a_traced_count_match_finite_differences():
    ids = tf.constant([0, 1, 0, 1])
    num = tf.constant(2)

    def fn(x):
        return (tf.math.unsorted_segment_max(x, ids, num),
                tf.math.unsorted_segment_prod(x, ids, num))

    graph_fn = tf.function(lambda x: fn(x))
    x = np.array([3.0, 1.0, 2.0, 5.0])
    eager = [o.numpy() for o in fn(tf.constant(x))]
    graph = [o.numpy() for o in graph_fn(tf.constant(x))]
    np.testing.assert_allclose(graph[0], eager[0])
    np.testing.assert_allclose(graph[1], eager[1])

    @tf.function
    def grads(v, n):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = tf.reduce_sum(tf.math.unsorted_segment_max(v, ids, n) * [1.0, 2.0]) + \
                tf.reduce_sum(tf.math.unsorted_segment_prod(v, ids, n))
        return tape.gradient(y, v)

    # max: x0 (seg 0) and x3 (seg 1, weight 2); prod: seg0 = x0*x2, seg1 = x1*x3
    np.testing.assert_allclose(grads(tf.constant(x), num).numpy(),
                               [1 + 2.0, 5.0, 3.0, 2 + 1.0])
    check_grad(lambda v: tf.math.unsorted_segment_prod(v, ids, 2), [x])


def test_bincount_size_follows_the_values_in_a_function():
    f = tf.function(lambda ids: tf.math.bincount(ids))
    assert f(tf.constant([0, 0, 1, 1])).numpy().tolist() == [2, 2]
    assert f(tf.constant([0, 1, 1, 2])).numpy().tolist() == [1, 2, 1]
    capped = tf.function(lambda ids: tf.math.bincount(ids, minlength=4, maxlength=5))
    assert capped(tf.constant([1, 7])).numpy().tolist() == [0, 1, 0, 0, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        f(tf.constant([0, -1, 1, 1]))


def test_sparse_tensor_prints_like_tf():
    st = tf.sparse.SparseTensor(indices=[[0, 3], [2, 4]], values=[10, 20],
                                dense_shape=[3, 10])
    # TF 2.21: the components are printed with str(), not repr()
    assert str(st).startswith("SparseTensor(indices=tf.Tensor(\n[[0 3]\n [2 4]]")
    assert "values=tf.Tensor([10 20], shape=(2,), dtype=int32)" in str(st)


def test_autograph_to_code_names_the_converted_function():
    code = tf.autograph.to_code(_simple_relu)
    assert code.startswith("def tf___simple_relu(x)")


def _simple_relu(x):
    if tf.greater(x, 0):
        return x
    return 0
