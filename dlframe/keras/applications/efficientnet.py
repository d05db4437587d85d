"""EfficientNetB0..B7 (Tan & Le, 2019): mobile inverted bottlenecks with
squeeze-and-excitation, scaled in width, depth and resolution by one compound
coefficient. Layer names and parameter counts equal Keras'."""

import math

from dlframe.keras import initializers, layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained
from dlframe.keras.applications.mobilenet_v2 import correct_pad, make_divisible

__all__ = [f"EfficientNetB{i}" for i in range(8)] + [
    "decode_predictions",
    "preprocess_input",
]

# (kernel, repeats, filters_in, filters_out, expansion, stride) of the 7 stages;
# every block has squeeze-and-excitation with ratio 0.25 and an identity skip
_STAGES = (
    (3, 1, 32, 16, 1, 1),
    (3, 2, 16, 24, 6, 2),
    (5, 2, 24, 40, 6, 2),
    (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1),
    (5, 4, 112, 192, 6, 2),
    (3, 1, 192, 320, 6, 1),
)
_SE_RATIO = 0.25
_DROP_CONNECT_RATE = 0.2


def conv_initializer():
    """He-style truncated normal over the fan-out (EfficientNet's conv kernels)."""
    return initializers.VarianceScaling(
        scale=2.0, mode="fan_out", distribution="truncated_normal"
    )


def dense_initializer():
    """Uniform init with a third of the fan-out variance (the classifier)."""
    return initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_out", distribution="uniform"
    )


def bn(name, momentum=0.99, epsilon=1e-3):
    return layers.BatchNormalization(
        axis=_utils.channel_axis(), momentum=momentum, epsilon=epsilon, name=name
    )


def conv(filters, kernel, name, strides=1, padding="same", **kwargs):
    """A bias-free convolution with the EfficientNet kernel initializer."""
    return layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding=padding,
        use_bias=False,
        kernel_initializer=conv_initializer(),
        name=name,
        **kwargs,
    )


def squeeze_excite(x, filters, squeezed, activation, name):
    """Channel gating: global pooling, a bottleneck of ``squeezed`` 1x1 convs."""
    se = layers.GlobalAveragePooling2D(name=name + "se_squeeze")(x)
    se = layers.Reshape(se_shape(filters), name=name + "se_reshape")(se)
    for units, act, suffix in (
        (squeezed, activation, "se_reduce"),
        (filters, "sigmoid", "se_expand"),
    ):
        se = layers.Conv2D(
            units,
            1,
            padding="same",
            activation=act,
            kernel_initializer=conv_initializer(),
            name=name + suffix,
        )(se)
    return layers.Multiply(name=name + "se_excite")([x, se])


def se_shape(filters):
    """The ``(1, 1, filters)`` (or channels-first) shape of the excitation."""
    return (filters, 1, 1) if _utils.channel_axis() == 1 else (1, 1, filters)


def drop_connect_add(x, inputs, drop_rate, name):
    """Stochastic depth (a per-sample Dropout) and the residual addition."""
    if drop_rate > 0:
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(
            x
        )
    return layers.Add(name=name + "add")([x, inputs])


def mb_conv_block(
    inputs, *, kernel, filters_in, filters_out, expansion, stride, drop_rate, name
):
    """Expand (1x1) - depthwise (kxk) - squeeze/excite - project (1x1) block."""
    filters = filters_in * expansion
    x = inputs
    if expansion != 1:
        x = conv(filters, 1, name + "expand_conv")(x)
        x = bn(name + "expand_bn")(x)
        x = layers.Activation("swish", name=name + "expand_activation")(x)
    if stride == 2:
        x = layers.ZeroPadding2D(
            padding=correct_pad(x, kernel), name=name + "dwconv_pad"
        )(x)
    x = layers.DepthwiseConv2D(
        kernel,
        strides=stride,
        padding="valid" if stride == 2 else "same",
        use_bias=False,
        depthwise_initializer=conv_initializer(),
        name=name + "dwconv",
    )(x)
    x = bn(name + "bn")(x)
    x = layers.Activation("swish", name=name + "activation")(x)
    squeezed = max(1, int(filters_in * _SE_RATIO))
    x = squeeze_excite(x, filters, squeezed, "swish", name)
    x = conv(filters_out, 1, name + "project_conv")(x)
    x = bn(name + "project_bn")(x)
    if stride == 1 and filters_in == filters_out:
        x = drop_connect_add(x, inputs, drop_rate, name)
    return x


