"""``tf.train.Checkpoint``, ``CheckpointManager`` and ``latest_checkpoint``.

A checkpoint holds the values of every Variable reachable from the objects given to
``Checkpoint(**objects)``, each under a stable object-graph path:

* a Variable given directly is stored under its keyword (``'step'``);
* a Keras layer/model stores its own weights by short name and its child layers as
  ``layer_with_weights-<k>`` (children that own weights, in tracking order), e.g.
  ``'model/layer_with_weights-0/kernel'``; Variables assigned as attributes use the
  attribute name;
* an optimizer stores its ``variables`` by position (``'optimizer/variables/0'`` is
  ``iterations``); slots of an optimizer that is not built yet when ``restore`` runs are
  kept and assigned when it builds (deferred restoration);
* any other object (``tf.Module``-like) is walked through its attributes, lists and dicts;
  Variables in its ``.variables`` not reached that way are stored by position;
* ``'save_counter'`` is the Checkpoint's own counter.

A variable reachable along several paths is stored once, under the path found first
(breadth first). Model layers must exist (be built) when ``restore`` runs; deferred
restoration covers optimizer slots only.

Files: ``save``/``write`` write one NumPy ``.npz`` archive at ``<prefix>.index`` (the
name TensorFlow's index file has, so ``os.path.exists(path + '.index')`` checks keep
working), through a temporary file and ``os.replace``. The ``checkpoint`` state file is
the text format TensorFlow writes.
"""

import os
import re
import tempfile
import time

from dlframe import errors
from dlframe.backends.base import np  # host arrays for file I/O
from dlframe.core import dtypes as _dt
from dlframe.core.variable import Variable

_SUFFIX = ".index"
_STATE_FILE = "checkpoint"


# ------------------------------------------------------------------ object graph
def _is_variable(obj):
    return isinstance(obj, Variable)


def _is_optimizer(obj):
    return hasattr(obj, "apply_gradients") and hasattr(obj, "variables")


def _is_layer(obj):
    return hasattr(obj, "_direct_children") and hasattr(obj, "_trainable_weights")


def _has_state(obj):
    if isinstance(obj, (Variable, Checkpoint)):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_has_state(v) for v in obj)
    if isinstance(obj, dict):
        return any(_has_state(v) for v in obj.values())
    return (_is_layer(obj) or _is_optimizer(obj)
            or hasattr(type(obj), "variables") or hasattr(type(obj), "weights"))


def _short_name(var):
    name = var.name.split(":")[0]
    return name.rsplit("/", 1)[-1]


def _fallback(obj):
    """Positional edges for Variables an object lists in ``.variables``/``.weights``."""
    if isinstance(obj, (Checkpoint, list, tuple, dict)) or _is_optimizer(obj) \
            or _is_layer(obj):
        return []
    for attr in ("variables", "weights"):
        try:
            listed = getattr(obj, attr)
        except (AttributeError, ValueError, RuntimeError):  # not readable yet
            continue
        if isinstance(listed, (list, tuple)):
            return [(f"{attr}/{i}", v) for i, v in enumerate(listed) if _is_variable(v)]
    return []


def _children(obj):
    """(edge name, child) pairs of one node of the object graph, in a stable order."""
    if isinstance(obj, Checkpoint):
        return list(obj._objects.items())
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj) if _has_state(v)]
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items() if _has_state(v)]
    if _is_optimizer(obj):
        return [(f"variables/{i}", v) for i, v in enumerate(obj.variables)]
    out = []
    if _is_layer(obj):
        used = set()
        for var in list(obj._trainable_weights) + list(obj._non_trainable_weights):
            name = _short_name(var)
            if name in used:
                name = f"{name}_{len(used)}"
            used.add(name)
            out.append((name, var))
        for key, value in vars(obj).items():
            if _is_variable(value) and key not in used:
                out.append((key.lstrip("_") or key, value))
        k = 0
        for child in obj._direct_children():
            if child.weights:
                out.append((f"layer_with_weights-{k}", child))
                k += 1
        return out
    for key, value in getattr(obj, "__dict__", {}).items():
        if not key.startswith("__") and _has_state(value):
            out.append((key, value))
    return out


