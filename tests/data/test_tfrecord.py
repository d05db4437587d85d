"""TFRecord reading/writing against files written by TensorFlow, Example parsing."""

import gzip
import pathlib

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import DataLossError, InvalidArgumentError, NotFoundError

pytest.importorskip("google_crc32c")
pytest.importorskip("google.protobuf")

FIX = pathlib.Path(__file__).parent / "fixtures"
PLAIN = [b"", b"a", b"hello world", bytes(range(256)) * 3]
FEATURES = {
    "id": tf.io.FixedLenFeature([], tf.int64),
    "vals": tf.io.FixedLenFeature([3], tf.float32),
    "name": tf.io.FixedLenFeature([], tf.string),
    "tags": tf.io.VarLenFeature(tf.int64),
    "missing": tf.io.FixedLenFeature([2], tf.float32, default_value=[7.0, 8.0]),
}


def test_reads_tf_written_file():
    records = list(tf.data.TFRecordDataset(str(FIX / "plain.tfrecord")).as_numpy_iterator())
    assert records == PLAIN
    spec = tf.data.TFRecordDataset(str(FIX / "plain.tfrecord")).element_spec
    assert spec == tf.TensorSpec((), tf.string)


def test_writer_matches_tf_bytes(tmp_path):
    path = tmp_path / "out.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as w:
        for r in PLAIN:
            w.write(r)
    assert path.read_bytes() == (FIX / "plain.tfrecord").read_bytes()


@pytest.mark.parametrize("name,ctype", [("examples.tfrecord", ""),
                                        ("examples_gzip.tfrecord", "GZIP"),
                                        ("examples_zlib.tfrecord", "ZLIB")])
def test_compressed_tf_files_and_parse(name, ctype):
    ds = tf.data.TFRecordDataset([str(FIX / name)], compression_type=ctype)
    parsed = list(ds.map(lambda s: tf.io.parse_single_example(s, FEATURES)))
    assert len(parsed) == 4
    last = parsed[3]
    assert int(last["id"]) == 3 and last["name"].numpy() == b"rec3"
    np.testing.assert_allclose(last["vals"].numpy(), [1.5, 1.5, -2.0])
    np.testing.assert_allclose(last["missing"].numpy(), [7.0, 8.0])
    tags = last["tags"]
    assert tags.values.numpy().tolist() == [0, 1, 2]
    assert tags.indices.numpy().tolist() == [[0], [1], [2]]
    assert tags.dense_shape.numpy().tolist() == [3]


@pytest.mark.parametrize("ctype", ["", "GZIP", "ZLIB"])
def test_roundtrip_with_options(tmp_path, ctype):
    path = str(tmp_path / f"r_{ctype}.tfrecord")
    with tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(compression_type=ctype)) as w:
        for i in range(50):
            w.write(f"record {i}".encode() * (i + 1))
    got = list(tf.data.TFRecordDataset(path, compression_type=ctype).as_numpy_iterator())
    assert got == [f"record {i}".encode() * (i + 1) for i in range(50)]
    if ctype == "GZIP":
        with gzip.open(path) as f:
            assert f.read(8) != b""


def test_corrupt_crc_names_file_and_offset(tmp_path):
    data = bytearray((FIX / "plain.tfrecord").read_bytes())
    # Records 0 and 1 take 16 and 17 bytes; flip a data byte of record 2 (offset 33).
    data[33 + 12] ^= 0xFF
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(data))
    it = iter(tf.data.TFRecordDataset(str(bad)))
    assert next(it).numpy() == b"" and next(it).numpy() == b"a"
    with pytest.raises(DataLossError) as info:
        next(it)
    assert str(bad) in str(info.value) and "byte offset 33" in str(info.value)
    header = bytearray((FIX / "plain.tfrecord").read_bytes())
    header[2] ^= 0x01  # the length of record 0
    (tmp_path / "badlen.tfrecord").write_bytes(bytes(header))
    with pytest.raises(DataLossError, match="byte offset 0: length CRC"):
        list(tf.data.TFRecordDataset(str(tmp_path / "badlen.tfrecord")))


