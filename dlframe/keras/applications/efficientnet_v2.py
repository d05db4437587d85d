"""EfficientNetV2 B0-B3, S, M, L (Tan & Le, 2021): fused MBConv blocks in the
early stages, MBConv with squeeze-and-excitation later. Layer names and
parameter counts equal Keras'."""

import math

from dlframe.keras import initializers, layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import efficientnet as _v1
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = [
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "decode_predictions",
    "preprocess_input",
]

# (repeats, filters_in, filters_out, expansion, se_ratio, stride, fused) per stage;
# every kernel is 3x3
_B_STAGES = (
    (1, 32, 16, 1, 0, 1, True),
    (2, 16, 32, 4, 0, 2, True),
    (2, 32, 48, 4, 0, 2, True),
    (3, 48, 96, 4, 0.25, 2, False),
    (5, 96, 112, 6, 0.25, 1, False),
    (8, 112, 192, 6, 0.25, 2, False),
)
_S_STAGES = (
    (2, 24, 24, 1, 0, 1, True),
    (4, 24, 48, 4, 0, 2, True),
    (4, 48, 64, 4, 0, 2, True),
    (6, 64, 128, 4, 0.25, 2, False),
    (9, 128, 160, 6, 0.25, 1, False),
    (15, 160, 256, 6, 0.25, 2, False),
)
_M_STAGES = (
    (3, 24, 24, 1, 0, 1, True),
    (5, 24, 48, 4, 0, 2, True),
    (5, 48, 80, 4, 0, 2, True),
    (7, 80, 160, 4, 0.25, 2, False),
    (14, 160, 176, 6, 0.25, 1, False),
    (18, 176, 304, 6, 0.25, 2, False),
    (5, 304, 512, 6, 0.25, 1, False),
)
_L_STAGES = (
    (4, 32, 32, 1, 0, 1, True),
    (7, 32, 64, 4, 0, 2, True),
    (7, 64, 96, 4, 0, 2, True),
    (10, 96, 192, 4, 0.25, 2, False),
    (19, 192, 224, 6, 0.25, 1, False),
    (25, 224, 384, 6, 0.25, 2, False),
    (7, 384, 640, 6, 0.25, 1, False),
)
_BN_MOMENTUM = 0.9
_DROP_CONNECT_RATE = 0.2
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _bn(name):
    return _v1.bn(name, momentum=_BN_MOMENTUM)


def _conv_bn_act(x, filters, kernel, stride, name, activate=True):
    x = _v1.conv(filters, kernel, name + "_conv", strides=stride)(x)
    x = _bn(name + "_bn")(x)
    if activate:
        x = layers.Activation("swish", name=name + "_activation")(x)
    return x


def _block(
    inputs,
    *,
    filters_in,
    filters_out,
    expansion,
    se_ratio,
    stride,
    fused,
    drop_rate,
    name,
):
    """A (fused) MBConv block: a (kxk fused, else 1x1) expansion, for MBConv a
    depthwise kxk conv, optional squeeze-and-excitation and a projection."""
    filters = filters_in * expansion
    x = inputs
    if expansion != 1:
        x = _conv_bn_act(
            x, filters, 3 if fused else 1, stride if fused else 1, name + "expand"
        )
    if not fused:
        x = layers.DepthwiseConv2D(
            3,
            strides=stride,
            padding="same",
            use_bias=False,
            depthwise_initializer=_v1.conv_initializer(),
            name=name + "dwconv2",
        )(x)
        x = _bn(name + "bn")(x)
        x = layers.Activation("swish", name=name + "activation")(x)
    if 0 < se_ratio <= 1:
        squeezed = max(1, int(filters_in * se_ratio))
        x = _v1.squeeze_excite(x, filters, squeezed, "swish", name)
    # a fused block without expansion does its kxk (strided) conv here
    single = fused and expansion == 1
    x = _conv_bn_act(
        x,
        filters_out,
        3 if single else 1,
        stride if single else 1,
        name + "project",
        activate=single,
    )
    if stride == 1 and filters_in == filters_out:
        x = _v1.drop_connect_add(x, inputs, drop_rate, name)
    return x


