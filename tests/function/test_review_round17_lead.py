"""Lead review (round 17): ``tf.gradients(..., stop_gradients=...)`` inside a
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
