"""tf.UnconnectedGradients with GradientTape.gradient and jacobian."""

import numpy as np

import dlframe as tf


def test_enum_values():
    assert tf.UnconnectedGradients.ZERO.value == "zero"
    assert tf.UnconnectedGradients.NONE.value == "none"
    assert list(tf.UnconnectedGradients) == [tf.UnconnectedGradients.NONE,
                                             tf.UnconnectedGradients.ZERO]


def test_gradient_modes():
    x = tf.constant([1.0, 2.0])
    y = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = y * 2.0
    assert tape.gradient(z, x) is None
    assert tape.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.NONE) is None
    zero = tape.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(zero.numpy(), [0, 0])
    jac = tape.jacobian(z, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert jac.shape == (2,)
