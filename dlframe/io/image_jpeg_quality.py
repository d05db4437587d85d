"""JPEG re-encoding augmentations of ``tf.image``: ``adjust_jpeg_quality`` and
its random and stateless random forms.

Each image is converted to uint8, encoded as JPEG at the requested quality and
decoded again (through Pillow, on the host, eagerly like the codecs), then
converted back to the input's dtype.
"""

from dlframe.backends.base import np  # host pixels for the codec
from dlframe.core.tensor import Tensor, convert_to_tensor, is_symbolic_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.io import image_codecs as _codecs
from dlframe.ops import array as _array
from dlframe.ops import image as _image
from dlframe.ops import py_func as _py_func
from dlframe.ops import random as _random

JPEG_QUALITY_NAMES = (
    "adjust_jpeg_quality",
    "random_jpeg_quality",
    "stateless_random_jpeg_quality",
)


def _reencode(pixels, quality):
    """One uint8 ``[h, w, 1 or 3]`` image through a JPEG round trip."""
    data = _codecs.encode_jpeg_array(np.ascontiguousarray(pixels), quality)
    decoded = _codecs.decode_any(data)
    return decoded.reshape(pixels.shape)


def _quality(value):
    quality = int(value.numpy()) if hasattr(value, "numpy") else int(value)
    if not 0 <= quality <= 100:
        raise InvalidArgumentError(f"jpeg_quality must be in [0, 100]; received "
                                   f"jpeg_quality={quality}")
    return quality


def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None):
    """Degrades images by a JPEG encode/decode round trip at ``jpeg_quality``.

    Args:
      image: ``[height, width, channels]`` or a batch ``[n, height, width,
        channels]`` with 1 or 3 channels; integer images or floats in [0, 1].
      jpeg_quality: int in [0, 100].
      dct_method: accepted for API compatibility (Pillow picks the DCT).
      name: unused.

    Returns:
      The re-encoded images, in ``image``'s dtype and shape.

    Raises:
      InvalidArgumentError: a quality outside [0, 100].
      ValueError: images of the wrong rank or channel count.
    """
    image = image if isinstance(image, Tensor) else convert_to_tensor(image)
    if image.ndim not in (3, 4) or int(image.shape[-1]) not in (1, 3):
        raise ValueError(f"image must be [height, width, 1 or 3] or a batch of them; "
                         f"received shape {tuple(image.shape)}")
    pixels = _image.convert_image_dtype(image, "uint8", saturate=True)
    if is_symbolic_tensor(pixels) or is_symbolic_tensor(jpeg_quality):
        # traced (a train_step's augmentation): the codec runs on the host when the
        # graph runs, as a NumPy function of the pixels and the quality
        quality = jpeg_quality if isinstance(jpeg_quality, Tensor) else _quality(
            jpeg_quality)
        out = _py_func.numpy_function(_reencode_all, [pixels, quality], "uint8",
                                      stateful=False)
        # TF's static shape: the channels (and batch) kept, height and width unknown
        dims = list(image.shape)
        result = _array.ensure_shape(out, dims[:-3] + [None, None, dims[-1]])
    else:
        result = convert_to_tensor(_reencode_all(pixels.numpy(), jpeg_quality))
    return _image.convert_image_dtype(result, image.dtype)


def _reencode_all(pixels, jpeg_quality):
    """One image or a batch of uint8 images through the JPEG round trip."""
    quality = _quality(jpeg_quality)
    if pixels.ndim == 3:
        return _reencode(pixels, quality)
    return np.stack([_reencode(p, quality) for p in pixels])


def _range(min_jpeg_quality, max_jpeg_quality):
    low, high = int(min_jpeg_quality), int(max_jpeg_quality)
    if low >= high:
        raise ValueError(f"`min_jpeg_quality` must be less than `max_jpeg_quality`; "
                         f"received min_jpeg_quality={low}, max_jpeg_quality={high}")
    if low < 0 or high > 100:
        raise ValueError(f"jpeg quality must be in [0, 100]; received "
                         f"min_jpeg_quality={low}, max_jpeg_quality={high}")
    return low, high


def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None):
    """``adjust_jpeg_quality`` with a quality drawn from ``[min, max)``.

    Args:
      image: images as for ``adjust_jpeg_quality``.
      min_jpeg_quality: the smallest quality (>= 0).
      max_jpeg_quality: the exclusive largest quality (<= 100).
      seed: op seed, combined with the global seed.

    Returns:
      The re-encoded images.
    """
    low, high = _range(min_jpeg_quality, max_jpeg_quality)
    quality = _random.uniform([], low, high, dtype="int32", seed=seed)
    return adjust_jpeg_quality(image, quality)


def stateless_random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed):
    """``random_jpeg_quality`` determined by the ``seed`` pair.

    Args:
      image: images as for ``adjust_jpeg_quality``.
      min_jpeg_quality: the smallest quality (>= 0).
      max_jpeg_quality: the exclusive largest quality (<= 100).
      seed: shape ``[2]`` integer seed.

    Returns:
      The re-encoded images.
    """
    low, high = _range(min_jpeg_quality, max_jpeg_quality)
    quality = _random.stateless_uniform([], seed, low, high, dtype="int32")
    return adjust_jpeg_quality(image, quality)
