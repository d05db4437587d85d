"""Linear algebra: matmul (batched, transposes), tensordot, einsum, norm, transpose."""

from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import operands, require, NUMERIC, NUMERIC_NAMES


@primitive("MatMul")
def matmul_p(d, a, b):
    return d.matmul(a, b)


@matmul_p.defgrad
def _matmul_grad(inputs, out, dy):
    a, b = inputs
    ga = matmul(dy, b, transpose_b=True)
    gb = matmul(a, dy, transpose_a=True)
    return ga, gb


def _swap_last(x):
    from dlframe.ops.array import transpose
    nd = x._value.ndim
    perm = list(range(nd - 2)) + [nd - 1, nd - 2]
    return transpose(x, perm)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """Matrix product of rank >= 2 tensors with batch broadcasting.

    Args:
      a, b: tensors of the same dtype, shapes ``[..., m, k]`` and ``[..., k, n]``.
      transpose_a, transpose_b: transpose the last two dims of the operand first.
      adjoint_a, adjoint_b: conjugate-transpose (same as transpose for real types).
    """
    a, b = operands(a, b, "MatMul")
    if a._value.dtype.kind == "b":
        require("MatMul", a, NUMERIC, NUMERIC_NAMES)
    if a._value.ndim < 2 or b._value.ndim < 2:
        raise InvalidArgumentError(
            f"MatMul: In[0] and In[1] must have rank >= 2, got shapes "
            f"{list(a._value.shape)} and {list(b._value.shape)} [Op:MatMul]")
    if transpose_a or adjoint_a:
        a = _swap_last(a)
        if adjoint_a and a.dtype.is_complex:
            from dlframe.ops.math import conj
            a = conj(a)
    if transpose_b or adjoint_b:
        b = _swap_last(b)
        if adjoint_b and b.dtype.is_complex:
            from dlframe.ops.math import conj
            b = conj(b)
    sa, sb = a._value.shape, b._value.shape
    if sa[-1] != sb[-2]:
        raise InvalidArgumentError(
            f"MatMul: Matrix size-incompatible: In[0]: {list(sa)}, In[1]: {list(sb)} "
            "[Op:MatMul]")
    return call(matmul_p, (a, b))

__all__ = ["matmul"]
