"""The image codecs of ``tf.io`` (also ``tf.image.decode_png`` etc.) as host
primitives (``host_ops``): they run eagerly, inside ``Dataset.map`` and inside a
``dlframe.function``, whose graph decodes the bytes each call gets.

Their static shapes in a graph are TF's: a decoded image is ``[None, None, C]``,
with ``C`` known only when ``channels`` is given; a GIF is ``[None, None, None, 3]``;
``decode_image`` with ``expand_animations=True`` has an unknown rank.
"""

from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE
from dlframe.errors import InvalidArgumentError
from dlframe.io import image_codecs as _codecs
from dlframe.io.host_ops import (
    RANK,
    host_primitive,
    item_bytes,
    on_host,
    run,
    string_input,
)


def _channels_arg(channels, allowed=(0, 1, 3, 4)):
    channels = 0 if channels is None else int(channels)
    if channels not in allowed:
        raise InvalidArgumentError(None, None, "`channels` must be "
                                   f"{_listed(allowed)} but got {channels}")
    return channels


def _listed(values):
    """``0, 1, 3 or 4``: TF's wording of allowed values."""
    words = [str(v) for v in values]
    return ", ".join(words[:-1]) + f" or {words[-1]}"


# what TF's decoders accept per format (checked when the op runs, as its kernels)
_FORMAT_CHANNELS = {"bmp": (0, 3, 4), "gif": (0, 3)}


def _check_format_channels(kind, channels):
    """Raises TF's run-time error for ``channels`` a ``kind`` image cannot give."""
    if kind == "jpeg" and channels == 4:
        raise InvalidArgumentError(None, None, "JPEG does not support 4 channels")
    allowed = _FORMAT_CHANNELS.get(kind)
    if allowed is None or channels in allowed:
        return
    if kind == "gif":
        message = f"channels must be 0 or 3 for GIF, got {channels}"
    else:
        message = f"`channels` must be {_listed(allowed)} for BMP, but got {channels}"
    raise InvalidArgumentError(None, None, message)


