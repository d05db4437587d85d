"""NumPy-style products and linear algebra: ``matmul``, ``dot``, ``einsum``,
``tensordot``, ``outer``, ``kron``, ``norm`` and the ``keras.ops.linalg`` functions
(``inv``, ``det``, ``cholesky``, ``svd``, ``eigh``, ``qr``, ``solve``, ...) with
NumPy's argument conventions and result order (``svd`` returns ``(u, s, vh)``).
"""

from dlframe import errors
from dlframe.core import dtypes
from dlframe.ops import array as _a
from dlframe.ops import einsum as _es
from dlframe.ops import linalg as _la
from dlframe.ops import linalg_decomp as _ld
from dlframe.ops import linalg_extra as _lx
from dlframe.ops import linalg_triangular as _lt
from dlframe.ops import math as _m
from dlframe.ops import reduction as _r
from dlframe.ops.debugging import check_numerics
from dlframe.ops.numpy_api import dtype_kind, float_tensor, promote, to_float


def matmul(x1, x2):
    """Matrix product with NumPy's rules (1-D operands, broadcast batch axes).

    Args:
      x1: tensor of rank >= 1.
      x2: tensor of rank >= 1.
    """
    a, b = promote(x1, x2)
    if a._value.ndim == 0 or b._value.ndim == 0:
        raise ValueError("matmul: input operands must not be scalars, got shapes "
                         f"{tuple(a._value.shape)} and {tuple(b._value.shape)}")
    squeeze = []
    if a._value.ndim == 1:
        a = _a.expand_dims(a, 0)
        squeeze.append(-2)
    if b._value.ndim == 1:
        b = _a.expand_dims(b, 1)
        squeeze.append(-1)
    logical = dtype_kind(a) == "b"
    a, b = _widen_int8(a, b)
    out = _la.matmul(a, b)
    if logical:     # Keras 3: a bool product is a logical one (any a_ik and b_kj)
        out = _m.greater(out, 0)
    return _a.squeeze(out, squeeze) if squeeze else out


