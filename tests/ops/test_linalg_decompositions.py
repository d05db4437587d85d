"""tf.linalg decompositions and the solvers built on them, against NumPy/SciPy:
svd, eigh, eigvalsh, qr, cholesky, band_part, triangular_solve, cholesky_solve,
lstsq, pinv, matrix_rank, expm, cross, normalize.

Gradients are checked against float64 central differences; complex gradients
through real and imaginary parts, with losses that do not depend on the phases of
singular or eigenvectors (which the decompositions do not fix).
"""

import numpy as np
import pytest
import scipy.linalg

import dlframe as tf
from dlframe.errors import InvalidArgumentError
from tests.helpers import check_function_matches_eager, check_grad, check_op

RNG = np.random.default_rng(7)


def _r(*shape):
    return RNG.standard_normal(shape)


def _h(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _c(re, im):
    return tf.complex(re, im)


def _parts(z):
    return tf.math.real(z), tf.math.imag(z)


def _abs2(z):
    return tf.math.real(z * tf.math.conj(z))


SHAPES = [(3, 3), (4, 3), (3, 4), (2, 4, 2), (2, 1, 3, 3)]


# ---------------------------------------------------------------- svd
def _svd_invariants(x, full_matrices=False):
    # s, the reconstruction and the projectors u u^H, v v^H do not depend on the
    # singular vectors' signs
    s, u, v = tf.linalg.svd(x, full_matrices=full_matrices)
    k = min(x.shape[-2:])
    uk, vk = u[..., :k], v[..., :k]
    return (s, tf.matmul(uk * tf.cast(s[..., None, :], u.dtype), vk, adjoint_b=True),
            tf.square(u), tf.square(v))


def _np_svd_invariants(x, full_matrices=False):
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    k = s.shape[-1]
    v = _h(vh)
    return s, (u[..., :k] * s[..., None, :]) @ _h(v[..., :k]), u ** 2, v ** 2


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_svd(shape):
    check_op(lambda x: _svd_invariants(x), [_r(*shape)], _np_svd_invariants,
             rtol=1e-7, atol=1e-9, grad_atol=1e-6)
    check_op(lambda x: tf.linalg.svd(x, compute_uv=False), [_r(*shape)],
             lambda x: np.linalg.svd(x, compute_uv=False), rtol=1e-7)


def test_svd_shapes_dtypes_and_full_matrices():
    a = _r(2, 5, 3).astype(np.float32)
    s, u, v = tf.linalg.svd(a)
    assert (s.shape, u.shape, v.shape) == ((2, 3), (2, 5, 3), (2, 3, 3))
    assert s.dtype == u.dtype == tf.float32
    s, u, v = tf.linalg.svd(a, full_matrices=True)
    assert (u.shape, v.shape) == ((2, 5, 5), (2, 3, 3))
    np.testing.assert_allclose(tf.matmul(u, u, adjoint_a=True).numpy(),
                               np.broadcast_to(np.eye(5), (2, 5, 5)), atol=1e-5)
    # v is not transposed: a = u[:, :3] diag(s) v^T
    np.testing.assert_allclose((u.numpy()[..., :3] * s.numpy()[:, None]) @ _h(v.numpy()),
                               a, atol=1e-5)
    # square full_matrices gradient equals the thin one
    check_grad(lambda x: _svd_invariants(x, full_matrices=True), [_r(3, 3)], atol=1e-6)
    x = tf.constant(_r(5, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        _, u, _ = tf.linalg.svd(x, full_matrices=True)
    with pytest.raises(NotImplementedError):
        tape.gradient(u, x)


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4)], ids=str)
def test_svd_complex(shape):
    re, im = _r(*shape), _r(*shape)
    z = re + 1j * im
    s, u, v = tf.linalg.svd(z)
    assert s.dtype == tf.float64 and u.dtype == tf.complex128
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(z, compute_uv=False))
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ _h(v.numpy()), z, atol=1e-12)

    def invariants(xr, xi):
        s, u, v = tf.linalg.svd(_c(xr, xi))
        return (s, _abs2(u), _abs2(v)) + _parts(tf.matmul(u, v, adjoint_b=True))
    check_grad(invariants, [re, im], atol=1e-6)
    check_grad(lambda xr, xi: tf.linalg.svd(_c(xr, xi), compute_uv=False), [re, im])


