"""MobileNetV2 (Sandler et al., 2018): inverted residual blocks with linear
bottlenecks. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]

# (filters, stride, expansion) of the 17 inverted residual blocks
_BLOCKS = (
    (16, 1, 1),
    (24, 2, 6),
    (24, 1, 6),
    (32, 2, 6),
    (32, 1, 6),
    (32, 1, 6),
    (64, 2, 6),
    (64, 1, 6),
    (64, 1, 6),
    (64, 1, 6),
    (96, 1, 6),
    (96, 1, 6),
    (96, 1, 6),
    (160, 2, 6),
    (160, 1, 6),
    (160, 1, 6),
    (320, 1, 6),
)


_SIZES = (96, 128, 160, 192, 224)  # resolutions of the published weights
_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


def _imagenet(alpha, weights):
    """The published file for ``alpha``, after Keras' check of ``alpha``."""

    def files(include_top, shape):
        if alpha not in _ALPHAS:
            raise ValueError(
                "If imagenet weights are being loaded, alpha must be one of `0.35`, "
                "`0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; Received "
                f"`alpha={alpha}`"
            )
        rows = _utils.model_rows(shape, weights, _SIZES, warn=True)
        top = "" if include_top else "_no_top"
        fname = (
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_"
            f"{float(alpha)}_{rows}{top}.h5"
        )
        return _pretrained.published("mobilenet_v2", fname)

    return files


def make_divisible(value, divisor, min_value=None):
    """``value`` rounded to a multiple of ``divisor``, never below 90% of it."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def correct_pad(inputs, kernel_size):
    """Zero padding that makes a stride-2 'valid' conv behave like TF 'same'."""
    axis = 2 if _utils.channel_axis() == 1 else 1
    size = tuple(inputs.shape)[axis : axis + 2]
    kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (kernel[0] // 2, kernel[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def _bn(name):
    return _builder.batch_norm(name, epsilon=1e-3, momentum=0.999)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    in_channels = tuple(inputs.shape)[_utils.channel_axis()]
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(
            expansion * in_channels,
            1,
            padding="same",
            use_bias=False,
            name=prefix + "expand",
        )(x)
        x = _bn(prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(
        3,
        strides=stride,
        use_bias=False,
        padding="same" if stride == 1 else "valid",
        name=prefix + "depthwise",
    )(x)
    x = _bn(prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(
        pointwise_filters, 1, padding="same", use_bias=False, name=prefix + "project"
    )(x)
    x = _bn(prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


@_builder.documented(
    "MobileNetV2",
    alpha="width multiplier of every layer's filters.",
    name="model name (default ``mobilenetv2_<alpha>_<rows>``).",
)
def MobileNetV2(
    input_shape=None,
    alpha=1.0,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    def body(image):
        first_filters = make_divisible(32 * alpha, 8)
        x = layers.Conv2D(
            first_filters,
            3,
            strides=(2, 2),
            padding="same",
            use_bias=False,
            name="Conv1",
        )(image)
        x = _bn("bn_Conv1")(x)
        x = layers.ReLU(6.0, name="Conv1_relu")(x)
        for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
            x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
        last_filters = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
        x = layers.Conv2D(last_filters, 1, use_bias=False, name="Conv_1")(x)
        x = _bn("Conv_1_bn")(x)
        return layers.ReLU(6.0, name="out_relu")(x)

    arguments = _builder.common_arguments(locals())

    def rows(shape):
        return _utils.model_rows(shape, weights, _SIZES)

    requested = _utils.requested_shape(input_tensor, input_shape)
    return _builder.build_application(
        body,
        name=name or (lambda shape: f"mobilenetv2_{alpha:0.2f}_{rows(shape)}"),
        default_size=_utils.weights_resolution(requested, _SIZES),
        imagenet=_imagenet(alpha, weights),
        **arguments,
    )


preprocess_input = _builder.preprocessor("tf", "Scales to [-1, 1].", __name__)
decode_predictions = _utils.decode_predictions
