"""TFRecord files: record framing, masked CRC32C, compression, the writer and a reader.

A record on disk is::

    uint64 length (little endian)
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

with ``masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2**32)``. A file may be
wrapped whole in a GZIP or ZLIB stream.
"""

import gzip
import io as _pyio
import os
import struct
import zlib

from dlframe.errors import (
    DataLossError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)

_MASK_DELTA = 0xA282EAD8
_LEN = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_crc_extend = None


def crc32c(data, crc=0):
    """CRC32C (Castagnoli) of ``data`` (bytes-like), continuing from ``crc``."""
    global _crc_extend
    if _crc_extend is None:
        import google_crc32c  # an install requirement (setup.py)
        _crc_extend = google_crc32c.extend
    return _crc_extend(crc, bytes(data))


def mask_crc(crc):
    """The masked form TFRecord files and checkpoint bundles store beside their data."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's masked CRC32C of ``data`` (bytes)."""
    return mask_crc(crc32c(data))


def frame_record(data):
    """The on-disk bytes of one record holding ``data``."""
    header = _LEN.pack(len(data))
    return b"".join((header, _CRC.pack(masked_crc32c(header)), data,
                     _CRC.pack(masked_crc32c(data))))


# ---------------------------------------------------------------- compression
_COMPRESSION = {None: "", "": "", "NONE": "", "GZIP": "GZIP", "ZLIB": "ZLIB"}


def compression_name(compression_type):
    """'' / 'GZIP' / 'ZLIB' for a compression argument (string, options or None)."""
    if isinstance(compression_type, TFRecordOptions):
        compression_type = compression_type.compression_type
    key = compression_type.upper() if isinstance(compression_type, str) else \
        compression_type
    if isinstance(compression_type, bytes):
        key = compression_type.decode().upper()
    if key not in _COMPRESSION:
        raise InvalidArgumentError(
            f"Unsupported compression_type {compression_type!r}; expected '', 'GZIP' or "
            "'ZLIB'.")
    return _COMPRESSION[key]


def _options_compression(compression_type):
    """``compression_name`` for TFRecordOptions, which TF validates in Python
    (ValueError) rather than in the reader op (InvalidArgumentError)."""
    try:
        return compression_name(compression_type)
    except InvalidArgumentError:
        raise ValueError(
            f'Not a valid compression_type: "{compression_type}"') from None


class _ZlibReader(_pyio.RawIOBase):
    """Streaming reader of a ZLIB-compressed file."""

    def __init__(self, fileobj, chunk=1 << 16):
        self._file = fileobj
        self._z = zlib.decompressobj()
        self._buf = b""
        self._chunk = chunk
        self._eof = False

    def readable(self):
        return True

    def readinto(self, b):
        while len(self._buf) < len(b) and not self._eof:
            raw = self._file.read(self._chunk)
            if not raw:
                self._buf += self._z.flush()
                self._eof = True
            else:
                self._buf += self._z.decompress(raw)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self):
        self._file.close()
        super().close()


class _ZlibWriter(_pyio.RawIOBase):
    def __init__(self, fileobj, level=-1):
        self._file = fileobj
        self._z = zlib.compressobj(level)

    def writable(self):
        return True

    def write(self, b):
        self._file.write(self._z.compress(bytes(b)))
        return len(b)

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        if not self.closed:
            self._file.write(self._z.flush())
            self._file.close()
        super().close()


def open_read(path, compression_type=None):
    """A binary file object reading ``path`` decompressed.

    Raises:
      NotFoundError: when the file does not exist.
    """
    kind = compression_name(compression_type)
    path = os.fspath(path.decode() if isinstance(path, bytes) else path)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise NotFoundError(None, None, f"{path}; No such file or directory") from None
    if kind == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "ZLIB":
        return _pyio.BufferedReader(_ZlibReader(raw))
    return raw


