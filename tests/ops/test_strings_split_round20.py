"""tf.strings.split with an empty ``sep`` splits on whitespace runs, as ``None`` does."""

import dlframe as tf


def test_empty_sep_splits_on_whitespace_like_tf():
    # expected values from TF 2.21
    rows = tf.strings.split(tf.constant(["a  b ", " c"]), "")
    assert rows.to_list() == [[b"a", b"b"], [b"c"]]
    assert tf.strings.split("a  b", sep="", maxsplit=1).numpy().tolist() == [b"a", b"b"]
    assert tf.function(lambda s: tf.strings.split(s, sep=""))(
        tf.constant("x y")).numpy().tolist() == [b"x", b"y"]
