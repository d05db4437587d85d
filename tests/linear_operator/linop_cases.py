"""One well-conditioned example of every LinearOperator class, with the dense matrix
it stands for computed independently in NumPy.

A case builds its operator from Tensors (so gradients and tf.function can be
checked with respect to the parameters) and names the properties a test needs:
whether the operator is square and invertible, self-adjoint, positive definite.
"""

import dataclasses

import numpy as np
import scipy.linalg

import dlframe as tf

L = tf.linalg
RNG = np.random.default_rng(1234)


def _well_conditioned(*shape):
    n = shape[-1]
    return RNG.standard_normal(shape) + 3.0 * np.eye(n)


def _spd(*shape):
    a = RNG.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _block(rows, sizes_r, sizes_c):
    batch = np.broadcast_shapes(*(b.shape[:-2] for row in rows for b in row
                                  if b is not None))
    out = np.zeros(batch + (sum(sizes_r), sum(sizes_c)))
    r0 = 0
    for i, row in enumerate(rows):
        c0 = 0
        for j, blk in enumerate(row):
            if blk is not None:
                out[..., r0:r0 + sizes_r[i], c0:c0 + sizes_c[j]] = blk
            c0 += sizes_c[j]
        r0 += sizes_r[i]
    return out


def _kron(a, b):
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    flat = [np.kron(x, y) for x, y in zip(a.reshape((-1,) + a.shape[-2:]),
                                          b.reshape((-1,) + b.shape[-2:]))]
    return np.stack(flat).reshape(batch + flat[0].shape)


def _circulant_dense(spectrum, axes=1):
    """Columns ``F^-1 (spectrum * F e_j)`` with an ``axes``-D DFT."""
    block = spectrum.shape[-axes:]
    n = int(np.prod(block))
    basis = np.eye(n).reshape((n,) + block)
    fft_axes = tuple(range(-axes, 0))
    cols = np.fft.ifftn(spectrum[(Ellipsis, None) + (slice(None),) * axes] *
                        np.fft.fftn(basis, axes=fft_axes), axes=fft_axes)
    return np.swapaxes(cols.reshape(spectrum.shape[:-axes] + (n, n)), -1, -2)


def _toeplitz(col, row):
    batch = np.broadcast_shapes(col.shape[:-1], row.shape[:-1])
    col = np.broadcast_to(col, batch + col.shape[-1:]).reshape(-1, col.shape[-1])
    row = np.broadcast_to(row, batch + row.shape[-1:]).reshape(-1, row.shape[-1])
    mats = [scipy.linalg.toeplitz(c, np.concatenate([c[:1], r[1:]]))
            for c, r in zip(col, row)]
    return np.stack(mats).reshape(batch + mats[0].shape)


def _tridiag(diagonals):
    sup, mid, sub = diagonals[..., 0, :], diagonals[..., 1, :], diagonals[..., 2, :]
    n = mid.shape[-1]
    out = np.zeros(mid.shape + (n,))
    idx = np.arange(n)
    out[..., idx, idx] = mid
    out[..., idx[:-1], idx[1:]] = sup[..., :-1]
    out[..., idx[1:], idx[:-1]] = sub[..., 1:]
    return out


@dataclasses.dataclass
class Case:
    name: str
    build: object          # (*Tensors) -> LinearOperator
    dense: object          # (*arrays) -> NumPy matrix
    params: list           # NumPy parameters (float64 or complex128)
    solvable: bool = True  # square and well conditioned
    self_adjoint: bool = False
    positive_definite: bool = False
    grad: bool = True      # has float parameters to differentiate

    def __repr__(self):
        return self.name


def _householder_dense(v):
    vv = v[..., :, None] * np.conj(v[..., None, :])
    return np.eye(v.shape[-1]) - 2 * vv / np.sum(np.abs(v) ** 2, -1)[..., None, None]


