"""Fast paths of the seeded draws equal their reference paths bit for bit:
NumPy Philox rounds (paired rows) vs the generic rounds, the integer-threshold
dropout keep mask vs ``uniform >= rate``, Keras 3's fused stateless dropout vs
TF's ``(x * scale) * cast(uniform >= rate)`` chain, and the ``tf.nest`` fast path
vs the general one."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.core import nest as nest_mod
from dlframe.keras import random as R
from dlframe.ops import philox

_RNG = np.random.default_rng(20261122)


class _GenericBits(philox.Bits):
    """``Bits`` drawing through the xp-generic ``_rounds`` (the GPU twin's code)."""

    __slots__ = ()

    def blocks(self, offsets):
        flat = offsets.reshape(-1)
        out = np.empty((flat.size, 4), dtype=np.uint32)
        for i, w in enumerate(self._block_words(flat)):
            out[:, i] = w
        return out.reshape(tuple(offsets.shape) + (4,))


def _random_key_counter(trial):
    key = tuple(int(v) for v in _RNG.integers(0, 2**32, 2))
    counter = int(_RNG.integers(0, 2**63)) << 64 | int(_RNG.integers(0, 2**63))
    if trial % 3 == 0:   # the low 64 bits carry into the high half mid-draw
        counter = (int(_RNG.integers(0, 2**62)) << 64) | (2**64 - 3)
    if trial % 5 == 0:   # the whole 128-bit counter wraps
        counter = (1 << 128) - 2
    return key, counter


@pytest.mark.parametrize("trial", range(12))
def test_host_philox_blocks_equal_the_generic_rounds(trial):
    key, counter = _random_key_counter(trial)
    n = int(_RNG.integers(1, 5000))
    offsets = (np.arange(n, dtype=np.uint64) if trial % 2 else
               _RNG.integers(0, 2**40, n).astype(np.uint64))
    fast = philox.Bits(np, key, counter).blocks(offsets)
    ref = _GenericBits(np, key, counter).blocks(offsets)
    assert fast.dtype == np.uint32 and np.array_equal(fast, ref)


def test_host_philox_block_matches_the_philox_paper_vector():
    # Random123's known-answer test for Philox4x32-10 (all-ones counter and key)
    ones = (1 << 128) - 1
    assert philox.philox_block((0xFFFFFFFF, 0xFFFFFFFF), ones) == (
        0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)
    for _ in range(200):
        key = tuple(int(v) for v in _RNG.integers(0, 2**32, 2))
        counter = int(_RNG.integers(0, 2**63)) * int(_RNG.integers(1, 2**63)) % (1 << 128)
        words = tuple((counter >> (32 * i)) & 0xFFFFFFFF for i in range(4))
        assert philox.philox_block(key, counter) == philox._rounds(None, words, key)


def _edge_rates(frac):
    """Rates at and around the integer thresholds of a ``frac``-bit uniform."""
    step = 2.0 ** -frac
    rates = [0.0, 0.2, 0.5, 0.25, 0.1, 0.9, 0.999, 1.0, step, 1 - step, 0.75 + step]
    rates += [0.5 + step / 2, 0.5 - step / 3, 0.3 + step * 0.999]
    return rates


@pytest.mark.parametrize("dtype, frac", [("float32", 23), ("float16", 10),
                                         ("bfloat16", 7), ("float64", 52)])
def test_keep_mask_equals_the_uniform_comparison(dtype, frac):
    np_dtype = tf.as_dtype(dtype).as_numpy_dtype
    for i, rate in enumerate(_edge_rates(min(frac, 23))):
        key, counter = _random_key_counter(i)
        shape = (int(_RNG.integers(1, 40)), int(_RNG.integers(1, 37)))
        scale = 1.0 / (1.0 - rate) if rate < 1 else 0.0
        got = philox.keep_mask(philox.Bits(np, key, counter), shape, np_dtype, rate,
                               scale)
        u = philox.uniform(philox.Bits(np, key, counter), shape, np_dtype)
        want = (u >= np.dtype(np_dtype).type(rate)).astype(np_dtype)
        want *= np.dtype(np_dtype).type(scale)
        assert got.dtype == np.dtype(np_dtype) and got.shape == shape
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (dtype, rate)


def _reference_dropout(x, rate, seed_state, noise_shape=None):
    """TF's stateless_dropout chain on dlframe's public ops."""
    seed = tf.cast(tf.math.floormod(seed_state, 2**31 - 2), tf.int32)
    shape = list(x.shape) if noise_shape is None else noise_shape
    u = tf.random.stateless_uniform(shape, seed, dtype=x.dtype)
    scaled = x * tf.constant(1.0 / (1.0 - rate), x.dtype)
    # a select (TF 2.21: dropped inf/NaN entries are 0, not inf * 0)
    return tf.where(u >= tf.constant(rate, x.dtype), scaled, tf.zeros_like(scaled))


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "bfloat16"])
@pytest.mark.parametrize("rate", [0.2, 0.5, 0.7, 1 / 3])
def test_keras_dropout_equals_tf_chain_bitwise(dtype, rate):
    values = _RNG.normal(size=(9, 13)) * 100
    values[0, :5] = [np.inf, -np.inf, np.nan, -0.0, 6.5e4]
    x = tf.constant(values, dtype=dtype)
    gen = R.SeedGenerator(1234)
    for _ in range(3):
        state = gen.state.read_value()
        got = R.dropout(x, rate, seed=gen)
        want = _reference_dropout(x, rate, state)
        assert got.dtype == x.dtype
        g, w = got.numpy(), want.numpy()
        assert np.array_equal(g.view(np.uint8), w.view(np.uint8)), (dtype, rate)
    assert gen.state.numpy().tolist() == [1234, 3]


