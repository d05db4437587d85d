"""``keras.preprocessing``: ``sequence`` (pad_sequences), ``text`` (Tokenizer), ``image``
(img_to_array, load_img, smart_resize) and the ``*_dataset_from_*`` utilities."""

from dlframe.keras.preprocessing import image, sequence, text
from dlframe.keras.utils.text_dataset_utils import text_dataset_from_directory
from dlframe.keras.utils.timeseries_dataset_utils import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text",
           "text_dataset_from_directory", "timeseries_dataset_from_array"]


def __getattr__(name):
    if name == "image_dataset_from_directory":   # image_utils needs keras.layers
        from dlframe.keras.utils.image_utils import image_dataset_from_directory
        return image_dataset_from_directory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
