"""Review of round 15's py_function tracing: a branch or loop body the run does not
enter never runs py_function bodies, even where it computes with their results
(reductions, slicing), and the values stay right; a concrete function refuses a
changed Python argument; ``concrete.graph.inputs``. Expected call
logs, values and errors came from TF 2.21."""

import numpy as np
import pytest

import dlframe as tf


def _ranged(calls):
    """A py_function body logging its input and returning ``range(x + 1) * 1.0``:
    its result's shape depends on the value, so no trace can guess it."""
    def body(x):
        calls.append(float(x))
        return tf.range(tf.cast(x, tf.int32) + 1, dtype=tf.float32)
    return body


def _cond_of_sum(body, otherwise):
    """A function: the sum of ``body``'s py_function result for x > 0, else
    ``otherwise``."""
    @tf.function
    def f(x):
        return tf.cond(x > 0, lambda: tf.reduce_sum(tf.py_function(body, [x],
                                                                   tf.float32)),
                       lambda: otherwise)
    return f


def test_untaken_branch_reducing_a_py_function_result_does_not_run_it():
    calls = []
    body = _ranged(calls)

    f = _cond_of_sum(body, 0.0)

    for value, expected, log in ((-1.0, 0.0, []), (-2.0, 0.0, []), (3.0, 6.0, [3.0]),
                                 (-1.0, 0.0, [3.0]), (4.0, 10.0, [3.0, 4.0])):
        assert f(tf.constant(value)).numpy() == expected
        assert calls == log   # TF 2.21: the body runs only when the branch is taken
    assert f.experimental_get_tracing_count() == 1
    assert "_stale_runs" not in f.__getstate__()   # trace state is not pickled


def test_autograph_if_nested_in_an_untaken_branch():
    calls = []
    body = _ranged(calls)

    @tf.function
    def g(x):
        y = tf.constant(0.0)
        if x > 0:
            if x > 10:
                y = tf.reduce_mean(tf.py_function(body, [x], tf.float32))
            else:
                y = tf.reduce_max(tf.py_function(body, [x], tf.float32)) * 2
        return y

    assert g(tf.constant(-1.0)).numpy() == 0.0
    assert g(tf.constant(-2.0)).numpy() == 0.0
    assert calls == []   # TF 2.21: []
    assert g(tf.constant(3.0)).numpy() == 6.0
    assert g(tf.constant(12.0)).numpy() == 6.0
    assert g(tf.constant(-3.0)).numpy() == 0.0
    # (an inner branch not taken inside a taken one may still run its body once
    # while traced: its traced values cannot tell which branch the run takes)
    assert set(calls) == {3.0, 12.0}


def test_loop_never_entered_does_not_run_its_py_function():
    calls = []
    body = _ranged(calls)

    @tf.function
    def w(n):
        s, i = tf.constant(0.0), tf.constant(0.0)
        while i < n:
            s += tf.reduce_sum(tf.py_function(body, [i], tf.float32))
            i += 1.0
        return s

    assert w(tf.constant(0.0)).numpy() == 0.0
    assert calls == []
    assert w(tf.constant(3.0)).numpy() == 4.0    # 0 + 1 + 3
    assert calls == [0.0, 1.0, 2.0]


def test_loop_condition_on_a_shaped_py_function_result_still_runs_the_body():
    # the condition's trace sees a placeholder (set_shape, no body run): its
    # traced value says nothing of whether the body runs, so the body is traced
    # to run (bodies run), and the loop gives the real result
    def pair(i):
        return np.array([i, i], np.float32)

    @tf.function
    def w(limit):
        i, s = tf.constant(0.0), tf.constant(0.0)
        while tf.reduce_sum(tf.ensure_shape(tf.numpy_function(
                pair, [i], tf.float32), [2])) < limit:
            s += tf.reduce_sum(tf.py_function(lambda v: tf.ones([3]) * v, [i],
                                              tf.float32))
            i += 1.0
        return s

    assert w(tf.constant(5.0)).numpy() == 3.0 * (0 + 1 + 2)
    assert w(tf.constant(1.0)).numpy() == 0.0


def test_get_concrete_function_with_a_cond_reducing_a_py_function_result():
    calls = []
    body = _ranged(calls)

    f = _cond_of_sum(body, -1.0)

    cf = f.get_concrete_function(tf.TensorSpec([], tf.float32))
    assert calls == []
    assert cf(tf.constant(-3.0)).numpy() == -1.0
    assert calls == []
    assert cf(tf.constant(2.0)).numpy() == 3.0
    assert cf(tf.constant(4.0)).numpy() == 10.0
    assert calls == [2.0, 4.0]
    assert f.experimental_get_tracing_count() == 1
    assert "_stale_runs" not in f.__getstate__()   # trace state is not pickled


# -- a concrete function's Python arguments -----------------------------------------

def test_concrete_function_refuses_a_changed_python_argument():
    @tf.function
    def power(a, b):
        return a ** b

    square = power.get_concrete_function(a=tf.TensorSpec(None, tf.float32), b=2)
    x = tf.constant(3.0)
    assert square(x).numpy() == 9.0
    assert square(x, b=2).numpy() == 9.0
    assert square(x, b=2.0).numpy() == 9.0   # TF 2.21: numbers compare by value
    for call in (lambda: square(x, b=3), lambda: square(x, 3)):
        with pytest.raises(TypeError, match=r"Can not cast 3 to Literal\[2\]"):
            call()
    assert power(x, 3).numpy() == 27.0


def test_concrete_function_graph_inputs():
    v = tf.Variable(2.0)

    @tf.function
    def g(x, y):
        return x * v + y

    cf = g.get_concrete_function(tf.TensorSpec([2], tf.float32),
                                 tf.TensorSpec([], tf.float32, name="yy"))
    inputs = cf.graph.inputs
    assert [t.name for t in inputs[:2]] == ["x:0", "yy:0"]
    assert [t.shape.as_list() for t in inputs[:2]] == [[2], []]
    assert [t.dtype for t in inputs[:2]] == [tf.float32, tf.float32]
    assert len(inputs) == 3 and inputs[2] is v   # TF: the capture's resource handle
    np.testing.assert_allclose(cf(tf.constant([1.0, 2.0]), tf.constant(1.0)).numpy(),
                               [3.0, 5.0])


def test_untaken_unshaped_branch_settles_after_a_few_quiet_retraces():
    # an untaken branch computing with an unshaped py_function result keeps the
    # graph provisional (TF runs no body); after _STALE_LIMIT calls the trace runs
    # the body once and is kept, so later calls neither retrace nor run it
    runs = []

    def body(x):
        runs.append(1)
        return np.asarray(x) * 2

    @tf.function
    def f(x, flag):
        if flag:
            return tf.reduce_sum(tf.py_function(body, [x], tf.float32) * 2.0)
        return tf.reduce_sum(x)

    x = tf.constant([1.0, 2.0])
    for _ in range(2):
        assert float(f(x, tf.constant(False))) == 3.0
    assert runs == []
    for _ in range(5):
        assert float(f(x, tf.constant(False))) == 3.0
    assert len(runs) == 1   # the settling trace, once
    assert float(f(x, tf.constant(True))) == 12.0
    assert len(runs) == 2
    assert f.experimental_get_tracing_count() == 1
    assert "_stale_runs" not in f.__getstate__()   # trace state is not pickled
