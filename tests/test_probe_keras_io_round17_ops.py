"""Plain-op fixes from the round-17 keras.io probes: RE2 syntax that Python's ``re``
lacks in ``tf.strings.regex_replace`` / ``regex_full_match`` (text standardization
with ``\\p{P}`` and friends), and invalid patterns as InvalidArgumentError."""

import unicodedata

import numpy as np
import pytest

import dlframe as tf


def _texts(t):
    return [v.decode() for v in t.numpy().reshape(-1).tolist()]


def _strip_by_category(text, prefix):
    return "".join(c for c in text if not unicodedata.category(c).startswith(prefix))


TEXTS = ["Héllo, World! ¿Qué tal? 123_abc", "line1\nline2 ", "«quote» — dash…"]


def test_unicode_punctuation_class_strips_like_unicodedata():
    got = _texts(tf.strings.regex_replace(tf.constant(TEXTS), r"\p{P}", ""))
    assert got == [_strip_by_category(t, "P") for t in TEXTS]
    # expected value from TF 2.21
    assert got[0] == "Héllo World Qué tal 123abc"


@pytest.mark.parametrize("pattern,rewrite,expect", [
    # expected values from TF 2.21 (RE2)
    (r"\pL", "L", "LLLLL, LLLLL! ¿LLL LLL? 123_LLL"),
    (r"[\p{Lu}]", "U", "Uéllo, Uorld! ¿Uué tal? 123_abc"),
    (r"\PL+", "_", "Héllo_World_Qué_tal_abc"),
    (r"[^\p{L}\s]", "", "Héllo World Qué tal abc"),
    (r"\p{^L}+", "_", "Héllo_World_Qué_tal_abc"),
])
def test_unicode_classes_inside_and_outside_brackets(pattern, rewrite, expect):
    got = _texts(tf.strings.regex_replace(tf.constant(TEXTS[:1]), pattern, rewrite))
    assert got == [expect]


def test_other_re2_syntax():
    assert _texts(tf.strings.regex_replace(tf.constant(["ab\n", "ab\nc"]), r"\s+\z", "")) \
        == ["ab", "ab\nc"]
    assert _texts(tf.strings.regex_replace(tf.constant(["a.b*c"]), r"\Q.b*\E", "-")) \
        == ["a-c"]
    assert _texts(tf.strings.regex_replace(tf.constant(["a]b-c"]), r"[]-]", "_")) \
        == ["a_b_c"]
    assert _texts(tf.strings.regex_replace(tf.constant(["Tab,\t"]), r"[[:punct:][:space:]]",
                                           "")) == ["Tab"]
    match = tf.strings.regex_full_match(tf.constant(["ÉCOLE", "école", "123"]), r"\p{Lu}+")
    np.testing.assert_array_equal(match.numpy(), [True, False, False])


def test_unicode_class_in_a_traced_standardization_matches_eager():
    def standardize(text):
        return tf.strings.regex_replace(tf.strings.lower(text, encoding="utf-8"),
                                        r"[\p{P}\p{S}]+", " ")
    x = tf.constant(["¡Hola!, ¿qué $tal?", "a+b=c"])
    eager = _texts(standardize(x))
    assert eager == [" hola   qué  tal ", "a b c"]   # as TF 2.21
    assert _texts(tf.function(standardize)(x)) == eager


@pytest.mark.parametrize("pattern", ["(", "[a", "a{2,1}", r"\p{NoSuchClass}"])
def test_invalid_patterns_raise_invalid_argument(pattern):
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid pattern"):
        tf.strings.regex_replace(tf.constant(["a(b"]), pattern, "")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid pattern"):
        tf.strings.regex_full_match(tf.constant(["a(b"]), pattern)
