"""The compressions of ``Dataset.save`` / ``load`` files: TF's 'GZIP', 'ZLIB' and
'SNAPPY'; any other string (TF's 'NONE', '', 'ZIP', ...) writes plain files, as TF's
snapshot writer does.

A compressed file is one stream over the whole shard: gzip, zlib, or a raw Snappy
block (written with literal elements only, so valid Snappy without the size gain;
the reader decodes any Snappy block).
"""

import io

from dlframe.io import tfrecord as _tfr

CODECS = ("GZIP", "ZLIB", "SNAPPY")


def parse(value, arg="compression"):
    """TF's reading of a ``compression`` argument: the codec name, or None for a
    plain file (None and every other string; the names are case-sensitive).

    Raises:
      TypeError: ``value`` is neither None nor a string (TF's message).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"Expected string for argument '{arg}' not {value!r}.")
    return value if value in CODECS else None


def open_file(path, mode, compression):
    """``path`` opened in binary ``mode`` ('rb' or 'wb') through ``compression``
    (GZIP and ZLIB as TFRecord files are)."""
    if compression != "SNAPPY":
        return (_tfr.open_read if mode == "rb" else _tfr.open_write)(path, compression)
    if mode == "rb":
        with open(path, "rb") as f:
            return io.BytesIO(snappy_decompress(f.read()))
    return _CompressingWriter(path, snappy_compress)


class _CompressingWriter(io.BytesIO):
    """Collects the shard's bytes; ``close`` writes them compressed to ``path``."""

    def __init__(self, path, compress):
        super().__init__()
        self._path, self._compress = path, compress

    def close(self):
        if not self.closed:
            with open(self._path, "wb") as f:
                f.write(self._compress(self.getvalue()))
        super().close()


# ---------------------------------------------------------------- Snappy raw blocks
def _varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def snappy_compress(data):
    """A Snappy block of ``data`` made of literal elements (at most 64 KiB each)."""
    out = bytearray(_varint(len(data)))
    for start in range(0, len(data), 1 << 16):
        chunk = data[start:start + (1 << 16)]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        else:
            size = (n.bit_length() + 7) // 8
            out.append((59 + size) << 2)
            out += n.to_bytes(size, "little")
        out += chunk
    return bytes(out)


def snappy_decompress(block):
    """Decodes a Snappy block (literals and copies).

    Raises:
      ValueError: ``block`` is not a valid Snappy block.
    """
    length, pos, shift = 0, 0, 0
    while True:
        if pos >= len(block):
            raise ValueError("truncated Snappy length")
        byte = block[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    out = bytearray()
    while pos < len(block):
        tag = block[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:   # literal
            n = tag >> 2
            if n >= 60:
                size = n - 59
                n = int.from_bytes(block[pos:pos + size], "little")
                pos += size
            out += block[pos:pos + n + 1]
            pos += n + 1
            continue
        if kind == 1:   # copy, 11-bit offset
            n, offset = 4 + ((tag >> 2) & 7), ((tag >> 5) << 8) | block[pos]
            pos += 1
        else:           # copy, 16- or 32-bit offset
            size = 2 if kind == 2 else 4
            n = (tag >> 2) + 1
            offset = int.from_bytes(block[pos:pos + size], "little")
            pos += size
        if offset == 0 or offset > len(out):
            raise ValueError("bad Snappy copy offset")
        for _ in range(n):   # copies may overlap their own output
            out.append(out[-offset])
    if len(out) != length:
        raise ValueError("Snappy block length mismatch")
    return bytes(out)
