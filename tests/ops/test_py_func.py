"""tf.py_function / tf.numpy_function eagerly and from tf.data; compiled use is in
tests/function/test_py_func_function.py."""

import numpy as np
import pytest

import dlframe as tf


def test_py_function_outputs_follow_tout():
    x = tf.constant([1.0, 2.0])
    out = tf.py_function(lambda a: a * 2, [x], tf.float32)
    np.testing.assert_array_equal(out.numpy(), [2, 4])
    pair = tf.py_function(lambda a: (a * 2, 3), [x], (tf.float32, tf.TensorSpec([], tf.int64)))
    assert isinstance(pair, list) and pair[1].dtype == tf.int64 and pair[1].numpy() == 3
    assert tf.py_function(lambda a: None, [x], []) == []
    seen = []
    tf.py_function(lambda a, b: seen.extend([type(a), b.numpy()]) or a, [x, 5.0], tf.float32)
    assert seen == [tf.Tensor, 5.0]


def test_py_function_errors():
    x = tf.constant([1.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="requested dtype float32"):
        tf.py_function(lambda a: tf.cast(a, tf.int32), [x], tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expects to see 2 values"):
        tf.py_function(lambda a: a, [x], [tf.float32, tf.float32])
    with pytest.raises(tf.errors.UnknownError, match="ZeroDivisionError"):
        tf.py_function(lambda a: 1 / 0, [x], tf.float32)
    with pytest.raises(TypeError, match="Tout"):
        tf.py_function(lambda a: a, [x])


def test_py_function_is_differentiable_eagerly():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.py_function(lambda a: a * a * a, [x], tf.float32)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [3, 12])


def test_numpy_function_eager():
    x = tf.constant([1.0, 2.0])
    seen = []
    out = tf.numpy_function(lambda a: seen.append(type(a)) or a * 2, [x], tf.float32)
    assert seen == [np.ndarray]
    np.testing.assert_array_equal(out.numpy(), [2, 4])
    assert tf.numpy_function(lambda a: 3.0, [x], tf.float32).dtype == tf.float32
    # eagerly TF keeps a returned array's dtype
    assert tf.numpy_function(lambda a: a.astype(np.float64), [x], tf.float32).dtype == \
        tf.float64
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.numpy_function(lambda a: a * a, [x], tf.float32)
    assert tape.gradient(y, x) is None
    with pytest.raises(ZeroDivisionError):
        tf.numpy_function(lambda a: 1 / 0, [x], tf.float32)


def test_in_dataset_map():
    ds = tf.data.Dataset.from_tensor_slices([1.0, 2.0, 3.0])
    py = ds.map(lambda v: tf.py_function(lambda a: a * 10, [v], tf.float32))
    assert [float(v) for v in py] == [10, 20, 30]
    npf = ds.map(lambda v: tf.numpy_function(lambda a: (a * 10).astype(np.float32), [v],
                                             tf.float32), num_parallel_calls=2)
    assert [float(v) for v in npf] == [10, 20, 30]
    assert npf.element_spec.dtype == tf.float32
