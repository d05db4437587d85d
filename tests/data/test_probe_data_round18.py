"""Round-18 probes of tf.data programs against TF 2.21: ``ragged_batch`` of dense
elements whose inner dimensions vary, and guide programs (SequenceExample parsing,
windows, bucketing) whose TF outputs are hard-coded here."""

import numpy as np
import pytest

import dlframe as tf

R = tf.data.Dataset.range


# ------------------------------------------------------------- ragged_batch
# (element shape made by tf.fill, batched spec, ragged_rank) as TF 2.21 prints them
RAGGED_CASES = {
    "n3": (lambda n: tf.fill([n, 3], n), [None, None, 3], 1),
    "2n": (lambda n: tf.fill([2, n], n), [None, 2, None], 2),
    "nn": (lambda n: tf.fill([n, n], n), [None, None, None], 2),
    "nn1": (lambda n: tf.fill([n, n, 1], n), [None, None, None, 1], 2),
}


@pytest.mark.parametrize("name", sorted(RAGGED_CASES))
def test_ragged_batch_of_elements_varying_in_inner_dims(name):
    make, shape, ragged_rank = RAGGED_CASES[name]
    ds = R(1, 4).map(make).ragged_batch(2)
    assert ds.element_spec == tf.RaggedTensorSpec(shape, tf.int64, ragged_rank,
                                                  tf.int64)
    batches = list(ds)
    assert [b.ragged_rank for b in batches] == [ragged_rank] * 2
    # each row is the element itself
    elements = [np.full(make(n).shape.as_list(), n) for n in (1, 2, 3)]
    rows = [row for b in batches for row in b.to_list()]
    assert rows == [e.tolist() for e in elements]
    assert batches[0].shape.as_list() == [2] + shape[1:]


def test_ragged_batch_keeps_static_and_dense_cases():
    # fully static elements stay dense tensors, as TF
    dense = R(1, 4).map(lambda n: tf.fill([2, 2], n)).ragged_batch(2)
    assert dense.element_spec == tf.TensorSpec([None, 2, 2], tf.int64)
    assert [type(b) for b in dense] == [type(tf.constant(0))] * 2
    drop = R(1, 4).map(lambda n: tf.fill([2, n], n)).ragged_batch(
        2, drop_remainder=True, row_splits_dtype=tf.int32)
    assert drop.element_spec == tf.RaggedTensorSpec([2, 2, None], tf.int64, 2,
                                                    tf.int32)
    (only,) = list(drop)
    assert only.row_splits.dtype == tf.int32
    assert only.to_list() == [[[1], [1]], [[2, 2], [2, 2]]]


def test_ragged_batch_of_varying_inner_dims_feeds_reductions():
    ds = R(1, 4).map(lambda n: tf.fill([2, n], tf.cast(n, tf.float32))).ragged_batch(3)
    batch = next(iter(ds))
    sums = tf.reduce_sum(batch, axis=2)
    np.testing.assert_allclose(sums.numpy(), [[1, 1], [4, 4], [9, 9]])


# ------------------------------------------------------------- guide programs
def _feature(kind, values):
    lists = {"int": tf.train.Int64List, "float": tf.train.FloatList}
    return tf.train.Feature(**{f"{kind}64_list" if kind == "int" else f"{kind}_list":
                               lists[kind](value=values)})


def test_parse_sequence_example_batch_with_ragged_sequence_feature():
    example = tf.train.SequenceExample(
        context=tf.train.Features(feature={"len": _feature("int", [3])}),
        feature_lists=tf.train.FeatureLists(feature_list={
            "tok": tf.train.FeatureList(feature=[_feature("int", [1, 2]),
                                                 _feature("int", [3, 4]),
                                                 _feature("int", [5, 6])]),
            "w": tf.train.FeatureList(feature=[_feature("float", [0.5]),
                                               _feature("float", [0.25, 2.0]),
                                               _feature("float", [])]),
        })).SerializeToString()
    context, sequence, lengths = tf.io.parse_sequence_example(
        tf.constant([example, example]),
        context_features={"len": tf.io.FixedLenFeature([], tf.int64)},
        sequence_features={"tok": tf.io.FixedLenSequenceFeature([2], tf.int64),
                           "w": tf.io.RaggedFeature(tf.float32)})
    # TF 2.21 values
    assert context["len"].numpy().tolist() == [3, 3]
    assert sequence["tok"].shape == [2, 3, 2]
    assert sequence["w"].to_list() == [[[0.5], [0.25, 2.0], []]] * 2
    assert sorted(lengths) == ["tok"] and lengths["tok"].numpy().tolist() == [3, 3]


def test_time_series_windows_and_bucketing_match_tf():
    series = R(10)
    windows = series.window(3, shift=1, stride=2).flat_map(lambda w: w.batch(3))
    # TF 2.21 values
    assert [w.numpy().tolist() for w in windows] == [
        [0, 2, 4], [1, 3, 5], [2, 4, 6], [3, 5, 7], [4, 6, 8], [5, 7, 9],
        [6, 8], [7, 9], [8], [9]]

    def gen():
        for i in range(1, 9):
            yield np.arange(i, dtype=np.int32) + 1
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([None], tf.int32))
    buckets = ds.bucket_by_sequence_length(
        lambda x: tf.shape(x)[0], [3, 10], [2, 2, 2], pad_to_bucket_boundary=True,
        padding_values=-1, drop_remainder=True)
    got = [b.numpy().tolist() for b in buckets]
    assert got[0] == [[1, -1], [1, 2]]
    assert got[-1] == [[1, 2, 3, 4, 5, 6, 7, -1, -1], [1, 2, 3, 4, 5, 6, 7, 8, -1]]
    assert len(got) == 4


def test_choose_from_datasets_stop_on_empty():
    choice = tf.data.Dataset.from_tensor_slices(
        tf.constant([0, 1, 1, 0, 0, 0, 1], tf.int64))
    stop = tf.data.Dataset.choose_from_datasets([R(3), R(100, 106)], choice)
    go_on = tf.data.Dataset.choose_from_datasets([R(3), R(100, 106)], choice,
                                                 stop_on_empty_dataset=False)
    # TF 2.21 values
    assert [int(x) for x in stop] == [0, 100, 101, 1, 2]
    assert [int(x) for x in go_on] == [0, 100, 101, 1, 2, 102]
