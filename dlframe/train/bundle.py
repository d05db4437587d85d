"""TensorFlow's tensor-bundle checkpoint files: ``<prefix>.index`` and
``<prefix>.data-00000-of-00001``.

The data file holds the tensors' bytes back to back (little-endian, C order; a string
tensor as varint64 lengths, a masked CRC32C of the lengths, then the bytes). The index
file is a LevelDB-format table, sorted by key: the empty key holds a
``BundleHeaderProto`` and every other key (a tensor's name) a ``BundleEntryProto``
giving its dtype, shape, shard, offset, size and masked CRC32C in the data file.

Written from the published formats (LevelDB's table format, TensorFlow's
tensor_bundle.proto and tensor_shape.proto field numbers); the few protobuf messages
involved are encoded by hand, so no protobuf package is needed.
"""

import struct
import sys

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.io.tfrecord import crc32c
from dlframe.io.tfrecord import mask_crc as mask

DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"
_MAGIC = 0xDB4775248B80FB57
_BLOCK_SIZE = 4096
_RESTART_INTERVAL = 16
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

# tensorflow/core/framework/types.proto DataType values
_ENUM = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
         "string": 7, "complex64": 8, "int64": 9, "bool": 10, "bfloat16": 14,
         "uint16": 17, "complex128": 18, "float16": 19, "uint32": 22, "uint64": 23}
_NAME = {v: k for k, v in _ENUM.items()}


class BundleError(ValueError):
    """A file that is not a readable tensor bundle (or one using unsupported features)."""


# ------------------------------------------------------------------ protobuf wire
def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1   # negative int64 values use ten bytes, as protobuf
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise BundleError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def field_varint(number, value):
    return _varint(number << 3) + _varint(value)


