"""make_csv_dataset / CsvDataset argument checks as TF 2.21 (values and error
classes observed by running TensorFlow)."""

import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b,c\n1,2,x\n3,4,y\n")
    return str(path)


def test_make_csv_defaults_and_select_columns_must_have_equal_length(csv_path):
    with pytest.raises(ValueError, match="`column_defaults` and `select_columns` must "
                                         "have the same length"):
        tf.data.experimental.make_csv_dataset(csv_path, 2, column_defaults=[0, 0, ""],
                                              select_columns=["a", "c"])
    ds = tf.data.experimental.make_csv_dataset(csv_path, 2, column_defaults=[0, ""],
                                               select_columns=["a", "c"], num_epochs=1,
                                               shuffle=False)
    batch = next(iter(ds))
    assert batch["a"].numpy().tolist() == [1, 3]
    assert batch["c"].numpy().tolist() == [b"x", b"y"]


def test_make_csv_defaults_shorter_than_row_fail_when_read(csv_path):
    # TF names the columns after the defaults and fails as rows are read
    ds = tf.data.experimental.make_csv_dataset(csv_path, 2, column_defaults=[0, 0],
                                               num_epochs=1)
    assert list(ds.element_spec) == ["a", "b"]
    with pytest.raises(InvalidArgumentError, match="Expect 2 fields but have more"):
        list(ds)
    ds = tf.data.experimental.make_csv_dataset(csv_path, 2,
                                               column_defaults=[0, 0, "", 0],
                                               num_epochs=1)
    assert list(ds.element_spec) == ["a", "b", "c"]
    with pytest.raises(InvalidArgumentError, match="Expect 4 fields but have 3"):
        list(ds)


def test_make_csv_inference_checks_row_lengths(csv_path):
    with pytest.raises(ValueError,
                       match="CSV row 2 has 3 number of fields. Expected: 2"):
        tf.data.experimental.make_csv_dataset(csv_path, 2, column_names=["a", "b"])


def test_csv_dataset_rejects_rows_longer_than_defaults(csv_path):
    ds = tf.data.experimental.CsvDataset(csv_path, [0, 0], header=True)
    with pytest.raises(InvalidArgumentError, match="Expect 2 fields but have more"):
        list(ds)
    # ignore_errors skips such rows, select_cols picks a subset
    assert list(ds.ignore_errors()) == []
    ds = tf.data.experimental.CsvDataset(csv_path, [0, 0], header=True,
                                         select_cols=[0, 1])
    assert [tuple(int(v) for v in row) for row in ds] == [(1, 2), (3, 4)]


def test_csv_dataset_record_default_dtypes(csv_path):
    with pytest.raises(ValueError, match=r"record_defaults\[0\] has unsupported dtype "
                                         "bool"):
        tf.data.experimental.CsvDataset(csv_path, [tf.bool], header=True)
    with pytest.raises(InvalidArgumentError, match="unsupported dtype bool"):
        tf.data.experimental.CsvDataset(csv_path, [tf.constant(True)], header=True)
    ds = tf.data.experimental.CsvDataset(csv_path, [tf.float64, tf.int64, tf.string],
                                         header=True)
    assert [s.dtype for s in ds.element_spec] == [tf.float64, tf.int64, tf.string]
    assert [float(r[0]) for r in ds] == [1.0, 3.0]
