"""String codecs of ``tf.io``: web-safe base64, ``decode_compressed``,
``decode_json_example``, SparseTensor (de)serialization; plus ``match_filenames_once``
and ``write_graph``."""

import base64
import binascii
import gzip
import re
import zlib

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import DataLossError, InvalidArgumentError, UnimplementedError
from dlframe.io.raw import parse_tensor, serialize_tensor
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.ops.strings import _apply, _strings

_WEB_SAFE = re.compile(rb"[A-Za-z0-9_\-]*={0,2}")


# ---------------------------------------------------------------- base64
def encode_base64(input, pad=False, name=None):
    """Encodes each string with the web-safe base64 alphabet (``-`` and ``_`` for
    ``+`` and ``/``).

    Args:
      input: a string Tensor.
      pad: keep the ``=`` padding (TF's default drops it).

    Returns:
      A string Tensor of the same shape.
    """
    x = _strings(input, "EncodeBase64")

    def encode(b):
        out = base64.urlsafe_b64encode(b)
        return out if pad else out.rstrip(b"=")
    return _apply(x, encode)


def _decode_one(b):
    if not _WEB_SAFE.fullmatch(b):
        raise InvalidArgumentError(None, None, "Invalid character found in base64.")
    body = b.rstrip(b"=")
    if len(body) % 4 == 1:
        raise InvalidArgumentError(None, None, "Base64 string's length cannot be "
                                   f"1 mod 4: {len(body)}")
    try:
        return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgumentError(None, None,
                                   f"Invalid base64 string: {exc}") from None


def decode_base64(input, name=None):
    """Decodes web-safe base64 strings (padding optional).

    Args:
      input: a string Tensor.

    Raises:
      InvalidArgumentError: a character outside the web-safe alphabet, or a length
        that is 1 mod 4.
    """
    return _apply(_strings(input, "DecodeBase64"), _decode_one)


# ---------------------------------------------------------------- compression / JSON
def _decompressor(compression_type):
    kind = (compression_type or "").upper()
    if kind == "":
        return lambda b: b
    if kind == "ZLIB":
        return zlib.decompress
    if kind == "GZIP":
        return gzip.decompress
    if kind == "ZSTD":
        try:
            import zstandard
        except ImportError:
            raise UnimplementedError(None, None, "ZSTD decompression needs the "
                                     "'zstandard' package") from None
        return zstandard.ZstdDecompressor().decompress
    raise InvalidArgumentError(None, None, "Only ZLIB, ZSTD, GZIP or NONE are "
                               "supported compressions, got compression_type="
                               f"{compression_type!r}")


def decode_compressed(bytes, compression_type="", name=None):
    """Decompresses each string of ``bytes``.

    Args:
      bytes: a string Tensor of compressed data.
      compression_type: "" (no compression), "ZLIB", "GZIP" or "ZSTD".

    Raises:
      DataLossError: data that does not decompress.
    """
    decompress = _decompressor(compression_type)

    def one(b):
        try:
            return decompress(b)
        except (zlib.error, OSError, EOFError) as exc:
            raise DataLossError(None, None, f"Decompression failed: {exc}") from None
    return _apply(_strings(bytes, "DecodeCompressed"), one)


def decode_json_example(json_examples, name=None):
    """Converts JSON-encoded ``tf.train.Example`` records (protobuf's JSON mapping:
    camelCase field names, int64 values as strings or numbers, bytes as standard
    base64) into binary-serialized Examples.

    Args:
      json_examples: a string Tensor of JSON texts.

    Raises:
      InvalidArgumentError: text that is not a JSON Example.
    """
    from google.protobuf import json_format

    from dlframe.train import _proto
    example_cls = _proto.classes()["Example"]

    def one(b):
        try:
            example = json_format.Parse(b.decode("utf-8"), example_cls())
            return example.SerializeToString()
        except (json_format.ParseError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidArgumentError(None, None,
                                       f"Error while parsing JSON: {exc}") from None
    return _apply(_strings(json_examples, "DecodeJSONExample"), one)


# ---------------------------------------------------------------- SparseTensor
def _check_out_type(out_type):
    if _dt.as_dtype(out_type) != _dt.string:
        raise ValueError(f"`out_type` must be tf.string (dlframe has no variant "
                         f"tensors), got {out_type!r}")


def _parts(sp_input):
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"`sp_input` must be a SparseTensor, got {sp_input!r}")
    return (np.asarray(sp_input.indices.numpy(), np.int64), sp_input.values.numpy(),
            np.asarray(sp_input.dense_shape.numpy(), np.int64))


def _serialized_triple(indices, values, shape):
    return [serialize_tensor(convert_to_tensor(a)).numpy()
            for a in (indices, values, shape)]


def _string_array(items, shape):
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return convert_to_tensor(out.reshape(shape))


def serialize_sparse(sp_input, out_type=_dt.string, name=None):
    """A ``[3]`` string Tensor: the serialized indices, values and dense shape.

    Args:
      sp_input: a SparseTensor.
      out_type: tf.string.
    """
    _check_out_type(out_type)
    return _string_array(_serialized_triple(*_parts(sp_input)), (3,))


