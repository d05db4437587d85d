"""DenseNet121/169/201 (Huang et al., 2016): one builder over dense blocks joined
by transition blocks. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import imagenet_utils as _utils

__all__ = [
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "decode_predictions",
    "preprocess_input",
]

_EPSILON = 1.001e-5


def _bn(name):
    return layers.BatchNormalization(
        axis=_utils.channel_axis(), epsilon=_EPSILON, name=name
    )


def conv_block(x, growth_rate, name):
    """BN-ReLU-1x1 conv-BN-ReLU-3x3 conv whose output is concatenated to ``x``."""
    y = _bn(name + "_0_bn")(x)
    y = layers.Activation("relu", name=name + "_0_relu")(y)
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=name + "_1_conv")(y)
    y = _bn(name + "_1_bn")(y)
    y = layers.Activation("relu", name=name + "_1_relu")(y)
    y = layers.Conv2D(
        growth_rate, 3, padding="same", use_bias=False, name=name + "_2_conv"
    )(y)
    return layers.Concatenate(axis=_utils.channel_axis(), name=name + "_concat")([x, y])


def dense_block(x, blocks, name):
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU-1x1 conv (``reduction`` of the channels) and 2x2 average pooling."""
    x = _bn(name + "_bn")(x)
    x = layers.Activation("relu", name=name + "_relu")(x)
    channels = tuple(x.shape)[_utils.channel_axis()]
    x = layers.Conv2D(
        int(channels * reduction), 1, use_bias=False, name=name + "_conv"
    )(x)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def build_densenet(
    blocks,
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
    """The DenseNet graph with ``blocks`` conv blocks in dense blocks conv2..conv5."""
    _utils.check_common(weights, include_top, classes, pooling)
    shape = _utils.obtain_input_shape(
        _utils.requested_shape(input_tensor, input_shape), 224, 32, None, include_top
    )
    image, inputs = _utils.image_input(input_tensor, shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(image)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for i, count in enumerate(blocks):
        x = dense_block(x, count, name=f"conv{i + 2}")
        if i < len(blocks) - 1:
            x = transition_block(x, 0.5, name=f"pool{i + 2}")
    x = _bn("bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = _utils.top(
        x,
        include_top,
        pooling,
        classes,
        classifier_activation,
        pool_names=("avg_pool", "max_pool"),
    )
    return _utils.make_model(inputs, x, name or model_name, weights)


_ARGS_DOC = """
    Args:
      include_top: whether to add the global pooling + Dense classifier.
      weights: None (random initialization) or the path of a local weights file;
        'imagenet' cannot be downloaded by dlframe and raises ValueError.
      input_tensor: optional Keras tensor to use as the image input.
      input_shape: optional ``(rows, cols, 3)`` (at least 32x32); with
        ``include_top`` the default is ``(224, 224, 3)``.
      pooling: None, 'avg' or 'max' global pooling when ``include_top`` is False.
      classes: number of classes of the classifier.
      classifier_activation: activation of the classifier layer.
      name: model name.

    Returns:
      A functional ``keras.Model``.
    """


def DenseNet121(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet121",
):
    return build_densenet(
        (6, 12, 24, 16),
        "densenet121",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def DenseNet169(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet169",
):
    return build_densenet(
        (6, 12, 32, 32),
        "densenet169",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def DenseNet201(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet201",
):
    return build_densenet(
        (6, 12, 48, 32),
        "densenet201",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


for _fn, _depth in ((DenseNet121, 121), (DenseNet169, 169), (DenseNet201, 201)):
    _fn.__doc__ = f"Instantiates the DenseNet{_depth} architecture.\n" + _ARGS_DOC
del _fn, _depth


def preprocess_input(x, data_format=None):
    return _utils.preprocess_input(x, data_format=data_format, mode="torch")


preprocess_input.__doc__ = (
    _utils.PREPROCESS_INPUT_DOC
    + "\n    Scales to [0, 1] and normalizes by ImageNet mean/std."
)
decode_predictions = _utils.decode_predictions
