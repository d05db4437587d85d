"""tf.strings unicode_*_with_offsets, unicode_transcode, unicode_script and
unsorted_segment_join (expected values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf

WORDS = ["héllo", "G\xfc€😀", ""]


def test_unicode_decode_with_offsets():
    cp, off = tf.strings.unicode_decode_with_offsets(tf.constant(WORDS), "UTF-8")
    assert cp.to_list() == [[104, 233, 108, 108, 111], [71, 252, 8364, 128512], []]
    assert off.to_list() == [[0, 1, 3, 4, 5], [0, 1, 3, 6], []]
    assert cp.dtype == tf.int32 and off.dtype == tf.int64
    cp, off = tf.strings.unicode_decode_with_offsets(tf.constant("a€"), "UTF-8")
    np.testing.assert_array_equal(cp.numpy(), [97, 8364])
    np.testing.assert_array_equal(off.numpy(), [0, 1])
    cp, off = tf.strings.unicode_decode_with_offsets(
        tf.constant("a€".encode("utf-16-be")), "UTF-16-BE")
    np.testing.assert_array_equal(cp.numpy(), [97, 8364])
    np.testing.assert_array_equal(off.numpy(), [0, 2])


def test_unicode_decode_with_offsets_bad_bytes():
    cp, off = tf.strings.unicode_decode_with_offsets(tf.constant(b"a\xffb"), "UTF-8")
    np.testing.assert_array_equal(cp.numpy(), [97, 65533, 98])
    np.testing.assert_array_equal(off.numpy(), [0, 1, 2])
    cp, _ = tf.strings.unicode_decode_with_offsets(tf.constant(b"a\xffb"), "UTF-8",
                                                    errors="ignore")
    np.testing.assert_array_equal(cp.numpy(), [97, 98])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.strings.unicode_decode_with_offsets(tf.constant(b"a\xffb"), "UTF-8",
                                               errors="strict")


def test_unicode_split_with_offsets():
    chars, off = tf.strings.unicode_split_with_offsets(tf.constant(WORDS), "UTF-8")
    assert chars.to_list() == [
        [b"h", b"\xc3\xa9", b"l", b"l", b"o"],
        [b"G", b"\xc3\xbc", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80"], []]
    assert off.to_list() == [[0, 1, 3, 4, 5], [0, 1, 3, 6], []]


def test_unicode_transcode():
    out = tf.strings.unicode_transcode(["Hello", "\xe9"], "UTF-8", "UTF-16-BE")
    np.testing.assert_array_equal(out.numpy(),
                                  [b"\x00H\x00e\x00l\x00l\x00o", b"\x00\xe9"])
    assert tf.strings.unicode_transcode(["Ab"], "UTF-8", "UTF-32-BE").numpy()[0] == \
        b"\x00\x00\x00A\x00\x00\x00b"
    bad = [b"\xffab"]
    assert tf.strings.unicode_transcode(bad, "UTF-8", "UTF-8").numpy()[0] == \
        b"\xef\xbf\xbdab"
    assert tf.strings.unicode_transcode(bad, "UTF-8", "UTF-8",
                                        errors="ignore").numpy()[0] == b"ab"
    assert tf.strings.unicode_transcode(bad, "UTF-8", "UTF-8",
                                        replacement_char=63).numpy()[0] == b"?ab"
    assert tf.strings.unicode_transcode(["a\x01b"], "UTF-8", "UTF-8",
                                        replace_control_characters=True).numpy()[0] == \
        b"a\xef\xbf\xbdb"
    assert tf.strings.unicode_transcode(["\xe9"], "ISO-8859-1", "UTF-8").numpy()[0] == \
        b"\xc3\x83\xc2\xa9"
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.strings.unicode_transcode(bad, "UTF-8", "UTF-8", errors="strict")
    f = tf.function(lambda s: tf.strings.unicode_transcode(s, "UTF-8", "UTF-16-BE"))
    assert f(tf.constant(["é"])).numpy()[0] == b"\x00\xe9"


def test_unicode_script():
    codes = [1, 65, 0x3b1, 0x416, 0x5d0, 0x627, 0x915, 0x4e00, 0x3042, 0x30a2, 0xac00,
             0xe01, 0x10a0, 0x531, 0x30, 0x20, 0x300, -1, 0x110000, 0x1F600, 0xd800,
             0x2e80, 0x0e81, 0x1000, 0x1200, 0x13a0, 0x0b85, 0x0c05, 0x0c85, 0x0d05,
             0x0a05, 0x0a85, 0x0b05, 0x0980, 0x0d85, 0x1780, 0x3105, 0x1800, 0x0f00,
             0x0700, 0x0780]
    # ICU UScriptCode values TF 2.21 returns for these code points
    expect = [0, 25, 14, 8, 19, 2, 10, 17, 20, 22, 18, 38, 12, 3, 0, 0, 1, -1, -1, 0,
              103, 17, 24, 28, 11, 6, 35, 36, 21, 26, 16, 15, 31, 4, 33, 23, 5, 27, 39,
              34, 37]
    out = tf.strings.unicode_script(tf.constant(codes, tf.int32))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), expect)
    cp = tf.strings.unicode_decode(tf.constant("Añ中"), "UTF-8")
    np.testing.assert_array_equal(tf.strings.unicode_script(cp).numpy(), [25, 25, 17])
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32"):
        tf.strings.unicode_script(tf.constant([1.0]))


def test_unsorted_segment_join():
    out = tf.strings.unsorted_segment_join(["a", "b", "c", "d"], [1, 0, 1, 3], 5,
                                           separator="-")
    np.testing.assert_array_equal(out.numpy(), [b"b", b"a-c", b"", b"d", b""])
    out = tf.strings.unsorted_segment_join([["a", "b"], ["c", "d"]], [1, 0], 2)
    np.testing.assert_array_equal(out.numpy(), [[b"c", b"d"], [b"a", b"b"]])
    out = tf.strings.unsorted_segment_join([["a", "b"], ["c", "d"]],
                                           [[0, 1], [0, 0]], 2, separator=":")
    np.testing.assert_array_equal(out.numpy(), [b"a:c:d", b"b"])
    out = tf.strings.unsorted_segment_join(["a", "b"], [-1, 0], 1)
    np.testing.assert_array_equal(out.numpy(), [b"b"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_segments"):
        tf.strings.unsorted_segment_join(["a"], [5], 2)
    f = tf.function(
        lambda s, i: tf.strings.unsorted_segment_join(s, i, 2, separator="+"))
    np.testing.assert_array_equal(f(tf.constant(["x", "y", "z"]),
                                    tf.constant([1, 1, 0])).numpy(), [b"z", b"x+y"])
