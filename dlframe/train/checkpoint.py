"""``tf.train.Checkpoint``, ``CheckpointManager`` and ``latest_checkpoint``.

A checkpoint holds the values of every Variable reachable from the objects given to
``Checkpoint(**objects)``, each under a stable object-graph path:

* a Variable given directly is stored under its keyword (``'step'``);
* a Keras layer/model stores its own weights by short name; a Functional or
  Sequential model names its child layers ``layer_with_weights-<k>`` (children that
  own weights, in tracking order), e.g. ``'model/layer_with_weights-0/kernel'``, and
  any other layer after the attribute holding them (``'net/l1/kernel'``, lists as
  ``'net/blocks/0/kernel'``), as Keras 2 does; the other spelling is an alias.
  Variables assigned as attributes use the attribute name;
* an optimizer stores its ``variables`` by position (``'optimizer/variables/0'`` is
  ``iterations``); slots of an optimizer that is not built yet when ``restore`` runs are
  kept and assigned when it builds (deferred restoration); a compiled model also
  reaches its optimizer (``'model/optimizer/variables/0'``), as in Keras;
* ``restore`` also accepts Keras 3's spellings (TF 2.16+ checkpoints):
  ``_operations/<i>`` / ``_functional/_operations/<i>`` layers, ``_kernel``-style
  private attributes, ``optimizer/_variables/<i>``, ``_iterations``; and ``write``
  puts them in the file's object graph as further edges to the same nodes, so
  TensorFlow 2.21 (which matches objects along the graph's edges, not by key)
  restores dlframe's checkpoints;
* any other object (``tf.Module``-like) is walked through its attributes, lists and dicts;
  Variables in its ``.variables`` not reached that way are stored by position;
* ``'save_counter'`` is the Checkpoint's own counter, stored once it exists:
  ``save`` and ``restore`` create it, ``write`` and ``read`` do not (so, as in TF,
  ``restore`` of a written file or ``read`` of a saved one leaves it unmatched).

A variable reachable along several paths is stored once, under the path found first
(breadth first); ``restore`` also accepts a value saved under any other path of the
same variable (its aliases). Values for layers not built yet when ``restore`` runs
are kept and assigned when the layer builds, and likewise for an optimizer's slots
(delayed restoration).

Files: ``save``/``write`` write TensorFlow's layout, ``<prefix>.index`` naming the
variables and ``<prefix>.data-00000-of-00001`` holding their bytes (``checkpoint_io``);
the ``checkpoint`` state file is the text format TensorFlow writes
(``checkpoint_state``). Readers live in ``checkpoint_reader``, the manager in
``checkpoint_manager``; their names are re-exported here.
"""

import os
import types

from dlframe import errors
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.core.variable import Variable
from dlframe.train.checkpoint_graph import (
    _children,
    _keras3_order,
    _walk,
    walk_graph,
)
from dlframe.train.checkpoint_io import (  # noqa: F401 - re-exported
    _assign,
    _data_path,
    _read_file,
    _to_host,
    _write_file,
    checkpoint_exists,
)
from dlframe.train.checkpoint_manager import CheckpointManager  # noqa: F401
from dlframe.train.checkpoint_reader import (  # noqa: F401 - re-exported
    CheckpointReader,
    list_variables,
    load_checkpoint,
    load_variable,
)
from dlframe.train.checkpoint_state import (  # noqa: F401 - re-exported
    CheckpointState,
    get_checkpoint_state,
    latest_checkpoint,
    update_checkpoint_state,
)


# ------------------------------------------------------------------ load status
def _join(prefix, path):
    """``path`` below the object path ``prefix`` ('' is the root)."""
    if not prefix:
        return path
    return f"{prefix}/{path}" if path else prefix


