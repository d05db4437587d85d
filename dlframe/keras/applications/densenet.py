"""DenseNet121/169/201 (Huang et al., 2016): one builder over dense blocks joined
by transition blocks. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = [
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "decode_predictions",
    "preprocess_input",
]

_bn = _builder.batch_norm


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


def build_densenet(blocks, *, name, **arguments):
    """The DenseNet graph with ``blocks`` conv blocks in dense blocks conv2..conv5."""

    def body(image):
        x = _builder.conv_stem(image, False)
        for i, count in enumerate(blocks):
            x = dense_block(x, count, name=f"conv{i + 2}")
            if i < len(blocks) - 1:
                x = transition_block(x, 0.5, name=f"pool{i + 2}")
        x = _bn("bn")(x)
        return layers.Activation("relu", name="relu")(x)

    return _builder.build_application(
        body, name=name, pool_names=("avg_pool", "max_pool"), **arguments
    )


DenseNet121 = _builder.family_member(
    build_densenet,
    (6, 12, 24, 16),
    "densenet121",
    "DenseNet121",
    __name__,
    imagenet=_pretrained.tf_kernels("densenet121", "densenet"),
)
DenseNet169 = _builder.family_member(
    build_densenet,
    (6, 12, 32, 32),
    "densenet169",
    "DenseNet169",
    __name__,
    imagenet=_pretrained.tf_kernels("densenet169", "densenet"),
)
DenseNet201 = _builder.family_member(
    build_densenet,
    (6, 12, 48, 32),
    "densenet201",
    "DenseNet201",
    __name__,
    imagenet=_pretrained.tf_kernels("densenet201", "densenet"),
)
preprocess_input = _builder.preprocessor(
    "torch", "Scales to [0, 1] and normalizes by ImageNet mean/std.", __name__
)
decode_predictions = _utils.decode_predictions
