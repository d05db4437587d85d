"""What a TF1 graph held for an Estimator, kept across eager ``model_fn`` calls.

TensorFlow builds a ``model_fn`` once into a graph; dlframe runs it once per batch.
A ``ModelScope`` makes the re-runs share state: while a ``model_fn`` runs, every
``tf.Variable(...)`` goes through a variable creator that names it as a fresh graph
would (Keras layer names restart at 'dense', a repeated name gets '_1') and returns
the variable already created under that name. Variables of metric state
(``synchronization=ON_READ``, as Keras metrics and ``tf.compat.v1.metrics`` make
them) are *local*: reset for each train/evaluate/predict call and never saved.

Checkpoints are TF1 name-based bundles (``model.ckpt-<step>.index`` / ``.data-*``
keyed by variable name, plus the ``checkpoint`` state file), readable with
``tf.train.load_variable(model_dir, 'global_step')``.
"""

import contextlib
import os
import re
import threading

from dlframe.core import dtypes as _dt
from dlframe.core.tape import GradientTape, graph_gradient_tape
from dlframe.core.variable import (
    Variable,
    VariableSynchronization,
    name_scope,
    scoped_name,
    variable_creator_scope,
)
from dlframe.keras import backend as _keras_backend
from dlframe.train import bundle as _bundle
from dlframe.train import checkpoint_io as _ckpt_io
from dlframe.train import checkpoint_state as _ckpt_state

GLOBAL_STEP = "global_step"


class _Active(threading.local):
    def __init__(self):
        self.scope = None
        self.mode = None


ACTIVE = _Active()


def active_scope():
    """The ModelScope whose ``model_fn`` is running on this thread, or None."""
    return ACTIVE.scope


def active_mode():
    """The mode of the running ``model_fn`` (None outside one)."""
    return ACTIVE.mode


class ModelScope:
    """Variables by name, the global step and checkpoint I/O of one Estimator."""

    def __init__(self, model_dir):
        self.model_dir = model_dir
        self.variables = {}   # name -> Variable, saved in checkpoints
        self.local = {}       # name -> Variable, metric state of the current call
        self._pending = {}    # name -> host array, for variables not created yet
        self._synced = None   # the checkpoint the variables hold
        self._warm = None     # (values, pattern) to warm-start from
        self._trainable_only = False
        with name_scope("/"):
            self.global_step = Variable(0, dtype=_dt.int64, trainable=False,
                                        name=GLOBAL_STEP)
        self.variables[GLOBAL_STEP] = self.global_step

    # -- variables --------------------------------------------------------------
    def trainable_variables(self):
        return [v for v in self.variables.values() if v.trainable]

    def track(self, name, variable):
        """Adds a variable made outside a ``model_fn`` (a Keras model's weights)."""
        name = self._unique(name, self.variables)
        self.variables[name] = variable
        self._restore_one(name, variable)
        return name

    @staticmethod
    def _unique(base, taken, counts=None):
        if counts is not None:
            n = counts.get(base, 0)
            counts[base] = n + 1
            return base if n == 0 else f"{base}_{n}"
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        return name

    def _creator(self, counts):
        def creator(next_creator, **kwargs):
            name = self._unique(scoped_name(kwargs.get("name") or "Variable"), None,
                                counts)
            local = kwargs.get("synchronization") == VariableSynchronization.ON_READ
            store = self.local if local else self.variables
            var = store.get(name)
            if var is not None:
                return var
            kwargs["name"] = name
            with name_scope("/"):   # the name is already scoped
                var = next_creator(**kwargs)
            store[name] = var
            if not local:
                self._restore_one(name, var)
            return var
        return creator

    @contextlib.contextmanager
    def model_call(self, mode):
        """Context of one ``model_fn`` call: the variable creator, fresh Keras layer
        names, and (in TRAIN) a tape that TF1-style gradient requests read from.

        Yields:
          The GradientTape recording the call (None outside TRAIN).
        """
        saved_uids = dict(_keras_backend._UIDS)
        _keras_backend._UIDS.clear()
        try:
            with self.activate(mode), variable_creator_scope(self._creator({})):
                if mode != "train":
                    yield None
                    return
                with GradientTape(persistent=True) as tape, graph_gradient_tape(tape):
                    yield tape
        finally:
            _keras_backend._UIDS.clear()
            _keras_backend._UIDS.update(saved_uids)

    @contextlib.contextmanager
    def activate(self, mode):
        """Makes this the scope ``tf.compat.v1.train.get_global_step`` reads (for a
        whole train/evaluate call: hooks read it too)."""
        previous = ACTIVE.scope, ACTIVE.mode
        ACTIVE.scope, ACTIVE.mode = self, mode
        try:
            yield self
        finally:
            ACTIVE.scope, ACTIVE.mode = previous

    # -- checkpoints ----------------------------------------------------------
    def latest_checkpoint(self):
        return _ckpt_state.latest_checkpoint(self.model_dir)

    def set_warm_start(self, values, pattern, trainable_only=True):
        """Values ({name: array}) for the variables matching ``pattern`` while
        ``model_dir`` has no checkpoint (only trainable ones if so asked)."""
        self._warm = (values, pattern, trainable_only)

    def sync(self, checkpoint_path=None):
        """Loads ``checkpoint_path`` (default: the latest in ``model_dir``) into the
        variables, now for existing ones and at creation for later ones. With no
        checkpoint at all, the warm-start values (if any) go to the trainable
        variables.

        Returns:
          The checkpoint path loaded, or None.
        """
        path = checkpoint_path or self.latest_checkpoint()
        if path is None:
            if self._warm is not None:
                values, pattern, trainable_only = self._warm
                self._pending = {k: v for k, v in values.items()
                                 if k != GLOBAL_STEP and re.match(pattern, k)}
                self._trainable_only = trainable_only
                self._restore_existing()
            return None
        if os.fspath(path) == self._synced:
            return path
        self._pending = dict(_ckpt_io.read_tensors(path))
        self._trainable_only = False
        self._restore_existing()
        self._synced = os.fspath(path)
        return path

    def _restore_existing(self):
        for name, var in self.variables.items():
            self._restore_one(name, var)

    def _restore_one(self, name, var):
        value = self._pending.get(name)
        if value is None or (self._trainable_only and not var.trainable):
            return
        _ckpt_io._assign(var, value, name)

    def save(self, keep_max):
        """Writes ``model.ckpt-<global step>`` and updates the ``checkpoint`` file,
        deleting the oldest checkpoints beyond ``keep_max`` (None or 0: keep all).

        Returns:
          The checkpoint prefix written.
        """
        step = int(self.global_step.numpy())
        os.makedirs(self.model_dir, exist_ok=True)
        prefix = os.path.join(self.model_dir, f"model.ckpt-{step}")
        arrays = {name: var.numpy() for name, var in self.variables.items()}
        index, data = _bundle.encode_bundle(arrays)
        _ckpt_io._atomic_write(_bundle.data_path(prefix), data)
        _ckpt_io._atomic_write(prefix + _ckpt_io.INDEX_SUFFIX, index)
        state = _ckpt_state.get_checkpoint_state(self.model_dir)
        paths = [p for p in (state.all_model_checkpoint_paths if state else [])
                 if os.path.abspath(p) != os.path.abspath(prefix)] + [prefix]
        if keep_max:
            for old in paths[:-keep_max]:
                _ckpt_io.remove_checkpoint(old)
            paths = paths[-keep_max:]
        _ckpt_state.update_checkpoint_state(self.model_dir, prefix, paths)
        self._synced, self._pending = prefix, {}   # every variable is saved now
        return prefix
