"""Round 23 (H): tf.data / tf.io input-pipeline programs checked against TF 2.21.

Expected values are the ones TensorFlow 2.21 printed for the same programs.
"""

import gc
import gzip
import os

import numpy as np
import pytest

import dlframe as tf

D = tf.data.Dataset


def _np(ds):
    return [_plain(e) for e in ds.as_numpy_iterator()]


def _plain(e):
    if isinstance(e, dict):
        return {k: _plain(v) for k, v in e.items()}
    if isinstance(e, tuple):
        return tuple(_plain(v) for v in e)
    if isinstance(e, np.ndarray) and e.dtype != object:
        return e.tolist()
    if isinstance(e, np.ndarray):
        return [bytes(v) for v in e.reshape(-1)]
    if isinstance(e, np.generic):
        return e.item()
    return e


# ---------------------------------------------------------------- file cache lock
def test_cache_file_partial_iterator_blocks_second_writer(tmp_path, monkeypatch):
    from dlframe.data import cache
    monkeypatch.setattr(cache, "OWN_LOCK_WAIT_S", 0.2)   # the live writer never ends
    prefix = str(tmp_path / "c3")
    it = iter(D.range(10).cache(prefix))
    assert [int(next(it)) for _ in range(3)] == [0, 1, 2]
    assert os.path.exists(prefix + "_0.lockfile")
    with pytest.raises(tf.errors.AlreadyExistsError,
                       match="concurrent caching iterator running"):
        list(D.range(10).cache(prefix))
    # the first iterator is unharmed and finishes the cache
    assert [int(v) for v in it] == list(range(3, 10))
    assert not os.path.exists(prefix + "_0.lockfile")
    # a finished cache is read, whatever pipeline names it (as TF)
    assert _np(D.range(10).map(lambda x: -x).cache(prefix)) == list(range(10))


def test_cache_file_dropped_partial_iterator_releases_lock(tmp_path):
    prefix = str(tmp_path / "c")
    it = iter(D.range(10).cache(prefix))
    next(it)
    del it
    gc.collect()
    assert not os.path.exists(prefix + "_0.lockfile")
    assert _np(D.range(10).cache(prefix)) == list(range(10))
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]


def test_cache_file_in_missing_directory_is_not_found(tmp_path):
    ds = D.range(3).cache(str(tmp_path / "nope" / "c"))
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        list(ds)


def test_snapshot_partial_iteration_then_rerun(tmp_path):
    it = iter(D.range(10).snapshot(str(tmp_path / "snap")))
    assert [int(next(it)) for _ in range(3)] == [0, 1, 2]
    # TF's snapshot has no writer lock: a second pipeline simply runs
    assert _np(D.range(10).snapshot(str(tmp_path / "snap"))) == list(range(10))


# ---------------------------------------------------------------- combining
def test_zip_refuses_lists_and_non_datasets():
    with pytest.raises(TypeError, match="Python `list` is not supported"):
        D.zip([D.range(2), D.range(3)])
    with pytest.raises(TypeError, match="Python `list` is not supported"):
        D.zip({"a": [D.range(2)]})
    with pytest.raises(TypeError, match="encountered object of type <class 'int'>"):
        D.zip((D.range(2), 3))
    letters = D.from_tensor_slices(["p", "q", "r"])
    z = D.zip((D.range(3), {"x": D.range(10, 13), "y": (D.range(20, 23), letters)}))
    assert _np(z)[1] == (1, {"x": 11, "y": (21, b"q")})


