"""``tf.linalg.LinearOperatorAdjoint``: ``A^H`` of an operator, computed with the
operator's own ``adjoint=True`` products and solves."""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.inversion import DerivedOperator
from dlframe.ops import math as m
from dlframe.ops.linalg import adjoint as _dense_adjoint


class LinearOperatorAdjoint(DerivedOperator):
    """``A^H`` of ``operator``.

    Args:
      operator: the LinearOperator to take the adjoint of.
      is_non_singular: hint (taken from ``operator`` when None).
      is_self_adjoint: hint (taken from ``operator`` when None).
      is_positive_definite: hint (taken from ``operator`` when None).
      is_square: hint (taken from ``operator`` when None).
      name: the operator's name (default ``operator.name + "_adjoint"``).
    """

    _RELATION, _SUFFIX = "adjoint", "_adjoint"

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):
        super().__init__(operator, u.constructor_parameters(locals()), name,
                         is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=is_square)

    def _shape(self):
        shape = self._operator.shape.as_list()
        return shape[:-2] + [shape[-1], shape[-2]]

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._operator.matmul(x, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _matvec(self, x, adjoint=False):
        return self._operator.matvec(x, adjoint=not adjoint)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._operator.solve(rhs, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _solvevec(self, rhs, adjoint=False):
        return self._operator.solvevec(rhs, adjoint=not adjoint)

    def _determinant(self):
        det = self._operator.determinant()
        return m.conj(det) if det.dtype.is_complex else det

    def _log_abs_determinant(self):
        return self._operator.log_abs_determinant()

    def _trace(self):
        tr = self._operator.trace()
        return m.conj(tr) if tr.dtype.is_complex else tr

    def _diag_part(self):
        d = self._operator.diag_part()
        return m.conj(d) if d.dtype.is_complex else d

    def _to_dense(self):
        return _dense_adjoint(self._operator.to_dense())

    def _linop_adjoint(self):
        return self._operator
