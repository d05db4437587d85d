"""VGG16 and VGG19 (Simonyan & Zisserman, 2014): one builder over five blocks of
3x3 convolutions. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import imagenet_utils as _utils


def build_vgg(
    convs_per_block,
    model_name,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
):
    """The VGG graph with ``convs_per_block`` convolutions in each of 5 blocks."""
    _utils.check_common(weights, include_top, classes, pooling)
    shape = _utils.obtain_input_shape(
        _utils.requested_shape(input_tensor, input_shape), 224, 32, None, include_top
    )
    image, inputs = _utils.image_input(input_tensor, shape)
    x = image
    for block, (filters, convs) in enumerate(
        zip((64, 128, 256, 512, 512), convs_per_block), start=1
    ):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(
                filters,
                (3, 3),
                activation="relu",
                padding="same",
                name=f"block{block}_conv{conv}",
            )(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(
            x
        )
    else:
        x = _utils.top(x, False, pooling, classes, classifier_activation)
    return _utils.make_model(inputs, x, name or model_name, weights)


ARGS_DOC = """
    Args:
      include_top: whether to add the Flatten + 3 Dense classifier (then the input
        must have a static shape, default ``(224, 224, 3)``).
      weights: None (random initialization) or the path of a local weights file;
        'imagenet' cannot be downloaded by dlframe and raises ValueError.
      input_tensor: optional Keras tensor to use as the image input.
      input_shape: optional ``(rows, cols, 3)`` (at least 32x32).
      pooling: None, 'avg' or 'max' global pooling when ``include_top`` is False.
      classes: number of classes of the classifier.
      classifier_activation: activation of the classifier layer.
      name: model name.

    Returns:
      A functional ``keras.Model``.
    """


def preprocess_input(x, data_format=None):
    return _utils.preprocess_input(x, data_format=data_format, mode="caffe")


preprocess_input.__doc__ = (
    _utils.PREPROCESS_INPUT_DOC
    + "\n    Converts RGB to BGR and subtracts the ImageNet mean."
)
decode_predictions = _utils.decode_predictions