def open_write(path, compression_type=None, compression_level=None):
    kind = compression_name(compression_type)
    level = -1 if compression_level is None else int(compression_level)
    raw = open(os.fspath(path), "wb")
    if kind == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9 if level < 0 else level,
                             mtime=0)
    if kind == "ZLIB":
        return _ZlibWriter(raw, level)
    return raw


# ---------------------------------------------------------------- reading
def read_records(path, compression_type=None):
    """Yields the data of each record of a TFRecord file, verifying both CRCs.

    Raises:
      DataLossError: naming the file and the record's byte offset (in the decompressed
        stream) on a CRC mismatch or a truncated record.
    """
    crc = crc32c
    name = path.decode() if isinstance(path, bytes) else os.fspath(path)
    with open_read(path, compression_type) as f:
        offset = 0
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise DataLossError(None, None, f"{name}: truncated record at byte offset "
                                    f"{offset}: header has {len(header)} of 12 bytes")
            length, = _LEN.unpack_from(header)
            if _unmask(_CRC.unpack_from(header, 8)[0]) != crc(header[:8]):
                raise DataLossError(None, None, f"{name}: corrupted record at byte offset "
                                    f"{offset}: length CRC mismatch")
            body = f.read(length + 4)
            if len(body) < length + 4:
                raise DataLossError(None, None, f"{name}: truncated record at byte offset "
                                    f"{offset}: expected {length + 4} bytes of data and "
                                    f"CRC, got {len(body)}")
            data = body[:length]
            if _unmask(_CRC.unpack_from(body, length)[0]) != crc(data):
                raise DataLossError(None, None, f"{name}: corrupted record at byte offset "
                                    f"{offset}: data CRC mismatch")
            yield data
            offset += 16 + length


def _unmask(masked):
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# ---------------------------------------------------------------- writing
class TFRecordOptions:
    """Options for TFRecord files (``tf.io.TFRecordOptions``).

    Args:
      compression_type: '', 'GZIP' or 'ZLIB'.
      flush_mode, input_buffer_size, output_buffer_size, window_bits, mem_level,
      compression_strategy: accepted for compatibility.
      compression_level: 0-9 for GZIP/ZLIB (default: zlib's default).
    """

    compression_type_map = {"": "", "GZIP": "GZIP", "ZLIB": "ZLIB"}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None,
                 output_buffer_size=None, window_bits=None, compression_level=None,
                 compression_method=None, mem_level=None, compression_strategy=None):
        self.compression_type = _options_compression(compression_type)
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options):
        if options is None:
            return ""
        return _options_compression(options)

    def __repr__(self):
        return f"TFRecordOptions(compression_type={self.compression_type!r})"


class TFRecordWriter:
    """Writes records to a TFRecord file (``tf.io.TFRecordWriter``).

    Args:
      path: the file to write.
      options: a ``TFRecordOptions`` or a compression type string.

    Use as a context manager or call ``close()``.
    """

    def __init__(self, path, options=None):
        if isinstance(options, TFRecordOptions):
            kind, level = options.compression_type, options.compression_level
        else:
            kind, level = compression_name(options), None
        self._path = os.fspath(path)
        try:
            self._file = open_write(self._path, kind, level)
        except FileNotFoundError:
            raise NotFoundError(None, None,
                                f"{self._path}; No such file or directory") from None

    def write(self, record):
        """Appends one record (bytes, str or a scalar string Tensor)."""
        if self._file is None:
            raise FailedPreconditionError(None, None, "Writer is closed.")
        if isinstance(record, str):
            record = record.encode()
        elif hasattr(record, "numpy"):
            record = record.numpy()
        if not isinstance(record, (bytes, bytearray, memoryview)):
            raise TypeError(f"TFRecordWriter.write expects bytes, got "
                            f"{type(record).__name__}")
        self._file.write(frame_record(bytes(record)))

    def flush(self):
        if self._file is not None:
            self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def tf_record_iterator(path, options=None):
    """Yields the records of a TFRecord file (TF1's ``tf.compat.v1.io.tf_record_iterator``)."""
    return read_records(path, options)