def test_svd_second_order_of_singular_values():
    # d/dA of sum(d s / dA) by finite differences of the first gradient
    a0 = _r(3, 3)

    def first(arr):
        x = tf.constant(arr)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.linalg.svd(x, compute_uv=False) ** 2)
        return tape.gradient(y, x)
    x = tf.constant(a0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.linalg.svd(x, compute_uv=False) ** 2)
        g = tf.reduce_sum(inner.gradient(y, x) * a0)
    # sum(s^2) = |A|_F^2: gradient 2A, so d/dA sum(2A * a0) = 2 a0
    np.testing.assert_allclose(outer.gradient(g, x).numpy(), 2 * a0, atol=1e-8)
    np.testing.assert_allclose(first(a0).numpy(), 2 * a0, atol=1e-10)


# ---------------------------------------------------------------- eigh
def _eig_invariants(x):
    e, v = tf.linalg.eigh(x)
    return e, tf.square(v)


def _np_eig_invariants(x):
    e, v = np.linalg.eigh(x)
    return e, v ** 2


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 3, 3)], ids=str)
def test_eigh(shape):
    # the kernels read the lower triangle only: gradients are w.r.t. that triangle,
    # so finite differences on a non-symmetric input agree with them
    check_op(_eig_invariants, [_r(*shape)], _np_eig_invariants, rtol=1e-7, atol=1e-9,
             grad_atol=1e-6)
    check_op(tf.linalg.eigvalsh, [_r(*shape)], np.linalg.eigvalsh, rtol=1e-7, atol=1e-9)


def test_eigh_ascending_reconstruction_and_complex():
    a = _r(4, 4)
    sym = a + a.T
    e, v = tf.linalg.eigh(sym.astype(np.float32))
    assert e.dtype == tf.float32 and np.all(np.diff(e.numpy()) >= 0)
    np.testing.assert_allclose((v.numpy() * e.numpy()) @ v.numpy().T, sym, atol=1e-4)
    re, im = _r(4, 4), _r(4, 4)
    z = re + 1j * im
    e, v = tf.linalg.eigh(z)
    assert e.dtype == tf.float64 and v.dtype == tf.complex128
    np.testing.assert_allclose(e.numpy(), np.linalg.eigvalsh(z), atol=1e-12)

    def invariants(xr, xi):
        e, v = tf.linalg.eigh(_c(xr, xi))
        return e, _abs2(v)
    check_grad(invariants, [re, im], atol=1e-6)
    check_grad(lambda xr, xi: tf.linalg.eigvalsh(_c(xr, xi)), [re, im])


# ---------------------------------------------------------------- qr
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_qr(shape):
    check_op(tf.linalg.qr, [_r(*shape)], np.linalg.qr, rtol=1e-7, atol=1e-9,
             grad_atol=1e-6)


def test_qr_full_matrices_complex_and_errors():
    a = _r(5, 3)
    q, r = tf.linalg.qr(a, full_matrices=True)
    assert (q.shape, r.shape) == ((5, 5), (5, 3))
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)
    check_grad(lambda x: tf.linalg.qr(x, full_matrices=True), [_r(3, 5)], atol=1e-6)
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        q, _ = tf.linalg.qr(x, full_matrices=True)
    with pytest.raises(NotImplementedError):
        tape.gradient(q, x)
    for shape in [(4, 3), (3, 4)]:
        re, im = _r(*shape), _r(*shape)
        q, r = tf.linalg.qr(re + 1j * im)
        np.testing.assert_allclose(q.numpy() @ r.numpy(), re + 1j * im, atol=1e-12)
        check_grad(lambda xr, xi: _parts(tf.linalg.qr(_c(xr, xi))[0])
                   + _parts(tf.linalg.qr(_c(xr, xi))[1]), [re, im], atol=1e-6)
    with pytest.raises(InvalidArgumentError, match="rank >= 2"):
        tf.linalg.qr(tf.ones([3]))
    with pytest.raises(InvalidArgumentError):
        tf.linalg.qr(tf.ones([3, 3], tf.int32))


