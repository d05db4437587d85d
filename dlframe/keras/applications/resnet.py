"""ResNet50/101/152 (He et al., 2015): one builder over stacks of bottleneck
blocks. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = [
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "decode_predictions",
    "preprocess_input",
]

_bn = _builder.batch_norm


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


def build_resnet(depths, *, name, **arguments):
    """The ResNet v1 graph with ``depths`` blocks in stacks conv2..conv5."""

    def body(image):
        x = _builder.conv_stem(
            image, True, ("conv1_pad", "pool1_pad"), pool_name="pool1_pool"
        )
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), depths)):
            stride = 1 if i == 0 else 2
            x = stack(x, filters, blocks, stride1=stride, name=f"conv{i + 2}")
        return x

    return _builder.build_application(
        body, name=name, pool_names=("avg_pool", "max_pool"), **arguments
    )


ResNet50 = _builder.family_member(
    build_resnet,
    (3, 4, 6, 3),
    "resnet50",
    "ResNet50",
    __name__,
    imagenet=_pretrained.tf_kernels("resnet50", "resnet"),
)
ResNet101 = _builder.family_member(
    build_resnet,
    (3, 4, 23, 3),
    "resnet101",
    "ResNet101",
    __name__,
    imagenet=_pretrained.tf_kernels("resnet101", "resnet"),
)
ResNet152 = _builder.family_member(
    build_resnet,
    (3, 8, 36, 3),
    "resnet152",
    "ResNet152",
    __name__,
    imagenet=_pretrained.tf_kernels("resnet152", "resnet"),
)
preprocess_input = _builder.preprocessor(
    "caffe", "Converts RGB to BGR and subtracts the ImageNet mean.", __name__
)
decode_predictions = _utils.decode_predictions
