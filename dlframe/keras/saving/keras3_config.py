"""Keras 3 object configs: ``{'module', 'class_name', 'config', 'registered_name'}``.

``to_keras3`` rewrites the Keras 2 style dicts dlframe's ``get_config`` methods produce
(``{'class_name', 'config'}``) into Keras 3's, so TensorFlow's Keras loads the
``config.json`` of a dlframe ``.keras`` file. ``from_keras3`` goes the other way for
configs Keras 3 wrote: dtype policies become their names, functions their names, and
arguments newer Keras versions record at their neutral values (``optional=False``,
``quantization_config=None``, initializers' ``input_axes=None``...) are dropped when
the dlframe class does not take them; any other unknown argument is kept so the
constructor's error names it.
"""

import base64
import inspect
import marshal
import sys

import numpy as np

from dlframe.keras.utils import generic_utils

_POLICIES = ("DTypePolicy", "FloatDTypePolicy", "Policy")
# non-None defaults of arguments dlframe classes do not take (value means "default")
_NEUTRAL = {"oov_method": "floormod", "data_format": "channels_last",
            "reduction": "sum_over_batch_size"}
_MODEL_MODULES = {"Sequential": "keras", "Model": "keras",
                  "Functional": "keras.src.models.functional"}
# FeatureSpace and the objects its config holds: Keras 3 files them under these
# modules, the internal ones with their class name as ``registered_name``.
_FEATURE_SPACE_MODULE = "keras.src.layers.preprocessing.feature_space"
_FEATURE_SPACE_NAMES = {"FeatureSpace": ("keras.utils", None),
                        **{n: (_FEATURE_SPACE_MODULE, n) for n in
                           ("Feature", "Cross", "TFDIdentity", "TFDConcat")}}
_KEY_KINDS = (("_initializer", "initializers"), ("_regularizer", "regularizers"),
              ("_constraint", "constraints"))


def _tables():
    """``[(Keras 3 module, {class name: dlframe class})]`` in lookup order."""
    from dlframe.keras import (
        constraints,
        initializers,
        layers,
        losses,
        metrics,
        optimizers,
        regularizers,
    )
    from dlframe.keras.optimizers import schedules

    def classes(mod):
        return {n: v for n, v in vars(mod).items() if isinstance(v, type)}
    return [("keras.layers", layers._layer_objects()),
            ("keras.initializers", classes(initializers)),
            ("keras.regularizers", classes(regularizers)),
            ("keras.constraints", classes(constraints)),
            ("keras.optimizers.schedules", classes(schedules)),
            ("keras.optimizers", classes(optimizers)),
            ("keras.losses", classes(losses)),
            ("keras.metrics", classes(metrics))]


def _lookup(class_name, module=None):
    """The dlframe class Keras 3 files as ``module.class_name`` (None if unknown);
    without ``module``, the first table that has the name."""
    short = (module or "").replace("keras.src.", "keras.").split(".")
    for name, table in _tables():
        fits = module is None or name.split(".")[-1] == short[-1] or (
            name == "keras.layers" and class_name in _MODEL_MODULES)
        if fits and class_name in table:
            return name, table[class_name]
    return _lookup(class_name) if module is not None else (None, None)


# ---------------------------------------------------------------- dlframe -> Keras 3
def to_keras3(obj, kind=None):
    """``obj`` (a dlframe config or serialized object, nested) in Keras 3's form.

    Args:
      obj: dicts, lists and plain values as ``get_config``/``serialize`` return.
      kind: the Keras 3 module name ("keras.losses"...) objects at this level
        belong to, when the class name alone is ambiguous.
    """
    if isinstance(obj, (list, tuple)):
        return [to_keras3(v, kind) for v in obj]
    if not isinstance(obj, dict):
        return obj
    name = obj.get("class_name")
    if not isinstance(name, str) or "config" not in obj or name.startswith("__") \
            or "module" in obj:
        return {k: to_keras3(v, _kind_of_key(k, kind)) for k, v in obj.items()}
    out = {k: v for k, v in obj.items() if k not in ("class_name", "config")}
    registered = None
    if ">" in name:
        registered, name = name, name.split(">", 1)[1]
        module = None
    elif name in _MODEL_MODULES:
        module = _MODEL_MODULES[name]
    elif name in _FEATURE_SPACE_NAMES:
        module, registered = _FEATURE_SPACE_NAMES[name]
    else:
        module = _lookup(name, kind)[0]
        if module is None:   # an unregistered custom class: Keras 3 files its name
            registered = name
    config = obj["config"]
    if isinstance(config, dict):
        config = _layer_config_to_keras3(name, config)
    out.update({"module": module, "class_name": name,
                "config": to_keras3(config), "registered_name": registered})
    return out


def _kind_of_key(key, kind):
    for suffix, module in _KEY_KINDS:
        if key.endswith(suffix):
            return f"keras.{module}"
    return kind if key in ("loss", "metrics", "weighted_metrics") else None


