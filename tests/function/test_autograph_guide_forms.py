"""Loops whose only jump is ``continue`` (the tf.function guide's ``sum_even``) and
conditional expressions on tensors."""

import numpy as np

import dlframe as tf


def test_for_over_a_tensor_with_only_continue():
    @tf.function
    def sum_even(items):
        s = 0
        for c in items:
            if c % 2 > 0:
                continue
            s += c
        return s

    for values in ([10, 12, 15, 20], [1, 3], [2, 5, 8, 9, 4]):
        items = np.array(values, np.int32)
        assert sum_even(tf.constant(items)).numpy() == items[items % 2 == 0].sum()
        assert sum_even.python_function(items) == items[items % 2 == 0].sum()


def test_while_and_range_loops_with_only_continue():
    @tf.function
    def odd_total(n):
        i = tf.constant(0)
        total = tf.constant(0)
        while i < n:
            i += 1
            if i % 2 == 0:
                continue
            total += i
        return total

    @tf.function
    def skip_threes(n):
        total = tf.constant(0)
        for i in tf.range(n):
            if i % 3 == 0:
                continue
            total += i
        return total

    for n in (0, 1, 6, 9):
        assert odd_total(tf.constant(n)).numpy() == sum(k for k in range(1, n + 1) if k % 2)
        assert skip_threes(tf.constant(n)).numpy() == sum(k for k in range(n) if k % 3)
    assert odd_total.experimental_get_tracing_count() == 1


def test_conditional_expression_on_a_tensor_becomes_a_graph_cond():
    @tf.function
    def magnitude(x):
        return x if x > 0 else -x

    @tf.function
    def pick(x, y):
        z = (x * 2 if tf.reduce_sum(x) > tf.reduce_sum(y) else y * 3) + 1
        return z

    for v in (-5, 0, 7):
        assert magnitude(tf.constant(v)).numpy() == abs(v)
    assert magnitude.experimental_get_tracing_count() == 1
    a, b = np.array([1., 2.], np.float32), np.array([0., 0.5], np.float32)
    np.testing.assert_array_equal(pick(tf.constant(a), tf.constant(b)).numpy(), a * 2 + 1)
    np.testing.assert_array_equal(pick(tf.constant(b), tf.constant(a)).numpy(), a * 3 + 1)
    assert magnitude.python_function(-3) == 3
