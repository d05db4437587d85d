"""``+`` / ``tf.add`` on string tensors concatenates (TF's Add kernel accepts strings)."""

import pytest

import dlframe as tf


@pytest.mark.parametrize("compiled", [False, True])
def test_string_add_broadcasts_and_concatenates(compiled):
    def f(a, b):
        return a + "!", "<" + a, tf.add(a, b), tf.math.add(b, a)
    f = tf.function(f) if compiled else f
    a = tf.constant(["x", "yz"])
    b = tf.constant("_")
    got = [t.numpy().tolist() for t in f(a, b)]
    assert got == [[b"x!", b"yz!"], [b"<x", b"<yz"], [b"x_", b"yz_"], [b"_x", b"_yz"]]


def test_string_plus_number_is_a_clear_error():
    with pytest.raises((tf.errors.InvalidArgumentError, TypeError, ValueError)):
        tf.constant("a") + 1
