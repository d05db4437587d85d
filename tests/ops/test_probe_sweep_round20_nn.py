"""Regressions from the round-20 differential sweep of tf.nn / tnp / tf.math ops
against TF 2.21: TF1 embedding partition strategies, tnp dtype rules and
arguments, ``add_n``'s strict dtypes, float16 matrix inverse / determinant, and
error classes (LRN rank, sobol dtype)."""

import subprocess
import sys

import numpy as np
import pytest

import dlframe as tf

tnp = tf.experimental.numpy
SHARD0 = np.arange(6, dtype=np.float32).reshape(2, 3)
SHARD1 = np.arange(6, 12, dtype=np.float32).reshape(2, 3)
SHARD2 = np.arange(12, 15, dtype=np.float32).reshape(1, 3)


def _mod_table(shards):
    """The full table a 'mod'-sharded list stands for: id i is shards[i % n][i // n]."""
    total = sum(len(s) for s in shards)
    return np.stack([shards[i % len(shards)][i // len(shards)] for i in range(total)])


# ---------------------------------------------------------------- TF1 embeddings
def test_v1_embedding_lookup_default_mod_strategy():
    shards = [SHARD0, SHARD1, SHARD2]
    ids = np.array([[0, 1, 2], [3, 4, 0]])
    out = tf.compat.v1.nn.embedding_lookup(shards, ids)
    np.testing.assert_array_equal(out.numpy(), _mod_table(shards)[ids])
    # TF 2.21: id 1 is row 0 of shard 1
    np.testing.assert_array_equal(
        tf.compat.v1.nn.embedding_lookup([SHARD0, SHARD1], [0, 1, 2, 3]).numpy(),
        [[0, 1, 2], [6, 7, 8], [3, 4, 5], [9, 10, 11]])


def test_v1_embedding_lookup_div_and_single_table():
    div = tf.compat.v1.nn.embedding_lookup([SHARD0, SHARD1], [3, 0],
                                           partition_strategy="div")
    np.testing.assert_array_equal(div.numpy(), np.concatenate([SHARD0, SHARD1])[[3, 0]])
    single = tf.compat.v1.nn.embedding_lookup(SHARD0, [1])
    np.testing.assert_array_equal(single.numpy(), SHARD0[[1]])
    # the TF2 op keeps TF2's 'div' reading of a list
    np.testing.assert_array_equal(tf.nn.embedding_lookup([SHARD0, SHARD1], [1, 2]).numpy(),
                                  np.concatenate([SHARD0, SHARD1])[[1, 2]])


def test_v1_embedding_lookup_mod_max_norm_and_gradient_reaches_shards():
    shards = [tf.Variable(SHARD0), tf.Variable(SHARD1)]
    with tf.GradientTape() as tape:
        out = tf.compat.v1.nn.embedding_lookup(shards, [1, 2, 1], max_norm=5.0)
        loss = tf.reduce_sum(out)
    rows = _mod_table([SHARD0, SHARD1])[[1, 2, 1]]
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), rows * 5.0 / np.maximum(norms, 5.0),
                               rtol=1e-6)
    grads = [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, shards)]
    assert np.all(grads[0][0] == 0) and np.any(grads[0][1] != 0)   # id 2: shard 0 row 1
    assert np.any(grads[1][0] != 0) and np.all(grads[1][1] == 0)   # id 1: shard 1 row 0


def test_v1_embedding_lookup_rejects_bad_strategy_and_shard_sizes():
    with pytest.raises(ValueError, match="partition_strategy='foo'"):
        tf.compat.v1.nn.embedding_lookup([SHARD0, SHARD1], [1], partition_strategy="foo")
    with pytest.raises(ValueError, match="shard sizes"):
        tf.compat.v1.nn.embedding_lookup([SHARD2, SHARD0], [1])


def test_v1_sparse_lookups_honour_partition_strategy():
    shards = [SHARD0, SHARD1]
    table = _mod_table(shards)
    sp = tf.sparse.SparseTensor([[0, 0], [0, 1], [1, 0]], np.array([0, 1, 2], np.int64),
                                [2, 2])
    mod = tf.compat.v1.nn.embedding_lookup_sparse(shards, sp, None, combiner="sum")
    np.testing.assert_array_equal(mod.numpy(), [table[0] + table[1], table[2]])
    div = tf.compat.v1.nn.embedding_lookup_sparse(shards, sp, None, combiner="sum",
                                                  partition_strategy="div")
    flat = np.concatenate(shards)
    np.testing.assert_array_equal(div.numpy(), [flat[0] + flat[1], flat[2]])
    # safe lookup: -1 dropped, the empty row 1 takes default_id (renumbered too)
    ids = tf.sparse.SparseTensor([[0, 0], [0, 1], [2, 0]], np.array([3, -1, 1], np.int64),
                                 [3, 2])
    safe = tf.compat.v1.nn.safe_embedding_lookup_sparse(
        shards, ids, None, combiner="sum", partition_strategy="mod", default_id=2)
    np.testing.assert_array_equal(safe.numpy(), [table[3], table[2], table[1]])
    safe_div = tf.compat.v1.nn.safe_embedding_lookup_sparse(shards, ids, None,
                                                            combiner="sum")
    np.testing.assert_array_equal(safe_div.numpy(), [flat[3], np.zeros(3), flat[1]])


