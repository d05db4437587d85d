"""Triangular matrices: band parts and triangular solves (``tf.linalg.band_part``,
``tf.linalg.triangular_solve``), the building blocks of the decompositions' gradients."""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import operands, t
from dlframe.ops.late_bound import reads_values
from dlframe.ops.linalg import matmul, matrix_transpose


def _shape(x):
    return tuple(x._value.shape)


def _static_int(v, arg):
    if isinstance(v, Tensor):
        v = v.numpy()
    try:
        return int(v)
    except (TypeError, ValueError):
        raise TypeError(f"`{arg}` must be an integer, got {v!r}") from None


def eye_like(x, n):
    """An ``n x n`` identity of ``x``'s dtype on ``x``'s device (a constant)."""
    return convert_to_tensor(np.eye(n, dtype=x._value.dtype), device=x._device)


# ---------------------------------------------------------------- band_part
@primitive("MatrixBandPart")
def band_part_p(d, x, *, lower, upper):
    xp = d.xp
    rows, cols = x.shape[-2:]
    offset = xp.arange(cols)[None, :] - xp.arange(rows)[:, None]  # j - i
    keep = xp.ones((rows, cols), dtype=bool)
    if lower >= 0:
        keep &= offset >= -lower
    if upper >= 0:
        keep &= offset <= upper
    return xp.where(keep, x, xp.zeros((), dtype=x.dtype))


@band_part_p.defgrad
def _band_part_grad(inputs, out, dy, *, lower, upper):
    return call(band_part_p, (dy,), {"lower": lower, "upper": upper})


@reads_values("num_lower", "num_upper")
def band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Keeps a central band of each innermost matrix and zeroes everything else.

    Entry ``[..., i, j]`` is kept when ``(num_lower < 0 or i - j <= num_lower)`` and
    ``(num_upper < 0 or j - i <= num_upper)``: ``band_part(x, -1, 0)`` is the lower
    triangle, ``band_part(x, 0, -1)`` the upper one, ``band_part(x, 0, 0)`` the diagonal.

    Args:
      input: a tensor of rank >= 2.
      num_lower: number of subdiagonals to keep (negative: all of them).
      num_upper: number of superdiagonals to keep (negative: all of them).

    Returns:
      A tensor like ``input``.
    """
    x = t(input)
    if x._value.ndim < 2:
        raise InvalidArgumentError(f"MatrixBandPart: input must be at least rank 2, got "
                                   f"shape {list(_shape(x))} [Op:MatrixBandPart]")
    lower, upper = _static_int(num_lower, "num_lower"), _static_int(num_upper, "num_upper")
    rows, cols = _shape(x)[-2:]
    if lower > rows or upper > cols:
        raise InvalidArgumentError(
            f"MatrixBandPart: num_lower must be negative or less or equal to number of "
            f"rows ({rows}) got: {lower}; num_upper must be negative or less or equal "
            f"to number of columns ({cols}) got: {upper} [Op:MatrixBandPart]")
    return call(band_part_p, (x,), {"lower": lower, "upper": upper})


def tril(x):
    """Lower triangle (with the diagonal) of the innermost matrices."""
    return call(band_part_p, (x,), {"lower": -1, "upper": 0})


def triu(x):
    """Upper triangle (with the diagonal) of the innermost matrices."""
    return call(band_part_p, (x,), {"lower": 0, "upper": -1})


# ---------------------------------------------------------------- triangular_solve
@primitive("MatrixTriangularSolve")
def triangular_solve_p(d, a, b, *, lower, adjoint):
    xp = d.xp
    a = xp.tril(a) if lower else xp.triu(a)  # only that triangle is read
    if adjoint:
        a = xp.conj(xp.swapaxes(a, -1, -2))
    # CuPy's solve takes no batch broadcasting (NumPy's does): broadcast explicitly
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    try:
        with d.linalg_raises():
            return xp.linalg.solve(a, b).astype(b.dtype, copy=False)
    except np.linalg.LinAlgError:  # CuPy raises NumPy's class too
        # TF checks no pivot here (its CPU and GPU kernels alike): a zero on the
        # diagonal gives inf/NaN, never an error
        return _substituted(xp, a, b, lower != adjoint).astype(b.dtype, copy=False)


def _substituted(xp, a, b, lower):
    """``a^-1 b`` for triangular ``a`` by row-by-row substitution (forward for a
    lower ``a``), dividing by a zero pivot as IEEE arithmetic does."""
    n = a.shape[-1]
    x = xp.zeros(b.shape, dtype=a.dtype)   # (the wrapper checks b has it too)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(n) if lower else range(n - 1, -1, -1):
            solved = slice(0, i) if lower else slice(i + 1, n)
            known = xp.matmul(a[..., i:i + 1, solved], x[..., solved, :])[..., 0, :]
            x[..., i, :] = (b[..., i, :] - known) / a[..., i, i, None]
    return x


@triangular_solve_p.defgrad
def _triangular_solve_grad(inputs, x, dx, *, lower, adjoint):
    # x = T^-1 b with T = tri(a) or tri(a)^H: db = T^-H dx, dT = -db x^H.
    a, _ = inputs
    db = call(triangular_solve_p, (a, dx), {"lower": lower, "adjoint": not adjoint})
    if adjoint:
        da = m.negative(matmul(x, matrix_transpose(db, conjugate=True)))
    else:
        da = m.negative(matmul(db, matrix_transpose(x, conjugate=True)))
    return (tril(da) if lower else triu(da)), db


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """Solves ``matrix @ x = rhs`` for triangular ``matrix``.

    Only the lower (``lower=True``) or upper triangle of ``matrix`` is read.

    Args:
      matrix: a ``[..., M, M]`` float or complex tensor.
      rhs: a ``[..., M, K]`` tensor of the same dtype; the batch dimensions broadcast
        against ``matrix``'s.
      lower: whether ``matrix`` is lower (True) or upper (False) triangular.
      adjoint: solve with the adjoint of ``matrix`` instead.

    Returns:
      ``x`` of shape ``[..., M, K]``.
    """
    a, b = operands(matrix, rhs, "MatrixTriangularSolve")
    m._check("MatrixTriangularSolve", a, "fc")
    sa, sb = _shape(a), _shape(b)
    if len(sa) < 2 or sa[-1] != sa[-2]:
        raise InvalidArgumentError(f"MatrixTriangularSolve: Input matrix must be square, "
                                   f"got shape {list(sa)} [Op:MatrixTriangularSolve]")
    if len(sb) < 2 or sb[-2] != sa[-1]:
        raise InvalidArgumentError(
            f"MatrixTriangularSolve: Input matrix and right-hand side must have matching "
            f"rows, got {list(sa)} and {list(sb)} [Op:MatrixTriangularSolve]")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise InvalidArgumentError(
            f"MatrixTriangularSolve: Incompatible batch shapes {list(sa[:-2])} and "
            f"{list(sb[:-2])} [Op:MatrixTriangularSolve]") from None
    return call(triangular_solve_p, (a, b), {"lower": bool(lower), "adjoint": bool(adjoint)})


LINALG_NAMES = ["band_part", "triangular_solve"]