class CheckpointLoadStatus:
    """What ``Checkpoint.restore`` matched; its ``assert_*`` methods check the match."""

    def __init__(self, checkpoint, save_path, values, aliases=None):
        self._checkpoint = checkpoint
        self.save_path = save_path
        self._unused = dict(values)
        # a value stored once but reachable along several edges of the saved
        # object graph matches under any of them and is consumed as one
        self._group = {path: [path] for path in values}
        for alias, path in (aliases or {}).items():
            if path in values and alias not in self._unused:
                self._unused[alias] = values[path]
                self._group[alias] = self._group[path]
                self._group[path].append(alias)
        self._restored = set()
        self._deferred = {}
        self._hooked = set()
        self._building = 0
        self._module_hooks = []
        graph, _ = self._match()
        for path, opt in graph.optimizers:
            pending = {}
            for prefix in [p + e for p in graph.object_paths_of(path)
                           for e in ("/variables/", "/_variables/")]:  # Keras 3's too
                for key in [k for k in self._unused if k.startswith(prefix)]:
                    index = key[len(prefix):]
                    if index.isdigit() and int(index) not in pending:
                        pending[int(index)] = (key, self._consume(key))
            # (values under ``_trainable_variables/<i>`` of an optimizer built after
            # ``restore`` stay unmatched, as TF 2.21 leaves them)
            if pending:
                self._defer(opt, pending)

    def _match(self, scope=None):
        """Assigns saved values to the variables that exist now, by any of their paths;
        layers not built yet restore theirs when they build (delayed restoration).

        ``scope`` ``(layer, [its paths])`` walks only that layer's objects, whose
        paths are then relative to each of its own (a layer that just built).
        Returns the Graph walked and whether each of its variables is restored."""
        root, prefixes = scope or (self._checkpoint, [""])
        graph = walk_graph(root)
        complete = True
        for path, var in graph.variables.items():
            if id(var) in self._restored:
                continue
            complete = False
            for key in (_join(prefix, p) for p in graph.paths_of(path, var)
                        for prefix in prefixes):
                if key in self._unused:
                    _assign(var, self._consume(key), key)
                    self._restored.add(id(var))
                    complete = True
                    break
        if self._unused:
            for path, layer in graph.layer_items:
                if not getattr(layer, "built", True) and id(layer) not in self._hooked:
                    self._restore_on_build(layer, [
                        _join(prefix, p) for p in graph.object_paths_of(path)
                        for prefix in prefixes])
            for module in graph.modules:
                if id(module) not in self._hooked:
                    self._restore_on_assign(module)
        elif scope is None:
            for module, hook in self._module_hooks:   # nothing left to restore
                hooks = module.__dict__.get("_module_restore_hooks", [])
                if hook in hooks:
                    hooks.remove(hook)
            self._module_hooks = []
        return graph, complete

    def _consume(self, key):
        """Pops the saved value under ``key`` and under its other paths."""
        value = self._unused.pop(key)
        for other in self._group.get(key, ()):
            self._unused.pop(other, None)
        return value

    def _restore_on_assign(self, module):
        """Matches the remaining saved values again whenever ``module`` gets a new
        attribute (a Variable created after ``restore``), until none remain."""
        self._hooked.add(id(module))
        status = self

        def hook():
            status._match()
        module.__dict__.setdefault("_module_restore_hooks", []).append(hook)
        self._module_hooks.append((module, hook))

    def _restore_on_build(self, layer, paths):
        """Matches the remaining saved values again right after ``layer.build``: first
        inside the layer (under its ``paths``), then, if some of its variables found
        no value that way, across the whole object graph."""
        self._hooked.add(id(layer))
        original = layer.build
        status = self

        def build(*args, **kwargs):
            layer.__dict__.pop("build", None)
            status._hooked.discard(id(layer))
            # a model's build builds its layers: one match once the outermost
            # build returns, not one walk of the whole graph per layer
            status._building += 1
            try:
                result = original(*args, **kwargs)
            finally:
                status._building -= 1
            if not status._building and status._unused:
                if not status._match((layer, paths))[1]:
                    status._match()
            return result
        layer.__dict__["build"] = build

    def _defer(self, optimizer, pending):
        """Assigns saved slot values once ``optimizer.build`` creates the slots."""
        self._deferred.update({key: value for key, value in pending.values()})
        original = optimizer.build
        status = self

        def build(var_list):
            result = original(var_list)
            # Keras 3's ``_variables/<i>`` count in its own order (slot passes)
            orders = {False: optimizer.variables, True: _keras3_order(optimizer)}
            for index in sorted(pending):
                key = pending[index][0]
                variables = orders[key.rsplit("/", 2)[-2] == "_variables"]
                if index < len(variables):
                    key, value = pending.pop(index)
                    _assign(variables[index], value, key)
                    status._restored.add(id(variables[index]))
                    status._deferred.pop(key, None)
            if not pending:
                optimizer.__dict__.pop("build", None)
            return result
        optimizer.build = build

    def _unmatched_variables(self):
        current, _ = _walk(self._checkpoint)
        return [p for p, v in current.items() if id(v) not in self._restored]

    def assert_consumed(self):
        """Raises AssertionError unless every saved value and every variable matched."""
        # each saved value once, under its primary path (not its aliases)
        unused = sorted({self._group.get(k, [k])[0]
                         for k in set(self._unused) | set(self._deferred)})
        if unused:
            raise AssertionError(
                f"Unresolved object in checkpoint {self.save_path}: values for {unused} "
                "were not restored into any object.")
        missing = self._unmatched_variables()
        if missing:
            raise AssertionError(
                f"Some objects had attributes which were not restored: {missing}")
        return self

    def assert_existing_objects_matched(self):
        """Raises AssertionError if a variable that exists now got no saved value."""
        missing = self._unmatched_variables()
        if missing:
            raise AssertionError(
                f"Some objects had attributes which were not restored: {missing}")
        return self

    def assert_nontrivial_match(self):
        """Raises AssertionError if nothing but the save counter was restored."""
        counter = self._checkpoint._save_counter
        if not (self._restored - {id(counter)}):
            raise AssertionError(f"Nothing except the root object matched a checkpointed "
                                 f"value in {self.save_path}.")
        return self

    def expect_partial(self):
        """Marks the restore as intentionally partial; returns self."""
        return self

    def run_restore_ops(self, session=None):
        """No-op: restoration happens eagerly in ``restore``."""

    def initialize_or_restore(self, session=None):
        """No-op: restoration happens eagerly in ``restore``."""


