"""``tf.linalg.LinearOperatorPermutation``: ``(A x)[i] = x[perm[i]]``.

Products gather rows, the adjoint (= inverse) gathers with the inverse permutation,
and the determinant is the permutation's sign.
"""

from dlframe.core import dtypes
from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops.array_index import gather
from dlframe.ops.creation import one_hot
from dlframe.ops.sorting import argsort


class LinearOperatorPermutation(LinearOperator):
    """The permutation matrix ``P`` with ``P[i, perm[i]] = 1``.

    Args:
      perm: integer Tensor ``[..., N]`` holding a permutation of ``0..N-1``.
      dtype: the operator's dtype (default float32).
      is_non_singular: must be True or None.
      is_self_adjoint: hint that the permutation is an involution.
      is_positive_definite: hint that the permutation is the identity.
      is_square: must be True or None.
      name: the operator's name.
    """

    def __init__(self, perm, dtype=dtypes.float32, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name="LinearOperatorPermutation"):
        parameters = u.constructor_parameters(locals())
        if is_non_singular is False:
            raise ValueError("A Permutation operator is always non-singular.")
        if is_square is False:
            raise ValueError("A Permutation operator is always square.")
        self._perm = u.as_parameter(perm, "perm")   # TF converts it with no hint
        if self._perm.dtype not in u.INT_DTYPES:
            raise TypeError(f"Argument `perm` must be integer dtype. Received: {perm}.")
        u.check_rank_at_least(self._perm, "perm", 1)
        super().__init__(dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name, parameters=parameters)

    @property
    def perm(self):
        return self._perm

    def _shape(self):
        shape = u.static_shape(self._perm)
        return shape + shape[-1:]

    def _order(self, adjoint):
        perm = u.as_tensor(self._perm)
        return argsort(perm, axis=-1) if adjoint else perm

    def _gather_rows(self, x, order, vector=False):
        """``x[..., order[i], :]`` (``x[..., order[i]]`` for vectors), batch broadcast."""
        core = 1 if vector else 2
        xs, ps = u.static_shape(x), u.static_shape(order)
        batch = u.broadcast_shapes(xs[:-core], ps[:-1])
        x = a.broadcast_to(x, batch + xs[-core:])
        order = a.broadcast_to(order, batch + ps[-1:])
        return gather(x, order, axis=len(batch), batch_dims=len(batch))

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._gather_rows(u.maybe_adjoint(x, adjoint_arg), self._order(adjoint))

    def _matvec(self, x, adjoint=False):
        return self._gather_rows(x, self._order(adjoint), vector=True)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _solvevec(self, rhs, adjoint=False):
        return self._matvec(rhs, adjoint=not adjoint)

    def _to_dense(self):
        n = int(self.domain_dimension)
        return one_hot(u.as_tensor(self._perm), n, dtype=self.dtype)

    def _fixed_points(self):
        perm = u.as_tensor(self._perm)
        positions = m.cast(list(range(int(self.domain_dimension))), perm.dtype)
        return m.cast(m.equal(perm, positions), self.dtype)

    def _diag_part(self):
        return self._fixed_points()

    def _trace(self):
        return r.reduce_sum(self._fixed_points(), axis=-1)

    def _determinant(self):
        # the sign is (-1) ** (number of inversions i < j with perm[i] > perm[j])
        perm = u.as_tensor(self._perm)
        n = int(self.domain_dimension)
        later_smaller = m.less(a.expand_dims(perm, -2), a.expand_dims(perm, -1))
        upper = [[1.0 if j > i else 0.0 for j in range(n)] for i in range(n)]
        inversions = r.reduce_sum(m.multiply(m.cast(later_smaller, dtypes.float32),
                                             upper), axis=[-2, -1])
        parity = m.floormod(inversions, 2.0)
        return m.cast(m.subtract(1.0, m.multiply(2.0, parity)), self.dtype)

    def _log_abs_determinant(self):
        return a.zeros(self.batch_shape.as_list(), dtype=self.dtype.real_dtype)

    def _cond(self):
        return a.ones(self.batch_shape.as_list(), dtype=self.dtype.real_dtype)

    def _assert_non_singular(self):
        return None
