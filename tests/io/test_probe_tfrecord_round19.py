"""Round-19 TFRecord / tf.train.Example programs as users write them: writing
(plain and GZIP), parsing single and batched examples with every feature kind,
images and raw tensors inside records, pipelines over files, and the static shapes
TF gives decoded data in ``Dataset.map`` (expected values from TF 2.21)."""

import os

import numpy as np
import pytest

import dlframe as tf


def _example(i):
    image = np.full((4, 5, 3), i * 10, np.uint8)
    feature = {
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i])),
        "score": tf.train.Feature(float_list=tf.train.FloatList(value=[i * 0.5, i + 0.25])),
        "name": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"item%d" % i])),
        "tags": tf.train.Feature(int64_list=tf.train.Int64List(value=list(range(i)))),
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[tf.io.encode_png(image).numpy()])),
        "raw": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[np.arange(4, dtype=np.float32).tobytes()])),
        "tensor": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[tf.io.serialize_tensor(tf.constant([[i, 1], [2, 3]])).numpy()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


SPEC = {
    "label": tf.io.FixedLenFeature([], tf.int64),
    "score": tf.io.FixedLenFeature([2], tf.float32),
    "name": tf.io.FixedLenFeature([], tf.string),
    "missing": tf.io.FixedLenFeature([], tf.int64, default_value=-1),
    "tags": tf.io.VarLenFeature(tf.int64),
    "image": tf.io.FixedLenFeature([], tf.string),
    "raw": tf.io.FixedLenFeature([], tf.string),
    "tensor": tf.io.FixedLenFeature([], tf.string),
}


@pytest.fixture
def record_files(tmp_path):
    files = []
    for k, options in enumerate([None, "GZIP"]):
        path = str(tmp_path / f"data{k}.tfrecord")
        with tf.io.TFRecordWriter(path, options=options) as writer:
            for i in range(3 * k, 3 * k + 3):
                writer.write(_example(i).SerializeToString())
        files.append(path)
    return files


def test_example_round_trip_and_single_parse():
    serialized = _example(2).SerializeToString()
    back = tf.train.Example.FromString(serialized)
    assert back == _example(2)
    assert back.features.feature["label"].int64_list.value[0] == 2
    parsed = tf.io.parse_single_example(serialized, SPEC)
    assert int(parsed["label"]) == 2 and parsed["label"].dtype == tf.int64
    np.testing.assert_allclose(parsed["score"].numpy(), [1.0, 2.25])
    assert parsed["name"].numpy() == b"item2"
    assert int(parsed["missing"]) == -1
    tags = parsed["tags"]
    assert isinstance(tags, tf.SparseTensor)
    assert tags.indices.numpy().tolist() == [[0], [1]]
    assert tf.sparse.to_dense(tags).numpy().tolist() == [0, 1]
    image = tf.io.decode_image(parsed["image"])
    assert image.shape == (4, 5, 3) and image.numpy()[0, 0].tolist() == [20, 20, 20]
    assert tf.io.decode_png(parsed["image"], channels=1).shape == (4, 5, 1)
    assert tf.io.decode_raw(parsed["raw"], tf.float32).numpy().tolist() == [0, 1, 2, 3]
    assert tf.io.parse_tensor(parsed["tensor"], tf.int32).numpy().tolist() == [
        [2, 1], [2, 3]]


def test_batched_parse_with_every_feature_kind():
    batch = [_example(i).SerializeToString() for i in range(4)]
    parsed = tf.io.parse_example(batch, SPEC)
    assert parsed["score"].shape == (4, 2) and parsed["name"].shape == (4,)
    assert parsed["missing"].numpy().tolist() == [-1] * 4
    dense_tags = tf.sparse.to_dense(parsed["tags"]).numpy().tolist()
    assert parsed["tags"].dense_shape.numpy().tolist() == [4, 3]
    assert dense_tags == [[0, 0, 0], [0, 0, 0], [0, 1, 0], [0, 1, 2]]
    ragged = tf.io.parse_example(batch, {
        "r": tf.io.RaggedFeature(tf.int64, value_key="tags"),
        "r32": tf.io.RaggedFeature(tf.int64, value_key="tags", row_splits_dtype=tf.int32),
        "none": tf.io.RaggedFeature(tf.float32)})
    assert ragged["r"].to_list() == [[], [0], [0, 1], [0, 1, 2]]
    assert ragged["r32"].row_splits.dtype == tf.int32
    assert ragged["none"].to_list() == [[], [], [], []]
    padded = tf.io.parse_example(batch, {
        "tags": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)})
    assert padded["tags"].numpy().tolist() == dense_tags


