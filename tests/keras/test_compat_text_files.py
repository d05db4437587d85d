"""A TF2 text-files program: text_dataset_from_directory over .txt files the test
writes, split_dataset, pad_sequences/to_categorical and the tf.strings / tf.io.decode_csv
basics of text pipelines. Expected values were recorded from TensorFlow 2.21."""

import os

import numpy as np
import pytest

import dlframe as tf

DOCS = {"pos": ["good movie", "great film", "loved it", "nice one"],
        "neg": ["bad movie", "awful", "hated it"]}


@pytest.fixture
def text_dir(tmp_path):
    for cls, texts in DOCS.items():
        os.makedirs(tmp_path / cls)
        for i, text in enumerate(texts):
            (tmp_path / cls / f"{i}.txt").write_text(text)
    (tmp_path / "pos" / "skip.md").write_text("not a .txt file")
    return str(tmp_path)


def test_text_dataset_from_directory_matches_tf(text_dir, capsys):
    ds = tf.keras.utils.text_dataset_from_directory(text_dir, batch_size=2, shuffle=False)
    assert "Found 7 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"]
    assert ds.element_spec == (tf.TensorSpec([None], tf.string),
                               tf.TensorSpec([None], tf.int32))
    assert [(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds] == [
        ([b"bad movie", b"awful"], [0, 0]), ([b"hated it", b"good movie"], [0, 1]),
        ([b"great film", b"loved it"], [1, 1]), ([b"nice one"], [1])]

    train, val = tf.keras.utils.text_dataset_from_directory(
        text_dir, batch_size=None, validation_split=0.3, subset="both", seed=42)
    assert (int(train.cardinality()), int(val.cardinality())) == (5, 2)
    assert train.element_spec == (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32))
    texts = sorted(x for x, _ in train.as_numpy_iterator()) + \
        sorted(x for x, _ in val.as_numpy_iterator())
    assert sorted(texts) == sorted(t.encode() for ts in DOCS.values() for t in ts)

    binary = tf.keras.utils.text_dataset_from_directory(
        text_dir, label_mode="binary", class_names=["neg", "pos"], shuffle=False,
        batch_size=8, max_length=4, verbose=False)
    x, y = next(iter(binary))
    assert x.numpy().tolist() == [b"bad ", b"awfu", b"hate", b"good", b"grea", b"love",
                                  b"nice"]
    assert y.dtype == tf.float32 and y.numpy().ravel().tolist() == [0, 0, 0, 1, 1, 1, 1]

    explicit = tf.keras.utils.text_dataset_from_directory(
        text_dir, labels=[1, 0, 1, 0, 1, 0, 1], shuffle=False, batch_size=10, verbose=False)
    assert [y.numpy().tolist() for _, y in explicit] == [[1, 0, 1, 0, 1, 0, 1]]
    with pytest.raises(ValueError, match="`labels` to match the number of files"):
        tf.keras.utils.text_dataset_from_directory(text_dir, labels=[0, 1], verbose=False)
    with pytest.raises(ValueError, match="`label_mode` argument must be one of"):
        tf.keras.utils.text_dataset_from_directory(text_dir, label_mode="sparse")


def test_split_dataset_matches_tf():
    left, right = tf.keras.utils.split_dataset(tf.data.Dataset.range(10), left_size=0.8)
    assert list(left.as_numpy_iterator()) == list(range(8))
    assert list(right.as_numpy_iterator()) == [8, 9]
    left, right = tf.keras.utils.split_dataset(np.arange(10), right_size=3, shuffle=True,
                                               seed=1)
    # the same seed shuffles the samples as Keras does (Python's random.Random)
    assert list(left.as_numpy_iterator()) == [6, 8, 9, 7, 5, 3, 0]
    assert list(right.as_numpy_iterator()) == [4, 1, 2]
    _, right = tf.keras.utils.split_dataset((np.arange(6), np.arange(6) * 10), left_size=4)
    assert list(right.as_numpy_iterator()) == [(4, 40), (5, 50)]
    batched = tf.data.Dataset.range(10).batch(3)
    left, right = tf.keras.utils.split_dataset(batched, left_size=6)
    assert [x.tolist() for x in left.as_numpy_iterator()] == [[0, 1, 2], [3, 4, 5]]
    assert [x.tolist() for x in right.as_numpy_iterator()] == [[6, 7, 8], [9]]
    with pytest.raises(ValueError, match="`left_size` should be either a positive"):
        tf.keras.utils.split_dataset(np.arange(10), left_size=1.5)
    with pytest.raises(ValueError, match="At least one of the `left_size` or `right_size`"):
        tf.keras.utils.split_dataset(np.arange(10))


