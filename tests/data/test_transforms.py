"""Batching, shuffling, selection, windows, nesting and caching."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import FailedPreconditionError, InvalidArgumentError

Dataset = tf.data.Dataset


def _np(ds):
    return list(ds.as_numpy_iterator())


def test_batch_yields_tuples_of_tensors_for_fit():
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    y = np.arange(10)
    w = np.ones(10, np.float32)
    ds = Dataset.from_tensor_slices((x, y, w)).batch(4)
    batches = list(ds)
    assert int(ds.cardinality()) == 3 and len(batches) == 3
    xb, yb, _ = batches[0]
    assert all(isinstance(t, tf.Tensor) for t in batches[0])
    assert xb.shape == (4, 3) and yb.shape == (4,) and batches[-1][0].shape == (2, 3)
    np.testing.assert_array_equal(xb.numpy(), x[:4])
    assert ds.element_spec[0] == tf.TensorSpec((None, 3), tf.float32)
    dropped = Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True)
    assert dropped.element_spec[0].shape == (4, 3) and len(list(dropped)) == 2


def test_batch_after_map_stacks_and_matches_slices():
    ds = Dataset.range(7).map(lambda x: (x, tf.cast(x, tf.float32) * 2.0)).batch(3)
    out = _np(ds)
    np.testing.assert_array_equal(out[0][0], [0, 1, 2])
    np.testing.assert_allclose(out[2][1], [12.0])


def test_batch_ragged_error_names_element_and_shapes():
    values = [np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(2)]
    ds = Dataset.from_generator(lambda: iter(values),
                                output_signature=tf.TensorSpec((None,), tf.float64))
    with pytest.raises(InvalidArgumentError) as info:
        list(ds.batch(3))
    msg = str(info.value)
    assert "component 0" in msg and "[3]" in msg and "element 1 had shape [2]" in msg
    assert "element 4 of the input dataset" in msg


def test_batch_and_shuffle_zero_are_errors():
    with pytest.raises(InvalidArgumentError, match="Batch size must be greater than zero"):
        Dataset.range(3).batch(0)
    with pytest.raises(InvalidArgumentError, match="buffer_size must be greater than zero"):
        Dataset.range(3).shuffle(0)
    with pytest.raises(InvalidArgumentError, match="Index must be between 0 and 1"):
        Dataset.range(3).shard(2, 3)


def test_padded_batch():
    ds = Dataset.range(1, 5).map(lambda x: tf.range(x))
    out = _np(ds.padded_batch(2))
    np.testing.assert_array_equal(out[0], [[0, 0], [0, 1]])
    np.testing.assert_array_equal(out[1], [[0, 1, 2, 0], [0, 1, 2, 3]])
    fixed = ds.padded_batch(2, padded_shapes=[6], padding_values=tf.constant(-1, tf.int64))
    assert fixed.element_spec.shape == (None, 6)
    np.testing.assert_array_equal(_np(fixed)[0][0], [0, -1, -1, -1, -1, -1])
    with pytest.raises(tf.errors.DataLossError, match="smaller size"):  # as TF 2.21
        list(ds.padded_batch(2, padded_shapes=[2]))
    pairs = Dataset.range(1, 4).map(lambda x: (tf.range(x), tf.fill([x], "s")))
    b = _np(pairs.padded_batch(3))[0]
    assert b[1].tolist() == [[b"s", b"", b""], [b"s", b"s", b""], [b"s", b"s", b"s"]]


def test_unbatch():
    ds = Dataset.from_tensor_slices(np.arange(12).reshape(6, 2)).batch(4).unbatch()
    out = _np(ds)
    assert len(out) == 6 and out[5].tolist() == [10, 11]
    assert ds.element_spec.shape == (2,)


def test_shuffle_semantics_and_seeds():
    ds = Dataset.range(100)
    a = _np(ds.shuffle(100, seed=7))
    assert sorted(a) == list(range(100)) and a != list(range(100))
    assert _np(ds.shuffle(100, seed=7)) == a  # same seed, same sequence of orders
    d = ds.shuffle(100, seed=7)
    first, second = _np(d), _np(d)
    assert first == a and second != first  # reshuffled each iteration
    fixed = ds.shuffle(100, reshuffle_each_iteration=False)
    assert _np(fixed) == _np(fixed)
    # A buffer of 1 keeps the order; a small buffer only moves elements locally.
    assert _np(ds.shuffle(1)) == list(range(100))
    small = _np(ds.shuffle(3, seed=1))
    assert all(v <= i + 2 for i, v in enumerate(small))
    # shuffle then repeat: each epoch is a new order.
    epochs = _np(Dataset.range(20).shuffle(20, seed=3).repeat(2))
    assert sorted(epochs[:20]) == list(range(20)) and epochs[:20] != epochs[20:]


def test_shuffle_follows_global_seed():
    tf.random.set_seed(1234)
    a = _np(Dataset.range(50).shuffle(50))
    tf.random.set_seed(1234)
    b = _np(Dataset.range(50).shuffle(50))
    tf.random.set_seed(None)
    assert a == b


def test_repeat_take_skip_shard_filter():
    assert _np(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert _np(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert _np(Dataset.range(0).repeat()) == []
    assert _np(Dataset.range(5).skip(2)) == [2, 3, 4]
    assert _np(Dataset.range(5).skip(-1)) == [] and _np(Dataset.range(5).take(-1)) == \
        [0, 1, 2, 3, 4]
    assert _np(Dataset.range(10).shard(3, 1)) == [1, 4, 7]
    assert _np(Dataset.range(10).filter(lambda x: x % 3 == 0)) == [0, 3, 6, 9]
    assert _np(Dataset.range(10).take_while(lambda x: x < 4)) == [0, 1, 2, 3]
    assert _np(Dataset.from_tensor_slices([1, 2, 1, 3, 2]).unique()) == [1, 2, 3]
    with pytest.raises(ValueError, match="predicate"):
        list(Dataset.range(3).filter(lambda x: x))


def test_map_unpacks_tuples_and_passes_tensors():
    seen = []

    def fn(a, b):
        seen.append((type(a), type(b)))
        return a + b

    assert _np(Dataset.zip((Dataset.range(3), Dataset.range(3))).map(fn)) == [0, 2, 4]
    assert seen[0] == (tf.Tensor, tf.Tensor)
    d = Dataset.from_tensor_slices({"a": [1, 2]}).map(lambda e: e["a"] * 10)
    assert _np(d) == [10, 20]


def test_window_flat_map_interleave():
    windows = Dataset.range(7).window(3, shift=2)
    assert isinstance(windows.element_spec, tf.data.DatasetSpec)
    got = [_np(w) for w in windows]
    assert got == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6]]
    dropped = Dataset.range(7).window(3, shift=2, drop_remainder=True)
    assert int(dropped.cardinality()) == 3
    flat = dropped.flat_map(lambda w: w.batch(3))
    assert [b.tolist() for b in _np(flat)] == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    strided = Dataset.range(10).window(3, shift=1, stride=3, drop_remainder=True)
    assert [_np(w) for w in strided][:2] == [[0, 3, 6], [1, 4, 7]]
    pairs = Dataset.zip((Dataset.range(4), Dataset.range(4))).window(2)
    a, b = next(iter(pairs))
    assert _np(a) == [0, 1] and _np(b) == [0, 1]
    fm = Dataset.range(1, 4).flat_map(lambda x: Dataset.range(x))
    assert _np(fm) == [0, 0, 1, 0, 1, 2]
    inter = Dataset.range(5).interleave(
        lambda x: Dataset.from_tensors(x).repeat(3), cycle_length=2, block_length=2)
    assert _np(inter) == [0, 0, 1, 1, 0, 1, 2, 2, 3, 3, 2, 3, 4, 4, 4]
    inter2 = Dataset.range(1, 4).interleave(lambda x: Dataset.range(x), cycle_length=2)
    assert _np(inter2) == [0, 0, 1, 0, 1, 2]
    with pytest.raises(TypeError, match="Dataset"):
        list(Dataset.range(2).flat_map(lambda x: x))


def test_scan():
    ds = Dataset.range(5).scan(np.int64(0), lambda s, x: (s + x, s + x))
    assert _np(ds) == [0, 1, 3, 6, 10]


def test_memory_cache_runs_input_once():
    calls = []

    def count(x):
        calls.append(1)
        return x * 2

    def fn(x):   # traced once (as TF): the py_function runs per element
        return tf.py_function(count, [x], tf.int64)

    ds = Dataset.range(4).map(fn).cache()
    calls.clear()   # building the pipeline traces fn (as TF does); count element runs
    assert _np(ds) == [0, 2, 4, 6] and len(calls) == 4
    assert _np(ds) == [0, 2, 4, 6] and len(calls) == 4
    partial = Dataset.range(4).map(fn).cache()
    calls.clear()
    list(partial.take(2))
    assert _np(partial) == [0, 2, 4, 6]  # an incomplete first pass is not kept


def test_file_cache(tmp_path):
    calls = []

    def fn(x):
        calls.append(1)
        return {"n": x, "s": tf.strings.as_string(x) if hasattr(tf, "strings") else
                tf.constant(b"v")}

    path = str(tmp_path / "cache")
    ds = Dataset.range(3).map(fn).cache(path)
    calls.clear()   # building the pipeline traces fn (as TF does); count element runs
    first = _np(ds)
    again = Dataset.range(3).map(fn).cache(path)
    del calls[3:]
    second = _np(again)  # a new pipeline reads the file
    assert len(calls) == 3 and [e["n"] for e in second] == [0, 1, 2]
    assert [e["s"] for e in first] == [e["s"] for e in second]


def test_assert_cardinality():
    ds = Dataset.range(5).filter(lambda x: True).apply(
        tf.data.experimental.assert_cardinality(5))
    assert int(ds.cardinality()) == 5 and len(_np(ds)) == 5
    bad = Dataset.range(3).apply(tf.data.experimental.assert_cardinality(5))
    with pytest.raises(FailedPreconditionError):
        list(bad)
