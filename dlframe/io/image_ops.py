"""``tf.io`` file and image ops: read_file, write_file, matching_files, the image
decoders and encoders (also exported as ``tf.image.decode_png`` etc.) and decode_csv.

They run on the host, eagerly (inside ``Dataset.map`` too), and return Tensors on
``cpu:0`` as TensorFlow's decoders run on the CPU.
"""

import csv
import glob as _glob
import os

from dlframe import backends
from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from dlframe.io import image_codecs as _codecs
from dlframe.io.parsing import spec_run, unknown_dims

# The codecs that dlframe.image exports as well (tf.image.decode_png etc.).
IMAGE_CODEC_NAMES = ("decode_and_crop_jpeg", "decode_bmp", "decode_gif", "decode_image",
                     "decode_jpeg", "decode_png", "encode_jpeg", "encode_png",
                     "extract_jpeg_shape", "is_jpeg")


def _host_tensor(arr):
    return Tensor(np.asarray(arr), backends.get_device("cpu:0"))


def _bytes(value, what):
    """The Python bytes of a scalar string Tensor, bytes or str."""
    if isinstance(value, Tensor):
        if value.dtype is not _dt.string or value.shape.rank != 0:
            raise InvalidArgumentError(None, None, f"`{what}` must be a scalar string "
                                       f"tensor, got {value.dtype.name} of shape "
                                       f"{value.shape}")
        # a map's spec discovery traces real elements (as the parsers do)
        value = value._value[()] if spec_run() else value.numpy()
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if hasattr(value, "item"):
        return _bytes(value.item(), what)
    raise TypeError(f"`{what}` must be a string, got {type(value).__name__}")


def _string_tensor(items, shape):
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return _host_tensor(arr.reshape(shape))


# ---------------------------------------------------------------- files
@primitive("ReadFile", stateful=True)
def _read_file_p(d, filename):
    path = _bytes(filename.item() if hasattr(filename, "item") else filename,
                  "filename").decode()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError as e:
        raise NotFoundError(None, None, f"{path}; {e.strerror}") from None
    except IsADirectoryError as e:   # TF: FAILED_PRECONDITION "Is a directory"
        raise FailedPreconditionError(None, None, f"{path}; {e.strerror}") from None
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def read_file(filename, name=None):
    """Reads a whole file into a scalar string Tensor (one primitive, so a
    ``dlframe.function`` reads the file it is given at each call).

    Args:
      filename: a scalar string Tensor or Python string.

    Raises:
      NotFoundError: the file does not exist.
      FailedPreconditionError: ``filename`` is a directory.
    """
    if not isinstance(filename, Tensor):
        filename = _string_tensor([_bytes(filename, "filename")], ())
    elif filename.dtype is not _dt.string or filename.shape.rank != 0:
        _bytes(filename, "filename")   # raises the error naming the argument
    return call(_read_file_p, (filename,))


def write_file(filename, contents, name=None):
    """Writes the scalar string ``contents`` to ``filename`` (replacing it)."""
    path = _bytes(filename, "filename").decode()
    with open(path, "wb") as f:
        f.write(_bytes(contents, "contents"))


def matching_files(pattern, name=None):
    """The sorted file names matching a glob ``pattern`` (1-D string Tensor); for a
    list (or 1-D tensor) of patterns, each one's sorted matches in turn."""
    if isinstance(pattern, Tensor) and pattern.shape.rank == 1:
        pattern = list(pattern.numpy())
    patterns = pattern if isinstance(pattern, (list, tuple)) else [pattern]
    names = []
    for p in patterns:
        path = _bytes(p, "pattern").decode()
        names += sorted(_glob.glob(os.path.expanduser(path)))
    return _string_tensor([n.encode() for n in names], (len(names),))


# ---------------------------------------------------------------- channels and dtypes
def _channels_arg(channels, allowed=(0, 1, 3, 4)):
    channels = 0 if channels is None else int(channels)
    if channels not in allowed:
        raise InvalidArgumentError(None, None, f"channels must be one of {allowed}, got "
                                   f"{channels}")
    return channels