def _gray(pixels):
    """Luma of RGB pixels as libpng computes it for TF's decoders: fixed-point weights
    0.299/0.587/0.114 of 2**15, truncated; gray stays gray."""
    rgb = pixels[..., :3].astype(np.int64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = (red * 9797 + green * 19234 + blue * 3737) >> 15
    same = (red == green) & (green == blue)
    return np.where(same, red, luma).astype(pixels.dtype)[..., None]


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
    """Decoded uint8/uint16 pixels as ``dtype`` (a name), scaled as TF's decoders
    scale them: 16 -> 8 bits keeps the high byte, 8 -> 16 bits multiplies by 257,
    floats are ``pixels / max`` in [0, 1]."""
    target = np.dtype(dtype)
    if pixels.dtype == target:
        return pixels
    if target == np.uint8 and pixels.dtype == np.uint16:
        return (pixels >> 8).astype(np.uint8)
    if target == np.uint16 and pixels.dtype == np.uint8:
        return pixels.astype(np.uint16) * np.uint16(257)
    top = np.asarray(np.iinfo(pixels.dtype).max, dtype=target)
    return pixels.astype(target) / top


def _image_dtype(dtype, allowed=None):
    """The name of an image ``dtype`` argument: uint8, uint16 or a float."""
    d = _dt.as_dtype(dtype)
    ok = d in allowed if allowed else d in (_dt.uint8, _dt.uint16) or d.is_floating
    if not ok:
        raise TypeError(f"Unsupported image dtype {d.name}; use uint8, uint16"
                        f"{'' if allowed else ' or a float dtype'}: received "
                        f"dtype={dtype!r}")
    return d.name


def _image_axes(channels):
    """Axes of a decoded ``[height, width, channels]`` image TF leaves unknown."""
    return (0, 1) if channels else (0, 1, 2)


def _first_frame(pixels):
    return pixels[0] if pixels.ndim == 4 else pixels


_OP_OF_KIND = {"png": "decode_png", "jpeg": "decode_jpeg", "gif": "decode_gif",
               "bmp": "decode_bmp"}


def _check_op_accepts(kind, op):
    """TF's run-time error for bytes of format ``kind`` given to decoder ``op``:
    DecodePng, DecodeJpeg and DecodeGif take PNG, JPEG and GIF but no BMP; DecodeBmp
    takes BMP only."""
    if op == "DecodeBmp" and kind in ("png", "jpeg", "gif"):
        raise InvalidArgumentError(
            None, None, f"Trying to decode {kind.upper()} format using DecodeBmp op. "
            f"Use `{_OP_OF_KIND[kind]}` or `decode_image` instead.")
    if op != "DecodeBmp" and kind == "bmp":
        raise InvalidArgumentError(
            None, None, f"Trying to decode BMP format using a wrong op. Use "
            f"`decode_bmp` or `decode_image` instead. Op used: {op}")


def _single_frame(pixels, op):
    """The image of a one-frame GIF; TF's DecodePng/DecodeJpeg refuse animations."""
    if pixels.ndim == 4 and pixels.shape[0] != 1:
        raise InvalidArgumentError(
            None, None, f"Got {pixels.shape[0]} frames, but animated gifs can only be "
            f"decoded by tf.io.decode_gif or tf.io.decode_image [Op:{op}]")
    return _first_frame(pixels)


def _blank(contents, *extra, channels=0, dtype="uint8", **attrs):
    """A 1x1 image: a function's trace stand-in for bytes that do not decode."""
    return np.zeros((1, 1, channels or 3), dtype=np.dtype(dtype))


# ---------------------------------------------------------------- decoders
@host_primitive("DecodePng", _blank)
def _decode_png_p(contents, *, channels, dtype):
    data = item_bytes(contents)
    kind = _codecs.image_format(data)
    if kind == "png":
        pixels = _codecs.decode_png_array(data)
    else:   # TF's DecodePng accepts JPEG and single-frame GIF too
        _check_format_channels(kind, channels)   # before the format (TF's order)
        _check_op_accepts(kind, "DecodePng")
        pixels = _single_frame(_codecs.decode_any(data), "DecodePng")
    return _to_dtype(_to_channels(pixels, channels), dtype)


def decode_png(contents, channels=0, dtype=_dt.uint8, name=None):
    """Decodes a PNG image into a ``[height, width, channels]`` Tensor.

    Args:
      contents: a scalar string Tensor, the PNG file's bytes.
      channels: 0 keeps the file's channels; 1 grayscale, 3 RGB, 4 RGBA.
      dtype: ``tf.uint8`` or ``tf.uint16`` (16-bit files keep their precision).
      name: unused.

    Raises:
      InvalidArgumentError: the bytes are not a supported image (when the op runs).
    """
    channels = _channels_arg(channels)
    attrs = {"channels": channels,
             "dtype": _image_dtype(dtype, (_dt.uint8, _dt.uint16))}
    return run(_decode_png_p, (string_input(contents, "contents"),), attrs,
               _image_axes(channels))


@host_primitive("DecodeJpeg", _blank)
def _decode_jpeg_p(contents, *, channels):
    data = item_bytes(contents)
    kind = _codecs.image_format(data)
    # a PNG or GIF decodes as such (a PNG gives 4 channels); the channel check
    # comes before the format's (TF's order)
    _check_format_channels(kind if kind in ("gif", "png", "bmp") else "jpeg", channels)
    _check_op_accepts(kind, "DecodeJpeg")
    pixels = _single_frame(_codecs.decode_any(data), "DecodeJpeg")
    return _to_channels(pixels, channels)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                name=None):
    """Decodes a JPEG image (through Pillow) into ``uint8 [height, width, channels]``.

    Args:
      contents: a scalar string Tensor, the JPEG file's bytes.
      channels: 0 keeps the file's channels; 1 grayscale, 3 RGB.
      ratio, fancy_upscaling, try_recover_truncated, acceptable_fraction,
        dct_method: accepted for TF compatibility (full-size decoding).
      name: unused.
    """
    channels = _channels_arg(channels)
    return run(_decode_jpeg_p, (string_input(contents, "contents"),),
               {"channels": channels}, _image_axes(channels))


@host_primitive("DecodeBmp", _blank)
def _decode_bmp_p(contents, *, channels):
    data = item_bytes(contents)
    _check_op_accepts(_codecs.image_format(data), "DecodeBmp")
    _check_format_channels("bmp", channels)
    return _to_channels(_codecs.decode_bmp_array(data), channels)


def decode_bmp(contents, channels=0, name=None):
    """Decodes an uncompressed BMP into a ``uint8 [height, width, channels]`` Tensor.

    Args:
      contents: a scalar string Tensor, the BMP file's bytes.
      channels: 0 keeps the file's channels; 1, 3 or 4 converts.
      name: unused.
    """
    channels = _channels_arg(channels)
    return run(_decode_bmp_p, (string_input(contents, "contents"),),
               {"channels": channels}, _image_axes(channels))


@host_primitive("DecodeGif", lambda contents: np.zeros((1, 1, 1, 3), np.uint8))
def _decode_gif_p(contents):
    data = item_bytes(contents)
    kind = _codecs.image_format(data)
    if kind == "gif":
        return _codecs.decode_with_pillow(data, "gif")
    _check_op_accepts(kind, "DecodeGif")
    if kind is None:
        raise InvalidArgumentError(None, None, "Invalid GIF data (wrong magic bytes).")
    # as TF: a PNG or JPEG decodes as a one-frame RGB animation
    return _to_channels(_codecs.decode_any(data), 3)[None]


def decode_gif(contents, name=None):
    """Decodes a (possibly animated) GIF into ``uint8 [frames, height, width, 3]``."""
    return run(_decode_gif_p, (string_input(contents, "contents"),), None, (0, 1, 2))


@host_primitive("DecodeImage", _blank)
def _decode_image_p(contents, *, channels, dtype, expand_animations):
    data = item_bytes(contents)
    _check_format_channels(_codecs.image_format(data), channels)
    pixels = _codecs.decode_any(data)
    if not expand_animations:
        pixels = _first_frame(pixels)
    return _to_dtype(_to_channels(pixels, channels), dtype)


