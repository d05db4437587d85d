"""Custom-object registry and (de)serialization of Keras objects.

``serialize_keras_object`` writes Keras-2 style ``{'class_name', 'config'}`` dicts;
``deserialize_keras_object`` also reads Keras-3 style dicts (``module``,
``registered_name``).
"""

import functools
import re
import threading


def symbolic_aware(fn, api_name):
    """``fn`` that, called on functional-model KerasTensors, inserts an op layer
    running ``fn`` (Keras 2: backend and loss functions are TF ops, so
    ``K.mean(K.square(z))`` works while a model is built). ``api_name`` is its public
    path under ``dlframe`` (``'keras.backend.mean'``), for reloading the op layer."""
    from dlframe.errors import SymbolicTensorError
    from dlframe.ops import names as op_names

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SymbolicTensorError:
            hook = op_names.SYMBOLIC_OP_HOOK[0]
            out = NotImplemented if hook is None else hook(fn, api_name, args, kwargs)
            if out is NotImplemented:
                raise
            return out
    wrapper._dlframe_op = fn   # what the op layer runs (see ops.names.unwrap)
    return wrapper


_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}


class _Scopes(threading.local):
    def __init__(self):
        self.stack = []


_SCOPES = _Scopes()


def get_custom_objects():
    """The global dict of custom objects (name -> class/function); mutable."""
    return _GLOBAL_CUSTOM_OBJECTS


class custom_object_scope:
    """Context manager making custom objects visible to deserialization.

    Args:
      *args: dicts mapping names to classes or functions.
    """

    def __init__(self, *args):
        self.custom_objects = {}
        for arg in args:
            if arg is not None:
                self.custom_objects.update(arg)

    def __enter__(self):
        _SCOPES.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _SCOPES.stack.pop()
        return False


CustomObjectScope = custom_object_scope


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class/function as '<package>>name' for deserialization."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered = f"{package}>{class_name}"
        if isinstance(arg, type) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a "
                             "get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered
        return arg
    return decorator


def get_registered_name(obj):
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name, custom_objects=None, module_objects=None):
    for scope in reversed(_SCOPES.stack):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def serialize_keras_object(instance):
    """``{'class_name': ..., 'config': ...}`` for objects with get_config; names for functions."""
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        cls = type(instance)
        out = {"class_name": _GLOBAL_CUSTOM_NAMES.get(cls, cls.__name__),
               "config": instance.get_config()}
        if getattr(instance, "built", False) and _user_defined(instance,
                                                               "get_build_config"):
            out["build_config"] = instance.get_build_config()
        return out
    if hasattr(instance, "__name__"):
        return _GLOBAL_CUSTOM_NAMES.get(instance, instance.__name__)
    raise ValueError(f"Cannot serialize {instance!r} since it doesn't implement get_config()")


def _user_defined(obj, method):
    """Whether ``obj``'s class takes ``method`` from user code (not dlframe's)."""
    fn = getattr(type(obj), method, None)
    return fn is not None and not str(getattr(fn, "__module__", "")).startswith(
        "dlframe.")


def _apply_build_config(obj, identifier):
    """Keras 3: a layer whose class customizes ``build_from_config`` rebuilds from
    the ``build_config`` stored beside its config (``get_build_config``'s output)."""
    build_config = identifier.get("build_config")
    if build_config and not getattr(obj, "built", True) and \
            _user_defined(obj, "build_from_config"):
        obj.build_from_config(build_config)
        obj.built = True
    return obj


