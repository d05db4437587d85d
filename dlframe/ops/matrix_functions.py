"""Matrix functions and structured solvers of ``tf.linalg``.

Everything here is a composition of the linalg primitives (matmul, inv, solve,
triangular_solve, eigh, gather), so gradients, second derivatives and tracing come
from those:

- ``sqrtm`` (``tf.matrix_square_root``): the scaled Denman-Beavers iteration, a
  fixed number of steps (quadratic convergence); the scaling factors are constants
  for differentiation (they tend to 1).
- ``logm`` (complex only, as in TF): inverse scaling and squaring, ``2^k`` times
  the log of the ``k``-th square root by the ``atanh`` series.
- ``lu_solve`` / ``lu_reconstruct`` / ``lu_matrix_inverse`` over ``tf.linalg.lu``'s
  packed factors: ``A[perm] = L @ U``.
- ``tridiagonal_solve`` / ``tridiagonal_matmul`` / ``banded_triangular_solve`` /
  ``eigh_tridiagonal`` build the dense matrix and use the dense kernels (``O(M^3)``
  rather than TF's banded ``O(M)`` algorithms; results are the same).
- ``tensor_diag`` / ``tensor_diag_part``.
"""

from dlframe.backends.base import np  # host-side selection of eigenvalue ranges
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops._util import t
from dlframe.ops.array_meta import stop_gradient
from dlframe.ops.creation import eye
from dlframe.ops.linalg_decomp import eigh
from dlframe.ops.linalg_diag import diag, diag_part
from dlframe.ops.linalg_triangular import band_part, triangular_solve
from dlframe.ops.sorting import argsort

_SQRT_STEPS = 30
_LOG_ROOTS = 5
_LOG_TERMS = 12


def _square(x, op):
    x = t(x)
    if x.ndim < 2 or int(x.shape[-1]) != int(x.shape[-2]):
        raise InvalidArgumentError(f"{op}: input must be a square matrix (or a batch of "
                                   f"them); received shape {list(x.shape)}")
    return x


def _eye_like(x):
    n = int(x.shape[-1])
    return _array.broadcast_to(eye(n, dtype=x.dtype), list(x.shape))


# ---------------------------------------------------------------- sqrtm / logm
def sqrtm(input, name=None):
    """The principal square root ``X`` of each matrix (``X @ X = input``).

    Args:
      input: ``[..., M, M]`` float or complex matrices with no eigenvalues on the
        closed negative real axis.
      name: unused.

    Returns:
      ``[..., M, M]``, differentiable.
    """
    a = _square(input, "MatrixSquareRoot")
    if not (a.dtype.is_floating or a.dtype.is_complex):
        raise InvalidArgumentError(f"MatrixSquareRoot: input must be float or complex; "
                                   f"received {a.dtype.name}")
    n = int(a.shape[-1])
    if n == 0:
        return a
    y, z = a, _eye_like(a)
    for _ in range(_SQRT_STEPS):
        y_inv, z_inv = _linalg.inv(y), _linalg.inv(z)
        det = _math.abs(_math.multiply(_linalg.det(y), _linalg.det(z)))
        mu = stop_gradient(_math.pow(det, -1.0 / (2 * n)))
        mu = _math.cast(mu, a.dtype)[..., None, None]
        y, z = (_math.multiply(_math.add(_math.multiply(mu, y), _math.divide(z_inv, mu)),
                               0.5),
                _math.multiply(_math.add(_math.multiply(mu, z), _math.divide(y_inv, mu)),
                               0.5))
    return y


matrix_square_root = sqrtm