def test_pad_sequences_and_to_categorical():
    seqs = [[1, 2, 3], [4, 5], [6]]
    padded = tf.keras.utils.pad_sequences(seqs)
    assert padded.dtype == np.int32
    assert padded.tolist() == [[1, 2, 3], [0, 4, 5], [0, 0, 6]]
    post = tf.keras.preprocessing.sequence.pad_sequences(seqs, maxlen=2, padding="post",
                                                         truncating="post", value=-1)
    assert post.tolist() == [[1, 2], [4, 5], [6, -1]]
    floats = tf.keras.utils.pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32")
    assert floats.tolist() == [[0.0, 0.5, 1.5]]
    words = tf.keras.utils.pad_sequences([["a", "b"]], maxlen=3, dtype=object, value="x")
    assert words.tolist() == [["x", "a", "b"]]
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        tf.keras.utils.pad_sequences(seqs, padding="middle")
    onehot = tf.keras.utils.to_categorical([0, 2, 1], num_classes=4)
    assert isinstance(onehot, np.ndarray)
    assert onehot.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert tf.keras.utils.to_categorical(np.array([[1], [0]])).tolist() == [[0, 1], [1, 0]]


def test_strings_basics_match_tf():
    s = tf.constant(["Hello World", "tf.data is Fun"])
    assert tf.strings.lower(s).numpy().tolist() == [b"hello world", b"tf.data is fun"]
    words = tf.strings.split(s)
    assert words.to_list() == [[b"Hello", b"World"], [b"tf.data", b"is", b"Fun"]]
    assert words.to_tensor(default_value="<pad>").numpy().tolist() == [
        [b"Hello", b"World", b"<pad>"], [b"tf.data", b"is", b"Fun"]]
    assert tf.strings.length(s).numpy().tolist() == [11, 14]
    assert tf.strings.regex_replace(s, "[aeiou]", "_").numpy().tolist() == [
        b"H_ll_ W_rld", b"tf.d_t_ _s F_n"]
    assert tf.strings.reduce_join(s, separator="|").numpy() == b"Hello World|tf.data is Fun"
    assert tf.strings.substr(s, 0, 5).numpy().tolist() == [b"Hello", b"tf.da"]
    assert tf.strings.to_hash_bucket_fast(s, 10).numpy().tolist() == [1, 2]
    assert tf.strings.ngrams(tf.constant(["a", "b", "c"]), 2).numpy().tolist() == [
        b"a b", b"b c"]
    assert tf.strings.ngrams(tf.constant([["a", "b", "c"], ["d", "e", "f"]]), 2) \
        .numpy().tolist() == [[b"a b", b"b c"], [b"d e", b"e f"]]
    assert tf.strings.ngrams(tf.constant(["a", "b", "c"]), [1, 2], separator="_") \
        .numpy().tolist() == [b"a", b"b", b"c", b"a_b", b"b_c"]
    assert tf.strings.ngrams(tf.constant(["a", "b", "c"]), 3, pad_values="#") \
        .numpy().tolist() == [b"# # a", b"# a b", b"a b c", b"b c #", b"c # #"]
    assert tf.strings.ngrams(tf.constant(["a"]), 3, preserve_short_sequences=True) \
        .numpy().tolist() == [b"a"]
    assert tf.strings.ngrams(tf.strings.split(["a b c", "d e"]), 2).to_list() == [
        [b"a b", b"b c"], [b"d e"]]
    assert tf.strings.bytes_split("abc").numpy().tolist() == [b"a", b"b", b"c"]
    assert tf.strings.format("x={} y={} z={}", (1.5, tf.constant([1, 2, 3, 4, 5, 6, 7]),
                                                "hi")).numpy() == \
        b'x=1.5 y=[1 2 3 ... 5 6 7] z="hi"'
    assert tf.strings.format("{}", tf.constant([[1.5, 2.0], [3.0, 4.0]])).numpy() == \
        b"[[1.5 2]\n [3 4]]"
    assert tf.strings.unicode_decode("h\u00e9llo", "UTF-8").numpy().tolist() == [
        104, 233, 108, 108, 111]
    assert tf.strings.unicode_encode([[104, 233], [120, 121]], "UTF-8").numpy().tolist() \
        == ["h\u00e9".encode(), b"xy"]
    split = tf.data.Dataset.from_tensor_slices(["a,b", "c,d"]).map(
        lambda x: tf.strings.split(x, ","))
    assert [v.tolist() for v in split.as_numpy_iterator()] == [[b"a", b"b"], [b"c", b"d"]]


def test_decode_csv_in_a_map():
    lines = tf.data.Dataset.from_tensor_slices(["3,1.5,x", "4,,y"])
    rows = lines.map(lambda line: tf.io.decode_csv(line, record_defaults=[0, 0.0, ""]))
    assert list(rows.as_numpy_iterator()) == [(3, 1.5, b"x"), (4, 0.0, b"y")]
    cols = tf.io.decode_csv(tf.constant(["1,a", "2,b"]), record_defaults=[[0], [""]])
    assert cols[0].dtype == tf.int32 and cols[0].numpy().tolist() == [1, 2]
    assert cols[1].numpy().tolist() == [b"a", b"b"]
    required = tf.io.decode_csv(["5"], record_defaults=[tf.constant([], tf.int64)])
    assert required[0].dtype == tf.int64
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 3 fields"):
        tf.io.decode_csv(["1,2"], record_defaults=[0, 0, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="is required but missing"):
        tf.io.decode_csv([","], record_defaults=[[0], tf.constant([], tf.float32)])
