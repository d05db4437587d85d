"""tf.math special functions against SciPy: Bessel functions, Dawson, exponential,
Fresnel and Spence integrals, incomplete gamma and beta functions, Hurwitz zeta."""

import numpy as np
import pytest
import scipy.special as sp

import dlframe as tf
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from tests.helpers import check_grad, check_op, check_second_order

REALS = np.array([-2.5, -0.7, 0.0, 0.3, 1.1, 4.0])
POSITIVE = np.array([0.2, 0.7, 1.0, 1.5, 3.0, 6.0])

UNARY = [
    ("bessel_i0", sp.i0, REALS), ("bessel_i0e", sp.i0e, REALS),
    ("bessel_i1", sp.i1, REALS), ("bessel_i1e", sp.i1e, REALS),
    ("bessel_j0", sp.j0, REALS), ("bessel_j1", sp.j1, REALS),
    ("bessel_y0", sp.y0, POSITIVE), ("bessel_y1", sp.y1, POSITIVE),
    ("bessel_k0", sp.k0, POSITIVE), ("bessel_k0e", sp.k0e, POSITIVE),
    ("bessel_k1", sp.k1, POSITIVE), ("bessel_k1e", sp.k1e, POSITIVE),
    ("dawsn", sp.dawsn, REALS),
    # TF's expint is defined for x > 0 only (NaN below; tests/ops/test_probe_numerics.py)
    ("expint", sp.expi, np.array([0.2, 0.5, 0.3, 1.0, 2.5])),
    ("fresnel_cos", lambda x: sp.fresnel(x)[1], REALS),
    ("fresnel_sin", lambda x: sp.fresnel(x)[0], REALS),
    ("spence", sp.spence, np.array([0.1, 0.5, 1.0, 2.0, 3.5])),
]


@pytest.mark.parametrize("name,ref,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_special(name, ref, x):
    op = getattr(tf.math.special, name)
    check_op(op, [x], ref, rtol=1e-12, atol=1e-12, grad_atol=1e-6)
    # second derivatives, away from the kinks of the |x|-scaled functions at 0
    # and the removable singularity of spence's derivative at 1
    check_second_order(op, [x[(x != 0) & (x != 1)]])
    out = op(x.astype(np.float32))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=1e-5, atol=1e-6)


def test_gradients_at_zero():
    # i1' = i0 - i1 / x and j1' = j0 - j1 / x have the limit 1/2 at 0
    for op in (tf.math.bessel_i1, tf.math.bessel_i1e, tf.math.special.bessel_j1):
        x = tf.constant([0.0], tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = op(x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.5])


def test_namespaces_and_errors():
    assert tf.math.bessel_i0e is tf.math.special.bessel_i0e
    assert tf.math.bessel_i1 is tf.math.special.bessel_i1
    with pytest.raises(InvalidArgumentError):
        tf.math.bessel_i0e(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError):
        tf.math.igamma(tf.constant([1, 2]), tf.constant([1, 2]))
    with pytest.raises(ShapeMismatchError):
        tf.math.zeta(tf.ones([2]), tf.ones([3]))


A = np.array([0.5, 1.0, 2.5, 4.0])
X = np.array([0.3, 1.2, 2.0, 5.0])


@pytest.mark.parametrize("name,ref", [("igamma", sp.gammainc), ("igammac", sp.gammaincc)])
def test_incomplete_gamma(name, ref):
    op = getattr(tf.math, name)
    check_op(op, [A, X], ref, rtol=1e-12, wrt=[1])   # differentiable in x only
    check_second_order(lambda x: op(A, x), [X])
    out = op(tf.constant([[1.0], [2.0]]), tf.constant([1.0, 2.0, 3.0]))
    assert out.shape == (2, 3) and out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), ref([[1.0], [2.0]], [1.0, 2.0, 3.0]),
                               rtol=1e-6)
    np.testing.assert_allclose(op(2.0, tf.constant([1.0, 2.0])).numpy(),
                               ref(2.0, [1.0, 2.0]), rtol=1e-6)


def test_betainc():
    b = np.array([0.7, 2.0, 3.0, 1.0])
    u = np.array([0.1, 0.4, 0.6, 0.95])
    check_op(tf.math.betainc, [A, b, u], sp.betainc, rtol=1e-12, wrt=[2])
    check_second_order(lambda x: tf.math.betainc(A, b, x), [u])
    x = tf.constant(u)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.betainc(tf.constant(A), tf.constant(b), x)
    assert tape.gradient(y, x) is not None


def test_zeta():
    s = np.array([1.5, 2.0, 3.0, 4.5])
    q = np.array([0.5, 1.0, 2.0, 3.0])
    check_op(tf.math.zeta, [s, q], sp.zeta, rtol=1e-12, wrt=[1])
    np.testing.assert_allclose(tf.math.zeta(2.0, tf.constant(1.0, tf.float64)).numpy(),
                               np.pi ** 2 / 6)
    check_grad(lambda q_: tf.math.zeta(s, q_) ** 2, [q])
