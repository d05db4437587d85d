"""``keras.applications.vgg16``: VGG16 and its preprocessing."""

from dlframe.keras.applications import vgg as _vgg
from dlframe.keras.applications.vgg import decode_predictions, preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]

VGG16 = _vgg.family_member((2, 2, 3, 3, 3), "vgg16", "VGG16", __name__)