def test_keras_dropout_noise_shape_int_seed_and_gradient():
    x = tf.constant(_RNG.normal(size=(4, 6, 5)), tf.float32)
    got = R.dropout(x, 0.4, noise_shape=[None, 1, 5], seed=77)
    want = _reference_dropout(x, 0.4, tf.constant([77, 0], tf.int64), [4, 1, 5])
    assert np.array_equal(got.numpy(), want.numpy())
    kept = got.numpy() != 0
    assert (kept == kept[:, :1, :]).all() and 0 < kept.mean() < 1
    # float16 with upstream gradients whose scaled values overflow: TF's
    # where(keep, dy, 0) * scale gives 0 where dropped, never inf * 0
    x16 = tf.cast(x, tf.float16)
    weights = tf.constant(np.linspace(-6e4, 6e4, 120).reshape(4, 6, 5), tf.float16)
    grads = []
    for fn in (lambda v: R.dropout(v, 0.4, seed=R.SeedGenerator(3)),
               lambda v: _reference_dropout(v, 0.4, tf.constant([3, 0], tf.int64))):
        with tf.GradientTape() as tape:
            tape.watch(x16)
            loss = tf.reduce_sum(fn(x16) * weights)
        grads.append(tape.gradient(loss, x16).numpy())
    assert np.isinf(grads[1]).any() and not np.isnan(grads[1]).any()
    assert np.array_equal(grads[0].view(np.uint16), grads[1].view(np.uint16))


def test_keras_dropout_refuses_integer_inputs():
    with pytest.raises(ValueError, match=r"`x.dtype` must be a floating point tensor"):
        R.dropout(tf.constant([1, 2, 3]), 0.5, seed=3)


def test_seeded_dropout_layer_in_a_traced_step_advances():
    keras.utils.set_random_seed(4)
    layer = keras.layers.Dropout(0.5, seed=9)
    step = tf.function(lambda v: layer(v, training=True))
    ones = tf.ones([64])
    draws = [step(ones).numpy() for _ in range(3)]
    ref = R.SeedGenerator(9)
    for got in draws:
        want = _reference_dropout(ones, 0.5, ref.next())
        assert np.array_equal(got, want.numpy())
    assert not np.array_equal(draws[0], draws[1])


_STRUCTURES = [
    [1, 2, 3], (1, 2), {"b": 1, "a": 2}, {2: "x", 1: "y"}, [], (), {},
    [np.ones(2), np.zeros(3)], [None, 1], ("s", b"b"), [[1], 2], ({"a": 1}, 2),
]


@pytest.mark.parametrize("structure", _STRUCTURES, ids=repr)
def test_nest_fast_path_equals_general_path(structure):
    got = tf.nest.map_structure(lambda v: ("leaf", repr(v)), structure)
    flat = tf.nest.flatten(structure)
    want = tf.nest.pack_sequence_as(structure, [("leaf", repr(v)) for v in flat])
    assert type(got) is type(want) and repr(got) == repr(want)
    two = tf.nest.map_structure(lambda a, b: (repr(a), repr(b)), structure, structure)
    assert repr(two) == repr(tf.nest.pack_sequence_as(
        structure, [(repr(v), repr(v)) for v in flat]))


def test_nest_fast_path_call_order_and_errors():
    calls = []
    out = tf.nest.map_structure(lambda v: calls.append(v) or v * 10, {"b": 1, "a": 2})
    assert calls == [2, 1] and list(out) == ["b", "a"] and out == {"b": 10, "a": 20}
    assert nest_mod._map_shallow(lambda v: v, ([1, [2]],)) is nest_mod._END
    with pytest.raises(TypeError, match="don't have the same sequence type"):
        tf.nest.map_structure(lambda a, b: a, [1, 2], (1, 2))
    assert tf.nest.map_structure(lambda a, b: a + b, [1, 2], (3, 4),
                                 check_types=False) == [4, 6]
    with pytest.raises(ValueError, match="same number of elements"):
        tf.nest.map_structure(lambda a, b: a, [1, 2], [1])
    with pytest.raises(ValueError, match="is a sequence, while"):
        tf.nest.map_structure(lambda a, b: a, [1, 2], 3)
    assert tf.nest.map_structure(lambda a, b: a * b, 3, 4) == 12
