"""NASNetMobile and NASNetLarge (Zoph et al., 2018): cells found by architecture
search, stacked as normal and reduction cells. Layer names and parameter counts
equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained
from dlframe.keras.applications.mobilenet_v2 import correct_pad

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]


def _bn(name):
    return layers.BatchNormalization(
        axis=_utils.channel_axis(), momentum=0.9997, epsilon=1e-3, name=name
    )


def _conv(filters, name, strides=1):
    """A bias-free 1x1 convolution with NASNet's He-normal initializer."""
    return layers.Conv2D(
        filters,
        1,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=name,
    )


def _relu(name=None):
    return layers.Activation("relu", name=name)


def _pool(kind, strides, padding, name=None):
    """A 3x3 average ('avg') or max pooling."""
    pool = layers.AveragePooling2D if kind == "avg" else layers.MaxPooling2D
    return pool(3, strides=strides, padding=padding, name=name)


def _separable_conv_block(x, filters, kernel_size=3, strides=1, block_id=None):
    """ReLU - separable conv - BN, twice; the first may downsample."""
    x = _relu()(x)
    padding = "same"
    if strides == 2:
        x = layers.ZeroPadding2D(
            padding=correct_pad(x, kernel_size), name=f"separable_conv_1_pad_{block_id}"
        )(x)
        padding = "valid"
    for index in (1, 2):
        if index == 2:
            x = _relu()(x)
        x = layers.SeparableConv2D(
            filters,
            kernel_size,
            strides=strides if index == 1 else 1,
            padding=padding if index == 1 else "same",
            use_bias=False,
            name=f"separable_conv_{index}_{block_id}",
        )(x)
        x = _bn(f"separable_conv_{index}_bn_{block_id}")(x)
    return x


