"""SavedModel directories for any object: ``tf.saved_model.save(module, dir)``.

TensorFlow stores a ``tf.Module``'s ``tf.function`` methods as graphs. dlframe
specializes graphs per concrete shape by re-running the traced Python, so a
graph-only file could not serve ``None`` dimensions: the object is saved *by value*
with ``cloudpickle`` (its class too when it is defined in ``__main__``, so the
loading program does not need the code), and its variables beside it.

Directory layout::

    saved_object.pkl           the object graph and its signatures (cloudpickle)
    variables/variables.index  every Variable's value (NumPy ``.npz``, the
                               ``tf.train.Checkpoint`` file format and paths)
    assets/

What the pickle holds and what it does not:

* Variables are references into the variables file (their name, trainable flag,
  dtype, shape and constraint travel in the pickle, the values do not); loading
  creates them again, once each, on the default device.
* ``tf.function`` traces are dropped (see ``Function.__getstate__``): a loaded
  function traces again on its first call, with trace-time ``print`` silenced as a
  loaded TF function runs no Python; the signatures it was traced for are kept,
  and it refuses calls fitting none of them, as TF's.
* Tensors and device arrays are stored as NumPy arrays and placed on the default
  device at load; devices and gradient tapes are not stored (a tape comes back new).

Writes are atomic: the directory is built under a temporary name next to
``export_dir`` and renamed into place.
"""

import inspect
import os
import pickle
import shutil
import sys
import tempfile
import threading
import types

import cloudpickle

from dlframe import backends
from dlframe.backends.base import Device
from dlframe.core import dtypes as _dt
from dlframe.core.function import Function
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.variable import Variable
from dlframe.keras.saving import signatures as _signatures
from dlframe.train import checkpoint as _ckpt

OBJECT_FILE = "saved_object.pkl"
VARIABLES_PREFIX = os.path.join("variables", "variables")
ASSETS_DIR = "assets"
_FORMAT = ("dlframe-saved-object", 1)
_BY_VALUE_LOCK = threading.RLock()


def contains_object(export_dir):
    """True when ``export_dir`` holds an object written by ``save``."""
    return os.path.isfile(os.path.join(os.fspath(export_dir), OBJECT_FILE))


# ------------------------------------------------------------------ pickling
def _new_function(state, saved=None):
    """A Function restored from a SavedModel: it traces quietly (no trace-time print)
    and, when it was traced before saving, accepts only calls fitting those traces
    (``saved``), as TF's loaded functions."""
    fn = Function.__new__(Function)
    fn.__setstate__(state)
    fn._trace_quietly = True
    if saved is not None:
        fn._saved_signatures = saved
    return fn


def _to_default_device(array):
    """A host array put on the current device (a device array pickled by value)."""
    return backends.current_device().asarray(array)


def _public_function(module, name):
    """A dlframe function found again by its public module attribute."""
    import importlib
    return getattr(importlib.import_module(module), name)


_PUBLIC = {}


def _public_path(fn):
    """``(module, name)`` under which the dlframe function ``fn`` is a module
    attribute, when pickle cannot find it by its own name (ops made by factories,
    ``tf.math.tanh``; wrapped ops such as ``tf.nn.relu``), else None."""
    import sys
    module = getattr(fn, "__module__", None) or ""
    if module.split(".")[0] != "dlframe":
        return None
    owner = sys.modules.get(module)
    if owner is not None and getattr(owner, fn.__qualname__, None) is fn:
        return None   # pickle finds it by reference already
    if id(fn) not in _PUBLIC:
        for mod_name, mod in list(sys.modules.items()):
            if mod_name.split(".")[0] != "dlframe" or mod is None:
                continue
            for attr, value in list(vars(mod).items()):
                if callable(value) and not attr.startswith("_"):
                    _PUBLIC.setdefault(id(value), (mod_name, attr))
    return _PUBLIC.get(id(fn))


