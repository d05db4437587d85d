"""tf.data: Dataset.save/load (and experimental spellings), snapshot,
rejection_resample, get_next_as_optional, NumpyIterator."""

import os

import numpy as np
import pytest

import dlframe as tf


def _dataset():
    return tf.data.Dataset.from_tensor_slices(
        ({"a": np.arange(6, dtype="int64"), "img": np.arange(24.0).reshape(6, 2, 2)},
         np.array([b"x", b"yy", b"", b"z", b"w", b"v"])))


def _as_lists(ds):
    return [(e[0]["a"], e[0]["img"].tolist(), e[1]) for e in ds.as_numpy_iterator()]


@pytest.mark.parametrize("compression", [None, "GZIP"])
def test_save_load_round_trip(tmp_path, compression):
    ds = _dataset()
    assert ds.save(str(tmp_path / "saved"), compression=compression) is None
    loaded = tf.data.Dataset.load(str(tmp_path / "saved"), compression=compression)
    assert loaded.element_spec == ds.element_spec
    assert int(loaded.cardinality()) == 6
    assert _as_lists(loaded) == _as_lists(ds)
    assert _as_lists(loaded) == _as_lists(loaded)   # re-iterable
    # the saved files alone rebuild it, batched afterwards like any dataset
    batch = next(iter(tf.data.experimental.load(
        str(tmp_path / "saved"), compression=compression).batch(4)))
    np.testing.assert_array_equal(batch[0]["img"].numpy(),
                                  np.arange(16.0).reshape(4, 2, 2))


def test_save_shards_and_reader_func(tmp_path):
    ds = tf.data.Dataset.range(7).map(lambda x: (x, tf.cast(x, tf.float32) * 0.5))
    tf.data.experimental.save(ds, str(tmp_path), shard_func=lambda x, y: x % 3)
    names = sorted(n for n in os.listdir(tmp_path) if n.startswith("shard_"))
    assert len(names) == 3
    loaded = tf.data.Dataset.load(str(tmp_path))
    # default reader: one element of each shard in turn (as TF's interleave)
    assert [int(x) for x, _ in loaded.as_numpy_iterator()] == [0, 1, 2, 3, 4, 5, 6]
    flat = tf.data.Dataset.load(str(tmp_path),
                                reader_func=lambda shards: shards.flat_map(lambda s: s))
    assert [int(x) for x, _ in flat.as_numpy_iterator()] == [0, 3, 6, 1, 4, 2, 5]


def test_load_errors(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="element_spec file not found"):
        tf.data.Dataset.load(str(tmp_path / "missing"))
    # TF 2.21: an unknown compression name writes plain files; a non-string fails
    with pytest.raises(TypeError, match="compression"):
        tf.data.Dataset.range(2).save(str(tmp_path / "x"), compression=4)
    with pytest.raises(ValueError, match="infinite"):
        tf.data.Dataset.range(2).repeat().save(str(tmp_path / "y"))


def test_snapshot_writes_once_then_reads(tmp_path):
    calls = []

    def gen():
        calls.append(1)
        yield from range(4)

    source = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec((), tf.int64))
    snap = source.snapshot(str(tmp_path / "snap"))
    assert list(snap.as_numpy_iterator()) == [0, 1, 2, 3]
    assert list(snap.as_numpy_iterator()) == [0, 1, 2, 3]
    assert len(calls) == 1 and os.listdir(tmp_path / "snap")
    again = source.apply(tf.data.experimental.snapshot(str(tmp_path / "snap")))
    assert list(again.as_numpy_iterator()) == [0, 1, 2, 3] and len(calls) == 1


@pytest.mark.parametrize("initial", [None, [0.75, 0.25]])
def test_rejection_resample_balances_classes(initial):
    ds = tf.data.Dataset.range(4000)
    resampled = ds.rejection_resample(lambda x: tf.cast(x % 4 == 0, tf.int32),
                                      target_dist=[0.5, 0.5], initial_dist=initial,
                                      seed=3)
    spec = resampled.element_spec
    assert spec[0].dtype == tf.int32 and spec[1].dtype == tf.int64
    pairs = list(resampled.as_numpy_iterator())
    classes = np.array([c for c, _ in pairs])
    assert all(c == int(x % 4 == 0) for c, x in pairs)
    assert abs(classes.mean() - 0.5) < 0.05          # balanced: 0.25 -> ~0.5
    assert 1700 < len(pairs) < 2300                 # all of class 1, 1/3 of class 0
    via_apply = ds.apply(tf.data.experimental.rejection_resample(
        lambda x: tf.cast(x % 2, tf.int32), [0.0, 1.0], seed=1))
    assert all(int(x) % 2 == 1 for _, x in via_apply.as_numpy_iterator())
    with pytest.raises(ValueError, match="target_dist"):
        ds.rejection_resample(lambda x: tf.cast(x % 2, tf.int32), [-1.0, 2.0])


def test_get_next_as_optional_and_numpy_iterator():
    it = iter(tf.data.Dataset.range(2))
    first = tf.data.experimental.get_next_as_optional(it)
    assert bool(first.has_value()) and int(first.get_value()) == 0
    it.get_next()
    end = it.get_next_as_optional()
    assert not bool(end.has_value())
    numpy_it = tf.data.Dataset.range(3).as_numpy_iterator()
    assert isinstance(numpy_it, tf.data.NumpyIterator)
    assert [int(v) for v in numpy_it] == [0, 1, 2]
