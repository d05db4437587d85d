"""``tf.keras.layers.experimental.preprocessing`` (Keras 2.2-2.15): the preprocessing
layers under their older path, the same classes as ``tf.keras.layers``."""

from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.augmentation import (
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from dlframe.keras.layers.augmentation_mix import RandomHeight, RandomWidth
from dlframe.keras.layers.hashed_crossing import HashedCrossing
from dlframe.keras.layers.preprocessing import (
    CenterCrop,
    Normalization,
    Rescaling,
    Resizing,
)
from dlframe.keras.layers.preprocessing_lookup import (
    CategoryEncoding,
    Discretization,
    Hashing,
    IntegerLookup,
    StringLookup,
)
from dlframe.keras.layers.preprocessing_text import TextVectorization


class PreprocessingLayer(Layer):
    """Base class of preprocessing layers with state computed by ``adapt`` (Keras 2).

    Subclasses override ``adapt(data, batch_size=None, steps=None)``; ``is_adapted``
    tells whether it ran.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._is_adapted = False

    @property
    def is_adapted(self):
        """Whether ``adapt`` has run."""
        return self._is_adapted

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the layer's state from ``data`` (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement adapt()")


__all__ = [
    "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing",
    "IntegerLookup", "Normalization", "PreprocessingLayer", "RandomContrast",
    "RandomCrop", "RandomFlip", "RandomHeight", "RandomRotation", "RandomTranslation",
    "RandomWidth", "RandomZoom", "Rescaling", "Resizing", "StringLookup",
    "TextVectorization",
]
