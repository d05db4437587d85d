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


def _clone_layer(layer):
    return type(layer).from_config(layer.get_config())


class _SubclassCloneError(ValueError, TypeError):
    """A subclassed model's config does not rebuild it: Keras 2 raised ValueError
    (no subclassed clones), Keras 3 TypeError (from_config failed); both catch it."""


def _clone_subclassed(model):
    """Keras 3's clone of a subclassed model: ``from_config(get_config())``, built
    for the input shape the original was built for."""
    try:
        clone = type(model).from_config(model.get_config())
    except TypeError as exc:
        raise _SubclassCloneError(
            f"{type(model).__name__} could not be cloned from its config "
            f"{model.get_config()}: {exc}. Make get_config() return the constructor's "
            "arguments (and accept **kwargs), or define from_config().") from exc
    shape = getattr(model, "_build_input_shape", None)
    if model.built and shape is not None and not clone.built:
        clone.build(shape)
    return clone


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialized weights.

    Args:
      model: a Sequential or functional Model, or a subclassed Model whose
        ``get_config()`` rebuilds it through ``from_config`` (as in Keras 3).
      input_tensors: optional ``Input`` tensors (one, or a list in the order of
        ``model.inputs``) the clone is built on instead of new ones.
      clone_function: ``fn(layer) -> layer`` making each layer of the clone (input
        layers excepted); default ``type(layer).from_config(layer.get_config())``, so
        custom layers need no registration.

    Returns:
      The clone, sharing no weights with ``model``. A compiled Sequential or
      functional model gives a clone compiled from its ``get_compile_config()``
      (new optimizer, losses and metrics, as Keras 3); where that config does not
      deserialize (an unregistered custom loss) the clone is left uncompiled, as
      Keras 2 left every clone.
    """
    from dlframe.keras.engine.input_layer import InputLayer
    if not isinstance(model, Functional):
        if clone_function is not None or input_tensors is not None:
            raise ValueError(
                "Arguments `clone_function` and `input_tensors` are only supported for "
                "Sequential models or Functional models. Received model of type "
                f"'{type(model).__name__}', with clone_function={clone_function} and "
                f"input_tensors={input_tensors}")
        return _clone_subclassed(model)
    clone_function = clone_function or _clone_layer
    given = [] if input_tensors is None else (
        list(input_tensors) if isinstance(input_tensors, (list, tuple))
        else [input_tensors])
    if isinstance(model, Sequential):
        clone = Sequential(name=model.name)
        if given:
            clone.add(given[0])
        elif model._input_layer is not None and model._input_layer.name != (
                f"{model.layers[0].name}_input" if model.layers else None):
            clone.add(_clone_layer(model._input_layer))
        for layer in model.layers:
            clone.add(clone_function(layer))
        return _compiled_like(model, clone)
    if given and len(given) != len(model.inputs):
        raise ValueError(f"clone_model: the model has {len(model.inputs)} inputs but "
                         f"input_tensors has {len(given)}: {input_tensors}")
    originals = {layer.name: layer for layer in model._graph_layers}
    replaced = {kt._keras_history[0].name: t for kt, t in zip(model.inputs, given)}

    def make_layer(data):
        layer = originals[data["name"]]
        return (_clone_layer(layer) if isinstance(layer, InputLayer)
                else clone_function(layer))
    return _compiled_like(
        model, Functional._rebuild(model.get_config(), make_layer, replaced))


def _compiled_like(model, clone):
    """``clone`` compiled as ``model`` was (Keras 3), or uncompiled (Keras 2) when
    the compile config does not rebuild."""
    if model._is_compiled:
        try:
            clone.compile_from_config(model.get_compile_config())
        except (ValueError, TypeError):
            clone._is_compiled = False
    return clone


def load_model(filepath, custom_objects=None, compile=True, **kwargs):
    from dlframe.keras import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile,
                             **kwargs)


def save_model(model, filepath, overwrite=True, **kwargs):
    from dlframe.keras import saving
    return saving.save_model(model, filepath, overwrite=overwrite, **kwargs)
