"""MobileNet (Howard et al., 2017): depthwise separable convolutions. Layer names
and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]

# (pointwise filters, stride) of the 13 depthwise separable blocks
_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


_SIZES = (128, 160, 192, 224)  # resolutions of the published weights
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}


def _imagenet(alpha, depth_multiplier, weights):
    """The published file for ``alpha``, after Keras' checks of the arguments."""

    def files(include_top, shape):
        if depth_multiplier != 1:
            raise ValueError(
                "If imagenet weights are being loaded, depth multiplier must be 1. "
                f"Received depth_multiplier={depth_multiplier}"
            )
        if alpha not in _ALPHA_TEXT:
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of `0.25`, "
                f"`0.50`, `0.75` or `1.0` only. Received alpha={alpha}"
            )
        rows = _utils.model_rows(shape, weights, _SIZES, warn=True)
        top = "" if include_top else "_no_top"
        fname = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{top}.h5"
        return _pretrained.published("mobilenet", fname)

    return files


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    axis = _utils.channel_axis()
    x = layers.Conv2D(
        int(filters * alpha),
        kernel,
        padding="same",
        use_bias=False,
        strides=strides,
        name="conv1",
    )(inputs)
    x = layers.BatchNormalization(axis=axis, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(
    inputs, pointwise_filters, alpha, depth_multiplier=1, strides=(1, 1), block_id=1
):
    axis = _utils.channel_axis()
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        (3, 3),
        padding="same" if strides == (1, 1) else "valid",
        depth_multiplier=depth_multiplier,
        strides=strides,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(
        int(pointwise_filters * alpha),
        (1, 1),
        padding="same",
        use_bias=False,
        strides=(1, 1),
        name=f"conv_pw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


@_builder.documented(
    "MobileNet",
    alpha="width multiplier of every layer's filters.",
    depth_multiplier="depth multiplier of the depthwise convolutions.",
    dropout="dropout rate before the classifier.",
    include_top="whether to add the pooling + 1x1 conv classifier.",
    name="model name (default ``mobilenet_<alpha>_<rows>``).",
)
def MobileNet(
    input_shape=None,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    def body(image):
        x = _conv_block(image, 32, alpha, strides=(2, 2))
        for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
            x = _depthwise_conv_block(
                x,
                filters,
                alpha,
                depth_multiplier,
                strides=(stride, stride),
                block_id=block_id,
            )
        return x

    def classifier(x, classes, classifier_activation):
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        return layers.Activation(activation=classifier_activation, name="predictions")(
            x
        )

    arguments = _builder.common_arguments(locals())

    def rows(shape):
        return _utils.model_rows(shape, weights, _SIZES)

    # Keras picks the default size from input_shape alone (not input_tensor)
    return _builder.build_application(
        body,
        name=name or (lambda shape: f"mobilenet_{alpha:0.2f}_{rows(shape)}"),
        classifier=classifier,
        default_size=_utils.weights_resolution(input_shape, _SIZES),
        imagenet=_imagenet(alpha, depth_multiplier, weights),
        **arguments,
    )


preprocess_input = _builder.preprocessor("tf", "Scales to [-1, 1].", __name__)
decode_predictions = _utils.decode_predictions
