"""``tf.make_tensor_proto`` / ``tf.make_ndarray``: TensorProto <-> NumPy arrays.

Used to read values back from event files (``EventAccumulator.Tensors(tag)``) and to
build ``tf.summary.write`` payloads. Works with any protobuf ``TensorProto`` class
(TensorBoard's, tensorboardX's, TensorFlow's): fields are read by name.
"""

from dlframe.backends.base import np  # host arrays for serialization
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.summary import summary_ops as _ops

# TensorFlow's DataType enum -> NumPy dtype (7 is DT_STRING)
_NUMPY = {code: name for name, code in _ops._DTYPES.items()}
_NUMPY[7] = "object"
# the repeated field holding each dtype's values when ``tensor_content`` is empty
_FIELDS = {"float32": "float_val", "float64": "double_val", "int64": "int64_val",
           "uint64": "uint64_val", "uint32": "uint32_val", "bool": "bool_val",
           "float16": "half_val", "object": "string_val"}


def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False,
                      allow_broadcast=False):
    """A ``TensorProto`` holding ``values``.

    Args:
      values: a Tensor, NumPy array, Python scalar or nested list.
      dtype: optional element type (a dtype or its name).
      shape: optional shape; a single value is broadcast to it.
      verify_shape: raise if ``values`` does not already have ``shape``.
      allow_broadcast: unused; accepted for compatibility.

    Returns:
      A TensorProto (tensorboardX's protobuf class).
    """
    host = values.numpy() if isinstance(values, Tensor) else values
    if dtype is not None:
        host = np.asarray(host, dtype=_dt.as_dtype(dtype).name
                          if _dt.as_dtype(dtype) != _dt.string else object)
    else:
        host = np.asarray(host)
        if not isinstance(values, (np.ndarray, np.generic, Tensor)):
            # Python numbers: floats become float32 and ints int32, as in TF
            if host.dtype == np.float64:
                host = host.astype(np.float32)
            elif host.dtype == np.int64 and (host.size == 0 or (
                    host.min() >= -2**31 and host.max() < 2**31)):
                host = host.astype(np.int32)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if host.shape != shape:
            if verify_shape or host.size not in (1, int(np.prod(shape))):
                raise TypeError(f"Expected Tensor's shape: {shape}, but got "
                                f"{host.shape}.")
            host = (np.broadcast_to(host.reshape(()), shape) if host.size == 1
                    else host.reshape(shape))
    return _ops._tensor_proto(np.array(host, order="C"))


def make_ndarray(tensor):
    """The NumPy array a ``TensorProto`` holds.

    Args:
      tensor: a TensorProto (for example ``event.tensor_proto``).

    Returns:
      A NumPy array with the proto's shape and dtype (``bytes`` objects for strings).

    Raises:
      TypeError: for a dtype dlframe does not read.
    """
    shape = tuple(int(d.size) for d in tensor.tensor_shape.dim)
    name = _NUMPY.get(int(tensor.dtype))
    if name is None:
        raise TypeError(f"Unsupported tensor type: {tensor.dtype}")
    count = int(np.prod(shape)) if shape else 1
    if tensor.tensor_content:
        dtype = np.dtype(name).newbyteorder("<")
        return np.frombuffer(tensor.tensor_content, dtype=dtype).astype(name).reshape(
            shape)
    if name == "object":
        values = np.array(list(tensor.string_val), dtype=object)
    elif name == "float16":
        values = np.array(list(tensor.half_val), dtype=np.uint16).view(np.float16)
    else:
        values = np.array(list(getattr(tensor, _FIELDS.get(name, "int_val"))),
                          dtype=name)
    if values.size == count:
        return values.reshape(shape)
    if values.size == 0:
        return np.zeros(shape, dtype=name)
    # TF stores a constant-filled tensor as its last value repeated
    return np.concatenate([values, np.repeat(values[-1:], count - values.size)]).reshape(
        shape)