# ---------------------------------------------------------------- tnp dtype rules
@pytest.mark.parametrize("dtype, expected", [
    ("int8", "int64"), ("uint8", "int64"), ("int32", "int64"), ("uint32", "int64"),
    ("int64", "int64"), ("uint64", "float64"), ("float16", "float16")])
def test_tnp_cumsum_cumprod_accumulate_integers_in_int64(dtype, expected):
    x = np.array([1, 2, 3], dtype)
    for fn, ref in ((tnp.cumsum, np.cumsum), (tnp.cumprod, np.cumprod)):
        out = fn(x)
        assert out.dtype.name == expected    # TF 2.21's tnp dtypes
        np.testing.assert_array_equal(out.numpy(), ref(x.astype(np.float64)))


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32", "int64"])
def test_tnp_float_functions_of_integers_are_float64(dtype):
    x = np.array([1, 1], dtype)
    for fn in (tnp.sin, tnp.sqrt, tnp.exp, tnp.mean, tnp.log1p, tnp.var):
        assert fn(x).dtype == tf.float64, fn.__name__     # TF 2.21 (NumPy: float16)
    np.testing.assert_allclose(tnp.exp(x).numpy(), np.exp(x.astype(np.float64)))


@pytest.mark.parametrize("dtype, expected", [
    ("int8", "float32"), ("uint8", "float32"), ("int16", "float32"),
    ("int32", "float64"), ("int64", "float64"), ("bool", "float64")])
def test_tnp_true_divide_of_integers(dtype, expected):
    x = np.array([1, 3], dtype)
    for out in (tnp.divide(x, x), tnp.true_divide(x, np.array(2, dtype))):
        assert out.dtype.name == expected     # TF 2.21
    np.testing.assert_allclose(tnp.true_divide(x, np.array(2, dtype)).numpy(),
                               x.astype(np.float64) / np.array(2, dtype).astype(float))


def test_tnp_arange_of_an_empty_range():
    for args in ((3, 1), (0, -3, 1), (2.5, 1), (0, 5, -1.5)):
        out = tnp.arange(*args)
        assert out.shape == (0,) and out.dtype.name == np.arange(*args).dtype.name
    np.testing.assert_array_equal(tnp.arange(5, 0, -2).numpy(), [5, 3, 1])


def test_tnp_take_clips_by_default_and_wraps_on_request():
    x = np.arange(5) * 10
    # TF's tnp.take defaults to mode='clip': -1 -> 0, 7 -> 4 (TF 2.21)
    np.testing.assert_array_equal(tnp.take(x, [-1, 2, 7]).numpy(), [0, 20, 40])
    np.testing.assert_array_equal(tnp.take(x, [7, -9], mode="wrap").numpy(),
                                  np.take(x, [7, -9], mode="wrap"))
    m = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(tnp.take(m, [[4, -9]], axis=1, mode="clip").numpy(),
                                  np.take(m, [[4, -9]], axis=1, mode="clip"))
    with pytest.raises(ValueError, match="mode='raise'"):
        tnp.take(x, [1], mode="raise")
    with pytest.raises(ValueError, match="out"):
        tnp.take(x, [1], out=np.zeros(1))


def test_tnp_meshgrid_keeps_each_dtype():
    a, b = tnp.meshgrid(np.array([1, 2], np.int32), np.array([3., 4., 5.], np.float32))
    assert (a.dtype, b.dtype) == (tf.int32, tf.float32)
    ref_a, ref_b = np.meshgrid([1, 2], [3., 4., 5.])
    np.testing.assert_array_equal(a.numpy(), ref_a)
    np.testing.assert_array_equal(b.numpy(), ref_b)
    ij = tnp.meshgrid(np.arange(2), np.arange(3), indexing="ij")
    assert [tuple(t.shape) for t in ij] == [(2, 3), (2, 3)]


def test_tnp_average_returned():
    x = np.array([[1., 2.], [3., 4.]])
    avg, total = tnp.average(x, axis=0, weights=np.array([1., 3.]), returned=True)
    ref = np.average(x, axis=0, weights=[1., 3.], returned=True)
    np.testing.assert_allclose(avg.numpy(), ref[0])
    np.testing.assert_allclose(total.numpy(), ref[1])
    w = np.array([[1., 3.], [1., 1.]])
    for axis in (None, 1):
        got = tnp.average(x, axis=axis, weights=w, returned=True)
        ref = np.average(x, axis=axis, weights=w, returned=True)
        np.testing.assert_allclose([g.numpy() for g in got], ref)
    avg, count = tnp.average(np.array([1, 2, 4]), returned=True)
    assert float(avg) == pytest.approx(7 / 3) and float(count) == 3.0


