"""Linear algebra: matmul (batched, transposes), tensordot, einsum, norm, inverse,
determinants, solves, diagonals and traces."""

import collections

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError, NotFoundError
from dlframe.ops import math as m
from dlframe.ops._util import operands, probing_branch, stand_in, t
from dlframe.ops.einsum import einsum
from dlframe.ops.linalg_diag import diag, diag_part, set_diag  # noqa: F401
from dlframe.ops.math_binary import first_operand_check


def _array():
    from dlframe.ops import array  # bound late: array sits beside this module
    return array


def _reduction():
    from dlframe.ops import reduction
    return reduction


def _shape(x):
    return tuple(x._value.shape)


def _is_complex(x):
    return x._value.dtype.kind == "c"


# ---------------------------------------------------------------- matmul
@primitive("MatMul")
def matmul_p(d, a, b):
    out = d.matmul(a, b)
    # NumPy multiplies bfloat16 (ml_dtypes) matrices in float32: keep TF's dtype
    return out if out.dtype == a.dtype else out.astype(a.dtype)


def _matmul_static_shape(in_dims, attrs):
    """TF's static shape of ``a @ b`` (batch dims broadcast) from the inputs' dims."""
    a, b = in_dims
    if len(a) < 2 or len(b) < 2:
        return None
    batch_a, batch_b = a[:-2], b[:-2]
    n = max(len(batch_a), len(batch_b))
    batch_a = [1] * (n - len(batch_a)) + batch_a
    batch_b = [1] * (n - len(batch_b)) + batch_b
    batch = [y if x == 1 else x if y == 1 or x == y else None
             for x, y in zip(batch_a, batch_b)]
    return batch + [a[-2], b[-1]]


matmul_p.static_shape = _matmul_static_shape


