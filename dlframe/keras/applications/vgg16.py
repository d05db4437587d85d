"""``keras.applications.vgg16``: VGG16 and its preprocessing."""

from dlframe.keras.applications import vgg as _vgg
from dlframe.keras.applications.vgg import decode_predictions, preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]


def VGG16(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg16",
):
    return _vgg.build_vgg(
        (2, 2, 3, 3, 3),
        "vgg16",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


VGG16.__doc__ = "Instantiates the VGG16 architecture.\n" + _vgg.ARGS_DOC
