"""Regression tests (helper T's probes, part 2): iterator checkpoints of random
pipelines, ``Options`` type checks, file-cache names and empty typed constants."""

import os

import pytest

import dlframe as tf

D = tf.data.Dataset


@pytest.mark.parametrize("make", [
    lambda: D.range(20).shuffle(20),
    lambda: D.range(20).shuffle(10, seed=3).batch(2),
    lambda: D.range(10).shuffle(4).repeat(3),
    lambda: D.sample_from_datasets([D.range(10), D.range(10, 20)]),
])
def test_restored_iterator_replays_the_same_random_order(make, tmp_path):
    it = iter(make())
    ckpt = tf.train.Checkpoint(it=it)
    for _ in range(4):
        next(it)
    saved = ckpt.save(str(tmp_path / "ckpt"))
    after_save = [next(it).numpy().tolist() for _ in range(5)]
    ckpt.restore(saved)
    assert [next(it).numpy().tolist() for _ in range(5)] == after_save


def test_unseeded_shuffle_still_reshuffles_each_pass():
    ds = D.range(50).shuffle(50)
    first, second = (list(ds.as_numpy_iterator()) for _ in range(2))
    assert sorted(first) == sorted(second) == list(range(50)) and first != second


@pytest.mark.parametrize("group, name, value", [
    # each raised TypeError in TF 2.21 ('Property "..." must be of type ...')
    ("", "deterministic", 1),
    ("", "deterministic", "yes"),
    ("", "experimental_slack", 1),
    ("threading", "private_threadpool_size", 2.0),
    ("autotune", "enabled", 0),
    ("autotune", "ram_budget", 1.5),
    ("experimental_optimization", "map_parallelization", "y"),
    ("experimental_distribute", "auto_shard_policy", 2),
])
def test_options_reject_values_of_the_wrong_type(group, name, value):
    options = tf.data.Options()
    target = getattr(options, group) if group else options
    with pytest.raises(TypeError, match=f'Property "{name}" must be of type'):
        setattr(target, name, value)


def test_options_accept_values_of_the_right_type():
    options = tf.data.Options()
    options.deterministic = False
    options.threading.private_threadpool_size = 2
    options.autotune.enabled = True
    options.autotune.ram_budget = 1 << 30
    options.experimental_distribute.auto_shard_policy = \
        tf.data.experimental.AutoShardPolicy.DATA
    ds = D.range(8).map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.with_options(options)
    assert sorted(ds.as_numpy_iterator()) == list(range(0, 16, 2))
    got = ds.options()
    assert got.deterministic is False and got.threading.private_threadpool_size == 2


def test_file_cache_uses_tf_file_names_and_is_reused(tmp_path):
    prefix = str(tmp_path / "cache")
    calls = []

    def square(x):
        calls.append(1)
        return x * x

    ds = D.range(5).map(square).cache(prefix)
    calls.clear()
    assert list(ds.as_numpy_iterator()) == [0, 1, 4, 9, 16]
    # TF 2.21 leaves these two files for a finished cache
    assert sorted(os.listdir(tmp_path)) == ["cache.data-00000-of-00001", "cache.index"]
    again = D.range(5).map(square).cache(prefix)
    calls.clear()
    assert list(again.as_numpy_iterator()) == [0, 1, 4, 9, 16] and not calls


def test_unfinished_file_cache_leaves_no_index(tmp_path):
    prefix = str(tmp_path / "cache")
    ds = D.range(5).cache(prefix)
    assert list(ds.take(2).as_numpy_iterator()) == [0, 1]
    assert not os.path.exists(prefix + ".index")
    assert list(ds.as_numpy_iterator()) == [0, 1, 2, 3, 4]
    assert os.path.exists(prefix + ".index")


@pytest.mark.parametrize("dtype", [tf.int64, tf.int32, tf.bool, tf.string, tf.float32])
def test_empty_constant_of_any_dtype(dtype):
    t = tf.constant([], dtype)
    assert t.dtype == dtype and t.shape == (0,)


def test_decode_csv_with_empty_required_default():
    ints, floats, words = tf.io.decode_csv(
        ["1,2.5,a", "3,,b"], record_defaults=[tf.constant([], tf.int64), [9.0], ["z"]])
    assert ints.dtype == tf.int64 and ints.numpy().tolist() == [1, 3]
    assert floats.numpy().tolist() == [2.5, 9.0]
    assert words.numpy().tolist() == [b"a", b"b"]
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_csv(["1,,x"], record_defaults=[[0], tf.constant([], tf.float32),
                                                    [""]])
