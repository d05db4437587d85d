"""``tf.linalg.LinearOperatorZeros``: the all-zeros operator ``[..., M, N]``."""

from dlframe.core import dtypes
from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.linear_operator.identity import _check_batch_shape, _check_num_rows
from dlframe.ops import array as a
from dlframe.ops import math as m


class LinearOperatorZeros(LinearOperator):
    """``A = 0`` with ``num_rows`` rows and ``num_columns`` columns.

    Args:
      num_rows: non-negative int, the number of rows.
      num_columns: non-negative int, the number of columns (default ``num_rows``).
      batch_shape: optional list of non-negative ints, the leading batch shape.
      dtype: the operator's dtype (default float32).
      is_non_singular: must be False or None.
      is_self_adjoint: hint (True by default; a square zero matrix is self-adjoint).
      is_positive_definite: must be False or None.
      is_square: True by default; pass False for ``num_rows != num_columns``.
      assert_proper_shapes: unused (shapes are always checked statically).
      name: the operator's name.
    """

    def __init__(self, num_rows, num_columns=None, batch_shape=None, dtype=None,
                 is_non_singular=False, is_self_adjoint=True, is_positive_definite=False,
                 is_square=True, assert_proper_shapes=False, name="LinearOperatorZeros"):
        parameters = u.constructor_parameters(locals())
        if is_non_singular:
            raise ValueError("A zero operator is always singular.")
        if is_positive_definite:
            raise ValueError("A zero operator is always not positive-definite.")
        self._num_rows = _check_num_rows(num_rows)
        self._num_columns = self._num_rows if num_columns is None else _check_num_rows(
            num_columns, "num_columns")
        if is_square and self._num_rows != self._num_columns:
            raise ValueError(f"LinearOperatorZeros initialized as is_square=True, but "
                             f"got num_rows({self._num_rows}) != "
                             f"num_columns({self._num_columns})")
        if self._num_rows != self._num_columns:
            is_self_adjoint = None if is_self_adjoint else is_self_adjoint
        self._batch_shape_arg = _check_batch_shape(batch_shape)
        super().__init__(dtype or dtypes.float32, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=is_square,
                         name=name, parameters=parameters)

    def _shape(self):
        return self._batch_shape_arg + (self._num_rows, self._num_columns)

    def _zeros(self, x, rows, vector=False):
        shape = u.static_shape(x)
        batch, tail = (shape[:-1], ()) if vector else (shape[:-2], shape[-1:])
        batch = u.broadcast_shapes(batch, self._batch_shape_arg)
        return a.zeros(batch + (rows,) + tail, dtype=self.dtype)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        return self._zeros(x, self._num_columns if adjoint else self._num_rows)

    def _matvec(self, x, adjoint=False):
        return self._zeros(x, self._num_columns if adjoint else self._num_rows, True)

    def _determinant(self):
        return a.zeros(self._batch_shape_arg, dtype=self.dtype)

    def _log_abs_determinant(self):
        return m.log(a.zeros(self._batch_shape_arg, dtype=self.dtype.real_dtype))

    def _trace(self):
        return a.zeros(self._batch_shape_arg, dtype=self.dtype)

    def _diag_part(self):
        n = min(self._num_rows, self._num_columns)
        return a.zeros(self._batch_shape_arg + (n,), dtype=self.dtype)

    def _to_dense(self):
        return a.zeros(self._shape(), dtype=self.dtype)

    def _add_to_tensor(self, x):
        return u.broadcast_batch(x, self._batch_shape_arg)

    def _eigvals(self):
        return self._diag_part()

    def _assert_non_singular(self):
        from dlframe.errors import InvalidArgumentError
        raise InvalidArgumentError("Zero operators are always non-invertible.")

    def _assert_positive_definite(self):
        from dlframe.errors import InvalidArgumentError
        raise InvalidArgumentError("Zero operators are always non-positive definite.")

    def _assert_self_adjoint(self):
        return None

    def _linop_matmul(self, other):
        return self._product(self._num_rows, other.domain_dimension, other)

    def _linop_rmatmul(self, other):
        return self._product(other.range_dimension, self._num_columns, other)

    def _product(self, rows, cols, other):
        batch = u.broadcast_shapes(self._batch_shape_arg, tuple(other.batch_shape))
        return LinearOperatorZeros(rows, int(cols), batch_shape=batch, dtype=self.dtype,
                                   is_self_adjoint=True if rows == cols else None,
                                   is_square=rows == cols)
