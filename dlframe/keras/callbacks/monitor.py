"""Callbacks that watch a monitored metric: EarlyStopping, ReduceLROnPlateau,
LearningRateScheduler, TerminateOnNaN, LambdaCallback, CSVLogger."""

import csv
import math
import os
import warnings

from dlframe.core.tensor import Tensor
from dlframe.keras.callbacks.callback import Callback
from dlframe.keras.utils.io_utils import print_msg


def monitor_op(monitor, mode, who):
    """``(better(a, b), direction)`` for ``mode`` in 'auto'|'min'|'max'."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who} mode {mode} is unknown, fallback to auto mode.")
        mode = "auto"
    if mode == "auto":
        mode = "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall",
                                                   "fmeasure", "iou")) \
            and "loss" not in monitor else "min"
    if mode == "max":
        return greater, 1
    return less, -1


def less(a, b):
    """``a < b``: the ``monitor_op`` of a metric that should decrease."""
    return a < b


def greater(a, b):
    """``a > b``: the ``monitor_op`` of a metric that should increase."""
    return a > b


def _current_lr(model):
    lr = model.optimizer.learning_rate
    return float(lr.numpy()) if isinstance(lr, Tensor) else float(lr)


def _set_lr(model, value):
    model.optimizer.learning_rate = float(value)


class EarlyStopping(Callback):
    """Stops training when ``monitor`` stops improving.

    Args:
      monitor: quantity to watch (default 'val_loss').
      min_delta: minimum change counted as an improvement.
      patience: epochs without improvement before stopping.
      verbose: print a message when stopping.
      mode: 'auto', 'min' or 'max'.
      baseline: a value the metric must beat (patience counts from the start).
      restore_best_weights: restore the weights of the best epoch when stopping.
      start_from_epoch: epochs to wait before watching.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0,
                 mode="auto", baseline=None, restore_best_weights=False,
                 start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = mode if mode in ("auto", "min", "max") else "auto"
        self.monitor_op, direction = monitor_op(monitor, mode, "EarlyStopping")
        self.min_delta *= direction
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _improved(self, value, reference):
        if reference is None:
            return True
        return self.monitor_op(value - self.min_delta, reference)

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is "
                          f"not available. Available metrics are: "
                          f"{','.join(list((logs or {}).keys()))}")
            return
        if epoch < self.start_from_epoch:
            return
        current = float(current)
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        # Keras 3 restores the best weights at the end of training, also when
        # training ran all its epochs (Keras 2 only restored on an early stop)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg("Restoring model weights from the end of the best epoch: "
                          f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        return (logs or {}).get(self.monitor)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` plateaus.

    Args:
      monitor: quantity to watch (default 'val_loss').
      factor: new_lr = lr * factor (< 1).
      patience: epochs without improvement before reducing.
      verbose: print a message on each reduction.
      mode: 'auto', 'min' or 'max'.
      min_delta: threshold for a significant change.
      cooldown: epochs to wait after a reduction.
      min_lr: lower bound of the learning rate.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0,
                 mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.min_delta = kwargs.pop("epsilon", min_delta)
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.mode = mode if mode in ("auto", "min", "max") else "auto"   # as TF
        self.monitor_op, self._direction = monitor_op(monitor, mode, "ReduceLROnPlateau")
        self._reset()

    def _reset(self):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _current_lr(self.model)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric "
                          f"`{self.monitor}` which is not available. Available metrics "
                          f"are: {','.join(list(logs.keys()))}.")
            return
        current = float(current)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.best is None or self.monitor_op(current - self._direction * self.min_delta,
                                             self.best) and \
                (self.best is None or current != self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = _current_lr(self.model)
                if old > float(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    _set_lr(self.model, new)
                    if self.verbose > 0:
                        print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                              f"rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch start to ``schedule(epoch, lr)``.

    Args:
      schedule: ``f(epoch)`` or ``f(epoch, lr)`` returning the new rate.
      verbose: print the new rate.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _current_lr(self.model)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        if isinstance(new, Tensor):
            new = float(new.numpy())
        if not isinstance(new, (float, int)):
            raise ValueError('The output of the "schedule" function should be a float. '  # noqa: TRY004 - Keras's type
                             f"Got: {new}")
        _set_lr(self.model, new)
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model)


class TerminateOnNaN(Callback):
    """Stops training when a batch loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            loss = float(loss.numpy() if isinstance(loss, Tensor) else loss)
            if math.isnan(loss) or math.isinf(loss):
                print_msg(f"Batch {batch}: Invalid loss, terminating training")
                self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end``, ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end``,
    ``on_train_begin(logs)``, ``on_train_end`` (also ``on_batch_begin/end``)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin or kwargs.get(
                     "on_batch_begin"),
                 "on_train_batch_end": on_train_batch_end or kwargs.get("on_batch_end")}
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)

    def _implements(self, *hooks):
        return any(h in self.__dict__ for h in hooks) or super()._implements(*hooks)


class CSVLogger(Callback):
    """Streams epoch results to a CSV file.

    Args:
      filename: the CSV file.
      separator: field separator.
      append: append to an existing file (else overwrite).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.csv_file = None

    def on_train_begin(self, logs=None):
        exists = os.path.exists(self.filename)
        has_rows = exists and os.path.getsize(self.filename) > 0
        self._header_done = self.append and has_rows
        # kept open across epochs, closed in on_train_end
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            # with validation_freq > 1 the first epoch has no `val_` entries: make
            # room for them (written as 'NA' when absent), as Keras 3 does
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.sep)
            if not self._header_done:
                self.writer.writeheader()
        row = {"epoch": epoch}
        for k in self.keys:
            v = logs.get(k, "NA")
            row[k] = float(v.numpy()) if isinstance(v, Tensor) else v
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.writer = None
