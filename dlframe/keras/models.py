"""``keras.models``: Model, Sequential, clone_model, model_from_config/json, load_model."""

import json

from dlframe.keras.engine.functional import Functional
from dlframe.keras.engine.model import Model  # noqa: F401 - keras.models.Model
from dlframe.keras.engine.sequential import Sequential


def model_from_config(config, custom_objects=None):
    from dlframe.keras.layers import deserialize
    return deserialize(config, custom_objects=custom_objects)


def model_from_json(json_string, custom_objects=None):
    """A model (fresh weights) from ``model.to_json()``."""
    return model_from_config(json.loads(json_string), custom_objects)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialized weights."""
    from dlframe.keras.layers import deserialize, serialize
    if clone_function is None and not isinstance(model, Functional):
        raise ValueError("clone_model expects a Sequential or functional Model; "
                         f"received a subclassed model {type(model).__name__}.")
    if clone_function is not None and isinstance(model, Sequential):
        clone = Sequential(name=model.name)
        if model._input_layer is not None and model._input_layer.name != (
                f"{model.layers[0].name}_input" if model.layers else None):
            clone.add(deserialize(serialize(model._input_layer)))
        for layer in model.layers:
            clone.add(clone_function(layer))
        return clone
    return deserialize(serialize(model))


def load_model(filepath, custom_objects=None, compile=True, **kwargs):
    from dlframe.keras import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile,
                             **kwargs)


def save_model(model, filepath, overwrite=True, **kwargs):
    from dlframe.keras import saving
    return saving.save_model(model, filepath, overwrite=overwrite, **kwargs)
