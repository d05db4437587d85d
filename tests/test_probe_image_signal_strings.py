"""Regressions found by probing tf.image / tf.strings against TensorFlow 2.21.

Expected values marked "TF 2.21" were printed by TensorFlow 2.21 on the same input.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError


# ---------------------------------------------------------------- tf.image
def test_resize_with_pad_passes_antialias():
    img = np.arange(2 * 5 * 7 * 3, dtype=np.float32).reshape(2, 5, 7, 3) / 10.0
    out = tf.image.resize_with_pad(img, 3, 3, antialias=True).numpy()
    # 5x7 fits 3x3 as 2x3 (rows 0-1 resized, row 2 padding)
    ref = tf.image.resize(img, [2, 3], antialias=True).numpy()
    np.testing.assert_allclose(out[:, :2], ref, rtol=1e-6)
    assert not out[:, 2].any()
    # TF 2.21: the first pixel is 2.3571 with antialias (1.775 without)
    np.testing.assert_allclose(out[0, 0, 0, 0], 2.3571, atol=1e-4)
    plain = tf.image.resize_with_pad(img, 3, 3).numpy()
    np.testing.assert_allclose(plain[0, 0, 0, 0], 1.775, atol=1e-4)


def test_hsv_conversions_take_non_tensors_as_float32():
    rgb = np.array([[0.5, 0.25, 0.125]])
    hsv = tf.image.rgb_to_hsv(rgb)   # TF 2.21: float64 NumPy in, float32 out
    assert hsv.dtype == tf.float32
    np.testing.assert_allclose(hsv.numpy(), [[1 / 18, 0.75, 0.5]], rtol=1e-6)
    assert tf.image.hsv_to_rgb(hsv.numpy().astype(np.float64)).dtype == tf.float32
    # integer NumPy pixels convert unscaled (TF 2.21: [0.5833, 0.6667, 30.0])
    out = tf.image.rgb_to_hsv(np.array([[10, 20, 30]], np.int32)).numpy()
    np.testing.assert_allclose(out, [[7 / 12, 2 / 3, 30.0]], rtol=1e-6)
    # a float64 tensor keeps its dtype; an integer tensor is refused
    assert tf.image.rgb_to_hsv(tf.constant(rgb)).dtype == tf.float64
    with pytest.raises(tf.errors.InvalidArgumentError, match="rgb_to_hsv"):  # TF 2.21
        tf.image.rgb_to_hsv(tf.constant([[1, 2, 3]]))


def _pixels():
    """A smooth 6x7 colour ramp (JPEG keeps such images close)."""
    rows, cols = np.meshgrid(np.arange(6), np.arange(7), indexing="ij")
    rgb = np.stack([rows * 40, cols * 35, 200 - rows * 20 - cols * 10], -1)
    return tf.constant(rgb.astype(np.uint8))


@pytest.mark.parametrize("kwargs, image_slice, match", [
    ({"format": "grayscale"}, slice(None), "grayscale expects 1"),
    ({"format": "rgb"}, slice(0, 1), "rgb expects 3"),
    ({"format": "foo"}, slice(None), "format"),
    ({"quality": 101}, slice(None), "quality"),
    ({"quality": -1}, slice(None), "quality"),
])
def test_encode_jpeg_validates_arguments(kwargs, image_slice, match):
    with pytest.raises(InvalidArgumentError, match=match):
        tf.image.encode_jpeg(_pixels()[..., image_slice], **kwargs)


def test_encode_jpeg_options_and_channels():
    pixels = _pixels()
    with pytest.raises(InvalidArgumentError, match="1 or 3 channels"):
        tf.image.encode_jpeg(tf.concat([pixels, pixels[..., :1]], -1))
    gray = tf.image.encode_jpeg(pixels[..., :1], format="grayscale")
    assert tf.image.decode_jpeg(gray).shape == (6, 7, 1)
    subsampled = tf.image.encode_jpeg(pixels, quality=80)
    full = tf.image.encode_jpeg(pixels, quality=80, chroma_downsampling=False,
                                progressive=True, optimize_size=True)
    assert subsampled.numpy() != full.numpy()
    for data in (subsampled, full):
        decoded = tf.image.decode_jpeg(data).numpy().astype(float)
        assert decoded.shape == (6, 7, 3)
        assert np.abs(decoded - pixels.numpy()).mean() < 25
    # 4:4:4 keeps more colour detail than 4:2:0
    err = [np.abs(tf.image.decode_jpeg(d).numpy().astype(float) - pixels.numpy()).mean()
           for d in (subsampled, full)]
    assert err[1] < err[0]


def test_encode_png_refuses_float_like_tensorflow():
    with pytest.raises(InvalidArgumentError, match="attr 'T' of float32"):
        tf.image.encode_png(tf.zeros([2, 2, 3]))


# ---------------------------------------------------------------- tf.strings.split
# TF 2.21 whitespace splitting: with maxsplit reached, the (possibly empty) rest of
# the string is one more token; maxsplit=0 keeps the string whole.
@pytest.mark.parametrize("text, maxsplit, expected", [
    ("abc", 1, [b"abc", b""]),
    ("abc ", 1, [b"abc", b""]),
    (" abc", 1, [b"abc", b""]),
    ("abc", 2, [b"abc"]),
    ("a b", 1, [b"a", b"b"]),
    ("a b", 2, [b"a", b"b", b""]),
    ("a b c", 2, [b"a", b"b", b"c"]),
    ("a  b", 2, [b"a", b"b", b""]),
    ("a b c", 1, [b"a", b"b c"]),
    ("", 1, []),
    (" ", 1, []),
    (" abc", 0, [b" abc"]),
    ("", 0, [b""]),
    (" a  b ", -1, [b"a", b"b"]),
])
def test_split_whitespace_maxsplit_matches_tensorflow(text, maxsplit, expected):
    got = tf.strings.split(tf.constant([text]), maxsplit=maxsplit).to_list()
    assert got == [expected]


def test_split_with_separator_and_maxsplit():
    got = tf.strings.split(tf.constant(["a,b,,c", ","]), sep=",", maxsplit=2)
    assert got.to_list() == [[b"a", b"b", b",c"], [b"", b""]]


def test_string_splitters_accept_ragged_input():
    words = tf.strings.split(tf.constant(["ab c-d", "\u00e9"]))
    assert tf.strings.split(words, sep="-").to_list() == [
        [[b"ab"], [b"c", b"d"]], [["\u00e9".encode()]]]
    assert tf.strings.bytes_split(words).to_list() == [
        [[b"a", b"b"], [b"c", b"-", b"d"]], [[b"\xc3", b"\xa9"]]]
    assert tf.strings.unicode_split(words, "UTF-8").to_list() == [
        [[b"a", b"b"], [b"c", b"-", b"d"]], [["\u00e9".encode()]]]
    assert tf.strings.unicode_decode(words, "UTF-8").to_list() == [
        [[97, 98], [99, 45, 100]], [[233]]]


def test_unicode_split_encoding_and_errors():
    utf16 = tf.constant(["h\u00e9".encode("utf-16-be")])
    # TF 2.21: the characters stay in the input encoding
    assert tf.strings.unicode_split(utf16, "UTF-16-BE").to_list() == [
        [b"\x00h", b"\x00\xe9"]]
    bad = tf.constant([b"a\xffb"])
    assert tf.strings.unicode_split(bad, "UTF-8").to_list() == [
        [b"a", "\ufffd".encode(), b"b"]]
    assert tf.strings.unicode_split(bad, "UTF-8", errors="ignore").to_list() == [
        [b"a", b"b"]]
    assert tf.strings.unicode_split(bad, "UTF-8", replacement_char=63).to_list() == [
        [b"a", b"?", b"b"]]
    with pytest.raises(InvalidArgumentError):
        tf.strings.unicode_split(bad, "UTF-8", errors="strict")


# ---------------------------------------------------------------- to_number / as_string
@pytest.mark.parametrize("text, out_type", [
    ("3000000000", tf.int32), ("99999999999999999999", tf.int64),
    ("1_000", tf.int64), ("1_0", tf.float32), ("1.5", tf.int32), ("abc", tf.float32),
])
def test_to_number_rejects_like_tensorflow(text, out_type):
    with pytest.raises(InvalidArgumentError, match="could not correctly convert"):
        tf.strings.to_number(tf.constant([text]), out_type=out_type)


def test_to_number_range_edges_and_out_type():
    got = tf.strings.to_number(tf.constant(["-2147483648", "2147483647", "+5"]),
                               out_type=tf.int32)
    assert got.dtype == tf.int32
    assert got.numpy().tolist() == [-2147483648, 2147483647, 5]
    # TF 2.21: float32 overflow gives +-inf; FLT_MAX spelled out stays finite
    texts = ["1e40", "-1e40", " 2.5 ", "3.4028235e38"]
    with np.errstate(all="raise"):
        floats = tf.strings.to_number(tf.constant(texts)).numpy()
    assert floats.tolist()[:3] == [np.inf, -np.inf, 2.5]
    assert floats[3] == np.finfo(np.float32).max
    with pytest.raises(InvalidArgumentError, match="out_type"):
        tf.strings.to_number(tf.constant(["1"]), out_type=tf.int16)


@pytest.mark.parametrize("value, dtype, kwargs, expected", [   # all from TF 2.21
    ([1.25 - 2j], tf.complex128, {"precision": 2}, [b"(1.25,-2.00)"]),
    ([1.25 - 2j], tf.complex64, {"width": 12},
     [b"(    1.250000,   -2.000000)"]),
    ([1 + 2j], tf.complex64, {"scientific": True, "precision": 1},
     [b"(1.0e+00,2.0e+00)"]),
    ([1 + 2j], tf.complex64, {"shortest": True}, [b"(1,2)"]),
    (["ab"], tf.string, {"width": 5}, [b"   ab"]),
    (["ab"], tf.string, {"width": 5, "fill": "-"}, [b"ab   "]),
    (["ab"], tf.string, {"precision": 2}, [b"ab"]),
    ([5, -5], tf.int32, {"width": 4, "fill": "+"}, [b"  +5", b"  -5"]),
    ([5.5], tf.float32, {"width": 9, "fill": "#"}, [b" 5.500000"]),
    ([-5.5], tf.float32, {"width": 8, "fill": "0", "precision": 1}, [b"-00005.5"]),
    ([True], tf.bool, {"width": 7}, [b"true"]),
])
def test_as_string_formats_like_tensorflow(value, dtype, kwargs, expected):
    assert tf.strings.as_string(tf.constant(value, dtype), **kwargs).numpy().tolist() \
        == expected


@pytest.mark.parametrize("dtype, kwargs, match", [
    (tf.int32, {"fill": "x"}, "Fill argument"),
    (tf.int32, {"fill": "00"}, "one or fewer"),
    (tf.int32, {"scientific": True}, "scientific"),
    (tf.int32, {"precision": 2}, "precision"),
    (tf.bool, {"precision": 2}, "precision"),
    (tf.float32, {"scientific": True, "shortest": True}, "both"),
])
def test_as_string_rejects_options_like_tensorflow(dtype, kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        tf.strings.as_string(tf.cast(tf.constant([1]), dtype), **kwargs)


# ---------------------------------------------------------------- graph-friendly text ops
def test_ngrams_widths_must_be_positive():
    with pytest.raises(ValueError, match="ngram_width"):
        tf.strings.ngrams(tf.constant(["a", "b"]), 0)
    with pytest.raises(ValueError, match="ngram_width"):
        tf.strings.ngrams(tf.constant(["a", "b"]), [2, -1])


def _same(eager, graph):
    if hasattr(eager, "to_list"):
        assert eager.to_list() == graph.to_list()
    else:
        assert eager.shape == graph.shape
        assert np.array_equal(eager.numpy(), graph.numpy())


@pytest.mark.parametrize("fn, expected", [
    (lambda s: tf.strings.ngrams(tf.strings.split(s), 2, separator="_"),
     [[b"a_b", b"b_c"], [b"d_e"], []]),
    (lambda s: tf.strings.ngrams(tf.strings.split(s), (1, 3), pad_values="#",
                                 padding_width=1),
     [[b"#", b"a", b"b", b"c", b"#", b"# a b", b"a b c", b"b c #"],
      [b"#", b"d", b"e", b"#", b"# d e", b"d e #"], [b"#", b"#"]]),
    (lambda s: tf.strings.ngrams(tf.strings.split(s), 3, preserve_short_sequences=True),
     [[b"a b c"], [b"d e"], []]),
    (lambda s: tf.strings.ngrams(tf.strings.bytes_split(s[:2])[:, :3], 2),
     [[b"a  ", b"  b"], [b"d  ", b"  e"]]),
    (lambda s: tf.strings.ngrams(tf.reshape(s, [3, 1]), 2, pad_values=("<", ">")),
     [[b"< a b c", b"a b c >"], [b"< d e", b"d e >"], [b"< ", b" >"]]),
    (lambda s: tf.strings.unicode_encode(tf.strings.unicode_decode(s, "UTF-8"),
                                         "UTF-16-BE"),
     ["a b c".encode("utf-16-be"), "d e".encode("utf-16-be"), b""]),
    (lambda s: tf.strings.unicode_encode(
        tf.strings.unicode_decode(tf.strings.split(s), "UTF-8"), "UTF-8"),
     [[b"a", b"b", b"c"], [b"d", b"e"], []]),
    (lambda s: tf.strings.format("n={} s={}", [tf.strings.length(s), s]),
     b'n=[5 3 0] s=["a b c" "d e" ""]'),
])
def test_text_ops_eager_equals_function(fn, expected):
    lines = tf.constant(["a b c", "d e", ""])
    eager = fn(lines)
    got = eager.to_list() if hasattr(eager, "to_list") else eager.numpy()
    got = got.tolist() if isinstance(got, np.ndarray) else got
    assert got == expected
    _same(eager, tf.function(fn)(lines))


def test_dense_ngrams_and_unicode_encode_shapes():
    data = tf.constant([["a", "b", "c"], ["d", "e", "f"]])
    got = tf.function(lambda d: tf.strings.ngrams(d, 2))(data)
    assert got.shape == (2, 2)
    assert got.numpy().tolist() == [[b"a b", b"b c"], [b"d e", b"e f"]]
    codes = tf.constant([[[104, 105]], [[233, 0x65E5]]])
    enc = tf.function(lambda c: tf.strings.unicode_encode(c, "UTF-8"))(codes)
    assert enc.shape == (2, 1)
    assert enc.numpy().tolist() == [[b"hi"], ["\u00e9\u65e5".encode()]]


def test_unicode_encode_requires_int32_code_points():
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.strings.unicode_encode(tf.constant([1.5]), "UTF-8")
    with pytest.raises(InvalidArgumentError, match="int64"):
        tf.strings.unicode_encode(tf.constant([104], tf.int64), "UTF-8")