# ---------------------------------------------------------------- cholesky
def _spd(x):
    n = x.shape[-1]
    return tf.matmul(x, x, transpose_b=True) + n * tf.eye(n, dtype=x.dtype)


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 3, 3)], ids=str)
def test_cholesky(shape):
    n = shape[-1]
    check_op(lambda x: tf.linalg.cholesky(_spd(x)), [_r(*shape)],
             lambda x: np.linalg.cholesky(x @ np.swapaxes(x, -1, -2) + n * np.eye(n)),
             rtol=1e-7, atol=1e-9)


def test_cholesky_gradient_is_symmetric_and_errors():
    a = _r(3, 3)
    x = tf.constant(a @ a.T + 3 * np.eye(3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.linalg.cholesky(x) * _r(3, 3))
    g = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(g, g.T)
    # TF 2.21 logs a failed factorization and returns NaN in the lower triangle
    bad = tf.linalg.cholesky(tf.constant([[1.0, 2.0], [2.0, 1.0]])).numpy()
    assert np.isnan(bad[np.tril_indices(2)]).all()
    with pytest.raises(InvalidArgumentError, match="square"):
        tf.linalg.cholesky(tf.ones([2, 3]))
    re, im = _r(3, 3), _r(3, 3)

    def complex_chol(xr, xi):
        z = _c(xr, xi)
        return _parts(tf.linalg.cholesky(tf.matmul(z, z, adjoint_b=True)
                                         + tf.cast(3 * tf.eye(3, dtype=tf.float64),
                                                   tf.complex128)))
    check_grad(complex_chol, [re, im], atol=1e-6)


# ---------------------------------------------------------------- band_part
@pytest.mark.parametrize("lower,upper", [(-1, 0), (0, -1), (0, 0), (1, 2), (-1, -1),
                                         (2, 0)])
def test_band_part(lower, upper):
    def ref(x):
        i, j = np.indices(x.shape[-2:])
        keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
        return np.where(keep, x, 0)
    check_op(lambda x: tf.linalg.band_part(x, lower, upper), [_r(2, 4, 5)], ref)


def test_band_part_errors_and_ints():
    out = tf.linalg.band_part(tf.ones([3, 3], tf.int32), tf.constant(0), 1)
    np.testing.assert_array_equal(out.numpy(), np.triu(np.tril(np.ones((3, 3)), 1)))
    with pytest.raises(InvalidArgumentError, match="at least rank 2"):
        tf.linalg.band_part(tf.ones([3]), 0, 0)
    with pytest.raises(InvalidArgumentError, match="num_lower"):
        tf.linalg.band_part(tf.ones([3, 3]), 5, 0)


# ---------------------------------------------------------------- triangular solves
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_triangular_solve(lower, adjoint):
    a = _r(2, 4, 4) + 4 * np.eye(4)   # the other triangle is ignored

    def ref(m, b):
        tri = np.tril(m) if lower else np.triu(m)
        return np.linalg.solve(_h(tri) if adjoint else tri, b)
    check_op(lambda m, b: tf.linalg.triangular_solve(m, b, lower=lower, adjoint=adjoint),
             [a, _r(2, 4, 3)], ref, rtol=1e-7)


def test_triangular_solve_broadcast_complex_and_errors():
    a = np.tril(_r(4, 4)) + 4 * np.eye(4)
    b = _r(3, 4, 2)
    out = tf.linalg.triangular_solve(a, b)
    np.testing.assert_allclose(out.numpy(), np.stack([
        scipy.linalg.solve_triangular(a, bi, lower=True) for bi in b]))
    check_grad(lambda m, r: tf.linalg.triangular_solve(m, r), [a, b])
    re, im, br = _r(4, 4), _r(4, 4), _r(4, 2)

    def solve(xr, xi, r):
        return _parts(tf.linalg.triangular_solve(_c(xr, xi) + 4, tf.cast(r, tf.complex128),
                                                 lower=False, adjoint=True))
    check_grad(solve, [re, im, br])
    with pytest.raises(InvalidArgumentError, match="square"):
        tf.linalg.triangular_solve(tf.ones([2, 3]), tf.ones([2, 1]))
    with pytest.raises(InvalidArgumentError, match="matching rows"):
        tf.linalg.triangular_solve(tf.eye(3), tf.ones([2, 1]))


def test_cholesky_solve():
    a = _r(2, 4, 4)
    spd = a @ np.swapaxes(a, -1, -2) + 4 * np.eye(4)
    b = _r(2, 4, 3)
    check_op(lambda c, r: tf.linalg.cholesky_solve(c, r), [np.linalg.cholesky(spd), b],
             lambda c, r: np.linalg.solve(c @ np.swapaxes(c, -1, -2), r), rtol=1e-7)


# ---------------------------------------------------------------- lstsq, pinv, rank
@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (2, 5, 4)], ids=str)
@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_lstsq_fast(shape, l2):
    def ref(a, b):
        ah = _h(a)
        rows, cols = a.shape[-2:]
        if rows >= cols:
            return np.linalg.solve(ah @ a + l2 * np.eye(cols), ah @ b)
        return ah @ np.linalg.solve(a @ ah + l2 * np.eye(rows), b)
    b = _r(*shape[:-1], 2)
    check_op(lambda a, r: tf.linalg.lstsq(a, r, l2_regularizer=l2), [_r(*shape), b], ref,
             rtol=1e-7, atol=1e-9)


