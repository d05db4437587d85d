"""InceptionV3 (Szegedy et al., 2015): factorized inception modules. Layer names
and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]


def conv2d_bn(x, filters, rows, cols, padding="same", strides=1, name=None):
    """Conv (no bias) - BN (no scale) - ReLU; named ``name``_conv/_bn when given."""
    names = (None, None, None) if name is None else (name + "_conv", name + "_bn", name)
    return _builder.conv_bn(x, filters, (rows, cols), names, strides=strides,
                            padding=padding)


def _concat(branches, name=None):
    return layers.Concatenate(axis=_utils.channel_axis(), name=name)(branches)


def _chain(x, *convs):
    """Applies ``conv2d_bn`` for each ``(filters, rows, cols[, padding, strides])``."""
    for spec in convs:
        x = conv2d_bn(x, *spec)
    return x


def _avg_pool_branch(x, filters):
    x = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    return conv2d_bn(x, filters, 1, 1)


def _module_35(x, pool_filters, name):
    """35x35 module: 1x1, 5x5, double 3x3 and pooled branches."""
    return _concat(
        [
            conv2d_bn(x, 64, 1, 1),
            _chain(x, (48, 1, 1), (64, 5, 5)),
            _chain(x, (64, 1, 1), (96, 3, 3), (96, 3, 3)),
            _avg_pool_branch(x, pool_filters),
        ],
        name,
    )


def _module_17(x, width, name):
    """17x17 module with factorized 7x7 convolutions of ``width`` channels."""
    return _concat(
        [
            conv2d_bn(x, 192, 1, 1),
            _chain(x, (width, 1, 1), (width, 1, 7), (192, 7, 1)),
            _chain(
                x,
                (width, 1, 1),
                (width, 7, 1),
                (width, 1, 7),
                (width, 7, 1),
                (192, 1, 7),
            ),
            _avg_pool_branch(x, 192),
        ],
        name,
    )


def _module_8(x, index):
    """8x8 module whose 3x3 branches split into parallel 1x3 and 3x1 convs."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = _concat(
        [conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)],
        f"mixed9_{index}",
    )
    double = _chain(x, (448, 1, 1), (384, 3, 3))
    double = _concat([conv2d_bn(double, 384, 1, 3), conv2d_bn(double, 384, 3, 1)])
    return _concat(
        [branch1x1, branch3x3, double, _avg_pool_branch(x, 192)],
        f"mixed{9 + index}",
    )


def _body(image):
    x = _chain(image, (32, 3, 3, "valid", 2), (32, 3, 3, "valid"), (64, 3, 3))
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = _chain(x, (80, 1, 1, "valid"), (192, 3, 3, "valid"))
    x = layers.MaxPooling2D(3, strides=2)(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _module_35(x, pool_filters, f"mixed{i}")
    x = _concat(  # grid reduction to 17x17
        [
            conv2d_bn(x, 384, 3, 3, "valid", 2),
            _chain(x, (64, 1, 1), (96, 3, 3), (96, 3, 3, "valid", 2)),
            layers.MaxPooling2D(3, strides=2)(x),
        ],
        "mixed3",
    )
    for i, width in enumerate((128, 160, 160, 192)):
        x = _module_17(x, width, f"mixed{4 + i}")
    x = _concat(  # grid reduction to 8x8
        [
            _chain(x, (192, 1, 1), (320, 3, 3, "valid", 2)),
            _chain(x, (192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, "valid", 2)),
            layers.MaxPooling2D(3, strides=2)(x),
        ],
        "mixed8",
    )
    for index in range(2):
        x = _module_8(x, index)
    return x


@_builder.documented(
    "InceptionV3",
    input_shape="optional ``(rows, cols, 3)`` (at least 75x75); with\n"
    "        ``include_top`` the default is ``(299, 299, 3)``.",
)
def InceptionV3(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_v3",
):
    arguments = _builder.common_arguments(locals())
    return _builder.build_application(
        _body,
        name=name or "inception_v3",
        classifier=_builder.classifier(),
        default_size=299,
        imagenet=_pretrained.tf_kernels("inception_v3"),
        min_size=75,
        **arguments,
    )


preprocess_input = _builder.preprocessor("tf", "Scales to [-1, 1].", __name__)
decode_predictions = _utils.decode_predictions
