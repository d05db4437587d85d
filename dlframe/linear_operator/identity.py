"""``tf.linalg.LinearOperatorIdentity`` and ``LinearOperatorScaledIdentity``:
``A = I`` and ``A = c I`` (with a [batch of] scalars ``c``), never materialised."""

from dlframe.core import dtypes
from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops.creation import eye
from dlframe.ops.linalg import diag_part, set_diag


def _check_num_rows(num_rows, name="num_rows"):
    value = getattr(num_rows, "numpy", lambda: num_rows)()
    try:
        rows = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"Argument `{name}` must be a 0-D integer Tensor. Received: "
                         f"{num_rows!r}.") from None
    if rows != value or rows < 0:
        raise ValueError(f"Argument {name} must be non-negative.  Found: {num_rows}")
    return rows


def _check_batch_shape(batch_shape):
    if batch_shape is None:
        return ()
    value = getattr(batch_shape, "numpy", lambda: batch_shape)()
    dims = tuple(int(d) for d in value)
    if any(d < 0 for d in dims):
        raise ValueError(f"Argument `batch_shape` must be non-negative. Received: "
                         f"{batch_shape!r}.")
    return dims


class _BaseIdentity(LinearOperator):
    """What Identity and ScaledIdentity share: ``A = c I`` with ``c`` per batch member
    (``_scale()`` gives ``c`` shaped ``[..., 1, 1]``)."""

    def _scale(self, adjoint=False):
        raise NotImplementedError

    def _diag_multiplier(self):
        """``c`` shaped ``[..., 1]``: broadcasts against a diagonal ``[..., N]``."""
        return a.squeeze(self._scale(), [-1])

    def _n(self):
        return int(self.domain_dimension)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        return m.multiply(self._scale(adjoint), x)

    def _matvec(self, x, adjoint=False):
        return m.multiply(a.squeeze(self._scale(adjoint), [-1]), x)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = u.maybe_adjoint(rhs, adjoint_arg)
        return m.divide(rhs, self._scale(adjoint))

    def _solvevec(self, rhs, adjoint=False):
        return m.divide(rhs, a.squeeze(self._scale(adjoint), [-1]))

    def _diag_part(self):
        ones = a.ones(self.batch_shape.as_list() + [self._n()], dtype=self.dtype)
        return m.multiply(self._diag_multiplier(), ones)

    def _to_dense(self):
        n = self._n()
        return m.multiply(self._scale(), eye(n, batch_shape=self.batch_shape.as_list(),
                                             dtype=self.dtype))

    def _add_to_tensor(self, x):
        return set_diag(x, m.add(diag_part(x), self._diag_multiplier()))

    def _eigvals(self):
        return self._diag_part()

    def _cond(self):
        return a.ones(self.batch_shape.as_list(), dtype=self.dtype.real_dtype)

    def _product_hints(self, other):
        return {"is_non_singular": u.combined_hint([self.is_non_singular,
                                                    other.is_non_singular])}

    def _keeps_batch(self, other):
        """True when ``other``'s batch shape already covers this operator's."""
        batch = tuple(other.batch_shape.as_list())
        return u.broadcast_shapes(batch, tuple(self.batch_shape.as_list())) == batch


class LinearOperatorIdentity(_BaseIdentity):
    """``A = I`` of size ``num_rows`` for a batch of shape ``batch_shape``.

    Args:
      num_rows: non-negative int, the number of rows (and columns).
      batch_shape: optional list of non-negative ints, the leading batch shape.
      dtype: the operator's dtype (default float32).
      is_non_singular: must be True or None.
      is_self_adjoint: must be True or None.
      is_positive_definite: must be True or None.
      is_square: must be True or None.
      assert_proper_shapes: unused (shapes are always checked statically).
      name: the operator's name.
    """

    def __init__(self, num_rows, batch_shape=None, dtype=None, is_non_singular=True,
                 is_self_adjoint=True, is_positive_definite=True, is_square=True,
                 assert_proper_shapes=False, name="LinearOperatorIdentity"):
        parameters = u.constructor_parameters(locals())
        for hint, what in ((is_non_singular, "non-singular"),
                           (is_self_adjoint, "self adjoint"),
                           (is_positive_definite, "positive-definite"),
                           (is_square, "square")):
            if not hint:
                raise ValueError(f"An identity operator is always {what}.")
        self._num_rows = _check_num_rows(num_rows)
        self._batch_shape_arg = _check_batch_shape(batch_shape)
        super().__init__(dtype or dtypes.float32, is_non_singular=True,
                         is_self_adjoint=True, is_positive_definite=True, is_square=True,
                         name=name, parameters=parameters)

    def _shape(self):
        return self._batch_shape_arg + (self._num_rows, self._num_rows)

    def _scale(self, adjoint=False):
        return a.ones(self._batch_shape_arg + (1, 1), dtype=self.dtype)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return u.broadcast_batch(u.maybe_adjoint(x, adjoint_arg), self._batch_shape_arg)

    _solve = _matmul

    def _matvec(self, x, adjoint=False):
        batch = u.broadcast_shapes(u.static_shape(x)[:-1], self._batch_shape_arg)
        return a.broadcast_to(x, batch + (self._num_rows,))

    _solvevec = _matvec

    def _determinant(self):
        return a.ones(self._batch_shape_arg, dtype=self.dtype)

    def _log_abs_determinant(self):
        return a.zeros(self._batch_shape_arg, dtype=self.dtype.real_dtype)

    def _trace(self):
        return m.multiply(a.ones(self._batch_shape_arg, dtype=self.dtype),
                          m.cast(self._num_rows, self.dtype))

    def _assert_non_singular(self):
        return None

    def _assert_positive_definite(self):
        return None

    def _assert_self_adjoint(self):
        return None

    def _linop_inverse(self):
        return self

    def _linop_cholesky(self):
        return self

    def _linop_matmul(self, other):
        return other if self._keeps_batch(other) else None

    def _linop_rmatmul(self, other):
        return other if self._keeps_batch(other) else None


