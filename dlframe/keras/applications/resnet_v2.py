"""ResNet50V2/101V2/152V2 (He et al., 2016, "Identity Mappings in Deep Residual
Networks"): pre-activation bottleneck blocks. Layer names and parameter counts
equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = [
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "decode_predictions",
    "preprocess_input",
]

_bn = _builder.batch_norm


def preact_block(x, filters, stride=1, conv_shortcut=False, name=None):
    """BN-ReLU, then 1x1 -> 3x3 (``stride``) -> 1x1 convs added to the shortcut."""
    preact = _bn(name + "_preact_bn")(x)
    preact = layers.Activation("relu", name=name + "_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(
            preact
        )
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, use_bias=False, name=name + "_1_conv")(preact)
    x = _bn(name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(
        filters, 3, strides=stride, use_bias=False, name=name + "_2_conv"
    )(x)
    x = _bn(name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def stack(x, filters, blocks, stride1=2, name=None):
    """``blocks`` pre-activation blocks; the last one downsamples by ``stride1``."""
    x = preact_block(x, filters, conv_shortcut=True, name=name + "_block1")
    for i in range(2, blocks):
        x = preact_block(x, filters, name=f"{name}_block{i}")
    return preact_block(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def build_resnet_v2(depths, *, name, **arguments):
    """The ResNet v2 graph with ``depths`` blocks in stacks conv2..conv5."""

    def body(image):
        x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(image)
        x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
        x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), depths)):
            stride = 1 if i == 3 else 2
            x = stack(x, filters, blocks, stride1=stride, name=f"conv{i + 2}")
        x = _bn("post_bn")(x)
        return layers.Activation("relu", name="post_relu")(x)

    return _builder.build_application(
        body, name=name, pool_names=("avg_pool", "max_pool"), **arguments
    )


ResNet50V2 = _builder.family_member(
    build_resnet_v2,
    (3, 4, 6, 3),
    "resnet50v2",
    "ResNet50V2",
    __name__,
    imagenet=_pretrained.tf_kernels("resnet50v2", "resnet"),
)
ResNet101V2 = _builder.family_member(
    build_resnet_v2,
    (3, 4, 23, 3),
    "resnet101v2",
    "ResNet101V2",
    __name__,
    imagenet=_pretrained.tf_kernels("resnet101v2", "resnet"),
)
ResNet152V2 = _builder.family_member(
    build_resnet_v2,
    (3, 8, 36, 3),
    "resnet152v2",
    "ResNet152V2",
    __name__,
    imagenet=_pretrained.tf_kernels("resnet152v2", "resnet"),
)
preprocess_input = _builder.preprocessor("tf", "Scales to [-1, 1].", __name__)
decode_predictions = _utils.decode_predictions
