"""``tf.linalg.LinearOperator``: the abstract base of structured matrices.

A LinearOperator acts like a batch of matrices ``[B1, ..., Bb, M, N]`` without
necessarily materialising them. Subclasses describe their shape (``_shape``) and
how they multiply (``_matmul``); everything else has a dense default here that a
subclass overrides when its structure allows better (a diagonal solve is a division).
The public methods check the operator's hints and the argument's dtype and shape
before calling the private ``_method`` a subclass implements, as in TensorFlow.

Every algorithm is composed of dlframe ops, so gradients reach the operator's
parameters (Variables included) and everything runs inside ``tf.function``.
"""

from dlframe.core import dtypes
from dlframe.core.module import Module
from dlframe.core.tensor import Tensor, constant, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.linear_operator import _structure
from dlframe.linear_operator import _util as u
from dlframe.ops import array as a
from dlframe.ops import debugging as dbg
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops.creation import eye
from dlframe.ops.linalg import adjoint as _adjoint
from dlframe.ops.linalg import det, diag_part, slogdet, solve
from dlframe.ops.linalg_decomp import cholesky, eigvalsh, svd
from dlframe.ops.linalg_extra import cholesky_solve


def _reconcile_hints(is_non_singular, is_self_adjoint, is_positive_definite, is_square):
    """The hints TF implies from one another (positive definite => non-singular ...)."""
    if is_positive_definite:
        if is_non_singular is False:
            raise ValueError("A positive definite matrix is always non-singular.")
        is_non_singular = True
    if is_non_singular:
        if is_square is False:
            raise ValueError("A non-singular matrix is always square.")
        is_square = True
    if is_self_adjoint:
        if is_square is False:
            raise ValueError("A self-adjoint matrix is always square.")
        is_square = True
    return is_non_singular, is_self_adjoint, is_positive_definite, is_square


