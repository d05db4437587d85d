"""``tf.linalg.LinearOperator`` and its structured subclasses.

Each module holds one operator (or a small family); ``dlframe.linalg`` re-exports
the names listed in ``LINEAR_OPERATOR_NAMES``.
"""

from dlframe.linear_operator.adjoint import LinearOperatorAdjoint
from dlframe.linear_operator.base import LinearOperator
from dlframe.linear_operator.block_diag import LinearOperatorBlockDiag
from dlframe.linear_operator.block_lower_triangular import (
    LinearOperatorBlockLowerTriangular,
)
from dlframe.linear_operator.circulant import (
    LinearOperatorCirculant,
    LinearOperatorCirculant2D,
    LinearOperatorCirculant3D,
)
from dlframe.linear_operator.composition import LinearOperatorComposition
from dlframe.linear_operator.diag import LinearOperatorDiag
from dlframe.linear_operator.full_matrix import LinearOperatorFullMatrix
from dlframe.linear_operator.householder import LinearOperatorHouseholder
from dlframe.linear_operator.identity import (
    LinearOperatorIdentity,
    LinearOperatorScaledIdentity,
)
from dlframe.linear_operator.inversion import LinearOperatorInversion
from dlframe.linear_operator.kronecker import LinearOperatorKronecker
from dlframe.linear_operator.low_rank_update import LinearOperatorLowRankUpdate
from dlframe.linear_operator.lower_triangular import LinearOperatorLowerTriangular
from dlframe.linear_operator.permutation import LinearOperatorPermutation
from dlframe.linear_operator.toeplitz import LinearOperatorToeplitz
from dlframe.linear_operator.tridiag import LinearOperatorTridiag
from dlframe.linear_operator.zeros import LinearOperatorZeros

__all__ = [
    "LinearOperator", "LinearOperatorAdjoint", "LinearOperatorBlockDiag",
    "LinearOperatorBlockLowerTriangular", "LinearOperatorCirculant",
    "LinearOperatorCirculant2D", "LinearOperatorCirculant3D",
    "LinearOperatorComposition", "LinearOperatorDiag", "LinearOperatorFullMatrix",
    "LinearOperatorHouseholder", "LinearOperatorIdentity", "LinearOperatorInversion",
    "LinearOperatorKronecker", "LinearOperatorLowRankUpdate",
    "LinearOperatorLowerTriangular", "LinearOperatorPermutation",
    "LinearOperatorScaledIdentity", "LinearOperatorToeplitz", "LinearOperatorTridiag",
    "LinearOperatorZeros",
]
LINEAR_OPERATOR_NAMES = list(__all__)
