"""``keras.preprocessing.image``: ``img_to_array``, ``smart_resize``, (with Pillow)
``load_img``, ``save_img``, ``array_to_img``, and Keras 2's NumPy augmentation API:
``ImageDataGenerator``, its iterators and the ``random_*``/``apply_*`` transforms
(SciPy resamples the affine ones).
"""

from dlframe.backends.base import np  # host-side image utility: returns NumPy, as Keras
from dlframe.keras.preprocessing.image_generator import ImageDataGenerator
from dlframe.keras.preprocessing.image_iterators import (
    DirectoryIterator,
    Iterator,
    NumpyArrayIterator,
)
from dlframe.keras.preprocessing.image_transforms import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    random_brightness,
    random_channel_shift,
    random_rotation,
    random_shear,
    random_shift,
    random_zoom,
)


def img_to_array(img, data_format=None, dtype=None):
    """A 3-D NumPy array (height, width, channels) of an image or array.

    Args:
      img: a PIL image or an array of rank 2 or 3.
      data_format: 'channels_last' (default) or 'channels_first'.
      dtype: the result's dtype (default float32).
    """
    data_format = data_format or "channels_last"
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}")
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[..., None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last",
                 backend_module=None):
    """Resizes ``[..., height, width, channels]`` image(s) to ``size`` without
    distortion: the largest centred window of the target aspect ratio is cropped first.

    Args:
      x: an image or a batch of images (array or Tensor).
      size: ``(height, width)``.
      interpolation: 'bilinear', 'nearest', 'bicubic' or 'area'.
      data_format: 'channels_last' (default) or 'channels_first'.

    Returns:
      A float32 Tensor (dtype of ``x`` when it is floating).
    """
    from dlframe.core.tensor import convert_to_tensor
    from dlframe.keras.layers.preprocessing import crop_to_aspect_and_resize
    from dlframe.ops import math as _math
    from dlframe.ops import array as _array
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first'; "
                         f"received data_format={data_format!r}")
    t = convert_to_tensor(x)
    if t.ndim not in (3, 4):
        raise ValueError(f"Expected an image array with shape `(height, width, channels)`"
                         f", or `(batch_size, height, width, channels)`, but got input "
                         f"with incorrect rank, of shape {tuple(t.shape)}.")
    if not t.dtype.is_floating:
        t = _math.cast(t, "float32")
    to_last = [0, 2, 3, 1] if t.ndim == 4 else [1, 2, 0]
    if data_format == "channels_first":
        t = _array.transpose(t, to_last)
    out = crop_to_aspect_and_resize(t, int(size[0]), int(size[1]), interpolation)
    if data_format == "channels_first":   # back to channels first
        out = _array.transpose(out, [0, 3, 1, 2] if t.ndim == 4 else [2, 0, 1])
    return out


def __getattr__(name):
    if name in ("load_img", "save_img", "array_to_img"):   # need Pillow, and keras.layers
        from dlframe.keras.utils import image_utils
        return getattr(image_utils, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# load_img, save_img and array_to_img come from __getattr__ (they import Pillow).
__all__ = ["DirectoryIterator", "ImageDataGenerator", "Iterator", "NumpyArrayIterator",
           "apply_affine_transform", "apply_brightness_shift", "apply_channel_shift",
           "img_to_array", "random_brightness", "random_channel_shift",
           "random_rotation", "random_shear", "random_shift", "random_zoom",
           "smart_resize"]
