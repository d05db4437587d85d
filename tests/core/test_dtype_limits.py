"""DType.min/.max: NumPy scalars of the float dtype (as TF: np.float32(3.4028235e+38)),
Python ints for integer dtypes, and TypeError where TF has no limit."""

import numpy as np
import pytest

import dlframe as tf


def test_float_limits_are_numpy_scalars_of_the_dtype():
    assert repr(tf.float32.max) == "np.float32(3.4028235e+38)"   # TF 2.21's repr
    assert type(tf.float16.min) is np.float16 and float(tf.float16.max) == 65504.0
    assert type(tf.float64.max) is np.float64
    assert tf.float32.limits == (np.finfo("float32").min, np.finfo("float32").max)


def test_int_limits_are_python_ints_and_saturate_cast_uses_them():
    assert tf.int32.max == 2**31 - 1 and type(tf.uint8.min) is int
    out = tf.dtypes.saturate_cast(tf.constant([1e6, -1e6, 3.0]), tf.float16)
    np.testing.assert_array_equal(out.numpy(), np.array([65504, -65504, 3], "float16"))
    with pytest.raises(TypeError):
        tf.string.max
