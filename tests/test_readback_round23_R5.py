"""Read-back of round 23's random commits: parameterized truncated normal checks
(a zero stddev with a one-sided interval hung in the tail sampler), and TF 2.21's
observed ``Dataset.shuffle`` orders for cases the shuffle tests do not cover
(checkpoint restore mid-epoch, repeat before shuffle, interleaved shuffles,
strings, two live iterators)."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InternalError, InvalidArgumentError


def _ptn(**kw):
    return tf.random.stateless_parameterized_truncated_normal([4], seed=[1, 2], **kw)


@pytest.mark.parametrize("means,stddevs,minvals,maxvals", [
    (0.0, 0.0, 1.0, np.inf),       # hung: alpha = inf in the exponential tail
    (0.0, -1.0, 10.0, np.inf),
    (0.0, 0.0, -1.0, 1.0),
    (0.0, 1.0, 3.0, 1.0),
    (0.0, 1.0, 1.0, 1.0),
    (0.0, 1.0, -np.inf, np.inf),
    (0.0, np.nan, -1.0, 1.0),
    (0.0, 1.0, np.nan, 1.0),
])
def test_truncated_normal_invalid_parameters_raise_as_tf(means, stddevs, minvals,
                                                         maxvals):
    with pytest.raises(InvalidArgumentError, match="Invalid parameters"):
        _ptn(means=means, stddevs=stddevs, minvals=minvals, maxvals=maxvals)


@pytest.mark.parametrize("means,minvals,maxvals", [
    (np.nan, -1.0, 1.0), (np.inf, -1.0, 1.0), (-np.inf, 0.0, np.inf),
    (-3e38, 3e38, np.inf)])
def test_truncated_normal_unreachable_tail_raises_internal_error(means, minvals,
                                                                 maxvals):
    with pytest.raises(InternalError, match="failed to accept a sample"):
        _ptn(means=means, stddevs=1.0, minvals=minvals, maxvals=maxvals)


def test_truncated_normal_infinite_stddev_is_nan_and_far_tails_stay_in_range():
    assert np.isnan(_ptn(stddevs=np.inf, minvals=-1.0, maxvals=1.0).numpy()).all()
    x = _ptn(minvals=40.0, maxvals=np.inf).numpy()     # TF: 40.0042, 40.0001, ...
    assert np.all((x >= 40.0) & (x < 40.5))
    y = _ptn(minvals=-np.inf, maxvals=-40.0).numpy()
    assert np.all((y <= -40.0) & (y > -40.5))


def _order(ds):
    return [int(x) for x in ds]


def test_shuffle_iterator_checkpoint_restores_mid_epoch_as_tf(tmp_path):
    tf.random.set_seed(7)
    ds = tf.data.Dataset.range(12).shuffle(5, seed=3)
    it = iter(ds)
    assert [int(next(it)) for _ in range(4)] == [4, 5, 6, 0]
    path = tf.train.Checkpoint(iterator=it).save(os.path.join(tmp_path, "c"))
    assert _order(it) == [1, 8, 2, 3, 11, 7, 10, 9]
    it2 = iter(ds)
    tf.train.Checkpoint(iterator=it2).restore(path)
    assert _order(it2) == [1, 8, 2, 3, 11, 7, 10, 9]
    assert _order(ds) == [1, 3, 6, 4, 7, 5, 0, 8, 2, 9, 10, 11]


def test_shuffle_orders_of_composed_pipelines_match_tf():
    tf.random.set_seed(7)
    rng = tf.data.Dataset.range
    assert _order(rng(6).repeat(3).shuffle(4, seed=3)) == [
        3, 0, 1, 4, 0, 5, 3, 4, 5, 2, 0, 2, 3, 1, 2, 4, 5, 1]
    assert _order(rng(6).shuffle(4, seed=3).repeat(2).shuffle(3, seed=1)) == [
        1, 4, 2, 3, 5, 0, 0, 1, 5, 3, 4, 2]
    inter = rng(3).interleave(
        lambda i: rng(i * 10, i * 10 + 5).shuffle(3, seed=1), cycle_length=3)
    assert _order(inter) == [2, 12, 22, 3, 13, 23, 4, 14, 24, 1, 11, 21, 0, 10, 20]
    strings = tf.data.Dataset.from_tensor_slices(list("abcdef")).shuffle(3, seed=5)
    assert [s.numpy() for s in strings] == [b"b", b"a", b"d", b"f", b"e", b"c"]
    assert _order(rng(10).shuffle(1, seed=3)) == list(range(10))
    assert _order(rng(0).shuffle(5, seed=3)) == []


def test_two_live_iterators_take_successive_pass_seeds_as_tf():
    tf.random.set_seed(7)
    ds = tf.data.Dataset.range(8).shuffle(4, seed=3)
    i1, i2 = iter(ds), iter(ds)
    pairs = [(int(next(i1)), int(next(i2))) for _ in range(8)]
    assert pairs == [(3, 0), (0, 4), (1, 3), (4, 2), (6, 7), (2, 1), (7, 5), (5, 6)]


def test_shuffle_refills_its_buffer_on_the_next_request_as_tf():
    tf.random.set_seed(7)
    pulled = []

    def gen():
        for i in range(10):
            pulled.append(i)
            yield i

    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([], tf.int64)).shuffle(3, seed=1)
    it = iter(ds)
    got = [(int(next(it)), len(pulled)) for _ in range(3)]
    assert got == [(2, 3), (3, 4), (4, 5)]   # TF 2.21 (was one element ahead)
    assert sorted(int(x) for x in it) == [0, 1, 5, 6, 7, 8, 9]
