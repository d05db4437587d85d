"""Review round 17 (R4): RE2 -> Python ``re`` translation regressions.

Expected values came from TensorFlow 2.21 (tf.strings.regex_replace / regex_full_match).
"""

import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError


@pytest.mark.parametrize("text,pattern,rewrite,expected", [
    # RE2's '$' is the end of text (Python's also matches before a final newline)
    ("a\nb\n", "$", "X", b"a\nb\nX"),
    ("a\n", "a$", "X", b"a\n"),
    # ... but in multi-line mode it matches before every newline, as Python's
    ("a\nb\n", "(?m)$", "X", b"aX\nbX\nX"),
    ("Hello", r"\x{48}", "J", b"Jello"),
    ("a[b", r"[[]", "X", b"aXb"),
    # RE2's \s leaves out \v; \S therefore matches it
    ("a\x0bb \tc", r"[\s]+", "_", b"a\x0bb_c"),
    ("a\x0bb \tc", r"\S", "_", b"___ \t_"),
    ("x$y", r"\Q$\E", "!", b"x!y"),
])
def test_regex_replace_re2_semantics(text, pattern, rewrite, expected):
    assert tf.strings.regex_replace(text, pattern, rewrite).numpy() == expected


def test_regex_full_match_dollar_is_end_of_text():
    assert not tf.strings.regex_full_match("abc\n", "abc$").numpy()
    assert tf.strings.regex_full_match("abc\n", "abc\n$").numpy()


@pytest.mark.parametrize("pattern", [r"\x{41", r"\x{zz}", r"\x{110000}"])
def test_bad_hex_escape_raises_clear_error(pattern):
    with pytest.raises(InvalidArgumentError, match="x"):
        tf.strings.regex_replace("A", pattern, "b")