class InitializationOnlyStatus(CheckpointLoadStatus):
    """The status of ``restore(None)``: nothing is restored, variables keep their values."""

    def __init__(self, checkpoint):
        super().__init__(checkpoint, None, {})

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being "
                             "restored.")

    assert_existing_objects_matched = assert_consumed
    assert_nontrivial_match = assert_consumed

    def run_restore_ops(self, session=None):
        raise AssertionError("No checkpoint specified, so no restore ops are available "
                             "(save_path=None to Saver.restore).")


# ------------------------------------------------------------------ Checkpoint
class CheckpointOptions:
    """Options for ``save``/``restore`` (kept for API compatibility)."""

    def __init__(self, experimental_io_device=None, experimental_enable_async_checkpoint=False,
                 experimental_write_callbacks=None, enable_async=False, **kwargs):
        self.experimental_io_device = experimental_io_device
        self.enable_async = enable_async or experimental_enable_async_checkpoint


def _is_trackable(value):
    """False for values TF refuses as checkpoint dependencies: None, plain Python
    scalars and strings, constant tensors and arrays, functions, bare ``object()``."""
    if isinstance(value, Variable):
        return True
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return False
    if isinstance(value, Tensor) or hasattr(value, "__array_interface__") or \
            hasattr(value, "__cuda_array_interface__"):   # NumPy or CuPy arrays
        return False
    return not (callable(value) and isinstance(value, _FUNCTION_TYPES)) and \
        type(value) is not object


def _check_trackable(key, value):
    if not _is_trackable(value):
        raise ValueError(f"`Checkpoint` was expecting {key} to be a trackable object (an "
                         f"object derived from `Trackable`), got {value!r}. If you "
                         "believe this object should be trackable (i.e. it is part of "
                         "the TensorFlow Python API and manages state), please open an "
                         "issue.")


_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)


class ListWrapper(list):
    """A list held by a Checkpoint: a Variable appended or set into it after
    ``restore`` takes its saved value then (TF's delayed restoration of lists)."""

    def __init__(self, values=(), on_change=None):
        super().__init__(values)
        self._on_change = on_change

    def _changed(self, result=None):
        if self._on_change is not None:
            self._on_change()
        return result

    def append(self, value):
        return self._changed(super().append(value))

    def extend(self, values):
        return self._changed(super().extend(values))

    def insert(self, index, value):
        return self._changed(super().insert(index, value))

    def __setitem__(self, index, value):
        return self._changed(super().__setitem__(index, value))

    def __iadd__(self, values):
        super().__iadd__(values)
        return self._changed(self)

    def __repr__(self):
        return f"ListWrapper({list(self)!r})"