def test_truncated_record(tmp_path):
    data = (FIX / "plain.tfrecord").read_bytes()
    cut = tmp_path / "cut.tfrecord"
    cut.write_bytes(data[:-10])
    with pytest.raises(DataLossError, match=r"truncated record at byte offset \d+"):
        list(tf.data.TFRecordDataset(str(cut)))
    with pytest.raises(NotFoundError):
        list(tf.data.TFRecordDataset(str(tmp_path / "absent.tfrecord")))


def test_example_protos_build_and_parse_batch():
    def make(i):
        feature = {
            "x": tf.train.Feature(float_list=tf.train.FloatList(value=[i, i + 0.5])),
            "w": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"w%d" % i] * i)),
        }
        return tf.train.Example(features=tf.train.Features(feature=feature)) \
            .SerializeToString()

    serialized = [make(i) for i in range(3)]
    out = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([2], tf.float32),
                                           "w": tf.io.VarLenFeature(tf.string)})
    assert out["x"].shape == (3, 2)
    sp = out["w"]
    assert sp.dense_shape.numpy().tolist() == [3, 2]
    assert sp.indices.numpy().tolist() == [[1, 0], [2, 0], [2, 1]]
    from dlframe.io.sparse_tensor import to_dense
    assert to_dense(sp).numpy().tolist() == [[b"", b""], [b"w1", b""], [b"w2", b"w2"]]
    ex = tf.train.Example.FromString(serialized[1])
    assert list(ex.features.feature["x"].float_list.value) == [1.0, 1.5]


def test_parse_errors():
    ex = (FIX / "example0.bin").read_bytes()
    with pytest.raises(InvalidArgumentError, match="required"):
        tf.io.parse_single_example(ex, {"nope": tf.io.FixedLenFeature([], tf.int64)})
    with pytest.raises(InvalidArgumentError, match="Data types don't match"):
        tf.io.parse_single_example(ex, {"id": tf.io.FixedLenFeature([], tf.float32)})
    with pytest.raises(InvalidArgumentError, match="Values size: 3"):
        tf.io.parse_single_example(ex, {"vals": tf.io.FixedLenFeature([2], tf.float32)})
    with pytest.raises(InvalidArgumentError):
        tf.io.parse_single_example(b"\xff\xff garbage", FEATURES)
    seq = tf.io.parse_single_example(ex, {"tags": tf.io.FixedLenSequenceFeature(
        [], tf.int64, allow_missing=True)})
    assert seq["tags"].numpy().tolist() == [0, 1, 2]


def test_tensor_codecs_match_tf():
    t = tf.io.parse_tensor((FIX / "tensor_f32.bin").read_bytes(), tf.float32)
    np.testing.assert_array_equal(t.numpy(), [[1.5, 2.0], [3.0, -1.0]])
    assert tf.io.serialize_tensor(t).numpy() == (FIX / "tensor_f32.bin").read_bytes()
    s = tf.io.parse_tensor((FIX / "tensor_str.bin").read_bytes(), tf.string)
    assert s.numpy().tolist() == [b"ab", b"c"]
    assert tf.io.serialize_tensor(s).numpy() == (FIX / "tensor_str.bin").read_bytes()
    assert int(tf.io.parse_tensor((FIX / "tensor_i64.bin").read_bytes(), tf.int64)) == 7
    with pytest.raises(InvalidArgumentError, match="Type mismatch"):
        tf.io.parse_tensor((FIX / "tensor_f32.bin").read_bytes(), tf.int32)
    # (object arrays: tf.constant of a bytes list currently drops trailing NUL bytes)
    raw = tf.io.decode_raw(np.array([b"\x01\x00\x02\x01", b"\x03\x00\x04\x01"],
                                    dtype=object), tf.int16)
    assert raw.numpy().tolist() == [[1, 258], [3, 260]]
    with pytest.raises(InvalidArgumentError, match="same size"):
        tf.io.decode_raw(np.array([b"\x01\x02", b"\x03"], dtype=object), tf.uint8)
