"""Review of the round-21 GPU fixes (reviewer 3): regressions found in review.

``triangular_solve`` with a zero on the diagonal: TF's kernels (CPU and GPU) check
no pivot and give IEEE inf/NaN, where dlframe raised "not invertible".
"""

import numpy as np
import pytest

import dlframe as tf


def _substitution(a, b, lower):
    """Loop reference: row-by-row substitution in float64 IEEE arithmetic."""
    n = a.shape[-1]
    x = np.zeros(b.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(n) if lower else reversed(range(n)):
            cols = range(i) if lower else range(i + 1, n)
            known = sum((a[..., i, j, None] * x[..., j, :] for j in cols),
                        np.zeros(b.shape[:-2] + b.shape[-1:]))
            x[..., i, :] = (b[..., i, :] - known) / a[..., i, i, None]
    return x


def test_singular_triangular_solve_gives_inf_like_tf(device):
    a = tf.constant([[0.0, 0.0], [1.0, 1.0]])
    b = tf.constant([[1.0], [1.0]])
    # values printed by TF 2.21: [inf, -inf] (lower), [inf, 1] (upper)
    np.testing.assert_array_equal(
        tf.linalg.triangular_solve(a, b, lower=True).numpy().ravel(), [np.inf, -np.inf])
    np.testing.assert_array_equal(
        tf.linalg.triangular_solve(a, b, lower=False).numpy().ravel(), [np.inf, 1.0])


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_singular_triangular_solve_batches_follow_substitution(device, lower, adjoint):
    rng = np.random.default_rng(3)
    a = np.round(rng.standard_normal((2, 1, 4, 4)), 1) + 3 * np.eye(4)
    a[0, 0, 2, 2] = 0.0   # one singular matrix of the batch
    b = np.round(rng.standard_normal((3, 4, 2)), 1)
    tri = np.tril(a) if lower else np.triu(a)
    if adjoint:
        tri = np.swapaxes(tri, -1, -2)
    want = _substitution(np.broadcast_to(tri, (2, 3, 4, 4)),
                         np.broadcast_to(b, (2, 3, 4, 2)), lower != adjoint)

    def solve(x, y):
        return tf.linalg.triangular_solve(x, y, lower=lower, adjoint=adjoint)
    for fn in (solve, tf.function(solve)):
        got = fn(tf.constant(a), tf.constant(b)).numpy()
        assert got.shape == (2, 3, 4, 2)
        assert not np.isfinite(got[0]).all() and np.isfinite(got[1]).all()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
