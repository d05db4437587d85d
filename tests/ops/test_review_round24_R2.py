"""Round 24 read-back review (R2) of the dtype-rule and GPU-path commits: lenient
scalar paths TF keeps lenient (TF 2.21 figures), repeated sparse indices without a
dense-sized scratch, bfloat16 top_k/unique (CuPy cannot sort bfloat16), cuDNN
sequence-length copies that outlive plan eviction, the slice-built RNN gate blocks
and the device-filled stateless Philox key."""

import itertools

import ml_dtypes
import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.backends import cudnn
from dlframe.ops import philox, rnn_gates
from dlframe.ops.sparse_tensor import _last_of_repeats
from tests.backends.test_cudnn_binding import FakeLib


# ------------------------------------------------ lenient scalar paths (TF 2.21)
def test_scalar_first_operands_stay_lenient_where_tf_is():
    x16 = tf.constant([0.5, -1.5, 2.0], tf.float16)
    for got, want in [(2 + x16, [2.5, 0.5, 4.0]), (1.0 - x16, [0.5, 2.5, -1.0]),
                      (tf.subtract(1.0, x16), [0.5, 2.5, -1.0]),
                      (tf.multiply(2, x16), [1.0, -3.0, 4.0]),
                      (tf.maximum(0.0, x16), [0.5, 0.0, 2.0]),
                      (tf.clip_by_value(x16, 0.0, 1.0), [0.5, 0.0, 1.0]),
                      (tf.add(x16, 1), [1.5, -0.5, 3.0]),
                      (tf.keras.ops.add(1, x16), [1.5, -0.5, 3.0])]:
        assert got.dtype == tf.float16
        np.testing.assert_array_equal(got.numpy(), np.float16(want))
    with pytest.raises(tf.errors.InvalidArgumentError, match="AddV2"):
        tf.add(1.0, x16)   # TF converts tf.add's first operand on its own


def test_variable_dtype_conversions_tf_keeps():
    v = tf.Variable(np.array([1.5, 2.5]), dtype=tf.float32)   # NumPy float64 converts
    assert v.dtype == tf.float32
    assert tf.Variable(initial_value=lambda: 1.0, dtype=tf.float64).dtype == tf.float64
    assert tf.Variable(0.0, dtype=tf.float64).dtype == tf.float64
    h = tf.Variable(1.0, dtype=tf.float16)
    h.assign_add(0.5)
    assert h.dtype == tf.float16 and float(h.numpy()) == 1.5
    with pytest.raises(ValueError, match="float64"):
        tf.Variable(tf.constant(1.0), dtype=tf.float64)


# ------------------------------------------------ repeated sparse indices
def _last_write(idx, vals, shape, dtype):
    want = np.zeros(shape, dtype)
    for i, v in zip(idx, vals):
        want[tuple(i)] = v
    return want


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.bool_])
def test_unvalidated_repeats_3d_keep_the_last_value(device, dtype):
    rng = np.random.default_rng(3)
    shape = (3, 2, 4)
    idx = np.stack([rng.integers(0, s, 600) for s in shape], 1)
    vals = (rng.standard_normal(600) * 50).astype(dtype)
    got = tf.sparse.to_dense(tf.sparse.SparseTensor(idx, vals, shape),
                             validate_indices=False)
    np.testing.assert_array_equal(got.numpy(), _last_write(idx, vals, shape, dtype))


def test_last_of_repeats_needs_no_dense_sized_scratch():
    d = backends.get_device("cpu:0")
    # 2**60 dense entries: a dense-sized position table could never be allocated
    shape = (2 ** 40, 2 ** 20)
    idx = np.array([[2 ** 39, 7], [5, 2 ** 20 - 1], [2 ** 39, 7], [0, 0], [5, 2 ** 20 - 1]])
    vals = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32)
    np.testing.assert_array_equal(_last_of_repeats(d, idx, vals, shape),
                                  [3.0, 5.0, 3.0, 4.0, 5.0])
    # a scalar dense shape: every index is the one element
    np.testing.assert_array_equal(
        _last_of_repeats(d, np.zeros((3, 0), np.int64), np.float32([1, 2, 3]), ()),
        [3.0, 3.0, 3.0])


