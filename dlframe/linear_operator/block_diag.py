"""``tf.linalg.LinearOperatorBlockDiag``: the direct sum ``diag(A1, ..., Aj)``.

Every method works block by block (solves, determinants, adjoints, inverses and
Cholesky factors of the blocks), so a block's own structure is exploited.
"""

from dlframe.linear_operator import _blocks as b
from dlframe.linear_operator import _composite as c
from dlframe.linear_operator import _util as u
from dlframe.ops import math as m


class LinearOperatorBlockDiag(c.OperatorList):
    """``A = diag(A1, ..., Aj)`` for a list of operators.

    Args:
      operators: non-empty list of LinearOperators of one dtype (the diagonal blocks).
      is_non_singular: hint (implied True when every block is non-singular).
      is_self_adjoint: hint (implied True when every block is self-adjoint).
      is_positive_definite: hint (implied True when every block is).
      is_square: hint (True by default).
      name: the operator's name (default: the blocks' names joined by ``_ds_``).
    """

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, name=None):
        parameters = u.constructor_parameters(locals())
        operators = c.check_operators(operators)
        self._operators = operators
        hints = c.implied_hints(operators, "direct sum", is_non_singular,
                                is_self_adjoint, is_positive_definite)
        super().__init__(operators[0].dtype, is_non_singular=hints[0],
                         is_self_adjoint=hints[1], is_positive_definite=hints[2],
                         is_square=is_square,
                         name=name or "_ds_".join(op.name for op in operators),
                         parameters=parameters)

    def _shape(self):
        return c.batch_shape(self._operators) + (sum(self._dims("range_dimension")),
                                                 sum(self._dims("domain_dimension")))

    # ------------------------------------------------------------ blockwise input
    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        """As ``LinearOperator.matmul``; ``x`` may also be a list of blocks (one per
        operator), and the result is then a list of blocks."""
        if isinstance(x, (list, tuple)) and len(x) == len(self._operators) and all(
                hasattr(xi, "shape") for xi in x):
            return [op.matmul(xi, adjoint=adjoint, adjoint_arg=adjoint_arg)
                    for op, xi in zip(self._operators, x)]
        return super().matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg, name=name)

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        """As ``LinearOperator.solve``; ``rhs`` may also be a list of blocks."""
        if isinstance(rhs, (list, tuple)) and len(rhs) == len(self._operators) and all(
                hasattr(ri, "shape") for ri in rhs):
            self._check_solvable()
            return [op.solve(ri, adjoint=adjoint, adjoint_arg=adjoint_arg)
                    for op, ri in zip(self._operators, rhs)]
        return super().solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg, name=name)

    # ------------------------------------------------------------ products
    def _blockwise(self, method, x, adjoint, adjoint_arg, vector):
        x = x if vector else u.maybe_adjoint(x, adjoint_arg)
        solving = method in ("solve", "solvevec")
        which = "range_dimension" if adjoint != solving else "domain_dimension"
        pieces = b.split(x, self._dims(which), -1 if vector else -2)
        out = [getattr(op, method)(p, adjoint=adjoint)
               for op, p in zip(self._operators, pieces)]
        return b.concat(out, -1 if vector else -2, 1 if vector else 2)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._blockwise("matmul", x, adjoint, adjoint_arg, False)

    def _matvec(self, x, adjoint=False):
        return self._blockwise("matvec", x, adjoint, False, True)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._blockwise("solve", rhs, adjoint, adjoint_arg, False)

    def _solvevec(self, rhs, adjoint=False):
        return self._blockwise("solvevec", rhs, adjoint, False, True)

    # ------------------------------------------------------------ reductions
    def _fold(self, method, combine):
        return c.fold(self._operators, method, combine)

    def _determinant(self):
        return self._fold("determinant", m.multiply)

    def _log_abs_determinant(self):
        return self._fold("log_abs_determinant", m.add)

    def _trace(self):
        return self._fold("trace", m.add)

    def _diag_part(self):
        if not all(op.is_square for op in self._operators):
            return super()._diag_part()
        return b.concat([op.diag_part() for op in self._operators], -1, 1)

    def _eigvals(self):
        return b.concat([op.eigvals() for op in self._operators], -1, 1)

    def _to_dense(self):
        n = len(self._operators)
        rows = [[op.to_dense() if i == j else None for j in range(n)]
                for i, op in enumerate(self._operators)]
        return b.dense_block_matrix(rows, self._dims("range_dimension"),
                                    self._dims("domain_dimension"),
                                    self.batch_shape.as_list(), self.dtype)

    def _assert_non_singular(self):
        for op in self._operators:
            op.assert_non_singular()

    def _assert_positive_definite(self):
        for op in self._operators:
            op.assert_positive_definite()

    def _assert_self_adjoint(self):
        for op in self._operators:
            op.assert_self_adjoint()

    # ------------------------------------------------------------ algebra
    def _each(self, method, **hints):
        return LinearOperatorBlockDiag(
            [getattr(op, method)() for op in self._operators], **hints)

    def _linop_adjoint(self):
        return self._each("adjoint", is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite)

    def _linop_inverse(self):
        return self._each("inverse", is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite)

    def _linop_cholesky(self):
        return self._each("cholesky", is_non_singular=True)

    def _linop_matmul(self, other):
        if (isinstance(other, LinearOperatorBlockDiag)
                and self._dims("domain_dimension") == other._dims("range_dimension")):
            return LinearOperatorBlockDiag(
                [x.matmul(y) for x, y in zip(self._operators, other._operators)],
                is_non_singular=u.combined_hint([self.is_non_singular,
                                                 other.is_non_singular]))
        return None
