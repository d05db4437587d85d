"""MobileNetV3Small/Large (Howard et al., 2019): inverted residual blocks with
hard-swish activations and hard-sigmoid squeeze-and-excitation. Layer names and
parameter counts equal Keras 3's."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained
from dlframe.keras.applications.mobilenet_v2 import correct_pad, make_divisible

__all__ = [
    "MobileNetV3Large",
    "MobileNetV3Small",
    "decode_predictions",
    "preprocess_input",
]

# (expansion, filters, kernel or None for the model's, stride, squeeze-excite,
#  ReLU (True) or the model's activation (False)) of each inverted residual block
_SMALL = (
    (1, 16, 3, 2, True, True),
    (72.0 / 16, 24, 3, 2, False, True),
    (88.0 / 24, 24, 3, 1, False, True),
    (4, 40, None, 2, True, False),
    (6, 40, None, 1, True, False),
    (6, 40, None, 1, True, False),
    (3, 48, None, 1, True, False),
    (3, 48, None, 1, True, False),
    (6, 96, None, 2, True, False),
    (6, 96, None, 1, True, False),
    (6, 96, None, 1, True, False),
)
_LARGE = (
    (1, 16, 3, 1, False, True),
    (4, 24, 3, 2, False, True),
    (3, 24, 3, 1, False, True),
    (3, 40, None, 2, True, True),
    (3, 40, None, 1, True, True),
    (3, 40, None, 1, True, True),
    (6, 80, 3, 2, False, False),
    (2.5, 80, 3, 1, False, False),
    (2.3, 80, 3, 1, False, False),
    (2.3, 80, 3, 1, False, False),
    (6, 112, 3, 1, True, False),
    (6, 112, 3, 1, True, False),
    (6, 160, None, 2, True, False),
    (6, 160, None, 1, True, False),
    (6, 160, None, 1, True, False),
)


def _bn(name):
    return layers.BatchNormalization(
        axis=_utils.channel_axis(), epsilon=1e-3, momentum=0.999, name=name
    )


def _activation(kind):
    """A fresh activation layer: 'relu', 'hard_swish' or 'hard_sigmoid'."""
    if kind == "relu":
        return layers.ReLU()
    # hard_sigmoid is relu6(x + 3) / 6, hard_swish x times it (Keras 3 forms)
    return layers.Activation(kind)


def _squeeze_excite(inputs, filters, se_ratio, prefix):
    x = layers.GlobalAveragePooling2D(
        keepdims=True, name=prefix + "squeeze_excite_avg_pool"
    )(inputs)
    x = layers.Conv2D(
        make_divisible(filters * se_ratio, 8),
        1,
        padding="same",
        name=prefix + "squeeze_excite_conv",
    )(x)
    x = layers.ReLU(name=prefix + "squeeze_excite_relu")(x)
    x = layers.Conv2D(
        filters, 1, padding="same", name=prefix + "squeeze_excite_conv_1"
    )(x)
    x = _activation("hard_sigmoid")(x)
    return layers.Multiply(name=prefix + "squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel, stride, se_ratio, act, index):
    shortcut = x
    in_channels = tuple(x.shape)[_utils.channel_axis()]
    expanded = make_divisible(in_channels * expansion, 8)
    prefix = f"expanded_conv_{index}_" if index else "expanded_conv_"
    if index:
        x = layers.Conv2D(
            expanded, 1, padding="same", use_bias=False, name=prefix + "expand"
        )(x)
        x = _bn(prefix + "expand_bn")(x)
        x = _activation(act)(x)
    if stride == 2:
        x = layers.ZeroPadding2D(
            padding=correct_pad(x, kernel), name=prefix + "depthwise_pad"
        )(x)
    x = layers.DepthwiseConv2D(
        kernel,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=prefix + "depthwise",
    )(x)
    x = _bn(prefix + "depthwise_bn")(x)
    x = _activation(act)(x)
    if se_ratio:
        x = _squeeze_excite(x, expanded, se_ratio, prefix)
    x = layers.Conv2D(
        filters, 1, padding="same", use_bias=False, name=prefix + "project"
    )(x)
    x = _bn(prefix + "project_bn")(x)
    if stride == 1 and in_channels == filters:
        x = layers.Add(name=prefix + "add")([shortcut, x])
    return x


def _classifier(last_point_channels, activation, dropout_rate):
    """Keras' top: pooled features, a 1x1 conv, dropout and 1x1 conv logits."""

    def build(x, classes, classifier_activation):
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_channels, 1, padding="same", name="conv_2")(x)
        x = _activation(activation)(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, 1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        return layers.Activation(classifier_activation, name="predictions")(x)

    return build


def _imagenet(model_type, alpha, minimalistic):
    """The published file (always for 224x224 inputs), after Keras' checks."""

    def files(include_top, shape):
        if alpha not in ((1.0,) if minimalistic else (0.75, 1.0)):
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of `0.75`, "
                "`1.0` for non minimalistic or `1.0` for minimalistic only. "
                f"Received: alpha={alpha}"
            )
        _utils.weights_resolution(shape, (224,), warn=True)  # warns unless 224x224
        kind = "_minimalistic" if minimalistic else ""
        stem = f"weights_mobilenet_v3_{model_type}{kind}_224_{alpha}_float"
        fname = stem + (".h5" if include_top else "_no_top_v2.h5")
        digest = _pretrained.HASHES[stem[len("weights_") :]][0 if include_top else 1]
        return _pretrained.published("mobilenet_v3", fname, digest)

    return files


