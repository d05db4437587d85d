"""Two-operand einsum as transposes, reshapes and one (batched) matrix product.

The GPU device runs ``einsum`` through this planner so that the contraction reaches
cuBLAS only through ``Device.matmul`` (dlframe's own handle, the one path CUDA-graph
capture accepts; ``cupy.einsum`` calls CuPy's cuBLAS wrappers, which refuse capture).
The layers' contractions (EinsumDense, MultiHeadAttention, ``tensordot``-like
equations) all have this form. Every letter of an explicit two-operand equation
is one of:

- batch: in both operands and the output (NumPy-broadcast when one size is 1);
- contracted: in both operands, not the output (sizes must agree);
- kept: in one operand and the output (the product's rows or columns);
- summed: in one operand only (reduced before the product).

``a`` becomes ``(*batch, M, K)``, ``b`` ``(*batch, K, N)``, the product
``(*batch, M, N)`` is reshaped to ``(*batch, *a_kept, *b_kept)`` and transposed to
the output's order. Equations with a repeated letter in one operand (diagonals),
sizes that do not broadcast, or empty dimensions get no plan (the caller uses
``xp.einsum``). The planner is pure Python and xp-generic: tests check it on NumPy.
"""

from typing import NamedTuple

_PLANS = {}
_MAX_PLANS = 2048
_UNPLANNED = object()   # cache miss (a cached plan may be None)


class EinsumPlan(NamedTuple):
    """How to compute one two-operand einsum with one matrix product."""

    a_sum: tuple      # axes of ``a`` summed before the product
    a_perm: tuple     # ``a`` (after the sum) transposed to (batch, kept, contracted)
    a_shape: tuple    # then reshaped to (*batch, M, K)
    b_sum: tuple
    b_perm: tuple     # ``b`` transposed to (batch, contracted, kept)
    b_shape: tuple    # then reshaped to (*batch, K, N)
    out_shape: tuple  # the product reshaped to (*batch, *a_kept, *b_kept)
    out_perm: tuple   # then transposed to the output's letter order


def _prod(sizes):
    n = 1
    for s in sizes:
        n *= s
    return n


def plan_einsum(equation, a_shape, b_shape):
    """The :class:`EinsumPlan` of ``einsum(equation, a, b)``, or None.

    Args:
      equation: explicit subscripts ``'ab,bc->ac'`` (letters only, no ellipsis).
      a_shape, b_shape: the operands' shapes.

    Returns:
      The plan, or None when the equation is not a plain two-operand contraction
      (see the module docstring).
    """
    key = (equation, tuple(a_shape), tuple(b_shape))
    plan = _PLANS.get(key, _UNPLANNED)   # one lookup: another thread may clear()
    if plan is not _UNPLANNED:
        return plan
    plan = _plan(equation, tuple(a_shape), tuple(b_shape))
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def _plan(equation, a_shape, b_shape):
    if "->" not in equation or "." in equation:
        return None
    lhs, out = equation.replace(" ", "").split("->")
    terms = lhs.split(",")
    if len(terms) != 2:
        return None
    sa, sb = terms
    if not (sa + sb + out).isalpha() or len(sa) != len(a_shape) or \
            len(sb) != len(b_shape) or 0 in a_shape + b_shape:
        return None
    for s in (sa, sb, out):
        if len(set(s)) != len(s):
            return None
    if not set(out) <= set(sa) | set(sb):
        return None
    size_a, size_b = dict(zip(sa, a_shape)), dict(zip(sb, b_shape))
    batch = [c for c in out if c in size_a and c in size_b]
    contracted = [c for c in sa if c in size_b and c not in out]
    a_kept = [c for c in out if c in size_a and c not in size_b]
    b_kept = [c for c in out if c in size_b and c not in size_a]
    if any(size_a[c] != size_b[c] for c in contracted):
        return None
    if any(size_a[c] != size_b[c] and 1 not in (size_a[c], size_b[c]) for c in batch):
        return None
    a_sum = tuple(i for i, c in enumerate(sa) if c not in size_b and c not in out)
    b_sum = tuple(i for i, c in enumerate(sb) if c not in size_a and c not in out)
    a_left = [c for c in sa if c in size_b or c in out]
    b_left = [c for c in sb if c in size_a or c in out]
    a_perm = tuple(a_left.index(c) for c in batch + a_kept + contracted)
    b_perm = tuple(b_left.index(c) for c in batch + contracted + b_kept)
    k = _prod(size_a[c] for c in contracted)
    m = _prod(size_a[c] for c in a_kept)
    n = _prod(size_b[c] for c in b_kept)
    a_shape2 = tuple(size_a[c] for c in batch) + (m, k)
    b_shape2 = tuple(size_b[c] for c in batch) + (k, n)
    full = tuple(max(size_a[c], size_b[c]) for c in batch)
    out_shape = full + tuple(size_a[c] for c in a_kept) + \
        tuple(size_b[c] for c in b_kept)
    order = batch + a_kept + b_kept
    out_perm = tuple(order.index(c) for c in out)
    return EinsumPlan(a_sum, a_perm, a_shape2, b_sum, b_perm, b_shape2, out_shape,
                      out_perm)


def _identity(perm):
    return perm == tuple(range(len(perm)))


def _prepare(x, summed, perm, shape):
    if summed:   # einsum keeps the dtype (an integer or bool sum would widen it)
        x = x.sum(axis=summed).astype(x.dtype, copy=False)
    if not _identity(perm):
        x = x.transpose(perm)
    return x.reshape(shape)


def einsum_via_matmul(xp, matmul, plan, a, b):
    """Runs ``plan`` on ``a`` and ``b`` with ``matmul(a2, b2)`` for the product.

    Args:
      xp: the array module of ``a`` and ``b``.
      matmul: a batched matrix product (``Device.matmul``).
      plan: :func:`plan_einsum`'s plan for these operands' shapes.
      a, b: the operands.

    Returns:
      A C-contiguous array, ``xp.einsum``'s values and dtype.
    """
    a2 = _prepare(a, plan.a_sum, plan.a_perm, plan.a_shape)
    b2 = _prepare(b, plan.b_sum, plan.b_perm, plan.b_shape)
    out = matmul(a2, b2).reshape(plan.out_shape)
    if _identity(plan.out_perm):
        return out
    return xp.ascontiguousarray(out.transpose(plan.out_perm))
