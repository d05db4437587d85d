"""The prologue and epilogue shared by every ``keras.applications`` builder: the
argument checks, the image input, the classifier/pooling top, the model with its
local weights loaded, the public constructors of model families and their
docstrings, and the layers several architectures share."""

import inspect

from dlframe.keras import layers
from dlframe.keras.applications import imagenet_utils as _utils

COMMON_ARGUMENTS = (
    "include_top",
    "weights",
    "input_tensor",
    "input_shape",
    "pooling",
    "classes",
    "classifier_activation",
)

ARG_DOCS = {
    "include_top": "whether to add the global pooling + Dense classifier.",
    "weights": "None (random initialization), 'imagenet' (the file Keras\n"
    "        publishes, read from Keras' cache ``~/.keras/models`` or downloaded\n"
    "        there) or the path of a local weights file.",
    "input_tensor": "optional Keras tensor to use as the image input.",
    "input_shape": "optional ``(rows, cols, 3)`` (at least 32x32); with\n"
    "        ``include_top`` the default is ``(224, 224, 3)``.",
    "pooling": "None, 'avg' or 'max' global pooling when ``include_top`` is False.",
    "classes": "number of classes of the classifier.",
    "classifier_activation": "activation of the classifier layer.",
    "name": "model name.",
    "include_preprocessing": "whether the model starts with its own input\n"
    "        rescaling, so it takes RGB images in [0, 255].",
}


def documented(architecture, **arg_docs):
    """Decorator giving a constructor its Google-style docstring.

    Args:
      architecture: the architecture's name (``"MobileNet"``).
      **arg_docs: descriptions of arguments missing from (or differing from)
        ``ARG_DOCS``; the Args list follows the constructor's signature.

    Returns:
      The decorator.
    """

    def decorate(fn):
        docs = {**ARG_DOCS, **arg_docs}
        args = "\n".join(
            f"      {arg}: {docs[arg]}" for arg in inspect.signature(fn).parameters
        )
        fn.__doc__ = (
            f"Instantiates the {architecture} architecture.\n\n    Args:\n{args}\n\n"
            "    Returns:\n      A functional ``keras.Model``.\n    "
        )
        return fn

    return decorate


def common_arguments(values):
    """The ``COMMON_ARGUMENTS`` entries of ``values`` (a constructor's locals())."""
    return {arg: values[arg] for arg in COMMON_ARGUMENTS}


def build_application(
    body,
    *,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
    classifier=None,
    pool_names=None,
    default_size=224,
    min_size=32,
    require_flatten=None,
    imagenet=None,
    shape_from_tensor=False,
):
    """Checks the arguments, builds ``body`` on the image input and adds the top.

    Args:
      body: ``body(image) -> features``, the architecture's convolutional part.
      include_top: whether to add the classifier.
      weights: None, 'imagenet' or the path of a local weights file.
      input_tensor: optional Keras tensor to use as the image input.
      input_shape: optional ``(rows, cols, channels)``.
      pooling: None, 'avg' or 'max' global pooling without the classifier.
      classes: number of classes of the classifier.
      classifier_activation: activation of the classifier.
      name: the model name, or ``name(input_shape)`` computing it from the
        resolved ``(rows, cols, channels)`` input shape.
      classifier: ``classifier(features, classes, classifier_activation)`` used
        when ``include_top``; None adds global average pooling + Dense.
      pool_names: optional names of the (average, max) global pooling layers.
      default_size: the rows and columns of the default input with ``include_top``.
      min_size: the smallest rows and columns accepted.
      require_flatten: whether the input shape must be static (default:
        ``include_top``).
      imagenet: ``imagenet(include_top, input_shape)`` giving the
        ``pretrained.WeightsFile`` of ``weights='imagenet'`` (it may also check
        the arguments); None when Keras publishes no weights for the model.
      shape_from_tensor: whether a missing ``input_shape`` is read from
        ``input_tensor`` (MobileNetV3); the other architectures resolve only the
        given ``input_shape``, as Keras does, and take ``input_tensor`` unchecked.

    Returns:
      The functional model, with its weights loaded.
    """
    _utils.check_common(weights, include_top, classes, pooling)
    if weights == "imagenet" and imagenet is None:
        raise ValueError(
            f"No ImageNet weights are published for {name!r}. Received: "
            "weights='imagenet'"
        )
    if shape_from_tensor:
        input_shape = _utils.requested_shape(input_tensor, input_shape)
    shape = _utils.obtain_input_shape(
        input_shape,
        default_size,
        min_size,
        None,
        include_top if require_flatten is None else require_flatten,
        weights,
    )
    imagenet_file = imagenet(include_top, shape) if weights == "imagenet" else None
    image, inputs = _utils.image_input(input_tensor, shape)
    x = body(image)
    if include_top:
        _utils.validate_activation(classifier_activation, weights)
    if include_top and classifier is not None:
        x = classifier(x, classes, classifier_activation)
    else:
        x = _utils.top(
            x, include_top, pooling, classes, classifier_activation, pool_names
        )
    name = name(shape) if callable(name) else name
    return _utils.make_model(inputs, x, name, weights, imagenet_file)


