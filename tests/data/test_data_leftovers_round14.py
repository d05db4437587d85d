"""Seeded random ops in datasets that ``flat_map`` / ``interleave`` build per element
continue one sequence (TF traces the function once), and a map function with seeded
random ops runs its Python side effects once per element."""

import numpy as np
import pytest

import dlframe as tf

# [draw 1, draw 2, ...] of tf.random.uniform([]) under tf.random.set_seed(1) in a
# dataset function: values from TF 2.21
SEED1_DRAWS = [0.8127, 0.5273, 0.8489, 0.8929, 0.3781, 0.9844, 0.228, 0.2815]


def _uniform_pairs(seed=None):
    return lambda i: (tf.data.Dataset.from_tensors(0)
                      .map(lambda _: tf.random.uniform([], seed=seed)).repeat(2))


def _values(ds):
    return [round(float(x), 4) for x in ds]


def test_flat_map_continues_the_random_sequence():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).flat_map(_uniform_pairs())
    assert _values(ds) == SEED1_DRAWS[:6]
    assert _values(ds) == SEED1_DRAWS[:6]   # a new iterator starts over, as TF


def test_flat_map_with_op_seed_continues():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).flat_map(_uniform_pairs(seed=7))
    # TF 2.21 values
    assert _values(ds) == [0.7878, 0.8899, 0.338, 0.4404, 0.858, 0.503]


def test_interleave_draws_in_production_order():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).interleave(_uniform_pairs(), cycle_length=2)
    assert _values(ds) == SEED1_DRAWS[:6]
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).interleave(_uniform_pairs(seed=3), cycle_length=1)
    # TF 2.21 values
    assert _values(ds) == [0.7788, 0.0979, 0.2421, 0.1918, 0.6032, 0.9095]


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_repeat_around_flat_map_continues(where):
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(2)
    ds = (ds.flat_map(_uniform_pairs()).repeat(2) if where == "outside"
          else ds.repeat(2).flat_map(_uniform_pairs()))
    assert _values(ds) == SEED1_DRAWS


def test_inner_function_still_sees_its_element():
    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).flat_map(
        lambda i: tf.data.Dataset.from_tensors(0).map(
            lambda _: tf.cast(i, tf.float32) + tf.random.uniform([])))
    np.testing.assert_allclose(_values(ds), np.add([0, 1, 2], SEED1_DRAWS[:3]),
                               atol=1e-4)


def test_generator_in_flat_map_keeps_its_state():
    g = tf.random.Generator.from_seed(5)
    ds = tf.data.Dataset.range(2).flat_map(
        lambda i: tf.data.Dataset.from_tensors(0).map(lambda _: g.uniform([])).repeat(2))
    first = _values(ds)
    assert len(set(first)) == 4
    assert set(_values(ds)).isdisjoint(first)   # the generator moved on


@pytest.mark.parametrize("seed", [None, 4])
def test_seeded_map_runs_python_effects_once_per_element(seed):
    calls = []

    def side(x):
        calls.append(int(x))
        return x

    tf.random.set_seed(1)
    ds = tf.data.Dataset.range(3).map(
        lambda x: tf.py_function(side, [x], tf.int64)
        + tf.cast(tf.random.uniform([], 0, 10, dtype=tf.int32, seed=seed), tf.int64))
    del calls[:]   # (the spec is found when the pipeline is built)
    first = [int(v) for v in ds]
    assert calls == [0, 1, 2]
    assert [int(v) for v in ds] == first   # each iterator restarts the kernel
    assert calls == [0, 1, 2, 0, 1, 2]
