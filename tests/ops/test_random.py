"""tf.random: shapes, dtypes, moments, seed semantics, stateless ops, Generator."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import dlframe as tf

N = 40000


@pytest.fixture(autouse=True)
def _clear_global_seed():
    yield
    tf.random.set_seed(None)


def _close(value, expect, sd, n=N, k=5.0):
    """|value - expect| within k standard errors."""
    assert abs(value - expect) < k * sd / math.sqrt(n), (value, expect)


# ---------------------------------------------------------------- distributions
def test_normal_shape_dtype_moments(device):
    x = tf.random.normal([N], mean=2.0, stddev=3.0, seed=1)
    assert x.shape == (N,) and x.dtype == tf.float32
    assert device.split(":")[0].upper() in x.device
    v = x.numpy().astype(np.float64)
    _close(v.mean(), 2.0, 3.0)
    assert abs(v.std() - 3.0) < 0.05
    for dt in (tf.float16, tf.float64):
        assert tf.random.normal([2, 3], dtype=dt).dtype == dt
    assert tf.random.normal(tf.constant([2, 3])).shape == (2, 3)
    assert tf.random.normal(tf.TensorShape([4])).shape == (4,)
    assert tf.random.normal([0, 3]).shape == (0, 3)


def test_normal_tensor_params_broadcast_and_gradient():
    mean = tf.constant([0.0, 10.0])
    std = tf.constant([1.0, 0.5])
    with tf.GradientTape() as tape:
        tape.watch([mean, std])
        x = tf.random.normal([N, 2], mean=mean, stddev=std)
        total = tf.reduce_sum(x)
    v = x.numpy()
    _close(v[:, 1].mean(), 10.0, 0.5)
    gm, gs = tape.gradient(total, [mean, std])
    assert gm.numpy().tolist() == [N, N]
    np.testing.assert_allclose(gs.numpy(), ((v - mean.numpy()) / std.numpy()).sum(0),
                               rtol=1e-3)


def test_uniform_float(device):
    x = tf.random.uniform([N], minval=-1.0, maxval=3.0).numpy().astype(np.float64)
    assert x.min() >= -1.0 and x.max() < 3.0
    _close(x.mean(), 1.0, 4 / math.sqrt(12))
    u = tf.random.uniform([N])
    assert u.dtype == tf.float32 and 0 <= u.numpy().min() and u.numpy().max() < 1
    h = tf.random.uniform([N], dtype=tf.float16).numpy()
    assert h.dtype == np.float16 and h.max() < 1.0
    lo = tf.constant([0.0, 5.0])
    y = tf.random.uniform([1000, 2], minval=lo, maxval=lo + 1.0).numpy()
    assert y[:, 1].min() >= 5.0 and y[:, 1].max() < 6.0


def test_uniform_int():
    x = tf.random.uniform([N], minval=-3, maxval=4, dtype=tf.int32)
    assert x.dtype == tf.int32
    v = x.numpy()
    assert v.min() == -3 and v.max() == 3
    counts = np.bincount(v + 3, minlength=7) / N
    assert np.all(np.abs(counts - 1 / 7) < 0.02)
    assert tf.random.uniform([3], maxval=10, dtype=tf.int64).dtype == tf.int64
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        tf.random.uniform([2], dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval, got 5 >= 3"):
        tf.random.uniform([2], minval=5, maxval=3, dtype=tf.int32)


def test_dtype_and_shape_errors():
    with pytest.raises(TypeError, match="floating point.*int32"):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(TypeError, match="TruncatedNormal.*bool"):
        tf.random.truncated_normal([2], dtype=tf.bool)
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        tf.random.normal([-1, 2])


def test_truncated_normal():
    x = tf.random.truncated_normal([N], mean=1.0, stddev=2.0).numpy().astype(np.float64)
    assert x.min() >= 1.0 - 4.0 and x.max() <= 1.0 + 4.0
    _close(x.mean(), 1.0, 2.0)
    # std of a standard normal truncated to [-2, 2] is 0.8796
    assert abs(x.std() / 2.0 - 0.8796) < 0.02
    assert tf.random.truncated_normal([2, 2], dtype=tf.float64).dtype == tf.float64


def test_categorical():
    logits = np.log(np.array([[0.2, 0.5, 0.3], [0.9, 0.1, 1e-30]]))
    s = tf.random.categorical(tf.constant(logits, dtype=tf.float32), 20000)
    assert s.shape == (2, 20000) and s.dtype == tf.int64
    v = s.numpy()
    freq = np.bincount(v[0], minlength=3) / 20000
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.02)
    assert not np.any(v[1] == 2)
    never = tf.random.categorical([[0.0, -np.inf]], 100).numpy()
    assert np.all(never == 0)
    assert tf.random.categorical([[0.0, 1.0]], 3, dtype=tf.int32).dtype == tf.int32
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"matrix, got shape \[3\]"):
        tf.random.categorical(tf.zeros([3]), 4)


def test_shuffle():
    x = tf.reshape(tf.range(20), [10, 2]) if hasattr(tf, "range") else \
        tf.constant(np.arange(20).reshape(10, 2))
    y = tf.random.shuffle(x, seed=4).numpy()
    assert y.shape == (10, 2)
    assert sorted(y[:, 0].tolist()) == list(range(0, 20, 2))
    np.testing.assert_array_equal(y[:, 1], y[:, 0] + 1)  # rows move together
    firsts = {int(tf.random.shuffle(tf.constant(np.arange(5))).numpy()[0]) for _ in range(60)}
    assert len(firsts) > 2
    assert int(tf.random.shuffle(tf.constant(3))) == 3


def test_poisson_and_gamma():
    lam = tf.constant([1.0, 4.0])
    p = tf.random.poisson([N], lam)
    assert p.shape == (N, 2) and p.dtype == tf.float32
    pv = p.numpy()
    _close(pv[:, 1].mean(), 4.0, 2.0)
    assert tf.random.poisson([3], 2.0, dtype=tf.int64).dtype == tf.int64
    g = tf.random.gamma([N], alpha=[2.0, 3.0], beta=[[1.0], [2.0]])
    assert g.shape == (N, 2, 2) and g.dtype == tf.float32
    gv = g.numpy().astype(np.float64)
    _close(gv[:, 1, 1].mean(), 3.0 / 2.0, math.sqrt(3.0) / 2.0)
    assert gv.min() > 0


# ---------------------------------------------------------------- seed semantics
def test_global_seed_repeats_sequence():
    tf.random.set_seed(1234)
    a1, a2 = tf.random.uniform([4]).numpy(), tf.random.uniform([4]).numpy()
    b1 = tf.random.normal([3], seed=7).numpy()
    tf.random.set_seed(1234)
    c1, c2 = tf.random.uniform([4]).numpy(), tf.random.uniform([4]).numpy()
    d1 = tf.random.normal([3], seed=7).numpy()
    np.testing.assert_array_equal(a1, c1)
    np.testing.assert_array_equal(a2, c2)
    np.testing.assert_array_equal(b1, d1)
    assert not np.array_equal(a1, a2)
    tf.random.set_seed(99)
    assert not np.array_equal(tf.random.uniform([4]).numpy(), a1)


def test_op_seed_continues_its_stream():
    tf.random.set_seed(5)
    x1 = tf.random.uniform([3], seed=1).numpy()
    x2 = tf.random.uniform([3], seed=1).numpy()
    assert not np.array_equal(x1, x2)  # same op seed: the stream continues
    tf.random.set_seed(5)
    np.testing.assert_array_equal(tf.random.uniform([3], seed=1).numpy(), x1)
    np.testing.assert_array_equal(tf.random.uniform([3], seed=1).numpy(), x2)


def test_no_seed_is_nondeterministic():
    a = tf.random.uniform([8]).numpy()
    b = tf.random.uniform([8]).numpy()
    assert not np.array_equal(a, b)


def test_get_seed_rules():
    from dlframe.ops.random import DEFAULT_GRAPH_SEED, get_seed
    tf.random.set_seed(None)
    assert get_seed(None) == (None, None)
    assert get_seed(3) == (DEFAULT_GRAPH_SEED, 3)
    tf.random.set_seed(10)
    assert get_seed(3) == (10, 3)
    first, second = get_seed(None), get_seed(None)
    assert first[0] == second[0] == 10 and first[1] != second[1]


_PROGRAM = """
import dlframe as tf
print(tf.random.uniform([3], seed=2).numpy().tolist())
print(tf.random.uniform([3], seed=2).numpy().tolist())
tf.random.set_seed(17)
print(tf.random.normal([3]).numpy().tolist(), tf.random.normal([2]).numpy().tolist())
"""


def test_same_program_same_numbers_across_runs():
    env = dict(os.environ, DLFRAME_DEVICE="cpu")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    runs = [subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True,
                           cwd=root, env=env, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1]
    lines = runs[0].splitlines()
    assert lines[0] != lines[1]


def test_dropout_follows_seeds():
    tf.random.set_seed(3)
    a = tf.nn.dropout(tf.ones([100]), 0.5).numpy()
    tf.random.set_seed(3)
    b = tf.nn.dropout(tf.ones([100]), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- stateless
def test_stateless_ops_deterministic(device):
    for fn in (tf.random.stateless_normal, tf.random.stateless_uniform,
               tf.random.stateless_truncated_normal):
        a = fn([5, 3], seed=[1, 2]).numpy()
        b = fn([5, 3], seed=tf.constant([1, 2], dtype=tf.int64)).numpy()
        c = fn([5, 3], seed=[1, 3]).numpy()
        assert a.shape == (5, 3) and a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    logits = tf.constant([[0.0, 1.0, 2.0]])
    s1 = tf.random.stateless_categorical(logits, 50, seed=[4, 4])
    s2 = tf.random.stateless_categorical(logits, 50, seed=[4, 4])
    assert s1.dtype == tf.int64 and s1.shape == (1, 50)
    np.testing.assert_array_equal(s1.numpy(), s2.numpy())


def test_stateless_moments_and_ranges():
    x = tf.random.stateless_normal([N], seed=[7, 8], mean=1.0, stddev=2.0).numpy()
    _close(x.astype(np.float64).mean(), 1.0, 2.0)
    u = tf.random.stateless_uniform([N], seed=[1, 1], minval=2.0, maxval=4.0).numpy()
    assert u.min() >= 2.0 and u.max() < 4.0
    tr = tf.random.stateless_truncated_normal([N], seed=[3, 1]).numpy()
    assert np.abs(tr).max() <= 2.0
    i = tf.random.stateless_uniform([N], seed=[1, 2], minval=0, maxval=5, dtype=tf.int32)
    assert i.dtype == tf.int32 and set(np.unique(i.numpy())) == {0, 1, 2, 3, 4}
    full = tf.random.stateless_uniform([1000], seed=[1, 2], minval=None, maxval=None,
                                       dtype=tf.int32).numpy()
    assert full.min() < -2 ** 29 and full.max() > 2 ** 29
    p = tf.random.stateless_poisson([N], seed=[1, 2], lam=3.0)
    assert p.dtype == tf.int32
    _close(p.numpy().mean(), 3.0, math.sqrt(3.0))


def test_stateless_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"seed must have shape \[2\], "
                       r"not \[1\]"):
        tf.random.stateless_normal([2], seed=[1])
    with pytest.raises(ValueError, match="both None or not None"):
        tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.int32)


def test_split_and_fold_in():
    seeds = tf.random.split([1, 2], num=3)
    assert seeds.shape == (3, 2)
    rows = {tuple(r) for r in seeds.numpy().tolist()}
    assert len(rows) == 3
    np.testing.assert_array_equal(seeds.numpy(), tf.random.split([1, 2], num=3).numpy())
    f = tf.random.fold_in([1, 2], 7)
    assert f.shape == (2,)
    assert not np.array_equal(f.numpy(), tf.random.fold_in([1, 2], 8).numpy())
    assert tf.random.experimental.stateless_split is tf.random.split


# ---------------------------------------------------------------- Generator
def test_generator_from_seed_deterministic():
    g1 = tf.random.Generator.from_seed(42)
    g2 = tf.random.Generator.from_seed(42)
    a = g1.normal([4]).numpy()
    np.testing.assert_array_equal(a, g2.normal([4]).numpy())
    assert not np.array_equal(a, g1.normal([4]).numpy())  # the state advanced
    assert not np.array_equal(a, tf.random.Generator.from_seed(43).normal([4]).numpy())
    assert isinstance(g1.state, tf.Variable)
    assert g1.state.dtype == tf.int64 and g1.state.shape == (3,)
    assert not g1.state.trainable


def test_generator_state_copy_and_reset():
    g = tf.random.Generator.from_seed(1)
    g.normal([2])
    snapshot = g.state.numpy()
    copy = tf.random.Generator(copy_from=g)
    a = g.uniform([3]).numpy()
    np.testing.assert_array_equal(copy.uniform([3]).numpy(), a)
    g.reset(snapshot)
    np.testing.assert_array_equal(g.uniform([3]).numpy(), a)
    g.reset_from_seed(1)
    fresh = tf.random.Generator.from_seed(1)
    np.testing.assert_array_equal(g.normal([2]).numpy(), fresh.normal([2]).numpy())
    state = tf.random.Generator.from_state(g.state, alg="philox")
    np.testing.assert_array_equal(state.normal([2]).numpy(), g.normal([2]).numpy())


def test_generator_distributions():
    g = tf.random.Generator.from_seed(7)
    x = g.normal([N], mean=1.0, stddev=2.0).numpy().astype(np.float64)
    _close(x.mean(), 1.0, 2.0)
    u = g.uniform([N], minval=1.0, maxval=2.0).numpy()
    assert u.min() >= 1.0 and u.max() < 2.0
    i = g.uniform([N], minval=0, maxval=3, dtype=tf.int64).numpy()
    assert set(np.unique(i)) == {0, 1, 2}
    t = g.truncated_normal([N]).numpy()
    assert np.abs(t).max() <= 2.0
    full = g.uniform_full_int([10], dtype=tf.int64)
    assert full.dtype == tf.int64
    with pytest.raises(ValueError, match="both `None` or both non-`None`"):
        g.uniform([2], dtype=tf.int32)
    assert g.uniform([4], minval=None, maxval=None, dtype=tf.int32).dtype == tf.int32


def test_generator_make_seeds_and_split():
    g = tf.random.Generator.from_seed(3)
    seeds = g.make_seeds(4)
    assert seeds.shape == (2, 4) and seeds.dtype == tf.int64
    out = tf.random.stateless_normal([3], seed=seeds[:, 0])
    assert out.shape == (3,)
    children = g.split(3)
    assert len(children) == 3
    draws = [c.normal([5]).numpy() for c in children]
    assert not np.array_equal(draws[0], draws[1])
    again = tf.random.Generator.from_seed(3)
    again.make_seeds(4)
    np.testing.assert_array_equal(again.split(3)[1].normal([5]).numpy(), draws[1])


def test_global_generator_and_experimental_alias():
    g = tf.random.get_global_generator()
    assert isinstance(g, tf.random.Generator)
    assert tf.random.get_global_generator() is g
    mine = tf.random.Generator.from_seed(0)
    tf.random.experimental.set_global_generator(mine)
    assert tf.random.experimental.get_global_generator() is mine
    assert tf.random.experimental.Generator is tf.random.Generator
    tf.random.set_global_generator(g)
    nd1 = tf.random.Generator.from_non_deterministic_state().normal([4]).numpy()
    nd2 = tf.random.Generator.from_non_deterministic_state().normal([4]).numpy()
    assert not np.array_equal(nd1, nd2)


# ---------------------------------------------------------------- compiled functions
def test_compiled_random_ops_draw_fresh_numbers():
    f = tf.function(lambda: tf.random.normal([3], seed=1))
    a, b = f().numpy(), f().numpy()
    assert not np.array_equal(a, b)
    tf.random.set_seed(8)
    eager = [tf.random.uniform([2], seed=4).numpy() for _ in range(2)]
    tf.random.set_seed(8)
    g = tf.function(lambda: tf.random.uniform([2], seed=4))
    compiled = [g().numpy() for _ in range(2)]
    np.testing.assert_array_equal(np.stack(eager), np.stack(compiled))


def test_compiled_generator_advances_state():
    gen = tf.random.Generator.from_seed(11)
    h = tf.function(lambda: gen.normal([2]))
    a, b = h().numpy(), h().numpy()
    assert not np.array_equal(a, b)
    ref = tf.random.Generator.from_seed(11)
    np.testing.assert_array_equal(ref.normal([2]).numpy(), a)
    np.testing.assert_array_equal(ref.normal([2]).numpy(), b)
    assert gen.state.numpy().tolist() == ref.state.numpy().tolist()


def test_stateless_compiled_matches_eager():
    f = tf.function(lambda s: tf.random.stateless_uniform([4], seed=s))
    seed = tf.constant([5, 6])
    np.testing.assert_array_equal(f(seed).numpy(),
                                  tf.random.stateless_uniform([4], seed=[5, 6]).numpy())