def _walk(root):
    """{path: Variable} and [(path, optimizer)] reachable from ``root`` (BFS)."""
    variables, optimizers, fallbacks = {}, [], []
    seen_vars, seen_objs = set(), {id(root)}
    queue = [("", root)]
    while queue:
        nxt = []
        for path, obj in queue:
            if _is_optimizer(obj) and path:
                optimizers.append((path, obj))
            fallbacks.extend((path, edge, v) for edge, v in _fallback(obj))
            for edge, child in _children(obj):
                cpath = f"{path}/{edge}" if path else edge
                if _is_variable(child):
                    if id(child) not in seen_vars:
                        seen_vars.add(id(child))
                        variables[cpath] = child
                elif id(child) not in seen_objs:
                    seen_objs.add(id(child))
                    nxt.append((cpath, child))
        queue = nxt
    # Variables only an object's ``.variables`` lists come last, so a structured path
    # found anywhere in the graph wins over a positional one.
    for path, edge, var in fallbacks:
        if id(var) not in seen_vars:
            seen_vars.add(id(var))
            variables[f"{path}/{edge}" if path else edge] = var
    return variables, optimizers


# ------------------------------------------------------------------ file I/O
def _to_host(var):
    arr = np.asarray(var.numpy())
    if arr.dtype.kind == "V" or var.dtype.name == "bfloat16":
        arr = arr.astype(np.float32)  # .npz keeps only NumPy's own dtypes
    return arr


def _data_path(prefix):
    return os.fspath(prefix) + _SUFFIX


def _write_file(prefix, arrays):
    path = _data_path(prefix)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read_file(prefix):
    prefix = os.fspath(prefix)
    path = _data_path(prefix)
    if not os.path.isfile(path):
        if os.path.isdir(prefix):
            raise errors.NotFoundError(
                f"Failed to restore from checkpoint {prefix!r}: it is a directory; pass a "
                "checkpoint prefix, e.g. tf.train.latest_checkpoint(directory).")
        raise errors.NotFoundError(
            f"Unsuccessful TensorSliceReader constructor: Failed to find any matching "
            f"files for {prefix}")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _assign(var, value, path):
    if tuple(value.shape) != tuple(var.shape):
        raise ValueError(
            f"Received incompatible tensor with shape {tuple(value.shape)} when attempting "
            f"to restore variable with shape {tuple(var.shape)} and name {path}.")
    var.assign(value.astype(_dt.numpy_dtype(var.dtype), copy=False))


# ------------------------------------------------------------------ load status
class CheckpointLoadStatus:
    """What ``Checkpoint.restore`` matched; its ``assert_*`` methods check the match."""

    def __init__(self, checkpoint, save_path, values):
        self._checkpoint = checkpoint
        self.save_path = save_path
        self._unused = dict(values)
        self._restored = set()
        self._deferred = {}
        current, optimizers = _walk(checkpoint)
        for path, var in current.items():
            if path in self._unused:
                _assign(var, self._unused.pop(path), path)
                self._restored.add(id(var))
        for path, opt in optimizers:
            pending = {}
            for key in [k for k in self._unused if k.startswith(path + "/variables/")]:
                index = key[len(path) + len("/variables/"):]
                if index.isdigit():
                    pending[int(index)] = (key, self._unused.pop(key))
            if pending:
                self._defer(opt, pending)

    def _defer(self, optimizer, pending):
        """Assigns saved slot values once ``optimizer.build`` creates the slots."""
        self._deferred.update({key: value for key, value in pending.values()})
        original = optimizer.build
        status = self

        def build(var_list):
            result = original(var_list)
            variables = optimizer.variables
            for index in sorted(pending):
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
        unused = sorted(set(self._unused) | set(self._deferred))
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


# ------------------------------------------------------------------ Checkpoint
class CheckpointOptions:
    """Options for ``save``/``restore`` (kept for API compatibility)."""

    def __init__(self, experimental_io_device=None, experimental_enable_async_checkpoint=False,
                 experimental_write_callbacks=None, enable_async=False, **kwargs):
        self.experimental_io_device = experimental_io_device
        self.enable_async = enable_async or experimental_enable_async_checkpoint