def test_sample_from_datasets_weights_dataset():
    w = D.from_tensors([1.0, 0.0]).repeat(3).concatenate(
        D.from_tensors([0.0, 1.0]).repeat())
    s = D.sample_from_datasets([D.range(10), D.range(100, 110)], weights=w, seed=1)
    assert _np(s.take(6)) == [0, 1, 2, 100, 101, 102]
    # sampling ends with the weights dataset
    s = D.sample_from_datasets([D.range(10), D.range(100, 110)],
                               weights=D.from_tensors([1.0, 0.0]).repeat(2), seed=1)
    assert _np(s) == [0, 1]
    assert int(s.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert s.element_spec == tf.TensorSpec([], tf.int64)
    for stop in (True, False):
        s = D.sample_from_datasets([D.range(2), D.range(100, 110)],
                                   weights=D.from_tensors([1.0, 0.0]).repeat(5),
                                   seed=1, stop_on_empty_dataset=stop)
        assert _np(s) == [0, 1]


def test_sample_from_datasets_bad_weights():
    a, b = D.range(5), D.range(100, 103)
    with pytest.raises(ValueError, match=r"`len\(weights\)=1` vs. `len\(datasets\)=2`"):
        D.sample_from_datasets([a, b], weights=[1.0])
    with pytest.raises(TypeError, match="floating-point"):
        D.sample_from_datasets([a, b], weights=D.from_tensors([1, 0]))
    with pytest.raises(ValueError, match=r"`len\(weights\)=3`"):
        D.sample_from_datasets([a, b], weights=D.from_tensors([1.0, 0.0, 1.0]))


def test_sample_from_datasets_seeded_is_reproducible():
    a, b = D.range(5), D.range(100, 103)
    s = D.sample_from_datasets([a, b], weights=[0.5, 0.5], seed=42)
    first = _np(s)
    assert sorted(first) == [0, 1, 2, 3, 4, 100, 101, 102]
    assert _np(D.sample_from_datasets([a, b], weights=[0.5, 0.5], seed=42)) == first
    assert int(s.cardinality()) == -2
    endless = D.sample_from_datasets([a.repeat(), b.repeat()], seed=1)
    assert int(endless.cardinality()) == -1


def test_choose_from_datasets_messages_and_stop():
    with pytest.raises(TypeError, match="must be scalar `tf.int64` tensors but are"):
        D.choose_from_datasets([D.range(2)],
                               D.from_tensor_slices(np.array([0], np.int32)))
    bad = D.choose_from_datasets([D.range(2)], D.from_tensor_slices(np.array([0, 3])))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Selector index out of range: 3 >= 1"):
        list(bad)
    choice = D.from_tensor_slices(np.array([0, 0, 0, 1, 1], np.int64))
    two = [D.range(2), D.range(10, 12)]
    assert _np(D.choose_from_datasets(two, choice)) == [0, 1]
    assert _np(D.choose_from_datasets(two, choice, stop_on_empty_dataset=False)) == \
        [0, 1, 10, 11]


def test_from_generator_signature_conflict_messages():
    sig = tf.TensorSpec((), tf.int32)
    with pytest.raises(TypeError, match="The `output_types` argument can not be used "
                                        "together with the `output_signature`"):
        D.from_generator(lambda: iter([1]), output_types=tf.int32, output_signature=sig)
    with pytest.raises(TypeError, match="The `output_shapes` argument can not be used"):
        D.from_generator(lambda: iter([1]), output_shapes=[], output_signature=sig)


def test_from_generator_ragged_and_variable_shapes():
    def gen():
        for n in [2, 1, 3]:
            yield tf.ragged.constant([[i] * i for i in range(n)], dtype=tf.int64), n
    sig = (tf.RaggedTensorSpec(shape=(None, None), dtype=tf.int64),
           tf.TensorSpec([], tf.int32))
    ds = D.from_generator(gen, output_signature=sig)
    rows = [r.to_list() for r, _ in ds]
    assert rows == [[[], [1]], [[]], [[], [1], [2, 2]]]
    batched = list(ds.map(lambda r, n: r).ragged_batch(2))
    assert batched[0].to_list() == [[[], [1]], [[]]]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \(2, 4\)"):
        list(D.from_generator(lambda: iter([np.zeros((2, 4), np.float32)]),
                              output_signature=tf.TensorSpec((2, 3), tf.float32)))


# ---------------------------------------------------------------- tf.io.gfile
def test_gfile_directory_operations_as_tf(tmp_path):
    g = tf.io.gfile
    d = str(tmp_path / "x" / "y")
    g.makedirs(d)
    g.mkdir(d)   # TF ignores AlreadyExists for mkdir
    assert g.isdir(d)
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        g.mkdir(str(tmp_path / "a" / "b"))
    f = os.path.join(d, "f.txt")
    with g.GFile(f, "w") as fh:
        fh.write("hello\nworld\n")
    with g.GFile(f, "a") as fh:
        fh.write("more")
    with g.GFile(f) as fh:
        assert fh.readlines() == ["hello\n", "world\n", "more"]
    with pytest.raises(tf.errors.FailedPreconditionError, match="is not a directory"):
        g.makedirs(os.path.join(f, "sub"))
    missing = str(tmp_path / "nope")
    with pytest.raises(tf.errors.NotFoundError, match=f"^{missing} not found$"):
        g.rmtree(missing)
    with pytest.raises(tf.errors.NotFoundError,
                       match=f"^Could not find directory {f}$"):
        g.listdir(f)
    g.copy(f, os.path.join(d, "g.txt"))
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.copy(f, os.path.join(d, "g.txt"))
    assert [p[len(str(tmp_path)) + 1:] for p in g.glob(os.path.join(d, "*.txt"))] == \
        ["x/y/f.txt", "x/y/g.txt"]
    g.rmtree(str(tmp_path / "x"))
    assert not g.exists(d)


def test_gfile_mode_and_directory_errors(tmp_path):
    g = tf.io.gfile
    p = str(tmp_path / "f.txt")
    with g.GFile(p, "w") as f:
        f.write("l1\nl2\nl3")
        with pytest.raises(tf.errors.PermissionDeniedError,
                           match="File isn't open for reading"):
            f.read()
    with pytest.raises(tf.errors.PermissionDeniedError,
                       match="File isn't open for writing"):
        g.GFile(p).write("x")
    with g.GFile(p) as f:
        assert list(f) == ["l1\n", "l2\n", "l3"]
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        g.remove(str(tmp_path))
    assert g.exists(str(tmp_path))


# ---------------------------------------------------------------- CSV
def test_csv_dataset_ignore_errors_keeps_reading(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\nzz,3\n4,5\n")
    ds = tf.data.experimental.CsvDataset(str(bad), [0, 0], header=True).ignore_errors()
    assert _np(ds) == [(1, 2), (4, 5)]
    ds = tf.data.experimental.CsvDataset(str(bad), [0, 0], header=True).apply(
        tf.data.experimental.ignore_errors())
    assert _np(ds) == [(1, 2), (4, 5)]
    made = tf.data.experimental.make_csv_dataset(
        str(bad), batch_size=5, column_defaults=[0, 0], num_epochs=1, shuffle=False,
        ignore_errors=True)
    assert _np(made) == [{"a": [1, 4], "b": [2, 5]}]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a valid int32"):
        list(tf.data.experimental.CsvDataset(str(bad), [0, 0], header=True))


def test_make_csv_dataset_reads_a_file_named_twice(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("1,2.0,a\n3,4.5,b\n")
    ds = tf.data.experimental.make_csv_dataset(
        [str(p), str(p)], batch_size=4, column_names=["i", "f", "s"], header=False,
        num_epochs=1, shuffle=False)
    (batch,) = _np(ds)
    assert batch == {"i": [1, 3, 1, 3], "f": [2.0, 4.5, 2.0, 4.5],
                     "s": [b"a", b"b", b"a", b"b"]}


def test_csv_select_and_exclude_together_is_invalid(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("1,2.0,a\n")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Either select_cols or exclude_cols should be empty"):
        tf.data.experimental.CsvDataset(str(p), [tf.int32], select_cols=[0],
                                        exclude_cols=[1])
    ds = tf.data.experimental.CsvDataset(str(p), [tf.int32, tf.string],
                                         exclude_cols=[1])
    assert _np(ds) == [(1, b"a")]


def test_csv_na_values_gzip_and_text_lines(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("a|b|c\n1|x|2.5\nNA|y|\n3|NA|4.0\n")
    ds = tf.data.experimental.make_csv_dataset(
        str(p), batch_size=3, field_delim="|", na_value="NA", num_epochs=1,
        shuffle=False, column_defaults=[-1, "dflt", 0.5])
    assert _np(ds) == [{"a": [1, -1, 3], "b": [b"x", b"y", b"dflt"],
                        "c": [2.5, 0.5, 4.0]}]
    gz = tmp_path / "d.csv.gz"
    with gzip.open(gz, "wt") as f:
        f.write("p,q\n1,2\n3,4\n")
    ds = tf.data.experimental.make_csv_dataset(str(gz), batch_size=2,
                                               compression_type="GZIP", num_epochs=1,
                                               shuffle=False)
    assert _np(ds) == [{"p": [1, 3], "q": [2, 4]}]
    lines = tf.data.TextLineDataset(str(gz), compression_type="GZIP").skip(1)
    decoded = lines.map(lambda l: tf.io.decode_csv(l, record_defaults=[0, 0]))
    assert _np(decoded) == [(1, 2), (3, 4)]
    assert int(lines.cardinality()) == tf.data.UNKNOWN_CARDINALITY


# ---------------------------------------------------------------- TFRecord + parsing
def test_serialize_tensor_scalar_bytes_match_tf():
    # TF writes an empty tensor_shape for a scalar (bytes printed by TF 2.21)
    def hexed(value):
        return tf.io.serialize_tensor(value).numpy().hex()
    assert hexed(tf.constant(3)) == "08031200220403000000"
    assert hexed(tf.constant("ab")) == "0807120042026162"
    assert hexed(tf.constant(2.5)) == "08011200220400002040"
    assert hexed(tf.constant([1, 2], tf.int32)) == \
        "080312041202080222080100000002000000"
    back = tf.io.parse_tensor(tf.io.serialize_tensor(tf.constant(3)), tf.int32)
    assert back.shape == () and int(back) == 3


def test_tfrecord_gzip_parse_pipeline(tmp_path):
    lists = {"int64_list": tf.train.Int64List, "float_list": tf.train.FloatList,
             "bytes_list": tf.train.BytesList}

    def feat(kind, v):
        return tf.train.Feature(**{kind: lists[kind](value=v)})
    serialized = []
    for i in range(3):
        ex = tf.train.Example(features=tf.train.Features(feature={
            "id": feat("int64_list", [i]),
            "vals": feat("float_list", [float(j) for j in range(i + 1)]),
            "name": feat("bytes_list", [f"n{i}".encode()]),
            "tags": feat("int64_list", list(range(i)))}))
        serialized.append(ex.SerializeToString())
    path = str(tmp_path / "d.tfrec.gz")
    with tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(
            compression_type="GZIP")) as w:
        for s in serialized:
            w.write(s)
    with open(path, "rb") as f:
        assert f.read(2) == b"\x1f\x8b"
    ds = tf.data.TFRecordDataset(path, compression_type="GZIP")
    assert [bytes(x) for x in ds.as_numpy_iterator()] == serialized
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.TFRecordDataset(path))
    spec = {"id": tf.io.FixedLenFeature([], tf.int64),
            "vals": tf.io.VarLenFeature(tf.float32),
            "name": tf.io.FixedLenFeature([], tf.string),
            "tags": tf.io.RaggedFeature(tf.int64),
            "missing": tf.io.FixedLenFeature([], tf.int64, default_value=-7)}
    b = next(iter(ds.batch(3).map(lambda s: tf.io.parse_example(s, spec))))
    assert tf.sparse.to_dense(b["vals"]).numpy().tolist() == \
        [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 2.0]]
    assert b["tags"].to_list() == [[], [0], [0, 1]]
    assert b["id"].numpy().tolist() == [0, 1, 2]
    assert b["missing"].numpy().tolist() == [-7, -7, -7]
    assert [bytes(v) for v in b["name"].numpy()] == [b"n0", b"n1", b"n2"]
    fls = tf.io.parse_example(tf.constant(serialized), {
        "vals": tf.io.FixedLenSequenceFeature([], tf.float32, allow_missing=True)})
    assert fls["vals"].numpy().tolist() == [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                                            [0.0, 1.0, 2.0]]


def test_sequence_example_by_hand():
    se = tf.train.SequenceExample()
    se.context.feature["len"].int64_list.value.append(3)
    for t in range(3):
        se.feature_lists.feature_list["tok"].feature.add().int64_list.value.extend(
            [t, t * 10])
    ss = se.SerializeToString()
    assert tf.train.SequenceExample.FromString(ss) == se
    ctx, seq, lens = tf.io.parse_sequence_example(
        tf.constant([ss, ss]),
        context_features={"len": tf.io.FixedLenFeature([], tf.int64)},
        sequence_features={"tok": tf.io.FixedLenSequenceFeature([2], tf.int64)})
    assert ctx["len"].numpy().tolist() == [3, 3]
    assert seq["tok"].numpy().shape == (2, 3, 2)
    assert seq["tok"].numpy()[1].tolist() == [[0, 0], [1, 10], [2, 20]]
    assert lens["tok"].numpy().tolist() == [3, 3]


# ---------------------------------------------------------------- transformations
def test_interleave_window_group_programs():
    ds = D.range(1, 4).interleave(lambda x: D.from_tensors(x).repeat(x * 2),
                                  cycle_length=2, block_length=2)
    assert _np(ds) == [1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]
    assert int(ds.cardinality()) == -2
    ds = D.range(1, 6).interleave(lambda x: D.range(x), cycle_length=3,
                                  block_length=1, num_parallel_calls=tf.data.AUTOTUNE,
                                  deterministic=True)
    assert _np(ds) == [0, 0, 0, 1, 1, 0, 2, 1, 0, 2, 1, 3, 2, 3, 4]
    w = D.range(10).window(3, shift=1, stride=2, drop_remainder=True)
    assert int(w.cardinality()) == 6
    assert _np(w.flat_map(lambda x: x.batch(3)))[-1] == [5, 7, 9]
    g = D.range(10).group_by_window(
        key_func=lambda x: x % 3,
        reduce_func=lambda k, w: w.map(lambda v: v + 100 * k).batch(10),
        window_size_func=lambda k: k + 1)
    assert _np(g) == [[0], [3], [101, 104], [6], [202, 205, 208], [9], [107]]


def test_bucket_and_padded_batch_programs():
    seqs = [[1], [2, 2], [3] * 3, [4] * 4, [5] * 5, [6] * 6, [7] * 7, [1, 1], [9]]
    gen = D.from_generator(lambda: iter(seqs),
                           output_signature=tf.TensorSpec([None], tf.int32))
    b = gen.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3, 5], [2, 2, 2])
    assert _np(b) == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]],
                      [[5, 5, 5, 5, 5, 0], [6, 6, 6, 6, 6, 6]], [[1, 1], [9, 0]],
                      [[7, 7, 7, 7, 7, 7, 7]]]
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(gen.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3, 5], [2, 2, 2],
                                           pad_to_bucket_boundary=True))
    ds = D.from_generator(
        lambda: ({"ids": np.arange(n, dtype=np.int32), "lab": np.int64(n),
                  "txt": b"x" * n} for n in [1, 3, 2]),
        output_signature={"ids": tf.TensorSpec([None], tf.int32),
                          "lab": tf.TensorSpec([], tf.int64),
                          "txt": tf.TensorSpec([], tf.string)})
    pb = ds.padded_batch(2, padding_values={"ids": -1, "lab": np.int64(0),
                                            "txt": "pad"})
    assert _np(pb)[0] == {"ids": [[0, -1, -1], [0, 1, 2]], "lab": [1, 3],
                          "txt": [b"x", b"xxx"]}
    pb = ds.padded_batch(2, padded_shapes={"ids": [5], "lab": [], "txt": []},
                         drop_remainder=True)
    assert pb.element_spec["ids"] == tf.TensorSpec([2, 5], tf.int32)
    with pytest.raises(tf.errors.DataLossError,
                       match="Attempted to pad to a smaller size than the input"):
        list(ds.padded_batch(2, padded_shapes={"ids": [2], "lab": [], "txt": []}))