# ------------------------------------------------ bfloat16 sorts beyond tf.sort
def test_bfloat16_top_k_and_unique(device):
    host = np.array([3.0, -1.0, 2.5, -1.0, 3.0], ml_dtypes.bfloat16)
    x = tf.constant(host)
    top = tf.math.top_k(x, 3)
    assert top.values.dtype == tf.bfloat16
    np.testing.assert_array_equal(top.indices.numpy(), [0, 4, 2])   # ties: index order
    np.testing.assert_array_equal(top.values.numpy().astype(np.float32), [3.0, 3.0, 2.5])
    y, i = tf.unique(x)
    assert y.dtype == tf.bfloat16
    np.testing.assert_array_equal(y.numpy().astype(np.float32), [3.0, -1.0, 2.5])
    np.testing.assert_array_equal(i.numpy(), [0, 1, 2, 1, 0])
    # every NaN is its own element, as for float32 (TF 2.21: [nan, 1, nan], [0, 1, 2, 1])
    y, i = tf.unique(tf.constant(np.array([np.nan, 1, np.nan, 1], ml_dtypes.bfloat16)))
    assert np.isnan(y.numpy().astype(np.float32)[[0, 2]]).all() and y.shape == (3,)
    np.testing.assert_array_equal(i.numpy(), [0, 1, 2, 1])


# ------------------------------------------------ cuDNN length copies
def test_full_length_copies_outlive_masks_and_plan_eviction():
    ctx = cudnn._Context.open(cudnn.Api(FakeLib()))
    key = ("lstm", 4, 6, "f", 3, 5, "seq_major", False)
    plan = ctx.plan(key)
    full = plan.device_lengths(np, (5, 5, 5))
    np.testing.assert_array_equal(full, [5, 5, 5])
    assert full.dtype == np.int32
    masked = [plan.device_lengths(np, (5, k, 1)) for k in range(1, 6)] + \
        [plan.device_lengths(np, (k, 2, 1)) for k in range(1, 6)] + \
        [plan.device_lengths(np, (k, 3, 2)) for k in range(1, 6)] + \
        [plan.device_lengths(np, (k, 4, 4)) for k in range(1, 6)]
    assert len(masked) == 20 and plan.device_lengths(np, (5, 2, 1)) is not masked[6]
    assert plan.device_lengths(np, (5, 5, 5)) is full   # a captured step's address
    for b in range(4, 4 + ctx.MAX_PLANS + 1):   # evicts the first plan
        ctx.plan(("lstm", 4, 6, "f", b, 5, "seq_major", False))
    again = ctx.plan(key)
    assert again is not plan and again.device_lengths(np, (5, 5, 5)) is full


# ------------------------------------------------ RNN gate blocks
def _split_reference(w, order, scales, transpose):
    n = len(order)
    units = w.shape[-1] // n
    blocks = np.stack([w[..., g * units:(g + 1) * units] for g in order])
    if transpose:
        blocks = blocks.swapaxes(-1, -2)
    if scales is not None:
        blocks = blocks * np.array(scales, w.dtype).reshape((n,) + (1,) * (blocks.ndim - 1))
    return blocks


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16,
                                   ml_dtypes.bfloat16])
def test_split_merge_gates_every_order(dtype):
    rng = np.random.default_rng(5)
    for n, lead in [(3, (2,)), (4, (3,)), (4, ()), (3, (2, 5))]:
        w = rng.standard_normal(lead + (n * 3,)).astype(dtype)
        before = w.copy()
        for order in itertools.permutations(range(n)):
            for scales in (None, [0.5] * (n - 1) + [1.0]):
                for transpose in (False, True):
                    if transpose and not lead:
                        continue
                    got = rnn_gates.split_gates(np, w, order, scales, transpose)
                    want = _split_reference(w, order, scales, transpose)
                    assert got.dtype == w.dtype and got.flags.c_contiguous
                    np.testing.assert_array_equal(got.astype(np.float64),
                                                  want.astype(np.float64))
            plain = rnn_gates.split_gates(np, w, order)
            np.testing.assert_array_equal(rnn_gates.merge_gates(np, plain, order), w)
        np.testing.assert_array_equal(w, before)   # scaling never writes into w


# ------------------------------------------------ stateless Philox state
@pytest.mark.parametrize("seed", [(1, 2), (-5, 7), (2 ** 31 - 1, -2 ** 31),
                                  (2 ** 62 + 3, -(2 ** 40))])
def test_device_state_matches_host_key_counter(seed):
    (k0, k1), counter = philox.stateless_key_counter(*seed)
    want = [0, 0, (counter >> 64) & 0xFFFFFFFF, counter >> 96, k0, k1]
    state = philox.stateless_device_state(np, np.array(seed, np.int64))
    assert state.dtype == np.uint32
    np.testing.assert_array_equal(state, np.array(want, np.uint64).astype(np.uint32))