class _Pickler(cloudpickle.Pickler):
    """cloudpickle with Variables as references into the variables file.

    ``variables`` maps file key -> Variable: keys are the ``tf.train.Checkpoint``
    paths found from the root, then ``_extra/<n>`` for Variables found only while
    pickling (in a closure, say).
    """

    def __init__(self, file, paths):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.variables = {}
        self._keys = {id(v): key for key, v in paths.items()}
        self.by_value = True
        self.registered = []

    def persistent_id(self, obj):
        if getattr(type(obj), "_dlframe_asset", False):   # tf.saved_model.Asset
            return ("asset", obj._copy_into(self.assets_dir), None)
        if not isinstance(obj, Variable):
            return None
        key = self._keys.get(id(obj))
        if key is None:
            key = self._keys[id(obj)] = f"_extra/{len(self._keys)}"
        self.variables[key] = obj
        meta = {"name": obj._name, "trainable": obj._trainable, "dtype": obj.dtype.name,
                "shape": obj._shape.as_list() if obj._shape.rank is not None else None,
                "constraint": obj._constraint, "synchronization": obj._synchronization,
                "aggregation": obj._aggregation, "attributes": dict(vars(obj))}
        return ("variable", key, meta)

    def reducer_override(self, obj):
        if self.by_value and isinstance(obj, (type, types.FunctionType)):
            _register_by_value(obj, self.registered)
        if isinstance(obj, Function):
            return _new_function, (obj.__getstate__(), obj._saved_traces())
        if isinstance(obj, Device):
            return backends.current_device, ()
        if isinstance(obj, types.FunctionType):
            path = _public_path(obj)
            if path is not None:
                return _public_function, path
        if isinstance(obj, GradientTape):
            return GradientTape, (obj._persistent, obj._watch_vars)
        if isinstance(obj, Tensor) and getattr(type(obj._device), "out_of_scope", False):
            # a symbolic tensor a finished trace left in Python state (a layer's
            # ``last_attention_weights``): TF's SavedModel does not track plain
            # tensors, so it comes back as None rather than failing the save
            return _leaked_tensor, ()
        if type(obj).__module__.split(".")[0] == "cupy" and hasattr(obj, "get"):
            return _to_default_device, (obj.get(),)
        return super().reducer_override(obj)


def _leaked_tensor():
    return None


class _Unpickler(pickle.Unpickler):
    """Resolves the Pickler's variable references from the variables file."""

    def __init__(self, file, values, export_dir):
        super().__init__(file)
        self._values = values
        self._export_dir = export_dir
        self._made = {}

    def persistent_load(self, pid):
        kind, key, meta = pid
        if kind == "asset":
            from dlframe.train.asset import Asset
            return Asset(os.path.join(self._export_dir, ASSETS_DIR, key))
        if kind != "variable":
            raise pickle.UnpicklingError(f"Unknown reference {kind!r} in {OBJECT_FILE}.")
        var = self._made.get(key)
        if var is None:
            var = self._made[key] = self._variable(key, meta)
        return var

    def _variable(self, key, meta):
        if key not in self._values:
            raise ValueError(f"The SavedModel at {self._export_dir} has no value for "
                             f"variable {meta['name']!r} (key {key!r}) in its "
                             f"{VARIABLES_PREFIX} file; the directory is incomplete.")
        dtype = _dt.as_dtype(meta["dtype"])
        value = self._values[key].astype(_dt.numpy_dtype(dtype), copy=False)
        var = Variable(value, trainable=meta["trainable"], dtype=dtype,
                       constraint=meta["constraint"],
                       synchronization=meta["synchronization"],
                       aggregation=meta["aggregation"],
                       shape=TensorShape(meta["shape"]))
        var._name = meta["name"]    # as saved, whatever name scope is active now
        vars(var).update(meta["attributes"])
        return var


def _user_module(name):
    """Whether classes of module ``name`` belong to the user's code (not dlframe,
    the standard library or an installed package), so a loading process may lack
    them; ``__main__`` is pickled by value by cloudpickle already."""
    top = (name or "").split(".")[0]
    if top in ("", "__main__", "dlframe", "builtins") or \
            top in getattr(sys, "stdlib_module_names", ()):
        return False
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None) or ""
    return module is not None and bool(path) and not any(
        part in path for part in ("site-packages", "dist-packages"))


