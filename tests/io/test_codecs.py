"""tf.io codecs: web-safe base64, decode_compressed, decode_json_example, sparse
(de)serialization, SparseFeature, match_filenames_once, write_graph (expected values
from TF 2.21)."""

import gzip
import zlib

import numpy as np
import pytest

import dlframe as tf


def test_base64_web_safe_round_trip():
    out = tf.io.encode_base64(tf.constant([b"hello?>", b"", b"a"]))
    np.testing.assert_array_equal(out.numpy(), [b"aGVsbG8_Pg", b"", b"YQ"])
    assert tf.io.encode_base64(b"hello?>", pad=True).numpy() == b"aGVsbG8_Pg=="
    data = tf.constant([[b"hi~~", bytes(range(256))]])
    back = tf.io.decode_base64(tf.io.encode_base64(data))
    np.testing.assert_array_equal(back.numpy(), data.numpy())
    assert tf.io.decode_base64(b"aGk=").numpy() == b"hi"
    assert tf.io.decode_base64(b"aGk").numpy() == b"hi"


def test_base64_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid character"):
        tf.io.decode_base64(b"a+/b")
    with pytest.raises(tf.errors.InvalidArgumentError, match="1 mod 4"):
        tf.io.decode_base64(b"a")
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.encode_base64(tf.constant([1]))


def test_base64_in_function_and_dataset():
    f = tf.function(lambda s: tf.io.decode_base64(tf.io.encode_base64(s)))
    assert f(tf.constant(b"xyz")).numpy() == b"xyz"
    ds = tf.data.Dataset.from_tensor_slices([b"a", b"bb"]).map(tf.io.encode_base64)
    assert list(ds.as_numpy_iterator()) == [b"YQ", b"YmI"]


def test_decode_compressed():
    out = tf.io.decode_compressed(tf.constant([zlib.compress(b"abc" * 5)]), "ZLIB")
    np.testing.assert_array_equal(out.numpy(), [b"abc" * 5])
    assert tf.io.decode_compressed(gzip.compress(b"xyz"), "GZIP").numpy() == b"xyz"
    assert tf.io.decode_compressed(b"raw", "").numpy() == b"raw"
    with pytest.raises(tf.errors.DataLossError):
        tf.io.decode_compressed(b"raw", "ZLIB")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Only ZLIB"):
        tf.io.decode_compressed(b"raw", "BZ2")