def _gray(pixels):
    """Luma of RGB pixels as libpng computes it for TF's decoders: fixed-point weights
    0.299/0.587/0.114 of 2**15, truncated; gray stays gray."""
    rgb = pixels[..., :3].astype(np.int64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = (red * 9797 + green * 19234 + blue * 3737) >> 15
    same = (red == green) & (green == blue)
    return np.where(same, red, luma).astype(pixels.dtype)[..., None]


def _image_dims(image, channels):
    """A decoded ``[height, width, channels]`` image whose static shape is TF's:
    height and width unknown, and the channels too unless given."""
    return unknown_dims(image, (0, 1) if channels else (0, 1, 2))


def _to_channels(pixels, channels):
    have = pixels.shape[-1]
    if channels == 0 or channels == have:
        return pixels
    color = pixels[..., :1].repeat(3, -1) if have <= 2 else pixels[..., :3]
    alpha = pixels[..., -1:] if have in (2, 4) else None
    if channels == 1:
        return pixels[..., :1] if have <= 2 else _gray(pixels)
    if channels == 3:
        return color
    if alpha is None:
        alpha = np.full(pixels.shape[:-1] + (1,), np.iinfo(pixels.dtype).max,
                        pixels.dtype)
    return np.concatenate([color, alpha], axis=-1)


def _to_dtype(pixels, dtype):
    """Decoded uint8/uint16 pixels as ``dtype``, scaled as TF's decoders scale them:
    16 -> 8 bits keeps the high byte, 8 -> 16 bits multiplies by 257, floats are
    ``pixels / max`` in [0, 1]."""
    dtype = _dt.as_dtype(dtype)
    if pixels.dtype == dtype._np:
        return _host_tensor(pixels)
    if dtype is _dt.uint8 and pixels.dtype == np.uint16:
        return _host_tensor((pixels >> 8).astype(np.uint8))
    if dtype is _dt.uint16 and pixels.dtype == np.uint8:
        return _host_tensor(pixels.astype(np.uint16) * np.uint16(257))
    if dtype.is_floating:
        top = np.asarray(np.iinfo(pixels.dtype).max, dtype=dtype._np)
        return _host_tensor(pixels.astype(dtype._np) / top)
    raise TypeError(f"Unsupported image dtype {dtype.name}; use uint8, uint16 or a "
                    "float dtype.")


# ---------------------------------------------------------------- decoders
def decode_png(contents, channels=0, dtype=_dt.uint8, name=None):
    """Decodes a PNG image into a ``[height, width, channels]`` Tensor.

    Args:
      contents: a scalar string Tensor, the PNG file's bytes.
      channels: 0 keeps the file's channels; 1 grayscale, 3 RGB, 4 RGBA.
      dtype: ``tf.uint8`` or ``tf.uint16`` (16-bit files keep their precision).

    Raises:
      InvalidArgumentError: the bytes are not a supported image.
    """
    data = _bytes(contents, "contents")
    channels = _channels_arg(channels)
    if _codecs.image_format(data) == "png":
        pixels = _codecs.decode_png_array(data)
    else:   # TF's DecodePng accepts the other formats too
        pixels = _codecs.decode_any(data)
        if pixels.ndim == 4:
            pixels = pixels[0]
    if _dt.as_dtype(dtype) not in (_dt.uint8, _dt.uint16):
        raise TypeError(f"decode_png: dtype must be uint8 or uint16, got {dtype}")
    return _image_dims(_to_dtype(_to_channels(pixels, channels), dtype), channels)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                name=None):
    """Decodes a JPEG image (through Pillow) into a ``uint8 [height, width, channels]``."""
    data = _bytes(contents, "contents")
    channels = _channels_arg(channels, (0, 1, 3))
    pixels = _codecs.decode_any(data)
    if pixels.ndim == 4:
        pixels = pixels[0]
    return _image_dims(_host_tensor(_to_channels(pixels, channels)), channels)


def decode_bmp(contents, channels=0, name=None):
    """Decodes an uncompressed BMP into a ``uint8 [height, width, channels]`` Tensor."""
    channels = _channels_arg(channels)
    pixels = _codecs.decode_bmp_array(_bytes(contents, "contents"))
    return _image_dims(_host_tensor(_to_channels(pixels, channels)), channels)


def decode_gif(contents, name=None):
    """Decodes a (possibly animated) GIF into ``uint8 [frames, height, width, 3]``."""
    data = _bytes(contents, "contents")
    if _codecs.image_format(data) != "gif":
        raise InvalidArgumentError(None, None, "Invalid GIF data (wrong magic bytes).")
    # TF: [None, None, None, 3]
    return unknown_dims(_host_tensor(_codecs.decode_with_pillow(data, "gif")), (0, 1, 2))


def decode_image(contents, channels=None, dtype=_dt.uint8, name=None,
                 expand_animations=True):
    """Decodes a BMP, GIF, JPEG or PNG image, recognized by its leading bytes.

    Args:
      contents: a scalar string Tensor of the file's bytes.
      channels: None/0 keeps the file's channels; 1, 3 or 4 converts.
      dtype: the output dtype; floats are scaled to [0, 1].
      expand_animations: False returns a GIF's first frame as a 3-D image.

    Returns:
      ``[height, width, channels]``, or ``[frames, height, width, channels]`` for a GIF
      when ``expand_animations`` is True.

    Raises:
      InvalidArgumentError: unknown format or corrupt data.
    """
    data = _bytes(contents, "contents")
    channels = _channels_arg(channels)
    pixels = _codecs.decode_any(data)
    if pixels.ndim == 4 and not expand_animations:
        pixels = pixels[0]
    out = _to_dtype(_to_channels(pixels, channels), dtype)
    if expand_animations:   # TF: a GIF's frames or one image: even the rank is unknown
        return unknown_dims(out, range(-1, out.ndim))
    return _image_dims(out, channels)


