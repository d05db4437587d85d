"""Helpers shared by the ``keras.applications`` architectures: weights and input
checks, the input tensor, the classifier/pooling top, ImageNet preprocessing and
``decode_predictions``.

``weights='imagenet'`` loads the file Keras publishes for the model from Keras'
cache folder (see ``pretrained``); a local weights file is loaded with
``model.load_weights``.
"""

import json
import os
import warnings

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras import activations, backend, layers
from dlframe.keras.applications import pretrained
from dlframe.keras.engine.functional import Functional
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.utils.backend_utils import get_source_inputs
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops import names as _names

PREPROCESS_INPUT_DOC = """Preprocesses a batch of images for the model.

    Args:
      x: float array or tensor of images with 3 color channels (RGB, 0-255).
      data_format: 'channels_last' (default) or 'channels_first'.

    Returns:
      The preprocessed images (a NumPy array for array input, else a tensor).
    """

_IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


# ---------------------------------------------------------------- weights
def validate_weights(weights, include_top, classes):
    """Raises ValueError unless ``weights`` is None, 'imagenet' or an existing path,
    and for ImageNet weights with the classifier unless ``classes`` is 1000."""
    if not (weights in (None, "imagenet") or _exists(weights)):
        raise ValueError(
            "The `weights` argument should be either `None` (random "
            "initialization), `imagenet` (pre-training on ImageNet), or the path "
            f"to the weights file to be loaded. Received: weights={weights!r}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            'If using `weights="imagenet"` with `include_top=True`, `classes` '
            f"should be 1000. Received: classes={classes}"
        )


def _exists(weights):
    if not isinstance(weights, (str, os.PathLike)):
        return False
    path = os.fspath(weights)  # a TF checkpoint prefix is a path too
    return os.path.exists(path) or os.path.exists(path + ".index")


def validate_activation(classifier_activation, weights):
    """Pretrained classifiers take only None or 'softmax' as their activation."""
    if weights is None:
        return
    if activations.get(classifier_activation) not in (
        activations.get("softmax"),
        activations.get(None),
    ):
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the "
            "`classifier_activation` argument when using pretrained weights, with "
            f"`include_top=True`; Received: classifier_activation="
            f"{classifier_activation}"
        )


def load_weights(model, weights, imagenet_file=None):
    """Loads ``weights``: a local file, or ``imagenet_file`` from Keras' cache."""
    if weights == "imagenet":
        model.load_weights(pretrained.fetch(imagenet_file))
    elif weights is not None:
        model.load_weights(os.fspath(weights))
    return model


def validate_pooling(pooling):
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            f"Unknown pooling mode {pooling!r}: use None, 'avg' or 'max'. "
            f"Received: pooling={pooling!r}"
        )


# ---------------------------------------------------------------- input
def obtain_input_shape(
    input_shape, default_size, min_size, data_format, require_flatten, weights=None
):
    """The model's input shape from the user's ``input_shape`` (Keras' rules)."""
    channels_first = data_format == "channels_first"
    imagenet = weights == "imagenet"
    if input_shape is not None and len(input_shape) == 3 and not imagenet:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn(
                f"This model usually expects 1 or 3 input channels. However, it "
                f"was passed an input_shape with {channels} input channels.",
                stacklevel=3,
            )
    else:
        channels = 3
    default = (
        (channels, default_size, default_size)
        if channels_first
        else (default_size, default_size, channels)
    )
    if imagenet and require_flatten:
        if input_shape is not None and tuple(input_shape) != default:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default}. Received: "
                f"input_shape={tuple(input_shape)}"
            )
        return default
    if input_shape is None:
        input_shape = (
            default
            if require_flatten
            else ((3, None, None) if channels_first else (None, None, 3))
        )
    else:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                f"`input_shape` must be a tuple of three integers. Received: "
                f"input_shape={input_shape}"
            )
        channels = input_shape[0] if channels_first else input_shape[-1]
        if imagenet and channels != 3:
            raise ValueError(
                "The input must have 3 channels; Received "
                f"`input_shape={input_shape}`"
            )
        spatial = input_shape[1:] if channels_first else input_shape[:2]
        if any(d is not None and d < min_size for d in spatial):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; Received: "
                f"input_shape={input_shape}"
            )
    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def image_input(input_tensor, input_shape):
    """``(image tensor, model inputs)`` for ``input_tensor`` / ``input_shape``."""
    if input_tensor is None:
        image = layers.Input(shape=input_shape)
        return image, image
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError(  # noqa: TRY004 - Keras 3 raises ValueError here
            "Argument `input_tensor` must be a KerasTensor (from `keras.Input`). "
            f"Received invalid type: input_tensor={type(input_tensor).__name__} "
            f"of shape {tuple(getattr(input_tensor, 'shape', ()))}"
        )
    return input_tensor, get_source_inputs(input_tensor)


def requested_shape(input_tensor, input_shape):
    """``input_shape``, or the shape of ``input_tensor`` (without batch) if None."""
    if input_shape is None and input_tensor is not None:
        return tuple(input_tensor.shape)[1:]
    return input_shape


def input_rows(input_tensor, input_shape, data_format):
    """Spatial rows of the input (for model names), or None when unknown."""
    input_shape = requested_shape(input_tensor, input_shape)
    if input_shape is None or len(input_shape) != 3:
        return None
    return input_shape[1] if data_format == "channels_first" else input_shape[0]


