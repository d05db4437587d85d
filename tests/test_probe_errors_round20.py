"""Round-20 probe of TF2 users' common op and tf.function mistakes against TF 2.21:
TF's error class, raised early, with a message naming what was wrong."""

import pytest

import dlframe as tf

ERRORS = tf.errors


@pytest.mark.parametrize("perm, expect", [
    ([0, 2], r"2 is out of range \[0 \.\. 2\) in perm=\[0, 2\]"),
    ([1, 1], r"0 is missing from perm=\[1, 1\]"),
    ([0, 1, 2], r"vector of size 2.*size 3: perm=\[0, 1, 2\]"),
])
def test_transpose_with_a_bad_perm_names_the_perm_passed(perm, expect):
    # the message used to show the perm after wrapping (perm [0, 0] for [0, 2])
    with pytest.raises(ERRORS.InvalidArgumentError, match=expect):
        tf.transpose(tf.ones((2, 3)), perm)

    @tf.function
    def traced(x):
        return tf.transpose(x, perm)

    with pytest.raises(ValueError, match=expect):   # TF: ValueError at trace time
        traced(tf.ones((2, 3)))


def test_transpose_negative_perm_still_works():
    x = tf.reshape(tf.range(6), (2, 3))
    assert tf.transpose(x, [-1, 0]).numpy().tolist() == [[0, 3], [1, 4], [2, 5]]
    assert tf.transpose(x, [0, -1]).shape == (2, 3)


def test_concat_of_different_ranks_says_ranks():
    with pytest.raises(ERRORS.InvalidArgumentError,
                       match=r"Ranks of all input tensors should match.*\[2, 3\].*\[2\]"):
        tf.concat([tf.ones((2, 3)), tf.ones((2,))], axis=0)
    with pytest.raises(ERRORS.InvalidArgumentError, match=r"shape\[1\] = \[2, 4\]"):
        tf.concat([tf.ones((2, 3)), tf.ones((2, 4))], axis=0)


@tf.function
def _return_in_main_branch_only(x):
    if x > 0:
        return x * 2


@tf.function
def _return_in_else_branch_only(x):
    if x > 0:
        x = x + 1
    else:
        return x


@tf.function
def _return_in_both(x):
    if x > 0:
        return x * 2
    return x - 1


@tf.function
def _python_condition_one_sided(x, flag):
    if flag:
        return x * 2
    x = x + 1


def test_tensor_if_returning_in_one_branch_is_value_error():
    # TF 2.21: "ValueError: the else branch must also have a return statement."
    with pytest.raises(ValueError, match="the else branch must also have a return"):
        _return_in_main_branch_only(tf.constant(1.0))
    with pytest.raises(ValueError, match="the main branch must also have a return"):
        _return_in_else_branch_only(tf.constant(1.0))


def test_if_returning_in_both_branches_or_on_python_values_still_runs():
    assert float(_return_in_both(tf.constant(3.0))) == 6.0
    assert float(_return_in_both(tf.constant(-3.0))) == -4.0
    assert float(_python_condition_one_sided(tf.constant(3.0), True)) == 6.0
    assert _python_condition_one_sided(tf.constant(3.0), False) is None