A33 = _well_conditioned(2, 3, 3)
A22 = _well_conditioned(2, 2)
B33 = _well_conditioned(2, 3, 3)
D3 = 1.0 + RNG.random((2, 3))
D4 = 1.0 + RNG.random(4)
U42 = RNG.standard_normal((4, 2)) * 0.5
V42 = RNG.standard_normal((2, 4, 2)) * 0.5
REAL_KERNEL = RNG.standard_normal((2, 5)) + np.array([4.0, 0, 0, 0, 0])
COMPLEX_SPECTRUM = (RNG.standard_normal((2, 4)) + 1j * RNG.standard_normal((2, 4))
                    + 3.0)
SPECTRUM_2D = (RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3)) + 3.0)
SPECTRUM_3D = (RNG.standard_normal((2, 2, 2)) + 1j * RNG.standard_normal((2, 2, 2))
               + 3.0)
TRIDIAG = RNG.standard_normal((2, 3, 4)) + np.array([0.0, 4.0, 0.0])[:, None]
PERM = np.array([[2, 0, 3, 1], [1, 0, 2, 3]])
BLT = [_well_conditioned(2, 2), RNG.standard_normal((2, 3, 2)), 1.0 + RNG.random(3)]
COMPLEX_A = (RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
             + 3.0 * np.eye(3))