def field_bytes(number, value):
    value = value.encode() if isinstance(value, str) else bytes(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def field_fixed32(number, value):
    return _varint(number << 3 | 5) + _U32.pack(value)


def parse_message(buf):
    """{field number: [values]} of a serialized message (varints as ints, fixed
    fields as ints, length-delimited fields as bytes)."""
    fields, pos = {}, 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = _U64.unpack_from(buf, pos)[0], pos + 8
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            value, pos = bytes(buf[pos:pos + size]), pos + size
        elif wire == 5:
            value, pos = _U32.unpack_from(buf, pos)[0], pos + 4
        else:
            raise BundleError(f"unsupported protobuf wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


# ------------------------------------------------------------------ tensors
def _tensor_bytes(arr):
    """(bytes, masked crc32c, TF dtype name) of one host array."""
    if arr.dtype == object or arr.dtype.kind in "SU":
        items = [x.encode() if isinstance(x, str) else bytes(x) for x in arr.reshape(-1)]
        lengths = b"".join(_varint(len(x)) for x in items)
        crc = 0
        for x in items:   # the checksum covers each length as a uint32 (uint64 if huge)
            size = len(x)
            crc = crc32c(_U32.pack(size) if size < 1 << 32 else _U64.pack(size), crc)
        length_crc = _U32.pack(mask(crc))
        crc = crc32c(length_crc, crc)
        payload = b"".join(items)
        return lengths + length_crc + payload, mask(crc32c(payload, crc)), "string"
    name = _dt.from_numpy(arr.dtype).name
    if name not in _ENUM:
        raise BundleError(f"dtype {name} cannot be written to a checkpoint")
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    raw = np.ascontiguousarray(arr).tobytes()
    return raw, mask(crc32c(raw)), name


def _entry_proto(dtype_name, shape, offset, size, crc):
    dims = b"".join(field_bytes(2, field_varint(1, d)) for d in shape)
    return (field_varint(1, _ENUM[dtype_name]) + field_bytes(2, dims)
            + (field_varint(4, offset) if offset else b"")
            + (field_varint(5, size) if size else b"") + field_fixed32(6, crc))


def _header_proto():
    version = field_varint(1, 1)   # producer 1 (kTensorBundleVersion), min_consumer 0
    return field_varint(1, 1) + field_bytes(3, version)   # num_shards=1, little endian


def _decode_string_tensor(raw, count):
    pos, lengths = 0, []
    for _ in range(count):
        n, pos = _read_varint(raw, pos)
        lengths.append(n)
    pos += 4   # the lengths' checksum
    out = np.empty(count, dtype=object)
    for i, n in enumerate(lengths):
        out[i] = bytes(raw[pos:pos + n])
        pos += n
    return out


def _decode_entry(buf):
    f = parse_message(buf)
    if 7 in f:
        raise BundleError("partitioned (sliced) variables are not supported")
    shape_fields = parse_message(f.get(2, [b""])[0])
    shape = [parse_message(d).get(1, [0])[0] for d in shape_fields.get(2, [])]
    return {"dtype": _NAME.get(f.get(1, [0])[0]), "shape": shape,
            "shard": f.get(3, [0])[0], "offset": f.get(4, [0])[0],
            "size": f.get(5, [0])[0], "crc": f.get(6, [None])[0]}


# ------------------------------------------------------------------ LevelDB table
class _BlockBuilder:
    def __init__(self, restart_interval):
        self.buf = bytearray()
        self.restarts = [0]
        self.count = 0
        self.last = b""
        self.interval = restart_interval

    def add(self, key, value):
        shared = 0
        if self.count < self.interval:
            limit = min(len(key), len(self.last))
            while shared < limit and key[shared] == self.last[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.count = 0
        self.buf += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        self.buf += key[shared:] + value
        self.last = key
        self.count += 1

    def finish(self):
        return bytes(self.buf) + b"".join(_U32.pack(r) for r in self.restarts) + \
            _U32.pack(len(self.restarts))


def _handle(offset, size):
    return _varint(offset) + _varint(size)


def build_table(items):
    """A LevelDB table of the (key bytes, value bytes) ``items`` (sorted here)."""
    out = bytearray()
    index = _BlockBuilder(1)

    def emit(contents):
        offset = len(out)
        trailer = b"\x00"   # no compression
        out.extend(contents + trailer + _U32.pack(mask(crc32c(contents + trailer))))
        return _handle(offset, len(contents))

    block = _BlockBuilder(_RESTART_INTERVAL)
    for key, value in sorted(items):
        block.add(key, value)
        if len(block.buf) >= _BLOCK_SIZE:
            index.add(block.last, emit(block.finish()))
            block = _BlockBuilder(_RESTART_INTERVAL)
    if block.count or not index.count:
        index.add(block.last, emit(block.finish()))
    meta = emit(_BlockBuilder(_RESTART_INTERVAL).finish())
    footer = meta + emit(index.finish())
    out += footer + b"\x00" * (40 - len(footer)) + _U64.pack(_MAGIC)
    return bytes(out)


def _block_entries(block):
    n_restarts = _U32.unpack_from(block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * n_restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = _read_varint(block, pos)
        unshared, pos = _read_varint(block, pos)
        size, pos = _read_varint(block, pos)
        key = key[:shared] + bytes(block[pos:pos + unshared])
        pos += unshared
        yield key, bytes(block[pos:pos + size])
        pos += size


def _read_block(data, handle):
    offset, pos = _read_varint(handle, 0)
    size, _ = _read_varint(handle, pos)
    if data[offset + size] != 0:
        raise BundleError("compressed checkpoint index blocks are not supported")
    return data[offset:offset + size]


def read_table(data):
    """The (key, value) pairs of a LevelDB table held in ``data`` (bytes)."""
    if len(data) < 48 or _U64.unpack_from(data, len(data) - 8)[0] != _MAGIC:
        raise BundleError("not a LevelDB table (bad magic number)")
    footer = data[len(data) - 48:]
    _, pos = _read_varint(footer, 0)          # metaindex offset
    _, pos = _read_varint(footer, pos)        # metaindex size
    index_offset, pos = _read_varint(footer, pos)
    index_size, _ = _read_varint(footer, pos)
    index = data[index_offset:index_offset + index_size]
    for _, handle in _block_entries(index):
        yield from _block_entries(_read_block(data, handle))


def is_table(path):
    """Whether the file at ``path`` ends in the LevelDB table magic number."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        if f.tell() < 48:
            return False
        f.seek(-8, 2)
        return _U64.unpack(f.read(8))[0] == _MAGIC


# ------------------------------------------------------------------ bundles
def encode_bundle(tensors):
    """(index bytes, data bytes) of a bundle holding ``tensors`` ({name: host array})."""
    data, items, offset = [], [(b"", _header_proto())], 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        raw, crc, dtype_name = _tensor_bytes(arr)
        items.append((name.encode(), _entry_proto(dtype_name, arr.shape, offset,
                                                  len(raw), crc)))
        data.append(raw)
        offset += len(raw)
    return build_table(items), b"".join(data)


def decode_bundle(index_bytes, read_data):
    """{name: host array} of a bundle; ``read_data(shard, num_shards)`` returns the
    bytes of one data file."""
    entries, num_shards = {}, 1
    for key, value in read_table(index_bytes):
        if key == b"":
            num_shards = parse_message(value).get(1, [1])[0]
        else:
            entries[key.decode()] = _decode_entry(value)
    shards, out = {}, {}
    for name, e in entries.items():
        if e["shard"] not in shards:
            shards[e["shard"]] = read_data(e["shard"], num_shards)
        raw = shards[e["shard"]][e["offset"]:e["offset"] + e["size"]]
        if e["dtype"] is None:
            raise BundleError(f"tensor {name!r} has a dtype dlframe cannot read")
        count = int(np.prod(e["shape"], dtype=np.int64))
        if e["dtype"] == "string":
            out[name] = _decode_string_tensor(raw, count).reshape(e["shape"])
            continue
        if e["crc"] is not None and mask(crc32c(raw)) != e["crc"]:
            raise BundleError(f"checksum mismatch for tensor {name!r} in the data file")
        np_dtype = np.dtype(_dt.as_dtype(e["dtype"]).as_numpy_dtype)
        if sys.byteorder == "big" and np_dtype.itemsize > 1:
            np_dtype = np_dtype.newbyteorder("<")
        out[name] = np.frombuffer(raw, dtype=np_dtype, count=count).reshape(
            e["shape"]).copy()
    return out


def data_path(prefix, shard=0, num_shards=1):
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"
