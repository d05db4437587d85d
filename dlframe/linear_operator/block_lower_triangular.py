"""``tf.linalg.LinearOperatorBlockLowerTriangular``: a square block lower-triangular
operator whose blocks are LinearOperators. Solves are block forward (or, for the
adjoint, backward) substitution with the diagonal blocks' own solves."""

from dlframe.linear_operator import _blocks as b
from dlframe.linear_operator import _composite as c
from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import array as a
from dlframe.ops import math as m


class LinearOperatorBlockLowerTriangular(LinearOperator):
    """``A`` with blocks ``operators[i][j]`` for ``j <= i`` and zeros above.

    Args:
      operators: list of lists; row ``i`` holds ``i + 1`` LinearOperators of one
        dtype, the last of which (the diagonal block) is square.
      is_non_singular: hint (implied True when every diagonal block is
        non-singular).
      is_self_adjoint: hint that the operator is self-adjoint.
      is_positive_definite: hint that the operator is positive definite.
      is_square: must be True or None.
      name: the operator's name.
    """

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None,
                 name="LinearOperatorBlockLowerTriangular"):
        parameters = u.constructor_parameters(locals())
        if not isinstance(operators, (list, tuple)) or not operators:
            raise ValueError(f"Expected a non-empty list of operators. Found: "
                             f"{operators}")
        rows = []
        for i, row in enumerate(operators):
            row = c.check_operators(row, f"operators[{i}]")
            if len(row) != i + 1:
                raise ValueError(f"Argument `operators[{i}]` must contain `{i + 1}` "
                                 f"blocks. Received: {len(row)} blocks.")
            rows.append(row)
        c.check_operators([op for row in rows for op in row])
        self._operators = rows
        self._sizes = [int(row[-1].domain_dimension) for row in rows]
        for i, row in enumerate(rows):
            for j, op in enumerate(row):
                self._check_compatible(self._sizes[i], op.range_dimension)
                self._check_compatible(self._sizes[j], op.domain_dimension)
        if is_square is False:
            raise ValueError("A block lower triangular operator is always square.")
        is_non_singular, _, _ = c.implied_hints(self._diagonal(), "block lower "
                                                "triangular", is_non_singular, None,
                                                None, checks=("non-singular",))
        super().__init__(rows[0][0].dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name, parameters=parameters)

    @property
    def operators(self):
        return [list(row) for row in self._operators]

    def _diagonal(self):
        return [row[-1] for row in self._operators]

    def _shape(self):
        n = sum(self._sizes)
        return c.batch_shape([op for row in self._operators for op in row]) + (n, n)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        pieces = b.split(x, self._sizes, -2)
        k = len(self._sizes)
        out = []
        for i in range(k):
            # row i of A uses blocks (i, j <= i); row i of A^H uses blocks (j >= i, i)
            terms = ([self._operators[i][j].matmul(pieces[j]) for j in range(i + 1)]
                     if not adjoint else
                     [self._operators[j][i].matmul(pieces[j], adjoint=True)
                      for j in range(i, k)])
            total = terms[0]
            for term in terms[1:]:
                total = m.add(total, term)
            out.append(total)
        return b.concat(out, -2, 2)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = u.maybe_adjoint(rhs, adjoint_arg)
        pieces = b.split(rhs, self._sizes, -2)
        k = len(self._sizes)
        solved = [None] * k
        order = range(k - 1, -1, -1) if adjoint else range(k)
        for i in order:
            residual = pieces[i]
            others = range(i + 1, k) if adjoint else range(i)
            for j in others:
                block = (self._operators[j][i] if adjoint else self._operators[i][j])
                residual = m.subtract(residual, block.matmul(solved[j], adjoint=adjoint))
            solved[i] = self._operators[i][i].solve(residual, adjoint=adjoint)
        return b.concat(solved, -2, 2)

    def _fold(self, method, combine):
        return self._full_batch(c.fold(self._diagonal(), method, combine), 0)

    def _full_batch(self, x, core_rank):
        """``x`` broadcast to the batch shape (off-diagonal blocks may widen it)."""
        shape = u.static_shape(x)
        batch = tuple(self.batch_shape.as_list())
        core = shape[len(shape) - core_rank:]
        if shape[:len(shape) - core_rank] == batch:
            return x
        return a.broadcast_to(x, batch + core)

    def _determinant(self):
        return self._fold("determinant", m.multiply)

    def _log_abs_determinant(self):
        return self._fold("log_abs_determinant", m.add)

    def _trace(self):
        return self._fold("trace", m.add)

    def _diag_part(self):
        return self._full_batch(
            b.concat([op.diag_part() for op in self._diagonal()], -1, 1), 1)

    def _to_dense(self):
        k = len(self._sizes)
        rows = [[self._operators[i][j].to_dense() if j <= i else None
                 for j in range(k)] for i in range(k)]
        return b.dense_block_matrix(rows, self._sizes, self._sizes,
                                    self.batch_shape.as_list(), self.dtype)
