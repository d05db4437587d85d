"""A TF2 tf.data program touring the Dataset API: dict slices, seeded shuffles, take/skip,
zip, interleave, padded_batch, filter, enumerate, reduce, unbatch, rebatch,
group_by_window, bucket_by_sequence_length, from_generator with output_signature,
counter/random, ignore_errors, and the errors of common mistakes. Element orders and
values were recorded from TensorFlow 2.21 on the same program."""

import numpy as np
import pytest

import dlframe as tf

FEATURES = {"age": [25, 32, 47, 51, 62, 23], "city": ["a", "b", "a", "c", "b", "a"],
            "score": [0.5, 0.7, 0.1, 0.9, 0.3, 0.2]}
LABELS = [0, 1, 0, 1, 1, 0]


def test_dict_slices_specs_and_batches():
    ds = tf.data.Dataset.from_tensor_slices((FEATURES, LABELS))
    features, label = ds.element_spec
    assert features == {"age": tf.TensorSpec([], tf.int32),
                        "city": tf.TensorSpec([], tf.string),
                        "score": tf.TensorSpec([], tf.float32)}
    assert label == tf.TensorSpec([], tf.int32)
    first_f, first_l = next(ds.as_numpy_iterator())
    assert first_f == {"age": 25, "city": b"a", "score": np.float32(0.5)} and first_l == 0
    batch_f, batch_l = next(ds.batch(4).as_numpy_iterator())
    assert batch_f["city"].tolist() == [b"a", b"b", b"a", b"c"]
    assert batch_f["score"].dtype == np.float32 and batch_l.tolist() == [0, 1, 0, 1]


def test_shuffle_seeds_and_reshuffle_each_iteration():
    ds = tf.data.Dataset.from_tensor_slices((FEATURES, LABELS))

    def ages(d):
        return list(d.map(lambda f, label: f["age"]).as_numpy_iterator())
    once = ds.shuffle(6, seed=1, reshuffle_each_iteration=False)
    assert ages(once) == ages(ds.shuffle(6, seed=1, reshuffle_each_iteration=False))
    fixed = ds.shuffle(6, reshuffle_each_iteration=False)
    assert ages(fixed) == ages(fixed)
    assert sorted(ages(once)) == sorted(FEATURES["age"])
    reshuffled = tf.data.Dataset.range(50).shuffle(50, seed=3)
    assert list(reshuffled.as_numpy_iterator()) != list(reshuffled.as_numpy_iterator())


def test_selection_zip_enumerate_reduce():
    r = tf.data.Dataset.range(10)
    assert list(r.skip(3).take(4).as_numpy_iterator()) == [3, 4, 5, 6]
    assert list(r.take(3).repeat(2).as_numpy_iterator()) == [0, 1, 2, 0, 1, 2]
    assert int(r.repeat().cardinality()) == tf.data.INFINITE_CARDINALITY
    assert int(r.filter(lambda x: x % 2 == 0).cardinality()) == \
        tf.data.UNKNOWN_CARDINALITY
    assert list(r.filter(lambda x: x % 3 == 0).as_numpy_iterator()) == [0, 3, 6, 9]
    assert list(tf.data.Dataset.from_tensor_slices(["x", "y"]).enumerate(start=5)
                .as_numpy_iterator()) == [(5, b"x"), (6, b"y")]
    assert list(tf.data.Dataset.zip((r, r.map(lambda x: x * 2))).take(3)
                .as_numpy_iterator()) == [(0, 0), (1, 2), (2, 4)]
    assert next(tf.data.Dataset.zip({"a": r, "b": r.skip(1)}).as_numpy_iterator()) == \
        {"a": 0, "b": 1}
    assert int(r.reduce(np.int64(0), lambda s, x: s + x)) == 45
    total, power = r.reduce((np.int64(0), np.int64(1)), lambda s, x: (s[0] + x, s[1] * 2))
    assert (int(total), int(power)) == (45, 1024)
    assert list(r.take_while(lambda x: x < 4).as_numpy_iterator()) == [0, 1, 2, 3]
    assert list(r.take(4).scan(np.int64(0), lambda s, x: (s + x, s + x))
                .as_numpy_iterator()) == [0, 1, 3, 6]
    assert list(r.shard(3, 1).as_numpy_iterator()) == [1, 4, 7]
    assert len(r.batch(3)) == 4
    with pytest.raises(TypeError, match="infinite"):
        len(r.repeat())