def test_scan_unique_shard_enumerate():
    scanned = D.range(1, 6).scan(np.int64(0), lambda st, x: (st + x, st * 10 + x))
    assert _np(scanned) == [1, 12, 33, 64, 105]
    assert _np(D.from_tensor_slices([1, 3, 1, 2, 3, 5, 2]).unique()) == [1, 3, 2, 5]
    assert _np(D.from_tensor_slices(["b", "a", "b", "c"]).unique()) == \
        [b"b", b"a", b"c"]
    sh = D.range(10).shard(3, 1)
    assert _np(sh) == [1, 4, 7] and int(sh.cardinality()) == 3
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Index must be between 0 and 2"):
        D.range(10).shard(3, 3)
    enumerated = D.from_tensor_slices(["a", "b"]).enumerate(start=5)
    assert _np(enumerated) == [(5, b"a"), (6, b"b")]


# ---------------------------------------------------------------- SqlDataset
@pytest.fixture
def people_db(tmp_path):
    import sqlite3
    path = str(tmp_path / "t.db")
    con = sqlite3.connect(path)
    con.execute("create table p (name text, age integer, h real, b blob)")
    con.executemany("insert into p values (?,?,?,?)",
                    [("ann", 31, 1.5, b"x"), ("bob", 42, 1.75, b"yy"),
                     ("cy", None, None, None)])
    con.commit()
    con.close()
    return path


