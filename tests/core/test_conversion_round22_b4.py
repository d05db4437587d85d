"""Round 22 (B4): TF's conversion rules for bools in lists and scalars, printing of
complex scalars and of strings in ``tf.print``, the dtypes sort accepts, string
``ones`` and negative clip norms.

Expected values and error classes were observed with TensorFlow 2.21.
"""

import sys

import numpy as np
import pytest

import dlframe as tf

MIXED = "mixed types"


# ------------------------------------------------------------ lists with a dtype
@pytest.mark.parametrize("value, dtype", [
    ([True, 2], tf.uint8), ([True, 2], tf.int8), ([True, 2], tf.bfloat16),
    ([True, 2], tf.complex64), ([True, 2], tf.bool), ([True, 2], tf.string),
    ([True, 1.5], tf.int32), ([True, 1.5], tf.uint64), ([True, 1j], tf.float32),
    ([1, 1j], tf.int32), ([1, 1j], tf.complex64), ([np.bool_(True), 1], tf.float32),
    ([[True], [1]], tf.uint8), ([[True, 2], [1, 3]], tf.int16),
])
def test_requested_dtype_keeps_mixed_list_error(value, dtype):
    with pytest.raises(ValueError, match=MIXED):
        tf.constant(value, dtype)


@pytest.mark.parametrize("value, dtype", [
    ([True, np.False_], tf.int32), ([True, np.False_], tf.float64),
    ([True, np.False_], tf.complex128), ([True, False], tf.uint8),
    ([True, False], tf.bfloat16), ([True, False], tf.complex64),
    ([2, True], tf.bool), ([1.5, True], tf.int32), ([1j, True], tf.float16),
    (True, tf.bfloat16), (True, tf.complex64), (True, tf.int8),
])
def test_requested_dtype_refuses_bool_cast(value, dtype):
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.constant(value, dtype)


@pytest.mark.parametrize("value, dtype, expected", [
    ([True, 2], tf.int32, [1, 2]), ([True, 2], tf.int64, [1, 2]),
    ([True, 2], tf.uint64, [1, 2]), ([True, 1.5], tf.float16, [1.0, 1.5]),
    ([True, 2], tf.complex128, [1, 2]), ([True, 1j], tf.complex128, [1, 1j]),
    ([2, True], tf.uint8, [2, 1]), ([1.5, True], tf.complex64, [1.5, 1]),
    ([1j, True], tf.complex64, [1j, 1]), ([True, np.False_], tf.bool, [True, False]),
    ([[True], [1]], tf.float32, [[1.0], [1.0]]), ([(True, 2), (1, 3)], tf.int64,
                                                   [[1, 2], [1, 3]]),
    (np.array([True, False]), tf.uint8, [1, 0]), (np.True_, tf.bfloat16, 1.0),
    (True, tf.float16, 1.0), (True, tf.uint64, 1),
])
def test_requested_dtype_reads_bools(value, dtype, expected):
    out = tf.constant(value, dtype)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy().astype(np.complex128),
                                  np.asarray(expected, np.complex128))


def test_convert_and_variable_follow_the_same_rules():
    with pytest.raises(ValueError, match=MIXED):
        tf.convert_to_tensor([True, 2], tf.uint8)
    with pytest.raises(ValueError, match=MIXED):
        tf.Variable([True, 2], dtype=tf.uint8)
    with pytest.raises(ValueError, match=MIXED):
        tf.constant([1, 2], tf.uint8) + [True, 1]
    np.testing.assert_array_equal(tf.constant([1, 2]) + [True, 1], [2, 3])


@pytest.mark.parametrize("value", [np.array([1, 2]), np.array([1.5]),
                                   np.array([True]), np.array([1j])])
def test_numeric_numpy_to_string_is_value_error(value):
    with pytest.raises(ValueError, match="Unsupported object type"):
        tf.constant(value, tf.string)


# ------------------------------------------------------ Python bools as operands
@pytest.mark.parametrize("dtype", [tf.uint8, tf.int8, tf.uint16, tf.bfloat16])
def test_bool_operand_refused_by_narrow_dtypes(dtype):
    x = tf.constant([1, 0], dtype)
    with pytest.raises(tf.errors.InvalidArgumentError):
        x + True
    with pytest.raises(TypeError):
        True + x
    with pytest.raises(TypeError):
        tf.math.multiply(x, True)


@pytest.mark.parametrize("dtype, expected", [
    (tf.int32, [2, 1]), (tf.int64, [2, 1]), (tf.float16, [2.0, 1.0]),
    (tf.float32, [2.0, 1.0])])