def test_lstsq_minimum_norm():
    a = _r(5, 3) @ _r(3, 4)   # rank 3: the normal equations are singular
    b = _r(5, 2)
    out = tf.linalg.lstsq(a, b, l2_regularizer=0.5, fast=False)  # regularizer ignored
    np.testing.assert_allclose(out.numpy(), np.linalg.lstsq(a, b, rcond=None)[0],
                               atol=1e-10)
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.linalg.lstsq(x, b, fast=False)
    with pytest.raises(ValueError, match="fast=False"):
        tape.gradient(y, x)
    with pytest.raises(InvalidArgumentError, match="same number of rows"):
        tf.linalg.lstsq(tf.ones([3, 2]), tf.ones([4, 1]))


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)], ids=str)
def test_pinv(shape):
    check_op(tf.linalg.pinv, [_r(*shape)], np.linalg.pinv, rtol=1e-7, atol=1e-9,
             grad_atol=1e-6)


def test_pinv_rank_deficient_and_matrix_rank():
    a = _r(4, 2) @ _r(2, 5)
    np.testing.assert_allclose(tf.linalg.pinv(a).numpy(),
                               np.linalg.pinv(a, rcond=10 * 5 * np.finfo(float).eps),
                               atol=1e-10)
    rank = tf.linalg.matrix_rank(np.stack([a[:, :4], np.eye(4), np.zeros((4, 4))]))
    assert rank.dtype == tf.int32
    np.testing.assert_array_equal(rank.numpy(), [2, 4, 0])
    u = np.linalg.qr(_r(4, 4))[0]
    almost = u @ np.diag([1.0, 1e-3, 1e-9, 1e-17]) @ u.T
    assert int(tf.linalg.matrix_rank(almost)) == 3
    assert int(tf.linalg.matrix_rank(almost, tol=1e-6)) == 2
    assert int(tf.linalg.matrix_rank(almost.astype(np.float32))) == 2


# ---------------------------------------------------------------- expm
def _np_expm(x):
    flat = x.reshape((-1,) + x.shape[-2:])
    return np.stack([scipy.linalg.expm(m) for m in flat]).reshape(x.shape)