def _lambda_to_keras3(dumped, module=None):
    code, defaults, closure = dumped
    config = {"code": code, "defaults": defaults, "closure": closure}
    if module:   # where its global names live; Keras 3 reads only the keys above
        config["module"] = module
    return {"class_name": "__lambda__", "config": config}


def _named_function_of(dumped, module):
    """The name of the top-level function whose code ``dumped`` holds when its
    module still has that very function under that name (Keras 3 stores such
    functions by name), else None: a nested function, or one the module redefined,
    keeps its bytecode so loading never finds another function of that name."""
    try:
        code = marshal.loads(base64.b64decode(dumped[0].encode("ascii")))
    except (ValueError, TypeError, EOFError, AttributeError, IndexError):
        return None
    if code.co_name == "<lambda>" or dumped[2]:
        return None
    found = getattr(sys.modules.get(module or ""), code.co_name, None)
    return code.co_name if getattr(found, "__code__", None) == code else None


def _activation_to_keras3(name):
    """A custom activation named in a dlframe config, in Keras 3's function form
    (Keras 3 reads a bare name only for its own activations)."""
    from dlframe.keras import activations
    if not isinstance(name, str) or (">" not in name and callable(
            getattr(activations, name, None))):
        return name
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}


def _layer_config_to_keras3(class_name, config):
    config = dict(config)
    for key in [k for k in config if k.endswith("activation")]:
        config[key] = _activation_to_keras3(config[key])
    if class_name == "Lambda" and config.get("function_type") == "lambda" and \
            _named_function_of(config["function"], config.get("module")):
        config["function"] = _named_function_of(config["function"], config["module"])
        config["function_type"] = "function"
    if class_name == "Lambda" and config.get("function_type") == "lambda":
        config["function"] = _lambda_to_keras3(config.pop("function"),
                                               config.pop("module", None))
        config.pop("function_type")
    if class_name == "Lambda" and config.get("function_type") == "function":
        name = config.pop("function")   # Keras 3 writes a named function this way
        config["function"] = {"module": config.pop("module", None) or "builtins",
                              "class_name": "function", "config": name,
                              "registered_name": name}
        config.pop("function_type")
    if class_name == "Lambda" and config.pop("output_shape_type", None) == "lambda":
        config["output_shape"] = _lambda_to_keras3(config["output_shape"])
    if class_name == "InputLayer":
        if "batch_input_shape" in config:
            config["batch_shape"] = config.pop("batch_input_shape")
        return config
    shape = config.pop("batch_input_shape", None)
    if class_name == "Sequential" and config.get("layers"):
        config["layers"] = _explicit_input_layer(config["layers"], shape)
    return config


def _explicit_input_layer(entries, shape=None):
    """Sequential layer entries with an ``InputLayer`` first when the first layer
    carries ``batch_input_shape`` (Keras 3 layers do not take that argument)."""
    entries = [dict(e) for e in entries]
    first = entries[0]
    if first.get("class_name") == "InputLayer":
        return entries
    inner = dict(first.get("config", {}))
    batch_shape = inner.pop("batch_input_shape", None) or shape
    first["config"] = inner
    if batch_shape is None:
        return entries
    dtype = inner.get("dtype") if isinstance(inner.get("dtype"), str) else "float32"
    return [{"class_name": "InputLayer",
             "config": {"batch_shape": list(batch_shape), "dtype": dtype,
                        "name": f"{inner.get('name', 'input')}_input"}}] + entries


