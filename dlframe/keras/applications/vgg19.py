"""``keras.applications.vgg19``: VGG19 and its preprocessing."""

from dlframe.keras.applications import vgg as _vgg
from dlframe.keras.applications.vgg import decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]


def VGG19(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    return _vgg.build_vgg(
        (2, 2, 4, 4, 4),
        "vgg19",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


VGG19.__doc__ = "Instantiates the VGG19 architecture.\n" + _vgg.ARGS_DOC
