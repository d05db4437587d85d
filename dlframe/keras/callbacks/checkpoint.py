"""ModelCheckpoint and BackupAndRestore (fault tolerance across killed processes)."""

import json
import os
import re
import shutil
import warnings

from dlframe.core.tensor import Tensor
from dlframe.keras.callbacks.callback import Callback
from dlframe.keras.callbacks.monitor import monitor_op
from dlframe.keras.utils.io_utils import print_msg


class ModelCheckpoint(Callback):
    """Saves the model or its weights during training (atomic writes).

    Args:
      filepath: a path, possibly a template like ``'w-{epoch:02d}-{val_loss:.2f}.h5'``.
      monitor: the metric deciding the best model (default 'val_loss').
      verbose: print a line for each save.
      save_best_only: only save when ``monitor`` improved.
      save_weights_only: save weights (``save_weights``) instead of the model.
      mode: 'auto', 'min' or 'max'.
      save_freq: 'epoch' or every this many batches.
      initial_value_threshold: a value the monitor must beat for the first save.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", options=None,
                 initial_value_threshold=None, **kwargs):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_weights_only and self.filepath.endswith(".keras"):
            # a weights file named like a model archive would not load_model
            raise ValueError("When using `save_weights_only=True` in "
                             "`ModelCheckpoint`, the filepath provided must end in "
                             "`.weights.h5` (or `.h5`, or be a checkpoint prefix). "
                             f"Received: filepath={self.filepath}")
        self.save_freq = save_freq
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        self.mode = mode if mode in ("auto", "min", "max") else "auto"
        self.monitor_op, self._direction = monitor_op(monitor, mode, "ModelCheckpoint")
        self.best = initial_value_threshold
        self._batches_seen = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._save(self._current_epoch, batch, _float_logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, _float_logs(logs))

    def _implements(self, *hooks):
        if "on_train_batch_end" in hooks:
            return isinstance(self.save_freq, int)
        return super()._implements(*hooks)

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}") from None

    def _save(self, epoch, batch, logs):
        path = self._get_file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                # TF 2.21 warns and saves (Keras 2 skipped: a misspelt monitor such as
                # 'val_acc' then never saved anything)
                warnings.warn(f"Can save best model only with {self.monitor} available.")
            elif self.best is not None and not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            else:
                if self.verbose > 0:   # TF 2.21: "from None" (Keras 2: "from inf")
                    prev = "None" if self.best is None else f"{self.best:.5f}"
                    print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {prev} "
                              f"to {current:.5f}, saving model to {path}")
                self.best = current
        elif self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: saving model to {path}")
        dirname = os.path.dirname(path)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: finished saving model to {path}")


def _float_logs(logs):
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, Tensor):
            v = v.numpy()
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            out[k] = v
    return out


class BackupAndRestore(Callback):
    """Backs up weights, optimizer state and the epoch at each epoch end; a new
    ``fit`` after an interruption resumes from the last backed-up epoch.

    Args:
      backup_dir: directory holding the backup (deleted when training finishes).
      save_freq: 'epoch' or every this many batches.
      delete_checkpoint: delete the backup at the end of a finished ``fit``.
      save_before_preemption: accepted for TF compatibility (no preemption here).
      double_checkpoint: also keep the previous backup (Keras 3), restored when
        the latest one cannot be read (a write cut off half way).
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True,
                 save_before_preemption=False, double_checkpoint=False):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or
                                     isinstance(save_freq, bool) or save_freq <= 0):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an "
                             "integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.double_checkpoint = double_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._state_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._current_epoch = 0
        self._batches = 0

    def _backup_paths(self):
        paths = [(self._weights_path, self._state_path)]
        if self.double_checkpoint:
            paths.append((self._weights_path + ".bkp", self._state_path + ".bkp"))
        return paths

    def on_train_begin(self, logs=None):
        from dlframe.keras.saving import weights_io
        for weights_path, state_path in self._backup_paths():
            if not os.path.exists(state_path) or not os.path.exists(weights_path):
                continue
            try:
                with open(state_path) as f:
                    state = json.load(f)
                weights_io.load_weights(self.model, weights_path, include_optimizer=True)
            except (OSError, ValueError, KeyError):
                if weights_path == self._weights_path and self.double_checkpoint:
                    continue   # the latest backup is damaged: use the previous one
                raise
            self._resume_epoch = int(state["epoch"]) + 1
            self.model._initial_epoch_override = self._resume_epoch
            return

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._backup(self._current_epoch - 1)

    def _implements(self, *hooks):
        if "on_train_batch_end" in hooks:
            return isinstance(self.save_freq, int)
        return super()._implements(*hooks)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._backup(epoch)

    def _backup(self, epoch):
        from dlframe.keras.saving import weights_io
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._state_path):
            for path in (self._weights_path, self._state_path):
                shutil.copyfile(path, path + ".bkp")
        weights_io.save_weights(self.model, self._weights_path, include_optimizer=True)
        tmp = self._state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"epoch": int(epoch)}, f)
        os.replace(tmp, self._state_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and not getattr(self.model, "_interrupted", False) and \
                os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir, ignore_errors=True)


_ = re  # filepath templates use str.format