# ---------------------------------------------------------------- Keras 3 -> dlframe
def from_keras3(obj, custom_objects=None, safe_mode=True):
    """``obj`` (a Keras 3 config, nested) in the form dlframe's deserializers read.

    Args:
      obj: the parsed JSON.
      custom_objects: the user's ``{name: class or function}``; decides whether a
        custom object is looked up by its registered or its class name.
      safe_mode: refuse ``Lambda`` functions stored as bytecode (unless
        ``keras.config.enable_unsafe_deserialization()`` was called).

    Raises:
      ValueError: a stored lambda in safe mode.
    """
    if isinstance(obj, list):
        return [from_keras3(v, custom_objects, safe_mode) for v in obj]
    if not isinstance(obj, dict):
        return obj
    name = obj.get("class_name")
    if name == "__lambda__":
        return _lambda_from_keras3(obj["config"], safe_mode)
    if name == "__numpy__" and isinstance(obj.get("config"), dict):
        # a NumPy constant among an operation's arguments (``x @ np.eye(3)``)
        return np.asarray(obj["config"]["value"], dtype=obj["config"].get("dtype"))
    if not isinstance(name, str) or "config" not in obj or name.startswith("__"):
        return {k: from_keras3(v, custom_objects, safe_mode) for k, v in obj.items()}
    if name in _POLICIES and isinstance(obj["config"], dict):
        return obj["config"].get("name")
    if name == "function":
        registered = obj.get("registered_name")
        return registered if registered and ">" in registered else obj["config"]
    op = _operation_to_op_layer(obj, custom_objects)
    if op is not None:
        return {**{k: from_keras3(v, custom_objects, safe_mode) for k, v in obj.items()
                   if k not in ("module", "registered_name", "shared_object_id")},
                **op}
    out = {k: from_keras3(v, custom_objects, safe_mode) for k, v in obj.items()
           if k != "shared_object_id"}
    fn = obj["config"].get("function") if name == "Lambda" else None
    if isinstance(fn, dict) and isinstance(fn.get("config"), dict) and \
            fn["config"].get("module"):
        out["config"]["module"] = fn["config"]["module"]
    elif isinstance(fn, dict) and fn.get("class_name") == "function" and \
            fn.get("module"):   # a named function: found again in its module
        out["config"]["module"] = fn["module"]
    if name == "Lambda" and isinstance(out["config"].get("output_shape"), list) and \
            len(out["config"]["output_shape"]) == 3 and \
            isinstance(out["config"]["output_shape"][0], str):
        out["config"]["output_shape_type"] = "lambda"
    cls, out["class_name"] = _resolve(obj, custom_objects)
    if cls is not None and isinstance(out["config"], dict) and \
            str(getattr(cls, "__module__", "")).startswith("dlframe."):
        out["config"] = _drop_neutral_unknowns(cls, out["config"])
    return out


def _operation_to_op_layer(obj, custom_objects):
    """A Keras 3 operation node of a functional model (``x[:, :1]`` is ``GetItem``,
    ``keras.ops.expand_dims(x, -1)`` is ``ExpandDims(axis=-1)``) as dlframe's
    ``TFOpLambda`` of the matching ``keras.ops`` function; None for other objects.
    ``.keras`` files name the operation's module; ``.h5`` entries do not, so there
    an entry is taken for an op by its config (no ``trainable``) and name."""
    from dlframe.keras import ops
    name, module, config = obj["class_name"], obj.get("module"), obj["config"]
    if not isinstance(config, dict) or "name" not in config:
        return None
    if module is not None and not str(module).startswith(("keras.src.ops.",
                                                           "keras.ops")):
        return None
    if module is None and ("trainable" in config or generic_utils.get_registered_object(
            name, custom_objects) is not None):
        return None   # layers' configs have ``trainable``, operations' do not
    function = generic_utils.to_snake_case(name)
    if function == "get_item":
        function = "getitem"   # the operator layer that reads JSON-loaded keys
    elif callable(getattr(ops, function, None)):
        function = f"keras.ops.{function}"
    else:
        return None
    op_kwargs = {k: v for k, v in config.items() if k != "name"}
    layer = {"name": config["name"], "function": function}
    if op_kwargs:
        layer["op_kwargs"] = op_kwargs
    return {"class_name": "TFOpLambda", "config": layer}


def _lambda_from_keras3(config, safe_mode):
    from dlframe.keras import config as keras_config
    if safe_mode and not keras_config.unsafe_deserialization_enabled():
        raise ValueError(
            "Requested the deserialization of a `Lambda` layer whose function is "
            "stored as Python bytecode. Loading it can run arbitrary code, so it is "
            "refused in safe mode. If you trust the file, pass `safe_mode=False` to "
            "`load_model` or call `keras.config.enable_unsafe_deserialization()`.")
    return [config["code"], config.get("defaults"), config.get("closure")]


def _resolve(obj, custom_objects):
    """(dlframe class or None, the name dlframe's deserializers should look up)."""
    name, registered = obj["class_name"], obj.get("registered_name")
    if registered and registered != name:
        for key in (registered, name):
            found = generic_utils.get_registered_object(key, custom_objects)
            if found is not None:
                return found, key
        return None, registered
    found = generic_utils.get_registered_object(name, custom_objects)
    if found is not None:
        return found, name
    return _lookup(name, obj.get("module"))[1], name


def _accepted_keys(cls):
    """Constructor argument names of ``cls`` (following ``**kwargs`` up the class
    hierarchy to ``Layer``'s allowed keywords); None when it cannot be told."""
    from dlframe.keras.engine import base_layer
    keys = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        keys.update(p.name for p in params
                    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return keys
        if klass is base_layer.Layer:
            return keys | base_layer._ALLOWED_KWARGS
    return None


def _drop_neutral_unknowns(cls, config):
    accepted = _accepted_keys(cls)
    if accepted is None:
        return config
    return {k: v for k, v in config.items()
            if k in accepted or not _is_neutral(k, v)}


def _is_neutral(key, value):
    if value is None or value is False or value == {} or value == []:
        return True
    return _NEUTRAL.get(key) == value