def test_sql_dataset_rows_and_spec(people_db):
    E = tf.data.experimental
    ds = E.SqlDataset("sqlite", people_db,
                      "SELECT name, age, h FROM p WHERE age IS NOT NULL ORDER BY age",
                      (tf.string, tf.int32, tf.float64))
    assert ds.element_spec == (tf.TensorSpec([], tf.string),
                               tf.TensorSpec([], tf.int32),
                               tf.TensorSpec([], tf.float64))
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    expected = [(b"ann", 31, 1.5), (b"bob", 42, 1.75)]
    assert _np(ds) == expected and _np(ds) == expected   # re-iterable
    single = E.SqlDataset("sqlite", people_db, "SELECT name FROM p", tf.string)
    assert single.element_spec == tf.TensorSpec([], tf.string)
    assert _np(single) == [b"ann", b"bob", b"cy"]
    batched = list(E.SqlDataset("sqlite", people_db, "SELECT age FROM p",
                                (tf.int16,)).batch(2).as_numpy_iterator())
    assert batched[0][0].dtype == np.int16 and batched[0][0].tolist() == [31, 42]
    assert batched[1][0].tolist() == [0]   # NULL reads as 0


def test_sql_dataset_conversions_as_sqlite(people_db):
    # the values TF 2.21 printed for the same queries
    E = tf.data.experimental
    ds = E.SqlDataset("sqlite", people_db, "SELECT age, name FROM p",
                      (tf.string, tf.string))
    assert _np(ds) == [(b"31", b"ann"), (b"42", b"bob"), (b"", b"cy")]
    ds = E.SqlDataset("sqlite", people_db, "SELECT name FROM p", (tf.int32,))
    assert _np(ds) == [(0,), (0,), (0,)]
    ds = E.SqlDataset("sqlite", people_db, "SELECT age, h FROM p", (tf.bool, tf.bool))
    assert _np(ds) == [(True, True), (True, True), (False, False)]
    ds = E.SqlDataset("sqlite", people_db,
                      "SELECT 'x12', '3.5e1abc', 2.0, 1e20, -7, 'true' FROM p LIMIT 1",
                      (tf.int64, tf.float64, tf.string, tf.string, tf.string, tf.bool))
    assert _np(ds) == [(0, 35.0, b"2.0", b"1.0e+20", b"-7", False)]
    ds = E.SqlDataset("sqlite", people_db,
                      "SELECT ' 12abc', '3.5e1abc', 2.5, 7 FROM p LIMIT 1",
                      (tf.int64, tf.int64, tf.int64, tf.float64))
    assert _np(ds) == [(12, 3, 2, 7.0)]
    ds = E.SqlDataset("sqlite", people_db, "SELECT b FROM p WHERE b IS NOT NULL",
                      (tf.string,))
    assert _np(ds) == [(b"x",), (b"yy",)]


