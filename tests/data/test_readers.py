"""TextLineDataset, FixedLengthRecordDataset, CsvDataset and make_csv_dataset."""

import gzip
import zlib

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError


def test_text_lines_plain_and_compressed(tmp_path):
    text = "first\nsecond line\r\n\nlast"
    (tmp_path / "a.txt").write_text(text, newline="")
    (tmp_path / "b.txt.gz").write_bytes(gzip.compress(b"g1\ng2\n"))
    (tmp_path / "c.txt.z").write_bytes(zlib.compress(b"z1\nz2\n"))
    lines = list(tf.data.TextLineDataset(str(tmp_path / "a.txt")).as_numpy_iterator())
    assert lines == [b"first", b"second line", b"", b"last"]
    assert list(tf.data.TextLineDataset(str(tmp_path / "b.txt.gz"), compression_type="GZIP")
                .as_numpy_iterator()) == [b"g1", b"g2"]
    assert list(tf.data.TextLineDataset(str(tmp_path / "c.txt.z"), compression_type="ZLIB")
                .as_numpy_iterator()) == [b"z1", b"z2"]
    both = tf.data.TextLineDataset([str(tmp_path / "a.txt"), str(tmp_path / "a.txt")],
                                   num_parallel_reads=2)
    assert list(both.as_numpy_iterator())[:2] == [b"first", b"first"]
    names = tf.data.Dataset.from_tensor_slices([str(tmp_path / "a.txt")])
    assert len(list(tf.data.TextLineDataset(names))) == 4
    with pytest.raises(InvalidArgumentError):
        tf.data.TextLineDataset(str(tmp_path / "a.txt"), compression_type="BZ2")


def test_fixed_length_records(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"HH" + bytes(range(12)) + b"F")
    ds = tf.data.FixedLengthRecordDataset(str(path), 4, header_bytes=2, footer_bytes=1)
    recs = list(ds.as_numpy_iterator())
    assert recs == [bytes(range(4)), bytes(range(4, 8)), bytes(range(8, 12))]


def test_csv_dataset(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('a,b,c\n1,2.5,"x,y"\n3,,z\n')
    ds = tf.data.experimental.CsvDataset(str(path), [tf.int32, [0.0], tf.string],
                                         header=True)
    rows = list(ds.as_numpy_iterator())
    assert rows == [(1, 2.5, b"x,y"), (3, 0.0, b"z")]
    assert ds.element_spec[1] == tf.TensorSpec((), tf.float32)
    sel = tf.data.experimental.CsvDataset(str(path), [tf.string], header=True,
                                          select_cols=[2])
    assert list(sel.as_numpy_iterator()) == [(b"x,y",), (b"z",)]
    required = tf.data.experimental.CsvDataset(str(path), [tf.int32, tf.float32, tf.string],
                                               header=True)
    with pytest.raises(InvalidArgumentError, match="Field 1 is required"):
        list(required)


def test_make_csv_dataset(tmp_path):
    path = tmp_path / "train.csv"
    rows = ["age,fare,name,survived"] + [f"{20 + i},{i * 1.5},n{i},{i % 2}" for i in range(10)]
    path.write_text("\n".join(rows) + "\n")
    ds = tf.data.experimental.make_csv_dataset(str(path), batch_size=4, label_name="survived",
                                               num_epochs=1, shuffle=False)
    batches = list(ds)
    assert len(batches) == 3
    features, label = batches[0]
    assert list(features) == ["age", "fare", "name"]
    assert features["age"].dtype == tf.int32 and features["fare"].dtype == tf.float32
    assert features["name"].dtype == tf.string
    np.testing.assert_array_equal(label.numpy(), [0, 1, 0, 1])
    forever = tf.data.experimental.make_csv_dataset(str(path), batch_size=4, shuffle_seed=1)
    assert int(forever.cardinality()) == -1
    assert len(list(forever.take(5))) == 5