def logm(input, name=None):
    """The principal matrix logarithm of complex matrices (``expm(logm(A)) = A``).

    Args:
      input: ``[..., M, M]`` complex64 or complex128 matrices with no eigenvalues on
        the closed negative real axis.
      name: unused.

    Raises:
      InvalidArgumentError: for a real input (TF's kernel is complex only).
    """
    a = _square(input, "MatrixLogarithm")
    if not a.dtype.is_complex:
        raise InvalidArgumentError(f"Value for attr 'T' of {a.dtype.name} is not in the "
                                   "list of allowed values: complex64, complex128 "
                                   "[Op:MatrixLogarithm]")
    root = a
    for _ in range(_LOG_ROOTS):
        root = sqrtm(root)
    eye = _eye_like(a)
    # log(R) = 2 atanh(Z) = 2 (Z + Z^3/3 + Z^5/5 + ...), Z = (R - I)(R + I)^-1
    z = _linalg.matmul(_math.subtract(root, eye), _linalg.inv(_math.add(root, eye)))
    z2 = _linalg.matmul(z, z)
    power, total = z, z
    for j in range(3, 2 * _LOG_TERMS + 1, 2):
        power = _linalg.matmul(power, z2)
        total = _math.add(total, _math.multiply(power, 1.0 / j))
    return _math.multiply(total, float(2 ** (_LOG_ROOTS + 1)))


# ---------------------------------------------------------------- LU helpers
def _lu_factors(lower_upper):
    lu = _square(lower_upper, "lu")
    lower = _math.add(band_part(lu, -1, 0),
                      _math.subtract(_eye_like(lu), band_part(lu, 0, 0)))
    return lu, lower, band_part(lu, 0, -1)


def _batch_dims(perm):
    return t(perm).ndim - 1


def lu_reconstruct(lower_upper, perm, validate_args=False, name=None):
    """The matrix ``A`` whose ``tf.linalg.lu`` is ``(lower_upper, perm)``.

    Args:
      lower_upper: ``[..., M, M]`` packed factors (unit-diagonal ``L`` below the
        diagonal, ``U`` on and above it).
      perm: ``[..., M]`` int permutation with ``A[perm] = L @ U``.
      validate_args: unused (shapes are always checked).
      name: unused.
    """
    _, lower, upper = _lu_factors(lower_upper)
    p = t(perm)
    inverse = argsort(p, axis=-1)   # the inverse permutation
    return _index.gather(_linalg.matmul(lower, upper), inverse, axis=p.ndim - 1,
                         batch_dims=_batch_dims(p))


def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None):
    """Solves ``A @ X = rhs`` given ``(lower_upper, perm) = tf.linalg.lu(A)``.

    Args:
      lower_upper: ``[..., M, M]`` packed LU factors.
      perm: ``[..., M]`` the row permutation.
      rhs: ``[..., M, K]`` right-hand sides.
      validate_args: unused.
      name: unused.
    """
    _, lower, upper = _lu_factors(lower_upper)
    p = t(perm)
    b = _index.gather(t(rhs), p, axis=p.ndim - 1, batch_dims=_batch_dims(p))
    y = triangular_solve(lower, b, lower=True)
    return triangular_solve(upper, y, lower=False)


def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None):
    """The inverse of ``A`` from its packed LU factors (see ``lu_solve``)."""
    lu = _square(lower_upper, "lu_matrix_inverse")
    return lu_solve(lu, perm, _eye_like(lu))


# ---------------------------------------------------------------- tridiagonal / banded
def _tridiagonal_matrix(diagonals, diagonals_format, op):
    if diagonals_format == "matrix":
        return _square(diagonals, op)
    if diagonals_format == "sequence":
        if not isinstance(diagonals, (list, tuple)) or len(diagonals) != 3:
            raise ValueError(f"{op}: diagonals_format='sequence' needs (superdiag, "
                             f"maindiag, subdiag); received {diagonals!r}")
        sup, main, sub = (t(d) for d in diagonals)
    elif diagonals_format == "compact":
        d = t(diagonals)
        if d.ndim < 2 or int(d.shape[-2]) != 3:
            raise ValueError(f"{op}: compact diagonals must have shape [..., 3, M]; "
                             f"received {list(d.shape)}")
        sup, main, sub = d[..., 0, :], d[..., 1, :], d[..., 2, :]
    else:
        raise ValueError(f"{op}: unrecognized diagonals_format {diagonals_format!r}; "
                         "expected 'compact', 'sequence' or 'matrix'")
    m = int(main.shape[-1])
    # superdiag[..., -1] and subdiag[..., 0] are ignored, as in TF
    return _math.add(diag(main),
                     _math.add(diag(sup[..., :m - 1], k=1),
                               diag(sub[..., 1:], k=-1)))


