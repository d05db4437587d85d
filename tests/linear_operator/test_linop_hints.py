"""Hints, default names, argument errors and the operator algebra (which class
``A @ B``, ``A.inverse()``, ``A.H`` and ``A.cholesky()`` return). The expected
values were taken from TensorFlow 2.21."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

L = tf.linalg
f32 = np.float32
M = np.array([[2.0, 1.0], [0.5, 3.0]], f32)
S = np.array([[2.0, 1.0], [1.0, 3.0]], f32)
PD = {"is_self_adjoint": True, "is_positive_definite": True, "is_non_singular": True}


def D(v, **k):
    return L.LinearOperatorDiag(np.asarray(v, f32), **k)


def F(m, **k):
    return L.LinearOperatorFullMatrix(np.asarray(m, f32), **k)


def _summary(op):
    return (type(op).__name__, op.name, tuple(op.shape), op.dtype.name,
            op.is_non_singular, op.is_self_adjoint, op.is_positive_definite,
            op.is_square)


# (label, builder, expected summary) -- from TF 2.21
SUMMARIES = [
    ("full", lambda: F(M), ("LinearOperatorFullMatrix", "LinearOperatorFullMatrix",
                            (2, 2), "float32", None, None, None, True)),
    ("pd_implies_non_singular", lambda: F(S, is_positive_definite=True),
     ("LinearOperatorFullMatrix", "LinearOperatorFullMatrix", (2, 2), "float32",
      True, None, True, True)),
    ("diag", lambda: D([1.0, 2.0]), ("LinearOperatorDiag", "LinearOperatorDiag",
                                     (2, 2), "float32", None, True, None, True)),
    ("diag_complex", lambda: L.LinearOperatorDiag(np.array([1.0, 2j], np.complex64)),
     ("LinearOperatorDiag", "LinearOperatorDiag", (2, 2), "complex64", None, None,
      None, True)),
    ("identity", lambda: L.LinearOperatorIdentity(3, batch_shape=[2]),
     ("LinearOperatorIdentity", "LinearOperatorIdentity", (2, 3, 3), "float32", True,
      True, True, True)),
    ("scaled_identity", lambda: L.LinearOperatorScaledIdentity(3, np.array([2.0, 3.0],
                                                                           f32)),
     ("LinearOperatorScaledIdentity", "LinearOperatorScaledIdentity", (2, 3, 3),
      "float32", None, True, None, True)),
    ("zeros", lambda: L.LinearOperatorZeros(3), ("LinearOperatorZeros",
                                                 "LinearOperatorZeros", (3, 3),
                                                 "float32", False, True, False, True)),
    ("composition", lambda: L.LinearOperatorComposition([D([1.0, 2.0], **PD), F(M)]),
     ("LinearOperatorComposition", "LinearOperatorDiag_o_LinearOperatorFullMatrix",
      (2, 2), "float32", None, None, None, True)),
    ("block_diag", lambda: L.LinearOperatorBlockDiag([D([1.0, 2.0], **PD),
                                                      F(S, **PD)]),
     ("LinearOperatorBlockDiag", "LinearOperatorDiag_ds_LinearOperatorFullMatrix",
      (4, 4), "float32", True, True, True, True)),
    ("kronecker", lambda: L.LinearOperatorKronecker([D([1.0, 2.0], **PD),
                                                     F(S, **PD)]),
     ("LinearOperatorKronecker", "LinearOperatorDiag_x_LinearOperatorFullMatrix",
      (4, 4), "float32", True, True, True, True)),
    ("kronecker_single", lambda: L.LinearOperatorKronecker([D([1.0, 2.0])]),
     ("LinearOperatorKronecker", "LinearOperatorDiag", (2, 2), "float32", None, True,
      None, True)),
    ("low_rank_update", lambda: L.LinearOperatorLowRankUpdate(
        D([1.0, 2.0], **PD), np.ones((2, 1), f32)),
     ("LinearOperatorLowRankUpdate", "LinearOperatorLowRankUpdate", (2, 2), "float32",
      True, True, True, True)),
    ("low_rank_update_v", lambda: L.LinearOperatorLowRankUpdate(
        D([1.0, 2.0], **PD), np.ones((2, 1), f32), v=np.ones((2, 1), f32)),
     ("LinearOperatorLowRankUpdate", "LinearOperatorLowRankUpdate", (2, 2), "float32",
      None, None, None, True)),
    ("low_rank_update_diag", lambda: L.LinearOperatorLowRankUpdate(
        D([1.0, 2.0], **PD), np.ones((2, 1), f32), diag_update=np.ones(1, f32)),
     ("LinearOperatorLowRankUpdate", "LinearOperatorLowRankUpdate", (2, 2), "float32",
      None, True, None, True)),
    ("inversion", lambda: L.LinearOperatorInversion(D([1.0, 2.0], **PD)),
     ("LinearOperatorInversion", "LinearOperatorDiag_inv", (2, 2), "float32", True,
      True, True, True)),
    ("adjoint", lambda: L.LinearOperatorAdjoint(F(np.ones((2, 3)))),
     ("LinearOperatorAdjoint", "LinearOperatorFullMatrix_adjoint", (3, 2), "float32",
      None, None, None, False)),
    ("circulant_real_spectrum", lambda: L.LinearOperatorCirculant(
        np.array([1.0, 2.0, 2.0], f32)),
     ("LinearOperatorCirculant", "LinearOperatorCirculant", (3, 3), "complex64", None,
      True, None, True)),
    ("circulant_2d", lambda: L.LinearOperatorCirculant2D(np.ones((2, 3), np.complex64)),
     ("LinearOperatorCirculant2D", "LinearOperatorCirculant2D", (6, 6), "complex64",
      None, None, None, True)),
    ("circulant_3d", lambda: L.LinearOperatorCirculant3D(np.ones((2, 2, 3),
                                                                 np.complex64)),
     ("LinearOperatorCirculant3D", "LinearOperatorCirculant3D", (12, 12), "complex64",
      None, None, None, True)),
    ("householder", lambda: L.LinearOperatorHouseholder(np.array([1.0, 2.0], f32)),
     ("LinearOperatorHouseholder", "LinearOperatorHouseholder", (2, 2), "float32", None,
      True, False, True)),
    ("permutation", lambda: L.LinearOperatorPermutation([2, 0, 1]),
     ("LinearOperatorPermutation", "LinearOperatorPermutation", (3, 3), "float32",
      None, None, None, True)),
    ("tridiag", lambda: L.LinearOperatorTridiag(np.ones((3, 3), f32)),
     ("LinearOperatorTridiag", "LinearOperatorTridiag", (3, 3), "float32", None, None,
      None, True)),
    ("block_lower_triangular", lambda: L.LinearOperatorBlockLowerTriangular(
        [[D([1.0, 2.0], **PD)], [F(np.ones((3, 2))), D([1.0, 2.0, 3.0], **PD)]]),
     ("LinearOperatorBlockLowerTriangular", "LinearOperatorBlockLowerTriangular",
      (5, 5), "float32", True, None, None, True)),
    # the operator algebra
    ("diag@diag", lambda: D([1.0, 2.0]) @ D([3.0, 4.0]),
     ("LinearOperatorDiag", "LinearOperatorDiag", (2, 2), "float32", None, True, None,
      True)),
    ("identity@full", lambda: L.LinearOperatorIdentity(2) @ F(M),
     ("LinearOperatorFullMatrix", "LinearOperatorFullMatrix", (2, 2), "float32", None,
      None, None, True)),
    ("scaled@diag", lambda: L.LinearOperatorScaledIdentity(2, 3.0) @ D([1.0, 2.0]),
     ("LinearOperatorDiag", "LinearOperatorDiag", (2, 2), "float32", None, True, None,
      True)),
    ("scaled@scaled", lambda: (L.LinearOperatorScaledIdentity(2, 3.0)
                               @ L.LinearOperatorScaledIdentity(2, 2.0)),
     ("LinearOperatorScaledIdentity", "LinearOperatorScaledIdentity", (2, 2),
      "float32", None, True, None, True)),
    ("diag@tril", lambda: D([1.0, 2.0]) @ L.LinearOperatorLowerTriangular(M),
     ("LinearOperatorLowerTriangular", "LinearOperatorLowerTriangular", (2, 2),
      "float32", None, None, None, True)),
    ("full@full", lambda: F(M) @ F(M),
     ("LinearOperatorComposition", "LinearOperatorFullMatrix_o_LinearOperatorFullMatrix",
      (2, 2), "float32", None, None, None, True)),
    ("circulant@circulant", lambda: (L.LinearOperatorCirculant(np.ones(3, np.complex64))
                                     @ L.LinearOperatorCirculant(np.ones(3,
                                                                         np.complex64))),
     ("LinearOperatorCirculant", "LinearOperatorCirculant", (3, 3), "complex64", None,
      None, None, True)),
    ("blockdiag@blockdiag", lambda: (L.LinearOperatorBlockDiag([D([1.0, 2.0])] * 2)
                                     @ L.LinearOperatorBlockDiag([D([1.0, 2.0])] * 2)),
     ("LinearOperatorBlockDiag", "LinearOperatorDiag_ds_LinearOperatorDiag", (4, 4),
      "float32", None, True, None, True)),
    ("zeros@full", lambda: L.LinearOperatorZeros(2) @ F(M),
     ("LinearOperatorZeros", "LinearOperatorZeros", (2, 2), "float32", False, True,
      False, True)),
    ("full.solve(diag)", lambda: F(M).solve(D([1.0, 2.0])),
     ("LinearOperatorComposition", "LinearOperatorFullMatrix_inv_o_LinearOperatorDiag",
      (2, 2), "float32", None, None, None, True)),
    ("full.inverse", lambda: F(M).inverse(),
     ("LinearOperatorInversion", "LinearOperatorFullMatrix_inv", (2, 2), "float32",
      None, None, None, True)),
    ("full.inverse.inverse", lambda: F(M).inverse().inverse(),
     ("LinearOperatorFullMatrix", "LinearOperatorFullMatrix", (2, 2), "float32", None,
      None, None, True)),
    ("full.H.H", lambda: F(M).H.H, ("LinearOperatorFullMatrix",
                                    "LinearOperatorFullMatrix", (2, 2), "float32",
                                    None, None, None, True)),
    ("full.inverse.H", lambda: F(M).inverse().H,
     ("LinearOperatorAdjoint", "LinearOperatorFullMatrix_inv_adjoint", (2, 2),
      "float32", None, None, None, True)),
    ("self_adjoint.H", lambda: F(S, is_self_adjoint=True).H,
     ("LinearOperatorFullMatrix", "LinearOperatorFullMatrix", (2, 2), "float32", None,
      True, None, True)),
    ("diag.cholesky", lambda: D([1.0, 4.0], **PD).cholesky(),
     ("LinearOperatorDiag", "LinearOperatorDiag", (2, 2), "float32", True, True, True,
      True)),
    ("full.cholesky", lambda: F(S, **PD).cholesky(),
     ("LinearOperatorLowerTriangular", "LinearOperatorLowerTriangular", (2, 2),
      "float32", True, False, None, True)),
    ("identity.inverse", lambda: L.LinearOperatorIdentity(2).inverse(),
     ("LinearOperatorIdentity", "LinearOperatorIdentity", (2, 2), "float32", True,
      True, True, True)),
    ("scaled.cholesky", lambda: L.LinearOperatorScaledIdentity(
        2, 4.0, is_positive_definite=True).cholesky(),
     ("LinearOperatorScaledIdentity", "LinearOperatorScaledIdentity", (2, 2),
      "float32", True, True, True, True)),
    ("blockdiag.H", lambda: L.LinearOperatorBlockDiag([F(M)] * 2).H,
     ("LinearOperatorBlockDiag",
      "LinearOperatorFullMatrix_adjoint_ds_LinearOperatorFullMatrix_adjoint", (4, 4),
      "float32", None, None, None, True)),
    ("kronecker.inverse", lambda: L.LinearOperatorKronecker([F(M)] * 2).inverse(),
     ("LinearOperatorKronecker", ("LinearOperatorFullMatrix_inv_x_LinearOperatorFull"
      "Matrix_inv"), (4, 4), "float32", None, None, None, True)),
    ("kronecker.cholesky", lambda: L.LinearOperatorKronecker(
        [D([1.0, 2.0], **PD)] * 2).cholesky(),
     ("LinearOperatorKronecker", "LinearOperatorDiag_x_LinearOperatorDiag", (4, 4),
      "float32", True, True, True, True)),
    ("householder.inverse", lambda: L.LinearOperatorHouseholder(
        np.array([1.0, 2.0], f32)).inverse(),
     ("LinearOperatorHouseholder", "LinearOperatorHouseholder", (2, 2), "float32",
      None, True, False, True)),
    ("permutation.H", lambda: L.LinearOperatorPermutation([2, 0, 1]).H,
     ("LinearOperatorAdjoint", "LinearOperatorPermutation_adjoint", (3, 3), "float32",
      None, None, None, True)),
    ("circulant.inverse", lambda: L.LinearOperatorCirculant(
        np.array([1.0, 2.0, 2.0], np.complex64)).inverse(),
     ("LinearOperatorCirculant", "LinearOperatorCirculant", (3, 3), "complex64", None,
      None, None, True)),
]


@pytest.mark.parametrize("build,expected", [s[1:] for s in SUMMARIES],
                         ids=[s[0] for s in SUMMARIES])
def test_hints_names_and_algebra_match_tf(build, expected):
    assert _summary(build()) == expected


# (label, builder, error type, message fragment) -- from TF 2.21
ERRORS = [
    ("rank", lambda: L.LinearOperatorFullMatrix([1.0, 2.0]), ValueError,
     "Argument `matrix` must have at least 2 dimensions"),
    ("dtype", lambda: L.LinearOperatorFullMatrix(np.ones((2, 2), np.int32)), TypeError,
     "Argument `matrix` must have dtype in"),
    ("diag_scalar", lambda: L.LinearOperatorDiag(1.0), ValueError,
     "Argument diag must have at least 1 dimension"),
    ("pd_singular", lambda: F(M, is_positive_definite=True, is_non_singular=False),
     ValueError, "A positive definite matrix is always non-singular."),
    ("identity_hint", lambda: L.LinearOperatorIdentity(3, is_self_adjoint=False),
     ValueError, "An identity operator is always self adjoint."),
    ("identity_rows", lambda: L.LinearOperatorIdentity(-1), ValueError,
     "must be non-negative"),
    ("zeros_rect", lambda: L.LinearOperatorZeros(3, 2), ValueError,
     r"is_square=True, but got num_rows\(3\) != num_columns\(2\)"),
    ("zeros_hint", lambda: L.LinearOperatorZeros(3, is_non_singular=True), ValueError,
     "A zero operator is always singular."),
    ("composition_empty", lambda: L.LinearOperatorComposition([]), ValueError,
     "Expected a non-empty list of operators"),
    ("composition_dtype", lambda: L.LinearOperatorComposition(
        [D([1.0, 2.0]), L.LinearOperatorDiag(np.ones(2))]), TypeError,
     "Expected all operators to have the same dtype"),
    ("blockdiag_hint", lambda: L.LinearOperatorBlockDiag(
        [D([1.0, 2.0], **PD), F(S, **PD)], is_non_singular=False), ValueError,
     "The direct sum of non-singular operators is always non-singular."),
    ("kronecker_hint", lambda: L.LinearOperatorKronecker(
        [D([1.0, 2.0], **PD), F(S, **PD)], is_self_adjoint=False), ValueError,
     "The Kronecker product of self-adjoint operators is always self-adjoint."),
    ("low_rank_positive", lambda: L.LinearOperatorLowRankUpdate(
        D([1.0, 2.0]), np.ones((2, 1), f32), is_diag_update_positive=False), ValueError,
     "Default diagonal is the identity, which is positive."),
    ("inversion_singular", lambda: L.LinearOperatorInversion(
        D([1.0, 2.0], is_non_singular=False)), ValueError,
     "must have supplied hint `is_non_singular` equal to `True` or `None`"),
    ("adjoint_hint", lambda: L.LinearOperatorAdjoint(D([1.0, 2.0], **PD),
                                                     is_positive_definite=False),
     ValueError, ("An operator is positive-definite if and only if its adjoint is "
     "positive-definite.")),
    ("circulant_real", lambda: L.LinearOperatorCirculant(
        np.array([1.0, 2.0, 2.0], f32), is_self_adjoint=False), ValueError,
     "A real spectrum always corresponds to a self-adjoint operator."),
    ("toeplitz_shapes", lambda: L.LinearOperatorToeplitz(np.ones(2, f32),
                                                         np.ones(3, f32)),
     ValueError, "Expected square matrix, got row and col with mismatched dimensions."),
    ("householder_hint", lambda: L.LinearOperatorHouseholder(np.ones(2, f32),
                                                             is_self_adjoint=False),
     ValueError, "A Householder operator is always self adjoint."),
    ("permutation_dtype", lambda: L.LinearOperatorPermutation(np.array([2.0, 0, 1])),
     TypeError, "Argument `perm` must be integer dtype."),
    ("tridiag_format", lambda: L.LinearOperatorTridiag(np.ones((3, 3), f32),
                                                       diagonals_format="foo"),
     ValueError, ("Argument `diagonals_format` must be one of compact, matrix, or "
     "sequence. Received : foo.")),
    ("block_lower_rows", lambda: L.LinearOperatorBlockLowerTriangular(
        [[D([1.0, 2.0])], [D([1.0, 2.0, 3.0])]]), ValueError,
     "Argument `operators\\[1\\]` must contain `2` blocks. Received: 1 blocks."),
    ("cholesky", lambda: F(S).cholesky(), ValueError,
     "Cannot take the Cholesky decomposition: Not a positive definite self adjoint"),
    ("inverse_nonsquare", lambda: F(np.ones((2, 3))).inverse(), ValueError,
     "Cannot take the Inverse: This operator represents a non square matrix."),
    ("inverse_singular", lambda: L.LinearOperatorZeros(3).inverse(), ValueError,
     "Cannot take the Inverse: This operator represents a singular matrix."),
    ("det_nonsquare", lambda: F(np.ones((2, 3))).determinant(), NotImplementedError,
     "Determinant not implemented for an operator that is expected to not be square."),
    ("solve_nonsquare", lambda: F(np.ones((2, 3))).solve(np.ones((2, 1), f32)),
     NotImplementedError, ("Exact solve not implemented for an operator that is "
     "expected to not be square.")),
    ("solve_singular", lambda: F(M, is_non_singular=False).solve(np.ones((2, 1), f32)),
     NotImplementedError, "expected to be singular"),
    ("eigvals", lambda: F(M).eigvals(), NotImplementedError,
     "Only self-adjoint matrices are supported."),
    ("matmul_dtype", lambda: F(M).matmul(np.ones((2, 2))), TypeError,
     "Expected argument to have dtype"),
    ("matmul_dims", lambda: F(M).matmul(np.ones((3, 2), f32)), ValueError,
     "Dimensions 2 and 3 are not compatible"),
    ("matvec_dims", lambda: F(M).matvec(np.ones(3, f32)), ValueError,
     "Dimensions 2 and 3 are not compatible"),
    ("operator_dims", lambda: F(M).matmul(F(np.ones((3, 3)))), ValueError,
     "Operators are incompatible. Expected `x` to have dimension 2 but got 3."),
    ("assert_pd", lambda: F(M).assert_positive_definite(), NotImplementedError,
     "assert_positive_definite is not implemented."),
    ("assert_diag_singular", lambda: D([0.0, 1.0]).assert_non_singular(),
     InvalidArgumentError, "Singular operator:  Diagonal contained zero values."),
    ("assert_diag_pd", lambda: D([-1.0, 1.0]).assert_positive_definite(),
     InvalidArgumentError, "Real diagonal operator had non-positive diagonal entries"),
    ("assert_self_adjoint", lambda: F(M).assert_self_adjoint(), InvalidArgumentError,
     "Matrix was not equal to its adjoint."),
    ("assert_singular", lambda: F([[1.0, 2.0], [2.0, 4.0]]).assert_non_singular(),
     InvalidArgumentError, "Singular matrix up to precision epsilon."),
    ("assert_householder_pd", lambda: L.LinearOperatorHouseholder(
        np.ones(2, f32)).assert_positive_definite(), InvalidArgumentError,
     "Householder operators are always non-positive definite."),
    ("assert_zeros", lambda: L.LinearOperatorZeros(2).assert_non_singular(),
     InvalidArgumentError, "Zero operators are always non-invertible."),
]


@pytest.mark.parametrize("build,error,message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_match_tf(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_assertion_fails_inside_function():
    diag = tf.Variable([1.0, 2.0])
    op = L.LinearOperatorDiag(diag)
    check = tf.function(lambda: op.assert_non_singular())
    check()
    diag.assign([0.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="Diagonal contained zero values"):
        check()


def test_shape_properties_and_parameters():
    op = L.LinearOperatorFullMatrix(np.ones((4, 3, 2), f32))
    assert op.batch_shape == [4] and op.tensor_rank == 3
    assert op.range_dimension == 3 and op.domain_dimension.value == 2
    assert op.domain_dimension + 1 == 3     # an int, as TF's Dimension allows
    assert op.is_square is False
    assert sorted(D([1.0, 2.0]).parameters) == [
        "diag", "is_non_singular", "is_positive_definite", "is_self_adjoint",
        "is_square", "name"]
    lru = L.LinearOperatorLowRankUpdate(D([1.0, 2.0]), np.ones((2, 1), f32))
    assert sorted(lru.parameters) == [
        "base_operator", "diag_update", "is_diag_update_positive", "is_non_singular",
        "is_positive_definite", "is_self_adjoint", "is_square", "name", "u", "v"]
    assert isinstance(lru.diag_operator, L.LinearOperatorIdentity)
    assert D([1.0], name="my op").name == "my op"   # TF allows any string


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_identity_and_zeros_broadcast_their_batch_shape():
    ident = L.LinearOperatorIdentity(3, batch_shape=[2])
    assert ident.matmul(np.ones((4, 1, 3, 2), f32)).shape == (4, 2, 3, 2)
    assert ident.matvec(np.ones(3, f32)).shape == (2, 3)
    np.testing.assert_array_equal(ident.trace().numpy(), [3.0, 3.0])
    zeros = L.LinearOperatorZeros(3, batch_shape=[2])
    assert zeros.matmul(np.ones((4, 1, 3, 2), f32)).shape == (4, 2, 3, 2)
    assert np.isnan(L.LinearOperatorZeros(2).cond().numpy())   # 0 / 0, as TF


def test_dense_conversion_for_tf_ops():
    """tf.linalg.matmul accepts an operator (TF dispatches it to the operator)."""
    out = tf.linalg.matmul(D([1.0, 2.0]), np.ones((2, 2), f32))
    np.testing.assert_allclose(out.numpy(), [[1.0, 1.0], [2.0, 2.0]])


def test_circulant_kernel_and_block_shape():
    op = L.LinearOperatorCirculant(np.array([1.0, 2.0, 2.0], np.complex64))
    # from TF 2.21
    np.testing.assert_allclose(op.convolution_kernel().numpy(),
                               [5 / 3, -1 / 3, -1 / 3], atol=1e-6)
    op2 = L.LinearOperatorCirculant2D(np.ones((4, 2, 3), np.complex64))
    assert op2.block_shape.as_list() == [2, 3] and op2.block_depth == 2
    op.assert_hermitian_spectrum()
    with pytest.raises(InvalidArgumentError, match="Spectrum was not Hermitian"):
        L.LinearOperatorCirculant(np.array([1.0, 2j, 0.0], np.complex64)
                                  ).assert_hermitian_spectrum()


def test_permutation_determinant_is_its_sign():
    op = L.LinearOperatorPermutation([[2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0]])
    np.testing.assert_array_equal(op.determinant().numpy(), [1.0, -1.0, -1.0, -1.0])


def test_blockwise_lists():
    op = L.LinearOperatorBlockDiag([D([1.0, 2.0]), D([3.0])])
    out = op.matmul([np.ones((2, 1), f32), np.ones((1, 1), f32)])
    assert isinstance(out, list)
    np.testing.assert_allclose(out[0].numpy(), [[1.0], [2.0]])
    np.testing.assert_allclose(op.solve(out)[1].numpy(), [[1.0]])


def test_user_subclass_gets_dense_defaults():
    class Doubling(L.LinearOperator):
        def __init__(self, n):
            self._n = n
            super().__init__(tf.float64, is_self_adjoint=True, name="Doubling")

        def _shape(self):
            return (self._n, self._n)

        def _matmul(self, x, adjoint=False, adjoint_arg=False):
            return 2.0 * (tf.linalg.adjoint(x) if adjoint_arg else x)

    op = Doubling(3)
    np.testing.assert_allclose(op.to_dense().numpy(), 2 * np.eye(3))
    np.testing.assert_allclose(op.solvevec(tf.ones(3, tf.float64)).numpy(), [0.5] * 3)
    np.testing.assert_allclose(op.log_abs_determinant().numpy(), 3 * np.log(2.0))
    np.testing.assert_allclose(op.eigvals().numpy(), [2.0] * 3)
    assert op.adjoint() is op


def test_structured_products_equal_dense():
    ops = {"scaled": L.LinearOperatorScaledIdentity(2, 3.0), "diag": D([1.0, 2.0]),
           "tril": L.LinearOperatorLowerTriangular(M), "full": F(M),
           "zeros": L.LinearOperatorZeros(2), "identity": L.LinearOperatorIdentity(2)}
    for left in ops.values():
        for right in ops.values():
            product = left @ right
            np.testing.assert_allclose(
                product.to_dense().numpy(),
                left.to_dense().numpy() @ right.to_dense().numpy(), rtol=1e-6)
