"""``tf.train.CheckpointManager``: numbered checkpoints, keeping the newest ones."""

import os
import time

from dlframe.train.checkpoint_io import checkpoint_exists, remove_checkpoint
from dlframe.train.checkpoint_state import get_checkpoint_state, update_checkpoint_state


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
        self._kept = []  # [(path, timestamp)] oldest first, candidates for deletion
        now = time.time()
        self._last_preserved = now
        state = get_checkpoint_state(self._directory)
        self._latest = None
        if state is not None:
            # As TF: checkpoints recorded no later than the state's last preserved time
            # (all of them when it lists no timestamps, as Checkpoint.save writes) are
            # kept for good; newer ones join the rotation.
            self._last_preserved = min(state.last_preserved_timestamp, now)
            paths = state.all_model_checkpoint_paths
            stamps = state.all_model_checkpoint_timestamps
            if len(stamps) != len(paths):
                stamps = [self._last_preserved] * len(paths)
            self._kept = [(p, min(t, now)) for p, t in zip(paths, stamps)
                          if min(t, now) > self._last_preserved and checkpoint_exists(p)]
            if checkpoint_exists(state.model_checkpoint_path):
                self._latest = state.model_checkpoint_path

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
            remove_checkpoint(path)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Writes a new numbered checkpoint, deletes old ones; returns its path.

        Returns None when ``checkpoint_interval`` says it is too soon to save, and
        (as TF, even with ``check_interval=False``) when the step counter has not
        moved since the last save.
        """
        if self._interval is not None:
            step = int(self._step_counter.numpy()) if hasattr(self._step_counter, "numpy") \
                else int(self._step_counter)
            if self._last_step is not None and (step == self._last_step or (
                    check_interval and step < self._last_step + self._interval)):
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