def block_name(stage, index):
    """``block2a_``: the stage number and the block's letter within it."""
    return f"block{stage + 1}{chr(ord('a') + index)}_"


_IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


def input_scaling(image, weights=None):
    """Rescaling to [0, 1] and the (adaptable) per-channel Normalization.

    The ImageNet files hold the channel variances where the original model
    divided by them, so with ``weights='imagenet'`` the normalized input is
    divided once more by the standard deviations' square roots, as Keras does.
    """
    x = layers.Rescaling(1.0 / 255.0)(image)
    x = layers.Normalization(axis=_utils.channel_axis())(x)
    if weights == "imagenet":
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in _IMAGENET_STDDEV_RGB])(x)
    return x


def build_efficientnet(config, *, name, **arguments):
    """The EfficientNet graph for ``(width, depth, default size, dropout)``."""
    width, depth, default_size, dropout_rate = config

    def filters(count):
        return make_divisible(count * width, 8)

    def repeats(count):
        return math.ceil(depth * count)

    def body(image):
        x = input_scaling(image, arguments["weights"])
        x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name="stem_conv_pad")(x)
        x = conv(filters(32), 3, "stem_conv", strides=2, padding="valid")(x)
        x = bn("stem_bn")(x)
        x = layers.Activation("swish", name="stem_activation")(x)
        total = float(sum(repeats(stage[1]) for stage in _STAGES))
        done = 0
        for i, (kernel, count, f_in, f_out, expansion, stride) in enumerate(_STAGES):
            f_in, f_out = filters(f_in), filters(f_out)
            for j in range(repeats(count)):
                x = mb_conv_block(
                    x,
                    kernel=kernel,
                    filters_in=f_in if j == 0 else f_out,
                    filters_out=f_out,
                    expansion=expansion,
                    stride=stride if j == 0 else 1,
                    drop_rate=_DROP_CONNECT_RATE * done / total,
                    name=block_name(i, j),
                )
                done += 1
        x = conv(filters(1280), 1, "top_conv")(x)
        x = bn("top_bn")(x)
        return layers.Activation("swish", name="top_activation")(x)

    return _builder.build_application(
        body,
        name=name,
        classifier=_builder.classifier(
            dropout_rate, kernel_initializer=dense_initializer()
        ),
        pool_names=("avg_pool", "max_pool"),
        default_size=default_size,
        **arguments,
    )


# (width coefficient, depth coefficient, default resolution, top dropout rate)
_VARIANTS = (
    (1.0, 1.0, 224, 0.2),
    (1.0, 1.1, 240, 0.2),
    (1.1, 1.2, 260, 0.3),
    (1.2, 1.4, 300, 0.3),
    (1.4, 1.8, 380, 0.4),
    (1.6, 2.2, 456, 0.4),
    (1.8, 2.6, 528, 0.5),
    (2.0, 3.1, 600, 0.5),
)


def _member(index):
    return _builder.family_member(
        build_efficientnet,
        _VARIANTS[index],
        f"efficientnetb{index}",
        f"EfficientNetB{index}",
        __name__,
        imagenet=_pretrained.by_model_name(
            f"efficientnetb{index}", None, _pretrained.EFFICIENTNET_GCS
        ),
    )


EfficientNetB0 = _member(0)
EfficientNetB1 = _member(1)
EfficientNetB2 = _member(2)
EfficientNetB3 = _member(3)
EfficientNetB4 = _member(4)
EfficientNetB5 = _member(5)
EfficientNetB6 = _member(6)
EfficientNetB7 = _member(7)


preprocess_input = _builder.passthrough_preprocessor(
    "EfficientNet models rescale their inputs themselves, so this returns ``x`` "
    "unchanged.",
    __name__,
)

decode_predictions = _utils.decode_predictions
