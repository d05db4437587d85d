# ruff: noqa: F401 - re-export tables
"""``keras.layers``: the layer classes, merge helpers and serialize/deserialize."""

import importlib

from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.engine.input_layer import Input, InputLayer
from dlframe.keras.engine.input_spec import InputSpec
from dlframe.keras.layers.activation import (
    ELU,
    LeakyReLU,
    PReLU,
    ReLU,
    Softmax,
    ThresholdedReLU,
)
from dlframe.keras.layers.attention import (
    AdditiveAttention,
    Attention,
    MultiHeadAttention,
)
from dlframe.keras.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
    SeparableConvolution2D,
)
from dlframe.keras.layers.convolutional_1d import (
    DepthwiseConv1D,
    SeparableConv1D,
    SeparableConvolution1D,
)
from dlframe.keras.layers.core import (
    Activation,
    Dense,
    Lambda,
    Masking,
    TFOpLambda,
)
from dlframe.keras.layers.embedding import Embedding
from dlframe.keras.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from dlframe.keras.layers.normalization import (
    BatchNormalization,
    LayerNormalization,
    UnitNormalization,
)
from dlframe.keras.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from dlframe.keras.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from dlframe.keras.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from dlframe.keras.utils import generic_utils


def _optional(module):
    """Exports a layer module written by another issue once it exists (e.g. recurrent)."""
    try:
        mod = importlib.import_module(f"dlframe.keras.layers.{module}")
    except ModuleNotFoundError as e:
        if e.name != f"dlframe.keras.layers.{module}":
            raise
        return
    names = getattr(mod, "__all__", None) or [
        n for n, v in vars(mod).items() if isinstance(v, type) and issubclass(v, Layer)
        and v.__module__ == mod.__name__ and not n.startswith("_")]
    globals().update({n: getattr(mod, n) for n in names})


for _mod in ("recurrent", "recurrent_cells", "bidirectional", "conv_lstm", "wrappers",
             "rnn", "preprocessing", "dense_features", "augmentation",
             "preprocessing_lookup", "preprocessing_text"):
    _optional(_mod)
del _mod


def _layer_objects():
    from dlframe.keras import models
    objs = {n: v for n, v in globals().items() if isinstance(v, type)}
    objs.update({"Model": models.Model, "Functional": models.Functional,
                 "Sequential": models.Sequential})
    from dlframe.keras.utils import feature_space
    objs.update(feature_space.SERIALIZABLE)
    return objs


def serialize(layer):
    """Keras 3's config dict of a layer (as ``keras.saving.serialize_keras_object``).

    Args:
      layer: the layer or model.

    Returns:
      ``{'module', 'class_name', 'config', 'registered_name'}`` plus
      ``build_config`` for a built layer (and ``compile_config`` for a model).
    """
    from dlframe.keras.saving import serialization
    return serialization.serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """A layer (or model) from its ``serialize`` dict: Keras 3's form (with
    ``module``/``registered_name``/``build_config``) or Keras 2's
    ``{'class_name', 'config'}``.

    Args:
      config: the dict.
      custom_objects: ``{name: class}`` for unregistered custom layers.
    """
    if isinstance(config, dict) and ("module" in config or "registered_name" in config):
        from dlframe.keras.saving import serialization
        return serialization.deserialize_keras_object(config, custom_objects)
    return generic_utils.deserialize_keras_object(config, _layer_objects(), custom_objects,
                                                  "layer")


# Keras 3 layers
from dlframe.keras.layers.normalization import RMSNormalization
from dlframe.keras.layers.pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)

for _mod in ("einsum_dense", "spectral_normalization", "grouped_query_attention",
             "augmentation_color", "augmentation_mix", "pipeline",
             "reversible_embedding", "audio_preprocessing", "hashed_crossing",
             "stft_spectrogram", "augmentation_perspective", "augmentation_policies",
             "augmentation_elastic", "clahe", "bounding_box_limit"):
    _optional(_mod)
del _mod


def __getattr__(name):
    if name == "experimental":   # Keras 2's layers.experimental (and .preprocessing)
        import importlib
        return importlib.import_module("dlframe.keras.layers.experimental")
    if name == "TFSMLayer":   # lives with the export code in keras.saving
        from dlframe.keras.saving.export import TFSMLayer
        return TFSMLayer
    raise AttributeError(f"module 'dlframe.keras.layers' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"experimental", "TFSMLayer"})