def _round_filters(filters, width):
    """``filters * width`` rounded to a multiple of 8 (at least 8)."""
    return max(8, int(filters * width + 4) // 8 * 8)


def _preprocessing(image, stages):
    """[0, 255] RGB to the network's range: ImageNet-normalized for the B
    variants, [-1, 1] for S/M/L."""
    channels = tuple(image.shape)[_utils.channel_axis()]
    if stages is _B_STAGES and channels == 3:
        x = layers.Rescaling(scale=1.0 / 255)(image)
        return layers.Normalization(
            mean=list(_IMAGENET_MEAN),
            variance=[s**2 for s in _IMAGENET_STD],
            axis=_utils.channel_axis(),
        )(x)
    return layers.Rescaling(scale=1.0 / 128.0, offset=-1)(image)


def build_efficientnet_v2(config, *, name, include_preprocessing, **arguments):
    """The graph for ``(stages, width, depth, default size)``."""
    stages, width, depth, default_size = config
    total = float(sum(stage[0] for stage in stages))

    def body(image):
        x = _preprocessing(image, stages) if include_preprocessing else image
        x = _conv_bn_act(x, _round_filters(stages[0][1], width), 3, 2, "stem")
        done = 0
        for i, (count, f_in, f_out, expansion, se, stride, fused) in enumerate(stages):
            f_in, f_out = _round_filters(f_in, width), _round_filters(f_out, width)
            for j in range(math.ceil(depth * count)):
                x = _block(
                    x,
                    filters_in=f_in if j == 0 else f_out,
                    filters_out=f_out,
                    expansion=expansion,
                    se_ratio=se,
                    stride=stride if j == 0 else 1,
                    fused=fused,
                    drop_rate=_DROP_CONNECT_RATE * done / total,
                    name=_v1.block_name(i, j),
                )
                done += 1
        return _conv_bn_act(x, _round_filters(1280, width), 1, 1, "top")

    return _builder.build_application(
        body,
        name=name,
        classifier=_builder.classifier(
            0.2,
            kernel_initializer=_v1.dense_initializer(),
            bias_initializer=initializers.Constant(0.0),
        ),
        pool_names=("avg_pool", "max_pool"),
        default_size=default_size,
        **arguments,
    )


_PARAMETERS = (*_builder.FAMILY_PARAMETERS, ("include_preprocessing", True))


def _member(title, model_name, config):
    return _builder.family_member(
        build_efficientnet_v2,
        config,
        model_name,
        title,
        __name__,
        parameters=_PARAMETERS,
        imagenet=_pretrained.by_model_name(model_name, "efficientnet_v2"),
    )


EfficientNetV2B0 = _member(
    "EfficientNetV2B0", "efficientnetv2-b0", (_B_STAGES, 1.0, 1.0, 224)
)
EfficientNetV2B1 = _member(
    "EfficientNetV2B1", "efficientnetv2-b1", (_B_STAGES, 1.0, 1.1, 240)
)
EfficientNetV2B2 = _member(
    "EfficientNetV2B2", "efficientnetv2-b2", (_B_STAGES, 1.1, 1.2, 260)
)
EfficientNetV2B3 = _member(
    "EfficientNetV2B3", "efficientnetv2-b3", (_B_STAGES, 1.2, 1.4, 300)
)
EfficientNetV2S = _member(
    "EfficientNetV2S", "efficientnetv2-s", (_S_STAGES, 1.0, 1.0, 384)
)
EfficientNetV2M = _member(
    "EfficientNetV2M", "efficientnetv2-m", (_M_STAGES, 1.0, 1.0, 480)
)
EfficientNetV2L = _member(
    "EfficientNetV2L", "efficientnetv2-l", (_L_STAGES, 1.0, 1.0, 480)
)
preprocess_input = _v1.preprocess_input
decode_predictions = _utils.decode_predictions
