"""FixedLenSequenceFeature defaults pad batches of Examples as TF 2.21 does."""

import numpy as np

import dlframe as tf


def _example(tags, count):
    feature = {
        "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=tags)),
        "n": tf.train.Feature(int64_list=tf.train.Int64List(value=[count] * count)),
    }
    return tf.train.Example(
        features=tf.train.Features(feature=feature)).SerializeToString()


def test_string_default_pads_with_bytes():
    records = [_example([b"a"], 1), _example([b"a", b"b"], 2), _example([], 3)]
    got = tf.io.parse_example(records, {
        "tags": tf.io.FixedLenSequenceFeature([], tf.string, allow_missing=True,
                                              default_value="?"),
        "n": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True,
                                           default_value=tf.constant(-1, tf.int64)),
    })
    # TF: every value is bytes, the str default included
    assert got["tags"].numpy().tolist() == [[b"a", b"?"], [b"a", b"b"], [b"?", b"?"]]
    np.testing.assert_array_equal(got["n"].numpy(),
                                  [[1, -1, -1], [2, 2, -1], [3, 3, 3]])
    joined = tf.strings.reduce_join(got["tags"], axis=1)
    assert joined.numpy().tolist() == [b"a?", b"ab", b"??"]