def _adjust_block(p, ip, filters, block_id):
    """Matches the previous cell's output ``p`` to ``ip``'s size and ``filters``."""
    if p is None:
        return ip
    axis = _utils.channel_axis()
    width_axis = -1 if axis == 1 else -2
    if tuple(p.shape)[width_axis] != tuple(ip.shape)[width_axis]:
        # halve the resolution along two offset paths, each with half the filters
        p = _relu(f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D(
            1, strides=2, padding="valid", name=f"adjust_avg_pool_1_{block_id}"
        )(p)
        p1 = _conv(filters // 2, f"adjust_conv_1_{block_id}")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D(
            1, strides=2, padding="valid", name=f"adjust_avg_pool_2_{block_id}"
        )(p2)
        p2 = _conv(filters // 2, f"adjust_conv_2_{block_id}")(p2)
        p = layers.concatenate([p1, p2], axis=axis)
        return _bn(f"adjust_bn_{block_id}")(p)
    if tuple(p.shape)[axis] != filters:
        p = _relu()(p)
        p = _conv(filters, f"adjust_conv_projection_{block_id}")(p)
        return _bn(f"adjust_bn_{block_id}")(p)
    return p


def _cell_input(ip, p, filters, kind, block_id):
    """The adjusted ``p`` and the ReLU - 1x1 conv - BN projection ``h`` of ``ip``."""
    p = _adjust_block(p, ip, filters, block_id)
    h = _relu()(ip)
    h = _conv(filters, f"{kind}_conv_1_{block_id}")(h)
    return p, _bn(f"{kind}_bn_1_{block_id}")(h)


def _normal_a_cell(ip, p, filters, block_id):
    p, h = _cell_input(ip, p, filters, "normal", block_id)

    def sep(x, kernel, branch):
        return _separable_conv_block(
            x, filters, kernel, block_id=f"normal_{branch}_{block_id}"
        )

    def add(tensors, index):
        return layers.add(tensors, name=f"normal_add_{index}_{block_id}")

    x1 = add([sep(h, 5, "left1"), sep(p, 3, "right1")], 1)
    x2 = add([sep(p, 5, "left2"), sep(p, 3, "right2")], 2)
    x3 = add([_pool("avg", 1, "same", f"normal_left3_{block_id}")(h), p], 3)
    x4 = add(
        [
            _pool("avg", 1, "same", f"normal_left4_{block_id}")(p),
            _pool("avg", 1, "same", f"normal_right4_{block_id}")(p),
        ],
        4,
    )
    x5 = add([sep(h, 3, "left5"), h], 5)
    x = layers.concatenate(
        [p, x1, x2, x3, x4, x5],
        axis=_utils.channel_axis(),
        name=f"normal_concat_{block_id}",
    )
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id):
    p, h = _cell_input(ip, p, filters, "reduction", block_id)
    h3 = layers.ZeroPadding2D(
        padding=correct_pad(h, 3), name=f"reduction_pad_1_{block_id}"
    )(h)

    def sep(x, kernel, branch, strides=2):
        return _separable_conv_block(
            x, filters, kernel, strides, block_id=f"reduction_{branch}_{block_id}"
        )

    def pool(kind, x, branch, strides=2, padding="valid"):
        name = f"reduction_{branch}_{block_id}"
        return _pool(kind, strides, padding, name)(x)

    def add(tensors, suffix):
        name = None if suffix is None else f"reduction_add{suffix}_{block_id}"
        return layers.add(tensors, name=name)

    x1 = add([sep(h, 5, "left1"), sep(p, 7, "right1")], "_1")
    x2 = add([pool("max", h3, "left2"), sep(p, 7, "right2")], "_2")
    x3 = add([pool("avg", h3, "left3"), sep(p, 5, "right3")], "3")
    x4 = add([x2, pool("avg", x1, "left4", 1, "same")], None)
    # Keras names this separable block "left4" too (the pooling above is "left4")
    x5 = add([sep(x1, 3, "left4", strides=1), pool("max", h3, "right5")], "4")
    x = layers.concatenate(
        [x2, x3, x4, x5],
        axis=_utils.channel_axis(),
        name=f"reduction_concat_{block_id}",
    )
    return x, ip


def build_nasnet(config, *, name, **arguments):
    """The NASNet-A graph for ``(penultimate filters, cells per stage, stem
    filters, skip reduction, default size)``."""
    penultimate_filters, num_blocks, stem_filters, skip_reduction, size = config
    input_shape = arguments["input_shape"]
    if (
        isinstance(input_shape, tuple)
        and None in input_shape
        and arguments["weights"] == "imagenet"
    ):
        raise ValueError(
            "When specifying the input shape of a NASNet and loading `ImageNet` "
            "weights, the input_shape argument must be static (no None entries). "
            f"Got: `input_shape={input_shape}`."
        )
    filters = penultimate_filters // 24
    multiplier = 2

    def body(image):
        x = layers.Conv2D(
            stem_filters,
            3,
            strides=2,
            padding="valid",
            use_bias=False,
            kernel_initializer="he_normal",
            name="stem_conv1",
        )(image)
        x = _bn("stem_bn1")(x)
        x, p = _reduction_a_cell(x, None, filters // multiplier**2, "stem_1")
        x, p = _reduction_a_cell(x, p, filters // multiplier, "stem_2")
        for stage in range(3):
            width = filters * multiplier**stage
            if stage:
                block_id = f"reduce_{stage * num_blocks}"
                x, reduced = _reduction_a_cell(x, p, width, block_id)
                p = p if skip_reduction else reduced
            for i in range(num_blocks):
                block_id = f"{stage * num_blocks + i + (1 if stage else 0)}"
                x, p = _normal_a_cell(x, p, width, block_id)
        return _relu()(x)

    return _builder.build_application(
        body, name=name, default_size=size, **arguments
    )


_PARAMETERS = (
    ("input_shape", None),
    ("include_top", True),
    ("weights", "imagenet"),
    ("input_tensor", None),
    ("pooling", None),
    ("classes", 1000),
    ("classifier_activation", "softmax"),
)
_DOCS = {
    "input_shape": "optional ``(rows, cols, 3)`` (at least 32x32); with\n"
    "        ``include_top`` it must be the default size.",
}


def _build_mobile(config, *, name, **arguments):
    # Keras gives the feature extractor NASNetMobile's default input size
    if not arguments["include_top"] and arguments["input_shape"] is None:
        arguments["input_shape"] = (224, 224, 3)
    return build_nasnet(config, name=name, **arguments)


NASNetMobile = _builder.family_member(
    _build_mobile,
    (1056, 4, 32, False, 224),
    "nasnet_mobile",
    "NASNetMobile",
    __name__,
    parameters=_PARAMETERS,
    imagenet=_pretrained.nasnet("mobile"),
    **_DOCS,
)
NASNetLarge = _builder.family_member(
    build_nasnet,
    (4032, 6, 96, True, 331),
    "nasnet_large",
    "NASNetLarge",
    __name__,
    parameters=_PARAMETERS,
    imagenet=_pretrained.nasnet("large"),
    **_DOCS,
)
preprocess_input = _builder.preprocessor("tf", "Scales to [-1, 1].", __name__)
decode_predictions = _utils.decode_predictions
