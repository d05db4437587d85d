"""``tf.linalg.LinearOperatorLowRankUpdate``: ``A = L + U D V^H``.

Products never form ``U D V^H``; solves use the Woodbury identity and determinants
the matrix determinant lemma, both through the small capacitance matrix
``C = D^-1 + V^H L^-1 U`` (``K x K`` for a rank-``K`` update) and ``L``'s own solves.
"""

from dlframe.linear_operator import _util as util
from dlframe.linear_operator.base import LinearOperator, static_batch
from dlframe.linear_operator.diag import LinearOperatorDiag
from dlframe.linear_operator.identity import LinearOperatorIdentity
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops.linalg import det as dense_det
from dlframe.ops.linalg import matmul, slogdet, solve
from dlframe.ops.linalg_decomp import cholesky
from dlframe.ops.linalg_extra import cholesky_solve


class LinearOperatorLowRankUpdate(LinearOperator):
    """``A = L + U D V^H`` for a base operator ``L`` and a rank-``K`` update.

    Args:
      base_operator: the LinearOperator ``L``, shape ``[..., M, N]``.
      u: Tensor ``[..., M, K]`` of ``L``'s dtype.
      diag_update: optional Tensor ``[..., K]``, the diagonal of ``D`` (default ``I``).
      v: optional Tensor ``[..., N, K]`` (default ``u``).
      is_diag_update_positive: hint that ``diag_update > 0`` (True when it is None).
      is_non_singular: hint that ``A`` is invertible.
      is_self_adjoint: hint (implied True for a self-adjoint ``L`` with ``v = u``).
      is_positive_definite: hint (implied True for a positive definite ``L`` with
        ``v = u`` and a positive ``D``).
      is_square: hint that ``A`` is square.
      name: the operator's name.
    """

    def __init__(self, base_operator, u, diag_update=None, v=None,
                 is_diag_update_positive=None, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name="LinearOperatorLowRankUpdate"):
        parameters = util.constructor_parameters(locals())
        if not isinstance(base_operator, LinearOperator):
            raise TypeError(f"Argument `base_operator` must be a LinearOperator. "
                            f"Received: {base_operator!r}.")
        dtype = base_operator.dtype
        self._base_operator = base_operator
        self._u = self._param(u, "u", 2)
        self._v = None if v is None else self._param(v, "v", 2)
        self._diag_update = (None if diag_update is None
                             else self._param(diag_update, "diag_update", 1))
        if diag_update is None:
            if is_diag_update_positive is False:
                raise ValueError("Default diagonal is the identity, which is positive.  "
                                 "However, user set 'is_diag_update_positive' to False.")
            is_diag_update_positive = True
        self._is_diag_update_positive = is_diag_update_positive
        self._check_shapes()
        if base_operator.is_self_adjoint and v is None and (
                diag_update is None or not dtype.is_complex):
            is_self_adjoint = u_implied(is_self_adjoint)
        if (base_operator.is_positive_definite and v is None
                and is_diag_update_positive):
            is_positive_definite = u_implied(is_positive_definite)
        if base_operator.is_square:
            is_square = True if is_square is None else is_square
        super().__init__(dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=is_square,
                         name=name, parameters=parameters)

    def _param(self, value, name, rank):
        value = util.as_parameter(value, name)
        if value.dtype != self._base_operator.dtype:
            raise TypeError(f"Argument `{name}` must have dtype "
                            f"{self._base_operator.dtype}. Received: {value.dtype}.")
        util.check_rank_at_least(value, name, rank)
        return value

    def _check_shapes(self):
        rows, cols = (int(self._base_operator.range_dimension),
                      int(self._base_operator.domain_dimension))
        rank = util.static_shape(self._u)[-1]
        self._check_compatible(rows, self._u.shape[-2])
        if self._v is not None:
            self._check_compatible(cols, self._v.shape[-2])
            self._check_compatible(rank, self._v.shape[-1])
        if self._diag_update is not None:
            self._check_compatible(rank, self._diag_update.shape[-1])

    # ------------------------------------------------------------ properties
    @property
    def base_operator(self):
        return self._base_operator

    @property
    def u(self):
        return self._u

    @property
    def v(self):
        """``v`` (``u`` when not given)."""
        return self._u if self._v is None else self._v

    @property
    def diag_update(self):
        return self._diag_update

    @property
    def is_diag_update_positive(self):
        return self._is_diag_update_positive

    @property
    def diag_operator(self):
        """``D`` as a LinearOperator (Identity when ``diag_update`` is None)."""
        if self._diag_update is None:
            rank = util.static_shape(self._u)[-1]
            return LinearOperatorIdentity(rank, dtype=self.dtype)
        return LinearOperatorDiag(self._diag_update,
                                  is_positive_definite=self._is_diag_update_positive)

    def _shape(self):
        batch = util.broadcast_shapes(
            tuple(self._base_operator.batch_shape.as_list()),
            util.static_shape(self._u)[:-2],
            () if self._v is None else util.static_shape(self._v)[:-2],
            () if self._diag_update is None else util.static_shape(self._diag_update)[:-1])
        return batch + tuple(self._base_operator.shape.as_list()[-2:])

    # ------------------------------------------------------------ pieces
    def _factors(self, adjoint):
        """(left, d, right) with the update ``left diag(d) right^H`` of ``A`` or
        ``A^H``; ``d`` is None for the identity."""
        uu, vv = util.as_tensor(self._u), util.as_tensor(self.v)
        d = None if self._diag_update is None else util.maybe_conj(
            util.as_tensor(self._diag_update), adjoint)
        return (vv, d, uu) if adjoint else (uu, d, vv)

    def _update_matmul(self, x, adjoint):
        left, d, right = self._factors(adjoint)
        inner = matmul(right, x, adjoint_a=True)
        if d is not None:
            inner = m.multiply(a.expand_dims(d, -1), inner)
        return matmul(left, inner)

    def _capacitance(self, adjoint=False):
        """``C = D^-1 + right^H L^-1 left`` for ``A`` (or ``A^H``), ``[..., K, K]``."""
        left, d, right = self._factors(adjoint)
        core = matmul(right, self._base_operator.solve(left, adjoint=adjoint),
                      adjoint_a=True)
        if d is None:
            return self._add_diag(core, 1.0)
        return self._add_diag(core, m.reciprocal(d))

    @staticmethod
    def _add_diag(matrix, values):
        from dlframe.ops.linalg import diag_part, set_diag
        diagonal = diag_part(matrix)
        return set_diag(matrix, m.add(diagonal, values))

    def _capacitance_solve(self, capacitance, rhs):
        batch = util.broadcast_shapes(static_batch(capacitance), static_batch(rhs))
        capacitance = util.broadcast_batch(capacitance, batch)
        rhs = util.broadcast_batch(rhs, batch)
        if self._can_use_cholesky():
            return cholesky_solve(cholesky(capacitance), rhs)
        return solve(capacitance, rhs)

    # ------------------------------------------------------------ methods
    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = util.maybe_adjoint(x, adjoint_arg)
        return m.add(self._base_operator.matmul(x, adjoint=adjoint),
                     self._update_matmul(x, adjoint))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        # Woodbury: A^-1 b = L^-1 b - L^-1 U C^-1 V^H L^-1 b
        if self._base_operator.is_square is False:
            return super()._solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        rhs = util.maybe_adjoint(rhs, adjoint_arg)
        base = self._base_operator
        left, _, right = self._factors(adjoint)
        base_rhs = base.solve(rhs, adjoint=adjoint)
        small = self._capacitance_solve(self._capacitance(adjoint),
                                        matmul(right, base_rhs, adjoint_a=True))
        return m.subtract(base_rhs, base.solve(matmul(left, small), adjoint=adjoint))

    def _det_d(self, log):
        if self._diag_update is None:
            return None
        d = util.as_tensor(self._diag_update)
        if log:
            return r.reduce_sum(m.log(m.abs(d)), axis=-1)
        return r.reduce_prod(d, axis=-1)

    def _log_abs_determinant(self):
        # det(L + U D V^H) = det(C) det(D) det(L)
        out = m.add(self._base_operator.log_abs_determinant(),
                    slogdet(self._capacitance())[1])
        d = self._det_d(log=True)
        return out if d is None else m.add(out, d)

    def _determinant(self):
        out = m.multiply(self._base_operator.determinant(),
                         dense_det(self._capacitance()))
        d = self._det_d(log=False)
        return out if d is None else m.multiply(out, d)

    def _diag_part(self):
        left, d, right = self._factors(False)
        terms = m.multiply(left, m.conj(right) if right.dtype.is_complex else right)
        if d is not None:
            terms = m.multiply(terms, a.expand_dims(d, -2))
        rows = min(int(self.range_dimension), int(self.domain_dimension))
        update = r.reduce_sum(terms[..., :rows, :], axis=-1)
        return m.add(self._base_operator.diag_part(), update)

    def _to_dense(self):
        left, d, right = self._factors(False)
        if d is not None:
            left = m.multiply(left, a.expand_dims(d, -2))
        return m.add(self._base_operator.to_dense(),
                     matmul(left, right, adjoint_b=True))


def u_implied(hint):
    """A hint the structure implies True (user False is kept: TF does not check)."""
    return True if hint is None else hint
