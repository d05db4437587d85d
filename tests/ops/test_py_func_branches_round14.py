"""tf.py_function in a tf.function's cond branch or while body runs once per use on
the first (tracing) call too: the run that traced the branch counts as the run of
the branch right after it. Expected counts are those TF 2.21 gives."""

import numpy as np

import dlframe as tf


def _counter():
    calls = []

    def bump(x):
        calls.append(float(np.sum(x.numpy())))
        return x + 1.0

    return calls, bump


def test_taken_branch_runs_once_on_first_call():
    calls, bump = _counter()

    @tf.function
    def branch(x):
        if x > 0:
            y = tf.py_function(bump, [x], tf.float32)
        else:
            y = x - 1.0
        return y

    assert float(branch(tf.constant(1.0))) == 2.0
    assert calls == [1.0]
    assert float(branch(tf.constant(1.0))) == 2.0
    assert float(branch(tf.constant(-1.0))) == -2.0
    assert calls == [1.0, 1.0]


def test_while_body_runs_once_per_iteration():
    calls, bump = _counter()

    @tf.function
    def loop(x, k):
        i = tf.constant(0)
        while i < k:
            x = tf.py_function(bump, [x], tf.float32)
            x.set_shape([])
            i += 1
        return x

    assert float(loop(tf.constant(1.0), tf.constant(3))) == 4.0
    assert calls == [1.0, 2.0, 3.0]   # TF 2.21: 3 calls, none at trace time
    assert float(loop(tf.constant(1.0), tf.constant(2))) == 3.0
    assert len(calls) == 5


def test_stateful_body_with_equal_inputs_in_loop():
    """Each iteration's call is a new call even with equal inputs: only the traced
    run stands for the first one."""
    calls = []

    def draw(x):
        calls.append(1)
        return x + float(len(calls))

    @tf.function
    def loop(x):
        for _ in tf.range(3):
            y = tf.py_function(draw, [tf.constant(0.0)], tf.float32)
            y.set_shape([])
            x = y + x
        return x

    assert float(loop(tf.constant(0.0))) == 6.0   # 1 + 2 + 3, as TF 2.21
    assert len(calls) == 3
    assert float(loop(tf.constant(0.0))) == 4.0 + 5.0 + 6.0
    assert len(calls) == 6


def test_gradient_through_branch_py_function():
    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            if x > 0:
                y = tf.py_function(lambda v: v * v, [x], tf.float32)
            else:
                y = x
        return tape.gradient(y, x)

    assert float(grad(tf.constant(3.0))) == 6.0
    assert float(grad(tf.constant(-3.0))) == 1.0
    assert float(grad(tf.constant(2.0))) == 4.0
