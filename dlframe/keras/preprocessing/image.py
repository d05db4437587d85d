"""``keras.preprocessing.image`` (minimal): ``img_to_array``.

``ImageDataGenerator``, ``load_img`` and ``array_to_img`` need an image library and
random augmentation; they are not provided (use ``tf.data`` with ``tf.image`` ops or
the ``keras.layers.Random*`` preprocessing layers instead).
"""

from dlframe.backends.base import np  # host-side image utility: returns NumPy, as Keras


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


def _unsupported(name):
    def missing(*args, **kwargs):
        raise NotImplementedError(
            f"keras.preprocessing.image.{name} is not provided by dlframe; use tf.data "
            "with tf.image ops or the keras.layers.Random* preprocessing layers.")
    missing.__name__ = name
    return missing


ImageDataGenerator = _unsupported("ImageDataGenerator")
load_img = _unsupported("load_img")
array_to_img = _unsupported("array_to_img")

__all__ = ["ImageDataGenerator", "array_to_img", "img_to_array", "load_img"]