def weights_resolution(input_shape, sizes, warn=False):
    """The rows of the published weights for ``input_shape``: its own when square
    and in ``sizes``, else 224 (see ``pretrained.resolution``)."""
    first = backend.image_data_format() == "channels_first"
    return pretrained.resolution(input_shape, sizes, warn, first)


def model_rows(input_shape, weights, sizes, warn=False):
    """The rows in a MobileNet's name: those of the ImageNet file it loads."""
    if weights == "imagenet":
        return weights_resolution(input_shape, sizes, warn)
    return input_rows(None, input_shape, backend.image_data_format())


def top(x, include_top, pooling, classes, classifier_activation, pool_names=None):
    """The classifier (global average pooling + Dense) or the optional pooling."""
    avg, max_ = pool_names or (None, None)
    if include_top:
        x = layers.GlobalAveragePooling2D(name=avg)(x)
        return layers.Dense(
            classes, activation=classifier_activation, name="predictions"
        )(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_)(x)
    return x


def check_common(weights, include_top, classes, pooling):
    validate_weights(weights, include_top, classes)
    validate_pooling(pooling)
    if classes is None or classes < 1:
        raise ValueError(f"`classes` must be a positive integer. Received: {classes}")


def make_model(inputs, outputs, name, weights, imagenet_file=None):
    """The functional model, with its weights (a local file or ImageNet's) loaded."""
    model = Functional(inputs, outputs, name=name)
    return load_weights(model, weights, imagenet_file)


def channel_axis():
    return 1 if backend.image_data_format() == "channels_first" else -1


# ---------------------------------------------------------------- preprocessing
def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses ImageNet images: 'caffe' (RGB->BGR, minus the BGR mean), 'tf'
    (scale to [-1, 1]) or 'torch' (scale to [0, 1], normalize by mean/std).

    Args:
      x: float array or tensor of RGB images.
      data_format: 'channels_last' or 'channels_first' (default: image_data_format).
      mode: 'caffe', 'tf' or 'torch'.

    Returns:
      The preprocessed images (NumPy for array input, else a tensor).
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError(
            "Expected mode to be one of `caffe`, `tf` or `torch`. "
            f"Received: mode={mode}"
        )
    if data_format is None:
        data_format = backend.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    if isinstance(x, KerasTensor):
        return _preprocess(x, data_format, mode)
    as_array = not isinstance(x, Tensor)
    t = convert_to_tensor(x)
    if not t.dtype.is_floating:
        t = _math.cast(t, backend.floatx())
    out = _preprocess(t, data_format, mode)
    if not as_array:
        return out
    if _is_numpy_float(x):  # Keras preprocesses float NumPy arrays in place
        return _write_in_place(x, out.numpy(), data_format, mode)
    return out.numpy()


def _is_numpy_float(x):
    return (
        type(x).__module__ == "numpy"
        and type(x).__name__ == "ndarray"
        and x.dtype.kind == "f"
    )


def _write_in_place(x, out, data_format, mode):
    """Stores ``out`` in ``x`` and returns it as Keras does: ``x`` itself, or for
    'caffe' the view of ``x`` with its color channels reversed (RGB -> BGR)."""
    view = x
    if mode == "caffe":
        reverse = slice(None, None, -1)
        if data_format == "channels_last":
            view = x[..., reverse]
        elif x.ndim == 3:
            view = x[reverse]
        else:
            view = x[:, reverse]
    view[...] = out
    return view


def _op(fn, api_name):
    """``fn`` as the public op: on KerasTensors it adds a TFOpLambda layer (Keras 2
    builds preprocessing into the model when called on ``keras.Input``)."""
    return _names.public_op(fn, api_name)


def _preprocess(x, data_format, mode):
    subtract = _op(_math.subtract, "math.subtract")
    divide = _op(_math.truediv, "math.truediv")
    if mode == "tf":
        return subtract(divide(x, 127.5), 1.0)
    rank = len(x.shape)
    first = data_format == "channels_first"
    if mode == "torch":
        x = divide(x, 255.0)
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        axis = (1 if rank == 4 else 0) if first else rank - 1
        x = _op(_array.reverse, "reverse")(x, [axis])  # RGB -> BGR
        mean, std = _IMAGENET_MEAN_BGR, None

    def per_channel(values):  # broadcasts against the channel axis
        return [[[v]] for v in values] if first else list(values)

    x = subtract(x, per_channel(mean))
    return x if std is None else divide(x, per_channel(std))


CLASS_INDEX = None


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions into class names.

    The class names come from ``imagenet_class_index.json`` in Keras' cache folder
    (``~/.keras/models``, or ``$KERAS_HOME/models``), downloaded when missing.

    Args:
      preds: array or tensor of shape ``(samples, 1000)``.
      top: how many of the most likely classes to return per sample.

    Returns:
      One list per sample of ``(class_id, class_name, score)`` tuples, most
      likely first.

    Raises:
      ValueError: for predictions that are not a ``(samples, 1000)`` batch.
    """
    global CLASS_INDEX
    if isinstance(preds, Tensor) or not hasattr(preds, "argsort"):
        preds = convert_to_tensor(preds).numpy()  # host array (NumPy's methods)
    shape = tuple(preds.shape)
    if len(shape) != 2 or shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of "
            f"shape (samples, 1000)). Received array with shape: {shape}"
        )
    if CLASS_INDEX is None:
        with open(pretrained.class_index_path()) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]  # Keras' selection, ties included
        result = [(*CLASS_INDEX[str(i)], pred[i]) for i in best]
        result.sort(key=lambda entry: entry[2], reverse=True)
        results.append(result)
    return results