def tridiagonal_solve(diagonals, rhs, diagonals_format="compact", transpose_rhs=False,
                      conjugate_rhs=False, name=None, partial_pivoting=True,
                      perturb_singular=False):
    """Solves tridiagonal systems ``A @ X = rhs``.

    Args:
      diagonals: ``[..., 3, M]`` (``"compact"``: superdiagonal, diagonal,
        subdiagonal; the superdiagonal's last and the subdiagonal's first entries
        are ignored), a tuple of three ``[..., M]`` (``"sequence"``) or ``[..., M,
        M]`` (``"matrix"``).
      rhs: ``[..., M, K]`` or ``[..., M]``.
      diagonals_format: ``"compact"``, ``"sequence"`` or ``"matrix"``.
      transpose_rhs: ``rhs`` is given as ``[..., K, M]``.
      conjugate_rhs: conjugate ``rhs`` first.
      name: unused.
      partial_pivoting: unused (the dense solve pivots).
      perturb_singular: not supported (a singular system raises).
    """
    if perturb_singular:
        raise NotImplementedError("tridiagonal_solve: perturb_singular=True is not "
                                  "supported")
    a = _tridiagonal_matrix(diagonals, diagonals_format, "tridiagonal_solve")
    b = t(rhs)
    if conjugate_rhs and b.dtype.is_complex:
        b = _math.conj(b)
    if transpose_rhs:
        b = _linalg.matrix_transpose(b)
    vector = b.ndim == a.ndim - 1
    if vector:
        b = b[..., None]
    x = _linalg.solve(a, b)
    return x[..., 0] if vector else x


def tridiagonal_matmul(diagonals, rhs, diagonals_format="compact", name=None):
    """``A @ rhs`` for tridiagonal ``A`` (see ``tridiagonal_solve`` for the
    formats); ``rhs`` is ``[..., M, N]``."""
    a = _tridiagonal_matrix(diagonals, diagonals_format, "tridiagonal_matmul")
    return _linalg.matmul(a, t(rhs))


def banded_triangular_solve(bands, rhs, lower=True, adjoint=False, name=None):
    """Solves ``A @ X = rhs`` for a banded triangular ``A``.

    Args:
      bands: ``[..., K, M]``. Lower: ``bands[..., 0, :]`` is the diagonal and row
        ``k`` the ``k``-th subdiagonal, right-aligned (``A[i, i - k] = bands[k, i]``).
        Upper: the last row is the diagonal and row ``K - 1 - k`` the ``k``-th
        superdiagonal, left-aligned (``A[i, i + k] = bands[K - 1 - k, i]``).
      rhs: ``[..., M, N]``.
      lower: the band layout and triangle.
      adjoint: solve ``adjoint(A) @ X = rhs``.
      name: unused.
    """
    bd = t(bands)
    if bd.ndim < 2:
        raise ValueError(f"banded_triangular_solve: bands must be [..., K, M]; "
                         f"received {list(bd.shape)}")
    k, m = int(bd.shape[-2]), int(bd.shape[-1])
    if k > m:
        raise ValueError(f"banded_triangular_solve: {k} bands for {m}x{m} matrices")
    a = None
    for j in range(k):
        if lower:
            term = diag(bd[..., j, j:], k=-j) if j else diag(bd[..., 0, :])
        else:
            row = bd[..., k - 1 - j, :m - j]
            term = diag(row, k=j) if j else diag(row)
        a = term if a is None else _math.add(a, term)
    return triangular_solve(a, t(rhs), lower=lower, adjoint=adjoint)


