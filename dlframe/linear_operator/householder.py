"""``tf.linalg.LinearOperatorHouseholder``: the reflection ``I - 2 v v^H / (v^H v)``
through the hyperplane orthogonal to ``v``. It is its own inverse and adjoint."""

from dlframe.errors import InvalidArgumentError
from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops.creation import eye
from dlframe.ops.linalg import matmul


class LinearOperatorHouseholder(LinearOperator):
    """``A = I - 2 v v^H / ||v||^2`` for a [batch of] vectors ``v`` ``[..., N]``.

    Args:
      reflection_axis: float or complex Tensor ``[..., N]`` (need not be normalised).
      is_non_singular: must be True or None.
      is_self_adjoint: must be True or None.
      is_positive_definite: must be False or None.
      is_square: must be True or None.
      name: the operator's name.
    """

    def __init__(self, reflection_axis, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None,
                 name="LinearOperatorHouseholder"):
        parameters = u.constructor_parameters(locals())
        if is_self_adjoint is False:
            raise ValueError("A Householder operator is always self adjoint.")
        if is_non_singular is False:
            raise ValueError("A Householder operator is always non-singular.")
        if is_positive_definite is True:
            raise ValueError("A Householder operator is always non-positive definite.")
        if is_square is False:
            raise ValueError("A Householder operator is always square.")
        self._axis = u.as_parameter(reflection_axis, "reflection_axis")
        u.check_dtype(self._axis, "reflection_axis")
        u.check_rank_at_least(self._axis, "reflection_axis", 1)
        super().__init__(self._axis.dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=True, is_positive_definite=False,
                         is_square=True, name=name, parameters=parameters)

    @property
    def reflection_axis(self):
        return self._axis

    def _shape(self):
        shape = u.static_shape(self._axis)
        return shape + shape[-1:]

    def _unit(self):
        """``v / ||v||`` as a column ``[..., N, 1]``."""
        v = u.as_tensor(self._axis)
        sq = m.square(m.abs(v))
        norm = m.sqrt(r.reduce_sum(sq, axis=-1, keepdims=True))
        return a.expand_dims(m.divide(v, m.cast(norm, v.dtype)), -1)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        v = self._unit()
        return m.subtract(x, m.multiply(2.0 if not v.dtype.is_complex else
                                        m.cast(2.0, v.dtype),
                                        matmul(v, matmul(v, x, adjoint_a=True))))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _to_dense(self):
        v = self._unit()
        n = int(self.domain_dimension)
        return m.subtract(eye(n, dtype=self.dtype),
                          m.multiply(m.cast(2.0, self.dtype),
                                     matmul(v, v, adjoint_b=True)))

    def _diag_part(self):
        v = a.squeeze(self._unit(), [-1])
        return m.subtract(m.ones_like(v), m.multiply(m.cast(2.0, self.dtype),
                                                     m.cast(m.square(m.abs(v)),
                                                            self.dtype)))

    def _batch_fill(self, value, dtype):
        return m.multiply(a.ones(self.batch_shape.as_list(), dtype=dtype),
                          m.cast(value, dtype))

    def _determinant(self):
        return self._batch_fill(-1.0, self.dtype)

    def _log_abs_determinant(self):
        return self._batch_fill(0.0, self.dtype.real_dtype)

    def _trace(self):
        return self._batch_fill(float(int(self.domain_dimension) - 2), self.dtype)

    def _eigvals(self):
        n = int(self.domain_dimension)
        values = [-1.0] + [1.0] * (n - 1)
        return m.multiply(a.ones(self.batch_shape.as_list() + [n], dtype=self.dtype),
                          m.cast(values, self.dtype))

    def _cond(self):
        return self._batch_fill(1.0, self.dtype.real_dtype)

    def _assert_non_singular(self):
        return None

    def _assert_positive_definite(self):
        raise InvalidArgumentError("Householder operators are always non-positive "
                                   "definite.")

    def _assert_self_adjoint(self):
        return None

    def _linop_inverse(self):
        return self