def serialize_many_sparse(sp_input, out_type=_dt.string, name=None):
    """Serializes each row (first dimension) of a SparseTensor: a ``[N, 3]`` string
    Tensor whose row ``i`` is ``serialize_sparse(sp_input[i])``.

    Args:
      sp_input: a SparseTensor of rank >= 1 (rows are its first dimension).
      out_type: tf.string.
    """
    _check_out_type(out_type)
    indices, values, shape = _parts(sp_input)
    if shape.size < 1:
        raise InvalidArgumentError(None, None, "SparseTensor must have rank >= 1 to "
                                   "serialize its rows")
    items = []
    for row in range(int(shape[0])):
        hit = indices[:, 0] == row
        items += _serialized_triple(indices[hit, 1:], values[hit], shape[1:])
    return _string_array(items, (int(shape[0]), 3))


def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None):
    """The inverse of ``serialize_many_sparse``: stacks ``N`` serialized
    SparseTensors (rows of a ``[N, 3]`` string Tensor) into one of rank ``R + 1``
    whose dense shape is ``N`` followed by the largest row shape.

    Args:
      serialized_sparse: a ``[N, 3]`` string Tensor.
      dtype: the values' dtype.
      rank: the expected rank ``R + 1`` of the result, checked when given.

    Raises:
      InvalidArgumentError: malformed input, a dtype other than ``dtype`` or rows of
        different ranks.
    """
    data = serialized_sparse.numpy() if isinstance(serialized_sparse, Tensor) else \
        np.asarray(serialized_sparse, dtype=object)
    if data.ndim != 2 or data.shape[1] != 3:
        raise InvalidArgumentError(None, None, "Serialized sparse should be a matrix "
                                   f"with 3 columns, got shape {list(data.shape)}")
    dtype = _dt.as_dtype(dtype)
    rows = []
    for i, (ind, val, shp) in enumerate(data):
        values = _parse_values(val, dtype, i)
        rows.append((parse_tensor(ind, _dt.int64).numpy(), values,
                     parse_tensor(shp, _dt.int64).numpy()))
    row_ranks = {r[2].size for r in rows}
    if len(row_ranks) > 1:
        raise InvalidArgumentError(None, None, f"Inconsistent ranks of the serialized "
                                   f"SparseTensors: {sorted(row_ranks)}")
    row_rank = row_ranks.pop() if rows else (0 if rank is None else int(rank) - 1)
    if rank is not None and int(rank) != row_rank + 1:
        raise InvalidArgumentError(None, None, f"Expected rank {rank} but the "
                                   f"deserialized SparseTensors have rank "
                                   f"{row_rank + 1}")
    inner = np.max([r[2] for r in rows], axis=0) if rows else \
        np.zeros(row_rank, np.int64)
    indices = [np.concatenate([np.full((len(r[0]), 1), i, np.int64),
                               r[0].reshape(len(r[0]), row_rank)], axis=1)
               for i, r in enumerate(rows)]
    all_indices = np.concatenate(indices) if indices else \
        np.zeros((0, row_rank + 1), np.int64)
    np_dtype = object if dtype == _dt.string else dtype._np
    all_values = np.concatenate([r[1] for r in rows]).astype(np_dtype) if rows else \
        np.zeros(0, np_dtype)
    shape = np.concatenate([[len(rows)], inner]).astype(np.int64)
    return SparseTensor(convert_to_tensor(all_indices), convert_to_tensor(all_values),
                        convert_to_tensor(shape))


def _parse_values(serialized, dtype, row):
    try:
        return parse_tensor(serialized, dtype).numpy()
    except InvalidArgumentError as exc:
        if "Type mismatch" not in str(exc):
            raise
        got = str(exc).split("(")[1].split(")")[0]
        raise InvalidArgumentError(
            None, None, f"Requested SparseTensor of type {dtype.name} but "
            f"SparseTensor[{row}].values.dtype() == {got}") from None


# ---------------------------------------------------------------- files / graphs
def match_filenames_once(pattern, name=None):
    """A non-trainable string Variable holding the files matching ``pattern`` (a
    glob or a list of globs), sorted, computed once when it is created.

    Args:
      pattern: a glob pattern string or a list of them.
    """
    from dlframe.core.variable import Variable
    from dlframe.io.image_ops import matching_files
    return Variable(matching_files(pattern), trainable=False,
                    name=name or "matching_filenames")


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Not available: dlframe compiles functions into its own graph of primitives and
    has no TensorFlow ``GraphDef`` to write.

    Raises:
      NotImplementedError: always.
    """
    raise NotImplementedError(
        "tf.io.write_graph: dlframe has no GraphDef protocol buffer to write (its "
        "dlframe.function graphs are not TensorFlow graphs); save models with "
        "tf.saved_model.save or model.save instead. Received graph_or_graph_def="
        f"{type(graph_or_graph_def).__name__}, logdir={logdir!r}, name={name!r}")
