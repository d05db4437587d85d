"""``keras.saving.serialize_keras_object`` / ``deserialize_keras_object`` in Keras 3's
dict format: ``{'module', 'class_name', 'config', 'registered_name'}`` (plus
``build_config`` for built layers). Keras 2 style dicts and plain names are read too.
"""

from dlframe.keras.saving import keras3_config
from dlframe.keras.utils import generic_utils

_MODULE_NAMES = {"keras.layers": "layers", "keras.initializers": "initializers",
                 "keras.regularizers": "regularizers", "keras.constraints": "constraints",
                 "keras.optimizers": "optimizers", "keras.losses": "losses",
                 "keras.metrics": "metrics", "keras.activations": "activations"}


def serialize_keras_object(obj):
    """The Keras 3 config dict of ``obj`` (strings, numbers, lists pass through).

    Args:
      obj: a layer, model, optimizer, loss, metric, initializer, ... (anything with
        ``get_config``), a function, or a plain value.

    Returns:
      a JSON-friendly dict; functions become
      ``{'module', 'class_name': 'function', 'config': name, 'registered_name'}``.
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if not hasattr(obj, "get_config") and callable(obj) and hasattr(obj, "__name__"):
        registered = generic_utils.get_registered_name(obj)
        custom = registered != obj.__name__
        # Keras 3.15 files every plain function (its own and the user's) under
        # 'builtins' and finds it again by name
        return {"module": None if custom else "builtins",
                "class_name": "function", "config": obj.__name__,
                "registered_name": registered if custom else "function"}
    out = keras3_config.to_keras3(generic_utils.serialize_keras_object(obj),
                                  _kind_of(obj))
    build = getattr(obj, "get_build_config", None)
    # the generic serializer already stored a user-defined build config
    if build is not None and getattr(obj, "built", False) and "build_config" not in out:
        config = build()
        if config:
            out["build_config"] = config
    if hasattr(obj, "get_compile_config") and hasattr(obj, "compile_from_config"):
        from dlframe.keras.saving import keras_archive
        out["compile_config"] = keras_archive._compile_config(obj) or {}
    return out


def _kind_of(obj):
    """The Keras 3 module a loss or metric instance belongs to: names such as
    ``MeanAbsoluteError`` exist as both, and a metric must not be filed as a loss."""
    from dlframe.keras import losses, metrics
    if isinstance(obj, metrics.Metric):
        return "keras.metrics"
    if isinstance(obj, losses.Loss):
        return "keras.losses"
    return None


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuilds an object from ``serialize_keras_object``'s output (or a Keras 2
    ``{'class_name', 'config'}`` dict, or a registered name).

    Args:
      config: the dict (or name) to rebuild.
      custom_objects: ``{name: class or function}`` for unregistered custom objects.
      safe_mode: refuse ``Lambda`` functions stored as bytecode.
      **kwargs: ``module_objects``/``printable_module_name`` of Keras 2's signature.

    Raises:
      ValueError: an unknown class or function name.
    """
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    module_name = config.get("module") if isinstance(config, dict) else None
    if isinstance(config, dict) and config.get("class_name") == "function":
        name = keras3_config.from_keras3(config, custom_objects)
        return _function(name, module_name, custom_objects)
    plain = keras3_config.from_keras3(config, custom_objects, safe_mode=safe_mode)
    if isinstance(plain, str):
        return _function(plain, module_name, custom_objects)
    if not isinstance(plain, dict) or "class_name" not in plain:
        return plain
    target = _MODULE_NAMES.get(str(module_name).replace("keras.src.", "keras."))
    if target is None:
        module, _ = keras3_config._lookup(plain["class_name"], module_name)
        target = _MODULE_NAMES.get(module or "", None)
    if target is not None:
        import importlib
        mod = importlib.import_module(f"dlframe.keras.{target}")
        obj = mod.deserialize({"class_name": plain["class_name"],
                               "config": plain["config"]}, custom_objects=custom_objects)
    else:
        obj = generic_utils.deserialize_keras_object(
            plain, kwargs.get("module_objects"), custom_objects,
            kwargs.get("printable_module_name", "object"))
    build_config = plain.get("build_config")
    if build_config and hasattr(obj, "build_from_config") and not obj.built:
        obj.build_from_config(build_config)
    if plain.get("compile_config") and hasattr(obj, "compile_from_config"):
        from dlframe.keras.saving import model_io
        model_io.compile_from_config(obj, plain["compile_config"], custom_objects)
    return obj


def _function(name, module_name, custom_objects):
    found = generic_utils.get_registered_object(name, custom_objects)
    if found is not None:
        return found
    from dlframe.keras import activations, losses, metrics
    module = str(module_name or "")
    order = [losses, metrics, activations] if "losses" in module or "metrics" in module \
        else [activations, losses, metrics]
    for mod in order:
        try:
            return mod.get(name)
        except (ValueError, TypeError):
            continue
    raise ValueError(f"Unknown function: '{name}'. Please ensure you are using a "
                     "`keras.utils.custom_object_scope` and that this object is "
                     "included in the scope.")
