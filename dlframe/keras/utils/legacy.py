"""``keras.utils.legacy``: Keras 2's ``{'class_name', 'config'}`` serialization,
kept by Keras 3 for code and files written in that format."""

from dlframe.keras.utils.generic_utils import (
    deserialize_keras_object,
    serialize_keras_object,
)

__all__ = ["deserialize_keras_object", "serialize_keras_object"]
