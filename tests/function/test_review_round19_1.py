"""Review of round 19's deferred index errors in a function's trace: a stand-in
result (of an out-of-range gather) never initializes a variable, and an op that
fails only because of a stand-in input reports the gather's error, as TF 2.21's
graph, which fails at the gather first."""

import numpy as np
import pytest

import dlframe as tf


@pytest.mark.usefixtures("on_cpu")
def test_stand_in_never_initializes_a_variable():
    class Lazy(tf.Module):
        def __init__(self):
            super().__init__()
            self.table = None

        @tf.function
        def __call__(self, x, rows):
            if self.table is None:
                self.table = tf.Variable(tf.gather(x, rows))
            return x + 0.0

    lazy = Lazy()
    # TF 2.21: InvalidArgumentError "indices[1] = 9 is not in [0, 3)"
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"9 is not in \[0, 3\)"):
        lazy(tf.constant([1.0, 2.0, 3.0]), tf.constant([0, 9]))
    assert lazy.table is None
    np.testing.assert_allclose(
        lazy(tf.constant([1.0, 2.0, 3.0]), tf.constant([0, 2])).numpy(), [1, 2, 3])
    np.testing.assert_allclose(lazy.table.numpy(), [1.0, 3.0])


@pytest.mark.usefixtures("on_cpu")
def test_op_failing_on_a_stand_in_reports_the_gather_error():
    @tf.function
    def per_item(counts, i):
        return tf.math.floordiv(10, tf.gather(counts, i))

    @tf.function
    def reshaped(x, shapes, i):
        return tf.reshape(x, tf.gather(shapes, i))

    @tf.function
    def in_branch(counts, i, flag):
        n = tf.gather(counts, i)
        return tf.cond(flag, lambda: 10 // n, lambda: n)

    # the clipped stand-in index reads the 0 / [4, 4] row: TF 2.21 still names
    # the gather (indices = 9 is not in [0, 2))
    calls = [lambda: per_item(tf.constant([5, 0]), tf.constant(9)),
             lambda: reshaped(tf.ones([6]), tf.constant([[2, 3], [4, 4]]),
                              tf.constant(9)),
             lambda: in_branch(tf.constant([5, 0]), tf.constant(9), tf.constant(True))]
    for call in calls:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"GatherV2: indices\[\] = 9 is not in \[0, 2\)"):
            call()
    assert int(per_item(tf.constant([5, 2]), tf.constant(1))) == 5
    np.testing.assert_allclose(
        reshaped(tf.ones([6]), tf.constant([[2, 3], [4, 4]]), tf.constant(0)).numpy(),
        np.ones([2, 3]))
    assert int(in_branch(tf.constant([5, 2]), tf.constant(1), tf.constant(True))) == 5
    # a real division by zero still says so
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        per_item(tf.constant([5, 0]), tf.constant(1))


def test_unchecked_int_division_nests():
    from dlframe.ops.math_binary import unchecked_int_division

    with unchecked_int_division():
        with unchecked_int_division():   # an inner model's build inside an outer's
            pass
        np.testing.assert_array_equal((tf.constant([3, 4]) % 0).numpy(), [0, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        tf.constant([3, 4]) % 0