def test_interleave_orders_match_tf():
    def repeat_self(x):
        return tf.data.Dataset.from_tensors(x).repeat(x)
    src = tf.data.Dataset.range(1, 4)
    assert list(src.interleave(repeat_self, cycle_length=2, block_length=1)
                .as_numpy_iterator()) == [1, 2, 2, 3, 3, 3]
    assert list(src.interleave(repeat_self, cycle_length=2, block_length=2,
                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .as_numpy_iterator()) == [1, 2, 2, 3, 3, 3]


def test_padded_batch_unbatch_rebatch():
    seqs = tf.data.Dataset.range(1, 6).map(lambda x: tf.fill([x], x))
    padded = [b.tolist() for b in seqs.padded_batch(2).as_numpy_iterator()]
    assert padded == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]], [[5, 5, 5, 5, 5]]]
    fixed = seqs.padded_batch(2, padded_shapes=[6],
                              padding_values=tf.constant(-1, tf.int64), drop_remainder=True)
    assert fixed.element_spec == tf.TensorSpec([2, 6], tf.int64)
    assert next(fixed.as_numpy_iterator()).tolist() == [[1, -1, -1, -1, -1, -1],
                                                        [2, 2, -1, -1, -1, -1]]
    r = tf.data.Dataset.range(10)
    assert list(r.batch(3).unbatch().take(5).as_numpy_iterator()) == [0, 1, 2, 3, 4]
    assert [int(b.shape[0]) for b in r.batch(4).rebatch(3)] == [3, 3, 3, 1]
    assert [b.tolist() for b in r.batch(4).rebatch([2, 3], drop_remainder=True)
            .as_numpy_iterator()] == [[0, 1], [2, 3, 4], [5, 6], [7, 8, 9]]
    assert r.batch(4).rebatch(5, drop_remainder=True).element_spec == \
        tf.TensorSpec([5], tf.int64)


def test_group_by_window_and_bucket_by_sequence_length():
    grouped = tf.data.Dataset.range(10).group_by_window(
        key_func=lambda x: x % 2, reduce_func=lambda key, d: d.batch(3), window_size=3)
    assert [g.tolist() for g in grouped.as_numpy_iterator()] == [[0, 2, 4], [1, 3, 5],
                                                                 [6, 8], [7, 9]]
    sized = tf.data.Dataset.range(10).group_by_window(
        key_func=lambda x: x % 2, reduce_func=lambda key, d: d.batch(5),
        window_size_func=lambda key: key + 2)
    assert [g.tolist() for g in sized.as_numpy_iterator()] == [[0, 2], [1, 3, 5], [4, 6],
                                                               [8], [7, 9]]
    words = tf.data.Dataset.from_generator(
        lambda: ([1] * n for n in [3, 1, 4, 1, 5, 9, 2, 6]),
        output_signature=tf.TensorSpec(shape=(None,), dtype=tf.int32))
    assert words.element_spec == tf.TensorSpec([None], tf.int32)
    buckets = words.bucket_by_sequence_length(
        element_length_func=lambda e: tf.shape(e)[0], bucket_boundaries=[3, 5],
        bucket_batch_sizes=[2, 2, 2])
    assert [b.shape for b in buckets.as_numpy_iterator()] == [(2, 4), (2, 1), (2, 9),
                                                              (1, 2), (1, 6)]
    to_boundary = words.bucket_by_sequence_length(
        lambda e: tf.shape(e)[0], [3, 10], [2, 2, 2], pad_to_bucket_boundary=True)
    assert [b.shape for b in to_boundary.as_numpy_iterator()] == [(2, 9), (2, 2), (2, 9),
                                                                  (1, 2), (1, 9)]
    with pytest.raises(ValueError, match="window_size"):
        tf.data.Dataset.range(3).group_by_window(lambda x: x, lambda k, d: d)
    with pytest.raises(ValueError, match="bucket_batch_sizes"):
        words.bucket_by_sequence_length(lambda e: tf.shape(e)[0], [3], [2, 2, 2])


