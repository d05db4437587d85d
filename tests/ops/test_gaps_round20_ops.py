"""Round-20 gaps against TF 2.21: masked global average pooling, error classes of
angle / l2_normalize / extract_patches, stack and concat dtype rules for NumPy
inputs, and RE2 syntax in the regex ops (expected values from TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad


# ------------------------------------------------ GlobalAveragePooling1D + mask
def test_global_average_pooling1d_fully_masked_row_is_nan():
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[True, False, True], [False, False, False]])
    # Keras 2 and 3 divide by the mask count: a fully masked row is 0/0 = NaN
    for keepdims in (False, True):
        out = tf.keras.layers.GlobalAveragePooling1D(keepdims=keepdims)(x, mask=mask)
        out = out.numpy().reshape(2, 2)
        np.testing.assert_allclose(out[0], (x[0, 0] + x[0, 2]) / 2)
        assert np.isnan(out[1]).all()
    first = tf.keras.layers.GlobalAveragePooling1D(data_format="channels_first")
    out = first(np.transpose(x, (0, 2, 1)), mask=mask).numpy()
    np.testing.assert_allclose(out[0], [2.0, 3.0])
    assert np.isnan(out[1]).all()


# ------------------------------------------------------------- error classes
@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_angle_and_l2_normalize_of_ints_raise_type_error(dtype):
    x = tf.constant([[1, 2], [3, 4]], dtype)
    with pytest.raises(TypeError, match="int"):
        tf.math.angle(x)
    with pytest.raises(TypeError):
        tf.math.l2_normalize(x, axis=1)
    np.testing.assert_allclose(tf.math.angle(tf.constant([-1.0, 2.0])).numpy(),
                               [np.pi, 0.0])


def _patches(img, sizes=(1, 2, 2, 1), strides=(1, 1, 1, 1), rates=(1, 1, 1, 1)):
    return tf.image.extract_patches(img, sizes=list(sizes), strides=list(strides),
                                    rates=list(rates), padding="VALID")


def test_extract_patches_error_classes_match_tf():
    img = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    errors = tf.errors
    # TF 2.21 eager: attribute length and input rank are InvalidArgumentError ...
    with pytest.raises(errors.InvalidArgumentError, match="sizes"):
        _patches(img, sizes=[2, 2])
    with pytest.raises(errors.InvalidArgumentError, match="rates"):
        _patches(img, rates=[1, 1, 1])
    with pytest.raises(errors.InvalidArgumentError, match="4-dimensional"):
        _patches(img[0])
    # ... non-positive entries OutOfRangeError, batch/depth windows Unimplemented
    for kw in ({"strides": [1, 0, 2, 1]}, {"rates": [1, 0, 1, 1]},
               {"sizes": [1, 0, 2, 1]}, {"strides": [1, -1, 1, 1]}):
        with pytest.raises(errors.OutOfRangeError, match="out of range"):
            _patches(img, **kw)
    for kw in ({"sizes": [2, 2, 2, 1]}, {"strides": [2, 1, 1, 1]},
               {"rates": [1, 1, 1, 2]}):
        with pytest.raises(errors.UnimplementedError, match="across space"):
            _patches(img, **kw)
    out = _patches(img, strides=[1, 2, 2, 1]).numpy()
    np.testing.assert_array_equal(out[0, 1, 0], [8, 9, 12, 13])


# ------------------------------------------------------- stack / concat dtypes
def test_stack_and_concat_convert_numpy_values_to_the_first_dtype():
    i32 = np.array([1, 2], np.int32)
    f32 = np.array([1.5, 2.5], np.float32)
    f64 = np.array([1.7, -2.5])
    # TF 2.21 (eager): the first value fixes the dtype, NumPy arrays are cast to it
    out = tf.stack([i32, f32], axis=1)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [[1, 1], [2, 2]])
    out = tf.stack([f32, i32], axis=1)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[1.5, 1], [2.5, 2]])
    assert tf.stack([i32, f64], axis=1).numpy().tolist() == [[1, 1], [2, -2]]
    assert tf.stack([[1, 2], f32], axis=1).dtype == tf.int32
    out = tf.concat([f32, i32], 0)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [1.5, 2.5, 1, 2])
    assert tf.concat([np.array([3, 4]), tf.constant(i32)], 0).dtype == tf.int32
    # axis 0 converts the whole list at once: the widest kind wins
    assert tf.stack([i32, f32]).dtype == tf.float32
    # a Python float list cannot become int32, two tensors must already agree
    with pytest.raises(TypeError):
        tf.stack([i32, [1.5, 2.5]], axis=1)
    with pytest.raises(TypeError):
        tf.concat([[1, 2], [1.5, 2.5]], 0)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.concat([tf.constant(f32), tf.constant(f64)], 0)


def test_stack_of_mixed_numpy_values_traces_like_eager():
    def fn(a):
        return tf.stack([a, np.array([1, 2], np.int32).astype(np.float64)], axis=1)
    check_function_matches_eager(fn, [np.array([0.5, 1.5])])
    check_grad(fn, [np.array([0.5, 1.5])])


# ------------------------------------------------------------------ regex (RE2)
_TEXT = ["Hello World", "h\u00e9llo w\u00f6rld 123", "ABC abc", "", "\u03a9mega"]


def test_regex_flags_and_unicode_classes():
    text = tf.constant(_TEXT)
    out = tf.strings.regex_replace(text, "(?i)hello", "X").numpy()
    assert out[0] == b"X World" and out[1] == _TEXT[1].encode()
    out = tf.strings.regex_replace(text, r"\pL+", "W").numpy().tolist()
    assert out == [b"W W", b"W W 123", b"W W", b"", b"W"]
    out = tf.strings.regex_replace(text, "o", "0", replace_global=False).numpy()
    assert out[0] == b"Hell0 World"
    full = tf.strings.regex_full_match(text, r"[\pL\s]+").numpy().tolist()
    assert full == [True, False, True, False, True]


def test_regex_ungreedy_flag_swaps_repetitions():
    text = tf.constant(["aaa<b>c</b>", "xaab{2}", "aaaa"])
    replace = tf.strings.regex_replace
    # from TF 2.21
    assert replace(text, "(?U)<.+>", "X").numpy().tolist() == \
        [b"aaaXcX", b"xaab{2}", b"aaaa"]
    assert replace(text, "(?U)a+?", "X").numpy().tolist() == \
        [b"X<b>c</b>", b"xXb{2}", b"X"]
    assert replace(text, "(?U:a+)a*", "X").numpy().tolist() == \
        [b"X<b>c</b>", b"xXb{2}", b"X"]
    assert replace(text, "(?U)a{2,}", "X").numpy().tolist() == \
        [b"Xa<b>c</b>", b"xXb{2}", b"XX"]
    assert replace(text, "(?iU)A+", "X").numpy().tolist() == \
        [b"XXX<b>c</b>", b"xXXb{2}", b"XXXX"]


@pytest.mark.parametrize("pattern", ["o(?=r)", "(?!H).*", "(?<=l)o", r"(l)\1",
                                     r".*\Z", "(?P<x>a)(?P=x)"])
def test_regex_syntax_re2_refuses_raises(pattern):
    with pytest.raises(tf.errors.InvalidArgumentError, match="RE2"):
        tf.strings.regex_replace(tf.constant(_TEXT), pattern, "X")
    with pytest.raises(tf.errors.InvalidArgumentError, match="RE2"):
        tf.strings.regex_full_match(tf.constant(_TEXT), pattern)


def test_regex_bad_rewrites_behave_like_re2():
    text = tf.constant(["hello", "xyz"])
    replace = tf.strings.regex_replace
    # from TF 2.21: a rewrite naming a missing group leaves the text unchanged ...
    for pattern in ("(l)", "l"):
        for glob in (True, False):
            assert replace(text, pattern, r"\2", replace_global=glob).numpy().tolist() \
                == [b"hello", b"xyz"]
    assert replace(text, "l", r"x\1").numpy().tolist() == [b"hello", b"xyz"]
    # ... a bad escape cuts the rewrite there (global) or changes nothing (first)
    assert replace(text, "l", r"\q").numpy().tolist() == [b"heo", b"xyz"]
    assert replace(text, "l", "\\").numpy().tolist() == [b"heo", b"xyz"]
    assert replace(text, "l", r"\q", replace_global=False).numpy().tolist() == \
        [b"hello", b"xyz"]
    assert replace(text, "(l)", r"\\1\0\0").numpy().tolist() == \
        [b"he\\1ll\\1llo", b"xyz"]
    assert replace(text, "(l)", r"a\\b", replace_global=False).numpy().tolist() == \
        [b"hea\\blo", b"xyz"]
