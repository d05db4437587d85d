"""tf.lookup tables. OOV bucket ids and error types were recorded from TF 2.21."""

import numpy as np
import pytest

import dlframe as tf


def _l(t):
    return t.numpy().tolist()


def _table():
    init = tf.lookup.KeyValueTensorInitializer(["a", "b"], [1, 2])
    return tf.lookup.StaticHashTable(init, -1)


def test_static_hash_table():
    init = tf.lookup.KeyValueTensorInitializer(["a", "b"], [1, 2])
    assert init.key_dtype == tf.string and init.value_dtype == tf.int32
    table = tf.lookup.StaticHashTable(init, -1)
    out = table.lookup(tf.constant(["a", "c", "b"]))
    assert out.dtype == tf.int32 and _l(out) == [1, -1, 2]
    assert _l(table.lookup(tf.constant([["b"], ["zz"]]))) == [[2], [-1]]
    assert int(table[tf.constant("a")]) == 1
    size = table.size()
    assert size.dtype == tf.int64 and int(size) == 2
    keys, values = table.export()
    assert sorted(zip(_l(keys), _l(values))) == [(b"a", 1), (b"b", 2)]
    floats = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant([3, 7], tf.int64), [0.5, 1.5]),
        0.0)
    np.testing.assert_allclose(floats.lookup(tf.constant([7, 4], tf.int64)).numpy(),
                               [1.5, 0.0])
    with pytest.raises(TypeError, match="keys"):
        table.lookup(tf.constant([1]))
    with pytest.raises(tf.errors.FailedPreconditionError, match="same key"):
        tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(["a", "a"], [1, 2]), -1)
    ragged = table.lookup(tf.ragged.constant([["a"], ["b", "c"]]))
    assert ragged.to_list() == [[1], [2, -1]]


def test_static_vocabulary_table_oov_buckets_match_tf():
    init = tf.lookup.KeyValueTensorInitializer(["a", "b"], tf.constant([0, 1], tf.int64))
    table = tf.lookup.StaticVocabularyTable(init, 5)
    assert _l(table.lookup(tf.constant(["a", "x", "yy", "b"]))) == [0, 2, 4, 1]
    assert int(table.size()) == 7
    ints = tf.lookup.StaticVocabularyTable(tf.lookup.KeyValueTensorInitializer(
        tf.constant([7, 9], tf.int64), tf.constant([0, 1], tf.int64)), 5)
    assert _l(ints.lookup(tf.constant([7, 8, 100, 9], tf.int64))) == [0, 4, 2, 1]
    with pytest.raises(ValueError, match="num_oov_buckets"):
        tf.lookup.StaticVocabularyTable(init, 0)
    with pytest.raises(TypeError, match="value_dtype"):
        tf.lookup.StaticVocabularyTable(
            tf.lookup.KeyValueTensorInitializer(["a"], [0]), 1)


def test_text_file_initializer(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("emerson\nlake\npalmer\n")
    idx = tf.lookup.TextFileIndex
    assert (idx.WHOLE_LINE, idx.LINE_NUMBER) == (-2, -1)
    init = tf.lookup.TextFileInitializer(str(vocab), tf.string, idx.WHOLE_LINE,
                                         tf.int64, idx.LINE_NUMBER)
    table = tf.lookup.StaticHashTable(init, -1)
    assert _l(table.lookup(tf.constant(["lake", "x", "palmer"]))) == [1, -1, 2]
    cols = tmp_path / "cols.tsv"
    cols.write_text("a\t10\nb\t20\n")
    by_column = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(str(cols), tf.string, 0, tf.int64, 1), 0)
    assert _l(by_column.lookup(tf.constant(["b", "a", "q"]))) == [20, 10, 0]
    first_two = tf.lookup.StaticVocabularyTable(
        tf.lookup.TextFileInitializer(str(vocab), tf.string, idx.WHOLE_LINE, tf.int64,
                                      idx.LINE_NUMBER, vocab_size=2), 1)
    assert _l(first_two.lookup(tf.constant(["lake", "palmer"]))) == [1, 2]
    with pytest.raises(tf.errors.NotFoundError):
        tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
            str(tmp_path / "missing"), tf.string, -2, tf.int64, -1), -1)


def test_mutable_and_dense_hash_tables():
    m = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)
    m.insert(tf.constant(["a", "b"]), tf.constant([1, 2], tf.int64))
    assert _l(m.lookup(tf.constant(["a", "z"]))) == [1, -1] and int(m.size()) == 2
    m.remove(tf.constant(["a"]))
    keys, values = m.export()
    assert _l(keys) == [b"b"] and _l(values) == [2]
    vec = tf.lookup.experimental.MutableHashTable(tf.string, tf.float32, [0.0, 0.0])
    vec.insert(tf.constant(["a"]), tf.constant([[1.0, 2.0]]))
    assert _l(vec.lookup(tf.constant(["a", "b"]))) == [[1, 2], [0, 0]]
    d = tf.lookup.experimental.DenseHashTable(tf.int64, tf.int64, default_value=-1,
                                              empty_key=0, deleted_key=-1)
    d.insert(tf.constant([5, 6], tf.int64), tf.constant([50, 60], tf.int64))
    assert _l(d.lookup(tf.constant([5, 7], tf.int64))) == [50, -1]
    d.erase(tf.constant([5], tf.int64))
    assert int(d.size()) == 1
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty_key"):
        d.insert(tf.constant([0], tf.int64), tf.constant([1], tf.int64))


def test_tables_in_function_and_dataset_map():
    table = _table()

    @tf.function
    def look(x):
        return table.lookup(x) * 10
    assert _l(look(tf.constant(["b", "a"]))) == [20, 10]
    assert _l(look(tf.constant(["q", "b"]))) == [-10, 20]   # replayed, same shape

    counts = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, 0)

    @tf.function
    def bump(words):
        counts.insert(words, counts.lookup(words) + 1)
        return counts.lookup(words)
    bump(tf.constant(["x", "y"]))
    out = bump(tf.constant(["x", "y"]))   # the insert runs at every call
    assert _l(out) == [2, 2] and int(counts.size()) == 2

    ds = tf.data.Dataset.from_tensor_slices(["a", "b", "q"]).map(table.lookup)
    assert [int(v) for v in ds.as_numpy_iterator()] == [1, 2, -1]
