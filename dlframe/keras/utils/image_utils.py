"""``keras.utils.image_dataset_from_directory`` and the Pillow-based image helpers
``load_img``, ``save_img`` and ``array_to_img`` (``img_to_array`` needs no Pillow).

Images in datasets are decoded by ``tf.io.decode_image`` (PNG and BMP natively,
JPEG and GIF through Pillow) and resized by ``tf.image.resize``.
"""

import io

from dlframe import config as _config
from dlframe.backends.base import np  # host-side image utility: returns NumPy, as Keras
from dlframe.io import image_ops as _io
from dlframe.keras.layers.preprocessing import resize_images
from dlframe.keras.preprocessing.image import img_to_array
from dlframe.keras.utils import dataset_utils
from dlframe.ops import array as _array
from dlframe.ops import image_random as _image

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None,
                                 interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                                 data_format=None, verbose=True):
    """A ``tf.data.Dataset`` of the images in ``directory`` (one subfolder per class).

    Args:
      directory: the folder; with ``labels='inferred'`` its subfolders are the classes
        (sorted, or in ``class_names`` order).
      labels: 'inferred', None (images only) or a list of integer labels in the
        sorted order of the image paths.
      label_mode: 'int' (int32), 'categorical' (float32 one-hot), 'binary' (float32
        ``[1]``) or None.
      class_names: explicit class subfolders and their order.
      color_mode: 'rgb', 'rgba' or 'grayscale' (3, 4 or 1 channels).
      batch_size: batch size, or None for single images.
      image_size: ``(height, width)`` every image is resized to.
      shuffle, seed: shuffle the file list (and each epoch's order).
      validation_split, subset: reserve the last ``validation_split`` of the
        (shuffled) files for 'validation'; 'both' returns ``[train, validation]``.
      interpolation: resize method.
      crop_to_aspect_ratio, pad_to_aspect_ratio: resize without distortion.
      data_format: 'channels_last' (``(height, width, channels)`` images) or
        'channels_first'; None means ``keras.config.image_data_format()``.
      verbose: print how many files and classes were found.

    Returns:
      A dataset of images ``(batch, height, width, channels)`` (and labels), with
      ``class_names`` and ``file_paths`` attributes; float32, except that 'nearest'
      resizing keeps uint8, as ``tf.image.resize``.
    """
    if color_mode not in _CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    data_format = data_format or _config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("`data_format` should be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can "
                         "be set to `True`.")
    channels = _CHANNELS[color_mode]
    size = (int(image_size[0]), int(image_size[1]))

    def load(path):   # float32 images, except uint8 ones resized with 'nearest'
        image = _io.decode_image(_io.read_file(path), channels=channels,
                                 expand_animations=False)
        if pad_to_aspect_ratio:   # (as Keras: not resize_images' padding)
            image = _image.resize_with_pad(image, size[0], size[1], method=interpolation)
        else:
            image = resize_images(image, size, interpolation, crop_to_aspect_ratio)
        if data_format == "channels_first":
            image = _array.transpose(image, [2, 0, 1])
        return image

    return dataset_utils.datasets_from_directory(
        directory, labels, label_mode, class_names, IMAGE_FORMATS, load, batch_size,
        shuffle, seed, validation_split, subset, follow_links, verbose, "images")


# ---------------------------------------------------------------- Pillow helpers
def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("Could not import PIL.Image. The use of `load_img`, "
                          "`save_img` and `array_to_img` requires Pillow.") from None
    return Image


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Loads an image file into a PIL Image.

    Args:
      path: the file path, or an open binary file (e.g. ``io.BytesIO``).
      color_mode: 'rgb', 'rgba' or 'grayscale'.
      target_size: None, or ``(height, width)`` to resize to.
      interpolation: 'nearest', 'bilinear', 'bicubic', 'lanczos', 'box' or 'hamming'.
      keep_aspect_ratio: crop the centre to the target aspect ratio before resizing.
    """
    Image = _pil()
    modes = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
    if color_mode not in modes:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if hasattr(path, "read"):   # an open binary file or io.BytesIO, as Keras
        img = Image.open(io.BytesIO(path.read()))
        img.load()
    else:
        with open(path, "rb") as f:
            img = Image.open(f)
            img.load()
    if img.mode != modes[color_mode]:
        img = img.convert(modes[color_mode])
    if target_size is not None:
        height, width = target_size
        if img.size != (width, height):
            methods = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR,
                       "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS,
                       "box": Image.BOX, "hamming": Image.HAMMING}
            if interpolation not in methods:
                raise ValueError(f"Invalid interpolation method {interpolation!r}. "
                                 f"Supported methods are {', '.join(methods)}")
            box = None
            if keep_aspect_ratio:
                w, h = img.size
                crop_w = min(w, int(h * width / height))
                crop_h = min(h, int(w * height / width))
                left, top = (w - crop_w) // 2, (h - crop_h) // 2
                box = (left, top, left + crop_w, top + crop_h)
            img = img.resize((width, height), methods[interpolation], box=box)
    return img


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A PIL Image of a 3-D array (scaled to 0-255 when ``scale``)."""
    Image = _pil()
    x = np.asarray(x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got "
                         f"array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"Unsupported channel number: {channels}")
    pixels = x.astype("uint8")
    return Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels,
                           {1: "L", 3: "RGB", 4: "RGBA"}[channels])


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves a 3-D array as an image file (the format from ``file_format`` or the
    file extension)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpg" or str(path).lower().endswith(
            (".jpg", ".jpeg"))):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


__all__ = ["array_to_img", "image_dataset_from_directory", "img_to_array", "load_img",
           "save_img"]