def _register_by_value(obj, registered):
    """Makes cloudpickle store the module of a user class or function by value (its
    classes and functions travel in the file, as TensorFlow's SavedModel needs no
    Python code); modules the user registered already are left to the user."""
    name = obj.__module__
    if name in registered or not _user_module(name) or \
            name in cloudpickle.list_registry_pickle_by_value():
        return
    cloudpickle.register_pickle_by_value(sys.modules[name])
    registered.append(name)


def _dump(payload, paths, file, assets_dir=None):
    with _BY_VALUE_LOCK:   # cloudpickle's by-value registry is process-wide
        return _dump_locked(payload, paths, file, assets_dir)


def _dump_locked(payload, paths, file, assets_dir):
    start = file.tell()
    error = None
    for by_value in (True, False):   # by reference when some user code cannot be
        pickler = _Pickler(file, paths)
        pickler.assets_dir = assets_dir
        pickler.by_value = by_value
        try:
            pickler.dump(payload)
            return pickler.variables
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            error = err
        finally:
            for name in pickler.registered:
                cloudpickle.unregister_pickle_by_value(sys.modules[name])
        file.seek(start)
        file.truncate()
    where = _unpicklable_path(payload["root"], paths)
    raise ValueError(
        f"tf.saved_model.save cannot store {where or 'the object'}: {error}. Keep "
        "such values (open files, locks, generators...) out of the saved object, "
        "or create them again after loading.") from error


def _unpicklable_path(root, paths, depth=6):
    """The attribute path (``obj.layer.cache``) of the first value that fails to
    pickle, for the error message; None when none is found."""
    def fails(value):
        try:
            pickler = _Pickler(_Null(), paths)
            pickler.by_value = False
            pickler.dump(value)
            return False
        except Exception:  # noqa: BLE001 - any failure marks the culprit
            return True

    def children(value):
        if isinstance(value, dict):
            return [(f"[{k!r}]", v) for k, v in value.items()]
        if isinstance(value, (list, tuple)):
            return [(f"[{i}]", v) for i, v in enumerate(value)]
        return [(f".{k}", v) for k, v in getattr(value, "__dict__", {}).items()]

    path, value = "object", root
    for _ in range(depth):
        bad = next(((p, v) for p, v in children(value) if fails(v)), None)
        if bad is None:
            break
        path, value = path + bad[0], bad[1]
    return None if path == "object" else f"{path} ({type(value).__name__})"


class _Null:
    def write(self, data):
        return len(data)


def _method_owners(root):
    """``(obj, names of its class's tf.function methods)`` for every object
    reachable from ``root``."""
    seen, stack = set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, Function, Tensor, Device,
                                               types.ModuleType)):
            continue   # (a Device holds its array module: never walk into modules)
        seen.add(id(obj))
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not callable(getattr(obj, "__func__", None)):
            yield obj, _signatures.class_functions(type(obj))
            stack.extend(vars(obj).values())


def _quiet_methods(root):
    """Marks the ``tf.function`` methods of every object reachable from the loaded
    ``root`` quiet, bound to it. Needed where the saved class is still importable (the
    saving process gets its own class back, whose functions were not unpickled)."""
    for obj, names in _method_owners(root):
        for name in names:
            getattr(obj, name)._trace_quietly = True


def _method_traces(root):
    """``[(obj, method name, saved signatures)]`` of the tf.function methods traced
    on objects reachable from ``root`` (their traces live on the bound Function)."""
    found = []
    for obj, names in _method_owners(root):
        for name in names:
            try:
                bound = inspect.getattr_static(type(obj), name)._instances.get(obj)
            except TypeError:   # not weakly referable: nothing bound was kept
                bound = None
            saved = bound._saved_traces() if bound is not None else None
            if saved is not None:
                found.append((obj, name, saved))
    return found


