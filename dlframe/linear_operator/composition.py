"""``tf.linalg.LinearOperatorComposition``: the product ``A1 A2 ... Aj`` applied
right to left, never multiplied out."""

import itertools

from dlframe.linear_operator import _composite as c
from dlframe.linear_operator import _util as u
from dlframe.ops import math as m


class LinearOperatorComposition(c.OperatorList):
    """``A = A1 A2 ... Aj`` for a list of operators (shapes must chain).

    Args:
      operators: non-empty list of LinearOperators of one dtype; ``operators[i]``'s
        domain dimension must equal ``operators[i + 1]``'s range dimension.
      is_non_singular: hint (implied True when every operator is non-singular).
      is_self_adjoint: hint that the product is self-adjoint.
      is_positive_definite: hint that the product is positive definite.
      is_square: hint that the product is square.
      name: the operator's name (default: the operators' names joined by ``_o_``).
    """

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):
        parameters = u.constructor_parameters(locals())
        operators = c.check_operators(operators)
        for left, right in itertools.pairwise(operators):
            self._check_compatible(left.domain_dimension, right.range_dimension)
        self._operators = operators
        is_non_singular, _, _ = c.implied_hints(operators, "composition",
                                                is_non_singular, None, None,
                                                checks=("non-singular",))
        super().__init__(operators[0].dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=is_square,
                         name=name or "_o_".join(op.name for op in operators),
                         parameters=parameters)

    def _shape(self):
        first, last = self._operators[0], self._operators[-1]
        return c.batch_shape(self._operators) + (int(first.range_dimension),
                                                 int(last.domain_dimension))

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        order = self._operators if adjoint else self._operators[::-1]
        out = order[0].matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for op in order[1:]:
            out = op.matmul(out, adjoint=adjoint)
        return out

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        if not self._square_members():
            return super()._solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        # (A1 ... Aj)^-1 = Aj^-1 ... A1^-1; the adjoint reverses the order again
        order = self._operators[::-1] if adjoint else self._operators
        out = order[0].solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for op in order[1:]:
            out = op.solve(out, adjoint=adjoint)
        return out

    def _square_members(self):
        return all(op.is_square for op in self._operators)

    def _determinant(self):
        if self._square_members():
            out = self._operators[0].determinant()
            for op in self._operators[1:]:
                out = m.multiply(out, op.determinant())
            return out
        return super()._determinant()

    def _log_abs_determinant(self):
        if self._square_members():
            out = self._operators[0].log_abs_determinant()
            for op in self._operators[1:]:
                out = m.add(out, op.log_abs_determinant())
            return out
        return super()._log_abs_determinant()