def test_expm():
    check_op(tf.linalg.expm, [_r(2, 3, 3)], _np_expm, rtol=1e-10, atol=1e-12)
    # one batch with very different norms: each matrix gets its own scaling
    a = np.stack([0.01 * _r(4, 4), 20 * _r(4, 4), np.zeros((4, 4))])
    ref = _np_expm(a)
    np.testing.assert_allclose(tf.linalg.expm(a).numpy(), ref, rtol=1e-9,
                               atol=1e-12 * np.abs(ref).max())
    check_grad(tf.linalg.expm, [3 * _r(3, 3)], rtol=1e-6)
    nilpotent = tf.linalg.expm(tf.constant([[0.0, 1.0], [0.0, 0.0]]))
    assert nilpotent.dtype == tf.float32
    np.testing.assert_allclose(nilpotent.numpy(), [[1, 1], [0, 1]])
    z = _r(3, 3) + 1j * _r(3, 3)
    np.testing.assert_allclose(tf.linalg.expm(z).numpy(), scipy.linalg.expm(z), rtol=1e-10)
    with pytest.raises(InvalidArgumentError, match="square"):
        tf.linalg.expm(tf.ones([2, 3]))


def test_expm_second_order():
    # the gradient rule is itself an expm: differentiate it again
    a0 = 0.5 * _r(3, 3)
    w = _r(3, 3)

    def grad_sum(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.linalg.expm(x) * w)
        return tape.gradient(y, x)
    check_grad(grad_sum, [a0], rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- vectors
def test_cross():
    check_op(tf.linalg.cross, [_r(2, 4, 3), _r(2, 4, 3)], np.cross, rtol=1e-7)
    ints = tf.linalg.cross(tf.constant([1, 0, 0]), tf.constant([0, 1, 0]))
    np.testing.assert_array_equal(ints.numpy(), [0, 0, 1])
    with pytest.raises(InvalidArgumentError, match="same shape"):
        tf.linalg.cross(tf.ones([2, 3]), tf.ones([3]))
    with pytest.raises(InvalidArgumentError, match="must be 3"):
        tf.linalg.cross(tf.ones([2]), tf.ones([2]))


def test_normalize_and_l2_normalize():
    x = _r(3, 4)
    out, size = tf.linalg.normalize(x, axis=1)
    np.testing.assert_allclose(size.numpy(), np.linalg.norm(x, axis=1, keepdims=True))
    np.testing.assert_allclose(out.numpy(), x / np.linalg.norm(x, axis=1, keepdims=True))
    out, size = tf.linalg.normalize(x, ord=1, axis=[0, 1])
    assert size.shape == (1, 1)
    np.testing.assert_allclose(out.numpy(), x / np.abs(x).sum(0).max())
    assert tf.linalg.l2_normalize is tf.math.l2_normalize is tf.nn.l2_normalize
    check_grad(lambda v: tf.linalg.normalize(v, axis=-1)[0], [x])


# ---------------------------------------------------------------- compiled
def test_decompositions_in_function():
    a = _r(2, 4, 3)
    sq = _r(2, 3, 3)
    check_function_matches_eager(lambda x: _svd_invariants(x), [a])
    check_function_matches_eager(lambda x: tf.linalg.qr(x), [a])
    check_function_matches_eager(lambda x: _eig_invariants(x), [sq])
    check_function_matches_eager(lambda x: tf.linalg.cholesky(_spd(x)), [sq])
    check_function_matches_eager(lambda x: tf.linalg.expm(x), [sq])
    check_function_matches_eager(lambda x, b: tf.linalg.lstsq(x, b), [a, _r(2, 4, 2)])
    check_function_matches_eager(lambda x: tf.linalg.matrix_rank(x), [a])

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            s = tf.linalg.svd(x)[0]
            y = tf.reduce_sum(s) + tf.reduce_sum(tf.linalg.expm(x[..., :3, :]))
        return tape.gradient(y, x)
    x = tf.constant(a)
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.linalg.svd(x)[0]
        y = tf.reduce_sum(s) + tf.reduce_sum(tf.linalg.expm(x[..., :3, :]))
    np.testing.assert_allclose(step(x).numpy(), tape.gradient(y, x).numpy(), rtol=1e-10)
    # a second input of the same signature: expm's squarings are not baked in
    big = tf.constant(40 * a)
    np.testing.assert_allclose(tf.function(tf.linalg.expm)(big[..., :3, :]).numpy(),
                               _np_expm(40 * a[..., :3, :]), rtol=1e-8)