def test_bool_operand_added_to_wide_dtypes(dtype, expected):
    out = tf.constant([1, 0], dtype) + True
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(tf.constant([True, False]) & True, [True, False])


# ------------------------------------------------------------------- printing
def test_complex_scalar_str_matches_numpy_text():
    assert str(tf.constant(3 + 4j)) == \
        "tf.Tensor((3+4j), shape=(), dtype=complex128)"
    assert str(tf.constant(1 + 2j, tf.complex64)) == \
        "tf.Tensor((1+2j), shape=(), dtype=complex64)"
    assert repr(tf.constant(3 + 4j)) == \
        "<tf.Tensor: shape=(), dtype=complex128, numpy=(3+4j)>"


# --------------------------------------------------------------- sort dtypes
@pytest.mark.parametrize("value", [[True, False], ["b", "a"], [1 + 1j, 2j]])
@pytest.mark.parametrize("op", [tf.sort, tf.argsort])
def test_sort_refuses_non_real_dtypes(op, value):
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T'"):
        op(tf.constant(value))


@pytest.mark.parametrize("dtype", [tf.uint8, tf.uint64, tf.int8, tf.float16,
                                   tf.bfloat16])
def test_sort_accepts_real_dtypes(dtype):
    v = tf.cast([2, 0, 1], dtype)
    np.testing.assert_array_equal(tf.sort(v, direction="DESCENDING").numpy()
                                  .astype(np.float64), [2, 1, 0])
    np.testing.assert_array_equal(tf.argsort(v).numpy(), [1, 2, 0])


# --------------------------------------------------------- string ones / ones_like
def test_ones_of_strings_refused_like_tf():
    with pytest.raises(TypeError, match="dtype string"):
        tf.ones([2], tf.string)
    with pytest.raises(tf.errors.InvalidArgumentError, match="OnesLike"):
        tf.ones_like(tf.constant(["a"]))
    np.testing.assert_array_equal(tf.zeros([2], tf.string).numpy(), [b"", b""])
    np.testing.assert_array_equal(tf.zeros_like(tf.constant(["a"])).numpy(), [b""])


# --------------------------------------------------------- negative clip norms
def test_negative_clip_norm_follows_tf():
    np.testing.assert_array_equal(tf.clip_by_norm([1.0, 2.0], -1.0).numpy(), [0, 0])
    np.testing.assert_array_equal(
        tf.clip_by_norm([3.0, 4.0], tf.constant(-1.0)).numpy(), [0, 0])
    with np.errstate(invalid="ignore"):   # 0 / 0 for the zero row, as TF's NaN
        zero_row = tf.clip_by_norm([[3.0, 4.0], [0, 0]], -2.0, axes=[1]).numpy()
    np.testing.assert_allclose(zero_row, [[0, 0], [np.nan, np.nan]])
    np.testing.assert_allclose(tf.clip_by_norm([3.0, 4.0], 1.0).numpy(), [0.6, 0.8])
    x = tf.constant([3.0, 4.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.clip_by_norm(x, -1.0))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 0])
    for clip in (-1.0, tf.constant(-1.0)):
        clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], clip)
        np.testing.assert_allclose(clipped[0].numpy(), [3.0, 4.0])
        assert float(norm) == 5.0
    clipped, _ = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], tf.constant(1.0))
    np.testing.assert_allclose(clipped[0].numpy(), [0.6, 0.8])


# ------------------------------------------------------- tf.print of strings
def test_print_lone_string_scalar_raw_and_elements_escaped(capsys):
    tf.print(tf.constant("a\nb"), output_stream=sys.stdout)
    tf.print(tf.constant("abc"), tf.constant("d\te"), output_stream=sys.stdout)
    tf.print(tf.constant(['q"t', "b\\s", "t\tz", "\x01", "q'x", "\x7f", "é"]),
             output_stream=sys.stdout, summarize=-1)
    tf.print({"a": tf.constant("x")}, [tf.constant("y\n")], output_stream=sys.stdout)

    @tf.function
    def show(s):
        tf.print(s, output_stream=sys.stdout)
    show(tf.constant("inside"))
    assert capsys.readouterr().out.splitlines() == [
        "a", "b",
        '"abc" "d\\te"',
        '["q\\"t" "b\\\\s" "t\\tz" "\\001" "q\\\'x" "\\177" "é"]',
        "{'a': \"x\"} [\"y\\n\"]",
        "inside",
    ]