FAMILY_PARAMETERS = (
    ("include_top", True),
    ("weights", "imagenet"),
    ("input_tensor", None),
    ("input_shape", None),
    ("pooling", None),
    ("classes", 1000),
    ("classifier_activation", "softmax"),
)


def family_member(
    build,
    config,
    model_name,
    title,
    module,
    parameters=FAMILY_PARAMETERS,
    imagenet=None,
    **arg_docs,
):
    """A public constructor such as ``ResNet50`` for one member of a family.

    Args:
      build: ``build(config, name=..., **arguments)`` building the model; it
        receives every parameter but ``name`` by keyword.
      config: what distinguishes this member (e.g. the blocks per stage).
      model_name: the default model name.
      title: the constructor's name (``ResNet50``).
      module: the ``__name__`` of the module exporting the constructor.
      parameters: ``(argument, default)`` pairs in Keras' order, ``name`` excluded
        (it always comes last).
      imagenet: the member's ImageNet weights files (see ``build_application``);
        ``build`` receives it by keyword when given.
      **arg_docs: argument descriptions differing from ``ARG_DOCS``.

    Returns:
      The constructor, taking Keras' arguments in Keras' order.
    """
    signature = inspect.Signature(
        [
            inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d)
            for arg, d in (*parameters, ("name", model_name))
        ]
    )

    def constructor(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{title}(): {error}") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        name = arguments.pop("name") or model_name
        if imagenet is not None:
            arguments["imagenet"] = imagenet
        return build(config, name=name, **arguments)

    constructor.__signature__ = signature
    constructor.__name__ = constructor.__qualname__ = title
    constructor.__module__ = module
    return documented(title, **arg_docs)(constructor)


def classifier(dropout_rate=0.0, pool_name="avg_pool", **dense_kwargs):
    """A ``classifier(features, classes, activation)`` for ``build_application``.

    Args:
      dropout_rate: rate of the ``top_dropout`` layer before the Dense (0: none).
      pool_name: name of the global average pooling layer.
      **dense_kwargs: extra arguments of the ``predictions`` Dense layer.

    Returns:
      The classifier builder: global average pooling, dropout and Dense.
    """

    def build(x, classes, classifier_activation):
        x = layers.GlobalAveragePooling2D(name=pool_name)(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        return layers.Dense(
            classes,
            activation=classifier_activation,
            name="predictions",
            **dense_kwargs,
        )(x)

    return build


def preprocessor(mode, note, module):
    """The module-level ``preprocess_input`` of an architecture using ``mode``."""

    def preprocess_input(x, data_format=None):
        return _utils.preprocess_input(x, data_format=data_format, mode=mode)

    preprocess_input.__module__ = module
    preprocess_input.__doc__ = _utils.PREPROCESS_INPUT_DOC + "\n    " + note
    return preprocess_input


def passthrough_preprocessor(note, module):
    """The module-level ``preprocess_input`` of an architecture that preprocesses
    inside the model: it returns its input unchanged. ``note`` says why."""

    def preprocess_input(x, data_format=None):
        return x

    preprocess_input.__module__ = module
    preprocess_input.__doc__ = f"""A placeholder kept for API compatibility: {note}

    Args:
      x: images (RGB, 0-255), array or tensor.
      data_format: ignored (accepted for API compatibility).

    Returns:
      ``x`` unchanged.
    """
    return preprocess_input


# ---------------------------------------------------------------- shared layers
def batch_norm(name, epsilon=1.001e-5, **kwargs):
    """BatchNormalization over the channel axis (ResNet/DenseNet's epsilon)."""
    return layers.BatchNormalization(
        axis=_utils.channel_axis(), epsilon=epsilon, name=name, **kwargs
    )


def conv_stem(image, use_bias, pad_names=(None, None), pool_name="pool1"):
    """ResNet/DenseNet's stem: 7x7/2 conv, BN, ReLU and 3x3/2 max pooling."""
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name=pad_names[0])(image)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    x = batch_norm("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=pad_names[1])(x)
    return layers.MaxPooling2D(3, strides=2, name=pool_name)(x)


def conv_bn(x, filters, kernel_size, names, strides=1, padding="same",
            activation="relu", use_bias=False):
    """Conv, then (without a bias) BN with no scale, then ``activation`` (none when
    None): the Inception family's unit. ``names`` are the three layers' names
    (conv, bn, activation), None for automatic ones."""
    conv_name, bn_name, act_name = names
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=conv_name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=_utils.channel_axis(), scale=False,
                                      name=bn_name)(x)
    if activation is not None:
        x = layers.Activation(activation, name=act_name)(x)
    return x