class UnknownObjectError(ValueError, TypeError):
    """A config names a class that is neither built in nor registered: Keras 2 raises
    ValueError here, Keras 3 TypeError, so ``except`` clauses of either catch it."""


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """Turns a name or a ``{'class_name', 'config'}`` dict back into an object."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"Improper config format for {printable_module_name}: expected a dict "
                "with 'class_name' and 'config' keys (e.g. from `serialize`), "
                f"received keys {sorted(identifier)!r}.")
        class_name = identifier.get("registered_name") or identifier["class_name"]
        config = identifier.get("config", {})
        cls = get_registered_object(class_name, custom_objects, module_objects)
        if cls is None and class_name != identifier["class_name"]:
            cls = get_registered_object(identifier["class_name"], custom_objects,
                                        module_objects)
        if cls is None:
            raise UnknownObjectError(
                f"Unknown {printable_module_name}: '{identifier['class_name']}'. Please "
                "ensure you are using a `keras.utils.custom_object_scope` and that this "
                "object is included in the scope.")
        if hasattr(cls, "from_config"):
            if _accepts_custom_objects(cls.from_config):
                merged = dict(custom_objects or {})
                for scope in _SCOPES.stack:
                    merged.update(scope)
                obj = cls.from_config(config, custom_objects=merged)
            else:
                with custom_object_scope(custom_objects):
                    obj = cls.from_config(config)
            return _apply_build_config(obj, identifier)
        with custom_object_scope(custom_objects):
            return _apply_build_config(cls(**config), identifier)
    if isinstance(identifier, str):
        obj = get_registered_object(identifier, custom_objects, module_objects)
        if obj is None:
            raise ValueError(f"Unknown {printable_module_name}: '{identifier}'. Please "
                             "ensure you are using a `keras.utils.custom_object_scope` "
                             "and that this object is included in the scope.")
        return obj
    return identifier


def _accepts_custom_objects(fn):
    import inspect
    try:
        return "custom_objects" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def to_snake_case(name):
    """'BatchNormalization' -> 'batch_normalization', 'Conv2D' -> 'conv2d'."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return "private" + s if s.startswith("_") else s


def object_lookup(objects, kind, base):
    """``serialize``, ``deserialize`` and ``get`` for a module of Keras objects.

    Args:
      objects: {name: class or factory} the module knows (classes and snake aliases).
      kind: what the objects are ('initializer', 'regularizer', 'constraint'), for errors.
      base: the module's base class; names and classes resolve to instances of it.
    """
    def serialize(obj):
        return serialize_keras_object(obj)

    def deserialize(config, custom_objects=None):
        return deserialize_keras_object(config, objects, custom_objects, kind)

    def get(identifier):
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            return deserialize(identifier)
        if isinstance(identifier, str):
            obj = deserialize(identifier)
            # A class named by string is instantiated; a plain function (a custom
            # initializer/regularizer/constraint found by name) is the object itself.
            return obj() if isinstance(obj, type) else obj
        if isinstance(identifier, type) and issubclass(identifier, base):
            return identifier()
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
    return serialize, deserialize, get


def function_or_class_lookup(base, classes, functions, kind, module):
    """``serialize``, ``deserialize`` and ``get`` for losses and metrics, which may be
    built-in functions (by name) or ``base`` subclasses (by name or config).

    Args:
      base: Loss or Metric.
      classes: {class name: class}; functions: {name or alias: function}.
      kind: 'loss function' / 'metric function', used in errors.
      module: 'keras.losses' / 'keras.metrics', recorded in configs.
    """
    def unknown(name):   # loading a model: Keras 2 raised ValueError, TF 2.21 TypeError
        return UnknownObjectError(
            f"Unknown {kind}: '{name}'. Please ensure you are using a "
            "`keras.utils.custom_object_scope` and that this object is included in the "
            "scope.")

    def serialize(obj):
        if isinstance(obj, base):
            cls = type(obj)
            # Keras 3 files a user's class with no module, under its registered name
            custom = not str(cls.__module__).startswith("dlframe.")
            return {"module": None if custom else module, "class_name": cls.__name__,
                    "config": obj.get_config(),
                    "registered_name": _GLOBAL_CUSTOM_NAMES.get(cls, cls.__name__)
                    if custom else None}
        return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", obj))

    def deserialize(config, custom_objects=None):
        # custom_object_scope, registered objects and custom_objects come first
        if isinstance(config, dict):
            name = config["class_name"]
            cls = (get_registered_object(config.get("registered_name") or name,
                                         custom_objects)
                   or get_registered_object(name, custom_objects) or classes.get(name))
            if cls is None:
                raise unknown(name)
            return cls.from_config(config["config"])
        found = get_registered_object(config, custom_objects)
        if found is not None:
            return found
        if config in functions:
            return functions[config]
        if config in classes:
            return classes[config]()
        raise unknown(config)

    def get(identifier):
        if identifier is None:
            return None
        if isinstance(identifier, (str, dict)):
            return deserialize(identifier)
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {kind.split()[0]} identifier: {identifier}")
    return serialize, deserialize, get
