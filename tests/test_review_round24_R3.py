"""Read-back review (round 24, R3) of the CSV reader and Generator changes: programs
checked against the values TensorFlow 2.21 gave for them."""

import numpy as np
import pytest

import dlframe as tf


def _csv_rows(path):
    ds = tf.data.experimental.CsvDataset(path, [tf.int32, tf.string], header=True)
    return [(int(a), b) for a, b in ds.as_numpy_iterator()]


# ------------------------------------------------------- CSV line endings (TF 2.21)
@pytest.mark.parametrize("data, rows", [
    # a Windows file: a quoted field spanning lines keeps its CRLF
    (b'a,b\r\n1,"line1\r\nline2"\r\n2,z\r\n', [(1, b"line1\r\nline2"), (2, b"z")]),
    (b'a,b\n1,"line1\nline2"\n2,z\n', [(1, b"line1\nline2"), (2, b"z")]),
    (b'a,b\r\n1,"x,y"\r\n2,"he said ""hi"""\r\n', [(1, b"x,y"), (2, b'he said "hi"')]),
    # old Mac files: a lone CR ends a line
    (b"a,b\r1,x\r2,z\r", [(1, b"x"), (2, b"z")]),
    (b'a,b\r1,"p\rq"\r', [(1, b"p\rq")]),
])
def test_csv_dataset_line_endings(tmp_path, data, rows):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert _csv_rows(str(path)) == rows


