"""Side effects inside graph control flow run on every call, exactly once.

If/While nodes whose branch/body graphs contain effects (variable writes, printing,
nested such control flow) are effects themselves: dead-code elimination must keep
them even when the function returns None or their outputs are unused, and while an
enclosing branch is traced they must not run their effects early.
"""

import sys

import numpy as np

import dlframe as tf


def test_while_assign_in_function_returning_none():
    v = tf.Variable(0.0)

    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            v.assign_add(1.0)
            i += 1

    expected = 0.0
    for n in (2, 3, 5, 0, 4):
        assert f(tf.constant(n)) is None
        expected += n
        assert v.numpy() == expected
    assert f.experimental_get_tracing_count() == 1


def test_while_loop_assign_in_function_returning_none():
    v = tf.Variable(0.0)

    @tf.function
    def f(n):
        tf.while_loop(lambda i: i < n, lambda i: [(v.assign_add(2.0), i + 1)[1]],
                      [tf.constant(0)])

    expected = 0.0
    for n in (1, 4, 2):
        f(tf.constant(n))
        expected += 2.0 * n
        assert v.numpy() == expected


def test_cond_assign_inside_while_returning_none():
    v = tf.Variable(0.0)

    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            if i % 2 == 0:
                v.assign_add(1.0)
            i += 1

    expected = 0.0
    for n in (4, 5, 6, 1):
        f(tf.constant(n))
        expected += (n + 1) // 2
        assert v.numpy() == expected  # not run at trace time as well


def test_cond_assign_inside_while_with_unused_result():
    v = tf.Variable(0.0)

    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            if i % 3 == 0:
                v.assign_add(10.0)
            i += 1
        return n * 2

    expected = 0.0
    for n in (3, 7, 1):
        assert f(tf.constant(n)).numpy() == 2 * n
        expected += 10.0 * ((n + 2) // 3)
        assert v.numpy() == expected


def test_while_assign_inside_cond():
    v = tf.Variable(0.0)

    @tf.function
    def f(x):
        if x > 0:
            i = tf.constant(0)
            while i < x:
                v.assign_add(1.0)
                i += 1
        else:
            i = tf.constant(-1)

    expected = 0.0
    for n in (2, -3, 3, 1):
        f(tf.constant(n))
        expected += max(n, 0)
        assert v.numpy() == expected


def test_print_in_if_in_while_every_call(capsys):
    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            if i % 2 == 0:
                tf.print("even", i, output_stream=sys.stdout)
            i += 1
        return i

    for n in (2, 5, 4):
        assert f(tf.constant(n)).numpy() == n
        lines = capsys.readouterr().out.splitlines()
        assert lines == [f"even {k}" for k in range(0, n, 2)]
    assert f.experimental_get_tracing_count() == 1


def test_print_in_while_returning_none(capsys):
    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            tf.print("step", i, output_stream=sys.stdout)
            i += 1

    for n in (1, 3, 2):
        f(tf.constant(n))
        assert capsys.readouterr().out.splitlines() == [f"step {k}" for k in range(n)]


def test_pure_loop_result_matches_eager_and_stays_pure():
    def f(x, n):
        i = tf.constant(0)
        acc = tf.zeros_like(x)
        while i < n:
            if i % 2 == 0:
                acc = acc + x
            else:
                acc = acc * 0.5
            i += 1
        return acc

    g = tf.function(f)
    x = tf.constant([1.0, 2.0, 3.0])
    for n in (3, 6, 0, 5):
        np.testing.assert_allclose(g(x, tf.constant(n)).numpy(),
                                   f(x, tf.constant(n)).numpy(), rtol=1e-6)
    graph = g.get_concrete_function(x, tf.constant(3)).graph
    assert not graph.has_effects  # no side effects: While/If stay removable, unchanged
    assert "While" in graph.node_names


def test_pure_unused_loop_is_still_removed():
    @tf.function
    def f(x, n):
        i = tf.constant(0)
        while i < n:
            x = x * 2.0
            i += 1
        return n + 1

    for n in (1, 4, 2):
        assert f(tf.constant(1.0), tf.constant(n)).numpy() == n + 1
    graph = f.get_concrete_function(tf.constant(1.0), tf.constant(1)).graph
    assert "While" not in graph.node_names