def test_parse_errors_name_the_feature():
    serialized = _example(1).SerializeToString()
    # TF 2.21: InvalidArgumentError from ParseExampleV2 in each case
    with pytest.raises(tf.errors.InvalidArgumentError, match="nope"):
        tf.io.parse_single_example(serialized, {"nope": tf.io.FixedLenFeature([], tf.int64)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="label"):
        tf.io.parse_single_example(serialized,
                                   {"label": tf.io.FixedLenFeature([], tf.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="score"):
        tf.io.parse_single_example(serialized,
                                   {"score": tf.io.FixedLenFeature([3], tf.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.parse_single_example(b"garbage!!",
                                   {"label": tf.io.FixedLenFeature([], tf.int64)})
    with pytest.raises(ValueError, match="allow_missing"):
        tf.io.parse_example([serialized], {
            "tags": tf.io.FixedLenSequenceFeature([], tf.int64)})


def test_record_datasets_over_files(record_files):
    plain, gzipped = record_files
    ds = tf.data.TFRecordDataset([plain])
    assert ds.element_spec == tf.TensorSpec([], tf.string)
    labels = [int(tf.io.parse_single_example(r, SPEC)["label"]) for r in ds]
    assert labels == [0, 1, 2]
    zipped = tf.data.TFRecordDataset([gzipped], compression_type="GZIP")
    assert [int(tf.io.parse_single_example(r, SPEC)["label"]) for r in zipped] == [
        3, 4, 5]
    with pytest.raises(tf.errors.DataLossError):   # TF 2.21: "corrupted record at 0"
        list(tf.data.TFRecordDataset([gzipped]))
    parallel = tf.data.TFRecordDataset([plain, plain], num_parallel_reads=2)
    assert sorted(int(tf.io.parse_single_example(r, SPEC)["label"])
                  for r in parallel) == [0, 0, 1, 1, 2, 2]
    files = tf.data.Dataset.from_tensor_slices([plain, plain])
    mixed = files.interleave(tf.data.TFRecordDataset, cycle_length=2)
    assert [int(tf.io.parse_single_example(r, SPEC)["label"]) for r in mixed] == [
        0, 0, 1, 1, 2, 2]


def test_parsed_image_pipeline_has_tf_static_shapes(record_files):
    def parse(record):
        features = tf.io.parse_single_example(record, SPEC)
        image = tf.cast(tf.io.decode_png(features["image"], channels=3), tf.float32)
        return image / 255.0, features["label"]

    ds = tf.data.TFRecordDataset(record_files[0]).map(parse).batch(2)
    images, labels = ds.element_spec
    assert images.shape.as_list() == [None, None, None, 3]   # TF 2.21
    assert labels.shape.as_list() == [None]
    got = [(x.shape.as_list(), y.numpy().tolist()) for x, y in ds]
    assert got == [([2, 4, 5, 3], [0, 1]), ([1, 4, 5, 3], [2])]
    first = next(iter(ds))[0].numpy()
    np.testing.assert_allclose(first[1], np.full((4, 5, 3), 10 / 255.0), rtol=1e-6)
    batched = tf.data.TFRecordDataset(record_files[0]).batch(3).map(
        lambda r: tf.io.parse_example(r, SPEC))
    assert isinstance(batched.element_spec["tags"], tf.SparseTensorSpec)
    assert batched.element_spec["score"].shape.as_list() == [None, 2]


@pytest.mark.parametrize("decode, shape", [
    (lambda p, r, s: tf.io.decode_png(p), [None, None, None]),
    (lambda p, r, s: tf.io.decode_png(p, channels=3), [None, None, 3]),
    (lambda p, r, s: tf.io.decode_image(p, channels=3, expand_animations=False),
     [None, None, 3]),
    (lambda p, r, s: tf.image.resize(tf.io.decode_png(p, channels=3), [8, 8]),
     [8, 8, 3]),
    (lambda p, r, s: tf.io.decode_raw(r, tf.float32), [None]),
    (lambda p, r, s: tf.io.decode_raw([r, r], tf.float32), [2, None]),
    (lambda p, r, s: tf.io.decode_raw(r, tf.float32, fixed_length=8), [2]),
    (lambda p, r, s: tf.reshape(tf.io.decode_raw(r, tf.float32), [2, 3]), [2, 3]),
    (lambda p, r, s: tf.ensure_shape(tf.io.parse_tensor(s, tf.float32), [2, 3]),
     [2, 3]),
])
def test_decoders_in_map_leave_data_sizes_unknown(decode, shape):
    png = tf.io.encode_png(np.zeros((4, 5, 3), np.uint8)).numpy()
    raw = np.arange(6, dtype=np.float32).tobytes()
    ser = tf.io.serialize_tensor(tf.zeros([2, 3])).numpy()
    ds = tf.data.Dataset.from_tensors((png, raw, ser)).map(decode)
    assert ds.element_spec.shape.as_list() == shape
    value = next(iter(ds))
    assert all(d is None or d == v for d, v in zip(shape, value.shape.as_list()))


@pytest.mark.parametrize("decode", [
    lambda p, r, s: tf.io.decode_image(p),
    lambda p, r, s: tf.io.parse_tensor(s, tf.float32),
])
def test_decoders_of_unknown_rank_in_map(decode):
    png = tf.io.encode_png(np.zeros((4, 5, 3), np.uint8)).numpy()
    ser = tf.io.serialize_tensor(tf.zeros([2, 3])).numpy()
    ds = tf.data.Dataset.from_tensors((png, b"", ser)).map(decode)
    assert ds.element_spec.shape.rank is None          # TF 2.21: <unknown>
    assert next(iter(ds)).shape.rank in (2, 3)


def test_decode_raw_of_a_list_of_string_tensors():
    raw = tf.constant(np.arange(3, dtype=np.int32).tobytes())
    out = tf.io.decode_raw([raw, raw], tf.int32)
    assert out.shape == (2, 3) and out.numpy().tolist() == [[0, 1, 2]] * 2


def test_writer_files_are_valid_records(record_files):
    plain = record_files[0]
    assert os.path.getsize(plain) > 0
    with open(plain, "rb") as f:
        header = f.read(8)
    first = _example(0).SerializeToString()
    assert int.from_bytes(header, "little") == len(first)   # TFRecord framing
