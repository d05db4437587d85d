"""Dataset.save/load, snapshot and cache(filename) of ragged and sparse elements: the
values and the element_spec survive the files (behaviour checked against TF 2.21)."""

import os

import numpy as np
import pytest

import dlframe as tf


def _rt():
    return tf.ragged.constant([[1, 2, 3], [4], [], [5, 6]], dtype=tf.int64)


def _st():
    return tf.sparse.SparseTensor(indices=[[0, 1], [2, 0], [3, 2]],
                                  values=[1.5, 2.5, 3.5], dense_shape=[4, 3])


def _plain(value):
    if isinstance(value, tf.RaggedTensor):
        return ("ragged", value.to_list(), value.row_splits.dtype.name)
    if isinstance(value, tf.sparse.SparseTensor):
        return ("sparse", value.indices.numpy().tolist(), value.values.numpy().tolist(),
                value.dense_shape.numpy().tolist())
    return ("dense", value.numpy().tolist(), value.dtype.name)


def _elements(ds):
    return [tf.nest.map_structure(_plain, el) for el in ds]


def _datasets():
    rt, st = _rt(), _st()
    return {
        "ragged_batches": tf.data.Dataset.from_tensor_slices(rt).ragged_batch(2),
        "ragged_and_ints": tf.data.Dataset.from_tensor_slices((rt, tf.range(4))),
        "sparse_rows": tf.data.Dataset.from_tensor_slices(st),
        "whole_sparse": tf.data.Dataset.from_tensors(st),
        "dict": tf.data.Dataset.from_tensor_slices({"r": rt, "s": st}),
        "string_ragged": tf.data.Dataset.from_tensors(
            tf.ragged.constant([["a", "bc"], []])),
        "ragged_rank_2": tf.data.Dataset.from_tensors(
            tf.ragged.constant([[[1.0], [2.0, 3.0]], [[4.0]]])),
        "int32_splits": tf.data.Dataset.from_tensors(
            tf.RaggedTensor.from_row_splits([1.0, 2.0, 3.0],
                                            tf.constant([0, 1, 3], tf.int32))),
    }


@pytest.mark.parametrize("name", sorted(_datasets()))
def test_save_load_round_trips_values_and_spec(tmp_path, name):
    ds = _datasets()[name]
    path = str(tmp_path / name)
    ds.save(path)
    loaded = tf.data.Dataset.load(path)
    assert loaded.element_spec == ds.element_spec
    assert _elements(loaded) == _elements(ds)
    with_spec = tf.data.Dataset.load(path, element_spec=ds.element_spec)
    assert _elements(with_spec) == _elements(ds)


@pytest.mark.parametrize("name", ["ragged_batches", "dict", "ragged_rank_2"])
def test_cache_file_round_trips_and_is_reused(tmp_path, name):
    ds = _datasets()[name]
    filename = str(tmp_path / "cache")
    cached = ds.cache(filename)
    first = _elements(cached)
    assert first == _elements(ds)
    assert any(f.startswith("cache") for f in os.listdir(tmp_path))
    assert _elements(cached) == first   # the second pass reads the file
    assert cached.element_spec == ds.element_spec


def test_cache_file_is_read_by_a_later_pipeline(tmp_path):
    filename = str(tmp_path / "shared")
    written = tf.data.Dataset.from_tensor_slices(_rt()).ragged_batch(2).cache(filename)
    expected = _elements(written)
    other = tf.ragged.constant([[9], [9, 9], [9], [9]], dtype=tf.int64)
    reader = tf.data.Dataset.from_tensor_slices(other).ragged_batch(2).cache(filename)
    assert _elements(reader) == expected   # the records, not its own input


def test_snapshot_of_ragged_batches_and_sparse(tmp_path):
    for name in ("ragged_batches", "sparse_rows"):
        ds = _datasets()[name]
        snap = ds.snapshot(str(tmp_path / name))
        assert _elements(snap) == _elements(ds)   # writes
        assert _elements(snap) == _elements(ds)   # reads back
        assert snap.element_spec == ds.element_spec


def test_save_gzip_and_shards_keep_ragged_rows(tmp_path):
    ds = tf.data.Dataset.from_tensor_slices((_rt(), tf.range(4, dtype=tf.int64)))
    path = str(tmp_path / "sharded")
    ds.save(path, compression="GZIP", shard_func=lambda r, i: i % 2)
    loaded = tf.data.Dataset.load(path, compression="GZIP")
    got = sorted((int(i), r.numpy().tolist()) for r, i in loaded)
    assert got == [(0, [1, 2, 3]), (1, [4]), (2, []), (3, [5, 6])]


def test_loaded_ragged_dataset_batches_and_maps(tmp_path):
    path = str(tmp_path / "rows")
    tf.data.Dataset.from_tensor_slices(_rt()).save(path)
    loaded = tf.data.Dataset.load(path).ragged_batch(3).map(
        lambda x: tf.reduce_sum(x, axis=1))
    assert [v.numpy().tolist() for v in loaded] == [[6, 4, 0], [11]]


def test_from_tensor_slices_with_ragged_yields_tensor_scalars():
    ds = tf.data.Dataset.from_tensor_slices((_rt(), tf.range(4)))
    for _, i in ds:
        assert isinstance(i, tf.Tensor) and i.dtype == tf.int32 and i.shape == ()


def test_sparse_spec_json_keeps_unknown_dims(tmp_path):
    ds = tf.data.Dataset.from_tensor_slices(_st()).batch(3)
    path = str(tmp_path / "sparse_batches")
    ds.save(path)
    loaded = tf.data.Dataset.load(path)
    assert loaded.element_spec == ds.element_spec
    dense = [tf.sparse.to_dense(sp).numpy() for sp in loaded]
    np.testing.assert_array_equal(np.concatenate(dense), tf.sparse.to_dense(_st()))
