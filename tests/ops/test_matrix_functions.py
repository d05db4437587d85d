"""tf.linalg matrix functions and structured solvers: NumPy references, TF 2.21 values,
finite-difference gradients and eager == function."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op


def _spd(rng, n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _expm(a, terms=40):
    out, term = np.eye(a.shape[-1], dtype=a.dtype), np.eye(a.shape[-1], dtype=a.dtype)
    for k in range(1, terms):
        term = term @ a / k
        out = out + term
    return out


def test_sqrtm():
    rng = np.random.default_rng(0)
    a = _spd(rng, 3, (2,))
    w, v = np.linalg.eigh(a)
    ref = v @ (np.sqrt(w)[..., None] * np.swapaxes(v, -1, -2))
    check_op(tf.linalg.sqrtm, [a], lambda x: ref, rtol=1e-9, grad_rtol=1e-5,
             grad_atol=1e-7)
    # non-symmetric, TF 2.21 value
    np.testing.assert_allclose(tf.linalg.sqrtm(tf.constant([[4., 1.], [0., 9.]])).numpy(),
                               [[2., 0.2], [0., 3.]], rtol=1e-6)
    np.testing.assert_allclose(tf.matrix_square_root(tf.constant([[4.]])).numpy(), [[2.]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="square"):
        tf.linalg.sqrtm(tf.zeros([2, 3]))


def test_logm_complex_only():
    rng = np.random.default_rng(1)
    log_a = 0.4 * rng.standard_normal((3, 3)) + 0.2j * rng.standard_normal((3, 3))
    a = _expm(log_a)
    np.testing.assert_allclose(tf.linalg.logm(tf.constant(a)).numpy(), log_a, atol=1e-10)
    # TF 2.21 value (complex64)
    got = tf.linalg.logm(tf.constant([[1., 0.5], [0., 2.]], tf.complex64)).numpy()
    np.testing.assert_allclose(got, [[0., 0.3465736], [0., 0.6931472]], atol=3e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="complex64, complex128"):
        tf.linalg.logm(tf.constant([[1., 0.], [0., 2.]]))


def test_lu_functions():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 4, 4))
    rhs = rng.standard_normal((2, 4, 3))
    lu, perm = tf.linalg.lu(tf.constant(a))
    np.testing.assert_allclose(tf.linalg.lu_reconstruct(lu, perm).numpy(), a, atol=1e-12)
    np.testing.assert_allclose(tf.linalg.lu_solve(lu, perm, rhs).numpy(),
                               np.linalg.solve(a, rhs), atol=1e-10)
    np.testing.assert_allclose(tf.linalg.lu_matrix_inverse(lu, perm).numpy(),
                               np.linalg.inv(a), atol=1e-10)
    # the TF 2.21 example: A[perm] = L @ U with perm [1, 2, 0]
    lu1, p1 = tf.linalg.lu(tf.constant([[1., 2., 0.], [3., 1., 1.], [0., 5., 2.]]))
    np.testing.assert_array_equal(p1.numpy(), [1, 2, 0])
    np.testing.assert_allclose(tf.linalg.lu_reconstruct(lu1, p1).numpy(),
                               [[1., 2., 0.], [3., 1., 1.], [0., 5., 2.]], atol=1e-6)

    def solve(packed, b):
        return tf.linalg.lu_solve(packed, perm, b)

    check_op(solve, [lu.numpy(), rhs], lambda packed, b: np.linalg.solve(a, b),
             rtol=1e-9, grad_rtol=1e-5)


def _tridiag(sup, main, sub):
    m = len(main)
    return np.diag(main) + np.diag(sup[:m - 1], 1) + np.diag(sub[1:], -1)


def test_tridiagonal_solve_and_matmul():
    # TF 2.21 values
    got = tf.linalg.tridiagonal_solve(
        tf.constant([[2., 3., 0.], [1., 4., 5.], [0., 6., 7.]]), tf.constant([1., 2., 3.]))
    np.testing.assert_allclose(got.numpy(), [0.04918033, 0.47540984, -0.06557377],
                               rtol=1e-5)
    seq = (tf.constant([3., 0., 0.]), tf.constant([1., 4., 5.]), tf.constant([0., 6., 7.]))
    got = tf.linalg.tridiagonal_solve(seq, tf.constant([1., 2., 3.]),
                                      diagonals_format="sequence")
    np.testing.assert_allclose(got.numpy(), [0.14285713, 0.2857143, 0.2], rtol=1e-5)
    got = tf.linalg.tridiagonal_matmul(
        tf.constant([[2., 3., 9.], [1., 4., 5.], [9., 6., 7.]]), tf.constant([[1.], [2.], [3.]]))
    np.testing.assert_allclose(got.numpy(), [[5.], [23.], [29.]])

    rng = np.random.default_rng(3)
    diags = rng.standard_normal((2, 3, 5)) + np.array([0., 4., 0.])[:, None]
    rhs = rng.standard_normal((2, 5, 2))
    dense = np.stack([_tridiag(*d) for d in diags])
    check_op(lambda d, b: tf.linalg.tridiagonal_solve(d, b), [diags, rhs],
             lambda d, b: np.linalg.solve(dense, b), rtol=1e-9, grad_rtol=1e-5)
    check_op(lambda d, b: tf.linalg.tridiagonal_matmul(d, b), [diags, rhs],
             lambda d, b: dense @ b, rtol=1e-12)
    got = tf.linalg.tridiagonal_solve(tf.constant(dense), tf.constant(rhs),
                                      diagonals_format="matrix")
    np.testing.assert_allclose(got.numpy(), np.linalg.solve(dense, rhs), atol=1e-10)
    got = tf.linalg.tridiagonal_solve(diags, np.swapaxes(rhs, -1, -2), transpose_rhs=True)
    np.testing.assert_allclose(got.numpy(), np.linalg.solve(dense, rhs), atol=1e-10)
    with pytest.raises(ValueError, match="diagonals_format"):
        tf.linalg.tridiagonal_solve(diags, rhs, diagonals_format="band")


def test_banded_triangular_solve_layout_matches_tf():
    bands = tf.constant([[1., 2., 3., 4.], [5., 6., 7., 8.]])
    eye = tf.eye(4)
    # TF 2.21 values of the inverses
    lower = tf.linalg.banded_triangular_solve(bands, eye, lower=True).numpy()
    np.testing.assert_allclose(lower[:, 0], [1., -3., 7., -14.], rtol=1e-6)
    np.testing.assert_allclose(np.diag(lower), [1., 0.5, 1 / 3, 0.25], rtol=1e-6)
    upper = tf.linalg.banded_triangular_solve(bands, eye, lower=False).numpy()
    np.testing.assert_allclose(upper[0], [0.2, -0.0333, 0.0095, -0.0036], atol=1e-4)
    adj = tf.linalg.banded_triangular_solve(bands, eye, lower=True, adjoint=True).numpy()
    np.testing.assert_allclose(adj, lower.T, rtol=1e-6, atol=1e-6)

    rng = np.random.default_rng(4)
    b = rng.standard_normal((3, 5)) + np.array([3., 0., 0.])[:, None]
    rhs = rng.standard_normal((5, 2))
    dense = np.diag(b[0]) + np.diag(b[1, 1:], -1) + np.diag(b[2, 2:], -2)
    check_op(lambda bd, r: tf.linalg.banded_triangular_solve(bd, r), [b, rhs],
             lambda bd, r: np.linalg.solve(dense, r), rtol=1e-9, grad_rtol=1e-5)


def test_eigh_tridiagonal():
    alpha, beta = tf.constant([1., 2., 3.]), tf.constant([0.5, 0.5])
    # TF 2.21 values
    np.testing.assert_allclose(tf.linalg.eigh_tridiagonal(alpha, beta).numpy(),
                               [0.7752552, 2., 3.2247448], rtol=1e-6)
    np.testing.assert_allclose(
        tf.linalg.eigh_tridiagonal(alpha, beta, select="i", select_range=[1, 2]).numpy(),
        [2., 3.2247448], rtol=1e-6)
    np.testing.assert_allclose(
        tf.linalg.eigh_tridiagonal(alpha, beta, select="v", select_range=[1., 5.]).numpy(),
        [2., 3.2247448], rtol=1e-6)
    values, vectors = tf.linalg.eigh_tridiagonal(alpha, beta, eigvals_only=False)
    dense = _tridiag([0.5, 0.5, 0.], [1., 2., 3.], [0., 0.5, 0.5])
    np.testing.assert_allclose(dense @ vectors.numpy(), vectors.numpy() * values.numpy(),
                               atol=1e-5)
    with pytest.raises(ValueError, match="beta"):
        tf.linalg.eigh_tridiagonal(alpha, tf.constant([1.]))


def test_tensor_diag_and_part():
    d = np.arange(1., 7.).reshape(2, 3)
    out = tf.linalg.tensor_diag(d)
    assert out.shape == (2, 3, 2, 3)
    expect = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            expect[i, j, i, j] = d[i, j]
    np.testing.assert_array_equal(out.numpy(), expect)
    check_op(tf.linalg.tensor_diag_part, [expect], lambda x: d)
    check_op(tf.linalg.tensor_diag, [d], lambda x: expect)
    with pytest.raises(tf.errors.InvalidArgumentError, match="D \\+ D"):
        tf.linalg.tensor_diag_part(tf.zeros([2, 3, 3, 2]))