def test_tnp_diff_of_booleans_is_not_equal():
    x = np.array([[True, False, False], [False, False, True]])
    for axis in (0, 1, -1):
        out = tnp.diff(x, axis=axis)
        assert out.dtype == tf.bool
        np.testing.assert_array_equal(out.numpy(), np.diff(x, axis=axis))
    np.testing.assert_array_equal(tnp.diff(x, n=2).numpy(), np.diff(x, n=2))


def test_tnp_spaces_follow_prefer_float32():
    code = """
import numpy as np
import dlframe as tf
tnp = tf.experimental.numpy
assert tnp.linspace(0, 1, 5).dtype == tf.float64
tnp.experimental_enable_numpy_behavior(prefer_float32=True)
out, step = tnp.linspace(0, 1, 5, retstep=True)
assert out.dtype == tf.float32 and step.dtype == tf.float32, (out.dtype, step.dtype)
np.testing.assert_allclose(out.numpy(), np.linspace(0, 1, 5), rtol=1e-7)
assert tnp.logspace(0, 2, 3).dtype == tf.float32
np.testing.assert_allclose(tnp.logspace(0, 3, 4, base=2.).numpy(), [1, 2, 4, 8], rtol=1e-6)
assert tnp.geomspace(1, 1000, 4).dtype == tf.float32
assert tnp.linspace(np.array([0.]), 1, 3).dtype == tf.float64   # arrays keep theirs
assert tnp.linspace(0, 1, 3, dtype=np.float64).dtype == tf.float64
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.stdout.strip() == "ok", out.stderr


# ---------------------------------------------------------------- tf.math / linalg
def test_add_n_needs_one_dtype_and_one_shape():
    t = tf.constant([1., 2.])
    np.testing.assert_array_equal(tf.add_n([t, [2., 3.], tf.Variable([1., 1.])]).numpy(),
                                  [4., 6.])
    for bad in ([t, 2], [t, np.array([1., 2.])], [[1, 2], [1., 2.]]):
        with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a"):
            tf.add_n(bad)
    for bad in ([t, 2.], [t, tf.constant(1.)]):   # no broadcasting (TF 2.21)
        with pytest.raises(tf.errors.InvalidArgumentError, match="same size and shape"):
            tf.add_n(bad)


def test_float16_inverse_and_no_half_determinant():
    a = np.array([[2., 1.], [1., 3.]], np.float16)
    inv = tf.linalg.inv(a)
    assert inv.dtype == tf.float16
    np.testing.assert_allclose(inv.numpy(), np.linalg.inv(a.astype(np.float64)),
                               atol=1e-3)
    x = tf.Variable(a)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.linalg.inv(x))
    inv64 = np.linalg.inv(a.astype(np.float64))
    expect = -(inv64.T @ np.ones((2, 2)) @ inv64.T)   # d sum(A^-1) / dA
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expect, atol=2e-3)
    # TF 2.21 has no float16 determinant kernels
    for fn in (tf.linalg.det, tf.linalg.slogdet):
        with pytest.raises(tf.errors.NotFoundError):
            fn(a)


def test_lrn_rank_and_sobol_dtype_errors_are_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="4-dimensional"):
        tf.nn.lrn(np.ones((2, 3, 4), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="dtype"):
        tf.math.sobol_sample(2, 3, dtype=tf.int32)


def test_new_paths_trace_like_eager():
    def f(x, flags, ids):
        return (tnp.take(x, [-1, 7]), tnp.diff(flags),
                tnp.average(x, weights=x, returned=True)[1],
                tnp.cumsum(tf.cast(x, tf.int32)),
                tf.compat.v1.nn.embedding_lookup([SHARD0, SHARD1], ids))
    args = (tf.constant([1., 2., 3., 4.]), tf.constant([True, False, False]),
            tf.constant([1, 2]))
    for eager, graph in zip(f(*args), tf.function(f)(*args)):
        assert eager.dtype == graph.dtype
        np.testing.assert_array_equal(eager.numpy(), graph.numpy())


def test_half_precision_special_functions_raise_like_tf():
    h = np.array([0.5, 2.0], np.float16)
    special = tf.math.special
    for fn in (special.dawsn, special.expint, special.fresnel_cos, special.fresnel_sin,
               special.spence):
        with pytest.raises(tf.errors.NotFoundError):
            fn(h)
    for fn in (tf.math.igamma, tf.math.igammac):
        with pytest.raises(tf.errors.NotFoundError):
            fn(h, h)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.math.zeta(h + 1, h)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.math.betainc(h, h, h / 4)
    # the float32 path is unchanged (scipy-free reference: dawsn(0) = 0, dawsn' = 1)
    assert float(special.dawsn(np.float32(0.0))) == 0.0
    np.testing.assert_allclose(special.bessel_i0e(h).numpy(),   # f16 Bessel works
                               [0.6450, 0.3085], atol=2e-3)
