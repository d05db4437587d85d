"""Matrix decompositions: svd, eigh/eigvalsh, qr and cholesky, with their gradients.

Each forward calls the device's LAPACK (``xp.linalg``) on a whole batch; each
gradient rule is derived from the first-order perturbation of the factorization and
written in dlframe ops. Notation: ``_h`` is the conjugate transpose, and an
``F`` matrix holds ``1 / (w_j - w_i)`` off the diagonal (0 on it and where two
eigen- or singular values coincide, whose vectors are then not unique).
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError, NotFoundError
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.linalg import diag, diag_part, matmul, matrix_transpose
from dlframe.ops.linalg_triangular import triangular_solve, tril


def _array():
    from dlframe.ops import array
    return array


def _shape(x):
    return tuple(x._value.shape)


def _h(x):
    return matrix_transpose(x, conjugate=True)


def _complex(x):
    return x._value.dtype.kind == "c"


def _like(x, ref):
    """Real ``x`` cast to ``ref``'s (possibly complex) dtype."""
    return m.cast(x, ref.dtype) if _complex(ref) else x


def _f_matrix(w):
    """``F[..., i, j] = 1 / (w_j - w_i)``, 0 where ``w_i == w_j``."""
    arr = _array()
    diff = m.subtract(arr.expand_dims(w, -2), arr.expand_dims(w, -1))
    return m.divide_no_nan(m.ones_like(diff), diff)


def _check_matrix(x, op, square=False):
    m._check(op, x, "fc")
    s = _shape(x)
    if len(s) < 2:
        raise InvalidArgumentError(f"{op}: Input must have rank >= 2, got shape "
                                   f"{list(s)} [Op:{op}]")
    if square and s[-1] != s[-2]:
        raise InvalidArgumentError(f"{op}: Input matrix must be square, got shape "
                                   f"{list(s)} [Op:{op}]")


def _fold_lower(grad):
    """The gradient w.r.t. the lower triangle that a Hermitian kernel reads, from the
    gradient ``grad`` w.r.t. the full Hermitian matrix it stands for."""
    both = tril(m.add(grad, _h(grad)))
    return m.subtract(both, m.multiply(diag(diag_part(both)), 0.5))


# ---------------------------------------------------------------- svd
@primitive("Svd", n_out=3)
def svd_p(d, x, *, full_matrices):
    xp = d.xp
    u, s, vh = xp.linalg.svd(x, full_matrices=full_matrices)
    v = xp.conj(xp.swapaxes(vh, -1, -2))
    return s.astype(x.real.dtype, copy=False), u.astype(x.dtype, copy=False), \
        v.astype(x.dtype, copy=False)


@svd_p.defgrad
def _svd_grad(inputs, outs, dys, *, full_matrices):
    # A = U S V^H; with P = U^H dA V: dS = Re diag(P), dU = U (F o (P S + S P^H)) +
    # (I - U U^H) dA V / S and dV likewise (F over the squared singular values).
    s, u, v = outs
    ds, du, dv = dys
    rows, cols = _shape(inputs[0])[-2:]
    k = min(rows, cols)
    if full_matrices and rows != cols:
        if abs(rows - cols) > 1:
            raise NotImplementedError(
                "svd gradient is not implemented for abs(m - n) > 1 when "
                "full_matrices is True")
        u, du, v, dv = u[..., :, :k], du[..., :, :k], v[..., :, :k], dv[..., :, :k]
    arr = _array()
    f = _like(_f_matrix(m.square(s)), u)
    sc = _like(s, u)
    j, kk = matmul(u, du, adjoint_a=True), matmul(v, dv, adjoint_a=True)
    inner = m.add(
        m.multiply(m.multiply(f, m.subtract(j, _h(j))), arr.expand_dims(sc, -2)),
        m.multiply(arr.expand_dims(sc, -1), m.multiply(f, m.subtract(kk, _h(kk)))))
    inner = m.add(inner, diag(_like(ds, u)))
    inv_s = m.reciprocal(sc) if (rows != cols or _complex(u)) else None
    if _complex(u):
        # only the difference of the two vectors' phase rotations is fixed by A
        phase = m.subtract(m.imag(diag_part(j)), m.imag(diag_part(kk)))
        inner = m.add(inner, diag(m.multiply(m.complex(m.zeros_like(phase), phase),
                                             m.multiply(inv_s, 0.5))))
    grad = matmul(matmul(u, inner), v, adjoint_b=True)
    if rows > k:   # the part of dU outside span(U)
        grad = m.add(grad, matmul(m.multiply(m.subtract(du, matmul(u, j)),
                                             arr.expand_dims(inv_s, -2)), v, adjoint_b=True))
    if cols > k:   # the part of dV outside span(V)
        grad = m.add(grad, matmul(u, m.multiply(arr.expand_dims(inv_s, -1),
                                                _h(m.subtract(dv, matmul(v, kk))))))
    return (grad,)


