"""``keras.applications.vgg19``: VGG19 and its preprocessing."""

from dlframe.keras.applications import vgg as _vgg
from dlframe.keras.applications.vgg import decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]

VGG19 = _vgg.family_member((2, 2, 4, 4, 4), "vgg19", "VGG19", __name__)