def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes`` (an int or a pair of axis lists).

    Args:
      x1: first tensor.
      x2: second tensor.
      axes: number of trailing/leading axes, or ``[axes_x1, axes_x2]``.
    """
    a, b = promote(x1, x2)
    return _la.tensordot(a, b, axes)


def dot(x1, x2):
    """NumPy's ``dot``: multiplication for scalars, inner product for vectors, matrix
    product for matrices, and a sum over the last axis of ``x1`` and the
    second-to-last of ``x2`` otherwise.

    Args:
      x1: first tensor.
      x2: second tensor.
    """
    a, b = promote(x1, x2)
    na, nb = a._value.ndim, b._value.ndim
    if na == 0 or nb == 0:
        return _m.multiply(a, b)
    if nb == 1:
        return _la.tensordot(a, b, [[na - 1], [0]])
    if na <= 2 and nb == 2:
        out = matmul(a, b)
        # dot keeps int8 and bool (matmul widens them)
        return _m.cast(out, a.dtype) if out.dtype != a.dtype else out
    return _la.tensordot(a, b, [[na - 1], [nb - 2]])


def inner(x1, x2):
    """Sum of products over the last axes.

    Args:
      x1: first tensor.
      x2: second tensor.
    """
    a, b = promote(x1, x2)
    if a._value.ndim == 0 or b._value.ndim == 0:
        return _m.multiply(a, b)
    return _la.tensordot(a, b, [[a._value.ndim - 1], [b._value.ndim - 1]])


def vdot(x1, x2):
    """Dot product of the flattened inputs (``x1`` conjugated).

    Args:
      x1: first tensor.
      x2: second tensor.
    """
    a, b = promote(x1, x2)
    return _r.reduce_sum(_m.multiply(_m.conj(_a.reshape(a, [-1])), _a.reshape(b, [-1])))


def outer(x1, x2):
    """Outer product of the flattened inputs.

    Args:
      x1: first tensor.
      x2: second tensor.
    """
    a, b = promote(x1, x2)
    return _m.multiply(_a.reshape(a, [-1, 1]), _a.reshape(b, [1, -1]))


def kron(x1, x2):
    """Kronecker product.

    Args:
      x1: first tensor.
      x2: second tensor.
    """
    a, b = promote(x1, x2)
    nd = max(a._value.ndim, b._value.ndim)
    sa = [1] * (nd - a._value.ndim) + list(a._value.shape)
    sb = [1] * (nd - b._value.ndim) + list(b._value.shape)
    inter_a = [v for s in sa for v in (s, 1)]
    inter_b = [v for s in sb for v in (1, s)]
    prod = _m.multiply(_a.reshape(a, inter_a), _a.reshape(b, inter_b))
    return _a.reshape(prod, [p * q for p, q in zip(sa, sb)])


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (2-vectors are extended with a zero z).

    Args:
      x1: first tensor of vectors.
      x2: second tensor of vectors.
      axisa: vector axis of ``x1``.
      axisb: vector axis of ``x2``.
      axisc: vector axis of the result.
      axis: if given, overrides the three axes.
    """
    from dlframe.ops.numpy_api_shape import moveaxis
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = promote(x1, x2)
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    ua, ub = list(_a.unstack(a, axis=-1)), list(_a.unstack(b, axis=-1))
    for u in (ua, ub):
        if len(u) == 2:
            u.append(_m.zeros_like(u[0]))
        elif len(u) != 3:
            raise ValueError(f"cross: vectors must have 2 or 3 components, got {len(u)}")
    out = _a.stack([_m.subtract(_m.multiply(ua[1], ub[2]), _m.multiply(ua[2], ub[1])),
                    _m.subtract(_m.multiply(ua[2], ub[0]), _m.multiply(ua[0], ub[2])),
                    _m.subtract(_m.multiply(ua[0], ub[1]), _m.multiply(ua[1], ub[0]))],
                   axis=-1)
    return moveaxis(out, -1, axisc)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation (operands of mixed dtypes are promoted).

    Args:
      subscripts: the equation, e.g. ``'ij,jk->ik'``.
      *operands: the tensors.
    """
    return _es.einsum(subscripts, *_widen_int8(*promote(*operands)))


def _widen_int8(*operands):
    """Operands of an int8 (quantized) or bool product cast to int32, so that sums
    of products do not wrap around: Keras 3 gives int8 x int8 -> int32."""
    if operands and operands[0].dtype in (dtypes.int8, dtypes.bool):
        return tuple(_m.cast(x, "int32") for x in operands)
    return operands


# ---------------------------------------------------------------- norms
def _vector_norm(x, ord, axis, keepdims):
    abs_x = _m.abs(x)
    if ord is None or ord == 2:
        return _m.sqrt(_r.reduce_sum(_m.square(abs_x), axis=axis, keepdims=keepdims))
    if ord == float("inf"):
        return _r.reduce_max(abs_x, axis=axis, keepdims=keepdims)
    if ord == float("-inf"):
        return _r.reduce_min(abs_x, axis=axis, keepdims=keepdims)
    if ord == 0:
        return _r.reduce_sum(_m.cast(_m.not_equal(x, 0), x.dtype), axis=axis,
                             keepdims=keepdims)
    if ord == 1:
        return _r.reduce_sum(abs_x, axis=axis, keepdims=keepdims)
    try:
        p = float(ord)
    except (TypeError, ValueError):
        raise ValueError(f"norm: invalid `ord` {ord!r} for a vector norm") from None
    return _m.pow(_r.reduce_sum(_m.pow(abs_x, p), axis=axis, keepdims=keepdims), 1.0 / p)


def _matrix_norm(x, ord, axes, keepdims):
    r, c = axes
    if ord in (None, "fro", "f"):
        return _m.sqrt(_r.reduce_sum(_m.square(_m.abs(x)), axis=axes, keepdims=keepdims))
    if ord in (1, -1, float("inf"), float("-inf")):
        inner_axis, outer_axis = (r, c) if ord in (1, -1) else (c, r)
        sums = _r.reduce_sum(_m.abs(x), axis=inner_axis, keepdims=True)
        pick = _r.reduce_max if ord in (1, float("inf")) else _r.reduce_min
        out = pick(sums, axis=outer_axis, keepdims=True)
        return out if keepdims else _a.squeeze(out, sorted(axes))
    if ord in (2, -2, "nuc"):
        from dlframe.ops.numpy_api_shape import moveaxis
        s = _ld.svd(moveaxis(x, axes, (-2, -1)), compute_uv=False)
        out = (_r.reduce_sum(s, axis=-1) if ord == "nuc" else
               _r.reduce_max(s, axis=-1) if ord == 2 else _r.reduce_min(s, axis=-1))
        if keepdims:
            for a in sorted(axes):
                out = _a.expand_dims(out, a)
        return out
    raise ValueError(f"norm: invalid `ord` {ord!r} for a matrix norm")


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (NumPy's ``linalg.norm``).

    Args:
      x: input tensor.
      ord: norm order: None, int, inf, -inf, 'fro' or 'nuc'.
      axis: None (all elements, or the vector/matrix of a 1-D/2-D input when ``ord``
        is given), an int (vector norms) or a pair of ints (matrix norms).
      keepdims: keep reduced axes with length 1.
    """
    x = float_tensor(x)
    nd = x._value.ndim
    if axis is None:
        if ord is None:
            out = _m.sqrt(_r.reduce_sum(_m.square(_m.abs(x))))
            return _a.reshape(out, [1] * nd) if keepdims else out
        if nd not in (1, 2):
            raise ValueError(f"norm: improper number of dimensions to norm ({nd})")
        axis = tuple(range(nd))
    axes = tuple(a % nd for a in (axis if isinstance(axis, (list, tuple)) else (axis,)))
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: `axis` must be an int or a pair of ints, got {axis!r}")