@matmul_p.defgrad
def _matmul_grad(inputs, out, dy):
    a, b = inputs
    ga = matmul(dy, b, adjoint_b=True)
    gb = matmul(a, dy, adjoint_a=True)
    return ga, gb


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Transposes the last two dimensions of ``a`` (conjugating when asked)."""
    x = t(a)
    nd = x._value.ndim
    if nd < 2:
        raise ValueError(f"Argument `a` should be a (batch) matrix with rank >= 2.  "
                         f"Received `a` = {x!r} with shape: {list(_shape(x))}")
    perm = list(range(nd - 2)) + [nd - 1, nd - 2]
    out = _array().transpose(x, perm)
    return m.conj(out) if conjugate and _is_complex(x) else out


def adjoint(matrix, name=None):
    """Conjugate transpose of the last two dimensions."""
    return matrix_transpose(matrix, conjugate=True)


def _batch_error(sa, sb):
    return InvalidArgumentError(
        f"MatMul: In[0] and In[1] must have compatible batch dimensions: {list(sa)} vs. "
        f"{list(sb)} [Op:BatchMatMulV2]")


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """Matrix product of rank >= 2 tensors with batch broadcasting.

    Args:
      a: a tensor of shape ``[..., m, k]``.
      b: a tensor of the same dtype and shape ``[..., k, n]``; the batch dimensions
        ``...`` broadcast against ``a``'s.
      transpose_a: transpose the last two dims of ``a`` first.
      transpose_b: transpose the last two dims of ``b`` first.
      adjoint_a: conjugate-transpose ``a`` first (same as transpose for real types).
      adjoint_b: conjugate-transpose ``b`` first.
      a_is_sparse: accepted for compatibility; ignored.
      b_is_sparse: accepted for compatibility; ignored.
      output_type: accepted for compatibility; ignored.

    Raises:
      InvalidArgumentError: for rank < 2, mismatched inner or batch dimensions and
        dtypes.
    """
    if not isinstance(a, Tensor):
        first_operand_check(a, b, "MatMul")   # TF converts ``a`` on its own
    a, b = operands(a, b, "MatMul")
    m._check("MatMul", a, "fciu")
    sa, sb = _shape(a), _shape(b)
    if len(sa) < 2 or len(sb) < 2:
        raise InvalidArgumentError(
            f"MatMul: In[0] and In[1] must have rank >= 2, got shapes {list(sa)} and "
            f"{list(sb)} [Op:MatMul]")
    if transpose_a and adjoint_a or transpose_b and adjoint_b:
        raise ValueError("Only one of transpose_a and adjoint_a (transpose_b and "
                         "adjoint_b) can be True.")
    if transpose_a or adjoint_a:
        a = matrix_transpose(a, conjugate=adjoint_a)
    if transpose_b or adjoint_b:
        b = matrix_transpose(b, conjugate=adjoint_b)
    sa, sb = _shape(a), _shape(b)
    if sa[-1] != sb[-2]:
        raise InvalidArgumentError(
            f"MatMul: Matrix size-incompatible: In[0]: {list(sa)}, In[1]: {list(sb)} "
            "[Op:MatMul]")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise _batch_error(sa, sb) from None
    return call(matmul_p, (a, b))


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False,
           b_is_sparse=False, name=None):
    """Matrix-vector product ``a @ b[..., None]`` squeezed back to a vector."""
    arr = _array()
    b = t(b)
    if b._value.ndim < 1:
        raise InvalidArgumentError("MatVec: `b` must have rank >= 1, got a scalar")
    out = matmul(a, arr.expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a)
    return arr.squeeze(out, axis=-1)


# ---------------------------------------------------------------- tensordot
def _tensordot_axes(axes, na, nb):
    if isinstance(axes, Tensor):
        axes = axes.numpy().tolist()
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0:
            raise ValueError(f"`axes` must be at least 0. Received: {n}.")
        if n > na or n > nb:
            raise ValueError(f"`axes` must not be larger than the number of dimensions of "
                             f"tensor. Received {n}, vs tensor dimensions {min(na, nb)}.")
        return list(range(na - n, na)), list(range(n))
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        raise ValueError(f"`axes` must be an integer or have length 2. Received {axes}.")
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    if len(a_axes) != len(b_axes):
        raise ValueError(f"Different number of contraction axes `a` and `b`, "
                         f"{len(a_axes)} != {len(b_axes)}.")
    return [int(i) % na for i in a_axes], [int(i) % nb for i in b_axes]


def tensordot(a, b, axes, name=None):
    """Sums the products of ``a`` and ``b`` over the given axes.

    Args:
      a: a tensor.
      b: a tensor of the same dtype.
      axes: an int N (last N axes of ``a`` with the first N of ``b``) or a pair of
        axis lists ``[a_axes, b_axes]`` of equal length.

    Returns:
      A tensor of shape ``a``'s free dims + ``b``'s free dims. Runs as one matmul.
    """
    arr = _array()
    a, b = operands(a, b, "MatMul")
    sa, sb = _shape(a), _shape(b)
    a_axes, b_axes = _tensordot_axes(axes, len(sa), len(sb))
    a_free = [i for i in range(len(sa)) if i not in a_axes]
    b_free = [i for i in range(len(sb)) if i not in b_axes]
    k = 1
    for i in a_axes:
        k *= sa[i]
    kb = 1
    for i in b_axes:
        kb *= sb[i]
    m_rows = 1
    for i in a_free:
        m_rows *= sa[i]
    n_cols = 1
    for i in b_free:
        n_cols *= sb[i]
    dyn_a, dyn_b = arr._dynamic(a), arr._dynamic(b)   # shapes that follow values
    a2 = arr.reshape(arr.transpose(a, a_free + a_axes), (-1 if dyn_a else m_rows, k))
    b2 = arr.reshape(arr.transpose(b, b_axes + b_free), (kb, -1 if dyn_b else n_cols))
    out = matmul(a2, b2)
    return arr.reshape(out, _free_dims(arr, a, a_free, dyn_a) +
                       _free_dims(arr, b, b_free, dyn_b))


def _free_dims(arr, x, axes, dynamic):
    """The sizes of ``x``'s ``axes``: ints, or run-time scalars when ``dynamic``
    (``arr``: the array ops module)."""
    if not dynamic:
        return [_shape(x)[i] for i in axes]
    sizes = arr.shape(x, out_type=dtypes.int64)
    return [sizes[i] for i in axes]


# ---------------------------------------------------------------- norms
_VECTOR_ORDS = "'euclidean', 1, 2, inf or a positive number"
_MATRIX_ORDS = ["euclidean", "fro", 1, 2, "inf"]


def _abs2(x):
    return m.real(m.multiply(x, m.conj(x))) if _is_complex(x) else m.square(x)


@primitive("SpectralNorm")
def _spectral_norm_p(d, x):
    s = d.xp.linalg.svd(x, compute_uv=False)
    return s[..., 0] if s.shape[-1] else d.xp.zeros(x.shape[:-2], dtype=s.dtype)


@primitive("TopSingularVectors", n_out=2)
def _top_singular_p(d, x):
    u, _, vh = d.xp.linalg.svd(x, full_matrices=False)
    return u[..., :, 0].copy(), vh[..., 0, :].copy()


@_spectral_norm_p.defgrad
def _spectral_norm_grad(inputs, out, dy):
    # d sigma_max / dA = u1 v1^H (the singular vectors are held constant: first order)
    arr = _array()
    u, v = call(_top_singular_p, (inputs[0],))
    outer = m.multiply(arr.expand_dims(u, -1), arr.expand_dims(m.conj(v), -2))
    return m.multiply(arr.expand_dims(arr.expand_dims(m.cast(dy, outer.dtype), -1), -1),
                      outer)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """Vector or matrix norm.

    Args:
      tensor: a floating or complex tensor.
      ord: ``'euclidean'`` (default), ``'fro'`` (matrices), ``1``, ``2``, ``np.inf``,
        or any positive number for vector norms.
      axis: None (the whole tensor as a vector), an int (vector norm) or a pair of
        ints (matrix norm).
      keepdims: keep the reduced dimensions with length 1.

    Returns:
      A real tensor of the input's real dtype.

    Raises:
      ValueError: for an unsupported ``ord``/``axis`` combination.
    """
    x = t(tensor)
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    is_matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if isinstance(axis, (list, tuple)) and len(axis) not in (1, 2):
        raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique "
                         f"integers, got {axis}")
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    ord_is_inf = isinstance(ord, (int, float)) and not isinstance(ord, bool) and \
        ord == float("inf")
    if is_matrix:
        nd = x._value.ndim
        a0, a1 = int(axis[0]) % max(nd, 1), int(axis[1]) % max(nd, 1)
        if a0 == a1:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique "
                             f"integers, got {axis}")
        if ord not in ("euclidean", "fro", 1, 2) and not ord_is_inf:
            raise ValueError(f"'ord' must be a supported matrix norm in {_MATRIX_ORDS}, "
                             f"got {ord}")
    elif not (ord == "euclidean" or ord_is_inf or (
            isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord > 0)):
        raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
    keep = bool(keepdims)
    if m._kind(x) not in "fc":
        m._check("Norm", x, "fc")
    if is_matrix:
        out = _matrix_norm(x, ord, a0, a1, ord_is_inf, keep)
    else:
        out = _vector_norm(x, ord, axis, ord_is_inf, keep)
    return m.cast(out, x.dtype) if _is_complex(x) else out  # TF keeps complex dtypes


def _vector_norm(x, ord, axis, ord_is_inf, keep):  # noqa: A002
    red = _reduction()
    if ord == "euclidean" or ord == 2:
        return m.sqrt(red.reduce_sum(_abs2(x), axis=axis, keepdims=keep))
    mag = m.abs(x)
    if ord_is_inf:
        return red.reduce_max(mag, axis=axis, keepdims=keep)
    if ord == 1:
        return red.reduce_sum(mag, axis=axis, keepdims=keep)
    p = float(ord)
    return m.pow(red.reduce_sum(m.pow(mag, p), axis=axis, keepdims=keep), 1.0 / p)


def _matrix_norm(x, ord, a0, a1, ord_is_inf, keep):  # noqa: A002
    red = _reduction()
    arr = _array()
    if ord in ("euclidean", "fro"):
        return m.sqrt(red.reduce_sum(_abs2(x), axis=[a0, a1], keepdims=keep))
    if ord == 1 or ord_is_inf:
        # 1: the largest column sum (sum over rows a0); inf: the largest row sum
        inner, outer = (a0, a1) if ord == 1 else (a1, a0)
        out = red.reduce_max(red.reduce_sum(m.abs(x), axis=inner, keepdims=True),
                             axis=outer, keepdims=True)
        return out if keep else arr.squeeze(out, axis=sorted((a0, a1)))
    # ord == 2: the largest singular value of the [..., a0, a1] matrices
    nd = x._value.ndim
    rest = [i for i in range(nd) if i not in (a0, a1)]
    out = call(_spectral_norm_p, (arr.transpose(x, rest + [a0, a1]),))
    if keep:
        shape = list(_shape(x))
        shape[a0] = shape[a1] = 1
        out = arr.reshape(out, shape)
    return out


def _square_matrix(x, op):
    s = _shape(x)
    if len(s) < 2 or s[-1] != s[-2]:
        raise InvalidArgumentError(f"{op}: Input matrix must be square, got shape "
                                   f"{list(s)} [Op:{op}]")


def _no_half_kernel(x, op):
    """TF registers no float16/bfloat16 kernel for ``op``: NotFoundError, as TF."""
    if x.dtype.is_floating and x.dtype.size == 2:
        raise NotFoundError(f"Could not find device for node: {{{{node {op}}}}} = "
                            f"{op}[T={x.dtype.name}]; {op} has no {x.dtype.name} "
                            f"kernel [Op:{op}]")


# ---------------------------------------------------------------- inverse, det, solve
@primitive("MatrixInverse")
def inv_p(d, x):
    xp = d.xp
    try:   # float16 (which TF supports here) is inverted in float32
        with d.linalg_raises():   # TF's GPU kernel also reports a singular input
            out = xp.linalg.inv(x.astype(xp.float32) if x.dtype == xp.float16 else x)
    except np.linalg.LinAlgError:  # CuPy raises NumPy's class too
        if probing_branch():   # placeholder values of a trace: the run checks
            return stand_in(xp.full(x.shape, xp.nan, dtype=x.dtype))
        raise InvalidArgumentError("MatrixInverse: Input is not invertible. "
                                   "[Op:MatrixInverse]") from None
    return out.astype(x.dtype, copy=False)


@inv_p.defgrad
def _inv_grad(inputs, out, dy):
    # d(A^-1) = -A^-1 dA A^-1, so dA = -A^-H dy A^-H
    return m.negative(matmul(out, matmul(dy, out, adjoint_b=True), adjoint_a=True))


def inv(input, adjoint=False, name=None):  # noqa: A002
    """Inverse of one or a batch of square matrices (of their adjoints when asked).

    Raises:
      InvalidArgumentError: for non-square, integer or singular inputs.
    """
    x = t(input)
    m._check("MatrixInverse", x, "fc")
    _square_matrix(x, "MatrixInverse")
    if adjoint:
        x = matrix_transpose(x, conjugate=True)
    return call(inv_p, (x,))


def _expand2(x):
    arr = _array()
    return arr.expand_dims(arr.expand_dims(x, -1), -1)


@primitive("MatrixDeterminant")
def det_p(d, x):
    return d.xp.asarray(d.xp.linalg.det(x)).astype(x.dtype, copy=False)


@det_p.defgrad
def _det_grad(inputs, out, dy):
    # d det(A) / dA = det(A) A^-T
    a = inputs[0]
    return m.multiply(_expand2(m.multiply(dy, m.conj(out))),
                      matrix_transpose(call(inv_p, (a,)), conjugate=True))


def det(input, name=None):  # noqa: A002
    """Determinant of one or a batch of square matrices."""
    x = t(input)
    m._check("MatrixDeterminant", x, "fc")
    _no_half_kernel(x, "MatrixDeterminant")
    _square_matrix(x, "MatrixDeterminant")
    return call(det_p, (x,))


@primitive("LogMatrixDeterminant", n_out=2)
def slogdet_p(d, x):
    sign, logabs = d.xp.linalg.slogdet(x)
    # TF gives both outputs the input's dtype (a complex log|det| has no imaginary part)
    return (d.xp.asarray(sign).astype(x.dtype, copy=False),
            d.xp.asarray(logabs).astype(x.dtype, copy=False))


@slogdet_p.defgrad
def _slogdet_grad(inputs, outs, dys):
    a = inputs[0]
    # as TF, a complex log|det| output differentiates like log(det) (its sign output
    # carries no gradient), so sign * exp(log|det|) differentiates like det
    dlog = dys[1]
    inv_h = matrix_transpose(call(inv_p, (a,)), conjugate=True)
    return (m.multiply(_expand2(m.cast(dlog, a.dtype)), inv_h),)


LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant",
                                              ["sign", "log_abs_determinant"])


def slogdet(input, name=None):  # noqa: A002
    """Sign and log of the absolute determinant.

    Args:
      input: ``[..., n, n]`` float or complex matrices.
      name: unused (TF compatibility).

    Returns:
      A ``LogMatrixDeterminant(sign, log_abs_determinant)`` named tuple, both of the
      input's dtype, as TF.
    """
    x = t(input)
    m._check("LogMatrixDeterminant", x, "fc")
    _no_half_kernel(x, "LogMatrixDeterminant")
    _square_matrix(x, "LogMatrixDeterminant")
    return LogMatrixDeterminant(*call(slogdet_p, (x,)))


def logdet(matrix, name=None):
    """Log determinant of Hermitian positive definite matrices.

    As TF, computed from the Cholesky factor, so only the lower triangle of
    ``matrix`` is read and complex inputs give a real result.

    Args:
      matrix: ``[..., n, n]`` Hermitian positive definite matrices.
      name: unused (TF compatibility).

    Returns:
      ``[...]`` log-determinants: ``2 * sum(log(diag(cholesky(matrix))))``.
    """
    from dlframe.ops.linalg_decomp import cholesky  # builds on this module: bind late
    chol_diag = diag_part(cholesky(matrix))
    if _is_complex(chol_diag):
        chol_diag = m.real(chol_diag)
    return m.multiply(_reduction().reduce_sum(m.log(chol_diag), axis=-1), 2.0)


@primitive("MatrixSolve")
def solve_p(d, a, b):
    xp = d.xp
    try:
        with d.linalg_raises():   # TF's GPU kernel also reports a singular input
            return xp.linalg.solve(a, b).astype(a.dtype, copy=False)
    except np.linalg.LinAlgError:  # CuPy raises NumPy's class too
        if probing_branch():   # placeholder values of a trace: the run checks
            shape = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
            return stand_in(xp.full(shape, xp.nan, dtype=a.dtype))
        raise InvalidArgumentError("MatrixSolve: Input matrix is not invertible. "
                                   "[Op:MatrixSolve]") from None


@solve_p.defgrad
def _solve_grad(inputs, out, dy):
    a, _ = inputs
    gb = call(solve_p, (matrix_transpose(a, conjugate=True), dy))
    return m.negative(matmul(gb, out, adjoint_b=True)), gb


def solve(matrix, rhs, adjoint=False, name=None):
    """Solves ``matrix @ X = rhs`` for square ``[..., M, M]`` matrices and ``[..., M, K]``
    right-hand sides (``adjoint(matrix) @ X = rhs`` when asked)."""
    a, b = operands(matrix, rhs, "MatrixSolve")
    m._check("MatrixSolve", a, "fc")
    _square_matrix(a, "MatrixSolve")
    sa, sb = _shape(a), _shape(b)
    if len(sb) != len(sa) or sb[-2] != sa[-1] or sb[:-2] != sa[:-2]:
        raise InvalidArgumentError(f"MatrixSolve: Input matrix and right-hand side must "
                                   f"have matching shapes, got {list(sa)} and {list(sb)}")
    if adjoint:
        a = matrix_transpose(a, conjugate=True)
    return call(solve_p, (a, b))


# ---------------------------------------------------------------- diagonals
def trace(x, name=None):
    """Sum of the main diagonal of each matrix in ``x`` (``[..., M, N]`` -> ``[...]``)."""
    return _reduction().reduce_sum(diag_part(x), axis=-1)


__all__ = ["einsum", "matmul", "norm", "tensordot"]
LINALG_NAMES = ["adjoint", "det", "einsum", "inv", "logdet", "matmul", "matrix_transpose",
                "matvec", "norm", "slogdet", "solve", "tensordot", "trace"]
