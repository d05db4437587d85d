"""Regression tests for differences found by running TF2 guide-style tf.data /
tf.io / tf.strings / ragged / sparse programs under TensorFlow 2.21 and dlframe."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

pytest.importorskip("google.protobuf")


def _example(i):
    def ints(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=v))

    def floats(v):
        return tf.train.Feature(float_list=tf.train.FloatList(value=v))
    feature = {"tags": ints(list(range(i))), "idx": ints([i % 3]),
               "val": floats([i * 1.5]), "rt": ints(list(range(i, 2 * i))),
               "seq": floats([float(j) for j in range(2 * i)])}
    return tf.train.Example(features=tf.train.Features(
        feature=feature)).SerializeToString()


SPEC = {"tags": tf.io.VarLenFeature(tf.int64),
        "sp": tf.io.SparseFeature(index_key="idx", value_key="val", dtype=tf.float32,
                                  size=3),
        "rag": tf.io.RaggedFeature(tf.int64, value_key="rt"),
        "seq": tf.io.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)}


@pytest.fixture
def records():
    return tf.data.Dataset.from_tensor_slices([_example(i) for i in range(4)])


# ---------------------------------------------------------------- parsing in map
def test_parse_example_in_map_has_tf_static_specs(records):
    ds = records.batch(4).map(lambda r: tf.io.parse_example(r, SPEC))
    spec = ds.element_spec
    # TF 2.21: sizes that follow the data stay unknown, SparseFeature sizes are known
    assert spec["tags"] == tf.SparseTensorSpec([None, None], tf.int64)
    assert spec["sp"] == tf.SparseTensorSpec([None, 3], tf.float32)
    assert spec["rag"] == tf.RaggedTensorSpec([None, None], tf.int64, 1, tf.int32)
    assert spec["seq"] == tf.TensorSpec([None, None, 2], tf.float32)
    (batch,) = list(ds)
    assert batch["tags"].dense_shape.numpy().tolist() == [4, 3]
    np.testing.assert_array_equal(tf.sparse.to_dense(batch["sp"]).numpy(),
                                  [[0, 0, 0], [0, 1.5, 0], [0, 0, 3], [4.5, 0, 0]])
    assert batch["rag"].to_list() == [[], [1], [2, 3], [3, 4, 5]]
    assert batch["seq"].shape == (4, 3, 2)


def test_parse_single_example_in_map_has_tf_static_specs(records):
    spec = records.map(lambda r: tf.io.parse_single_example(r, SPEC)).element_spec
    assert spec["tags"] == tf.SparseTensorSpec([None], tf.int64)
    assert spec["sp"] == tf.SparseTensorSpec([3], tf.float32)
    assert spec["rag"] == tf.TensorSpec([None], tf.int64)
    assert spec["seq"] == tf.TensorSpec([None, 2], tf.float32)


def test_parse_rejects_intersecting_keys_and_required_sequences():
    data = _example(2)
    with pytest.raises(ValueError, match="Ragged and sparse keys must not intersect"):
        tf.io.parse_single_example(data, {
            "tags": tf.io.VarLenFeature(tf.int64),
            "r": tf.io.RaggedFeature(tf.int64, value_key="tags")})
    with pytest.raises(ValueError, match="Dense and sparse keys"):
        tf.io.parse_single_example(data, {
            "idx": tf.io.FixedLenFeature([], tf.int64),
            "sp": tf.io.SparseFeature("idx", "val", tf.float32, 3)})
    with pytest.raises(ValueError, match="allow_missing"):
        tf.io.parse_single_example(data, {
            "seq": tf.io.FixedLenSequenceFeature([2], tf.float32)})
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.io.parse_single_example(data, {"idx": tf.io.FixedLenFeature([], tf.int32)})
    # two sparse configs may share a key (TF allows it)
    out = tf.io.parse_single_example(data, {
        "idx": tf.io.VarLenFeature(tf.int64),
        "sp": tf.io.SparseFeature("idx", "val", tf.float32, 3)})
    assert out["idx"].values.numpy().tolist() == [2]


# ---------------------------------------------------------------- strings
def test_substr_with_tensor_positions_and_lengths():
    ds = tf.data.Dataset.from_tensor_slices(["hello!", "ab!", "x!"])
    ds = ds.map(lambda s: tf.strings.substr(s, 0, tf.strings.length(s) - 1))
    assert list(ds.as_numpy_iterator()) == [b"hello", b"ab", b"x"]
    f = tf.function(lambda s, n: tf.strings.substr(s, n - 1, n, unit="UTF8_CHAR"))
    words = tf.constant(["héllo", "wörld"])
    eager = tf.strings.substr(words, [1, 2], [2, 3], unit="UTF8_CHAR")
    assert f(words, tf.constant([2, 3])).numpy().tolist() == eager.numpy().tolist() \
        == ["él".encode(), b"rld"]
    out = tf.strings.substr(tf.constant([["abc", "defg"]]), tf.constant([[1, 2]]),
                            tf.constant([[5, 1]]))
    assert out.numpy().tolist() == [[b"bc", b"f"]]
    with pytest.raises(InvalidArgumentError, match="at index 1"):
        tf.strings.substr(tf.constant(["abcdef", "ab"]), [0, 5], [1, 1])


def test_to_hash_bucket_is_tf_legacy_hash():
    words = ["", "a", "abcdefg", "abcdefgh", "abcdefghi",
             "hello world, this is long text", "héllo"]
    # TF 2.21 values of tf.strings.to_hash_bucket (MurmurHash64A, TF's seed)
    assert tf.strings.to_hash_bucket(tf.constant(words), 2**62).numpy().tolist() == [
        105434511174508091, 2996632905371535868, 2960345911509200448,
        3429851175771700306, 2154505082538699157, 4121254404794708475,
        1575079946049097997]
    assert tf.strings.to_hash_bucket(tf.constant(words), 1000).numpy().tolist() == [
        899, 868, 256, 306, 61, 283, 997]


# ---------------------------------------------------------------- ragged / sparse
def test_ragged_stack_of_dense_rows():
    rt = tf.ragged.stack([tf.constant([1, 2]), tf.constant([3])])
    assert rt.to_list() == [[1, 2], [3]] and rt.row_splits.dtype == tf.int32
    rt = tf.ragged.stack([tf.ones([2, 2]), tf.ones([1, 2])])
    assert rt.ragged_rank == 2 and rt.to_list() == [[[1, 1], [1, 1]], [[1, 1]]]


def test_ragged_from_sparse_requires_right_ragged():
    rt = tf.RaggedTensor.from_sparse(tf.sparse.from_dense([[1, 2], [3, 0], [0, 0]]))
    assert rt.to_list() == [[1, 2], [3], []]
    with pytest.raises(InvalidArgumentError, match="right-ragged"):
        tf.RaggedTensor.from_sparse(tf.sparse.from_dense([[1, 0], [0, 2]]))


def test_is_tensor_of_composites():
    assert tf.is_tensor(tf.sparse.from_dense([[1]]))
    assert tf.is_tensor(tf.ragged.constant([[1], []]))
    assert not tf.is_tensor(tf.data.Dataset.range(2)) and not tf.is_tensor([1])


def test_sparse_to_dense_requires_ordered_indices():
    st = tf.sparse.SparseTensor([[0, 3], [2, 4], [1, 0]], [10, 20, 30], [3, 5])
    with pytest.raises(InvalidArgumentError, match="out of order"):
        tf.sparse.to_dense(st)
    dense = tf.sparse.to_dense(tf.sparse.reorder(st)).numpy()
    expected = np.zeros((3, 5), np.int32)
    expected[0, 3], expected[2, 4], expected[1, 0] = 10, 20, 30
    np.testing.assert_array_equal(dense, expected)


# ---------------------------------------------------------------- batching
def test_padded_batch_of_nested_string_scalars():
    def gen():
        for i in range(3):
            yield {"x": np.arange(i, dtype=np.float32), "meta": (i, f"n{i}")}
    sig = {"x": tf.TensorSpec([None], tf.float32),
           "meta": (tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.string))}
    ds = tf.data.Dataset.from_generator(gen, output_signature=sig).padded_batch(
        2, padding_values={"x": -1.0, "meta": (0, "")})
    first, second = list(ds)
    assert first["meta"][1].numpy().tolist() == [b"n0", b"n1"]
    assert second["meta"][1].numpy().tolist() == [b"n2"]
    assert first["x"].numpy().tolist() == [[-1.0], [0.0]]