def _jpeg_pixels(contents, what):
    data = _bytes(contents, "contents")
    if _codecs.image_format(data) != "jpeg":
        raise InvalidArgumentError(None, None, f"{what}: the contents are not a JPEG "
                                   "image (wrong magic bytes).")
    return _codecs.decode_any(data)


def extract_jpeg_shape(contents, output_type=_dt.int32, name=None):
    """The ``[height, width, channels]`` of a JPEG image as a 1-D Tensor.

    Args:
      contents: a scalar string Tensor, the JPEG file's bytes.
      output_type: ``tf.int32`` (default) or ``tf.int64``.
    """
    output_type = _dt.as_dtype(output_type)
    if output_type not in (_dt.int32, _dt.int64):
        raise TypeError(f"output_type must be int32 or int64, got {output_type!r}")
    pixels = _jpeg_pixels(contents, "extract_jpeg_shape")
    shape = pixels.shape if pixels.ndim == 3 else pixels.shape + (1,)
    return _host_tensor(np.asarray(shape, dtype=output_type._np))


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1,
                         fancy_upscaling=True, try_recover_truncated=False,
                         acceptable_fraction=1, dct_method="", name=None):
    """Decodes the ``crop_window = [y, x, height, width]`` part of a JPEG image.

    Raises:
      InvalidArgumentError: the window does not lie inside the image.
    """
    channels = _channels_arg(channels, (0, 1, 3))
    pixels = _jpeg_pixels(contents, "decode_and_crop_jpeg")
    window = np.asarray(crop_window.numpy() if isinstance(crop_window, Tensor)
                        else crop_window).astype(np.int64).reshape(-1)
    if window.size != 4:
        raise ValueError(f"crop_window must have 4 values [y, x, height, width], got "
                         f"{window.tolist()}")
    y, x, h, w = (int(v) for v in window)
    if y < 0 or x < 0 or h <= 0 or w <= 0 or y + h > pixels.shape[0] or \
            x + w > pixels.shape[1]:
        raise InvalidArgumentError(
            None, None, f"Invalid JPEG data or crop window, crop_window "
            f"{window.tolist()} for an image of shape {list(pixels.shape)}.")
    return _host_tensor(_to_channels(pixels[y:y + h, x:x + w], channels))


def is_jpeg(contents, name=None):
    """A bool scalar Tensor: do the bytes start like a JPEG file?"""
    return _host_tensor(np.asarray(
        _codecs.image_format(_bytes(contents, "contents")) == "jpeg"))


# ---------------------------------------------------------------- encoders
def _image_array(image, allowed):
    t = image if isinstance(image, Tensor) else convert_to_tensor(image)
    if t.dtype not in allowed:
        # TensorFlow's eager kernels reject an attr dtype with InvalidArgumentError
        raise InvalidArgumentError(None, None, f"Value for attr 'T' of {t.dtype.name} "
                                   f"is not in the list of allowed values: "
                                   f"{', '.join(d.name for d in allowed)}")
    arr = np.asarray(t.numpy())
    if arr.ndim != 3:
        raise InvalidArgumentError(None, None, "image must be 3-dimensional "
                                   f"[height, width, channels], got shape {arr.shape}")
    return arr