def eigh_tridiagonal(alpha, beta, eigvals_only=True, select="a", select_range=None,
                     tol=None, name=None):
    """Eigenvalues (and vectors) of the Hermitian tridiagonal matrix with diagonal
    ``alpha`` and off-diagonal ``beta``.

    Args:
      alpha: ``[n]`` real diagonal.
      beta: ``[n - 1]`` off-diagonal (complex allowed: the subdiagonal is its
        conjugate).
      eigvals_only: return only the eigenvalues.
      select: ``"a"`` all, ``"v"`` those in ``(lo, hi]`` of ``select_range``, ``"i"``
        the ``lo``-th to ``hi``-th smallest (inclusive).
      select_range: ``(lo, hi)`` for ``"v"`` and ``"i"``.
      tol: unused (the dense solver is exact to rounding).
      name: unused.

    Returns:
      Ascending eigenvalues ``[k]``, or ``(eigenvalues, eigenvectors [n, k])``.
    """
    a, b = t(alpha), t(beta)
    if a.ndim != 1 or b.ndim != 1 or int(b.shape[0]) != max(int(a.shape[0]) - 1, 0):
        raise ValueError(f"eigh_tridiagonal: alpha must be [n] and beta [n - 1]; "
                         f"received {list(a.shape)} and {list(b.shape)}")
    if select not in ("a", "v", "i"):
        raise ValueError(f"select must be one of 'a', 'v', 'i'; received {select!r}")
    if b.dtype.is_complex:
        a = _math.cast(a, b.dtype)
        sub = _math.conj(b)
    else:
        sub = b
    matrix = _math.add(diag(a), _math.add(diag(b, k=1),
                                                  diag(sub, k=-1)))
    values, vectors = eigh(matrix)
    if select != "a":
        if select_range is None or len(select_range) != 2:
            raise ValueError(f"select_range must be (lo, hi) for select={select!r}; "
                             f"received {select_range!r}")
        lo, hi = select_range
        if select == "i":
            keep = np.arange(int(lo), int(hi) + 1)
        else:
            host = values.numpy()
            keep = np.flatnonzero((host > float(lo)) & (host <= float(hi)))
        keep = keep.astype(np.int32)
        values = _index.gather(values, keep)
        vectors = _index.gather(vectors, keep, axis=1)
    return values if eigvals_only else (values, vectors)


# ---------------------------------------------------------------- tensor diagonals
def tensor_diag(diagonal, name=None):
    """A rank-``2k`` tensor with ``diagonal`` (rank ``k``) on its diagonal:
    ``out[i1..ik, i1..ik] = diagonal[i1..ik]``, zero elsewhere."""
    d = t(diagonal)
    shape = [int(s) for s in d.shape]
    if not shape:
        raise InvalidArgumentError("tensor_diag: Input must be at least rank 1, got 0")
    flat = diag(_array.reshape(d, [-1]))
    return _array.reshape(flat, shape + shape)


def tensor_diag_part(input, name=None):
    """The diagonal of a rank-``2k`` tensor whose shape is ``D + D`` (inverse of
    ``tensor_diag``)."""
    x = t(input)
    shape = [int(s) for s in x.shape]
    k = len(shape) // 2
    if len(shape) % 2 or shape[:k] != shape[k:]:
        raise InvalidArgumentError(f"The input of tensor_diag_part must have an even rank "
                                   f"and shape D + D; received shape {shape}")
    size = int(np.prod(shape[:k], dtype=np.int64))
    return _array.reshape(diag_part(_array.reshape(x, [size, size])), shape[:k])


LINALG_NAMES = ["sqrtm", "logm", "lu_solve", "lu_reconstruct", "lu_matrix_inverse",
                "tridiagonal_solve", "tridiagonal_matmul", "banded_triangular_solve",
                "eigh_tridiagonal", "tensor_diag", "tensor_diag_part"]
__all__ = ["matrix_square_root"]