# ---------------------------------------------------------------- decompositions
def inv(x):
    """Inverse of the square matrices in the last two axes.

    Args:
      x: tensor ``[..., n, n]``.
    """
    return _la.inv(float_tensor(x))


def det(x):
    """Determinant of the square matrices in the last two axes.

    Args:
      x: tensor ``[..., n, n]``.
    """
    return _la.det(float_tensor(x))


def slogdet(x):
    """``(sign, log|det|)`` of the matrices in the last two axes.

    Args:
      x: tensor ``[..., n, n]``.
    """
    return tuple(_la.slogdet(float_tensor(x)))


def logdet(x):
    """Log-determinant of Hermitian positive-definite matrices.

    Args:
      x: tensor ``[..., n, n]``.
    """
    return _la.logdet(float_tensor(x))


def cholesky(x, upper=False):
    """Cholesky factor of Hermitian positive-definite matrices (lower by default).

    Args:
      x: tensor ``[..., n, n]``.
      upper: return the upper factor instead.
    """
    try:   # the kernel gives NaN for a matrix that is not positive definite (TF)
        low = check_numerics(_ld.cholesky(float_tensor(x)), "Cholesky")
    except errors.InvalidArgumentError as e:
        raise ValueError(f"Cholesky decomposition failed: {e}") from e
    return _la.adjoint(low) if upper else low


def cholesky_inverse(x, upper=False):
    """Inverse of ``L L^H`` (``U^H U`` when ``upper``) from its Cholesky factor ``x``.

    Args:
      x: triangular factor ``[..., n, n]``.
      upper: whether ``x`` is the upper factor.
    """
    f = float_tensor(x)
    low = _la.adjoint(f) if upper else f
    return inv(_la.matmul(low, _la.adjoint(low)))


