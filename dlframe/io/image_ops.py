"""``tf.io`` file and image ops: read_file, write_file, matching_files, the image
decoders and encoders (also exported as ``tf.image.decode_png`` etc.) and decode_csv.

They run on the host (the codecs as graph primitives, ``host_ops``: eagerly, inside
``Dataset.map`` and inside a ``dlframe.function``) and return Tensors on ``cpu:0``
as TensorFlow's decoders run on the CPU.
"""

import glob as _glob
import os

from dlframe import backends
from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from dlframe.io import image_codecs as _codecs
from dlframe.io.csv_split import check_delim, convert_field, split_record
from dlframe.io.host_ops import (
    host_primitive,
    item_bytes,
    on_host,
    run,
    string_input,
)
from dlframe.io.image_decode import (  # noqa: F401 - tf.io's names
    decode_and_crop_jpeg,
    decode_bmp,
    decode_gif,
    decode_image,
    decode_jpeg,
    decode_png,
    extract_jpeg_shape,
    is_jpeg,
)

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
        value = value.numpy()
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


@primitive("WriteFile", effects=True)
def _write_file_p(d, filename, contents):
    path = item_bytes(filename).decode()
    folder = os.path.dirname(path)
    if folder:   # TF's WriteFile creates the missing folders
        os.makedirs(folder, exist_ok=True)
    with open(path, "wb") as f:
        f.write(item_bytes(contents))
    return np.zeros((), np.int32)


def write_file(filename, contents, name=None):
    """Writes the scalar string ``contents`` to ``filename`` (replacing it, creating
    missing folders). An effect: inside a ``dlframe.function`` it runs at each call,
    in program order, even with its result unused.

    Raises:
      InvalidArgumentError: (ValueError inside a trace) a non-scalar argument.
    """
    call(_write_file_p, (string_input(filename, "filename"),
                         string_input(contents, "contents")))


@primitive("MatchingFiles", stateful=True)   # reads the file system at each run
def _matching_files_p(d, pattern):
    names = []
    for p in np.asarray(pattern, dtype=object).reshape(-1):
        names += sorted(_glob.glob(os.path.expanduser(item_bytes(p).decode())))
    out = np.empty(len(names), dtype=object)
    out[:] = [n.encode() for n in names]
    return out


_matching_files_p.value_shaped = True
_matching_files_p.static_shape = lambda in_dims, attrs: [None]


def matching_files(pattern, name=None):
    """The sorted file names matching a glob ``pattern`` (1-D string Tensor); for a
    list (or 1-D tensor) of patterns, each one's sorted matches in turn."""
    if isinstance(pattern, (list, tuple)):
        pattern = [p.numpy() if isinstance(p, Tensor) else p for p in pattern]
    return call(_matching_files_p, (string_input(pattern, "pattern", scalar=False),))


# ---------------------------------------------------------------- encoders
def _image_input(image, allowed):
    """``image`` as a host Tensor of one of the ``allowed`` dtypes and rank 3."""
    t = on_host(image)
    if t.dtype not in allowed:
        # TensorFlow's eager kernels reject an attr dtype with InvalidArgumentError
        raise InvalidArgumentError(None, None, f"Value for attr 'T' of {t.dtype.name} "
                                   f"is not in the list of allowed values: "
                                   f"{', '.join(d.name for d in allowed)}")
    if t.shape.rank not in (3, None):
        # TF: a shape error when tracing, the kernel's error when eager
        error = ValueError if STATE.trace is not None else InvalidArgumentError
        raise error("image must be 3-dimensional [height, width, channels], got "
                    f"shape {t.shape}")
    return t


def _no_bytes(*arrays, **attrs):
    out = np.empty((), dtype=object)
    out[()] = b""
    return out


def _bytes_array(data):
    out = np.empty((), dtype=object)
    out[()] = data
    return out


@host_primitive("EncodePng", _no_bytes)
def _encode_png_p(image, *, compression):
    return _bytes_array(_codecs.encode_png_array(np.asarray(image), compression))


