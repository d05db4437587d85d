"""Review round 20 (R3): Cholesky's NaN for non positive definite matrices on a
backend that does not raise (CuPy), and Tensor operators stepping aside only for
operands that have the reflected operator."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import CompositeTensorError
from dlframe.ops import linalg_decomp

_GOOD = np.array([[4.0, 2.0], [2.0, 3.0]])
_BAD = np.array([[1.0, 2.0], [2.0, 1.0]])


def test_unfactored_matrices_become_nan_without_a_backend_error():
    # what a solver that stops at the failing column leaves (CuPy, linalg='ignore'):
    # the first column factored, the rest the input's lower triangle (diagonal > 0)
    x = np.stack([_GOOD, _BAD, _GOOD])
    partial = np.stack([np.linalg.cholesky(_GOOD), [[1.0, 0.0], [2.0, 1.0]],
                        np.linalg.cholesky(_GOOD)])
    out = linalg_decomp._nan_where_unfactored(np, x, partial)
    np.testing.assert_allclose(out[0], np.linalg.cholesky(_GOOD))
    np.testing.assert_allclose(out[2], np.linalg.cholesky(_GOOD))
    assert np.isnan(out[1][np.tril_indices(2)]).all() and out[1][0, 1] == 0.0


def test_unfactored_check_keeps_good_factors_and_flags_bad_diagonals():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 6, 6)).astype(np.float32)
    spd = a @ a.transpose(0, 2, 1) + 6 * np.eye(6, dtype=np.float32)
    chol = np.linalg.cholesky(spd)
    np.testing.assert_array_equal(linalg_decomp._nan_where_unfactored(np, spd, chol),
                                  chol)
    neg = chol.copy()
    neg[2, 3, 3] = -neg[2, 3, 3]   # L L^T is unchanged, but L is no Cholesky factor
    out = linalg_decomp._nan_where_unfactored(np, spd, neg)
    assert np.isnan(out[2][np.tril_indices(6)]).all()
    np.testing.assert_array_equal(out[[0, 1, 3]], chol[[0, 1, 3]])
    empty = np.zeros((0, 3, 3))
    assert linalg_decomp._nan_where_unfactored(np, empty, empty).shape == (0, 3, 3)


def test_cholesky_batch_nan_only_for_the_non_positive_definite_matrix():
    # values as TF 2.21 gives them
    out = tf.linalg.cholesky(tf.constant(np.stack([_GOOD, _BAD]), tf.float32)).numpy()
    np.testing.assert_allclose(out[0], [[2.0, 0.0], [1.0, np.sqrt(2.0)]], rtol=1e-6)
    assert np.isnan(out[1][np.tril_indices(2)]).all() and out[1][0, 1] == 0.0


def test_tensor_matmul_ragged_keeps_its_clear_error():
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    rt = tf.ragged.constant([[1.0, 2.0], [3.0]])
    with pytest.raises(CompositeTensorError, match="RaggedTensor"):
        a @ rt   # RaggedTensor has no __rmatmul__


def test_tensor_operators_step_aside_for_keras_tensors():
    inp = tf.keras.Input((2,))
    w = tf.constant([[1.0, 0.0], [0.0, 2.0]])
    b = tf.constant([1.0, 2.0])
    model = tf.keras.Model(inp, [b - inp, inp @ w, b < inp])
    diff, prod, less = model(np.array([[1.0, 4.0]], np.float32))
    np.testing.assert_allclose(diff.numpy(), [[0.0, -2.0]])
    np.testing.assert_allclose(prod.numpy(), [[1.0, 8.0]])
    np.testing.assert_array_equal(less.numpy(), [[False, True]])
