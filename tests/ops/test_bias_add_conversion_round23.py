"""tf.nn.bias_add converts a NumPy/list value to the bias tensor's dtype (TF 2.21)."""

import numpy as np
import pytest

import dlframe as tf


@pytest.mark.parametrize("value", [np.ones((2, 2)), [[1, 1], [1, 1]], [[1.0, 1.0], [1.0, 1.0]]])
def test_host_value_takes_the_bias_dtype(value):
    out = tf.nn.bias_add(value, tf.constant([1.0, 2.0]))
    assert out.dtype == tf.float32   # TF: float32 for a float64 array or an int list
    np.testing.assert_array_equal(out.numpy(), [[2.0, 3.0], [2.0, 3.0]])


def test_two_tensors_of_different_dtypes_still_refused():
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.bias_add(tf.ones((2, 2)), tf.ones(2, tf.float64))
