"""Preemption handling on one host: ``tf.distribute.experimental.TerminationConfig``,
``PreemptionCheckpointHandler`` and ``PreemptionWatcher``.

A termination notice is ``SIGTERM`` (what schedulers send before they stop a job),
or ``TerminationConfig.termination_watcher_fn`` returning True (polled once a
second). ``PreemptionCheckpointHandler.run(fn)`` runs one training step; at the
start of the first ``run`` (or ``save_checkpoint_if_preempted``) after a notice it
saves a checkpoint and calls ``exit_fn`` (default ``sys.exit(42)``, a code the
scheduler restarts on). With a ``grace_period`` it saves at once, trains on and
saves again to exit when the period is about to end. The handler's step count
(``total_run_calls``) is saved in the checkpoint and restored with it, so a
restarted program resumes where it stopped.
"""

import contextlib
import signal
import sys
import threading
import time

from dlframe.core import dtypes
from dlframe.core.variable import Variable
from dlframe.errors import InvalidArgumentError


class TerminationConfig:
    """How a termination notice is detected and handled.

    Args:
      termination_watcher_fn: None (a SIGTERM is the notice), or a function polled
        once a second that returns True when the process is about to be stopped.
      exit_fn: called after the checkpoint is saved (default ``sys.exit(42)``).
      grace_period: seconds between the notice and the stop (default 0).
      save_fn: called instead of ``CheckpointManager.save`` to save.
    """

    def __init__(self, termination_watcher_fn=None, exit_fn=None, grace_period=None,
                 save_fn=None):
        for name, fn in (("termination_watcher_fn", termination_watcher_fn),
                         ("exit_fn", exit_fn), ("save_fn", save_fn)):
            if fn is not None and not callable(fn):
                raise ValueError(f"`{name}` must be callable or None, got {fn!r}")
        if grace_period is not None and (not isinstance(grace_period, (int, float)) or
                                         grace_period < 0):
            raise ValueError(f"`grace_period` must be a non-negative number of seconds "
                             f"or None, got {grace_period!r}")
        self.termination_watcher_fn = termination_watcher_fn
        self.exit_fn = exit_fn
        self.grace_period = grace_period
        self.save_fn = save_fn


def _restart_exit():
    sys.exit(42)


# ---------------------------------------------------------------- notices
class _Notices:
    """One SIGTERM handler for every listener (handlers and watchers)."""

    def __init__(self):
        self._listeners = []
        self._previous = None
        self._lock = threading.Lock()

    def add(self, callback):
        with self._lock:
            if not self._listeners:
                if threading.current_thread() is not threading.main_thread():
                    raise RuntimeError(
                        "A preemption handler or watcher that listens for SIGTERM must "
                        "be created in the main thread (Python delivers signals "
                        "there); pass TerminationConfig(termination_watcher_fn=...) "
                        "otherwise.")
                self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
            self._listeners.append(callback)

    def remove(self, callback):
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)
                if not self._listeners:
                    signal.signal(signal.SIGTERM, self._previous or signal.SIG_DFL)

    def _on_sigterm(self, signum, frame):
        for callback in list(self._listeners):
            callback("SIGTERM received")


_NOTICES = _Notices()


class _Watch:
    """Listens for a notice: SIGTERM, or a polled ``watcher_fn``."""

    def __init__(self, on_notice, watcher_fn=None, poll_seconds=1.0):
        self._on_notice = on_notice
        self._stop = threading.Event()
        self._watcher_fn = watcher_fn
        if watcher_fn is None:
            _NOTICES.add(on_notice)
        else:
            threading.Thread(target=self._poll, args=(poll_seconds,), daemon=True,
                             name="dlframe-termination-watcher").start()

    def _poll(self, seconds):
        while not self._stop.is_set():
            if self._watcher_fn():
                self._on_notice("termination_watcher_fn returned True")
                return
            self._stop.wait(seconds)

    def close(self):
        self._stop.set()
        if self._watcher_fn is None:
            _NOTICES.remove(self._on_notice)