class Checkpoint:
    """Saves and restores the Variables reachable from the given objects.

    Args:
      root: optional object whose dependencies become top-level entries.
      **kwargs: objects to track (Variables, Keras models/layers, optimizers,
        tf.Module-like objects, other Checkpoints), each under its keyword.
    """

    def __init__(self, root=None, **kwargs):
        objects = {}
        if root is not None:
            objects.update(_children(root))
        for key, value in kwargs.items():
            if value is None:
                raise ValueError(f"`Checkpoint` was expecting a trackable object (an "
                                 f"object derived from `Trackable`), got None for {key}.")
            objects[key] = value
        object.__setattr__(self, "_objects", objects)
        object.__setattr__(self, "_save_counter", None)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._objects[name] = value

    def __getattr__(self, name):
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")

    @property
    def save_counter(self):
        """An int64 Variable counting ``save`` calls (created on first use)."""
        if self._save_counter is None:
            object.__setattr__(self, "_save_counter", Variable(
                0, dtype=_dt.int64, trainable=False, name="save_counter"))
            self._objects["save_counter"] = self._save_counter
        return self._save_counter

    def _values(self):
        self.save_counter  # noqa: B018 - created so it is part of every file
        current, _ = _walk(self)
        return {path: _to_host(var) for path, var in current.items()}

    def write(self, file_prefix, options=None):
        """Writes a checkpoint at ``file_prefix`` (no counter, no state file); returns it."""
        file_prefix = os.fspath(file_prefix)
        _write_file(file_prefix, self._values())
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
        return CheckpointLoadStatus(self, os.fspath(save_path),
                                    _read_file(save_path))

    def read(self, save_path, options=None):
        """Restores a checkpoint written by ``write``; same status as ``restore``."""
        return self.restore(save_path, options)

    def sync(self):
        """No-op: writes are synchronous."""


# ------------------------------------------------------------------ state file
def _quote(path):
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _relative(directory, path):
    path = os.fspath(path)
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory):
        return os.path.basename(path)
    return path


def update_checkpoint_state(save_dir, model_checkpoint_path,
                            all_model_checkpoint_paths=None, latest_filename=None,
                            all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    """Writes the ``checkpoint`` state file (TensorFlow's text format) in ``save_dir``."""
    paths = list(all_model_checkpoint_paths or [])
    if model_checkpoint_path not in paths:
        paths.append(model_checkpoint_path)
    lines = [f"model_checkpoint_path: {_quote(_relative(save_dir, model_checkpoint_path))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(_relative(save_dir, p))}"
              for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}"
              for t in all_model_checkpoint_timestamps or []]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved_timestamp!r}")
    os.makedirs(save_dir, exist_ok=True)
    target = os.path.join(save_dir, latest_filename or _STATE_FILE)
    fd, tmp = tempfile.mkstemp(dir=save_dir, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, target)


class CheckpointState:
    """The parsed ``checkpoint`` state file (absolute paths)."""

    def __init__(self, model_checkpoint_path, all_model_checkpoint_paths,
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp=0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        return (f"model_checkpoint_path: {self.model_checkpoint_path!r}\n"
                f"all_model_checkpoint_paths: {self.all_model_checkpoint_paths!r}")


_LINE = re.compile(r'^\s*(\w+)\s*:\s*(.*?)\s*$')


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState recorded in ``checkpoint_dir``, or None if there is none."""
    path = os.path.join(os.fspath(checkpoint_dir), latest_filename or _STATE_FILE)
    if not os.path.isfile(path):
        return None
    fields = {"model_checkpoint_path": [], "all_model_checkpoint_paths": [],
              "all_model_checkpoint_timestamps": [], "last_preserved_timestamp": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = _LINE.match(line)
            if not m or m.group(1) not in fields:
                continue
            raw = m.group(2)
            if raw.startswith('"'):
                value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            else:
                value = float(raw)
            fields[m.group(1)].append(value)
    if not fields["model_checkpoint_path"]:
        return None

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(os.fspath(checkpoint_dir), p)
    last = fields["last_preserved_timestamp"]
    return CheckpointState(absolute(fields["model_checkpoint_path"][-1]),
                           [absolute(p) for p in fields["all_model_checkpoint_paths"]],
                           fields["all_model_checkpoint_timestamps"],
                           last[-1] if last else 0.0)


def checkpoint_exists(prefix):
    return os.path.isfile(_data_path(prefix))


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint recorded in ``checkpoint_dir``, or None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not checkpoint_exists(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path


# ------------------------------------------------------------------ readers
_ATTRIBUTE = "/.ATTRIBUTES/VARIABLE_VALUE"


def _tf_key(path):
    """A stored object-graph path as TensorFlow names the checkpoint key."""
    return path + _ATTRIBUTE


class CheckpointReader:
    """Reads the values of a checkpoint by key (``tf.train.load_checkpoint``).

    Keys are TensorFlow's (``'step/.ATTRIBUTES/VARIABLE_VALUE'``); the bare
    object-graph path (``'step'``) is accepted too.
    """

    def __init__(self, values):
        self._values = values

    def _path(self, name):
        name = name.removesuffix(_ATTRIBUTE)
        return name if name in self._values else None

    def get_tensor(self, name):
        path = self._path(name)
        if path is None:
            raise errors.NotFoundError(f"Key {name} not found in checkpoint")
        return self._values[path]

    def has_tensor(self, name):
        return self._path(name) is not None

    def get_variable_to_shape_map(self):
        return {_tf_key(k): list(v.shape) for k, v in self._values.items()}

    def get_variable_to_dtype_map(self):
        return {_tf_key(k): _dt.as_dtype(v.dtype) for k, v in self._values.items()}


def _resolve(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


def load_checkpoint(ckpt_dir_or_file):
    """A CheckpointReader for a checkpoint prefix or a directory's latest checkpoint."""
    return CheckpointReader(_read_file(_resolve(ckpt_dir_or_file)))


def load_variable(ckpt_dir_or_file, name):
    """The saved value at object-graph path ``name``."""
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file):
    """Sorted (key, shape) pairs of a checkpoint, keys as TensorFlow names them
    (``'net/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE'``)."""
    values = _read_file(_resolve(ckpt_dir_or_file))
    return sorted((_tf_key(k), list(v.shape)) for k, v in values.items())


