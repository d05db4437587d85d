"""Read-back of session 23's random/speed/distribute commits (R3): TF 2.21 figures
observed with the oracle, exact equivalence of the vectorised shuffle and the
small-draw Philox path, TF's NaN for a NaN Gamma alpha, stateless bfloat16 Gamma
refused, seeded dropout's overflow without a NumPy warning, the tf.nest fast path."""

import collections
import math
import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError
from dlframe.ops import philox
from dlframe.ops.random_tf_samplers import _fisher_yates


def _sequential_fisher_yates(words, n):
    perm = list(range(n))
    for i, word in enumerate(words.tolist()):
        j = i + word % (n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return np.asarray(perm)


@pytest.mark.parametrize("mode", ["random", "small", "pattern"])
def test_vectorised_fisher_yates_equals_the_sequential_swaps(mode):
    rs = np.random.RandomState(3)
    for n in list(range(2, 40)) + [257, 1000, 4099]:
        if mode == "random":
            w = rs.randint(0, 2 ** 32, size=n - 1, dtype=np.uint64).astype(np.uint32)
        elif mode == "small":   # many self-swaps and repeated targets
            w = rs.randint(0, 3, size=n - 1).astype(np.uint32)
        else:
            w = (np.arange(n - 1)[::-1] % 7).astype(np.uint32)
        np.testing.assert_array_equal(_fisher_yates(np, w, n),
                                      _sequential_fisher_yates(w, n))


def test_shuffle_gives_tf_permutations():
    got = tf.random.experimental.stateless_shuffle(tf.range(50), seed=[7, 9]).numpy()
    assert got.tolist() == [11, 10, 8, 33, 43, 17, 34, 38, 13, 46, 37, 19, 47, 41, 24,
                            16, 44, 29, 35, 6, 9, 39, 25, 2, 27, 22, 3, 49, 12, 45, 21,
                            18, 40, 20, 42, 14, 32, 28, 23, 30, 1, 5, 31, 36, 15, 7, 0,
                            48, 4, 26]
    p = tf.random.experimental.stateless_shuffle(tf.range(5000), seed=[3, 4]).numpy()
    assert p[:10].tolist() == [2163, 191, 4550, 3080, 4443, 4289, 4820, 1805, 288, 3148]
    assert int((p * np.arange(5000)).sum() % 1000003) == 996631   # TF 2.21
    tf.random.set_seed(11)
    assert tf.random.shuffle(tf.range(12), seed=2).numpy().tolist() == \
        [5, 11, 7, 9, 3, 4, 8, 1, 2, 0, 10, 6]
    assert tf.random.shuffle(tf.range(12), seed=2).numpy().tolist() == \
        [4, 3, 1, 2, 6, 7, 0, 10, 8, 11, 5, 9]


def test_few_block_philox_path_equals_numpy_rounds(monkeypatch):
    rs = np.random.RandomState(0)
    counters = [5 << 64, (1 << 64) - 2 | (7 << 64), (1 << 128) - 3, 0]
    for counter in counters:
        key = tuple(int(k) for k in rs.randint(0, 2 ** 32, 2, dtype=np.uint64))
        bits = philox.Bits(np, key, counter)
        for n in range(1, philox._INT_BLOCKS + 1):
            offsets = rs.randint(0, 600, n).astype(np.uint64)
            small = bits.host_words(offsets)
            monkeypatch.setattr(philox, "_INT_BLOCKS", 0)
            np.testing.assert_array_equal(small, bits.host_words(offsets))
            monkeypatch.setattr(philox, "_INT_BLOCKS", 6)
            b = philox.philox_block(key, (counter + int(offsets[0])) & ((1 << 128) - 1))
            assert [int(small[j, i, 0]) for i in range(2) for j in range(2)] == list(b)


def test_small_categorical_draws_tf_numbers():
    logits = [[0.5, -1.0, 2.0, float("-inf")]] * 2
    got = tf.random.stateless_categorical(logits, 6, seed=[5, 6]).numpy()
    assert got.tolist() == [[0, 2, 2, 2, 2, 0], [0, 2, 2, 2, 2, 0]]
    got = tf.random.stateless_categorical([[1.0, 2.0]], 3, seed=[0, 0]).numpy()
    assert got.tolist() == [[1, 1, 0]]


def test_gamma_nan_alpha_is_nan_as_tf():
    got = tf.random.stateless_gamma([2, 3], [1, 2], alpha=[float("nan"), 2.0, -1.0])
    got = got.numpy()
    assert np.isnan(got[:, 0]).all() and np.isnan(got[:, 2]).all()
    np.testing.assert_allclose(got[:, 1], [3.3360066413879395, 2.218280553817749],
                               rtol=1e-6)
    seeded = tf.random.gamma([4], float("nan"), seed=3).numpy()
    assert np.isnan(seeded).all()


def test_stateless_gamma_refuses_bfloat16_as_tf():
    with pytest.raises(InvalidArgumentError, match="bfloat16 is not in the list of "
                                                   "allowed values: half, float, double"):
        tf.random.stateless_gamma([2], [1, 2], 2.0, dtype=tf.bfloat16)
    out = tf.random.stateless_gamma([2], [1, 2], 2.0, dtype=tf.float16)
    assert out.dtype == tf.float16 and np.isfinite(out.numpy()).all()


def test_seeded_dropout_overflow_has_no_numpy_warning():
    tf.keras.utils.set_random_seed(1)
    x = tf.constant([60000.0, 1.0, -60000.0, 2.0] * 8, dtype=tf.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y = tf.keras.random.dropout(x, 0.5, seed=3).numpy()
    np.testing.assert_array_equal(y[:8], np.float16([np.inf, 0, 0, 4, np.inf, 0, 0, 4]))
    kept = y != 0
    assert np.isinf(y[kept & (np.abs(x.numpy()) > 40000)]).all()   # 60000 * 2: inf
    assert not np.isnan(y).any()   # dropped overflows are 0 (TF)


Pair = collections.namedtuple("Pair", "b a")


class _Dict(dict):
    pass


@pytest.mark.parametrize("structures,expected", [
    (([1, None, 2],), ["(1,)", None, "(2,)"]),
    (((1, 2), (3, 4)), ("(1, 3)", "(2, 4)")),
    (({"b": 1, "a": 2}, {"a": 5, "b": 6}), {"b": "(1, 6)", "a": "(2, 5)"}),
    (({2: "x", 10: "y", 1: "z"},), {2: "('x',)", 10: "('y',)", 1: "('z',)"}),
    ((Pair(1, 2),), Pair("(1,)", "(2,)")),
    ((collections.OrderedDict(b=1, a=2),), collections.OrderedDict(b="(1,)", a="(2,)")),
    (((None,)), None),
    (([], []), []),
])
def test_nest_map_structure_results_and_call_order_as_tf(structures, expected):
    calls = []

    def f(*a):
        calls.append(a)
        return None if a[0] is None else str(a)
    got = tf.nest.map_structure(f, *structures)
    assert type(got) is type(expected) and got == expected
    if isinstance(expected, dict):   # keys in the input's order, calls sorted
        assert list(got) == list(expected)
        assert [c[0] for c in calls] == [structures[0][k] for k in sorted(structures[0])]


def test_nest_fast_path_keeps_tf_errors_and_subclasses():
    with pytest.raises(TypeError):
        tf.nest.map_structure(lambda a, b: a, [1, 2], (1, 2))
    assert tf.nest.map_structure(lambda a, b: a + b, [1, 2], (3, 4),
                                 check_types=False) == [4, 6]
    with pytest.raises(ValueError):
        tf.nest.map_structure(lambda a, b: a, [1], [1, 2])
    with pytest.raises(ValueError):
        tf.nest.map_structure(lambda a, b: a, [1, 2], [3, [4]])
    got = tf.nest.map_structure(lambda v: v * 2, _Dict(b=1, a=2))
    assert type(got) is _Dict and got == {"b": 2, "a": 4}
    assert math.isclose(tf.nest.map_structure(lambda a, b: a * b, 1.5, 2.0), 3.0)


def test_dropouts_zero_dropped_inf_and_nan_as_tf():
    x = tf.constant([np.inf, -np.inf, np.nan, 3e38] * 6, dtype=tf.float32)
    nan, inf = float("nan"), float("inf")
    want = {   # TF 2.21
        "keras": [0.0, -inf, nan, inf, 0.0, 0.0, 0.0, 0.0, inf, -inf, nan, 0.0, 0.0,
                  0.0, nan, 0.0, inf, 0.0, 0.0, inf, 0.0, 0.0, nan, inf],
        "stateless": [inf, 0.0, nan, 0.0, 0.0, -inf, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                      0.0, nan, 0.0, inf, 0.0, 0.0, 0.0, inf, -inf, nan, 0.0]}
    got = {"keras": tf.keras.random.dropout(x, 0.5, seed=3),
           "stateless": tf.nn.experimental.stateless_dropout(x, 0.5, seed=[1, 2])}
    for name, values in want.items():
        np.testing.assert_array_equal(got[name].numpy(), np.float32(values), err_msg=name)
    tf.random.set_seed(5)
    y = tf.nn.dropout(x, 0.5, seed=1).numpy()
    assert (y == 0).any() and np.isnan(y).sum() <= 6   # only kept NaNs stay NaN
    xv = tf.constant([1.0, 2.0, 3.0, 4.0] * 4, tf.float16)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = tf.keras.random.dropout(xv, 0.5, seed=3)
    dy = tf.constant([6e4, np.inf, np.nan, 1.0] * 4, tf.float16)
    np.testing.assert_array_equal(tape.gradient(y, xv, output_gradients=dy).numpy(),
                                  np.float16([inf, 0, 0, 2, inf, 0, 0, 2] + [0] * 8))


def test_many_class_categorical_search_equals_the_comparison(monkeypatch):
    from dlframe.ops import random_tf_samplers as samplers
    rs = np.random.RandomState(0)
    for classes in (samplers._SEARCH_CLASSES, 1000):
        logits = rs.randn(3, classes) * 3
        logits[0, rs.randint(0, classes, 20)] = -np.inf
        logits[2] = -np.inf   # no finite logit: num_classes
        for ns in (1, 7, 200):
            bits = philox.Bits(np, (1, 2), 3 << 64)
            fast = samplers.categorical(bits, np, logits, num_samples=ns, dtype=np.int64)
            monkeypatch.setattr(samplers, "_SEARCH_CLASSES", 10 ** 9)
            slow = samplers.categorical(bits, np, logits, num_samples=ns, dtype=np.int64)
            monkeypatch.undo()
            np.testing.assert_array_equal(fast, slow)
            assert (fast[2] == classes).all() and (fast[:2] < classes).all()


def test_thousand_class_categorical_draws_tf_numbers():
    logits = tf.constant((np.sin(np.arange(2000.0)) * 4).reshape(2, 1000)
                         .astype("float32"))
    got = tf.random.stateless_categorical(logits, 8, seed=[4, 5]).numpy()
    assert got.tolist() == [[309, 279, 856, 423, 229, 612, 341, 297],   # TF 2.21
                            [58, 359, 403, 981, 277, 409, 428, 289]]
    tf.random.set_seed(2)
    assert tf.random.categorical(logits[:1], 6, seed=7).numpy().tolist() == \
        [[479, 203, 266, 654, 687, 698]]
    assert tf.random.categorical(logits[:1], 6, seed=7).numpy().tolist() == \
        [[77, 272, 605, 429, 624, 649]]


def test_strategy_run_of_tf_functions_traces_once_and_frees(two_cpus):
    import gc
    import weakref
    s = two_cpus
    traces = []

    class Model:
        def __init__(self):
            self.v = tf.Variable(1.0)

        @tf.function
        def step(self, x):
            traces.append(1)
            rid = tf.distribute.get_replica_context().replica_id_in_sync_group
            return x * self.v + tf.cast(rid, tf.float32)
    model = Model()
    for i in range(20):
        out = s.run(model.step, args=(tf.constant(float(i)),))
    assert len(traces) == 2   # TF 2.21: one trace holding both replicas
    assert [float(v) for v in s.experimental_local_results(out)] == [19.0, 20.0]

    @tf.function
    def f(x):
        return x + 1.0
    for i in range(3):
        s.run(f, args=(tf.constant(float(i)),))
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None
    with pytest.raises(ValueError, match=r"A non-DistributedValues value tf.Tensor\(\[1. "
                                         r"2.\], shape=\(2,\), dtype=float32\) cannot"):
        s.reduce("SUM", tf.constant([1.0, 2.0]), axis=None)
    assert s.reduce("SUM", tf.constant([1.0, 2.0]), axis=0).numpy() == 6.0
