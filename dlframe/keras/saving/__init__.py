"""``keras.saving``: ``.keras`` archives (Keras 3), HDF5 model and weights files,
SavedModel directories and the custom-object registry."""

from dlframe.keras.saving.model_io import load_model, save_model  # noqa: F401
from dlframe.keras.saving.serialization import (  # noqa: F401
    deserialize_keras_object,
    serialize_keras_object,
)
from dlframe.keras.saving.weights_io import load_weights, save_weights  # noqa: F401
from dlframe.keras.utils.generic_utils import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
