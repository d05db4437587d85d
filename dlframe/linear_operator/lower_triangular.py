"""``tf.linalg.LinearOperatorLowerTriangular``: a square lower-triangular matrix.

Only the lower triangle of ``tril`` is used; solves are triangular solves and the
determinant is the product of the diagonal.
"""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator, static_batch
from dlframe.linear_operator.diag import LinearOperatorDiag
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops.linalg import diag_part, matmul
from dlframe.ops.linalg_triangular import band_part, triangular_solve


class LinearOperatorLowerTriangular(LinearOperator):
    """A [batch of] square lower-triangular matrices ``[B1, ..., Bb, N, N]``.

    Args:
      tril: float or complex Tensor ``[..., N, N]``; its strict upper triangle is
        ignored.
      is_non_singular: hint that the operator is invertible (no zero on the diagonal).
      is_self_adjoint: hint that the operator is self-adjoint (i.e. diagonal).
      is_positive_definite: hint that the operator is positive definite.
      is_square: must be True or None.
      name: the operator's name.
    """

    def __init__(self, tril, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None,
                 name="LinearOperatorLowerTriangular"):
        parameters = u.constructor_parameters(locals())
        if is_square is False:
            raise ValueError("Only square lower triangular operators supported at this "
                             "time.")
        self._tril = u.as_parameter(tril, "tril")
        u.check_dtype(self._tril, "tril")
        u.check_rank_at_least(self._tril, "tril", 2)
        shape = u.static_shape(self._tril)
        if shape[-1] != shape[-2]:
            raise ValueError(f"Argument `tril` must be square, got shape {shape}.")
        super().__init__(self._tril.dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name, parameters=parameters)

    @property
    def tril(self):
        return self._tril

    def _lower(self):
        return band_part(self._tril, -1, 0)

    def _shape(self):
        return self._tril.shape

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return matmul(self._lower(), x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _to_dense(self):
        return self._lower()

    def _diag_part(self):
        return diag_part(self._tril)

    def _determinant(self):
        return r.reduce_prod(self._diag_part(), axis=-1)

    def _log_abs_determinant(self):
        return r.reduce_sum(m.log(m.abs(self._diag_part())), axis=-1)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = u.broadcast_batch(u.maybe_adjoint(rhs, adjoint_arg), self.batch_shape)
        lower = u.broadcast_batch(self._lower(), static_batch(rhs))
        return triangular_solve(lower, rhs, lower=True, adjoint=adjoint)

    def _eigvals(self):
        return self._diag_part()

    def _linop_matmul(self, other):
        if isinstance(other, LinearOperatorDiag):
            return self._product(other, other.matmul(self._lower(), adjoint=True,
                                                     adjoint_arg=True), adjoint=True)
        return None

    def _linop_rmatmul(self, other):
        if isinstance(other, LinearOperatorDiag):
            return self._product(other, other.matmul(self._lower()))
        return None

    def _product(self, other, tril, adjoint=False):
        # self @ other = (other^H @ self^H)^H keeps the work in other's matmul
        return LinearOperatorLowerTriangular(
            u.maybe_adjoint(tril, adjoint),
            is_non_singular=u.combined_hint([self.is_non_singular,
                                             other.is_non_singular]))
