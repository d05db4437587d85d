"""Linear algebra built on the decompositions: cholesky_solve, lstsq, pinv,
matrix_rank, expm, cross and normalize.

Most are composites of differentiable ops (no gradient rules of their own,
DESIGN.md §4); ``expm`` is a primitive because its number of squarings depends on
the values, which a traced graph must not bake in.
"""

import math as _pymath

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import operands, t
from dlframe.ops.linalg import _array, _reduction, _shape, matmul, matrix_transpose, norm
from dlframe.ops.linalg_decomp import cholesky, svd
from dlframe.ops.linalg_triangular import eye_like, triangular_solve
from dlframe.ops.nn_impl import l2_normalize  # noqa: F401 - tf.linalg.l2_normalize


def _matrix(x, op):
    m._check(op, x, "fc")
    if x._value.ndim < 2:
        raise InvalidArgumentError(f"{op}: Input must have rank >= 2, got shape "
                                   f"{list(_shape(x))} [Op:{op}]")


def _eps(x):
    return float(np.finfo(x._value.real.dtype).eps)


# ---------------------------------------------------------------- solves
def cholesky_solve(chol, rhs, name=None):
    """Solves ``A @ x = rhs`` given the Cholesky factor ``chol`` of ``A``.

    Args:
      chol: ``[..., M, M]`` lower-triangular factors (``A = chol @ adjoint(chol)``),
        e.g. from ``tf.linalg.cholesky``.
      rhs: ``[..., M, K]`` right-hand sides.

    Returns:
      ``x`` of shape ``[..., M, K]``.
    """
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve(chol, y, lower=True, adjoint=True)


@primitive("MatrixSolveLs")
def _min_norm_solve_p(d, a, b):
    xp = d.xp
    return d.matmul(xp.linalg.pinv(a), b).astype(b.dtype, copy=False)