# ---------------------------------------------------------------- the handler
class PreemptionCheckpointHandler:
    """Saves a checkpoint when the program is about to be stopped, then exits.

    Args:
      cluster_resolver: the strategy's cluster resolver (None, or one whose cluster
        has no ``ps`` job).
      checkpoint_or_checkpoint_manager: a ``tf.train.Checkpoint`` (then
        ``checkpoint_dir`` is required) or a ``tf.train.CheckpointManager``.
      checkpoint_dir: where checkpoints are written; the latest one there is
        restored now.
      termination_config: a ``TerminationConfig``.

    Raises:
      InvalidArgumentError: a Checkpoint without ``checkpoint_dir``.
      TypeError: for another kind of ``checkpoint_or_checkpoint_manager``.
      NotImplementedError: with a ParameterServerStrategy cluster (as TF).
    """

    def __init__(self, cluster_resolver, checkpoint_or_checkpoint_manager,
                 checkpoint_dir=None, termination_config=None):
        from dlframe.train.checkpoint import Checkpoint
        from dlframe.train.checkpoint_manager import CheckpointManager
        target = checkpoint_or_checkpoint_manager
        if isinstance(target, Checkpoint) and not checkpoint_dir:
            raise InvalidArgumentError(None, None, "When a checkpoint is passed, a "
                                       "checkpoint_dir must be passed as well.")
        if not isinstance(target, (Checkpoint, CheckpointManager)):
            raise TypeError("`checkpoint_or_checkpoint_manager` must be a "
                             "tf.train.Checkpoint or tf.train.CheckpointManager, got "
                             f"{target!r}")
        if cluster_resolver is not None and \
                "ps" in cluster_resolver.cluster_spec().jobs:
            raise NotImplementedError("PreemptionCheckpointHandler does not support "
                                      "usage with tf.distribute.experimental."
                                      "ParameterServerStrategy.")
        config = termination_config or TerminationConfig()
        self._cluster_resolver = cluster_resolver
        self._exit_fn = config.exit_fn or _restart_exit
        self._save_fn = config.save_fn
        self._grace_period = config.grace_period or 0
        self._checkpointed_runs = Variable(0, dtype=dtypes.int64, trainable=False,
                                           name="checkpointed_runs")
        if isinstance(target, CheckpointManager):
            checkpoint = target.checkpoint
            self._manager = target
        else:
            checkpoint = target
            self._manager = CheckpointManager(checkpoint, checkpoint_dir, max_to_keep=1)
        # tracked by the checkpoint, so a restart restores the step count with it
        checkpoint.preemption_checkpointed_runs = self._checkpointed_runs
        self._manager.restore_or_initialize()
        self._run_counter = int(self._checkpointed_runs.numpy())
        self._notice_time = None
        self._saved_in_grace = False
        self._estimated_run_time = 0.0
        self._checkpoint_time = 0.0
        self._watch = _Watch(self._on_notice, config.termination_watcher_fn)

    def _on_notice(self, reason):
        if self._notice_time is None:
            self._notice_time = time.time()

    @property
    def total_run_calls(self):
        """Steps run through ``run`` (or ``save_checkpoint_if_preempted``) so far,
        counting those before a restart (restored from the checkpoint)."""
        return self._run_counter

    def run(self, distributed_train_function, *args, **kwargs):
        """Runs one training step ``distributed_train_function(*args, **kwargs)``
        and returns its result; before it, saves and exits after a notice."""
        self._maybe_checkpoint_and_exit()
        start = time.time()
        result = distributed_train_function(*args, **kwargs)
        self._run_counter += 1
        self._estimated_run_time += (time.time() - start - self._estimated_run_time) \
            / self._run_counter
        return result

    def save_checkpoint_if_preempted(self, *args, **kwargs):
        """For custom loops that do not use ``run``: call once per step; saves a
        checkpoint (``CheckpointManager.save(*args, **kwargs)``) and exits after a
        notice."""
        self._maybe_checkpoint_and_exit(*args, **kwargs)
        self._run_counter += 1

    @contextlib.contextmanager
    def watch_preemption_scope(self):
        """A scope for the training loop (TF needs it on TPUs; here it only makes
        sure a notice that arrived during the last step is handled at its end)."""
        yield
        self._maybe_checkpoint_and_exit()

    def _maybe_checkpoint_and_exit(self, *args, **kwargs):
        if self._notice_time is None:
            return
        if not self._grace_period:
            self._save(*args, **kwargs)
            self._exit()
            return
        ends = self._notice_time + self._grace_period
        if not self._saved_in_grace:  # save at once, then train on
            self._save(*args, **kwargs)
            self._saved_in_grace = True
        if time.time() + self._estimated_run_time + self._checkpoint_time >= ends:
            self._save(*args, **kwargs)
            self._exit()

    def _save(self, *args, **kwargs):
        start = time.time()
        self._checkpointed_runs.assign(self._run_counter)
        if self._save_fn is not None:
            self._save_fn(*args, **kwargs)
        else:
            self._manager.save(*args, **kwargs)
        self._checkpoint_time = time.time() - start

    def _exit(self):
        self._stop()
        self._exit_fn()

    def _stop(self):
        """Stops listening for notices (restores the previous SIGTERM handler)."""
        self._watch.close()


class PreemptionWatcher:
    """Watches for a termination notice of this process (a SIGTERM).

    ``preemption_message`` is None until a notice arrived, then says what it was;
    ``block_until_worker_exit`` waits for it.
    """

    def __init__(self):
        self._message = None
        self._event = threading.Event()
        self._watch = _Watch(self._on_notice)

    def _on_notice(self, reason):
        if self._message is None:
            self._message = f"Preemption notice: {reason}"
        self._event.set()

    @property
    def preemption_message(self):
        return self._message

    def block_until_worker_exit(self):
        """Blocks until a termination notice arrived."""
        self._event.wait()

    def _stop(self):
        self._watch.close()