def decode_image(contents, channels=None, dtype=_dt.uint8, name=None,
                 expand_animations=True):
    """Decodes a BMP, GIF, JPEG or PNG image, recognized by its leading bytes.

    Args:
      contents: a scalar string Tensor of the file's bytes.
      channels: None/0 keeps the file's channels; 1, 3 or 4 converts.
      dtype: the output dtype; floats are scaled to [0, 1].
      name: unused.
      expand_animations: False returns a GIF's first frame as a 3-D image.

    Returns:
      ``[height, width, channels]``, or ``[frames, height, width, channels]`` for a GIF
      when ``expand_animations`` is True (then a graph does not know the rank).

    Raises:
      InvalidArgumentError: unknown format or corrupt data (when the op runs).
    """
    channels = _channels_arg(channels)
    attrs = {"channels": channels, "dtype": _image_dtype(dtype),
             "expand_animations": bool(expand_animations)}
    unknown = {RANK} if expand_animations else _image_axes(channels)
    return run(_decode_image_p, (string_input(contents, "contents"),), attrs, unknown)


def _jpeg_pixels(contents, what):
    data = item_bytes(contents)
    if _codecs.image_format(data) != "jpeg":
        raise InvalidArgumentError(None, None, f"{what}: the contents are not a JPEG "
                                   "image (wrong magic bytes).")
    return _codecs.decode_any(data)


@host_primitive("ExtractJpegShape",
                lambda contents, *, output_type: np.ones(3, np.dtype(output_type)))
def _extract_jpeg_shape_p(contents, *, output_type):
    pixels = _jpeg_pixels(contents, "extract_jpeg_shape")
    shape = pixels.shape if pixels.ndim == 3 else pixels.shape + (1,)
    return np.asarray(shape, dtype=np.dtype(output_type))


def extract_jpeg_shape(contents, output_type=_dt.int32, name=None):
    """The ``[height, width, channels]`` of a JPEG image as a 1-D Tensor.

    Args:
      contents: a scalar string Tensor, the JPEG file's bytes.
      output_type: ``tf.int32`` (default) or ``tf.int64``.
      name: unused.
    """
    output_type = _dt.as_dtype(output_type)
    if output_type not in (_dt.int32, _dt.int64):
        raise TypeError(f"output_type must be int32 or int64, got {output_type!r}")
    return run(_extract_jpeg_shape_p, (string_input(contents, "contents"),),
               {"output_type": output_type.name})


def _crop_blank(contents, window, *, channels):
    h, w = (max(int(v), 1) for v in np.asarray(window).reshape(-1)[2:4])
    return np.zeros((h, w, channels or 3), np.uint8)


@host_primitive("DecodeAndCropJpeg", _crop_blank)
def _decode_and_crop_jpeg_p(contents, window, *, channels):
    pixels = _jpeg_pixels(contents, "decode_and_crop_jpeg")
    y, x, h, w = (int(v) for v in np.asarray(window).reshape(-1))
    if y < 0 or x < 0 or h <= 0 or w <= 0 or y + h > pixels.shape[0] or \
            x + w > pixels.shape[1]:
        raise InvalidArgumentError(
            None, None, f"Invalid JPEG data or crop window, crop_window "
            f"{[y, x, h, w]} for an image of shape {list(pixels.shape)}.")
    return _to_channels(pixels[y:y + h, x:x + w], channels)


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1,
                         fancy_upscaling=True, try_recover_truncated=False,
                         acceptable_fraction=1, dct_method="", name=None):
    """Decodes the ``crop_window = [y, x, height, width]`` part of a JPEG image.

    Raises:
      ValueError: ``crop_window`` does not hold 4 values.
      InvalidArgumentError: the window does not lie inside the image.
    """
    channels = _channels_arg(channels, (0, 1, 3))
    window = on_host(crop_window, _dt.int32)
    if window.shape.num_elements() not in (4, None):
        raise ValueError(f"crop_window must have 4 values [y, x, height, width], got "
                         f"shape {window.shape}")
    trace = STATE.trace
    # a window known when tracing gives a known height and width, as in TF
    unknown = set(_image_axes(channels)) - ({0, 1} if trace is None or
                                            not trace.is_symbolic(window) else set())
    return run(_decode_and_crop_jpeg_p, (string_input(contents, "contents"), window),
               {"channels": channels}, unknown)


@host_primitive("IsJpeg", lambda contents: np.zeros(np.shape(contents), bool))
def _is_jpeg_p(contents):
    flags = [_codecs.image_format(item_bytes(c)) == "jpeg"
             for c in np.asarray(contents, dtype=object).reshape(-1)]
    return np.asarray(flags, dtype=bool).reshape(np.shape(contents))


def is_jpeg(contents, name=None):
    """A bool Tensor shaped like ``contents``: do the bytes start like a JPEG file?"""
    return run(_is_jpeg_p, (string_input(contents, "contents", scalar=False),))
