"""Host codecs for image files: PNG and BMP in pure Python/NumPy, JPEG and GIF through
Pillow when it is installed.

Every decoder returns a host NumPy array ``[height, width, channels]`` (GIF:
``[frames, height, width, 3]``) of the file's own channels; the ``tf.io`` ops in
``image_ops`` convert channels and dtypes.
"""

import struct
import zlib

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.errors import InvalidArgumentError

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_UNKNOWN = "Unknown image file format. One of JPEG, PNG, GIF, BMP required."


def image_format(data):
    """'png', 'jpeg', 'gif', 'bmp' or None, from the leading bytes of ``data``."""
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] in (b"GIF8",):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    return None


def _invalid(message):
    return InvalidArgumentError(None, None, message)


# ---------------------------------------------------------------- PNG
def _png_chunks(data):
    pos = len(_PNG_MAGIC)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IEND":
            return


def _unfilter(raw, height, row_bytes, bpp):
    """Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    out = np.zeros((height, row_bytes), dtype=np.uint8)
    prev = np.zeros(row_bytes, dtype=np.int32)
    stride = row_bytes + 1
    for y in range(height):
        kind = raw[y * stride]
        line = np.frombuffer(raw, np.uint8, row_bytes, y * stride + 1).astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 1:   # Sub: running sum of every bpp-th byte
            cur = _sub_cumsum(line, bpp)
        elif kind == 2:   # Up
            cur = (line + prev) & 0xFF
        elif kind in (3, 4):
            cur = _sequential_unfilter(line.tolist(), prev.tolist(), bpp, kind)
        else:
            raise _invalid(f"Invalid PNG data: unknown filter type {kind} in row {y}.")
        out[y] = cur
        prev = np.asarray(cur, dtype=np.int32)
    return out


def _sub_cumsum(line, bpp):
    n = len(line)
    pad = -n % bpp
    cols = np.concatenate([line, np.zeros(pad, np.int32)]).reshape(-1, bpp)
    return (np.cumsum(cols, axis=0) & 0xFF).reshape(-1)[:n]


def _sequential_unfilter(line, prev, bpp, kind):
    """Average (3) and Paeth (4) depend on the byte just decoded: a plain loop."""
    cur = [0] * len(line)
    for i, value in enumerate(line):
        left = cur[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 3:
            cur[i] = (value + ((left + up) >> 1)) & 0xFF
            continue
        upper_left = prev[i - bpp] if i >= bpp else 0
        p = left + up - upper_left
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
        pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
        cur[i] = (value + pred) & 0xFF
    return cur


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def decode_png_array(data):
    """Decodes PNG bytes: ``uint8`` or ``uint16`` array ``[height, width, channels]``.

    Raises:
      InvalidArgumentError: corrupt data, or an interlaced file (not supported).
    """
    header, idat, palette, trns = None, [], None, None
    for kind, body in _png_chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            trns = body
    if header is None or not idat:
        raise _invalid("Invalid PNG data: missing IHDR or IDAT chunk.")
    width, height, depth, color, _, _, interlace = header
    if color not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise _invalid(f"Invalid PNG header: bit depth {depth}, color type {color}.")
    if interlace:
        raise _invalid("Interlaced PNG images are not supported by dlframe's decoder.")
    channels = _PNG_CHANNELS[color]
    bits = depth * channels
    row_bytes = (width * bits + 7) // 8
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise _invalid(f"Invalid PNG data: {e}") from None
    if len(raw) < height * (row_bytes + 1):
        raise _invalid("Invalid PNG data: image data is truncated.")
    rows = _unfilter(raw, height, row_bytes, max(1, bits // 8))
    if depth == 16:
        pixels = rows.view(">u2").astype(np.uint16).reshape(height, width, channels)
    elif depth == 8:
        pixels = rows.reshape(height, width, channels)
    else:   # 1, 2 or 4 bits per sample (grayscale or palette): unpack
        bitrows = np.unpackbits(rows, axis=1).reshape(height, -1, depth)
        weights = 1 << np.arange(depth - 1, -1, -1)
        values = (bitrows * weights).sum(-1)[:, :width].astype(np.uint8)
        if color == 0:   # scale gray to the full 8-bit range
            values = (values * (255 // ((1 << depth) - 1))).astype(np.uint8)
        pixels = values[..., None]
    if color == 3:
        if palette is None:
            raise _invalid("Invalid PNG data: palette image without PLTE chunk.")
        index = pixels[..., 0]
        pixels = palette[index]
        if trns is not None:
            alpha = np.full(len(palette), 255, np.uint8)
            alpha[:len(trns)] = np.frombuffer(trns, np.uint8)
            pixels = np.concatenate([pixels, alpha[index][..., None]], axis=-1)
    return np.ascontiguousarray(pixels)


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body))


def encode_png_array(pixels, compression=-1):
    """PNG bytes of a ``uint8``/``uint16`` array ``[height, width, channels]``."""
    height, width, channels = pixels.shape
    if channels not in (1, 2, 3, 4):
        raise _invalid(f"image must have 1, 2, 3 or 4 channels, got {channels}")
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    depth = 16 if pixels.dtype == np.uint16 else 8
    body = pixels.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1)
    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           body.view(np.uint8).reshape(height, -1)], axis=1)
    level = 6 if compression is None or compression < 0 else min(int(compression), 9)
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (_PNG_MAGIC + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + _chunk(b"IEND", b""))


# ---------------------------------------------------------------- BMP
def decode_bmp_array(data):
    """Decodes an uncompressed 8-, 24- or 32-bit BMP: ``uint8 [height, width, 1, 3
    or 4]`` (an 8-bit file's bytes are gray levels, its palette unread, as TF's)."""
    if len(data) < 54 or data[:2] != b"BM":
        raise _invalid("Invalid BMP data.")
    offset = struct.unpack("<I", data[10:14])[0]
    width, height = struct.unpack("<ii", data[18:26])
    bits, compression = struct.unpack("<HI", data[28:34])
    if bits not in (8, 24, 32) or compression not in (0, 3):
        raise _invalid(f"BMP with {bits} bits per pixel and compression {compression} "
                       "is not supported (8-, 24- or 32-bit uncompressed only).")
    channels = bits // 8
    row_bytes = (width * channels + 3) // 4 * 4
    rows = np.frombuffer(data, np.uint8, row_bytes * abs(height), offset)
    pixels = rows.reshape(abs(height), row_bytes)[:, :width * channels]
    pixels = pixels.reshape(abs(height), width, channels)
    if height > 0:   # bottom-up rows
        pixels = pixels[::-1]
    order = [2, 1, 0, 3][:channels] if channels > 1 else [0]   # BGR(A) -> RGB(A)
    return np.ascontiguousarray(pixels[..., order])


# ---------------------------------------------------------------- Pillow formats
def _pillow(what):
    try:
        from PIL import Image
    except ImportError:
        raise _invalid(f"Decoding {what} images needs Pillow (pip install pillow); "
                       "PNG and BMP decode without it.") from None
    return Image


def decode_with_pillow(data, what):
    """JPEG (``[h, w, c]``) or GIF (``[frames, h, w, 3]``) through Pillow."""
    import io as _pyio
    Image = _pillow(what)
    try:
        image = Image.open(_pyio.BytesIO(data))
        if what == "gif":
            frames = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
                # as TF's decoder: a transparent pixel is black in the first frame
                # and keeps the previous frame's colour after it
                under = frames[-1] if frames else np.zeros_like(rgba[..., :3])
                frames.append(np.where(rgba[..., 3:] == 0, under, rgba[..., :3]))
            return np.stack(frames)
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        pixels = np.asarray(image, dtype=np.uint8)
    except OSError as e:
        raise _invalid(f"Invalid {what.upper()} data: {e}") from None
    return pixels[..., None] if pixels.ndim == 2 else pixels


def encode_jpeg_array(pixels, quality=95, chroma_downsampling=True, progressive=False,
                      optimize=False):
    """JPEG bytes of a ``uint8`` array ``[height, width, 1 or 3]`` (needs Pillow).

    ``chroma_downsampling`` picks 4:2:0 (True) or 4:4:4 (False) chroma sampling.
    """
    import io as _pyio
    Image = _pillow("JPEG")
    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    buffer = _pyio.BytesIO()
    image.save(buffer, format="JPEG", quality=int(quality),
               subsampling=2 if chroma_downsampling else 0,
               progressive=bool(progressive), optimize=bool(optimize))
    return buffer.getvalue()


def decode_any(data):
    """Decodes any supported format by its magic bytes (GIF keeps its frame axis)."""
    kind = image_format(data)
    if kind == "png":
        return decode_png_array(data)
    if kind == "bmp":
        return decode_bmp_array(data)
    if kind in ("jpeg", "gif"):
        return decode_with_pillow(data, kind)
    raise _invalid(_UNKNOWN)
