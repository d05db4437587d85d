"""``keras.ops.image``: the Keras 3 image operations.

``resize``, ``extract_patches``, the colour conversions and ``pad_images`` /
``crop_images`` come from the shared name table (see _tables); the resampling ops
(``image_sampling``) and filters (``image_filters``) are Keras-only. Each is public
once: called on symbolic Keras tensors it inserts an op layer.
"""

from dlframe.keras.ops import image_filters as _filters
from dlframe.keras.ops import image_sampling as _sampling
from dlframe.keras.ops._tables import build as _build
from dlframe.keras.utils.generic_utils import symbolic_aware as _symbolic_aware

globals().update(_build("image"))

_extract_patches_2d = extract_patches  # noqa: F821 - from the table above


def _extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                     data_format=None):
    """Patches of ``size`` flattened into the channel axis; a 3-entry ``size`` means
    volumes (``extract_patches_3d``), as in Keras 3.

    Args:
      images: images ``[batch, h, w, c]`` / ``[h, w, c]`` (or volumes).
      size: patch ``(height, width)``, an int, or ``(depth, height, width)``.
      strides: step between patches (default: ``size``).
      dilation_rate: dilation inside a patch.
      padding: 'valid' or 'same'.
      data_format: 'channels_last' or 'channels_first'.
    """
    if isinstance(size, (list, tuple)) and len(size) == 3:
        return _filters.extract_patches_3d(images, size, strides, dilation_rate,
                                           padding, data_format)
    return _extract_patches_2d(images, size, strides, dilation_rate, padding,
                               data_format)


_extract_patches.__name__ = _extract_patches.__qualname__ = "extract_patches"
_KERAS_ONLY = {"extract_patches": _extract_patches}
for _module in (_filters, _sampling):
    _KERAS_ONLY.update((_n, getattr(_module, _n)) for _n in _module.__all__)
for _name, _fn in _KERAS_ONLY.items():
    globals()[_name] = _symbolic_aware(_fn, f"keras.ops.image.{_name}")
del _module, _name, _fn
