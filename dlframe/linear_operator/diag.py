"""``tf.linalg.LinearOperatorDiag``: a [batch of] diagonal matrices.

Products scale rows, solves divide, and the determinant is a product: nothing is
ever materialised except by ``to_dense``.
"""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import array as a
from dlframe.ops import debugging as dbg
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops.linalg import diag


class LinearOperatorDiag(LinearOperator):
    """``A = diag(d)`` for a [batch of] vectors ``d`` ``[B1, ..., Bb, N]``.

    Args:
      diag: float or complex Tensor (or Variable) ``[..., N]``, the diagonal.
      is_non_singular: hint that no diagonal entry is zero.
      is_self_adjoint: hint that the diagonal is real (always True for real dtypes).
      is_positive_definite: hint that the diagonal's real part is positive.
      is_square: must be True or None.
      name: the operator's name.

    Raises:
      ValueError: when ``diag`` is a scalar or the hints contradict.
      TypeError: when ``diag`` is not float or complex.
    """

    def __init__(self, diag, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name="LinearOperatorDiag"):
        parameters = u.constructor_parameters(locals())
        self._diag = u.as_parameter(diag, "diag")
        u.check_dtype(self._diag, "diag", u.FLOAT_DTYPES + u.INT_DTYPES)
        if len(self._diag.shape) < 1:
            raise ValueError(f"Argument diag must have at least 1 dimension.  Found: "
                             f"{self._diag}")
        if not self._diag.dtype.is_complex:
            is_self_adjoint = u.implied_hint(
                is_self_adjoint, True, "A real diagonal operator is always self adjoint.")
        if is_square is False:
            raise ValueError("Only square diagonal operators currently supported.")
        super().__init__(self._diag.dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name, parameters=parameters)

    @property
    def diag(self):
        return self._diag

    def _shape(self):
        shape = u.static_shape(self._diag)
        return shape + shape[-1:]

    def _d(self, adjoint=False):
        return u.maybe_conj(u.as_tensor(self._diag), adjoint)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        return m.multiply(_column(self._d(adjoint)), x)

    def _matvec(self, x, adjoint=False):
        return m.multiply(self._d(adjoint), x)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = u.maybe_adjoint(rhs, adjoint_arg)
        return m.divide(rhs, _column(self._d(adjoint)))

    def _solvevec(self, rhs, adjoint=False):
        return m.divide(rhs, self._d(adjoint))

    def _determinant(self):
        return r.reduce_prod(self._d(), axis=-1)

    def _log_abs_determinant(self):
        return r.reduce_sum(m.log(m.abs(self._d())), axis=-1)

    def _diag_part(self):
        return self._d()

    def _trace(self):
        return r.reduce_sum(self._d(), axis=-1)

    def _to_dense(self):
        return diag(self._d())

    def _add_to_tensor(self, x):
        from dlframe.ops.linalg import diag_part, set_diag
        return set_diag(x, m.add(diag_part(x), self._d()))

    def _eigvals(self):
        return self._d()

    def _cond(self):
        mag = m.abs(self._d())
        return m.divide(r.reduce_max(mag, axis=-1), r.reduce_min(mag, axis=-1))

    def _assert_non_singular(self):
        mag = m.abs(self._d())
        return dbg.assert_less(m.zeros_like(mag), mag, message="Singular operator:  "
                               "Diagonal contained zero values.")

    def _assert_positive_definite(self):
        d = self._d()
        if d.dtype.is_complex:
            return dbg.assert_positive(m.real(d), message=(
                "Diagonal operator had diagonal entries with non-positive real part, "
                "thus was not positive definite."))
        return dbg.assert_positive(d, message=(
            "Real diagonal operator had non-positive diagonal entries, thus was not "
            "positive definite."))

    def _assert_self_adjoint(self):
        d = self._d()
        if not d.dtype.is_complex:
            return None
        return dbg.assert_equal(m.imag(d), m.zeros_like(m.imag(d)), message=(
            "This diagonal operator contained non-zero imaginary values.  Thus it was "
            "not self-adjoint."))

    # ------------------------------------------------------------ algebra
    def _linop_adjoint(self):
        return LinearOperatorDiag(self._d(True), is_non_singular=self.is_non_singular,
                                  is_self_adjoint=self.is_self_adjoint,
                                  is_positive_definite=self.is_positive_definite)

    def _linop_inverse(self):
        return LinearOperatorDiag(m.reciprocal(self._d()),
                                  is_non_singular=self.is_non_singular,
                                  is_self_adjoint=self.is_self_adjoint,
                                  is_positive_definite=self.is_positive_definite)

    def _linop_cholesky(self):
        return LinearOperatorDiag(m.sqrt(self._d()), is_non_singular=True,
                                  is_self_adjoint=True, is_positive_definite=True)

    def _linop_matmul(self, other):
        scale = _diagonal_of(other)
        if scale is None:
            return None
        return LinearOperatorDiag(
            m.multiply(self._d(), scale),
            is_non_singular=u.combined_hint([self.is_non_singular,
                                             other.is_non_singular]),
            is_self_adjoint=u.combined_hint([self.is_self_adjoint,
                                             other.is_self_adjoint]),
            is_positive_definite=u.combined_hint([self.is_positive_definite,
                                                  other.is_positive_definite]))

    def _linop_rmatmul(self, other):
        # Diag @ Diag is handled by the left operand; here ScaledIdentity @ Diag
        multiplier = getattr(other, "_diag_multiplier", None)
        if multiplier is None:
            return None
        return LinearOperatorDiag(
            m.multiply(multiplier(), self._d()),
            is_non_singular=u.combined_hint([self.is_non_singular,
                                             other.is_non_singular]))


def _column(d):
    """A diagonal ``[..., N]`` as a column ``[..., N, 1]`` that scales rows."""
    return a.expand_dims(d, -1)


def _diagonal_of(other):
    """The diagonal of a Diag (``[..., 1]`` scale of a ScaledIdentity), else None."""
    if isinstance(other, LinearOperatorDiag):
        return other._d()
    multiplier = getattr(other, "_diag_multiplier", None)
    return None if multiplier is None else multiplier()
