"""tf.TensorArray eagerly: TF's eager semantics (in-place writes, clear_after_read,
zeros for unwritten elements), errors, and gradients through the recorded ops.
Compiled use (graph loops, loop gradients) is in tests/function/test_tensor_array_function.py.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad


def _ta(**kwargs):
    return tf.TensorArray(tf.float32, **{"size": 3, **kwargs})


def test_write_read_stack_size():
    ta = _ta().write(0, [1.0, 2.0]).write(2, [5.0, 6.0])
    assert ta.size().numpy() == 3 and ta.size().dtype == tf.int32
    np.testing.assert_array_equal(ta.stack().numpy(), [[1, 2], [0, 0], [5, 6]])
    assert ta.element_shape == tf.TensorShape([2])
    assert ta.dtype == tf.float32 and not ta.dynamic_size


def test_eager_write_is_in_place_and_overwrites():
    ta = _ta()
    ta.write(0, [1.0])
    ta.write(0, [3.0])   # eagerly TF allows overwriting
    np.testing.assert_array_equal(ta.stack().numpy(), [[3], [0], [0]])


def test_clear_after_read():
    ta = _ta().write(0, [1.0, 2.0])
    np.testing.assert_array_equal(ta.read(0).numpy(), [1, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not read index 0 twice"):
        ta.read(0)
    keep = _ta(clear_after_read=False).write(0, [1.0, 2.0])
    keep.read(0)
    np.testing.assert_array_equal(keep.read(0).numpy(), [1, 2])


def test_unwritten_reads_are_zeros_when_shape_known():
    np.testing.assert_array_equal(_ta(element_shape=[2]).read(1).numpy(), [0, 0])
    np.testing.assert_array_equal(_ta().write(0, [1.0, 2.0]).read(2).numpy(), [0, 0])
    with pytest.raises(ValueError, match="partially known"):
        _ta().read(1)
    assert _ta(size=0, element_shape=[2, 3]).stack().shape == (0, 2, 3)
    assert _ta(size=0, dynamic_size=True).stack().shape == (0,)


def test_errors_match_tf():
    with pytest.raises(tf.errors.OutOfRangeError, match="not resizeable and size is: 3"):
        _ta().write(5, 1.0)
    with pytest.raises(tf.errors.OutOfRangeError, match="negative indices"):
        _ta().write(-1, 1.0)
    with pytest.raises(tf.errors.OutOfRangeError, match="array size is: 3"):
        _ta().read(7)
    with pytest.raises(ValueError, match=r"Incompatible shape for value \(\(3,\)\), "
                                         r"expected \(\(2,\)\)"):
        _ta().write(0, [1.0, 2.0]).write(1, [1.0, 2.0, 3.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="trying to write dtype int32"):
        _ta().write(0, tf.constant([1, 2]))
    with pytest.raises(ValueError, match="Size must be declared"):
        tf.TensorArray(tf.float32)
    with pytest.raises(ValueError, match="Cannot unstack 4 tensors"):
        _ta().unstack(np.ones((4, 2), np.float32))


def test_dynamic_size_grows():
    ta = _ta(size=0, dynamic_size=True).write(4, 1.0)
    assert ta.size().numpy() == 5
    np.testing.assert_array_equal(ta.stack().numpy(), [0, 0, 0, 0, 1])
    ta = _ta(dynamic_size=True).unstack(np.ones((4, 2), np.float32))
    assert ta.size().numpy() == 4


def test_unstack_gather_scatter_concat_split():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    ta = _ta(clear_after_read=False).unstack(x)
    np.testing.assert_array_equal(ta.read(1).numpy(), x[1])
    np.testing.assert_array_equal(ta.gather([2, 0]).numpy(), x[[2, 0]])
    assert _ta().unstack(x[:2]).size().numpy() == 2     # unstack sets the size
    np.testing.assert_array_equal(
        _ta().scatter([2, 0], x[:2]).stack().numpy(), [x[1], [0, 0], x[0]])
    ragged = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    ragged = ragged.write(0, [1.0, 2.0]).write(1, [3.0])
    np.testing.assert_array_equal(ragged.concat().numpy(), [1, 2, 3])
    assert ragged.element_shape.rank is None
    parts = tf.TensorArray(tf.float32, size=2).split([1.0, 2.0, 3.0], [2, 1])
    np.testing.assert_array_equal(parts.read(1).numpy(), [3.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="size of lengths"):
        _ta().split([1.0, 2.0, 3.0], [2, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="scalar shape"):
        _ta(size=1).write(0, 1.0).concat()


def test_int_dtype_and_identity_close():
    ta = tf.TensorArray(tf.int32, size=2).write(0, 3).write(1, 4)
    np.testing.assert_array_equal(ta.stack().numpy(), [3, 4])
    assert ta.stack().dtype == tf.int32
    assert ta.identity() is ta
    assert ta.close() is None


def test_gradient_write_stack():
    def fn(x):
        ta = tf.TensorArray(tf.float64, size=2).write(0, x * 2.0).write(1, x * x)
        return ta.stack()
    check_grad(fn, [np.array([1.0, -2.0])])


def test_gradient_unstack_read_gather():
    def fn(x):
        ta = tf.TensorArray(tf.float64, size=3, clear_after_read=False).unstack(x)
        return ta.read(1) * 3.0 + tf.reduce_sum(ta.gather([0, 0, 2]), axis=0)
    check_grad(fn, [np.arange(6.0).reshape(3, 2)])


def test_gradient_scatter_concat_split():
    def fn(x):
        ta = tf.TensorArray(tf.float64, size=3).scatter([2, 0], x)
        parts = tf.TensorArray(tf.float64, size=2).split(tf.reshape(x, [-1]), [3, 1])
        return ta.stack() * 2.0, parts.concat() ** 2
    check_grad(fn, [np.array([[1.0, 2.0], [3.0, 4.0]])])


def test_eager_while_loop_carries_tensor_array():
    ta = tf.TensorArray(tf.float32, size=3)
    _, out = tf.while_loop(lambda i, ta: i < 3,
                           lambda i, ta: (i + 1, ta.write(i, tf.cast(i, tf.float32))),
                           [0, ta])
    np.testing.assert_array_equal(out.stack().numpy(), [0, 1, 2])