def encode_png(image, compression=-1, name=None):
    """PNG bytes (a scalar string Tensor) of a ``uint8``/``uint16`` image
    ``[height, width, channels]`` with 1 to 4 channels."""
    arr = _image_array(image, (_dt.uint8, _dt.uint16))
    return _string_tensor([_codecs.encode_png_array(arr, compression)], ())


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False,
                chroma_downsampling=True, density_unit="in", x_density=300,
                y_density=300, xmp_metadata="", name=None):
    """JPEG bytes of a ``uint8`` image with 1 or 3 channels (needs Pillow).

    Args:
      image: ``uint8`` ``[height, width, channels]`` with 1 or 3 channels.
      format: ``""`` (by channel count), ``"grayscale"`` (1 channel) or ``"rgb"``
        (3 channels).
      quality: 0 to 100.
      progressive: write a progressive JPEG.
      optimize_size: optimise the Huffman tables.
      chroma_downsampling: 4:2:0 chroma sampling (else 4:4:4).
      density_unit, x_density, y_density, xmp_metadata: accepted, not written.
      name: unused.

    Returns:
      A scalar string Tensor.

    Raises:
      InvalidArgumentError: a bad ``format``, ``quality`` or channel count.
    """
    arr = _image_array(image, (_dt.uint8,))
    channels = arr.shape[-1]
    expected = {"": channels, "grayscale": 1, "rgb": 3}
    if format not in expected:
        raise InvalidArgumentError(None, None, f"format must be '', 'grayscale' or "
                                   f"'rgb'; received format={format!r}")
    if channels not in (1, 3):
        raise InvalidArgumentError(None, None, f"image must have 1 or 3 channels, got "
                                   f"shape {list(arr.shape)}")
    if channels != expected[format]:
        raise InvalidArgumentError(None, None, f"format {format} expects "
                                   f"{expected[format]} channels, got shape "
                                   f"{list(arr.shape)}")
    if not 0 <= int(quality) <= 100:
        raise InvalidArgumentError(None, None, f"quality must be in [0,100], got "
                                   f"{quality}")
    data = _codecs.encode_jpeg_array(arr, quality, chroma_downsampling, progressive,
                                     optimize_size)
    return _string_tensor([data], ())


# ---------------------------------------------------------------- CSV records
def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True,
               na_value="", select_cols=None, name=None):
    """Parses CSV lines into one Tensor per column, shaped like ``records``.

    Args:
      records: a string Tensor of lines.
      record_defaults: per column, a default value (its dtype types the column) or an
        empty list/tensor (the column is required).
      field_delim: the field separator.
      use_quote_delim: treat double quotes as field quoting.
      na_value: a string read as a missing value.
      select_cols: optional sorted column indices to keep.

    Raises:
      InvalidArgumentError: a record with the wrong number of fields, a missing
        required field or a field that does not parse as its column's dtype.
    """
    rec = records if isinstance(records, Tensor) else convert_to_tensor(records)
    lines = [v if isinstance(v, bytes) else str(v).encode()
             for v in np.asarray(rec.numpy(), dtype=object).reshape(-1)]
    columns = [_csv_default(d, i) for i, d in enumerate(record_defaults)]
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if len(select_cols) != len(columns):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    values = [[] for _ in columns]
    quoting = csv.QUOTE_MINIMAL if use_quote_delim else csv.QUOTE_NONE
    for r, line in enumerate(lines):
        fields = next(csv.reader([line.decode()], delimiter=field_delim, quoting=quoting),
                      [""])
        if select_cols is not None:
            if select_cols[-1] >= len(fields):
                raise InvalidArgumentError(None, None, f"Expect {select_cols[-1] + 1} "
                                           f"fields but have {len(fields)} in record {r}")
            fields = [fields[c] for c in select_cols]
        elif len(fields) != len(columns):
            raise InvalidArgumentError(None, None, f"Expect {len(columns)} fields but have "
                                       f"{len(fields)} in record {r}")
        for c, (text, (dtype, default)) in enumerate(zip(fields, columns)):
            values[c].append(_csv_field(text, dtype, default, c, r, na_value))
    shape = tuple(rec.shape)
    out = []
    for (dtype, _), column in zip(columns, values):
        if dtype is _dt.string:
            out.append(_string_tensor(column, shape))
        else:
            out.append(_host_tensor(np.asarray(column, dtype=dtype._np).reshape(shape)))
    return out


def _csv_default(value, i):
    # a DType (as CsvDataset takes) types a required column; checked first since
    # tf.string.size is 0 and would read as an empty default
    if isinstance(value, _dt.DType):
        return value, None
    arr = value.numpy() if isinstance(value, Tensor) else value
    if isinstance(arr, (list, tuple)) and len(arr) == 0 or (
            hasattr(arr, "size") and arr.size == 0):
        dtype = value.dtype if isinstance(value, Tensor) else _dt.float32
        return dtype, None
    t = convert_to_tensor(arr)
    if t.dtype not in (_dt.int32, _dt.int64, _dt.float32, _dt.float64, _dt.string):
        raise TypeError(f"record_defaults[{i}] has unsupported dtype {t.dtype.name}")
    return t.dtype, np.asarray(t.numpy()).reshape(-1)[0]


def _csv_field(text, dtype, default, col, rec, na_value):
    if text == "" or (na_value and text == na_value):
        if default is None:
            raise InvalidArgumentError(None, None, f"Field {col} is required but missing "
                                       f"in record {rec}!")
        return default
    if dtype is _dt.string:
        return text.encode()
    try:
        return int(text) if dtype.is_integer else float(text)
    except ValueError:
        raise InvalidArgumentError(None, None, f"Field {col} in record {rec} is not a "
                                   f"valid {dtype.name}: {text}") from None
