"""InceptionResNetV2 (Szegedy et al., 2016): inception modules with scaled residual
connections. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained
from dlframe.keras.utils.generic_utils import get_custom_objects

__all__ = [
    "CustomScaleLayer",
    "InceptionResNetV2",
    "decode_predictions",
    "preprocess_input",
]


class CustomScaleLayer(layers.Layer):
    """The residual sum ``inputs[0] + inputs[1] * scale``.

    Args:
      scale: factor of the residual branch.
      **kwargs: base ``Layer`` arguments (``name``, ``dtype``...).
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config


# saved models name the class as Keras does: plain "CustomScaleLayer"
get_custom_objects().setdefault("CustomScaleLayer", CustomScaleLayer)


def conv2d_bn(
    x,
    filters,
    kernel_size,
    strides=1,
    padding="same",
    activation="relu",
    use_bias=False,
    name=None,
):
    """Conv, then (without a bias) BN with no scale, then the activation; a
    ``name`` names them ``name``, ``name_bn`` and ``name_ac``."""
    names = (None, None, None) if name is None else (name, name + "_bn", name + "_ac")
    return _builder.conv_bn(x, filters, kernel_size, names, strides=strides,
                            padding=padding, activation=activation, use_bias=use_bias)


def _chain(x, *convs):
    """Applies ``conv2d_bn`` for each ``(filters, kernel[, strides, padding])``."""
    for spec in convs:
        x = conv2d_bn(x, *spec)
    return x


def _concat(branches, name):
    return layers.Concatenate(axis=_utils.channel_axis(), name=name)(branches)


# the residual branches of the three block types, as conv chains
_BRANCHES = {
    "block35": (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3))),
    "block17": (((192, 1),), ((128, 1), (160, (1, 7)), (192, (7, 1)))),
    "block8": (((192, 1),), ((192, 1), (224, (1, 3)), (256, (3, 1)))),
}


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """``x + scale * residual`` with the inception branches of ``block_type``.

    Args:
      x: input tensor.
      scale: factor of the residual branch.
      block_type: 'block35', 'block17' or 'block8'.
      block_idx: index of the block, part of its layer names.
      activation: activation after the sum (None: none).

    Returns:
      The block's output tensor.
    """
    if block_type not in _BRANCHES:
        raise ValueError(
            "Unknown Inception-ResNet block type. Expects 'block35', 'block17' or "
            f"'block8', but got: {block_type}"
        )
    name = f"{block_type}_{block_idx}"
    mixed = _concat(
        [_chain(x, *branch) for branch in _BRANCHES[block_type]], name + "_mixed"
    )
    channels = tuple(x.shape)[_utils.channel_axis()]
    up = conv2d_bn(
        mixed, channels, 1, activation=None, use_bias=True, name=name + "_conv"
    )
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=name + "_ac")(x)
    return x


def _body(image):
    # stem: 35 x 35 x 192
    x = _chain(image, (32, 3, 2, "valid"), (32, 3, 1, "valid"), (64, 3))
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = _chain(x, (80, 1, 1, "valid"), (192, 3, 1, "valid"))
    x = layers.MaxPooling2D(3, strides=2)(x)
    # mixed 5b (Inception-A): 35 x 35 x 320
    x = _concat(
        [
            conv2d_bn(x, 96, 1),
            _chain(x, (48, 1), (64, 5)),
            _chain(x, (64, 1), (96, 3), (96, 3)),
            conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1),
        ],
        "mixed_5b",
    )
    for index in range(1, 11):
        x = inception_resnet_block(x, 0.17, "block35", index)
    # mixed 6a (Reduction-A): 17 x 17 x 1088
    x = _concat(
        [
            conv2d_bn(x, 384, 3, 2, "valid"),
            _chain(x, (256, 1), (256, 3), (384, 3, 2, "valid")),
            layers.MaxPooling2D(3, strides=2, padding="valid")(x),
        ],
        "mixed_6a",
    )
    for index in range(1, 21):
        x = inception_resnet_block(x, 0.1, "block17", index)
    # mixed 7a (Reduction-B): 8 x 8 x 2080
    x = _concat(
        [
            _chain(x, (256, 1), (384, 3, 2, "valid")),
            _chain(x, (256, 1), (288, 3, 2, "valid")),
            _chain(x, (256, 1), (288, 3), (320, 3, 2, "valid")),
            layers.MaxPooling2D(3, strides=2, padding="valid")(x),
        ],
        "mixed_7a",
    )
    for index in range(1, 10):
        x = inception_resnet_block(x, 0.2, "block8", index)
    x = inception_resnet_block(x, 1.0, "block8", 10, activation=None)
    return conv2d_bn(x, 1536, 1, name="conv_7b")


@_builder.documented(
    "InceptionResNetV2",
    input_shape="optional ``(rows, cols, 3)`` (at least 75x75); with\n"
    "        ``include_top`` the default is ``(299, 299, 3)``.",
)
def InceptionResNetV2(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_resnet_v2",
):
    arguments = _builder.common_arguments(locals())
    return _builder.build_application(
        _body,
        name=name or "inception_resnet_v2",
        classifier=_builder.classifier(),
        default_size=299,
        min_size=75,
        imagenet=_pretrained.tf_kernels("inception_resnet_v2"),
        **arguments,
    )


preprocess_input = _builder.preprocessor("tf", "Scales to [-1, 1].", __name__)
decode_predictions = _utils.decode_predictions
