"""tf.transpose(conjugate=True), tf.math.polygamma with a tensor of orders, and
tf.nn.experimental's dropouts."""

import numpy as np
from scipy import special

import dlframe as tf


def test_transpose_conjugate_conjugates_complex_and_ignores_real():
    x = np.array([[1 + 2j, 3 - 1j], [0.5j, 2]], np.complex64)
    np.testing.assert_array_equal(tf.transpose(x, conjugate=True).numpy(), x.conj().T)
    np.testing.assert_array_equal(tf.transpose(x).numpy(), x.T)
    r = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(tf.transpose(r, conjugate=True).numpy(), r.T)
    v = np.array([1 + 1j], np.complex64)   # identity permutation still conjugates
    np.testing.assert_array_equal(tf.transpose(v, conjugate=True).numpy(), v.conj())


def test_polygamma_takes_a_tensor_of_orders_elementwise():
    a = np.array([0.0, 1.0, 2.0, 1.0], "float32")
    x = np.array([1.5, 2.5, 0.7, 3.0], "float32")
    want = [special.polygamma(int(n), v) for n, v in zip(a, x)]
    np.testing.assert_allclose(tf.math.polygamma(a, x).numpy(), want, rtol=1e-5)
    # TF 2.21: polygamma([0., 1.], [1.5, 2.5]) = [0.03648996, 0.49035773]
    np.testing.assert_allclose(tf.math.polygamma([0.0, 1.0], [1.5, 2.5]).numpy(),
                               [0.03648996, 0.49035773], rtol=1e-5)
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.math.polygamma(a, xv))
    want_grad = [special.polygamma(int(n) + 1, v) for n, v in zip(a, x)]
    np.testing.assert_allclose(tape.gradient(y, xv).numpy(), want_grad, rtol=1e-4)


def test_nn_experimental_stateless_dropout_matches_tf():
    out = tf.nn.experimental.stateless_dropout(tf.ones([4]), 0.5, seed=[1, 2])
    np.testing.assert_array_equal(out.numpy(), [2.0, 0.0, 2.0, 0.0])   # TF 2.21
    assert "experimental" in dir(tf.nn)
