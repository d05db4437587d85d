"""The tf.io parsers, decode_csv, write_file and matching_files as graph ops: eager
and dlframe.function results agree, the concrete functions' static shapes are TF
2.21's, bad records raise InvalidArgumentError when the graph runs, write_file is an
effect, and Dataset.map still parses."""

import os

import pytest

import dlframe as tf


def _example(i):
    feature = {
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[i, i + 1.0])),
        "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"a"] * i)),
        "ids": tf.train.Feature(int64_list=tf.train.Int64List(value=list(range(i)))),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))}
    return tf.train.Example(
        features=tf.train.Features(feature=feature)).SerializeToString()


RECORDS = [_example(1), _example(3)]
FEATURES = {"x": tf.io.FixedLenFeature([2], tf.float32),
            "label": tf.io.FixedLenFeature([], tf.int64, default_value=0),
            "tags": tf.io.VarLenFeature(tf.string),
            "ids": tf.io.RaggedFeature(tf.int64),
            "seq": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)}


def _plain(out):
    """Parsed results as nested Python lists, comparable across runs."""
    found = {}
    for key, value in out.items():
        if isinstance(value, tf.SparseTensor):
            found[key] = (value.indices.numpy().tolist(), value.values.numpy().tolist(),
                          value.dense_shape.numpy().tolist())
        elif isinstance(value, tf.RaggedTensor):
            found[key] = value.to_list()
        else:
            found[key] = value.numpy().tolist()
    return found


def _shapes(out):
    return {k: tf.TensorShape(v.indices.shape if isinstance(v, tf.SparseTensor)
                              else v.shape).as_list() for k, v in out.items()}


def test_parse_example_in_function_matches_eager_and_tf_shapes():
    eager = tf.io.parse_example(tf.constant(RECORDS), FEATURES)
    traced = tf.function(lambda s: tf.io.parse_example(s, FEATURES))
    got = traced(tf.constant(RECORDS))
    assert list(got) == ["tags", "label", "seq", "x", "ids"]   # TF's order
    assert _plain(got) == _plain(eager)
    assert _plain(got)["ids"] == [[0], [0, 1, 2]]
    # the graph parses the records of each call
    again = traced(tf.constant([_example(2)]))
    assert _plain(again) == _plain(tf.io.parse_example([_example(2)], FEATURES))
    # TF 2.21's static shapes (seen inside the trace)
    seen = []

    @tf.function
    def shapes(s):
        out = tf.io.parse_example(s, FEATURES)
        seen.append(_shapes(out))
        seen.append(out["tags"].dense_shape.shape.as_list())
        return out["x"]

    shapes.get_concrete_function(tf.TensorSpec([None], tf.string))
    assert seen == [{"tags": [None, 2], "label": [None], "seq": [None, None],
                     "x": [None, 2], "ids": [None, None]}, [2]]
    tf.function(shapes.python_function)(tf.constant(RECORDS))   # known batch: kept
    assert seen[2]["x"] == [2, 2] and seen[2]["ids"] == [2, None]


def test_parse_single_example_in_function():
    traced = tf.function(lambda s: tf.io.parse_single_example(s, FEATURES))
    got = traced(tf.constant(RECORDS[1]))
    assert _plain(got) == _plain(tf.io.parse_single_example(RECORDS[1], FEATURES))
    assert _plain(got)["x"] == [3.0, 4.0] and _plain(got)["ids"] == [0, 1, 2]
    seen = []
    tf.function(lambda s: seen.append(_shapes(tf.io.parse_single_example(
        s, FEATURES))) or s).get_concrete_function(tf.TensorSpec([], tf.string))
    assert seen == [{"tags": [None, 1], "label": [], "seq": [None], "x": [2],
                     "ids": [None]}]   # TF 2.21


