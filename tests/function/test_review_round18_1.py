"""Review of round 18's nested ``tf.gradients`` frames: inside an inlined
tf.function gradients stop at the body's inputs but still pass through tensors it
captures from its caller (expected values from TF 2.21)."""

import pytest

import dlframe as tf


def _floats(values):
    return [None if v is None else float(v) for v in values]


def test_gradients_through_a_captured_caller_tensor():
    @tf.function
    def outer(x):
        y = x * 2.0

        @tf.function
        def inner(a):
            return tf.gradients(a * y, [a, y, x])

        return inner(x + 1.0)

    # TF 2.21: [2.0, 2.0, 4.0] (d(a * 2x)/dx = 2a through the capture)
    assert _floats(outer(tf.constant(1.0))) == pytest.approx([2.0, 2.0, 4.0])


def test_captured_tensor_derived_from_the_passed_argument():
    @tf.function
    def outer(x):
        y = x * 2.0
        z = y * 3.0

        @tf.function
        def inner(a):
            return tf.gradients(a * z, [a, z, y, x])

        return inner(y)

    # TF 2.21: the argument ``a`` is its own placeholder; z's path reaches x
    got = _floats(outer(tf.constant(1.0)))
    assert got == pytest.approx([6.0, 2.0, 6.0, 12.0])
    got = _floats(outer(tf.constant(2.0)))   # the compiled graph replays it
    assert got == pytest.approx([12.0, 4.0, 12.0, 24.0])


def test_capture_of_a_capture_stops_at_the_middle_functions_argument():
    @tf.function
    def top(x):
        u = x * 5.0

        @tf.function
        def mid(b):
            c = b * u

            @tf.function
            def inner(a):
                return tf.gradients(a * c, [a, c, b, u, x])

            return inner(b + 1.0)

        return mid(x * 2.0)

    # TF 2.21: [10.0, 3.0, 15.0, 6.0, 30.0]
    got = _floats(top(tf.constant(1.0)))
    assert got == pytest.approx([10.0, 3.0, 15.0, 6.0, 30.0])


def test_nested_frames_at_every_level():
    @tf.function
    def inner(a):
        return a * a * 3.0, tf.gradients(a * a, a)[0]

    @tf.function
    def mid(b):
        c = tf.sin(b)
        y, g = inner(c)
        return y, g, tf.gradients(y, b)[0], tf.gradients(y + g, c)[0]

    @tf.function
    def top(x):
        y, g, gb, gc = mid(x * 2.0)
        return [y, g, gb, gc, tf.gradients(y, x)[0], tf.gradients(gb, x)[0]]

    # TF 2.21 values
    expected = [0.9565, 1.1293, 2.7961, 5.3879, 5.5922, 4.3483]
    assert _floats(top(tf.constant(0.3))) == pytest.approx(expected, abs=1e-4)