def test_generator_sources_and_endless_datasets():
    gen = tf.data.Dataset.from_generator(
        lambda: ((i, str(i)) for i in range(3)),
        output_signature=(tf.TensorSpec((), tf.int32), tf.TensorSpec((), tf.string)))
    assert list(gen.as_numpy_iterator()) == [(0, b"0"), (1, b"1"), (2, b"2")]
    assert int(gen.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert list(tf.data.Dataset.counter(start=2).take(3).as_numpy_iterator()) == [2, 3, 4]
    rand = tf.data.Dataset.random(seed=4)
    assert rand.element_spec == tf.TensorSpec([], tf.int64)
    draws = list(rand.take(5).as_numpy_iterator())
    assert draws == list(rand.take(5).as_numpy_iterator()) and len(set(draws)) == 5
    fresh = tf.data.Dataset.random(seed=4, rerandomize_each_iteration=True).take(5)
    assert list(fresh.as_numpy_iterator()) != list(fresh.as_numpy_iterator())
    assert list(tf.data.experimental.from_list([(1, "a"), (2, "b")])
                .as_numpy_iterator()) == [(1, b"a"), (2, b"b")]


def test_ignore_errors_drops_corrupt_images():
    good = [tf.io.encode_png(np.full((2, 2, 1), v, np.uint8)).numpy() for v in (7, 9)]
    files = tf.data.Dataset.from_tensor_slices([good[0], b"not a png", good[1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        list(files.map(tf.io.decode_png))
    kept = files.map(tf.io.decode_png).ignore_errors()
    assert [int(img[0, 0, 0]) for img in kept.as_numpy_iterator()] == [7, 9]
    applied = files.map(tf.io.decode_png).apply(tf.data.experimental.ignore_errors())
    assert len(list(applied)) == 2


def test_common_mistakes_raise_tf_error_types():
    def bad_shapes():
        yield [1, 2]
        yield [1, 2, 3]
    fixed = tf.data.Dataset.from_generator(bad_shapes,
                                           output_signature=tf.TensorSpec((2,), tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="generator` yielded"):
        list(fixed)
    ragged = tf.data.Dataset.from_generator(lambda: iter([[1], [1, 2]]),
                                            output_signature=tf.TensorSpec((None,),
                                                                           tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot batch tensors"):
        list(ragged.batch(2))
    with pytest.raises(ValueError, match="Dimensions 3 and 2 are not compatible"):
        tf.data.Dataset.from_tensor_slices(([1, 2, 3], [1, 2]))
    pairs = tf.data.Dataset.from_tensor_slices(([1, 2], [3, 4]))
    with pytest.raises(TypeError, match="2 positional arguments"):
        pairs.map(lambda x: x)    # TF fails when the function is traced, at map()
    with pytest.raises(TypeError, match="2 positional arguments"):
        pairs.filter(lambda x: x > 1)
    with pytest.raises(tf.errors.OutOfRangeError):
        iter(tf.data.Dataset.range(0)).get_next()
    assert [x.to_list() for x in ragged.ragged_batch(2)] == [[[1], [1, 2]]]


def test_map_spec_keeps_unknown_batch_dimension():
    """TF traces map functions with the input's unknown dimensions: a batch dimension
    passed through stays None in the element_spec (the last batch may be smaller)."""
    x = np.zeros((5, 6, 8, 3), "float32")
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(5))).batch(2).map(
        lambda a, b: (tf.image.resize(a, (3, 3)), b * 2))
    assert ds.element_spec == (tf.TensorSpec([None, 3, 3, 3], tf.float32),
                               tf.TensorSpec([None], tf.int64))
    fixed = tf.data.Dataset.from_tensor_slices(x).batch(2, drop_remainder=True).map(
        lambda a: a[:, 0])
    assert fixed.element_spec == tf.TensorSpec([2, 8, 3], tf.float32)
