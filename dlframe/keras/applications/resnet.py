"""ResNet50/101/152 (He et al., 2015): one builder over stacks of bottleneck
blocks. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import imagenet_utils as _utils

__all__ = [
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "decode_predictions",
    "preprocess_input",
]

_EPSILON = 1.001e-5


def _bn(name):
    return layers.BatchNormalization(
        axis=_utils.channel_axis(), epsilon=_EPSILON, name=name
    )


def bottleneck_block(
    x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None
):
    """1x1 -> kxk -> 1x1 (4 * filters) convolutions plus the (projected) shortcut."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(
            x
        )
        shortcut = _bn(name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = _bn(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=name + "_2_conv")(x)
    x = _bn(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = _bn(name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def stack(x, filters, blocks, stride1=2, name=None):
    """``blocks`` bottleneck blocks; the first projects the shortcut."""
    x = bottleneck_block(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = bottleneck_block(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def build_resnet(
    depths,
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
    """The ResNet v1 graph with ``depths`` blocks in stacks conv2..conv5."""
    _utils.check_common(weights, include_top, classes, pooling)
    shape = _utils.obtain_input_shape(
        _utils.requested_shape(input_tensor, input_shape), 224, 32, None, include_top
    )
    image, inputs = _utils.image_input(input_tensor, shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(image)
    x = layers.Conv2D(64, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), depths)):
        x = stack(x, filters, blocks, stride1=1 if i == 0 else 2, name=f"conv{i + 2}")
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


def ResNet50(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet50",
):
    return build_resnet(
        (3, 4, 6, 3),
        "resnet50",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def ResNet101(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet101",
):
    return build_resnet(
        (3, 4, 23, 3),
        "resnet101",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def ResNet152(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet152",
):
    return build_resnet(
        (3, 8, 36, 3),
        "resnet152",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


for _fn, _depth in ((ResNet50, 50), (ResNet101, 101), (ResNet152, 152)):
    _fn.__doc__ = f"Instantiates the ResNet{_depth} architecture.\n" + _ARGS_DOC
del _fn, _depth


def preprocess_input(x, data_format=None):
    return _utils.preprocess_input(x, data_format=data_format, mode="caffe")


preprocess_input.__doc__ = (
    _utils.PREPROCESS_INPUT_DOC
    + "\n    Converts RGB to BGR and subtracts the ImageNet mean."
)
decode_predictions = _utils.decode_predictions