@_min_norm_solve_p.defgrad
def _min_norm_solve_grad(inputs, out, dy):
    raise ValueError("Gradient not defined for fast=False")


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solutions of ``matrix @ x = rhs``.

    Args:
      matrix: ``[..., M, N]`` float or complex matrices.
      rhs: ``[..., M, K]`` right-hand sides of the same dtype.
      l2_regularizer: a scalar ``l >= 0``; with ``fast`` it minimizes
        ``|matrix @ x - rhs|^2 + l |x|^2``.
      fast: solve the regularized normal equations through a Cholesky factorization
        (``(A^H A + l I) x = A^H b`` for ``M >= N``, else ``x = A^H (A A^H + l I)^-1 b``;
        differentiable). ``False`` returns the minimum-norm solution via the
        pseudo-inverse, robust for rank-deficient matrices, ignoring
        ``l2_regularizer`` and without a gradient, as in TF.

    Returns:
      ``x`` of shape ``[..., N, K]``.
    """
    a, b = operands(matrix, rhs, "MatrixSolveLs")
    _matrix(a, "MatrixSolveLs")
    sa, sb = _shape(a), _shape(b)
    if len(sb) < 2 or sb[-2] != sa[-2]:
        raise InvalidArgumentError(f"MatrixSolveLs: matrix and rhs must have the same "
                                   f"number of rows, got shapes {list(sa)} and {list(sb)}")
    if not fast:
        return call(_min_norm_solve_p, (a, b))
    rows, cols = sa[-2:]
    reg = m.multiply(eye_like(a, min(rows, cols)), m.cast(l2_regularizer, a.dtype))
    if rows >= cols:
        gram = m.add(matmul(a, a, adjoint_a=True), reg)
        return cholesky_solve(cholesky(gram), matmul(a, b, adjoint_a=True))
    gram = m.add(matmul(a, a, adjoint_b=True), reg)
    return matmul(a, cholesky_solve(cholesky(gram), b), adjoint_a=True)


def pinv(a, rcond=None, validate_args=False, name=None):
    """Moore-Penrose pseudo-inverse from the singular value decomposition.

    Args:
      a: ``[..., M, N]`` float or complex matrices.
      rcond: singular values ``<= rcond * max(s)`` count as zero. Default
        ``10 * max(M, N) * eps``.

    Returns:
      ``[..., N, M]`` pseudo-inverses.
    """
    x = t(a)
    _matrix(x, "Pinv")
    rows, cols = _shape(x)[-2:]
    if rcond is None:
        rcond = 10.0 * max(rows, cols) * _eps(x)
    arr = _array()
    s, u, v = svd(x)
    cutoff = m.multiply(_reduction().reduce_max(s, axis=-1, keepdims=True),
                        m.cast(rcond, s.dtype))
    keep = m.greater(s, cutoff)
    s_inv = m.where(keep, m.reciprocal(m.where(keep, s, m.ones_like(s))), m.zeros_like(s))
    s_inv = m.cast(s_inv, x.dtype) if x._value.dtype.kind == "c" else s_inv
    return matmul(m.multiply(v, arr.expand_dims(s_inv, -2)), u, adjoint_b=True)


def matrix_rank(a, tol=None, validate_args=False, name=None):
    """Number of singular values above ``tol`` (int32, per matrix).

    Args:
      a: ``[..., M, N]`` float or complex matrices.
      tol: the threshold; default ``eps * max(M, N) * max(s)``.
    """
    x = t(a)
    _matrix(x, "MatrixRank")
    s = svd(x, compute_uv=False)
    red = _reduction()
    if tol is None:
        tol = m.multiply(red.reduce_max(s, axis=-1, keepdims=True),
                         _eps(x) * max(_shape(x)[-2:]))
    else:
        tol = m.cast(tol, s.dtype)
    return red.reduce_sum(m.cast(m.greater(s, tol), dtypes.int32), axis=-1)


# ---------------------------------------------------------------- expm
_PADE_ORDER = 13
_THETA_13 = 5.371920351148152  # largest 1-norm for which Pade [13/13] is exact in float64
# Pade [13/13] numerator coefficients (2m - j)! m! / ((2m)! j! (m - j)!)
_PADE = [_pymath.factorial(2 * _PADE_ORDER - j) * _pymath.factorial(_PADE_ORDER)
         / (_pymath.factorial(2 * _PADE_ORDER) * _pymath.factorial(j)
            * _pymath.factorial(_PADE_ORDER - j)) for j in range(_PADE_ORDER + 1)]


@primitive("MatrixExponential")
def expm_p(d, x):
    # scaling and squaring: exp(A) = exp(A / 2^s)^(2^s), with s per matrix so that
    # A / 2^s is within Pade [13/13]'s accurate range.
    xp = d.xp
    b = _PADE
    norm1 = xp.abs(x).sum(axis=-2).max(axis=-1).astype(xp.float64) if x.shape[-1] \
        else xp.zeros(x.shape[:-2])
    norm1 = xp.where(xp.isfinite(norm1), norm1, 0.0)  # nan/inf propagate by themselves
    squarings = xp.ceil(xp.log2(xp.maximum(norm1, 1e-300) / _THETA_13))
    squarings = xp.clip(squarings, 0, 1100).astype(xp.int64)
    scaled = x / (2.0 ** squarings).astype(x.real.dtype)[..., None, None]
    ident = xp.eye(x.shape[-1], dtype=x.dtype)
    mm = d.matmul
    a2 = mm(scaled, scaled)
    a4 = mm(a2, a2)
    a6 = mm(a4, a2)
    u = mm(scaled, mm(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
           + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = mm(a6, b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 \
        + b[2] * a2 + b[0] * ident
    out = xp.linalg.solve(v - u, v + u)
    for i in range(int(squarings.max()) if squarings.size else 0):
        out = xp.where((squarings > i)[..., None, None], mm(out, out), out)
    return out.astype(x.dtype, copy=False)


@expm_p.defgrad
def _expm_grad(inputs, out, dy):
    # The adjoint of the Frechet derivative L(A, .) is L(A^H, .), and L(X, E) is the
    # upper-right block of exp([[X, E], [0, X]]).
    arr = _array()
    ah = matrix_transpose(inputs[0], conjugate=True)
    n = _shape(ah)[-1]
    block = arr.concat([arr.concat([ah, dy], axis=-1),
                        arr.concat([m.zeros_like(ah), ah], axis=-1)], axis=-2)
    return call(expm_p, (block,))[..., :n, n:]


def expm(input, name=None):  # noqa: A002
    """Matrix exponential of one or a batch of square matrices (Pade approximation
    with scaling and squaring)."""
    x = t(input)
    _matrix(x, "MatrixExponential")
    s = _shape(x)
    if s[-1] != s[-2]:
        raise InvalidArgumentError(f"MatrixExponential: Input matrix must be square, got "
                                   f"shape {list(s)} [Op:MatrixExponential]")
    return call(expm_p, (x,))


# ---------------------------------------------------------------- vectors
def cross(a, b, name=None):
    """Pairwise cross products of 3-vectors along the last dimension.

    Args:
      a: a ``[..., 3]`` numeric tensor.
      b: a tensor of the same shape and dtype.
    """
    a, b = operands(a, b, "Cross")
    sa, sb = _shape(a), _shape(b)
    if sa != sb:
        raise InvalidArgumentError(f"Cross: Both inputs must be of same shape: {list(sa)} "
                                   f"vs. {list(sb)} [Op:Cross]")
    if not sa or sa[-1] != 3:
        raise InvalidArgumentError(f"Cross: Inner dimension of the inputs must be 3, got "
                                   f"shape {list(sa)} [Op:Cross]")
    m._check("Cross", a, "fiu")
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return _array().stack([m.subtract(m.multiply(a1, b2), m.multiply(a2, b1)),
                           m.subtract(m.multiply(a2, b0), m.multiply(a0, b2)),
                           m.subtract(m.multiply(a0, b1), m.multiply(a1, b0))], axis=-1)


def normalize(tensor, ord="euclidean", axis=None, name=None):  # noqa: A002
    """Divides ``tensor`` by its norm (see ``tf.linalg.norm`` for ``ord``/``axis``).

    Returns:
      ``(normalized, norm)``, the norm with the reduced dimensions kept.
    """
    x = t(tensor)
    size = norm(x, ord=ord, axis=axis, keepdims=True)
    size = size if size.dtype == x.dtype else m.cast(size, x.dtype)
    return m.divide(x, size), size


LINALG_NAMES = ["cholesky_solve", "cross", "expm", "l2_normalize", "lstsq",
                "matrix_rank", "normalize", "pinv"]