def test_make_csv_dataset_windows_file_with_multiline_field(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(b'a,b\r\n1,"line1\r\nline2"\r\n2,z\r\n')
    ds = tf.data.experimental.make_csv_dataset(str(path), batch_size=4, shuffle=False,
                                               num_epochs=1)
    (batch,) = list(ds)
    assert batch["a"].numpy().tolist() == [1, 2]
    assert batch["b"].numpy().tolist() == [b"line1\r\nline2", b"z"]


def test_csv_blank_last_line_is_still_a_short_record(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"a,b\n1,x\n\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 2"):
        _csv_rows(str(path))


# ------------------------------------------------- Generator.make_seeds in a map
def test_make_seeds_in_dataset_map_draws_from_the_first_state():
    # TF 2.21: the map's first element gets the generator's first draw (the
    # spec-finding run of the map function must not consume one)
    g = tf.random.Generator.from_seed(42)
    ds = tf.data.Dataset.range(3).map(lambda x: g.make_seeds(1)[:, 0])
    assert [v.tolist() for v in ds.as_numpy_iterator()] == [
        [-2783742675338139001, 0], [4590595352355200198, 0], [-7195967063916773985, 0]]


def test_make_seeds_feeds_stateless_ops_in_a_map():
    g = tf.random.Generator.from_seed(42)

    def aug(x):
        return tf.random.stateless_uniform([2], g.make_seeds(1)[:, 0])

    got = [v for v in tf.data.Dataset.range(3).map(aug).as_numpy_iterator()]
    np.testing.assert_allclose(got, [[0.2564, 0.3591], [0.0723, 0.6639],
                                     [0.7211, 0.6298]], atol=1e-4)


def test_make_seeds_inside_tf_function_advances_per_call():
    g = tf.random.Generator.from_seed(7)

    @tf.function
    def f():
        return g.make_seeds(2)

    first, second = f().numpy().tolist(), f().numpy().tolist()
    assert first == [[784853886890614065, 8349095772848317176], [0, 0]]
    assert second == [[232523557499378622, -7459316044095282209], [0, 0]]
    assert g.state.numpy().tolist() == [1031, 0, 0]


# ------------------------------------------------------- predicate errors name the spec
@pytest.mark.parametrize("predicate, spec", [
    (lambda x: tf.reshape(x > 3, [1]), "TensorSpec(shape=(1,), dtype=tf.bool, name=None)"),
    (lambda x: x, "TensorSpec(shape=(), dtype=tf.int64, name=None)"),
])
def test_filter_predicate_error_names_the_return_spec(predicate, spec):
    # TF 2.21 raises when filter() is called, naming the result's TensorSpec
    with pytest.raises(ValueError) as info:
        tf.data.Dataset.range(3).filter(predicate)
    assert str(info.value) == ("Invalid `predicate`. `predicate` must return a `tf.bool` "
                               f"scalar tensor, but its return type is {spec}.")


# ----------------------------------- host random draws in a traced function (TF: once)
def test_numpy_random_in_map_is_drawn_once_at_trace():
    # TF 2.21 traces the map function once: np.random gives one constant, the first
    # draw after the seed, and the next draw outside is the second (0.7203)
    np.random.seed(1)
    ds = tf.data.Dataset.range(3).map(
        lambda x: tf.cast(x, tf.float32) + float(np.random.rand()))
    np.testing.assert_allclose(list(ds.as_numpy_iterator()), [0.417, 1.417, 2.417],
                               atol=1e-3)
    assert round(float(np.random.rand()), 4) == 0.7203


def test_numpy_random_in_filter_predicate_is_drawn_once():
    np.random.seed(1)
    ds = tf.data.Dataset.range(3).filter(lambda x: x < int(np.random.randint(1, 10)))
    assert list(ds.as_numpy_iterator()) == [0, 1, 2]
    assert round(float(np.random.rand()), 4) == 0.9972   # TF 2.21's next draw


# ------------------------------------- malformed quoting: how far TF's file reader reads
def _ignoring(path):
    ds = tf.data.experimental.CsvDataset(path, [tf.int32, tf.string], header=True)
    return [int(a) for a, _ in ds.ignore_errors().as_numpy_iterator()]


@pytest.mark.parametrize("data, kept", [
    # text after a closing quote: the field reads on to a quote before a delimiter or
    # the line end; with none, the rest of the file is that bad record (TF 2.21)
    (b'a,b\n1,2.5\n2,"bad"z\n3,4.5\n', [1]),
    (b'a,b\r\n1,"bad"z\r\n2,ok\r\n3,fine\r\n', []),
    (b'a,b\n2,"bad"z,"q"\n3,4\n', [3]),
    (b'a,b\n1,ok\n2,"bad"z,w\n3,fine\n4,"q"\n', [1]),
    # a quote inside an unquoted field spoils only its own record
    (b'a,b\n1,x"y\n2,ok\n3,fine\n', [2, 3]),
])
def test_csv_dataset_ignore_errors_after_malformed_quotes(tmp_path, data, kept):
    path = tmp_path / "m.csv"
    path.write_bytes(data)
    assert _ignoring(str(path)) == kept


def test_csv_dataset_unclosed_quote_message(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(b'a,b\n1,"abc\n2,x\n')
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Reached end of file without closing quoted field"):
        _csv_rows(str(path))
    # decode_csv keeps its own message for one string
    with pytest.raises(tf.errors.InvalidArgumentError, match="Quote inside a string"):
        tf.io.decode_csv(['2,"bad"z'], [[0], [""]])


def test_make_csv_dataset_with_a_malformed_row_builds_and_ignores_it(tmp_path):
    # TF 2.21 builds the pipeline; the bad record fails (or is dropped) when read
    (tmp_path / "m1.csv").write_bytes(b'a,b\n1,"bad"z\n2,ok\n')
    (tmp_path / "m2.csv").write_bytes(b'a,b\n3,fine\n4,"x"\n')
    files = [str(tmp_path / "m1.csv"), str(tmp_path / "m2.csv")]
    ds = tf.data.experimental.make_csv_dataset(files, 10, column_defaults=[0, ""],
                                               ignore_errors=True, shuffle=False,
                                               num_epochs=1)
    (batch,) = list(ds)
    assert batch["a"].numpy().tolist() == [3, 4]
    assert batch["b"].numpy().tolist() == [b"fine", b"x"]
    strict = tf.data.experimental.make_csv_dataset(files, 10, shuffle=False,
                                                   num_epochs=1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(strict)
