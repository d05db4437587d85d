"""``tf.custom_gradient``: what grad_fn returns is converted as TF does (observed with
TF 2.21: a Python float or NumPy array is a gradient), and wrong counts are errors."""

import numpy as np
import pytest

import dlframe as tf


def test_python_float_gradient_is_converted():
    @tf.custom_gradient
    def scaled(x):
        return tf.identity(x), lambda dy: 7.0

    a = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(a)
        y = scaled(a)
    g = t.gradient(y, a)
    assert g.dtype == tf.float32 and float(g) == 7.0


def test_numpy_gradient_for_vector_input_and_variable():
    w = tf.Variable([1.0, 2.0])

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables):
            return np.full(2, 3.0, "float64"), [np.array([4.0, 5.0])]
        return x * w, grad

    x = tf.constant([1.0, 1.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_sum(f(x))
    gx, gw = t.gradient(y, [x, w])
    assert gx.dtype == tf.float32 and gw.dtype == tf.float32
    np.testing.assert_allclose(gx.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(gw.numpy(), [4.0, 5.0])


def test_wrong_number_of_gradients():
    @tf.custom_gradient
    def two(a, b):
        return a * b, lambda dy: dy

    a, b = tf.constant(2.0), tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch([a, b])
        y = two(a, b)
    with pytest.raises(ValueError,
                       match="expected to return 2 gradients, but returned 1"):
        t.gradient(y, [a, b])


def test_wrong_number_of_variable_gradients():
    w, v = tf.Variable(2.0), tf.Variable(3.0)

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables):
            return dy, [dy]
        return x * w * v, grad

    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    with pytest.raises(ValueError, match="Must return gradient for each variable"):
        t.gradient(y, [x, w, v])