def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition ``x = u @ diag(s) @ vh``.

    Args:
      x: tensor ``[..., m, n]``.
      full_matrices: square ``u``/``vh`` instead of the reduced ones.
      compute_uv: also return ``u`` and ``vh`` (else only ``s``).

    Returns:
      ``(u, s, vh)``, or ``s`` when not ``compute_uv``.
    """
    x = float_tensor(x)
    if not compute_uv:
        return _ld.svd(x, compute_uv=False)
    s, u, v = _ld.svd(x, full_matrices=full_matrices)
    return u, s, _la.adjoint(v)


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of Hermitian matrices.

    Args:
      x: tensor ``[..., n, n]``.

    Returns:
      ``(w, v)`` with ``x @ v == v * w``.
    """
    return tuple(_ld.eigh(float_tensor(x)))


def qr(x, mode="reduced"):
    """QR decomposition.

    Args:
      x: tensor ``[..., m, n]``.
      mode: 'reduced' or 'complete'.

    Returns:
      ``(q, r)``.
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: `mode` must be 'reduced' or 'complete', got {mode!r}")
    return tuple(_ld.qr(float_tensor(x), full_matrices=mode == "complete"))


def _rhs(a, b, square=True):
    a, b = promote(a, b)
    a, b = to_float(a), to_float(b)
    vector = b._value.ndim == a._value.ndim - 1
    sa, sb = tuple(a._value.shape), tuple(b._value.shape)
    known = a._value.ndim >= 2 and b._value.ndim >= 1 and None not in sa[-2:] + sb[-2:]
    if known and ((square and sa[-1] != sa[-2]) or sa[-2] != sb[-1 if vector else -2]):
        raise ValueError("Incompatible shapes between `a` and `b`. Expected `a` square "
                         "and `a.shape[-2] == b.shape[-2]`. Received: "
                         f"a.shape={sa}, b.shape={sb}")
    return a, (_a.expand_dims(b, -1) if vector else b), vector


def solve(a, b):
    """Solves ``a @ x = b`` for ``x`` (``b`` may be a vector).

    Args:
      a: square matrices ``[..., n, n]``.
      b: right-hand sides ``[..., n, k]`` or ``[..., n]``.
    """
    a, b, vector = _rhs(a, b)
    out = _la.solve(a, b)
    return _a.squeeze(out, -1) if vector else out


def solve_triangular(a, b, lower=False):
    """Solves ``a @ x = b`` for triangular ``a``.

    Args:
      a: triangular matrices ``[..., n, n]``.
      b: right-hand sides ``[..., n, k]`` or ``[..., n]``.
      lower: whether ``a`` is lower triangular.
    """
    a, b, vector = _rhs(a, b)
    out = _lt.triangular_solve(a, b, lower=lower)
    return _a.squeeze(out, -1) if vector else out


def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a @ x = b``.

    Args:
      a: matrix ``[m, n]``.
      b: right-hand side ``[m, k]`` or ``[m]``.
      rcond: accepted for NumPy compatibility.
    """
    a, b, vector = _rhs(a, b, square=False)
    out = _lx.lstsq(a, b, fast=False)
    return _a.squeeze(out, -1) if vector else out


def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse.

    Args:
      x: tensor ``[..., m, n]``.
      rcond: cutoff for small singular values (default: TF's).
    """
    return _lx.pinv(float_tensor(x), rcond=rcond)


def matrix_rank(x, tol=None):
    """Numerical rank of the matrices in the last two axes.

    Args:
      x: tensor ``[..., m, n]``.
      tol: singular values below it count as zero.
    """
    return _lx.matrix_rank(float_tensor(x), tol=tol)


__all__ = [
    "cholesky", "cholesky_inverse", "cross", "det", "dot", "eigh", "einsum", "inner",
    "inv", "kron", "logdet", "lstsq", "matmul", "matrix_rank", "norm", "outer", "pinv",
    "qr", "slogdet", "solve", "solve_triangular", "svd", "tensordot", "vdot",
]
