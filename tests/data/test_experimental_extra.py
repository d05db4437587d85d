"""tf.data.experimental: group_by_reducer, pad_to_cardinality, at, Example-parsing
datasets, lookup tables from datasets, options enums (expected values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf

E = tf.data.experimental


def test_constants_and_autotune_options():
    assert E.SHARD_HINT == -1
    assert [int(a) for a in E.AutotuneAlgorithm] == [0, 1, 2, 3, 4]
    assert [a.name for a in E.AutotuneAlgorithm] == [
        "DEFAULT", "HILL_CLIMB", "GRADIENT_DESCENT", "MAX_PARALLELISM", "STAGE_BASED"]
    options = tf.data.Options()
    options.autotune.autotune_algorithm = E.AutotuneAlgorithm.GRADIENT_DESCENT
    assert options.autotune.autotune_algorithm == E.AutotuneAlgorithm.GRADIENT_DESCENT
    assert E.AutotuneOptions is tf.data.AutotuneOptions
    assert E.enable_debug_mode() is None


def test_group_by_reducer_sums_per_key():
    reducer = E.Reducer(init_func=lambda k: np.int64(0), reduce_func=lambda s, x: s + x,
                        finalize_func=lambda s: s)
    out = tf.data.Dataset.range(10).apply(E.group_by_reducer(lambda x: x % 3, reducer))
    assert list(out.as_numpy_iterator()) == [18, 12, 15]
    assert out.element_spec == tf.TensorSpec([], tf.int64)
    assert int(out.cardinality()) == -2


def test_group_by_reducer_tuple_state_is_unpacked_by_finalize():
    reducer = E.Reducer(init_func=lambda k: (k, np.int64(0)),
                        reduce_func=lambda s, x: (s[0], s[1] + 1),
                        finalize_func=lambda k, c: {"k": k, "c": c})
    out = tf.data.Dataset.range(10).apply(E.group_by_reducer(lambda x: x % 2, reducer))
    assert [(int(d["k"]), int(d["c"])) for d in out.as_numpy_iterator()] == \
        [(0, 5), (1, 5)]
    with pytest.raises(TypeError, match="reducer"):
        E.group_by_reducer(lambda x: x, lambda s: s)
    with pytest.raises(TypeError, match="init_func"):
        E.Reducer(1, lambda s, x: s, lambda s: s)


def test_pad_to_cardinality():
    ds = tf.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [[1., 2.], [3., 4.]]})
    padded = ds.apply(E.pad_to_cardinality(4))
    got = list(padded.as_numpy_iterator())
    assert [int(e["a"]) for e in got] == [1, 2, 0, 0]
    assert [bool(e["valid"]) for e in got] == [True, True, False, False]
    np.testing.assert_array_equal(got[3]["b"], [0., 0.])
    assert padded.element_spec["valid"] == tf.TensorSpec([], tf.bool)
    assert int(padded.cardinality()) == 4
    with pytest.raises(ValueError, match="must have a cardinalty less than the target"):
        ds.apply(E.pad_to_cardinality(1))
    with pytest.raises(ValueError, match="known cardinalty, but has cardinality -1"):
        ds.repeat().apply(E.pad_to_cardinality(5))
    with pytest.raises(ValueError, match="requires its input dataset to be a dict"):
        tf.data.Dataset.range(3).apply(E.pad_to_cardinality(5))


def test_at_random_access():
    ds = tf.data.Dataset.range(10, 20)
    assert int(E.at(ds, 3)) == 13
    assert int(E.at(ds.map(lambda x: x * 2), 3)) == 26
    np.testing.assert_array_equal(E.at(ds.batch(3), 1).numpy(), [13, 14, 15])
    with pytest.raises(tf.errors.OutOfRangeError, match="Index out of range"):
        E.at(ds, 30)
    with pytest.raises(tf.errors.OutOfRangeError):
        E.at(ds, -1)
    with pytest.raises(tf.errors.UnimplementedError, match="Random access"):
        E.at(ds.filter(lambda x: x > 12), 1)


def _example(**features):
    feats = {}
    for key, value in features.items():
        if isinstance(value[0], float):
            feats[key] = tf.train.Feature(float_list=tf.train.FloatList(value=value))
        elif isinstance(value[0], bytes):
            feats[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=value))
        else:
            feats[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=value))
    return tf.train.Example(
        features=tf.train.Features(feature=feats)).SerializeToString()


def test_parse_example_dataset():
    records = [_example(x=[1.5], y=[1]), _example(x=[2.5], y=[0])]
    features = {"x": tf.io.FixedLenFeature([], tf.float32),
                "y": tf.io.FixedLenFeature([], tf.int64)}
    ds = tf.data.Dataset.from_tensor_slices(records).batch(2)
    parsed = ds.apply(E.parse_example_dataset(features))
    batch = next(iter(parsed))
    np.testing.assert_allclose(batch["x"].numpy(), [1.5, 2.5])
    np.testing.assert_array_equal(batch["y"].numpy(), [1, 0])
    with pytest.raises(ValueError, match="features"):
        E.parse_example_dataset({})


def test_make_batched_features_dataset(tmp_path):
    path = str(tmp_path / "data.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(5):
            writer.write(_example(x=[float(i)], label=[i % 2]))
    features = {"x": tf.io.FixedLenFeature([], tf.float32),
                "label": tf.io.FixedLenFeature([], tf.int64)}
    ds = E.make_batched_features_dataset(str(tmp_path / "*.tfrecord"), 2, features,
                                         label_key="label", num_epochs=1, shuffle=False)
    batches = list(ds)
    assert len(batches) == 3
    feats, label = batches[0]
    assert sorted(feats) == ["x"]
    np.testing.assert_allclose(feats["x"].numpy(), [0., 1.])
    np.testing.assert_array_equal(label.numpy(), [0, 1])
    dropped = E.make_batched_features_dataset(path, 2, features, num_epochs=1,
                                              shuffle=False, drop_final_batch=True)
    assert len(list(dropped)) == 2
    shuffled = E.make_batched_features_dataset(path, 5, features, num_epochs=2,
                                               shuffle_seed=3)
    xs = np.concatenate([b["x"].numpy() for b in shuffled])
    assert sorted(xs.tolist()) == sorted([float(i) for i in range(5)] * 2)
    with pytest.raises(ValueError, match="label_key"):
        E.make_batched_features_dataset(path, 2, features, label_key="nope")


def test_index_table_from_dataset():
    keys = tf.data.Dataset.from_tensor_slices(["brain", "salad", "surgery"])
    table = E.index_table_from_dataset(keys)
    np.testing.assert_array_equal(
        table.lookup(tf.constant(["salad", "xx", "surgery"])).numpy(), [1, -1, 2])
    assert int(table.size()) == 3
    # OOV ids are 3 + Fingerprint64(key) % 2 (values from TF 2.21)
    table = E.index_table_from_dataset(keys, num_oov_buckets=2)
    ids = table.lookup(tf.constant(["salad", "xx", "surgery", "yy"]))
    np.testing.assert_array_equal(ids.numpy(), [1, 4, 2, 4])
    assert int(table.size()) == 5
    table = E.index_table_from_dataset(keys, vocab_size=2)
    np.testing.assert_array_equal(
        table.lookup(tf.constant(["brain", "surgery"])).numpy(), [0, -1])
    ints = E.index_table_from_dataset(tf.data.Dataset.range(5, 8), key_dtype=tf.int64)
    np.testing.assert_array_equal(
        ints.lookup(tf.constant([7, 5, 100], tf.int64)).numpy(), [2, 0, -1])


def test_table_from_dataset_and_initializer():
    ds = tf.data.Dataset.from_tensor_slices((["a", "b"], [7, 9]))
    table = E.table_from_dataset(ds, default_value=-1)
    out = table.lookup(tf.constant(["b", "q"]))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [9, -1])
    wide = ds.map(lambda k, v: (k, tf.cast(v, tf.int64)))
    table = E.table_from_dataset(wide, num_oov_buckets=3)
    np.testing.assert_array_equal(table.lookup(tf.constant(["b", "q"])).numpy(), [9, 4])
    with pytest.raises(TypeError, match="int64"):
        E.table_from_dataset(ds, num_oov_buckets=3)
    with pytest.raises(ValueError, match="num_oov_buckets"):
        E.table_from_dataset(ds, default_value=-1, num_oov_buckets=-1)
    init = E.DatasetInitializer(ds)
    assert init.key_dtype == tf.string and init.value_dtype == tf.int32
    table = tf.lookup.StaticHashTable(init, -1)
    np.testing.assert_array_equal(table.lookup(tf.constant(["a"])).numpy(), [7])
    with pytest.raises(TypeError, match="key, value"):
        E.DatasetInitializer(tf.data.Dataset.range(3))
