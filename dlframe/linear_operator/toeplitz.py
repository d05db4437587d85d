"""``tf.linalg.LinearOperatorToeplitz``: a matrix constant along its diagonals,
given by its first column and first row. Products embed it in a circulant matrix
of twice the size and use the FFT."""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.linear_operator.circulant import LinearOperatorCirculant, _complex_of
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops import signal
from dlframe.ops.array_index import gather


class LinearOperatorToeplitz(LinearOperator):
    """``A[i, j] = col[i - j]`` for ``i >= j`` and ``row[j - i]`` for ``j > i``.

    Args:
      col: float or complex Tensor ``[..., N]``, the first column.
      row: Tensor ``[..., N]`` of ``col``'s dtype, the first row (``row[0]`` is
        ignored: ``col[0]`` is the diagonal).
      is_non_singular: hint that the operator is invertible.
      is_self_adjoint: hint that the operator is self-adjoint.
      is_positive_definite: hint that the operator is positive definite.
      is_square: must be True or None.
      name: the operator's name.
    """

    def __init__(self, col, row, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None,
                 name="LinearOperatorToeplitz"):
        parameters = u.constructor_parameters(locals())
        self._col = u.as_parameter(col, "col")
        self._row = u.as_parameter(row, "row", dtype_hint=self._col.dtype)
        u.check_dtype(self._col, "col")
        if self._row.dtype != self._col.dtype:
            raise TypeError(f"Arguments `row` and `col` must have the same dtype. "
                            f"Received: {self._row.dtype} and {self._col.dtype}.")
        u.check_rank_at_least(self._col, "col", 1)
        u.check_rank_at_least(self._row, "row", 1)
        if self._col.shape[-1] != self._row.shape[-1]:
            raise ValueError("Expected square matrix, got row and col with mismatched "
                             "dimensions.")
        super().__init__(self._col.dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=is_square,
                         name=name, parameters=parameters)

    @property
    def col(self):
        return self._col

    @property
    def row(self):
        return self._row

    def _n(self):
        return u.static_shape(self._col)[-1]

    def _shape(self):
        batch = u.broadcast_shapes(u.static_shape(self._col)[:-1],
                                   u.static_shape(self._row)[:-1])
        return batch + (self._n(), self._n())

    def _col_row(self, adjoint=False):
        """First column and row of ``A`` (or ``A^H``), broadcast to the batch shape."""
        shape = tuple(self.batch_shape.as_list()) + (self._n(),)
        col = a.broadcast_to(u.as_tensor(self._col), shape)
        row = a.broadcast_to(u.as_tensor(self._row), shape)
        if adjoint:   # A^H: first column conj(row) (diagonal kept), first row conj(col)
            col, row = (u.maybe_conj(a.concat([col[..., :1], row[..., 1:]], axis=-1),
                                     True), u.maybe_conj(col, True))
        return col, row

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        col, row = self._col_row(adjoint)
        n = self._n()
        # the first column of a 2N circulant holding A in its top-left corner
        first = a.concat([col, m.zeros_like(col[..., :1]), a.reverse(row[..., 1:], [-1])],
                         axis=-1)
        spectrum = signal.fft(m.cast(first, _complex_of(self.dtype)))
        circulant = LinearOperatorCirculant(spectrum, input_output_dtype=self.dtype)
        shape = u.static_shape(x)
        padded = a.concat([x, a.zeros(shape[:-2] + (n, shape[-1]), dtype=x.dtype)],
                          axis=-2)
        return circulant.matmul(padded)[..., :n, :]

    def _to_dense(self):
        n = self._n()
        col, row = self._col_row()
        # values[n - 1 + d] is the entry on diagonal i - j = d
        values = a.concat([a.reverse(row[..., 1:], [-1]), col], axis=-1)
        index = [[n - 1 + i - j for j in range(n)] for i in range(n)]
        return gather(values, index, axis=-1)

    def _diag_part(self):
        col = u.as_tensor(self._col)
        return a.broadcast_to(col[..., :1], tuple(self.batch_shape.as_list()) +
                              (self._n(),))
