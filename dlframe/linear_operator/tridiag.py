"""``tf.linalg.LinearOperatorTridiag``: a [batch of] square tridiagonal matrices.

Products combine three shifted copies of the argument (``O(N)`` per column); the
diagonals may be given in TF's ``compact``, ``sequence`` or ``matrix`` formats.
"""

from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import array as a
from dlframe.ops import math as m
from dlframe.ops.linalg import diag_part

_FORMATS = ("compact", "matrix", "sequence")


def _shift(x, offset, axis_from_end):
    """``x`` moved by ``offset`` (+1: entry i holds x[i + 1]) along an axis, zero
    filled at the end it leaves."""
    rank = len(x.shape)
    axis = rank - axis_from_end
    pad = [[0, 0] for _ in range(rank)]
    if offset > 0:
        pad[axis] = [0, 1]
        sliced = x[(slice(None),) * axis + (slice(1, None),)]
    else:
        pad[axis] = [1, 0]
        sliced = x[(slice(None),) * axis + (slice(None, -1),)]
    return a.pad(sliced, pad)


class LinearOperatorTridiag(LinearOperator):
    """A square tridiagonal operator.

    Args:
      diagonals: the three diagonals. ``compact``: a Tensor ``[..., 3, N]`` holding
        the superdiagonal (last entry ignored), diagonal and subdiagonal (first entry
        ignored); ``sequence``: a list of those three ``[..., N]`` Tensors;
        ``matrix``: a ``[..., N, N]`` Tensor whose tridiagonal part is used.
      diagonals_format: one of ``compact``, ``matrix`` or ``sequence``.
      is_non_singular: hint that the operator is invertible.
      is_self_adjoint: hint that the operator is self-adjoint.
      is_positive_definite: hint that the operator is positive definite.
      is_square: must be True or None.
      name: the operator's name.
    """

    def __init__(self, diagonals, diagonals_format="compact", is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name="LinearOperatorTridiag"):
        parameters = u.constructor_parameters(locals())
        if diagonals_format not in _FORMATS:
            raise ValueError(f"Argument `diagonals_format` must be one of compact, "
                             f"matrix, or sequence. Received : {diagonals_format}.")
        if diagonals_format == "sequence":
            if not isinstance(diagonals, (list, tuple)) or len(diagonals) != 3:
                raise ValueError(f"Argument `diagonals` must be a list of 3 Tensors in "
                                 f"`sequence` format. Received: {diagonals!r}.")
            self._diagonals = [u.as_parameter(d, "diagonals") for d in diagonals]
            first = self._diagonals[0]
        else:
            self._diagonals = u.as_parameter(diagonals, "diagonals")
            first = self._diagonals
            u.check_rank_at_least(first, "diagonals", 2)
            if diagonals_format == "compact" and first.shape[-2] != 3:
                raise ValueError(f"Argument `diagonals` in `compact` format must have "
                                 f"shape [..., 3, N]. Received: {first.shape}.")
        u.check_dtype(first, "diagonals")
        self._diagonals_format = diagonals_format
        if is_square is False:
            raise ValueError("A tridiagonal operator is always square.")
        super().__init__(first.dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name, parameters=parameters)

    @property
    def diagonals(self):
        return self._diagonals

    @property
    def diagonals_format(self):
        return self._diagonals_format

    def _shape(self):
        if self._diagonals_format == "sequence":
            shapes = [u.static_shape(d) for d in self._diagonals]
            n = shapes[1][-1]
            return u.broadcast_shapes(*(s[:-1] for s in shapes)) + (n, n)
        shape = u.static_shape(self._diagonals)
        n = shape[-1]
        return shape[:-2] + (n, n)

    def _parts(self, adjoint=False):
        """(superdiagonal, diagonal, subdiagonal), each ``[..., N]``; the
        superdiagonal's last and the subdiagonal's first entries are zero."""
        if self._diagonals_format == "sequence":
            sup, mid, sub = (u.as_tensor(d) for d in self._diagonals)
        elif self._diagonals_format == "compact":
            d = u.as_tensor(self._diagonals)
            sup, mid, sub = d[..., 0, :], d[..., 1, :], d[..., 2, :]
        else:
            d = u.as_tensor(self._diagonals)
            mid = diag_part(d)
            sup = a.pad(diag_part(d, k=1), [[0, 0]] * (len(d.shape) - 2) + [[0, 1]])
            sub = a.pad(diag_part(d, k=-1), [[0, 0]] * (len(d.shape) - 2) + [[1, 0]])
        n = int(self.domain_dimension)
        sup = m.multiply(sup, m.cast([1.0] * (n - 1) + [0.0], sup.dtype))  # ignored
        sub = m.multiply(sub, m.cast([0.0] + [1.0] * (n - 1), sub.dtype))  # entries
        if adjoint:   # A^H[i, i+1] = conj(A[i+1, i]) and A^H[i, i-1] = conj(A[i-1, i])
            sup, mid, sub = (u.maybe_conj(_shift(sub, 1, 1), True),
                             u.maybe_conj(mid, True),
                             u.maybe_conj(_shift(sup, -1, 1), True))
        return sup, mid, sub

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        sup, mid, sub = (a.expand_dims(p, -1) for p in self._parts(adjoint))
        return m.add(m.add(m.multiply(mid, x), m.multiply(sup, _shift(x, 1, 2))),
                     m.multiply(sub, _shift(x, -1, 2)))

    def _diag_part(self):
        mid = self._parts()[1]
        return a.broadcast_to(mid, tuple(self.batch_shape.as_list()) +
                              (int(self.domain_dimension),))
