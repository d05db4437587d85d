"""Round-18 speed paths of the Transformer step: short-row max/sum kernels used by
softmax, and the sort-based per-id row sums of embedding (IndexedSlices) updates.
Each is checked against the plain NumPy computation it replaces."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends import numpy_backend
from dlframe.ops import row_kernels
from tests.helpers import check_op

DEVICE = numpy_backend.CPUDevice(0)


def _softmax_ref(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("width", [1, 2, 7, 12, 64, 100, 256, 300])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_max_keepdims_equals_numpy_max(width, dtype):
    x = np.random.default_rng(width).standard_normal((3, 5, width)).astype(dtype)
    x[0, 0, width // 2] = np.nan    # NaN propagates as in x.max
    x[1, 1, :] = -np.inf
    got = row_kernels.max_keepdims(np, x, 2)
    np.testing.assert_array_equal(got, x.max(axis=2, keepdims=True))
    assert got.dtype == x.dtype and got.shape == (3, 5, 1)


@pytest.mark.parametrize("axis", [0, 1])
def test_max_and_sum_other_axes_are_the_plain_reductions(axis):
    x = np.random.default_rng(1).standard_normal((6, 8, 3)).astype("float32")
    np.testing.assert_array_equal(row_kernels.max_keepdims(np, x, axis),
                                  x.max(axis=axis, keepdims=True))
    np.testing.assert_array_equal(row_kernels.sum_keepdims(np, x, axis),
                                  x.sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_sum_keepdims_matches_numpy_sum(dtype):
    x = np.random.default_rng(2).random((4, 3, 64)).astype(dtype)
    got = row_kernels.sum_keepdims(np, x, -1)
    assert got.dtype == x.dtype and got.shape == (4, 3, 1)
    tol = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-13}[dtype]
    np.testing.assert_allclose(got, x.sum(axis=-1, keepdims=True), rtol=tol)


@pytest.mark.parametrize("shape", [(2, 4, 8, 64), (3, 5), (2, 300)])
def test_softmax_forward_gradient_and_function(shape):
    x = np.random.default_rng(3).standard_normal(shape)
    check_op(lambda a: tf.nn.softmax(a), [x], _softmax_ref)
    check_op(lambda a: tf.nn.softmax(a, axis=0), [x], lambda a: _softmax_ref(a, 0))


def test_softmax_float32_large_logits_stay_finite():
    x = np.array([[1e4, 0.0, -1e4] + [0.0] * 61], "float32")
    got = tf.nn.softmax(x).numpy()
    np.testing.assert_allclose(got, _softmax_ref(x.astype("float64")), atol=1e-7)
    assert np.isfinite(got).all() and got.dtype == np.float32


def _add_at_rows(ids, values):
    rows, inverse = np.unique(ids, return_inverse=True)
    sums = np.zeros((rows.size,) + values.shape[1:], values.dtype)
    np.add.at(sums, inverse.reshape(-1), values)
    return rows, sums


@pytest.mark.parametrize("n_ids, vocab", [(2048, 2000), (500, 10), (100, 1), (0, 5),
                                          (1, 3)])
def test_sum_rows_by_id_is_bit_equal_to_scatter_add(n_ids, vocab):
    rng = np.random.default_rng(n_ids)
    ids = rng.integers(0, vocab, n_ids)
    values = rng.standard_normal((n_ids, 4, 3)).astype("float32")
    rows, sums = row_kernels.sum_rows_by_id(DEVICE, ids, values)
    want_rows, want_sums = _add_at_rows(ids, values)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(sums, want_sums)   # same additions, same order
    assert sums.dtype == values.dtype


def test_sparse_adam_on_embedding_matches_dense_adam():
    """An Embedding's IndexedSlices gradient (repeated ids) through Adam gives TF
    2.21's table: the densified gradient's, but with each repeated id's squares added
    per row in the second moment (reference in the keras test)."""
    from tests.keras.test_sparse_repeated_ids_round22_b import per_row_reference
    ids = np.random.default_rng(4).integers(0, 50, (8, 40))
    init = np.random.default_rng(5).standard_normal((50, 6)).astype("float32")
    table = tf.Variable(init)
    opt = tf.keras.optimizers.Adam(0.01)
    steps = []
    for _ in range(3):
        steps.append((2 * np.take(table.numpy(), ids.ravel(), axis=0), ids.ravel()))
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(tf.gather(table, ids)))
        grad = tape.gradient(loss, table)
        assert isinstance(grad, tf.IndexedSlices)
        opt.apply_gradients([(grad, table)])
    expect = per_row_reference("adam", init, steps, 0.01)
    np.testing.assert_allclose(table.numpy(), expect, rtol=1e-5, atol=1e-6)
