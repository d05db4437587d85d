"""float16/bfloat16 sums accumulate in float32; ensure_shape informs Dataset.map specs."""

import numpy as np
import pytest

import dlframe as tf


@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float16])
def test_half_precision_sum_accumulates_in_float32(dtype):
    x = tf.constant(np.arange(216, dtype=np.float32) / 10)
    squares = tf.cast(tf.square(x), dtype)
    got = tf.reduce_sum(squares)
    want = np.float32(squares.numpy().astype(np.float32).sum())
    assert got.dtype == dtype
    # one rounding of the float32 total (TF 2.21 gives 33280 for bfloat16)
    assert float(got.numpy()) == float(np.array(want).astype(got.numpy().dtype))
    if dtype == tf.bfloat16:
        assert float(got.numpy()) == 33280.0


def test_half_precision_sum_in_function_matches_eager():
    x = tf.cast(tf.reshape(tf.range(60, dtype=tf.float32), [6, 10]) / 7, tf.bfloat16)
    f = tf.function(lambda v: tf.reduce_sum(v, axis=1))
    np.testing.assert_array_equal(f(x).numpy().astype(np.float32),
                                  tf.reduce_sum(x, axis=1).numpy().astype(np.float32))


def test_ensure_shape_sets_the_static_shape_of_a_py_function_in_map():
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 8, 8, 3), np.float32))
    raw = ds.map(lambda x: tf.py_function(lambda a: a * 2, [x], tf.float32))
    assert raw.element_spec.shape.rank is None
    fixed = ds.map(lambda x: tf.ensure_shape(
        tf.py_function(lambda a: a * 2, [x], tf.float32), [8, 8, 3]))
    assert fixed.element_spec.shape.as_list() == [8, 8, 3]
    assert next(iter(fixed)).shape == (8, 8, 3)


def test_ensure_shape_still_rejects_an_incompatible_shape():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,3\].*\[2,4\]"):
        tf.ensure_shape(tf.zeros([2, 3]), [2, 4])
