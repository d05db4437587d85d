"""String ops that text tutorials use: ragged results replayed by ``dlframe.function``,
ragged ``reduce_join``, RE2 rewrites, string element indexing and reading files in
a function. Expected values came from TensorFlow 2.21 where marked."""

import numpy as np
import pytest

import dlframe as tf


def _rows(rt):
    return rt.to_list() if hasattr(rt, "to_list") else rt.numpy().tolist()


def test_unicode_split_and_split_replay_on_new_inputs():
    @tf.function
    def chars(x):
        return tf.strings.unicode_split(x, "UTF-8").to_tensor()

    @tf.function
    def words(x):
        return tf.strings.split(x).to_tensor(default_value="-")

    assert chars(tf.constant(["ab", "c"])).numpy().tolist() == [[b"a", b"b"],
                                                                 [b"c", b""]]
    # same signature, other strings: the trace must not have baked the first values
    assert chars(tf.constant(["xyz", ""])).numpy().tolist() == [[b"x", b"y", b"z"],
                                                                [b"", b"", b""]]
    assert words(tf.constant(["a b c", "d"])).numpy().tolist() == [
        [b"a", b"b", b"c"], [b"d", b"-", b"-"]]
    assert words(tf.constant(["e", "f g"])).numpy().tolist() == [[b"e", b"-"],
                                                                 [b"f", b"g"]]


def test_split_keeps_leading_dims_and_scalars_stay_dense():
    rt = tf.strings.split(tf.constant([["a b", "c"], ["", "d e f"]]))
    assert rt.to_list() == [[[b"a", b"b"], [b"c"]], [[], [b"d", b"e", b"f"]]]
    dense = tf.strings.split("a b c")
    assert isinstance(dense, tf.Tensor)
    assert dense.numpy().tolist() == [b"a", b"b", b"c"]
    assert tf.strings.unicode_split(["h\u00e9", ""], "UTF-8").to_list() == [
        [b"h", "\u00e9".encode()], []]
    assert tf.strings.bytes_split(["h\u00e9"]).to_list() == [[b"h", b"\xc3", b"\xa9"]]
    decoded = tf.strings.unicode_decode(["h\u00e9", "x"], "UTF-8")
    assert decoded.to_list() == [[104, 233], [120]]
    assert decoded.flat_values.dtype == tf.int32


def test_reduce_join_of_ragged():
    rt = tf.strings.unicode_split(tf.constant(["abc", "de"]), "UTF-8")
    # from TF 2.21
    assert tf.strings.reduce_join(rt, axis=-1).numpy().tolist() == [b"abc", b"de"]
    assert tf.strings.reduce_join(rt, axis=1, separator="-").numpy().tolist() == [
        b"a-b-c", b"d-e"]
    assert tf.strings.reduce_join(rt).numpy() == b"abcde"
    assert tf.strings.reduce_join(rt, axis=1, keepdims=True).numpy().tolist() == [
        [b"abc"], [b"de"]]
    nested = tf.RaggedTensor.from_row_lengths(rt, [1, 1])
    assert tf.strings.reduce_join(nested, axis=-1).to_list() == [[b"abc"], [b"de"]]
    with pytest.raises(NotImplementedError, match="axis=0"):
        tf.strings.reduce_join(rt, axis=0)

    @tf.function
    def join(x):
        return tf.strings.reduce_join(tf.strings.unicode_split(x, "UTF-8"), axis=-1,
                                      separator=".")
    assert join(tf.constant(["ab", "c"])).numpy().tolist() == [b"a.b", b"c"]
    assert join(tf.constant(["xyz", ""])).numpy().tolist() == [b"x.y.z", b""]


def test_regex_replace_uses_re2_rewrites_and_code_points():
    # from TF 2.21 (the NMT tutorial's standardization)
    out = tf.strings.regex_replace("a.b?", "[.?!,\u00bf]", r" \0 ")
    assert out.numpy() == b"a . b ? "
    assert tf.strings.regex_replace("ab12", r"(\d)(\d)", r"\2\1\\x").numpy() == \
        b"ab21\\x"
    text = tf.strings.lower("\u00bfTodav\u00eda est\u00e1 en casa?")
    kept = tf.strings.regex_replace(text, "[^ a-z.?!,\u00bf]", "")
    assert kept.numpy().decode() == "\u00bftodava est en casa?"
    assert tf.strings.regex_full_match(["ab", "\u00e9"], r"\w+").numpy().tolist() == \
        [True, False]
    # TF 2.21: RE2 logs a rewrite naming a missing group and leaves the text as is
    assert tf.strings.regex_replace("ab", "(a)", r"\2").numpy() == b"ab"


def test_string_elements_and_numpy_unicode_are_bytes_tensors():
    t = tf.constant(["ab", "cd"])
    first = t[0]
    assert first.shape == () and first.numpy() == b"ab"
    assert tf.expand_dims(first, -1).numpy().tolist() == [b"ab"]
    labels = np.array(["up", "d\u00e9"])
    assert tf.constant(labels).numpy().tolist() == [b"up", "d\u00e9".encode()]
    assert tf.gather(labels, tf.constant([1])).numpy().tolist() == ["d\u00e9".encode()]


def test_read_file_inside_a_function_reads_each_call(tmp_path):
    for name, body in (("a.txt", b"first"), ("b.txt", b"second!")):
        (tmp_path / name).write_bytes(body)

    @tf.function
    def size(path):
        return tf.strings.length(tf.io.read_file(path))
    assert int(size(tf.constant(str(tmp_path / "a.txt")))) == 5
    assert int(size(tf.constant(str(tmp_path / "b.txt")))) == 7
    with pytest.raises(tf.errors.NotFoundError):
        tf.io.read_file(str(tmp_path / "missing.txt"))
