"""``tf.linalg.LinearOperatorKronecker``: ``A1 (x) A2 (x) ... (x) Aj``.

A product applies one factor at a time to its axis of the reshaped argument, a
solve does the same with each factor's solve ((A (x) B)^-1 = A^-1 (x) B^-1), and
``det(A (x) B) = det(A)^n_B det(B)^n_A``: the Kronecker matrix is never formed
except by ``to_dense``.
"""

import math

from dlframe.linear_operator import _composite as c
from dlframe.linear_operator import _util as u
from dlframe.ops import array as a
from dlframe.ops import math as m


def _kron_vectors(vectors, sizes):
    """The Kronecker product of [batches of] vectors ``[..., n_k]``."""
    out = vectors[0]
    for vec in vectors[1:]:
        outer = m.multiply(a.expand_dims(out, -1), a.expand_dims(vec, -2))
        shape = u.static_shape(outer)
        out = a.reshape(outer, shape[:-2] + (shape[-2] * shape[-1],))
    return out


def _kron_dense(left, right):
    """The Kronecker product of [batches of] dense matrices."""
    prod = m.multiply(left[..., :, None, :, None], right[..., None, :, None, :])
    shape = u.static_shape(prod)
    return a.reshape(prod, shape[:-4] + (shape[-4] * shape[-3], shape[-2] * shape[-1]))


class LinearOperatorKronecker(c.OperatorList):
    """``A = A1 (x) A2 (x) ... (x) Aj`` for a list of operators.

    Args:
      operators: non-empty list of LinearOperators of one dtype (the factors).
      is_non_singular: hint (implied True when every factor is non-singular).
      is_self_adjoint: hint (implied True when every factor is self-adjoint).
      is_positive_definite: hint (implied True when every factor is).
      is_square: hint that the product is square.
      name: the operator's name (default: the factors' names joined by ``_x_``).
    """

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None):
        parameters = u.constructor_parameters(locals())
        if not isinstance(operators, (list, tuple)) or not operators:
            raise ValueError(f"Argument `operators` must be a list of >=1 operators. "
                             f"Received: {operators}.")
        operators = c.check_operators(operators)
        self._operators = operators
        hints = c.implied_hints(operators, "Kronecker product", is_non_singular,
                                is_self_adjoint, is_positive_definite, detail=True)
        super().__init__(operators[0].dtype, is_non_singular=hints[0],
                         is_self_adjoint=hints[1], is_positive_definite=hints[2],
                         is_square=is_square,
                         name=name or "_x_".join(op.name for op in operators),
                         parameters=parameters)

    def _shape(self):
        return c.batch_shape(self._operators) + (
            math.prod(self._dims("range_dimension")),
            math.prod(self._dims("domain_dimension")))

    def _factorwise(self, method, x, adjoint, in_which, out_which):
        """Applies ``op.method`` of every factor along its axis of ``x`` [..., N, K].

        The rows of ``x`` are indexed by (i1, ..., ij), i1 slowest. For factor k the
        rows are viewed as [before, n_k, after]; n_k is moved to the front so the
        factor acts on a [..., n_k, before * after * K] matrix with its own method.
        """
        sizes_in = self._dims(in_which)
        sizes_out = self._dims(out_which)
        current = list(sizes_in)
        for k, op in enumerate(self._operators):
            shape = u.static_shape(x)
            batch, cols = shape[:-2], shape[-1]
            before, after = math.prod(current[:k]), math.prod(current[k + 1:])
            nb = len(batch)
            x = a.reshape(x, batch + (before, current[k], after, cols))
            perm = list(range(nb)) + [nb + 1, nb, nb + 2, nb + 3]
            x = a.transpose(x, perm)
            x = a.reshape(x, batch + (current[k], before * after * cols))
            x = getattr(op, method)(x, adjoint=adjoint)
            current[k] = sizes_out[k]
            shape = u.static_shape(x)
            x = a.reshape(x, shape[:-2] + (current[k], before, after, cols))
            nb = len(shape) - 2
            x = a.transpose(x, list(range(nb)) + [nb + 1, nb, nb + 2, nb + 3])
            x = a.reshape(x, shape[:-2] + (math.prod(current), cols))
        return x

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        dims = ("range_dimension", "domain_dimension")
        in_which, out_which = dims if adjoint else dims[::-1]
        return self._factorwise("matmul", x, adjoint, in_which, out_which)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        if not all(op.is_square for op in self._operators):
            return super()._solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        rhs = u.maybe_adjoint(rhs, adjoint_arg)
        return self._factorwise("solve", rhs, adjoint, "range_dimension",
                                "domain_dimension")

    def _square_factors(self):
        return all(op.is_square for op in self._operators)

    def _determinant(self):
        if not self._square_factors():
            return super()._determinant()
        n = self._dims("domain_dimension")
        total = math.prod(n)
        out = None
        for op, size in zip(self._operators, n):
            term = m.pow(op.determinant(), m.cast(total // size, self.dtype))
            out = term if out is None else m.multiply(out, term)
        return out

    def _log_abs_determinant(self):
        if not self._square_factors():
            return super()._log_abs_determinant()
        n = self._dims("domain_dimension")
        total = math.prod(n)
        out = None
        for op, size in zip(self._operators, n):
            term = m.multiply(op.log_abs_determinant(), float(total // size))
            out = term if out is None else m.add(out, term)
        return out

    def _trace(self):
        if not self._square_factors():
            return super()._trace()
        out = self._operators[0].trace()
        for op in self._operators[1:]:
            out = m.multiply(out, op.trace())
        return out

    def _diag_part(self):
        if not self._square_factors():
            return super()._diag_part()
        return _kron_vectors([op.diag_part() for op in self._operators],
                             self._dims("domain_dimension"))

    def _eigvals(self):
        return _kron_vectors([op.eigvals() for op in self._operators],
                             self._dims("domain_dimension"))

    def _to_dense(self):
        out = self._operators[0].to_dense()
        for op in self._operators[1:]:
            out = _kron_dense(out, op.to_dense())
        return out

    # ------------------------------------------------------------ algebra
    def _each(self, method, **hints):
        return LinearOperatorKronecker(
            [getattr(op, method)() for op in self._operators], **hints)

    def _linop_adjoint(self):
        return self._each("adjoint", is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite)

    def _linop_inverse(self):
        if not self._square_factors():
            return super()._linop_inverse()
        return self._each("inverse", is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite)

    def _linop_cholesky(self):
        if not all(op._can_use_cholesky() for op in self._operators):
            return super()._linop_cholesky()
        return self._each("cholesky", is_non_singular=True)