CASES = [
    Case("full_matrix", lambda m: L.LinearOperatorFullMatrix(m), lambda m: m, [A33]),
    Case("full_matrix_complex", lambda m: L.LinearOperatorFullMatrix(m), lambda m: m,
         [COMPLEX_A], grad=False),
    Case("full_matrix_spd", lambda m: L.LinearOperatorFullMatrix(
        m, is_self_adjoint=True, is_positive_definite=True), lambda m: m,
        [_spd(2, 3, 3)], self_adjoint=True, positive_definite=True, grad=False),
    Case("full_matrix_nonsquare", lambda m: L.LinearOperatorFullMatrix(m), lambda m: m,
         [RNG.standard_normal((2, 4, 3))], solvable=False),
    Case("diag", lambda d: L.LinearOperatorDiag(d, is_positive_definite=True),
         lambda d: np.apply_along_axis(np.diag, -1, d), [D3], self_adjoint=True,
         positive_definite=True),
    Case("identity", lambda: L.LinearOperatorIdentity(3, batch_shape=[2],
                                                      dtype=tf.float64),
         lambda: np.broadcast_to(np.eye(3), (2, 3, 3)), [], self_adjoint=True,
         positive_definite=True, grad=False),
    Case("scaled_identity", lambda c: L.LinearOperatorScaledIdentity(
        3, c, is_positive_definite=True), lambda c: c[:, None, None] * np.eye(3),
        [np.array([1.5, 2.5])], self_adjoint=True, positive_definite=True),
    Case("lower_triangular", lambda t: L.LinearOperatorLowerTriangular(t),
         lambda t: np.tril(t), [A33]),
    Case("composition", lambda m, d: L.LinearOperatorComposition(
        [L.LinearOperatorFullMatrix(m), L.LinearOperatorDiag(d)]),
        lambda m, d: m @ np.apply_along_axis(np.diag, -1, d), [A33, D3]),
    Case("block_diag", lambda m, d: L.LinearOperatorBlockDiag(
        [L.LinearOperatorFullMatrix(m), L.LinearOperatorDiag(d)]),
        lambda m, d: _block([[m, None], [None, np.diag(d)]], [2, 4], [2, 4]),
        [np.stack([A22, A22.T]), D4]),
    Case("kronecker", lambda a, b: L.LinearOperatorKronecker(
        [L.LinearOperatorFullMatrix(a), L.LinearOperatorFullMatrix(b)]),
        lambda a, b: _kron(a, b), [A22, B33]),
    Case("kronecker_nonsquare", lambda a, b: L.LinearOperatorKronecker(
        [L.LinearOperatorFullMatrix(a), L.LinearOperatorFullMatrix(b)]),
        lambda a, b: _kron(a, b), [RNG.standard_normal((2, 3)),
                                   RNG.standard_normal((2, 2))], solvable=False),
    Case("low_rank_update_spd", lambda d, uu, du: L.LinearOperatorLowRankUpdate(
        L.LinearOperatorDiag(d, is_positive_definite=True), uu, diag_update=du,
        is_diag_update_positive=True),
        lambda d, uu, du: np.diag(d) + (uu * du) @ uu.T, [D4, U42, np.array([0.7, 1.3])],
        self_adjoint=True, positive_definite=True),
    Case("low_rank_update_uv", lambda m, uu, vv: L.LinearOperatorLowRankUpdate(
        L.LinearOperatorFullMatrix(m), uu, v=vv),
        lambda m, uu, vv: m + uu @ np.swapaxes(vv, -1, -2),
        [_well_conditioned(4, 4), U42, V42]),
    Case("inversion", lambda m: L.LinearOperatorInversion(
        L.LinearOperatorFullMatrix(m)), lambda m: np.linalg.inv(m), [A33]),
    Case("adjoint", lambda m: L.LinearOperatorAdjoint(L.LinearOperatorFullMatrix(m)),
         lambda m: np.conj(np.swapaxes(m, -1, -2)), [COMPLEX_A], grad=False),
    Case("adjoint_real", lambda m: L.LinearOperatorAdjoint(
        L.LinearOperatorFullMatrix(m)), lambda m: np.swapaxes(m, -1, -2), [A33]),
    Case("circulant_complex", lambda s: L.LinearOperatorCirculant(
        s, input_output_dtype=tf.complex128), _circulant_dense, [COMPLEX_SPECTRUM],
        grad=False),
    Case("circulant_real", lambda s: L.LinearOperatorCirculant(
        s, input_output_dtype=tf.float64),
        lambda s: np.real(_circulant_dense(s)), [np.real(np.fft.fft(REAL_KERNEL))],
        self_adjoint=True),
    Case("circulant_2d", lambda s: L.LinearOperatorCirculant2D(
        s, input_output_dtype=tf.complex128), lambda s: _circulant_dense(s, 2),
        [SPECTRUM_2D], grad=False),
    Case("circulant_3d", lambda s: L.LinearOperatorCirculant3D(
        s, input_output_dtype=tf.complex128), lambda s: _circulant_dense(s, 3),
        [SPECTRUM_3D], grad=False),
    Case("toeplitz", lambda c, r: L.LinearOperatorToeplitz(c, r), _toeplitz,
         [RNG.standard_normal((2, 4)) + np.array([4.0, 0, 0, 0]),
          RNG.standard_normal(4)]),
    Case("householder", lambda v: L.LinearOperatorHouseholder(v), _householder_dense,
         [RNG.standard_normal((2, 3))], self_adjoint=True),
    Case("permutation", lambda: L.LinearOperatorPermutation(PERM, dtype=tf.float64),
         lambda: np.stack([np.eye(4)[p] for p in PERM]), [], grad=False),
    Case("tridiag", lambda d: L.LinearOperatorTridiag(d), _tridiag, [TRIDIAG]),
    Case("zeros", lambda: L.LinearOperatorZeros(3, batch_shape=[2], dtype=tf.float64),
         lambda: np.zeros((2, 3, 3)), [], solvable=False, self_adjoint=True,
         grad=False),
    Case("block_lower_triangular", lambda a, b, d: L.LinearOperatorBlockLowerTriangular(
        [[L.LinearOperatorFullMatrix(a)],
         [L.LinearOperatorFullMatrix(b), L.LinearOperatorDiag(d)]]),
        lambda a, b, d: _block([[a, None], [b, np.diag(d)]], [2, 3], [2, 3]), BLT),
]
