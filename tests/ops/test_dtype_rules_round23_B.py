"""Dtype rules of binary ops mixing Tensors with NumPy values and lists, and float16
mean overflow, checked against TF 2.21 (eager, CPU).

``tf.add`` and ``tf.matmul`` convert a non-Tensor first operand on its own (a NumPy
array keeps its dtype, a list takes its default) and refuse a second operand of
another dtype; a non-Tensor second operand, the Python operators (both sides) and
the other binary ops follow the Tensor's dtype."""

import numpy as np
import pytest

import dlframe as tf

F64 = np.array([1.0, 2.0])


def _c32():
    return tf.constant([1.0, 2.0])


@pytest.mark.parametrize("first, second, got, want", [
    (F64, _c32, "float64", "float32"),
    (np.float64(1.0), _c32, "float64", "float32"),
    (np.array(1.0), _c32, "float64", "float32"),
    ([1, 2], _c32, "int32", "float32"),
    ([1.0, 2.0], lambda: tf.constant([1.0, 2.0], tf.float16), "float32", "float16"),
    (np.array([1, 2]), lambda: tf.constant([1, 2]), "int64", "int32"),
    (F64, lambda: tf.Variable([1.0, 2.0]), "float64", "float32"),
])
def test_add_refuses_a_numpy_or_list_first_operand_of_another_dtype(first, second,
                                                                     got, want):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.add(first, second())
    msg = str(info.value)
    assert "AddV2" in msg and f"{got} tensor" in msg and f"{want} tensor" in msg
    assert isinstance(info.value, TypeError)   # (also what Keras code catches)


def test_matmul_refuses_a_numpy_or_list_first_operand_of_another_dtype():
    with pytest.raises(tf.errors.InvalidArgumentError, match="MatMul"):
        tf.matmul(np.ones((2, 2)), tf.ones([2, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="float16"):
        tf.matmul([[1.0, 2.0], [3.0, 4.0]], tf.ones([2, 2], tf.float16))


@pytest.mark.parametrize("fn, want", [
    (lambda c: tf.add(c, F64), [2.0, 4.0]),
    (lambda c: c + F64, [2.0, 4.0]),
    (lambda c: F64 + c, [2.0, 4.0]),
    (lambda c: tf.add(np.array([1.0, 2.0], np.float32), c), [2.0, 4.0]),
    (lambda c: tf.add(1.5, c), [2.5, 3.5]),
    (lambda c: c + np.array([1, 2]), [2.0, 4.0]),
    (lambda c: tf.multiply(F64, c), [1.0, 4.0]),
    (lambda c: tf.subtract(F64, c), [0.0, 0.0]),
    (lambda c: tf.maximum(np.array([0.0, 3.0]), c), [1.0, 3.0]),
    (lambda c: tf.concat([np.ones(2), c], 0), [1.0, 1.0, 1.0, 2.0]),
    (lambda c: tf.where([True, False], np.zeros(2), c), [0.0, 2.0]),
])
def test_numpy_operands_follow_the_tensor_dtype(fn, want):
    out = fn(_c32())
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), want)


def test_comparisons_and_matmul_with_numpy_second_operand():
    c = _c32()
    np.testing.assert_array_equal((c == np.array([1.0, 3.0])).numpy(), [True, False])
    np.testing.assert_array_equal(tf.less(np.array([1.0, 3.0]), c).numpy(),
                                  [False, False])
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    for out in (tf.matmul(a, np.eye(2)), np.eye(2) @ a, a @ np.eye(2)):
        assert out.dtype == tf.float32
        np.testing.assert_array_equal(out.numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_add_rule_holds_in_a_function():
    @tf.function
    def f(x):
        return tf.add(np.array([1.0, 2.0]), x)

    with pytest.raises(tf.errors.InvalidArgumentError, match="AddV2"):
        f(_c32())

    @tf.function
    def g(x):
        return tf.add(x, np.array([1.0, 2.0])) + np.array([1.0, 1.0])

    np.testing.assert_array_equal(g(_c32()).numpy(), [3.0, 5.0])


H = tf.float16


@pytest.mark.parametrize("values, axis, want", [
    # TF 2.21: the half sum overflows to inf before the division by the count
    ([[60000.0, 60000.0]], None, np.inf),
    ([[40000.0, 40000.0, 40000.0]], None, np.inf),
    ([[60000.0, 60000.0]], 1, [np.inf]),
    ([[1.0, 2.0], [3.0, 6.0]], 1, [1.5, 4.5]),
    ([[1.0, 2.0], [3.0, 6.0]], None, 3.0),
])
def test_float16_reduce_mean_overflows_like_tf(values, axis, want):
    out = tf.reduce_mean(tf.constant(values, H), axis=axis)
    assert out.dtype == H
    np.testing.assert_array_equal(out.numpy(), np.asarray(want, np.float16))


def test_float16_mean_over_more_than_65504_elements_is_nan_as_tf():
    ones = tf.fill([70000], tf.constant(1, H))
    assert np.isinf(tf.reduce_sum(ones).numpy())        # TF 2.21: inf
    assert np.isnan(tf.reduce_mean(ones).numpy())       # TF 2.21: inf / inf
    np.testing.assert_array_equal(
        tf.function(tf.reduce_mean)(tf.constant([60000.0, 60000.0], H)).numpy(),
        np.float16(np.inf))


def test_float16_mean_gradient_unchanged():
    x = tf.constant([1.0, 2.0, 3.0, 4.0], H)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_mean(x)
    assert y.dtype == H and float(y) == 2.5
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(),
                                  np.full(4, 0.25, np.float16))


@pytest.mark.parametrize("x, y, got, want", [
    (lambda: F64, _c32, "float64", "float32"),
    (lambda: 1, _c32, "int32", "float32"),
    (lambda: 1.0, lambda: tf.constant([1.0, 2.0], H), "float32", "float16"),
    (_c32, lambda: tf.constant([1.0, 2.0], H), "float32", "float16"),
])
def test_truediv_requires_one_dtype_as_tf(x, y, got, want):
    with pytest.raises(TypeError, match=f"got tf.{got} != tf.{want}"):
        tf.math.truediv(x(), y())


def test_truediv_and_divide_results():
    c = _c32()
    for out in (tf.math.truediv(c, F64), tf.math.truediv([1.0, 2.0], c),
                tf.math.divide(F64, c), tf.math.divide(1, c)):
        assert out.dtype == tf.float32
    np.testing.assert_allclose(tf.math.truediv(1.0, c).numpy(), [1.0, 0.5])
    out = tf.math.truediv([1, 2], tf.constant([2, 2]))
    assert out.dtype == tf.float64                      # TF: int32 / int32 -> float64
    np.testing.assert_array_equal(out.numpy(), [0.5, 1.0])