def encode_png(image, compression=-1, name=None):
    """PNG bytes (a scalar string Tensor) of a ``uint8``/``uint16`` image
    ``[height, width, channels]`` with 1 to 4 channels.

    Args:
      image: the pixels.
      compression: zlib level 0 to 9, -1 for the default.
      name: unused.
    """
    return run(_encode_png_p, (_image_input(image, (_dt.uint8, _dt.uint16)),),
               {"compression": int(compression)})


@host_primitive("EncodeJpeg", _no_bytes)
def _encode_jpeg_p(image, *, format, quality, progressive, optimize_size,
                   chroma_downsampling):
    arr = np.asarray(image)
    channels = arr.shape[-1]
    expected = {"": channels, "grayscale": 1, "rgb": 3}[format]
    if channels not in (1, 3):
        raise InvalidArgumentError(None, None, f"image must have 1 or 3 channels, got "
                                   f"shape {list(arr.shape)}")
    if channels != expected:
        raise InvalidArgumentError(None, None, f"format {format} expects {expected} "
                                   f"channels, got shape {list(arr.shape)}")
    return _bytes_array(_codecs.encode_jpeg_array(
        arr, quality, chroma_downsampling, progressive, optimize_size))


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
    image = _image_input(image, (_dt.uint8,))
    if format not in ("", "grayscale", "rgb"):
        raise InvalidArgumentError(None, None, f"format must be '', 'grayscale' or "
                                   f"'rgb'; received format={format!r}")
    if not 0 <= int(quality) <= 100:
        raise InvalidArgumentError(None, None, f"quality must be in [0,100], got "
                                   f"{quality}")
    attrs = {"format": format, "quality": int(quality),
             "progressive": bool(progressive), "optimize_size": bool(optimize_size),
             "chroma_downsampling": bool(chroma_downsampling)}
    return run(_encode_jpeg_p, (image,), attrs)


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
    rec = string_input(records, "records", scalar=False)
    columns = tuple(_csv_default(d, i) for i, d in enumerate(record_defaults))
    check_delim(field_delim)
    if select_cols is not None:
        select_cols = tuple(int(c) for c in select_cols)
        if len(select_cols) != len(columns):
            raise ValueError("Length of select_cols and record_defaults do not match.")
        if any(c < 0 for c in select_cols):
            raise ValueError("select_cols contains negative values.")
        if any(b <= a for a, b in zip(select_cols, select_cols[1:])):
            raise ValueError("select_cols is not strictly increasing.")
    attrs = {"columns": tuple((d.name, v) for d, v in columns),
             "field_delim": field_delim, "use_quote_delim": bool(use_quote_delim),
             "na_value": na_value, "select_cols": select_cols}
    return list(call(_decode_csv_p, (rec,), attrs))


def _csv_blank(records, *, columns, **attrs):
    return tuple(np.zeros(records.shape, object if d == "string" else np.dtype(d))
                 for d, _ in columns)


@host_primitive("DecodeCSV", _csv_blank, value_shaped=False, n_out=-1)
def _decode_csv_p(records, *, columns, field_delim, use_quote_delim, na_value,
                  select_cols):
    values = [[] for _ in columns]
    for r, line in enumerate(np.asarray(records, dtype=object).reshape(-1)):
        line = item_bytes(line).decode()
        fields = split_record(line, field_delim, use_quote_delim)
        if select_cols is not None:
            if select_cols[-1] >= len(fields):
                raise InvalidArgumentError(None, None, f"Expect {select_cols[-1] + 1} "
                                           f"fields but have {len(fields)} in record {r}")
            fields = [fields[c] for c in select_cols]
        elif len(fields) != len(columns):
            raise InvalidArgumentError(None, None, f"Expect {len(columns)} fields but have "
                                       f"{len(fields)} in record {r}")
        for c, (text, (dtype, default)) in enumerate(zip(fields, columns)):
            values[c].append(convert_field(text, _dt.as_dtype(dtype), default, c, r,
                                           na_value))
    out = []
    for (dtype, _), column in zip(columns, values):
        arr = np.empty(len(column), dtype=object) if dtype == "string" else \
            np.asarray(column, dtype=np.dtype(dtype))
        if dtype == "string":
            arr[:] = column
        out.append(arr.reshape(np.shape(records)))
    return tuple(out)


_decode_csv_p.static_shape = lambda in_dims, attrs: [list(in_dims[0])] * len(
    attrs["columns"])


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
