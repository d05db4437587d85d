"""Round 24: ops whose GPU results differed from the CPU's on the H100 (first run of
the whole suite with every tensor on the GPU): repeated sparse indices written
without validation, and sorts of bfloat16. Each runs on the CPU and the GPU
(``device`` fixture) against the same NumPy reference."""

import ml_dtypes
import numpy as np
import pytest

import dlframe as tf


def test_unvalidated_repeats_keep_the_last_value(device):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 4, size=(2000, 2))   # every index repeated ~125 times
    vals = rng.standard_normal(2000).astype(np.float32)
    want = np.zeros((4, 4), np.float32)
    for (i, j), v in zip(idx, vals):   # row order: the last write wins
        want[i, j] = v
    sp = tf.sparse.SparseTensor(idx, vals, [4, 4])
    got = tf.sparse.to_dense(sp, validate_indices=False)
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("op", ["sort", "argsort"])
def test_bfloat16_sorts(device, op):
    rng = np.random.default_rng(1)
    host = rng.standard_normal((3, 50)).astype(ml_dtypes.bfloat16)
    host[0, :10] = host[0, 10:20]   # ties: a stable order
    x = tf.constant(host)
    got = getattr(tf, op)(x, direction="DESCENDING").numpy()
    order = np.argsort(-host.astype(np.float32), axis=-1, kind="stable")
    want = order if op == "argsort" else np.take_along_axis(host, order, -1)
    np.testing.assert_array_equal(got, want)
