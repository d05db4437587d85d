"""``tf.linalg.LinearOperatorFullMatrix``: an operator wrapping a dense matrix."""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops.linalg import matmul


class LinearOperatorFullMatrix(LinearOperator):
    """A [batch of] dense matrices ``[B1, ..., Bb, M, N]`` as a LinearOperator.

    Args:
      matrix: float or complex Tensor (or Variable) of shape ``[..., M, N]``.
      is_non_singular: hint that the operator is invertible.
      is_self_adjoint: hint that the operator equals its conjugate transpose.
      is_positive_definite: hint that the operator is positive definite.
      is_square: hint that the operator is square.
      name: the operator's name.

    Raises:
      TypeError: when ``matrix`` is not float or complex.
      ValueError: when ``matrix`` has rank < 2 or the hints contradict.
    """

    def __init__(self, matrix, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None,
                 name="LinearOperatorFullMatrix"):
        parameters = u.constructor_parameters(locals())
        self._matrix = u.as_parameter(matrix, "matrix")
        u.check_dtype(self._matrix, "matrix")
        u.check_rank_at_least(self._matrix, "matrix", 2)
        super().__init__(self._matrix.dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=is_square,
                         name=name, parameters=parameters)

    def _shape(self):
        return self._matrix.shape

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return matmul(self._matrix, x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _to_dense(self):
        return u.as_tensor(self._matrix)
