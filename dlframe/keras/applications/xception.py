"""Xception (Chollet, 2017): depthwise separable convolutions with residual
connections. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = ["Xception", "decode_predictions", "preprocess_input"]


def _bn(name=None):
    return layers.BatchNormalization(axis=_utils.channel_axis(), name=name)


def _sep_conv(x, filters, name, activate_first=True):
    """(ReLU) - 3x3 separable conv - BN, the unit Xception repeats."""
    if activate_first:
        x = layers.Activation("relu", name=name + "_act")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(
        x
    )
    x = _bn(name + "_bn")(x)
    if not activate_first:
        x = layers.Activation("relu", name=name + "_act")(x)
    return x


def _downsampling_block(x, filters, block, first_relu=True):
    """Two separable convs and strided max pooling added to a strided 1x1 conv."""
    residual = layers.Conv2D(
        filters[1], 1, strides=2, padding="same", use_bias=False
    )(x)
    residual = _bn()(residual)
    prefix = f"block{block}_sepconv"
    if first_relu:
        x = _sep_conv(x, filters[0], prefix + "1")
    else:  # block 2 follows the stem's ReLU: its first conv needs none
        x = layers.SeparableConv2D(
            filters[0], 3, padding="same", use_bias=False, name=prefix + "1"
        )(x)
        x = _bn(prefix + "1_bn")(x)
    x = _sep_conv(x, filters[1], prefix + "2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{block}_pool")(x)
    return layers.Add()([x, residual])


def _body(image):
    x = layers.Conv2D(32, 3, strides=2, use_bias=False, name="block1_conv1")(image)
    x = _bn("block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, 3, use_bias=False, name="block1_conv2")(x)
    x = _bn("block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _downsampling_block(x, (128, 128), 2, first_relu=False)
    x = _downsampling_block(x, (256, 256), 3)
    x = _downsampling_block(x, (728, 728), 4)
    for block in range(5, 13):  # the middle flow: 8 residual triples of 728
        residual = x
        for i in range(1, 4):
            x = _sep_conv(x, 728, f"block{block}_sepconv{i}")
        x = layers.Add()([x, residual])
    x = _downsampling_block(x, (728, 1024), 13)
    x = _sep_conv(x, 1536, "block14_sepconv1", activate_first=False)
    return _sep_conv(x, 2048, "block14_sepconv2", activate_first=False)


@_builder.documented(
    "Xception",
    input_shape="optional ``(rows, cols, 3)`` (at least 71x71); with\n"
    "        ``include_top`` the default is ``(299, 299, 3)``.",
)
def Xception(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="xception",
):
    arguments = _builder.common_arguments(locals())
    return _builder.build_application(
        _body,
        name=name or "xception",
        classifier=_builder.classifier(),
        default_size=299,
        imagenet=_pretrained.tf_kernels("xception"),
        min_size=71,
        **arguments,
    )


preprocess_input = _builder.preprocessor("tf", "Scales to [-1, 1].", __name__)
decode_predictions = _utils.decode_predictions
