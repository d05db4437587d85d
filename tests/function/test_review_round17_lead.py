"""Lead review (round 17): a user's own ``print`` in converted code is called as
such (as ``len`` is), and ``tf.gradients(..., stop_gradients=...)`` inside a
``tf.function`` that runs under an outer eager tape holds the stopped tensors
constant, as it does in a plain trace (TF 2.21 gives [1, 1] for both)."""
import numpy as np

import dlframe as tf


@tf.function
def _stopped(x):
    a = x * 1.0
    b = 2.0 * a
    return tf.gradients(a + b, [a, b], stop_gradients=[a, b])


@tf.function
def _unstopped(x):
    a = x * 1.0
    b = 2.0 * a
    return tf.gradients(a + b, [a, b])


def test_stop_gradients_in_a_plain_trace_and_under_an_outer_tape():
    x = tf.constant(1.5)
    np.testing.assert_allclose([g.numpy() for g in _stopped(x)], [1.0, 1.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        grads = _stopped(x)
    np.testing.assert_allclose([g.numpy() for g in grads], [1.0, 1.0])


def test_without_stop_gradients_the_path_through_b_counts():
    x = tf.constant(1.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        grads = _unstopped(x)
    np.testing.assert_allclose([g.numpy() for g in grads], [3.0, 1.0])


def test_outer_persistent_tape_still_differentiates_after_a_stopped_call():
    x = tf.constant(1.5)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        grads = _stopped(x)
        y = x * x * grads[0]
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 3.0)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 3.0)


_LOG = []


def print(*args, **kwargs):   # a module's own print, as users write
    _LOG.append((args, kwargs))


def test_a_module_level_print_of_the_user_is_called_in_converted_code():
    del _LOG[:]

    @tf.function
    def f(x):
        print("hello", x.shape, sep="|")
        return x + 1.0

    f(tf.ones([2]))
    f(tf.ones([2]))
    assert _LOG == [(("hello", tf.TensorShape([2])), {"sep": "|"})]   # TF 2.21: once


def test_a_local_print_is_called():
    seen = []

    @tf.function
    def f(x):
        print = seen.append   # shadows the builtin inside the function
        print("local")
        return x

    f(tf.ones([1]))
    f(tf.ones([1]))
    assert seen == ["local"]   # trace time only, as TF