# ------------------------------------------------------------------ manager
class CheckpointManager:
    """Numbered checkpoints in a directory, keeping the newest ``max_to_keep``.

    Args:
      checkpoint: the ``Checkpoint`` to save and restore.
      directory: where checkpoints and the ``checkpoint`` state file go.
      max_to_keep: how many checkpoints to keep (None keeps all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
      checkpoint_name: prefix of the checkpoint files.
      step_counter, checkpoint_interval: with both set, ``save`` skips a save until
        ``step_counter`` advanced by ``checkpoint_interval`` since the last one.
      init_fn: called by ``restore_or_initialize`` when there is no checkpoint.
    """

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None,
                 init_fn=None):
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, "
                             f"got {max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is "
                             "not None.")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._interval = checkpoint_interval
        self._last_step = None
        self._init_fn = init_fn
        self._kept = []  # [(path, timestamp)] oldest first
        self._last_preserved = time.time()
        state = get_checkpoint_state(self._directory)
        self._latest = None
        if state is not None:
            stamps = state.all_model_checkpoint_timestamps
            paths = state.all_model_checkpoint_paths
            if len(stamps) != len(paths):
                stamps = [time.time()] * len(paths)
            self._kept = [(p, t) for p, t in zip(paths, stamps) if checkpoint_exists(p)]
            if checkpoint_exists(state.model_checkpoint_path):
                self._latest = state.model_checkpoint_path
            if state.last_preserved_timestamp:
                self._last_preserved = state.last_preserved_timestamp

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoint_interval(self):
        return self._interval

    @property
    def latest_checkpoint(self):
        """The newest checkpoint's prefix, or None."""
        return self._latest

    @property
    def checkpoints(self):
        """The kept checkpoints' prefixes, oldest first."""
        return [p for p, _ in self._kept]

    def _sweep(self):
        if self._max_to_keep is None:
            return
        while len(self._kept) > self._max_to_keep:
            path, stamp = self._kept.pop(0)
            if self._keep_hours is not None and \
                    stamp - self._keep_hours * 3600 >= self._last_preserved:
                self._last_preserved = stamp
                continue
            for name in (_data_path(path),):
                if os.path.exists(name):
                    os.remove(name)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Writes a new numbered checkpoint, deletes old ones; returns its path.

        Returns None when ``checkpoint_interval`` says it is too soon to save.
        """
        if self._interval is not None and check_interval:
            step = int(self._step_counter.numpy()) if hasattr(self._step_counter, "numpy") \
                else int(self._step_counter)
            if self._last_step is not None and step < self._last_step + self._interval:
                return None
            self._last_step = step
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        if checkpoint_number is None:
            number = int(counter.numpy())
        else:
            number = int(checkpoint_number.numpy() if hasattr(checkpoint_number, "numpy")
                         else checkpoint_number)
        path = self._checkpoint.write(f"{self._prefix}-{number}", options)
        self._kept = [(p, t) for p, t in self._kept if p != path]
        self._kept.append((path, time.time()))
        self._latest = path
        self._sweep()
        update_checkpoint_state(self._directory, path, self.checkpoints,
                                all_model_checkpoint_timestamps=[t for _, t in self._kept],
                                last_preserved_timestamp=self._last_preserved)
        return path

    def restore_or_initialize(self):
        """Restores the latest checkpoint if any (returns its path), else runs init_fn."""
        if self._latest is not None:
            self._checkpoint.restore(self._latest)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self):
        """No-op: writes are synchronous."""
