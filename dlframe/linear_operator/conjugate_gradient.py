"""``tf.linalg.experimental.conjugate_gradient``: solves ``A x = rhs`` for a
self-adjoint positive definite LinearOperator ``A`` by (preconditioned) conjugate
gradients, batched over the leading dimensions of ``rhs``."""

import collections

from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops.control_flow import while_loop
from dlframe.ops.logic import greater, less, logical_and, zeros_like
from dlframe.ops.math_unary import sqrt
from dlframe.ops.reduction import reduce_any, reduce_sum

CGState = collections.namedtuple("CGState", ["i", "x", "r", "p", "gamma"])


def _dot(a, b):
    return reduce_sum(a * b, axis=-1)


def conjugate_gradient(operator, rhs, preconditioner=None, x=None, tol=1e-5,
                       max_iter=20, name="conjugate_gradient"):
    """Runs conjugate gradients until every residual norm is at most ``tol`` or
    ``max_iter`` iterations are done.

    Args:
      operator: a self-adjoint, positive definite ``tf.linalg.LinearOperator``
        (declared with ``is_self_adjoint=True, is_positive_definite=True``).
      rhs: ``[..., N]`` right-hand side(s).
      preconditioner: optional LinearOperator approximating ``operator``'s inverse.
      x: optional ``[..., N]`` starting point (default zeros).
      tol: absolute tolerance on the Euclidean norm of the residual.
      max_iter: the most iterations to run.
      name: ignored.

    Returns:
      ``CGState(i, x, r, p, gamma)``: the int32 iteration count, the solution, the
      residual ``rhs - A x``, the last search direction and ``r . M r``.

    Raises:
      ValueError: when ``operator`` is not declared self-adjoint positive definite.
    """
    if not (operator.is_self_adjoint and operator.is_positive_definite):
        raise ValueError("Expected a self-adjoint, positive definite operator. "
                         f"Received: operator={operator!r}")
    rhs = convert_to_tensor(rhs)
    x = zeros_like(rhs) if x is None else convert_to_tensor(x, dtype=rhs.dtype)

    def precondition(r):
        return r if preconditioner is None else preconditioner.matvec(r)

    r = rhs - operator.matvec(x)
    p = precondition(r)
    gamma = _dot(r, p)
    start = (convert_to_tensor(0, dtype=dtypes.int32), x, r, p, gamma)

    def unconverged(i, x, r, p, gamma):
        return logical_and(less(i, max_iter),
                           reduce_any(greater(sqrt(_dot(r, r)), tol)))

    def step(i, x, r, p, gamma):
        z = operator.matvec(p)
        alpha = (gamma / _dot(p, z))[..., None]
        x = x + alpha * p
        r = r - alpha * z
        q = precondition(r)
        new_gamma = _dot(r, q)
        p = q + (new_gamma / gamma)[..., None] * p
        return i + 1, x, r, p, new_gamma

    return CGState(*while_loop(unconverged, step, start))
