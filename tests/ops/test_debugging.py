"""tf.debugging checks raise at run time, eagerly and in compiled graphs."""

import pytest

import dlframe as tf


def test_assertions_eager():
    tf.debugging.assert_equal(tf.constant([1, 2]), tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="x == y"):
        tf.debugging.assert_equal(tf.constant([1, 2]), tf.constant([1, 3]))
    tf.debugging.assert_near(tf.constant(1.0), tf.constant(1.0 + 1e-7))
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.debugging.assert_positive(tf.constant([1.0, -1.0]))
    with pytest.raises(ValueError, match="rank 2"):
        tf.debugging.assert_rank(tf.zeros([3]), 2)
    with pytest.raises(ValueError):
        tf.debugging.assert_shapes([(tf.zeros([2, 3]), ("N", "D")), (tf.zeros([4]), ("N",))])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Tensor had NaN values"):
        tf.debugging.check_numerics(tf.constant([1.0, float("nan")]), "bad values")


def test_assert_runs_each_time_a_graph_runs():
    @tf.function
    def f(x):
        tf.Assert(tf.reduce_all(x > 0), ["x must be positive:", x])
        return x * 2

    assert f(tf.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="x must be positive"):
        f(tf.constant([1.0, -2.0]))