def _check_tensor_columns(input_shape, input_tensor):
    """Keras' MobileNetV3 check that ``input_shape`` and ``input_tensor`` agree
    (on the columns, the dimension Keras compares)."""
    if input_shape is None or input_tensor is None:
        return
    first = _utils.channel_axis() == 1
    tensor_cols = tuple(input_tensor.shape)[3 if first else 2]
    if len(input_shape) == 3 and tuple(input_shape)[2 if first else 1] != tensor_cols:
        raise ValueError(
            "`input_shape` and `input_tensor` disagree: the input columns must "
            f"equal input_tensor.shape[{3 if first else 2}]. Received "
            f"input_shape={tuple(input_shape)}, "
            f"input_tensor.shape={tuple(input_tensor.shape)}"
        )


def build_mobilenet_v3(config, *, name, **arguments):
    """The MobileNetV3 graph for ``(blocks, last point channels, model type)``."""
    blocks, last_point_channels, model_type = config
    alpha = arguments.pop("alpha")
    minimalistic = arguments.pop("minimalistic")
    dropout_rate = arguments.pop("dropout_rate")
    include_preprocessing = arguments.pop("include_preprocessing")
    kernel, activation, se_ratio = (
        (3, "relu", None) if minimalistic else (5, "hard_swish", 0.25)
    )
    if alpha > 1.0:
        last_point_channels = make_divisible(last_point_channels * alpha, 8)
    _check_tensor_columns(arguments["input_shape"], arguments["input_tensor"])

    def body(image):
        x = image
        if include_preprocessing:
            x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
        x = layers.Conv2D(
            16, 3, strides=2, padding="same", use_bias=False, name="conv"
        )(x)
        x = _bn("conv_bn")(x)
        x = _activation(activation)(x)
        for index, (expansion, filters, k, stride, se, relu) in enumerate(blocks):
            x = _inverted_res_block(
                x,
                expansion,
                make_divisible(filters * alpha, 8),
                k or kernel,
                stride,
                se_ratio if se else None,
                "relu" if relu else activation,
                index,
            )
        channels = tuple(x.shape)[_utils.channel_axis()]
        x = layers.Conv2D(
            make_divisible(channels * 6, 8),
            1,
            padding="same",
            use_bias=False,
            name="conv_1",
        )(x)
        x = _bn("conv_1_bn")(x)
        return _activation(activation)(x)

    return _builder.build_application(
        body,
        name=name,
        classifier=_classifier(last_point_channels, activation, dropout_rate),
        pool_names=("avg_pool", "max_pool"),
        require_flatten=False,
        imagenet=_imagenet(model_type, alpha, minimalistic),
        shape_from_tensor=True,
        **arguments,
    )


_PARAMETERS = (
    ("input_shape", None),
    ("alpha", 1.0),
    ("minimalistic", False),
    ("include_top", True),
    ("weights", "imagenet"),
    ("input_tensor", None),
    ("classes", 1000),
    ("pooling", None),
    ("dropout_rate", 0.2),
    ("classifier_activation", "softmax"),
    ("include_preprocessing", True),
)
_DOCS = {
    "alpha": "width multiplier of every block's filters.",
    "minimalistic": "whether to drop squeeze-and-excitation, hard-swish and 5x5\n"
    "        kernels (ReLU and 3x3 kernels everywhere).",
    "dropout_rate": "dropout rate before the classifier's logits.",
    "input_shape": "optional ``(rows, cols, 3)``, at least 32x32; default\n"
    "        ``(None, None, 3)``.",
}
MobileNetV3Small = _builder.family_member(
    build_mobilenet_v3,
    (_SMALL, 1024, "small"),
    "MobileNetV3Small",
    "MobileNetV3Small",
    __name__,
    parameters=_PARAMETERS,
    **_DOCS,
)
MobileNetV3Large = _builder.family_member(
    build_mobilenet_v3,
    (_LARGE, 1280, "large"),
    "MobileNetV3Large",
    "MobileNetV3Large",
    __name__,
    parameters=_PARAMETERS,
    **_DOCS,
)


preprocess_input = _builder.passthrough_preprocessor(
    "MobileNetV3 models rescale their inputs themselves "
    "(``include_preprocessing=True``), so this returns ``x``.",
    __name__,
)

decode_predictions = _utils.decode_predictions