class LinearOperator(Module):
    """Base class defining a [batch of] linear operator[s].

    Args:
      dtype: the dtype of the matrices this operator represents.
      graph_parents: deprecated, ignored.
      is_non_singular: hint that the operator is invertible (``None`` = unknown).
      is_self_adjoint: hint that the operator equals its conjugate transpose.
      is_positive_definite: hint that ``Re(x^H A x) > 0`` for all nonzero ``x``.
      is_square: hint that the operator acts like square matrices.
      name: a name for this operator.
      parameters: the constructor's arguments (reported by ``parameters``).

    Raises:
      ValueError: when the hints contradict one another.
    """

    # a composite value (see _structure): tf.function arguments/results, loops, nest
    _dlframe_composite = True
    _dlframe_linear_operator = True

    def _dlframe_flatten(self):
        return _structure.flatten(self)

    def __init__(self, dtype, graph_parents=None, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name=None, parameters=None):
        (is_non_singular, is_self_adjoint, is_positive_definite,
         is_square) = _reconcile_hints(is_non_singular, is_self_adjoint,
                                       is_positive_definite, is_square)
        # TF accepts any string as an operator name (no Module identifier check)
        self._module_name = name
        self._dtype = None if dtype is None else dtypes.as_dtype(dtype)
        self._is_non_singular = is_non_singular
        self._is_self_adjoint = is_self_adjoint
        self._is_positive_definite = is_positive_definite
        self._is_square_set_or_implied_by_hints = is_square
        self._parameters = dict(parameters) if parameters else {}

    # ------------------------------------------------------------ description
    @property
    def dtype(self):
        """The DType of the matrices this operator represents."""
        return self._dtype

    @property
    def name(self):
        return self._module_name

    @property
    def parameters(self):
        """The constructor arguments of this operator (a dict)."""
        return dict(self._parameters)

    @property
    def graph_parents(self):
        """Deprecated: always an empty list."""
        return []

    @property
    def is_non_singular(self):
        return self._is_non_singular

    @property
    def is_self_adjoint(self):
        return self._is_self_adjoint

    @property
    def is_positive_definite(self):
        return self._is_positive_definite

    @property
    def is_square(self):
        """True/False when known from the hints or the static shape, else None."""
        hint = self._is_square_set_or_implied_by_hints
        if hint is not None:
            return hint
        shape = self.shape
        rows, cols = shape[-2], shape[-1]
        if rows is None or cols is None:
            return None
        return rows == cols

    # ------------------------------------------------------------ shapes
    def _shape(self):
        raise NotImplementedError(f"{type(self).__name__} must implement _shape.")

    @property
    def shape(self):
        """TensorShape ``[B1, ..., Bb, M, N]`` of this operator."""
        return TensorShape(self._shape())

    @property
    def batch_shape(self):
        return self.shape[:-2]

    @property
    def tensor_rank(self):
        """Rank of the matrix this operator represents (``b + 2``)."""
        return self.shape.rank

    @property
    def domain_dimension(self):
        """``N``: the dimension of the domain of this operator."""
        return u.dimension(self.shape[-1])

    @property
    def range_dimension(self):
        """``M``: the dimension of the range of this operator."""
        return u.dimension(self.shape[-2])

    def shape_tensor(self, name="shape_tensor"):
        """The shape ``[B1, ..., Bb, M, N]`` as an int32 Tensor."""
        return constant(self.shape.as_list(), dtype=dtypes.int32)

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return constant(self.batch_shape.as_list(), dtype=dtypes.int32)

    def tensor_rank_tensor(self, name="tensor_rank_tensor"):
        return constant(self.tensor_rank, dtype=dtypes.int32)

    def domain_dimension_tensor(self, name="domain_dimension_tensor"):
        return constant(int(self.domain_dimension), dtype=dtypes.int32)

    def range_dimension_tensor(self, name="range_dimension_tensor"):
        return constant(int(self.range_dimension), dtype=dtypes.int32)

    # ------------------------------------------------------------ checks
    def _convert_input(self, x):
        """``x`` as a Tensor of this operator's dtype (TypeError otherwise, as TF)."""
        if not isinstance(x, Tensor):
            x = convert_to_tensor(x)
        if self.dtype is not None and x.dtype != self.dtype:
            raise TypeError(f"Expected argument to have dtype {self.dtype}.  Found: "
                            f"{x.dtype} in tensor {x}")
        return x

    @staticmethod
    def _check_compatible(expected, got):
        if expected is not None and got is not None and int(expected) != int(got):
            raise ValueError(f"Dimensions {int(expected)} and {int(got)} are not "
                             "compatible")

    def _check_square_for(self, what):
        if self.is_square is False:
            raise NotImplementedError(f"{what} not implemented for an operator that is "
                                      "expected to not be square.")

    def _check_solvable(self):
        if self.is_non_singular is False:
            raise NotImplementedError("Exact solve not implemented for an operator that "
                                      "is expected to be singular.")
        self._check_square_for("Exact solve")

    def _can_use_cholesky(self):
        return bool(self.is_self_adjoint and self.is_positive_definite)

    # ------------------------------------------------------------ products
    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        """Transforms ``x`` with left multiplication: ``x --> A x``.

        Args:
          x: a LinearOperator or a Tensor ``[..., N, R]`` of this operator's dtype.
          adjoint: use ``adjoint(A)`` instead of ``A``.
          adjoint_arg: use ``adjoint(x)`` instead of ``x``.
          name: unused (TF compatibility).

        Returns:
          A Tensor ``[..., M, R]`` (a LinearOperator when ``x`` is one).
        """
        if isinstance(x, LinearOperator):
            from dlframe.linear_operator import algebra
            left = self.adjoint() if adjoint else self
            right = x.adjoint() if adjoint_arg else x
            if int(left.domain_dimension) != int(right.range_dimension):
                raise ValueError(f"Operators are incompatible. Expected `x` to have "
                                 f"dimension {int(left.domain_dimension)} but got "
                                 f"{int(right.range_dimension)}.")
            return algebra.matmul(left, right)
        x = self._convert_input(x)
        rows = self.range_dimension if adjoint else self.domain_dimension
        self._check_compatible(rows, x.shape[-1] if adjoint_arg else x.shape[-2])
        return self._matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def __matmul__(self, other):
        return self.matmul(other)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        raise NotImplementedError(f"{type(self).__name__} must implement _matmul.")

    def matvec(self, x, adjoint=False, name="matvec"):
        """Transforms the vector ``x`` ``[..., N]`` with left multiplication."""
        x = self._convert_input(x)
        self._check_compatible(self.range_dimension if adjoint else self.domain_dimension,
                               x.shape[-1])
        return self._matvec(x, adjoint=adjoint)

    def _matvec(self, x, adjoint=False):
        return a.squeeze(self._matmul(a.expand_dims(x, -1), adjoint=adjoint), [-1])

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        """Solves ``A X = rhs`` (or ``A^H X = rhs``) for ``X``.

        Args:
          rhs: a LinearOperator or a Tensor ``[..., M, R]`` of this operator's dtype.
          adjoint: solve with ``adjoint(A)``.
          adjoint_arg: use ``adjoint(rhs)`` as the right-hand side.
          name: unused (TF compatibility).

        Returns:
          ``X`` ``[..., N, R]`` (a LinearOperator when ``rhs`` is one).

        Raises:
          NotImplementedError: when the operator is hinted singular or non-square.
        """
        self._check_solvable()
        if isinstance(rhs, LinearOperator):
            left = self.adjoint() if adjoint else self
            right = rhs.adjoint() if adjoint_arg else rhs
            return left.inverse().matmul(right)
        rhs = self._convert_input(rhs)
        rows = self.domain_dimension if adjoint else self.range_dimension
        self._check_compatible(rows, rhs.shape[-1] if adjoint_arg else rhs.shape[-2])
        return self._solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = u.broadcast_batch(u.maybe_adjoint(rhs, adjoint_arg), self.batch_shape)
        dense = u.broadcast_batch(self.to_dense(), static_batch(rhs))
        if self._can_use_cholesky():
            return cholesky_solve(cholesky(dense), rhs)
        return solve(dense, rhs, adjoint=adjoint)

    def solvevec(self, rhs, adjoint=False, name="solve"):
        """Solves ``A x = rhs`` for the vector ``x`` (``rhs`` is ``[..., M]``)."""
        self._check_solvable()
        rhs = self._convert_input(rhs)
        self._check_compatible(self.domain_dimension if adjoint else self.range_dimension,
                               rhs.shape[-1])
        return self._solvevec(rhs, adjoint=adjoint)

    def _solvevec(self, rhs, adjoint=False):
        return a.squeeze(self._solve(a.expand_dims(rhs, -1), adjoint=adjoint), [-1])

    # ------------------------------------------------------------ scalars
    def determinant(self, name="det"):
        """Determinant of every batch member (``[B1, ..., Bb]``)."""
        self._check_square_for("Determinant")
        return self._determinant()

    def _determinant(self):
        if self._can_use_cholesky():
            return m.exp(self._log_abs_determinant())
        return det(self.to_dense())

    def log_abs_determinant(self, name="log_abs_det"):
        """Log of the absolute value of the determinant of every batch member."""
        self._check_square_for("Determinant")
        return self._log_abs_determinant()

    def _log_abs_determinant(self):
        if self._can_use_cholesky():
            chol_diag = diag_part(cholesky(self.to_dense()))
            return 2.0 * r.reduce_sum(m.log(m.real(chol_diag) if chol_diag.dtype.is_complex
                                            else chol_diag), axis=-1)
        return slogdet(self.to_dense())[1]

    def diag_part(self, name="diag_part"):
        """The main diagonal ``[B1, ..., Bb, min(M, N)]``."""
        return self._diag_part()

    def _diag_part(self):
        return diag_part(self.to_dense())

    def trace(self, name="trace"):
        """Sum of the main diagonal of every batch member."""
        return self._trace()

    def _trace(self):
        return r.reduce_sum(self.diag_part(), axis=-1)

    def to_dense(self, name="to_dense"):
        """The dense matrices ``[B1, ..., Bb, M, N]`` this operator represents."""
        return self._to_dense()

    def _to_dense(self):
        shape = self.shape.as_list()
        identity = eye(shape[-1], batch_shape=shape[:-2], dtype=self.dtype)
        return self._matmul(identity)

    def add_to_tensor(self, x, name="add_to_tensor"):
        """``A + x`` for a Tensor ``x`` of this operator's shape and dtype."""
        x = self._convert_input(x)
        return self._add_to_tensor(x)

    def _add_to_tensor(self, x):
        return m.add(self.to_dense(), x)

    def eigvals(self, name="eigvals"):
        """Eigenvalues of every (self-adjoint) batch member, ``[..., N]``."""
        if not self.is_self_adjoint:
            raise NotImplementedError("Only self-adjoint matrices are supported.")
        return self._eigvals()

    def _eigvals(self):
        return eigvalsh(self.to_dense())

    def cond(self, name="cond"):
        """The condition number ``max(sigma) / min(sigma)`` of every batch member."""
        return self._cond()

    def _cond(self):
        if self.is_self_adjoint:
            vals = m.abs(self.eigvals())
        else:
            vals = svd(self.to_dense(), compute_uv=False)
        return m.divide(r.reduce_max(vals, axis=-1), r.reduce_min(vals, axis=-1))

    # ------------------------------------------------------------ assertions
    def assert_non_singular(self, name="assert_non_singular"):
        """An op raising InvalidArgumentError (when run) if the operator is singular."""
        return self._assert_non_singular()

    def _assert_non_singular(self):
        dims = max(100, int(self.range_dimension), int(self.domain_dimension))
        limit = 1.0 / (dims * _eps(self.dtype))
        cond = self._cond()
        return dbg.assert_less(cond, m.cast(limit, cond.dtype),
                               message="Singular matrix up to precision epsilon.")

    def assert_positive_definite(self, name="assert_positive_definite"):
        """An op raising InvalidArgumentError if the operator is not positive definite."""
        return self._assert_positive_definite()

    def _assert_positive_definite(self):
        if not self.is_self_adjoint:
            raise NotImplementedError("assert_positive_definite is not implemented.")
        vals = self.eigvals()
        return dbg.assert_positive(m.real(vals) if vals.dtype.is_complex else vals,
                                   message="Matrix was not positive definite.")

    def assert_self_adjoint(self, name="assert_self_adjoint"):
        """An op raising InvalidArgumentError if the operator is not self-adjoint."""
        return self._assert_self_adjoint()

    def _assert_self_adjoint(self):
        dense = self.to_dense()
        # a tolerance of a few ulps: a dense form built by products (U D U^H) is
        # symmetric only up to rounding
        return dbg.assert_near(dense, _adjoint(dense),
                               message="Matrix was not equal to its adjoint.")

    # ------------------------------------------------------------ operator algebra
    def adjoint(self, name="adjoint"):
        """The adjoint ``A^H`` as a LinearOperator (``self`` when self-adjoint)."""
        if self.is_self_adjoint is True:
            return self
        return self._linop_adjoint()

    @property
    def H(self):
        """The adjoint ``A^H`` (same as ``adjoint()``)."""
        return self.adjoint()

    def _linop_adjoint(self):
        from dlframe.linear_operator.adjoint import LinearOperatorAdjoint
        return LinearOperatorAdjoint(self)

    def inverse(self, name="inverse"):
        """The inverse ``A^{-1}`` as a LinearOperator.

        Raises:
          ValueError: when the operator is hinted non-square or singular.
        """
        if self.is_square is False:
            raise ValueError("Cannot take the Inverse: This operator represents a non "
                             "square matrix.")
        if self.is_non_singular is False:
            raise ValueError("Cannot take the Inverse: This operator represents a "
                             "singular matrix.")
        return self._linop_inverse()

    def _linop_inverse(self):
        from dlframe.linear_operator.inversion import LinearOperatorInversion
        return LinearOperatorInversion(self)

    def cholesky(self, name="cholesky"):
        """The lower-triangular ``L`` with ``A = L L^H`` as a LinearOperator.

        Raises:
          ValueError: unless the operator is hinted self-adjoint and positive definite.
        """
        if not self._can_use_cholesky():
            raise ValueError("Cannot take the Cholesky decomposition: Not a positive "
                             "definite self adjoint matrix.")
        return self._linop_cholesky()

    def _linop_cholesky(self):
        from dlframe.linear_operator.lower_triangular import (
            LinearOperatorLowerTriangular,
        )
        return LinearOperatorLowerTriangular(cholesky(self.to_dense()),
                                             is_non_singular=True, is_self_adjoint=False,
                                             is_square=True)

    def _linop_matmul(self, other):
        """``self @ other`` with structure, or None (the caller composes then)."""
        return

    def _linop_rmatmul(self, other):
        """``other @ self`` with structure, or None."""
        return

    # dlframe's conversion protocol: tf.matmul(operator, x) and friends see the
    # dense matrix, as TF's dispatch for LinearOperator arguments gives.
    def _dlframe_tensor_(self, dtype=None):
        dense = self.to_dense()
        if dtype is not None and dtypes.as_dtype(dtype) != dense.dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype} for "
                             f"{type(self).__name__} of dtype {dense.dtype}")
        return dense

    def __repr__(self):
        return (f"<tf.linalg.{type(self).__name__} '{self.name}' shape={self.shape} "
                f"dtype={self.dtype.name}>")


def static_batch(x):
    """The static batch shape (all dims but the last two) of a Tensor."""
    return u.static_shape(x)[:-2]


def _eps(dtype):
    real = {"complex64": dtypes.float32, "complex128": dtypes.float64}.get(
        dtype.name, dtype)
    return {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23,
            "float64": 2.0 ** -52}[real.name]