def test_decode_json_example_parses_like_a_binary_example():
    js = ('{"features": {"feature": {"a": {"int64List": {"value": ["1", 2]}}, '
          '"b": {"bytesList": {"value": ["aGk="]}}, '
          '"c": {"floatList": {"value": [1.5]}}}}}')
    serialized = tf.io.decode_json_example([js])
    parsed = tf.io.parse_example(serialized, {
        "a": tf.io.VarLenFeature(tf.int64), "b": tf.io.FixedLenFeature([], tf.string),
        "c": tf.io.FixedLenFeature([1], tf.float32)})
    np.testing.assert_array_equal(parsed["a"].values.numpy(), [1, 2])
    np.testing.assert_array_equal(parsed["b"].numpy(), [b"hi"])
    np.testing.assert_allclose(parsed["c"].numpy(), [[1.5]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="parsing JSON"):
        tf.io.decode_json_example("{bad")


def test_serialize_sparse_is_three_tensor_protos():
    st = tf.sparse.SparseTensor([[0, 1], [2, 0]], [1.5, 2.5], [3, 4])
    s = tf.io.serialize_sparse(st)
    assert s.shape == (3,) and s.dtype == tf.string
    assert [len(x) for x in s.numpy()] == [46, 18, 26]   # TF 2.21's byte lengths
    np.testing.assert_array_equal(tf.io.parse_tensor(s[0], tf.int64).numpy(),
                                  [[0, 1], [2, 0]])
    np.testing.assert_allclose(tf.io.parse_tensor(s[1], tf.float32).numpy(), [1.5, 2.5])
    np.testing.assert_array_equal(tf.io.parse_tensor(s[2], tf.int64).numpy(), [3, 4])
    with pytest.raises(ValueError, match="out_type"):
        tf.io.serialize_sparse(st, out_type=tf.int32)


def test_serialize_many_sparse_round_trip():
    st = tf.sparse.SparseTensor([[0, 1], [0, 3], [2, 0]], [1, 2, 3], [3, 4])
    m = tf.io.serialize_many_sparse(st)
    assert m.shape == (3, 3)
    np.testing.assert_array_equal(tf.io.parse_tensor(m[0, 0], tf.int64).numpy(),
                                  [[1], [3]])
    assert tf.io.parse_tensor(m[1, 0], tf.int64).shape == (0, 1)
    back = tf.io.deserialize_many_sparse(m, tf.int32)
    np.testing.assert_array_equal(back.indices.numpy(), st.indices.numpy())
    np.testing.assert_array_equal(back.values.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(back.dense_shape.numpy(), [3, 4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requested SparseTensor"):
        tf.io.deserialize_many_sparse(m, tf.float32)


def test_deserialize_many_sparse_stacks_serialize_sparse_rows():
    st = tf.sparse.SparseTensor([[0, 1], [2, 0]], [1.5, 2.5], [3, 4])
    s = tf.io.serialize_sparse(st)
    out = tf.io.deserialize_many_sparse(tf.stack([s, s]), tf.float32, rank=3)
    np.testing.assert_array_equal(out.indices.numpy(),
                                  [[0, 0, 1], [0, 2, 0], [1, 0, 1], [1, 2, 0]])
    np.testing.assert_array_equal(out.dense_shape.numpy(), [2, 3, 4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank"):
        tf.io.deserialize_many_sparse(tf.stack([s]), tf.float32, rank=2)


def _example(idx, val, extra=None):
    feats = {"idx": tf.train.Feature(int64_list=tf.train.Int64List(value=idx)),
             "val": tf.train.Feature(float_list=tf.train.FloatList(value=val))}
    if extra is not None:
        feats["idx2"] = tf.train.Feature(int64_list=tf.train.Int64List(value=extra))
    example = tf.train.Example(features=tf.train.Features(feature=feats))
    return example.SerializeToString()


def test_sparse_feature():
    ex, ex2 = _example([3, 1], [0.5, 0.25]), _example([0], [9.])
    out = tf.io.parse_example([ex, ex2], {"sp": tf.io.SparseFeature("idx", "val",
                                                                    tf.float32, 5)})
    sp = out["sp"]
    np.testing.assert_array_equal(sp.indices.numpy(), [[0, 1], [0, 3], [1, 0]])
    np.testing.assert_allclose(sp.values.numpy(), [0.25, 0.5, 9.])
    np.testing.assert_array_equal(sp.dense_shape.numpy(), [2, 5])
    one = tf.io.parse_single_example(ex, {"sp": tf.io.SparseFeature(
        "idx", "val", tf.float32, 5, already_sorted=True)})["sp"]
    np.testing.assert_array_equal(one.indices.numpy(), [[3], [1]])
    np.testing.assert_array_equal(one.dense_shape.numpy(), [5])
    multi = tf.io.parse_example([_example([3, 1], [0.5, 0.25], [2, 0])], {
        "sp": tf.io.SparseFeature(["idx", "idx2"], "val", tf.float32, [5, 4])})["sp"]
    np.testing.assert_array_equal(multi.indices.numpy(), [[0, 1, 0], [0, 3, 2]])
    np.testing.assert_allclose(multi.values.numpy(), [0.25, 0.5])
    np.testing.assert_array_equal(multi.dense_shape.numpy(), [1, 5, 4])
    assert repr(tf.io.SparseFeature("idx", "val", tf.float32, 5)).startswith(
        "SparseFeature(index_key='idx', value_key='val'")
    with pytest.raises(tf.errors.InvalidArgumentError, match="SparseFeature index"):
        tf.io.parse_single_example(_example([1, 2], [1.]), {
            "sp": tf.io.SparseFeature("idx", "val", tf.float32, 5)})


def test_match_filenames_once(tmp_path):
    for name in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / name).write_text("x")
    v = tf.io.match_filenames_once(str(tmp_path / "*.txt"))
    assert isinstance(v, tf.Variable) and not v.trainable
    assert [p.decode().rsplit("/", 1)[1] for p in v.numpy()] == ["a.txt", "b.txt"]
    both = tf.io.match_filenames_once([str(tmp_path / "*.txt"),
                                       str(tmp_path / "*.csv")])
    assert len(both.numpy()) == 3
    assert tf.io.match_filenames_once(str(tmp_path / "zz" / "*.txt")).shape == (0,)


def test_write_graph_explains_that_there_is_no_graph_def(tmp_path):
    with pytest.raises(NotImplementedError, match="GraphDef"):
        tf.io.write_graph(object(), str(tmp_path), "g.pbtxt")
