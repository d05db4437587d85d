"""Byte-level tensor codecs: decode_raw, serialize_tensor and parse_tensor."""

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.io.host_ops import RANK, host_primitive, run, spec_run, string_input

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
    if isinstance(value, (bytes, str, list, tuple)):
        return np.array(value, dtype=object)  # an 'S' array would drop trailing NULs
    arr = np.asarray(value)
    if arr.dtype.kind in ("U", "S"):
        arr = arr.astype(object)
    return arr


def _as_bytes(s):
    return s.encode() if isinstance(s, str) else bytes(s)


def _raw_blank(input_bytes, *, out_type, little_endian, fixed_length):
    width = (fixed_length or 0) // np.dtype(out_type).itemsize
    return np.zeros(np.shape(input_bytes) + (width,), np.dtype(out_type))


@host_primitive("DecodeRaw", _raw_blank,   # a fixed length: the input's shape + [n]
                value_shaped=lambda inputs, attrs: attrs["fixed_length"] is None)
def _decode_raw_p(input_bytes, *, out_type, little_endian, fixed_length):
    arr = np.asarray(input_bytes, dtype=object)
    target = np.dtype(out_type)
    np_dtype = target.newbyteorder("<" if little_endian else ">")
    flat = [_as_bytes(s) for s in arr.reshape(-1)]
    size = np_dtype.itemsize
    if fixed_length is not None:
        flat = [s[:fixed_length].ljust(fixed_length, b"\0") for s in flat]
    width = len(flat[0]) if flat else 0
    for i, s in enumerate(flat):
        if len(s) != width:
            raise InvalidArgumentError(
                None, None, "DecodeRaw requires input strings to all be the same size, "
                f"but element {i} has size {len(s)} != {width}")
    if width % size:
        raise InvalidArgumentError(None, None, f"Input to DecodeRaw has length {width} "
                                   f"that is not a multiple of {size}, the size of "
                                   f"{out_type}")
    out = np.frombuffer(b"".join(flat), dtype=np_dtype).astype(target)
    return out.reshape(arr.shape + (width // size,))


def decode_raw(input_bytes, out_type, little_endian=True, fixed_length=None, name=None):
    """Reinterprets the bytes of each string as a vector of ``out_type`` numbers.

    Args:
      input_bytes: a string Tensor (any shape) of equally long strings.
      out_type: the numeric dtype to read.
      little_endian: the byte order of the numbers.
      fixed_length: read this many bytes of each string (cut or zero-padded); the
        last dimension is then known in a graph.
      name: unused.

    Returns:
      A Tensor of shape ``input_bytes.shape + [n]``.

    Raises:
      InvalidArgumentError: when the strings differ in length or a length is not a
        multiple of the element size (when the op runs).
    """
    dtype = _dt.as_dtype(out_type)
    if fixed_length is not None:
        fixed_length = int(fixed_length)
        if fixed_length % dtype.size:
            raise InvalidArgumentError(None, None, f"fixed_length ({fixed_length}) must "
                                       "be a multiple of the size of out_type "
                                       f"({dtype.size})")
    contents = string_input(input_bytes, "input_bytes", scalar=False)
    unknown = () if fixed_length is not None else (contents.shape.rank,)
    attrs = {"out_type": dtype.name, "little_endian": bool(little_endian),
             "fixed_length": fixed_length}
    return run(_decode_raw_p, (contents,), attrs, unknown)


def serialize_tensor(tensor, name=None):
    """A scalar string Tensor holding ``tensor`` as a serialized TensorProto."""
    from dlframe.train import _proto
    arr = _host(tensor if isinstance(tensor, Tensor) else convert_to_tensor(tensor))
    proto = _proto.classes()["TensorProto"]()
    dtype = _dt.from_numpy(arr.dtype)
    proto.dtype = _DT_ENUM[dtype.name]
    proto.tensor_shape.SetInParent()   # TF writes the shape even of a scalar
    for d in arr.shape:
        proto.tensor_shape.dim.add(size=int(d))
    if dtype is _dt.string:
        proto.string_val.extend(_as_bytes(s) for s in arr.reshape(-1))
    else:
        proto.tensor_content = np.ascontiguousarray(arr).astype(
            arr.dtype.newbyteorder("<")).tobytes()
    return convert_to_tensor(np.asarray(proto.SerializeToString(), dtype=object))


def _parse_blank(serialized, *, out_type):
    if out_type == "string":
        return np.full((), b"", dtype=object)
    return np.zeros((), np.dtype(out_type))


@host_primitive("ParseTensor", _parse_blank)
def _parse_tensor_p(serialized, *, out_type):
    from dlframe.train import _proto
    data = np.asarray(serialized, dtype=object)
    if data.ndim != 0:
        raise InvalidArgumentError(None, None, "Expected `serialized` to be a scalar, "
                                   f"got shape: {list(data.shape)}")
    try:
        proto = _proto.classes()["TensorProto"].FromString(_as_bytes(data[()]))
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and kin
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
    return np.array(arr).reshape(shape)


def parse_tensor(serialized, out_type, name=None):
    """The Tensor stored in a serialized TensorProto (a graph knows neither its
    shape nor its rank).

    Args:
      serialized: a scalar string Tensor, as ``serialize_tensor`` makes.
      out_type: the dtype of the stored tensor.
      name: unused.

    Raises:
      InvalidArgumentError: for a malformed proto or a dtype other than ``out_type``
        (when the op runs).
    """
    attrs = {"out_type": _dt.as_dtype(out_type).name}
    return run(_parse_tensor_p, (string_input(serialized, "serialized", scalar=False),),
               attrs, {RANK})
