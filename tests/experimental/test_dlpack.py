"""tf.experimental.dlpack: capsules and ``__dlpack__`` objects, shared memory."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.experimental import dlpack


def test_round_trip_shares_memory():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    capsule = dlpack.to_dlpack(t)
    assert type(capsule).__name__ == "PyCapsule"
    back = dlpack.from_dlpack(capsule)
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    assert back.dtype == tf.float32
    assert np.shares_memory(back._value, t._value)
    with pytest.raises(ValueError, match="consumed only once"):
        dlpack.from_dlpack(capsule)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "float16",
                                   "float64", "bool", "complex64"])
def test_numpy_interop(dtype):
    arr = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
    t = dlpack.from_dlpack(arr)   # an object with __dlpack__
    assert t.dtype == tf.as_dtype(dtype) and t.shape.as_list() == [2, 3]
    np.testing.assert_array_equal(t.numpy(), arr)

    class Exporter:   # a foreign framework's tensor exporting through the protocol
        def __dlpack__(self, **kwargs):
            return dlpack.to_dlpack(t)

        def __dlpack_device__(self):
            return (1, 0)
    np.testing.assert_array_equal(np.from_dlpack(Exporter()), arr)


def test_views_and_errors():
    view = tf.broadcast_to(tf.constant([1.0, 2.0]), [3, 2])
    np.testing.assert_array_equal(dlpack.from_dlpack(dlpack.to_dlpack(view)).numpy(),
                                  np.tile([1.0, 2.0], (3, 1)))
    assert float(dlpack.from_dlpack(dlpack.to_dlpack(3.5))) == 3.5
    with pytest.raises(TypeError, match="string"):
        dlpack.to_dlpack(tf.constant(["a"]))
    with pytest.raises(TypeError, match="dlcapsule=3"):
        dlpack.from_dlpack(3)
    assert tf.experimental.dlpack.to_dlpack is dlpack.to_dlpack