# ------------------------------------------------------------------ files
def _commit(tmp, export_dir):
    """Moves the finished directory ``tmp`` to ``export_dir``: a rename when the
    target is missing or empty, else entry by entry (the object file last)."""
    if os.path.isdir(export_dir) and not os.listdir(export_dir):
        os.rmdir(export_dir)
    if not os.path.exists(export_dir):
        os.rename(tmp, export_dir)
        return
    from dlframe.keras.saving import saved_model_io
    for stale in saved_model_io.MODEL_FILES:   # an older Keras save in the same dir
        path = os.path.join(export_dir, stale)
        if os.path.isfile(path):
            os.remove(path)
    for name in ("variables", ASSETS_DIR, OBJECT_FILE):
        src, dst = os.path.join(tmp, name), os.path.join(export_dir, name)
        if os.path.isdir(dst):
            trash = tempfile.mkdtemp(dir=export_dir, prefix=".old-")
            os.rename(dst, os.path.join(trash, name))
            os.rename(src, dst)
            shutil.rmtree(trash)
        else:
            os.replace(src, dst)
    shutil.rmtree(tmp)


def save(obj, export_dir, signatures=None):
    """Writes ``obj`` (a ``tf.Module``, Keras model or other object) and its
    variables as a SavedModel directory; see the module doc for the layout.

    Args:
      obj: the object to save.
      export_dir: the directory to write (created if needed; files of an earlier
        save there are replaced).
      signatures: None, a ``tf.function`` with an input signature, a
        ConcreteFunction, or a dict of them (see ``signatures``).

    Raises:
      ValueError: ``obj`` is not an object (a number, string or container), a
        signature is not a function with an input signature, or part of ``obj``
        cannot be pickled (the message names the attribute).
    """
    if type(obj).__module__ == "builtins":
        raise ValueError(
            "Expected an object of type `Trackable`, such as `tf.Module` or a subclass "
            f"of the `Trackable` class, for export. Got {obj!r} with type {type(obj)}.")
    export_dir = os.path.abspath(os.fspath(export_dir))
    if os.path.isfile(export_dir):
        raise FileExistsError(f"Cannot save a SavedModel directory at {export_dir}: a "
                              "file with that name exists.")
    sigs = _signatures.canonicalize(obj, signatures)
    paths, _ = _ckpt._walk(obj)
    parent = os.path.dirname(export_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(export_dir)}.tmp-")
    try:
        os.makedirs(os.path.join(tmp, ASSETS_DIR))
        with open(os.path.join(tmp, OBJECT_FILE), "wb") as f:
            variables = _dump({"format": _FORMAT, "root": obj, "signatures": sigs,
                               "traced": _method_traces(obj)},
                              paths, f, os.path.join(tmp, ASSETS_DIR))
        _ckpt._write_file(os.path.join(tmp, VARIABLES_PREFIX),
                          {key: _ckpt._to_host(v) for key, v in variables.items()})
        _commit(tmp, export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load(export_dir):
    """The object ``save`` wrote to ``export_dir``, with a ``signatures`` mapping.

    Loading runs code stored in the directory (the pickled object and its class):
    load SavedModels from trusted sources only, as TensorFlow's docs warn.
    """
    export_dir = os.fspath(export_dir)
    values = _ckpt._read_file(os.path.join(export_dir, VARIABLES_PREFIX))
    with open(os.path.join(export_dir, OBJECT_FILE), "rb") as f:
        payload = _Unpickler(f, values, export_dir).load()
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(f"{export_dir}/{OBJECT_FILE} was not written by dlframe's "
                         f"tf.saved_model.save (format {_FORMAT}).")
    root = payload["root"]
    _quiet_methods(root)
    for obj, name, saved in payload.get("traced", ()):
        getattr(obj, name)._saved_signatures = saved
    try:
        object.__setattr__(root, "signatures", dict(payload["signatures"]))
    except (AttributeError, TypeError):
        pass  # an object without a __dict__ keeps no signatures
    return root
