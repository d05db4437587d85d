"""tf.strings ops. Expected values were recorded from TensorFlow 2.21 for the same
inputs (hashes included: FarmHash fingerprint64 and SipHash-2-4 match TF bit for bit)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops.names import unwrap
from dlframe.ops import strings as string_ops

S = tf.strings


def _l(t):
    v = t.numpy()
    return v.tolist() if hasattr(v, "tolist") else v


def test_case_strip_length():
    assert _l(S.lower(["HeLLo", "ÄB"])) == [b"hello", b"\xc3\x84b"]  # ASCII only
    assert _l(S.lower("ÄB", encoding="utf-8")) == "äb".encode()
    assert _l(S.upper(["abc"])) == [b"ABC"]
    assert _l(S.strip(["  a b \n", "\t"])) == [b"a b", b""]
    n = S.length(["abc", "héllo"])
    assert n.dtype == tf.int32 and _l(n) == [3, 6]
    assert _l(S.length(["héllo"], unit="UTF8_CHAR")) == [5]
    with pytest.raises(tf.errors.InvalidArgumentError):
        S.lower(tf.constant([1, 2]))


def test_split_dense_and_ragged():
    assert _l(S.split("a b  c")) == [b"a", b"b", b"c"]
    assert _l(S.split("a,b,,c", ",")) == [b"a", b"b", b"", b"c"]
    assert _l(S.split("a b c d", maxsplit=2)) == [b"a", b"b", b"c d"]
    r = S.split(["a b", "c d e", ""])
    assert r.to_list() == [[b"a", b"b"], [b"c", b"d", b"e"], []]
    assert _l(r.row_lengths()) == [2, 3, 0]
    assert _l(r.to_tensor()) == [[b"a", b"b", b""], [b"c", b"d", b"e"], [b"", b"", b""]]
    assert _l(r[1]) == [b"c", b"d", b"e"] and int(r.nrows()) == 3
    assert _l(r.flat_values) == [b"a", b"b", b"c", b"d", b"e"]
    assert S.split([["a b"], ["c"]]).to_list() == [[[b"a", b"b"]], [[b"c"]]]
    assert _l(S.unicode_split("héllo", "UTF-8")) == [b"h", "é".encode(), b"l", b"l", b"o"]
    assert S.unicode_split(["ab", "c"], "UTF-8").to_list() == [[b"a", b"b"], [b"c"]]


def test_regex_join_substr():
    assert _l(S.regex_replace(["Hello, World!", "a.b"], r"[[:punct:]]", "")) == [
        b"Hello World", b"ab"]
    assert _l(S.regex_replace("aaa", "a", "b", replace_global=False)) == b"baa"
    assert _l(S.regex_replace("abc", "(b)", r"<\1>")) == b"a<b>c"
    assert _l(S.regex_full_match(["abc", "abd"], "ab[c]")) == [True, False]
    assert _l(S.join(["a", "b"], separator="-")) == b"a-b"
    assert _l(S.join([["a", "b"], ["c", "d"]])) == [b"ac", b"bd"]
    x = [["a", "b"], ["c", "d"]]
    assert _l(S.reduce_join(x)) == b"abcd"
    assert _l(S.reduce_join(x, axis=1, separator=" ")) == [b"a b", b"c d"]
    assert _l(S.reduce_join(x, axis=0, keepdims=True)) == [[b"ac", b"bd"]]
    assert _l(S.substr(["hello", "world"], 1, 3)) == [b"ell", b"orl"]
    assert _l(S.substr("héllo", 1, 2, unit="UTF8_CHAR")) == "él".encode()
    assert _l(S.substr("hello", -3, 2)) == b"ll"
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        S.substr("hi", 5, 1)


def test_numbers_and_formatting():
    assert _l(S.as_string([3.5, -1e-7, 123456789.0])) == [b"3.500000", b"-0.000000",
                                                          b"123456792.000000"]
    assert _l(S.as_string([1, -2])) == [b"1", b"-2"]
    assert _l(S.as_string([True, False])) == [b"true", b"false"]
    assert _l(S.as_string(np.float64(2.25), precision=1)) == b"2.2"
    assert _l(S.as_string(3.14159, scientific=True)) == b"3.141590e+00"
    assert _l(S.as_string(3.0, shortest=True)) == b"3"
    assert _l(S.as_string(7, width=4, fill="0")) == b"0007"
    assert _l(S.as_string(7, width=4)) == b"   7"
    out = S.to_number(["1.5", "-2", "1e3", " 4"])
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [1.5, -2, 1000, 4])
    out = S.to_number(["12", "-3"], out_type=tf.int32)
    assert out.dtype == tf.int32 and _l(out) == [12, -3]
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not correctly convert"):
        S.to_number(["abc"])
    with pytest.raises(tf.errors.InvalidArgumentError):
        S.to_number(["1.5"], out_type=tf.int64)


def test_hashing_matches_tf():
    words = [b"", b"a", b"ab", b"abc", b"abcd", b"hello world", b"x" * 16, b"y" * 17,
             b"The quick brown fox jumps", b"z" * 33, b"q" * 64, b"w" * 65,
             bytes(range(200)), "héllo".encode()]
    expect = [1936946117179621455, 3694432073954588131, 3066228220894225694,
              2640714258260161385, 1897425971756105985, 1769834696496558107,
              3320895591121647644, 426471879119003573, 1503448500679765431,
              1983000239170337647, 3227602484106814583, 3272011567211491968,
              525935771297148851, 3262255192197256439]
    out = S.to_hash_bucket_fast(tf.constant(words), 2 ** 62)
    assert out.dtype == tf.int64 and _l(out) == expect
    assert _l(S.to_hash_bucket_fast(["a", "b"], 10)) == [9, 2]
    assert _l(S.to_hash_bucket_strong(["a", "b", "hello world long string"], 1000,
                                      key=[133, 137])) == [354, 642, 710]
    assert _l(S.to_hash_bucket_strong(["a"], 2 ** 62, key=[1, 2])) == [546566331822570742]
    # tf.fingerprint(["a"]) is these little-endian bytes
    assert list(string_ops.fingerprint64(b"a").to_bytes(8, "little")) == [
        227, 117, 223, 182, 101, 66, 69, 179]


def test_strings_in_function_and_namespace():
    f = tf.function(lambda x: S.upper(S.strip(x)))
    assert _l(f(tf.constant([" a ", "b"]))) == [b"A", b"B"]
    assert _l(f(tf.constant([" c "]))) == [b"C"]
    for name in string_ops.STRINGS_NAMES:
        assert unwrap(getattr(tf.strings, name)) is getattr(string_ops, name)
