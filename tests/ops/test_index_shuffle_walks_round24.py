"""Round 24: index_shuffle's long cycle walks (a small range inside TF's 2**16-value
minimum block) finish through a whole-block table; the result must be the walk's,
number for number, and fast (max_index 0 took ~2 s per call, ~10 s on a GPU)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import random_index_shuffle as ris


def _shuffle(max_index, seed, index=None):
    idx = tf.range(max_index + 1, dtype=tf.int64) if index is None else index
    return tf.random.experimental.index_shuffle(idx, seed, max_index).numpy()


@pytest.mark.parametrize("max_index", [0, 1, 2, 5, 37, 100, 1000, 5000])
@pytest.mark.parametrize("seed", [[7, 8], [-3, 12345], [0, 0]])
def test_table_walks_equal_plain_walks(monkeypatch, max_index, seed):
    fast = _shuffle(max_index, seed)
    np.testing.assert_array_equal(np.sort(fast), np.arange(max_index + 1))
    monkeypatch.setattr(ris, "_SHORT_WALK", 10 ** 9)   # walk every value to the end
    np.testing.assert_array_equal(fast, _shuffle(max_index, seed))


def test_the_large_block_branch_walks_on(monkeypatch):
    want = _shuffle(5, [7, 8])
    monkeypatch.setattr(ris, "_TABLE_HALF_BITS", 0)   # every block counts as large
    np.testing.assert_array_equal(_shuffle(5, [7, 8]), want)


def test_vector_max_index_mixes_ranges():
    idx = tf.constant([0, 1, 2, 0, 40], tf.int64)
    top = tf.constant([0, 3, 3, 50, 50], tf.int64)
    got = tf.random.experimental.index_shuffle(idx, [1, 2], top).numpy()
    want = [int(tf.random.experimental.index_shuffle(i, [1, 2], m))
            for i, m in zip(idx.numpy(), top.numpy())]
    np.testing.assert_array_equal(got, want)
    assert got[0] == 0