@primitive("SvdValues")
def svd_values_p(d, x):
    return d.xp.linalg.svd(x, compute_uv=False).astype(x.real.dtype, copy=False)


@svd_values_p.defgrad
def _svd_values_grad(inputs, s, ds):
    _, u, v = call(svd_p, (inputs[0],), {"full_matrices": False})
    return matmul(m.multiply(u, _array().expand_dims(_like(ds, u), -2)), v, adjoint_b=True)


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular value decomposition ``tensor = u @ diag(s) @ adjoint(v)``.

    Args:
      tensor: a ``[..., M, N]`` float or complex tensor.
      full_matrices: return ``u`` ``[..., M, M]`` and ``v`` ``[..., N, N]`` instead of
        the thin ``[..., M, P]`` and ``[..., N, P]`` (``P = min(M, N)``).
      compute_uv: return the singular vectors too.

    Returns:
      ``s`` (``[..., P]``, descending, real) when ``compute_uv`` is False, else the
      tuple ``(s, u, v)``. Note ``v`` is not transposed (unlike NumPy's ``vh``).
    """
    x = t(tensor)
    _check_matrix(x, "Svd")
    if not compute_uv:
        return call(svd_values_p, (x,))
    return call(svd_p, (x,), {"full_matrices": bool(full_matrices)})


# ---------------------------------------------------------------- eigh
@primitive("SelfAdjointEigV2", n_out=2)
def eigh_p(d, x):
    w, v = d.xp.linalg.eigh(x)  # reads the lower triangle
    return w.astype(x.real.dtype, copy=False), v.astype(x.dtype, copy=False)


@eigh_p.defgrad
def _eigh_grad(inputs, outs, dys):
    # A = V diag(w) V^H: dw = diag(V^H dA V), dV = V (F o (V^H dA V)).
    w, v = outs
    dw, dv = dys
    inner = m.add(diag(_like(dw, v)),
                  m.multiply(_like(_f_matrix(w), v), matmul(v, dv, adjoint_a=True)))
    return _fold_lower(matmul(matmul(v, inner), v, adjoint_b=True))


@primitive("SelfAdjointEigValues")
def eigvalsh_p(d, x):
    return d.xp.linalg.eigvalsh(x).astype(x.real.dtype, copy=False)


@eigvalsh_p.defgrad
def _eigvalsh_grad(inputs, w, dw):
    _, v = call(eigh_p, (inputs[0],))
    scaled = m.multiply(v, _array().expand_dims(_like(dw, v), -2))
    return _fold_lower(matmul(scaled, v, adjoint_b=True))


def eigh(tensor, name=None):
    """Eigen-decomposition of self-adjoint matrices.

    Only the lower triangle of each matrix is read (and differentiated).

    Args:
      tensor: a ``[..., N, N]`` float or complex tensor.

    Returns:
      ``(e, v)``: eigenvalues ``[..., N]`` in ascending order (real) and the
      eigenvectors as the columns of ``v`` ``[..., N, N]``.
    """
    x = t(tensor)
    _check_matrix(x, "SelfAdjointEigV2", square=True)
    return call(eigh_p, (x,))


def eigvalsh(tensor, name=None):
    """Eigenvalues ``[..., N]`` (ascending, real) of self-adjoint matrices."""
    x = t(tensor)
    _check_matrix(x, "SelfAdjointEigV2", square=True)
    return call(eigvalsh_p, (x,))


# ---------------------------------------------------------------- qr
@primitive("Qr", n_out=2)
def qr_p(d, x, *, full_matrices):
    q, r = d.xp.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)


def _qr_grad_tall(q, r, dq, dr):
    # A = Q R (M >= N): with M = R dR^H - dQ^H Q, dA = (dQ + Q copyltu(M)) R^-H,
    # where copyltu mirrors the strictly lower triangle of M onto the upper one and
    # keeps the real part of its diagonal (R's diagonal is real).
    mid = m.subtract(matmul(r, dr, adjoint_b=True), matmul(dq, q, adjoint_a=True))
    diagonal = diag_part(mid)
    strict = m.subtract(tril(mid), diag(diagonal))
    sym = m.add(m.add(strict, _h(strict)), diag(_like(m.real(diagonal), mid)))
    b = m.add(dq, matmul(q, sym))
    return _h(triangular_solve(r, _h(b), lower=False))  # b R^-H


@qr_p.defgrad
def _qr_grad(inputs, outs, dys, *, full_matrices):
    q, r = outs
    dq, dr = dys
    rows, cols = _shape(inputs[0])[-2:]
    if rows >= cols:
        if full_matrices and rows > cols:
            raise NotImplementedError("QrGrad not implemented when nrows > ncols and "
                                      "full_matrices is true.")
        return _qr_grad_tall(q, r, dq, dr)
    # wide: A = [X | Y] with X = Q U square and Y = Q V
    a = inputs[0]
    y = a[..., :, rows:]
    du, dv = dr[..., :, :rows], dr[..., :, rows:]
    dx = _qr_grad_tall(q, r[..., :, :rows], m.add(dq, matmul(y, dv, adjoint_b=True)), du)
    return _array().concat([dx, matmul(q, dv)], axis=-1)


def qr(input, full_matrices=False, name=None):  # noqa: A002
    """QR decomposition ``input = q @ r``.

    Args:
      input: a ``[..., M, N]`` float or complex tensor.
      full_matrices: return ``q`` ``[..., M, M]`` and ``r`` ``[..., M, N]`` instead of
        ``[..., M, P]`` and ``[..., P, N]`` (``P = min(M, N)``).

    Returns:
      ``(q, r)``: ``q`` with orthonormal columns and upper-triangular ``r``.
    """
    x = t(input)
    _check_matrix(x, "Qr")
    return call(qr_p, (x,), {"full_matrices": bool(full_matrices)})


# ---------------------------------------------------------------- cholesky
@primitive("Cholesky")
def cholesky_p(d, x):
    xp = d.xp
    try:
        out = xp.linalg.cholesky(x)  # reads the lower triangle
    except np.linalg.LinAlgError:  # CuPy raises NumPy's class too
        # TF 2.21 logs the failure and gives NaN in the lower triangle of each
        # matrix that is not positive definite; the others are factored
        flat = x.reshape((-1,) + x.shape[-2:])
        out = xp.empty_like(flat)
        nan = xp.tril(xp.full(x.shape[-2:], xp.nan, dtype=x.dtype))
        for i in range(flat.shape[0]):
            try:
                out[i] = xp.linalg.cholesky(flat[i])
            except np.linalg.LinAlgError:
                out[i] = nan
        out = out.reshape(x.shape)
    else:
        if d.is_gpu:   # CuPy reports no failure (linalg='ignore'): invalid factors
            out = _nan_where_unfactored(xp, x, out)
    return out.astype(x.dtype, copy=False)


def _nan_where_unfactored(xp, x, out):
    """``out`` with NaN (lower triangle) for each matrix of ``x`` it does not factor:
    a non-finite or non-positive diagonal, or ``L @ L^H`` off the lower triangle of
    ``x`` by more than rounding. Device-side (no host sync), for backends whose
    Cholesky returns garbage instead of raising on a non positive definite input."""
    n = x.shape[-1]
    if x.size == 0:
        return out
    diag = xp.diagonal(out, axis1=-2, axis2=-1).real
    rebuilt = xp.matmul(out, xp.conj(xp.swapaxes(out, -1, -2)))
    err = xp.abs(xp.tril(rebuilt - x)).max(axis=(-2, -1))
    scale = xp.abs(xp.tril(x)).max(axis=(-2, -1))
    tol = 64 * n * float(np.finfo(x.dtype).eps)   # Cholesky is backward stable
    ok = xp.isfinite(out).all(axis=(-2, -1)) & (diag > 0).all(axis=-1) & \
        (err <= tol * scale)
    nan = xp.tril(xp.full(x.shape[-2:], xp.nan, dtype=out.dtype))
    return xp.where(ok[..., None, None], out, nan)


@cholesky_p.defgrad
def _cholesky_grad(inputs, chol, dl):
    # A = L L^H: L^-1 dA L^-H = phi^-1(L^-1 dL) with phi = lower triangle, half the
    # diagonal, so dA = L^-H phi(L^H dL) L^-1, returned symmetrized (as TF does).
    p = tril(matmul(chol, dl, adjoint_a=True))
    p = m.subtract(p, m.multiply(diag(diag_part(p)), 0.5))
    left = triangular_solve(chol, p, lower=True, adjoint=True)          # L^-H P
    grad = _h(triangular_solve(chol, _h(left), lower=True, adjoint=True))  # .. L^-1
    return m.multiply(m.add(grad, _h(grad)), 0.5)


def cholesky(input, name=None):  # noqa: A002
    """Lower-triangular Cholesky factors ``L`` of Hermitian positive definite matrices
    (``input = L @ adjoint(L)``); only the lower triangle of ``input`` is read.

    As TF 2.21, a matrix that is not positive definite factors to NaN (lower
    triangle) instead of raising.

    Raises:
      InvalidArgumentError: for a non-square input.
    """
    x = t(input)
    _check_matrix(x, "Cholesky", square=True)
    if x.dtype.name == "float16":   # TF registers no CPU/GPU kernel for half
        raise NotFoundError(None, None, "Could not find device for node: {{node "
                            "Cholesky}} = Cholesky[T=DT_HALF] [Op:Cholesky]")
    return call(cholesky_p, (x,))


LINALG_NAMES = ["cholesky", "eigh", "eigvalsh", "qr", "svd"]
