"""ConvNeXt Tiny/Small/Base/Large/XLarge (Liu et al., 2022): a ResNet modernized
with 7x7 depthwise convolutions, LayerNormalization, inverted MLPs and layer
scale. Layer names and parameter counts equal Keras'.

The residual additions are written ``inputs + x`` as in Keras: Keras 3 keeps them
out of ``model.layers`` while dlframe (like Keras 2) lists each as a
``TFOpLambda`` layer, so ``len(model.layers)`` is larger by the number of blocks.
"""

from dlframe.keras import initializers, layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained
from dlframe.keras.models import Sequential
from dlframe.keras.utils.generic_utils import get_custom_objects

__all__ = [
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "LayerScale",
    "decode_predictions",
    "preprocess_input",
]

_LAYER_SCALE_INIT = 1e-6
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class LayerScale(layers.Layer):
    """Multiplies its inputs by a learned per-channel ``gamma``.

    Args:
      init_values: initial value of every entry of ``gamma``.
      projection_dim: number of channels (the size of ``gamma``).
      **kwargs: base ``Layer`` arguments (``name``, ``dtype``...).
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = float(init_values)
        self.projection_dim = int(projection_dim)

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma",
            shape=(self.projection_dim,),
            initializer=initializers.Constant(self.init_values),
            trainable=True,
        )
        super().build(input_shape)

    def call(self, x):
        return x * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"init_values": self.init_values, "projection_dim": self.projection_dim}
        )
        return config


# saved models name the class as Keras does: plain "LayerScale"
get_custom_objects().setdefault("LayerScale", LayerScale)


def _layer_norm(name=None):
    return layers.LayerNormalization(epsilon=1e-6, name=name)


def convnext_block(inputs, projection_dim, name):
    """7x7 depthwise conv - LayerNorm - 4x MLP (GELU) - layer scale, plus input."""
    x = layers.Conv2D(
        projection_dim,
        7,
        padding="same",
        groups=projection_dim,
        name=name + "_depthwise_conv",
    )(inputs)
    x = _layer_norm(name + "_layernorm")(x)
    x = layers.Dense(4 * projection_dim, name=name + "_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=name + "_gelu")(x)
    x = layers.Dense(projection_dim, name=name + "_pointwise_conv_2")(x)
    x = LayerScale(_LAYER_SCALE_INIT, projection_dim, name=name + "_layer_scale")(x)
    x = layers.Activation("linear", name=name + "_identity")(x)
    return inputs + x


def _top(model_name):
    def build(x, classes, classifier_activation):
        x = layers.GlobalAveragePooling2D(name=model_name + "_head_gap")(x)
        x = _layer_norm(model_name + "_head_layernorm")(x)
        return layers.Dense(
            classes, activation=classifier_activation, name=model_name + "_head_dense"
        )(x)

    return build


def build_convnext(config, *, name, include_preprocessing, **arguments):
    """The ConvNeXt graph for ``(blocks per stage, channels per stage)``."""
    depths, dims = config
    pooling, include_top = arguments["pooling"], arguments["include_top"]
    if arguments["weights"] == "imagenet":
        variant = arguments["imagenet"](True).fname[: -len(".h5")]
        if variant not in name:
            raise ValueError(
                f'Model name "{name}" does not match weights variant "{variant}". '
                "When using imagenet weights, model name must contain the weights "
                f'variant (e.g., "{variant}").'
            )

    def body(image):
        x = image
        if include_preprocessing:
            x = layers.Normalization(
                mean=[m * 255 for m in _IMAGENET_MEAN],
                variance=[(s * 255) ** 2 for s in _IMAGENET_STD],
                name=name + "_prestem_normalization",
            )(x)
        x = Sequential(
            [
                layers.Conv2D(dims[0], 4, strides=4, name=name + "_stem_conv"),
                _layer_norm(name + "_stem_layernorm"),
            ],
            name=name + "_stem",
        )(x)
        for stage, (depth, dim) in enumerate(zip(depths, dims)):
            if stage:
                i = stage - 1
                x = Sequential(
                    [
                        _layer_norm(f"{name}_downsampling_layernorm_{i}"),
                        layers.Conv2D(
                            dim, 2, strides=2, name=f"{name}_downsampling_conv_{i}"
                        ),
                    ],
                    name=f"{name}_downsampling_block_{i}",
                )(x)
            for block in range(depth):
                x = convnext_block(x, dim, f"{name}_stage_{stage}_block_{block}")
        if include_top:
            return x
        # without the classifier Keras pools (optionally) and always normalizes
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        return _layer_norm()(x)

    return _builder.build_application(
        body,
        name=name,
        classifier=_top(name),
        **{**arguments, "pooling": None},
    )


_PARAMETERS = (
    ("include_top", True),
    ("include_preprocessing", True),
    ("weights", "imagenet"),
    ("input_tensor", None),
    ("input_shape", None),
    ("pooling", None),
    ("classes", 1000),
    ("classifier_activation", "softmax"),
)


def _member(title, model_name, depths, dims):
    return _builder.family_member(
        build_convnext,
        (depths, dims),
        model_name,
        title,
        __name__,
        parameters=_PARAMETERS,
        imagenet=_pretrained.by_model_name(model_name, "convnext"),
        include_preprocessing="whether the model starts with its own ImageNet\n"
        "        normalization, so it takes RGB images in [0, 255].",
    )


_DEEP = (3, 3, 27, 3)
ConvNeXtTiny = _member(
    "ConvNeXtTiny", "convnext_tiny", (3, 3, 9, 3), (96, 192, 384, 768)
)
ConvNeXtSmall = _member("ConvNeXtSmall", "convnext_small", _DEEP, (96, 192, 384, 768))
ConvNeXtBase = _member("ConvNeXtBase", "convnext_base", _DEEP, (128, 256, 512, 1024))
ConvNeXtLarge = _member("ConvNeXtLarge", "convnext_large", _DEEP, (192, 384, 768, 1536))
ConvNeXtXLarge = _member(
    "ConvNeXtXLarge", "convnext_xlarge", _DEEP, (256, 512, 1024, 2048)
)


preprocess_input = _builder.passthrough_preprocessor(
    "ConvNeXt models normalize their inputs themselves "
    "(``include_preprocessing=True``), so this returns ``x``.",
    __name__,
)

decode_predictions = _utils.decode_predictions
