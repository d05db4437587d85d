"""The "TFRecord and tf.train.Example" guide: RaggedFeature, SequenceExample parsing,
tf.data.experimental.TFRecordWriter, and serialized records that end in a NUL byte."""

import numpy as np
import pytest

import dlframe as tf

RF = tf.io.RaggedFeature


def _feature(values):
    if values and isinstance(values[0], float):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    if values and isinstance(values[0], bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _example(**features):
    return tf.train.Example(features=tf.train.Features(
        feature={k: _feature(v) for k, v in features.items()})).SerializeToString()


RECORDS = [_example(v=[1.0, 2.0, 3.0], lens=[2, 1], t=[b"a"]),
           _example(v=[4.0], lens=[0, 1], t=[b"b", b"c"])]


# ---------------------------------------------------------------- RaggedFeature
def test_ragged_feature_single_example_is_a_dense_vector():
    out = tf.io.parse_single_example(RECORDS[1], {"t": RF(tf.string)})["t"]
    assert not isinstance(out, tf.RaggedTensor)
    assert out.numpy().tolist() == [b"b", b"c"]


def test_ragged_feature_batch_is_a_ragged_tensor_with_int32_splits():
    out = tf.io.parse_example(tf.constant(RECORDS), {"v": RF(tf.float32)})["v"]
    assert isinstance(out, tf.RaggedTensor)
    assert out.to_list() == [[1.0, 2.0, 3.0], [4.0]]
    assert out.row_splits.dtype == tf.int32   # TF's default row_splits_dtype
    wide = tf.io.parse_example(RECORDS, {"t": RF(tf.string, row_splits_dtype=tf.int64)})
    assert wide["t"].row_splits.dtype == tf.int64


def test_ragged_feature_partitions():
    spec = {"r": RF(tf.float32, value_key="v", partitions=[RF.RowLengths("lens")])}
    single = tf.io.parse_single_example(RECORDS[0], spec)["r"]
    assert single.to_list() == [[1.0, 2.0], [3.0]]
    batch = tf.io.parse_example(RECORDS, spec)["r"]
    assert batch.to_list() == [[[1.0, 2.0], [3.0]], [[], [4.0]]]
    uniform = {"v": RF(tf.float32, partitions=[RF.UniformRowLength(1)])}
    # TF 2.21: a dense [3, 1] for one example, a (2, None, 1) RaggedTensor for two
    assert tf.io.parse_single_example(RECORDS[0], uniform)["v"].shape == (3, 1)
    both = tf.io.parse_example(RECORDS, uniform)["v"]
    assert both.to_list() == [[[1.0], [2.0], [3.0]], [[4.0]]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="r"):
        bad = {"r": RF(tf.float32, value_key="v", partitions=[RF.RowSplits("lens")])}
        tf.io.parse_single_example(RECORDS[0], bad)


def test_ragged_feature_rejects_a_type_mismatch_and_bad_splits_dtype():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Data types"):
        tf.io.parse_single_example(RECORDS[0], {"v": RF(tf.int64)})
    with pytest.raises(ValueError, match="row_splits_dtype"):
        RF(tf.float32, row_splits_dtype=tf.float32)


def test_parsed_features_come_back_in_tf_order():
    record = _example(a=[1], z=[2])
    spec = {"z": tf.io.FixedLenFeature([], tf.int64), "b": tf.io.VarLenFeature(tf.int64),
            "a": tf.io.FixedLenFeature([], tf.int64), "c": RF(tf.int64)}
    # TF 2.21: sparse keys, then dense keys, then ragged keys, each sorted
    assert list(tf.io.parse_single_example(record, spec)) == ["b", "a", "z", "c"]
    assert list(tf.io.parse_example([record], spec)) == ["b", "a", "z", "c"]


def test_ragged_feature_in_a_dataset_map():
    ds = tf.data.Dataset.from_tensor_slices(RECORDS).batch(2).map(
        lambda x: tf.io.parse_example(x, {"v": RF(tf.float32)}))
    assert isinstance(ds.element_spec["v"], tf.RaggedTensorSpec)
    assert next(iter(ds))["v"].to_list() == [[1.0, 2.0, 3.0], [4.0]]


# ---------------------------------------------------------------- SequenceExample
def _sequence_example(length, tokens, frames):
    se = tf.train.SequenceExample()
    se.context.feature["len"].int64_list.value.append(length)
    for step in tokens:
        se.feature_lists.feature_list["tok"].feature.add().int64_list.value.extend(step)
    for step in frames:
        se.feature_lists.feature_list["f"].feature.add().float_list.value.extend(step)
    return se.SerializeToString()


S1 = _sequence_example(2, [[1, 2], [3]], [[1.0, 2.0], [3.0, 4.0]])
S2 = _sequence_example(3, [[4], [], [5, 6, 7]], [[5.0, 6.0], [7.0, 8.0], [9.0, 10.0]])
CONTEXT = {"len": tf.io.FixedLenFeature([], tf.int64),
           "miss": tf.io.FixedLenFeature([], tf.int64, default_value=-1)}
SEQUENCE = {"tok": tf.io.VarLenFeature(tf.int64),
            "f": tf.io.FixedLenSequenceFeature([2], tf.float32),
            "r": RF(tf.int64, value_key="tok")}


def test_parse_single_sequence_example():
    context, lists = tf.io.parse_single_sequence_example(S1, CONTEXT, SEQUENCE)
    assert context["len"].numpy() == 2 and context["miss"].numpy() == -1
    assert tf.sparse.to_dense(lists["tok"]).numpy().tolist() == [[1, 2], [3, 0]]
    assert lists["tok"].dense_shape.numpy().tolist() == [2, 2]
    np.testing.assert_allclose(lists["f"].numpy(), [[1.0, 2.0], [3.0, 4.0]])
    assert lists["r"].to_list() == [[1, 2], [3]]
    assert list(lists) == ["tok", "f", "r"]


def test_parse_sequence_example_batch_pads_and_reports_lengths():
    context, lists, lengths = tf.io.parse_sequence_example(tf.constant([S1, S2]),
                                                           CONTEXT, SEQUENCE)
    assert context["len"].numpy().tolist() == [2, 3]
    # TF 2.21 values
    assert tf.sparse.to_dense(lists["tok"]).numpy().tolist() == [
        [[1, 2, 0], [3, 0, 0], [0, 0, 0]], [[4, 0, 0], [0, 0, 0], [5, 6, 7]]]
    np.testing.assert_allclose(lists["f"].numpy()[0, 2], [0.0, 0.0])
    assert lists["r"].to_list() == [[[1, 2], [3]], [[4], [], [5, 6, 7]]]
    assert {k: v.numpy().tolist() for k, v in lengths.items()} == {"f": [2, 3]}


def test_sequence_feature_missing():
    _, lists = tf.io.parse_single_sequence_example(S1, sequence_features={
        "gone": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)})
    assert lists["gone"].shape == (0,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="gone"):
        tf.io.parse_single_sequence_example(S1, sequence_features={
            "gone": tf.io.FixedLenSequenceFeature([], tf.int64)})


# ---------------------------------------------------------------- writing records
def test_experimental_tfrecord_writer_round_trips_records_ending_in_nul(tmp_path):
    # a serialized Example whose (only) feature ends with int64 0 ends with a NUL byte
    records = [_example(z=[1, 0]), _example(z=[2, 0])]
    assert all(r.endswith(b"\x00") for r in records)

    def gen():
        yield from records
    ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((), tf.string))
    path = str(tmp_path / "out.tfrecord")
    tf.data.experimental.TFRecordWriter(path).write(ds)
    back = list(tf.data.TFRecordDataset(path).as_numpy_iterator())
    assert back == records
    parsed = tf.data.TFRecordDataset(path).map(lambda r: tf.io.parse_single_example(
        r, {"z": tf.io.FixedLenFeature([2], tf.int64)}))
    assert [e["z"].tolist() for e in parsed.as_numpy_iterator()] == [[1, 0], [2, 0]]
    with pytest.raises(TypeError, match="scalar"):
        tf.data.experimental.TFRecordWriter(path).write(tf.data.Dataset.range(3))