class Checkpoint:
    """Saves and restores the Variables reachable from the given objects.

    Args:
      root: optional object whose dependencies become top-level entries.
      **kwargs: objects to track (Variables, Keras models/layers, optimizers,
        tf.Module-like objects, other Checkpoints), each under its keyword.

    Raises:
      ValueError: a keyword's value is not trackable (None, a number or string, a
        constant tensor or array, a function), as TF refuses it.
    """

    _dlframe_checkpoint = True   # recognised by checkpoint_graph without an import

    def __init__(self, root=None, **kwargs):
        objects = {}
        if root is not None:
            _check_trackable("root", root)
            objects.update(_children(root))
        for key, value in kwargs.items():
            _check_trackable(key, value)
            objects[key] = value
        object.__setattr__(self, "_objects", objects)
        object.__setattr__(self, "_save_counter", None)
        object.__setattr__(self, "_pending_status", None)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if type(value) is list:
            value = ListWrapper(value, self._rematch)
        self._objects[name] = value
        self._rematch()

    def _rematch(self):
        """Assigns values a pending restore still holds to objects added since."""
        status = self._pending_status
        if status is not None and status._unused:
            status._match()

    def __getattr__(self, name):
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")

    @property
    def save_counter(self):
        """An int64 Variable counting ``save`` calls (created on first use).

        Created by ``save``, ``restore`` or reading this property; a value that
        ``read`` found for it before it existed is assigned when it is created."""
        if self._save_counter is None:
            object.__setattr__(self, "_save_counter", Variable(
                0, dtype=_dt.int64, trainable=False, name="save_counter"))
            self._objects["save_counter"] = self._save_counter
            status = self._pending_status
            if status is not None and "save_counter" in status._unused:
                status._match()
        return self._save_counter

    def _values(self):
        """({path: host array}, {alias path: path}, {path: variable name}) of the
        variables reachable."""
        graph = walk_graph(self)
        for var in graph.variables.values():
            before = var.__dict__.get("_before_save")   # a PythonState's serialize
            if before is not None:
                before()
        aliases = {alias: path for path, var in graph.variables.items()
                   for alias in graph._var_aliases.get(id(var), [])}
        # the edges other frameworks' versions name the same objects by (Keras 3's
        # ``_functional/_operations/<i>``, Keras 2's ``layer_with_weights-<k>``), so
        # TensorFlow's object-graph matching finds them whichever it runs
        aliases.update({alias: primary for primary, alias in graph._object_aliases})
        aliases.update(graph.private_aliases())
        for opt_path, _ in graph.optimizers:   # e.g. a compiled model's optimizer
            for alias in graph.object_paths_of(opt_path)[1:]:
                aliases.update({alias + path[len(opt_path):]: path
                                for path in graph.variables
                                if path.startswith(opt_path + "/")})
        return ({path: _to_host(var) for path, var in graph.variables.items()},
                aliases, {path: var.name for path, var in graph.variables.items()})

    def write(self, file_prefix, options=None):
        """Writes a checkpoint at ``file_prefix`` and returns it.

        Unlike ``save`` it neither creates nor increments ``save_counter`` (the file
        holds the counter only if it already exists) nor updates the state file."""
        file_prefix = os.fspath(file_prefix)
        _write_file(file_prefix, *self._values())
        return file_prefix

    def save(self, file_prefix, options=None):
        """Increments ``save_counter``, writes ``<file_prefix>-<counter>`` and records it
        in the directory's ``checkpoint`` state file; returns the path written."""
        file_prefix = os.fspath(file_prefix)
        self.save_counter.assign_add(1)
        path = self.write(f"{file_prefix}-{int(self.save_counter.numpy())}", options)
        directory = os.path.dirname(os.path.abspath(path))
        update_checkpoint_state(directory, path, [path])
        return path

    def restore(self, save_path, options=None):
        """Restores values saved by ``save``/``write`` (a prefix); ``None`` does nothing.

        Returns:
          a load status with ``assert_consumed``, ``assert_existing_objects_matched``,
          ``assert_nontrivial_match`` and ``expect_partial``.
        """
        if save_path is None:
            return InitializationOnlyStatus(self)
        self.save_counter  # noqa: B018 - restored along with everything else
        return self._load(save_path)

    def read(self, save_path, options=None):
        """Restores a checkpoint written by ``write``; same status as ``restore``.

        Unlike ``restore`` it does not create ``save_counter``, so for a file written
        by ``save`` the saved counter stays unmatched (``assert_consumed`` raises)
        until the counter is created; ``restore`` of a file written by ``write``
        leaves the counter unmatched (``assert_existing_objects_matched`` raises)."""
        return self._load(save_path)

    def _load(self, save_path):
        save_path = os.fspath(save_path)
        try:
            values = _read_file(save_path, with_aliases=True)
        except errors.NotFoundError as e:
            raise errors.NotFoundError(
                None, None, f"Error when restoring from checkpoint or SavedModel at "
                f"{save_path}: {e.message}") from None
        status = CheckpointLoadStatus(self, save_path, *values)
        object.__setattr__(self, "_pending_status", status)
        return status

    def sync(self):
        """No-op: writes are synchronous."""