def test_sql_dataset_errors(people_db, tmp_path):
    E = tf.data.experimental
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="The database type, mysql, is not supported"):
        E.SqlDataset("mysql", people_db, "SELECT name FROM p", (tf.string,))
    with pytest.raises(tf.errors.InvalidArgumentError, match="DT_DOUBLE"):
        E.SqlDataset("sqlite", people_db, "SELECT h FROM p", (tf.float32,))
    with pytest.raises(tf.errors.UnknownError, match="no such column: nope"):
        list(E.SqlDataset("sqlite", people_db, "SELECT nope FROM p", (tf.string,)))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"number of columns in query \(2\) must match the number "
                             r"of elements in output_types \(1\)"):
        list(E.SqlDataset("sqlite", people_db, "SELECT name, age FROM p", (tf.string,)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="unable to open database"):
        list(E.SqlDataset("sqlite", str(tmp_path / "none" / "x.db"), "SELECT 1",
                          (tf.int32,)))


# ---------------------------------------------------------------- save / load
def test_load_with_element_spec(tmp_path):
    ds = D.from_tensor_slices({"r": tf.ragged.constant([[1], [2, 3]]),
                               "t": ([1.0, 2.0], ["a", "b"])})
    ds.save(str(tmp_path / "n"))
    same = D.load(str(tmp_path / "n"), element_spec=ds.element_spec)
    got = [(e["r"].numpy().tolist(), float(e["t"][0]), bytes(e["t"][1].numpy()))
           for e in same]
    assert got == [([1], 1.0, b"a"), ([2, 3], 2.0, b"b")]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Data type mismatch"):
        list(D.load(str(tmp_path / "n"), element_spec=tf.TensorSpec([], tf.int64)))
    D.range(3).save(str(tmp_path / "r"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Data type mismatch"):
        list(D.load(str(tmp_path / "r"), element_spec=tf.TensorSpec([], tf.string)))
    # saving again replaces the old contents
    D.range(5, 7).save(str(tmp_path / "r"))
    again = D.load(str(tmp_path / "r"))
    assert _np(again) == [5, 6] and int(again.cardinality()) == 2


def test_reduce_state_must_keep_components_and_dtypes():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"\(initial_state=1, output=2\)"):
        D.range(3).reduce(tf.constant(0, tf.int64), lambda s, x: (s, s))
    with pytest.raises(TypeError, match="element types for the new state must match"):
        D.range(3).reduce(np.int64(0), lambda s, x: tf.cast(s, tf.float32))
    # one component in a dict is still one component (TF accepts it)
    out = D.range(3).reduce(tf.constant(0, tf.int64), lambda s, x: {"a": s + x})
    assert int(out["a"]) == 3
    out = D.range(3).reduce((0, 0.5), lambda s, x: (s[0] + 1, s[1] * 2.0))
    assert (int(out[0]), float(out[1])) == (3, 4.0)
    assert out[0].dtype == tf.int32 and out[1].dtype == tf.float32


def test_tfrecord_options_writer_and_filename_errors(tmp_path):
    with pytest.raises(ValueError, match='Not a valid compression_type: "XX"'):
        tf.io.TFRecordOptions(compression_type="XX")
    with pytest.raises(ValueError, match='Not a valid compression_type: "XX"'):
        tf.io.TFRecordOptions.get_compression_type_string("XX")
    assert tf.io.TFRecordOptions.get_compression_type_string(None) == ""
    path = str(tmp_path / "z.rec")
    opts = tf.io.TFRecordOptions(compression_type="ZLIB", compression_level=9)
    w = tf.io.TFRecordWriter(path, opts)
    w.write(b"abc")
    w.write("strrec")
    w.close()
    with pytest.raises(tf.errors.FailedPreconditionError, match="Writer is closed."):
        w.write(b"x")
    got = tf.data.TFRecordDataset(path, compression_type="ZLIB")
    assert [bytes(x) for x in got.as_numpy_iterator()] == [b"abc", b"strrec"]
    with pytest.raises(TypeError, match="must contain `tf.string` elements. "
                                        "Got `tf.int32` elements."):
        tf.data.TFRecordDataset([1, 2])


def test_composite_slices_keep_string_rows_as_tf_strings(tmp_path):
    ds = D.from_tensor_slices({"r": tf.ragged.constant([[1], [2, 3]]),
                               "s": ["a", "bc"]})
    rows = list(ds.as_numpy_iterator())
    assert [type(e["s"]) for e in rows] == [bytes, bytes]   # not numpy.bytes_
    assert [e["s"] for e in rows] == [b"a", b"bc"]
    ds.save(str(tmp_path / "s"))
    loaded = [(e["r"].numpy().tolist(), e["s"].numpy())
              for e in D.load(str(tmp_path / "s"))]
    assert loaded == [([1], b"a"), ([2, 3], b"bc")]


def test_interleave_default_cycle_length_follows_tf(monkeypatch):
    from dlframe.data import nesting
    # orders TF 2.21 gave on a machine with 2 schedulable cores
    monkeypatch.setattr(nesting.os, "sched_getaffinity", lambda pid: {0, 1},
                        raising=False)

    def run(**kw):
        return _np(D.range(4).interleave(lambda x: D.from_tensors(x).repeat(3), **kw))
    by_one = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    by_two = [0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3]
    assert run() == by_two
    assert run(num_parallel_calls=2) == by_two
    assert run(num_parallel_calls=1) == by_one
    assert run(num_parallel_calls=tf.data.AUTOTUNE) == by_one
    assert run(cycle_length=2, num_parallel_calls=tf.data.AUTOTUNE) == by_two
    assert run(block_length=2, num_parallel_calls=tf.data.AUTOTUNE) == by_one
    assert (nesting._autotuned_cycle_length(None),
            nesting._autotuned_cycle_length(tf.data.AUTOTUNE),
            nesting._autotuned_cycle_length(8)) == (2, 1, 2)
    monkeypatch.setattr(nesting.os, "sched_getaffinity", lambda pid: set(range(16)),
                        raising=False)
    assert (nesting._autotuned_cycle_length(None),
            nesting._autotuned_cycle_length(tf.data.AUTOTUNE),
            nesting._autotuned_cycle_length(8)) == (16, 6, 8)
