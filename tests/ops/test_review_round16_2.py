"""Review (round 16, 2): index values a probing branch trace made up (clipped
out-of-range indices, see ``ops._util.probing_branch``) never reach a real run.

A branch is traced whether or not it runs; with constant operands its nodes were
constant-folded from those stand-in values, so a taken branch returned clipped
rows instead of raising. Expected outcomes match TF 2.21 (untaken: fine; taken:
InvalidArgumentError).
"""

import numpy as np
import pytest

import dlframe as tf

# the CPU's errors: a GPU gives TF's GPU results, zeros or ignored rows
# (tests/ops/test_gpu_gather_scatter_round21_i2.py)
with tf.device("/CPU:0"):
    X = tf.constant([1.0, 2.0, 3.0])
    BAD = tf.constant(5)


@pytest.fixture(autouse=True)
def _on_cpu():
    with tf.device("/CPU:0"):
        yield


CASES = {
    "gather": lambda: tf.gather(X, BAD),
    "gather_list": lambda: tf.gather(X, [0, 7, 1]),
    "gather_nd": lambda: tf.gather_nd(X, [[4]]),
    "scatter_update": lambda: tf.tensor_scatter_nd_update(X, [[BAD]], [9.0]),
    "scatter_add": lambda: tf.tensor_scatter_nd_add(X, [[BAD]], [9.0]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_constant_out_of_range_index_in_branch(name):
    fn = CASES[name]

    @tf.function
    def run(flag):
        if flag:
            return tf.reduce_sum(fn())
        return tf.constant(-1.0)

    # untaken: the probe's stand-in values are harmless (TF does not check either)
    assert float(run(tf.constant(False))) == -1.0
    # taken: the real indices are checked, first call and later ones alike
    for _ in range(2):
        with pytest.raises(tf.errors.InvalidArgumentError):
            run(tf.constant(True))
    assert float(run(tf.constant(False))) == -1.0


def test_constant_out_of_range_index_in_loop_body():
    @tf.function
    def run(n):
        total = tf.constant(0.0)
        for _ in tf.range(n):
            total += tf.gather(X, BAD)
        return total

    assert float(run(tf.constant(0))) == 0.0   # the body never runs
    with pytest.raises(tf.errors.InvalidArgumentError):
        run(tf.constant(2))


def test_in_range_constant_index_in_branch_still_right():
    @tf.function
    def run(flag):
        if flag:
            return tf.gather(X, tf.constant([2, 0])) + X[tf.constant(1)]
        return tf.zeros([2])

    np.testing.assert_allclose(run(tf.constant(True)).numpy(), [5.0, 3.0])
    np.testing.assert_allclose(run(tf.constant(False)).numpy(), [0.0, 0.0])


def test_symbolic_index_taken_and_untaken():
    @tf.function
    def run(flag, i):
        if flag:
            return tf.gather(X, i)
        return tf.constant(0.0)

    assert float(run(tf.constant(False), tf.constant(9))) == 0.0
    with pytest.raises(tf.errors.InvalidArgumentError):
        run(tf.constant(True), tf.constant(9))
    assert float(run(tf.constant(True), tf.constant(2))) == 3.0


def test_constant_index_on_static_shape_fails_at_trace():
    # TF 2.21: ValueError from graph construction, taken branch or not
    @tf.function
    def run(flag):
        if flag:
            return X[BAD]
        return tf.constant(0.0)

    for flag in (False, True):
        with pytest.raises(ValueError, match="out of bounds"):
            run(tf.constant(flag))
