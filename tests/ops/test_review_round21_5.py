"""Review R5 of the GPU gathers/scatters without host reads (round 21).

- An out-of-range row a GPU ignores in an in-place ``scatter_nd_add`` is redirected to
  element 0 with a neutral update; ``x + 0.0`` turned a ``-0.0`` there into ``0.0``
  (TF leaves it alone), so the neutral update of a float add is ``-0.0``.
- ``tf.gather_nd`` with an empty ``params`` and a non-empty index raises on every
  device in TF (a shape check, "Requested more than 0 entries, but params is
  empty."); the GPU path returned zeros and the CPU one gathered from a ``[3, 0]``.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends


@pytest.mark.parametrize("mode", ["add", "sub", "max", "min", "update"])
def test_ignored_rows_keep_a_negative_zero(device, mode):
    gpu = backends.get_device(device).is_gpu
    start = np.array([[-0.0, 1.0], [2.0, 3.0]], np.float32)
    v = tf.Variable(start)
    idx = [[1, 1]] + ([[5, 0], [0, -3]] if gpu else [])   # ignored on a GPU
    getattr(v, f"scatter_nd_{mode}")(tf.constant(idx),
                                     tf.constant([7.0] * len(idx)))
    want = start.copy()
    want[1, 1] = {"add": 10.0, "sub": -4.0, "max": 7.0, "min": 3.0,
                  "update": 7.0}[mode]
    got = v.numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("shape, idx, batch_dims", [
    ((0, 3), [[0]], 0), ((3, 0), [[1]], 0), ((3, 0), [[1, 0]], 0),
    ((2, 0), [[0], [1]], 1)])
def test_gather_nd_from_empty_params_raises(device, shape, idx, batch_dims):
    with pytest.raises(tf.errors.InvalidArgumentError, match="params is empty"):
        tf.gather_nd(tf.zeros(shape), idx, batch_dims=batch_dims)


def test_gather_nd_from_empty_params_with_no_index_rows(device):
    out = tf.gather_nd(tf.zeros((0, 3)), np.zeros((0, 1), np.int32))
    assert out.shape == (0, 3)


# -- sparse SGD / Adagrad on a GPU: the gradient's rows only, no host read -----------
_SPARSE = [lambda: tf.keras.optimizers.SGD(0.1), lambda: tf.keras.optimizers.Adagrad(0.1)]


@pytest.mark.parametrize("make", _SPARSE)
def test_sparse_update_touches_only_its_rows(device, make, monkeypatch):
    # the GPU kernels used to densify the gradient: a table-sized buffer and passes
    # over every row per step; now their work is sized by the gradient's rows
    from dlframe.ops import sparse_training_ops
    sizes = []
    scatter = sparse_training_ops.scatter_rows

    def recording(d, base, ids, bad, rows, mode, shape=None):
        sizes.append(shape[0])
        return scatter(d, base, ids, bad, rows, mode, shape)
    monkeypatch.setattr(sparse_training_ops, "scatter_rows", recording)
    gpu = backends.get_device(device).is_gpu
    table = np.arange(4000, dtype=np.float32).reshape(1000, 4) / 100
    table[7] = [np.nan, -0.0, np.inf, -np.inf]   # untouched rows stay bit-equal
    ids = [3, 999, 3, 0] + ([1000, -1] if gpu else [])
    rows = np.linspace(-1, 1, 4 * len(ids), dtype=np.float32).reshape(-1, 4)
    dense = np.zeros_like(table)
    for i, r in zip(ids, rows):
        if 0 <= i < 1000:
            dense[i] += r
    sparse_var, dense_var = tf.Variable(table), tf.Variable(table)
    sparse_opt, dense_opt = make(), make()
    for _ in range(2):
        sparse_opt.apply_gradients([(tf.IndexedSlices(
            tf.constant(rows), tf.constant(ids), tf.constant([1000, 4])), sparse_var)])
        dense_opt.apply_gradients([(tf.constant(dense), dense_var)])
    if make is _SPARSE[1]:
        # Adagrad (TF 2.21): a repeated id adds the squares of its rows to the
        # accumulator, not the square of their sum; the step uses the summed rows
        squares = np.zeros_like(table)
        for i, r in zip(ids, rows):
            if 0 <= i < 1000:
                squares[i] += r * r
        expect, acc = table.copy(), np.full_like(table, 0.1)
        touched = np.unique([i for i in ids if 0 <= i < 1000])
        for _ in range(2):
            acc[touched] += squares[touched]
            expect[touched] -= np.float32(0.1) * dense[touched] / np.sqrt(
                acc[touched] + np.float32(1e-7))
        np.testing.assert_allclose(sparse_var.numpy()[touched], expect[touched],
                                   rtol=1e-6)
        untouched = np.setdiff1d(np.arange(1000), touched)
        np.testing.assert_array_equal(sparse_var.numpy()[untouched], table[untouched])
    else:
        np.testing.assert_array_equal(sparse_var.numpy(), dense_var.numpy())
    if gpu:
        assert sizes and max(sizes) == len(ids), sizes


@pytest.mark.parametrize("make", _SPARSE)
def test_sparse_update_with_every_row_out_of_range(device, make):
    if not backends.get_device(device).is_gpu:
        pytest.skip("out-of-range rows raise on the CPU")
    table = np.array([[-0.0, 1.0], [2.0, np.nan]], np.float32)
    var, opt = tf.Variable(table), make()
    opt.apply_gradients([(tf.IndexedSlices(tf.ones((2, 2)), tf.constant([2, -1]),
                                           tf.constant([2, 2])), var)])
    np.testing.assert_array_equal(var.numpy(), table)
    assert np.signbit(var.numpy()[0, 0])
    for slot in opt.variables[1:]:   # the accumulator keeps its initial value
        if tuple(slot.shape) == (2, 2):
            np.testing.assert_array_equal(slot.numpy(), np.full((2, 2), 0.1, np.float32))


@pytest.mark.parametrize("make", _SPARSE)
def test_sparse_update_step_is_capturable(device, make, monkeypatch):
    from tests.ops.test_gpu_gather_scatter_round21_i2 import _run_captured
    table = np.arange(24, dtype=np.float32).reshape(6, 4) / 10
    var, opt = tf.Variable(table), make()
    eager_var, eager_opt = tf.Variable(table), make()

    def make_step(var, opt):
        def step(values, ids):
            opt.apply_gradients([(tf.IndexedSlices(values, ids, tf.constant([6, 4])),
                                  var)])
            return tf.reduce_sum(var)
        return step

    values = tf.constant(np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4))
    ids = tf.constant([5, 1, 5, 0])
    outs = _run_captured(monkeypatch, device, make_step(var, opt), (values, ids))
    eager = [make_step(eager_var, eager_opt)(values, ids) for _ in outs]
    np.testing.assert_allclose([float(o) for o in outs], [float(e) for e in eager],
                               rtol=1e-6)
    np.testing.assert_allclose(var.numpy(), eager_var.numpy(), rtol=1e-6)
