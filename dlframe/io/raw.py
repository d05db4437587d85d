"""Byte-level tensor codecs: decode_raw, serialize_tensor and parse_tensor."""

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.io.parsing import spec_run, unknown_dims

# TensorFlow's DataType enum values (tensorflow/core/framework/types.proto).
_DT_ENUM = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
            "string": 7, "complex64": 8, "int64": 9, "bool": 10, "bfloat16": 14,
            "uint16": 17, "complex128": 18, "float16": 19, "uint32": 22, "uint64": 23}
_ENUM_DT = {v: k for k, v in _DT_ENUM.items()}
_VAL_FIELD = {"float32": "float_val", "float64": "double_val", "int32": "int_val",
              "uint8": "int_val", "int16": "int_val", "int8": "int_val",
              "int64": "int64_val", "bool": "bool_val", "uint16": "int_val",
              "float16": "half_val", "uint32": "uint32_val", "uint64": "uint64_val",
              "complex64": "scomplex_val", "complex128": "dcomplex_val"}


def _host(value):
    if isinstance(value, Tensor):   # (a map's spec discovery traces real elements)
        host = value._value if spec_run() else value.numpy()
        return np.asarray(host, dtype=object if value.dtype is _dt.string else None)
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
        return _host(convert_to_tensor(value))   # a list of string Tensors
    if isinstance(value, (bytes, str, list, tuple)):
        return np.array(value, dtype=object)  # an 'S' array would drop trailing NULs
    arr = np.asarray(value)
    if arr.dtype.kind in ("U", "S"):
        arr = arr.astype(object)
    return arr


def _as_bytes(s):
    return s.encode() if isinstance(s, str) else bytes(s)


def decode_raw(input_bytes, out_type, little_endian=True, fixed_length=None, name=None):
    """Reinterprets the bytes of each string as a vector of ``out_type`` numbers.

    Returns:
      A Tensor of shape ``input_bytes.shape + [n]``.

    Raises:
      InvalidArgumentError: when the strings differ in length or a length is not a
        multiple of the element size.
    """
    dtype = _dt.as_dtype(out_type)
    np_dtype = np.dtype(dtype._np).newbyteorder("<" if little_endian else ">")
    arr = _host(input_bytes)
    flat = [_as_bytes(s) for s in arr.reshape(-1)]
    size = np_dtype.itemsize
    if fixed_length is not None:
        width = int(fixed_length)
        if width % size:
            raise InvalidArgumentError(None, None, f"fixed_length ({width}) must be a "
                                       f"multiple of the size of out_type ({size})")
        flat = [s[:width].ljust(width, b"\0") for s in flat]
    width = len(flat[0]) if flat else 0
    for i, s in enumerate(flat):
        if len(s) != width:
            raise InvalidArgumentError(
                None, None, "DecodeRaw requires input strings to all be the same size, "
                f"but element {i} has size {len(s)} != {width}")
    if width % size:
        raise InvalidArgumentError(None, None, f"Input to DecodeRaw has length {width} "
                                   f"that is not a multiple of {size}, the size of "
                                   f"{dtype.name}")
    out = np.frombuffer(b"".join(flat), dtype=np_dtype).astype(dtype._np)
    out = convert_to_tensor(out.reshape(arr.shape + (width // size,)))
    return unknown_dims(out, () if fixed_length is not None else (arr.ndim,))


def serialize_tensor(tensor, name=None):
    """A scalar string Tensor holding ``tensor`` as a serialized TensorProto."""
    from dlframe.train import _proto
    arr = _host(tensor if isinstance(tensor, Tensor) else convert_to_tensor(tensor))
    proto = _proto.classes()["TensorProto"]()
    dtype = _dt.from_numpy(arr.dtype)
    proto.dtype = _DT_ENUM[dtype.name]
    for d in arr.shape:
        proto.tensor_shape.dim.add(size=int(d))
    if dtype is _dt.string:
        proto.string_val.extend(_as_bytes(s) for s in arr.reshape(-1))
    else:
        proto.tensor_content = np.ascontiguousarray(arr).astype(
            arr.dtype.newbyteorder("<")).tobytes()
    return convert_to_tensor(np.asarray(proto.SerializeToString(), dtype=object))


def parse_tensor(serialized, out_type, name=None):
    """The Tensor stored in a serialized TensorProto.

    Raises:
      InvalidArgumentError: for a malformed proto or a dtype other than ``out_type``.
    """
    from dlframe.train import _proto
    data = _host(serialized)
    if data.ndim != 0:
        raise InvalidArgumentError(None, None, "parse_tensor expects a scalar string")
    try:
        proto = _proto.classes()["TensorProto"].FromString(_as_bytes(data[()]))
    except Exception as exc:
        raise InvalidArgumentError(None, None, f"Could not parse `serialized` as "
                                   f"TensorProto: {exc}") from None
    want = _dt.as_dtype(out_type)
    got = _ENUM_DT.get(proto.dtype)
    if got != want.name:
        raise InvalidArgumentError(None, None, f"Type mismatch between parsed tensor "
                                   f"({got}) and dtype ({want.name})")
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
    n = int(np.prod(shape)) if shape else 1
    if want is _dt.string:
        arr = np.empty(len(proto.string_val), dtype=object)
        arr[:] = list(proto.string_val)
    elif proto.tensor_content:
        arr = np.frombuffer(proto.tensor_content,
                            dtype=np.dtype(want._np).newbyteorder("<")).astype(want._np)
    else:
        vals = np.asarray(getattr(proto, _VAL_FIELD[want.name]))
        if want.name == "float16":
            vals = vals.astype(np.uint16).view(np.float16)
        elif want.is_complex:
            vals = vals[0::2] + 1j * vals[1::2]
        arr = vals.astype(want._np)
    if arr.size == 1 and n != 1:
        arr = np.broadcast_to(arr, (n,))
    if arr.size != n:
        raise InvalidArgumentError(None, None, f"Could not parse `serialized`: {arr.size} "
                                   f"values for shape {list(shape)}")
    out = convert_to_tensor(np.array(arr).reshape(shape))
    return unknown_dims(out, range(-1, len(shape)))   # TF: even the rank is unknown
