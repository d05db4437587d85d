"""Round-20 differential sweep of linalg/signal ops against TF 2.21: differences
found and fixed (expected values from TF 2.21 or NumPy references)."""

import numpy as np

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad


def test_cholesky_of_non_positive_definite_matrices_is_nan_like_tf():
    x = np.array([[[4.0, 2.0], [2.0, 5.0]], [[4.0, 2.0], [2.0, -1.0]],
                  [[-1.0, 0.0], [0.0, 1.0]]], np.float32)
    # TF 2.21 logs and returns NaN in the lower triangle of a failed matrix
    for fn in (tf.linalg.cholesky, tf.function(tf.linalg.cholesky)):
        out = fn(x).numpy()
        assert out.dtype == np.float32
        np.testing.assert_allclose(out[0], np.linalg.cholesky(x[0].astype(np.float64)),
                                   rtol=1e-6)
        for bad in out[1:]:
            assert np.isnan(bad[np.tril_indices(2)]).all() and bad[0, 1] == 0
    out = tf.linalg.cholesky(-np.eye(3)).numpy()
    assert out.dtype == np.float64 and np.isnan(out[np.tril_indices(3)]).all()


def test_cholesky_positive_definite_still_factors_and_differentiates():
    a = np.random.default_rng(1).standard_normal((2, 3, 3))
    spd = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)

    def fn(v):
        sym = (v + tf.linalg.matrix_transpose(v)) / 2
        return tf.linalg.cholesky(sym)

    np.testing.assert_allclose(fn(tf.constant(spd)).numpy(), np.linalg.cholesky(spd),
                               rtol=1e-10)
    check_grad(fn, [spd])
    check_function_matches_eager(fn, [spd])