def test_run_time_errors_and_rank_checks():
    traced = tf.function(lambda s: tf.io.parse_single_example(s, FEATURES))
    traced(tf.constant(RECORDS[0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="x.*required"):
        traced(tf.constant(tf.train.Example().SerializeToString()))
    batch = tf.function(lambda s: tf.io.parse_example(s, FEATURES))
    with pytest.raises(tf.errors.InvalidArgumentError):
        batch(tf.constant([RECORDS[0], b"zz\xff"]))
    with pytest.raises(ValueError, match="scalar"):
        traced(tf.constant(RECORDS))
    with pytest.raises(tf.errors.InvalidArgumentError, match="scalar or vector"):
        tf.io.parse_example(tf.constant([RECORDS]), FEATURES)
    # TF parses a scalar given to parse_example as one record
    one = tf.io.parse_example(tf.constant(RECORDS[1]), FEATURES)
    assert one["x"].numpy().tolist() == [3.0, 4.0]
    with pytest.raises(ValueError):   # a bad default fails when traced, not run
        tf.io.parse_example(RECORDS, {"x": tf.io.FixedLenFeature(
            [2], tf.float32, default_value=[1.0, 2.0, 3.0])})


def test_partitioned_ragged_feature_in_function():
    features = {"r": tf.io.RaggedFeature(
        tf.int64, value_key="ids",
        partitions=[tf.io.RaggedFeature.RowLengths("label")])}
    traced = tf.function(lambda s: tf.io.parse_example(s, features))
    out = traced(tf.constant([_example(2)]))["r"]
    assert out.to_list() == [[[0, 1]]]   # TF 2.21
    assert out.shape.as_list() == [1, None, None]


def test_parse_sequence_example_in_function():
    def seq(tokens):
        lists = {"tok": tf.train.FeatureList(feature=[
            tf.train.Feature(int64_list=tf.train.Int64List(value=t)) for t in tokens])}
        return tf.train.SequenceExample(
            context=tf.train.Features(feature={"n": tf.train.Feature(
                int64_list=tf.train.Int64List(value=[len(tokens)]))}),
            feature_lists=tf.train.FeatureLists(feature_list=lists)).SerializeToString()

    records = [seq([[1, 2], [3]]), seq([[4]])]
    context = {"n": tf.io.FixedLenFeature([], tf.int64)}
    lists = {"tok": tf.io.RaggedFeature(tf.int64),
             "dense": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)}

    def parse(s):
        return tf.io.parse_sequence_example(s, context, lists)

    eager = parse(tf.constant(records))
    got = tf.function(parse)(tf.constant(records))
    assert got[0]["n"].numpy().tolist() == [2, 1]
    assert got[1]["tok"].to_list() == eager[1]["tok"].to_list() == [[[1, 2], [3]],
                                                                   [[4]]]
    assert got[2]["dense"].numpy().tolist() == [0, 0]
    single = tf.function(lambda s: tf.io.parse_single_sequence_example(
        s, context, lists))(tf.constant(records[0]))
    assert single[1]["tok"].to_list() == [[1, 2], [3]]


def test_dataset_map_parsing_unchanged():
    ds = tf.data.Dataset.from_tensor_slices(RECORDS).map(
        lambda s: tf.io.parse_single_example(s, FEATURES))
    spec = ds.element_spec   # TF 2.21's
    assert spec["x"].shape.as_list() == [2] and spec["label"].shape.as_list() == []
    assert spec["tags"].shape.as_list() == [None]
    assert [e["tags"].values.numpy().tolist() for e in ds] == [[b"a"], [b"a"] * 3]
    batched = tf.data.Dataset.from_tensor_slices(RECORDS).batch(2).map(
        lambda s: tf.io.parse_example(s, FEATURES))
    assert batched.element_spec["x"].shape.as_list() == [None, 2]
    assert batched.element_spec["tags"].shape.as_list() == [None, None]
    assert _plain(next(iter(batched))) == _plain(tf.io.parse_example(RECORDS,
                                                                     FEATURES))


def test_decode_csv_in_function():
    def decode(lines):
        return tf.io.decode_csv(lines, [[0], [0.0], ["z"]])

    lines = tf.constant(["1,2.5,q", "3,,"])
    traced = tf.function(decode)
    got = [c.numpy().tolist() for c in traced(lines)]
    assert got == [c.numpy().tolist() for c in decode(lines)]
    assert got == [[1, 3], [2.5, 0.0], [b"q", b"z"]]
    out = traced.get_concrete_function(tf.TensorSpec([None], tf.string)) \
        .structured_outputs
    assert [o.shape.as_list() for o in out] == [[None]] * 3
    assert [o.dtype for o in out] == [tf.int32, tf.float32, tf.string]
    with pytest.raises(tf.errors.InvalidArgumentError):
        traced(tf.constant(["1,2"]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        traced(tf.constant(["x,2,3"]))


def test_write_file_is_an_effect_and_matching_files_reads_each_run(tmp_path):
    folder = str(tmp_path)

    @tf.function
    def write(path, data):
        tf.io.write_file(path, data)   # result unused: still runs, before the glob
        return tf.io.matching_files(folder + "/*.txt")

    assert write(tf.constant(folder + "/a.txt"), tf.constant("hello")).shape == [1]
    names = write(tf.constant(folder + "/b.txt"), tf.constant("world")).numpy()
    assert [os.path.basename(n.decode()) for n in names] == ["a.txt", "b.txt"]
    with open(folder + "/b.txt") as f:
        assert f.read() == "world"
    assert write.experimental_get_tracing_count() == 1
    out = write.get_concrete_function(tf.TensorSpec([], tf.string),
                                      tf.TensorSpec([], tf.string)).structured_outputs
    assert out.shape.as_list() == [None] and out.dtype == tf.string
    # TF's WriteFile creates missing folders
    tf.io.write_file(folder + "/new/sub/c.txt", "x")
    with open(folder + "/new/sub/c.txt") as f:
        assert f.read() == "x"
    several = tf.io.matching_files([folder + "/a*", folder + "/b*"]).numpy()
    assert len(several) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="filename"):
        tf.io.write_file(tf.constant([folder + "/d.txt"]), "x")
