"""CSV loading as the "Load CSV data" tutorial does it (round 15 probes)."""

import numpy as np

import dlframe as tf


def _write_fonts(tmp_path, n_files=3):
    for i in range(n_files):
        with open(tmp_path / f"font_{i}.csv", "w") as f:
            f.write("font,m_label,r0c0,r0c1\n")
            f.writelines(f"F{i},{65 + j},{j},{j * 2}\n" for j in range(4))


def test_make_csv_dataset_over_many_files_skips_every_header(tmp_path):
    # the headers of the 2nd and 3rd file used to be read as data and made every
    # column a string column
    _write_fonts(tmp_path)
    ds = tf.data.experimental.make_csv_dataset(
        file_pattern=str(tmp_path / "font_*.csv"), batch_size=12, num_epochs=1,
        shuffle=False)
    batch = next(iter(ds))
    assert list(batch) == ["font", "m_label", "r0c0", "r0c1"]
    assert {k: v.dtype for k, v in batch.items()} == {
        "font": tf.string, "m_label": tf.int32, "r0c0": tf.int32, "r0c1": tf.int32}
    np.testing.assert_array_equal(batch["m_label"].numpy(), [65, 66, 67, 68] * 3)
    np.testing.assert_array_equal(batch["r0c1"].numpy(), [0, 2, 4, 6] * 3)


def test_make_csv_dataset_infers_from_num_rows_for_inference_data_rows(tmp_path):
    # only the first data row is used for inference: "1" types the column int32,
    # so the later "2.5" fails to parse, as in TF
    with open(tmp_path / "a.csv", "w") as f:
        f.write("a,b\n1,x\n2.5,y\n")
    ds = tf.data.experimental.make_csv_dataset(
        str(tmp_path / "a.csv"), batch_size=1, num_epochs=1, shuffle=False,
        num_rows_for_inference=1)
    assert next(iter(ds))["a"].dtype == tf.int32
    ds2 = tf.data.experimental.make_csv_dataset(
        str(tmp_path / "a.csv"), batch_size=2, num_epochs=1, shuffle=False)
    assert next(iter(ds2))["a"].dtype == tf.float32


def test_csv_dtype_record_defaults_type_string_columns():
    # tf.string.size is 0: a string DType was read as an empty (float32) default
    cols = tf.io.decode_csv(tf.constant(["1,male,2.5"]),
                            [tf.int32, tf.string, tf.float32])
    assert [c.dtype for c in cols] == [tf.int32, tf.string, tf.float32]
    assert cols[1].numpy().tolist() == [b"male"]


def test_csv_dataset_with_dtype_record_defaults(tmp_path):
    path = tmp_path / "titanic.csv"
    path.write_text("survived,sex,age\n0,male,22.0\n1,female,38.0\n")
    types = [tf.int32, tf.string, tf.float32]
    rows = list(tf.data.experimental.CsvDataset(str(path), record_defaults=types,
                                                header=True))
    assert [r[1].numpy() for r in rows] == [b"male", b"female"]
    assert rows[1][2].dtype == tf.float32 and float(rows[1][2]) == 38.0
    # the tutorial's manual route: TextLineDataset + decode_csv with the defaults
    # int(), str(), float()
    manual = tf.data.TextLineDataset(str(path)).skip(1).map(
        lambda line: tf.io.decode_csv(line, [0, "", 0.0]))
    first = next(iter(manual))
    assert [c.dtype for c in first] == [tf.int32, tf.string, tf.float32]
    assert first[1].numpy() == b"male"


def test_make_csv_dataset_all_missing_column_is_string(tmp_path):
    # the traffic-volume CSV's `holiday` column is empty in the sampled rows: TF
    # types it as a string column (empty strings), not int32 zeros
    path = tmp_path / "e.csv"
    path.write_text("a,b,c,d\n,1,,x\n,2,3.5,\n")
    for na_value in ("", "NA"):
        ds = tf.data.experimental.make_csv_dataset(
            str(path), batch_size=2, num_epochs=1, shuffle=False, na_value=na_value)
        got = {k: (v.dtype, v.numpy().tolist()) for k, v in next(iter(ds)).items()}
        assert got == {"a": (tf.string, [b"", b""]), "b": (tf.int32, [1, 2]),
                       "c": (tf.float32, [0.0, 3.5]), "d": (tf.string, [b"x", b""])}