class LinearOperatorScaledIdentity(_BaseIdentity):
    """``A = c I`` with a [batch of] scalar ``multiplier`` ``c`` ``[B1, ..., Bb]``.

    Args:
      num_rows: non-negative int, the number of rows (and columns).
      multiplier: float or complex Tensor (or Variable) of shape ``[B1, ..., Bb]``.
      is_non_singular: hint that ``c != 0``.
      is_self_adjoint: hint that ``c`` is real (always True for real dtypes).
      is_positive_definite: hint that ``Re(c) > 0``.
      is_square: must be True or None.
      assert_proper_shapes: unused (shapes are always checked statically).
      name: the operator's name.
    """

    def __init__(self, num_rows, multiplier, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, assert_proper_shapes=False,
                 name="LinearOperatorScaledIdentity"):
        parameters = u.constructor_parameters(locals())
        if is_square is False:
            raise ValueError("A ScaledIdentity operator is always square.")
        self._num_rows = _check_num_rows(num_rows)
        self._multiplier = u.as_parameter(multiplier, "multiplier")
        u.check_dtype(self._multiplier, "multiplier")
        if not self._multiplier.dtype.is_complex:
            is_self_adjoint = u.implied_hint(
                is_self_adjoint, True,
                "A real scaled identity operator is always self adjoint.")
        super().__init__(self._multiplier.dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name, parameters=parameters)

    @property
    def multiplier(self):
        return self._multiplier

    def _shape(self):
        return u.static_shape(self._multiplier) + (self._num_rows, self._num_rows)

    def _scale(self, adjoint=False):
        c = u.maybe_conj(u.as_tensor(self._multiplier), adjoint)
        return a.expand_dims(a.expand_dims(c, -1), -1)

    def _determinant(self):
        return m.pow(u.as_tensor(self._multiplier), m.cast(self._num_rows, self.dtype))

    def _log_abs_determinant(self):
        return m.multiply(m.log(m.abs(u.as_tensor(self._multiplier))),
                          float(self._num_rows))

    def _trace(self):
        return m.multiply(u.as_tensor(self._multiplier), m.cast(self._num_rows,
                                                                self.dtype))

    def _assert_non_singular(self):
        from dlframe.ops import debugging as dbg
        return dbg.assert_positive(m.abs(u.as_tensor(self._multiplier)),
                                   message="LinearOperator was singular")

    def _with(self, multiplier, **hints):
        return LinearOperatorScaledIdentity(self._num_rows, multiplier, **hints)

    def _linop_adjoint(self):
        return self._with(m.conj(u.as_tensor(self._multiplier)),
                          is_non_singular=self.is_non_singular,
                          is_positive_definite=self.is_positive_definite)

    def _linop_inverse(self):
        return self._with(m.reciprocal(u.as_tensor(self._multiplier)),
                          is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite)

    def _linop_cholesky(self):
        return self._with(m.sqrt(u.as_tensor(self._multiplier)), is_non_singular=True,
                          is_self_adjoint=True, is_positive_definite=True)

    def _linop_matmul(self, other):
        if isinstance(other, LinearOperatorScaledIdentity):
            return self._with(m.multiply(u.as_tensor(self._multiplier),
                                         u.as_tensor(other._multiplier)),
                              **self._product_hints(other))
        return None
