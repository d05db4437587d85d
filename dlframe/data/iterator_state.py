"""Checkpointing an iterator (``tf.train.Checkpoint(iterator=iter(ds))``, the tf.data
guide's "Iterator checkpointing").

The saved state is the number of elements the iterator has produced, kept in an int64
Variable that the checkpoint saves and restores like any other. After a restore the
iterator notices the changed count on its next pull and replays its pipeline from the
start to that position, so a deterministic pipeline resumes exactly where it was
saved. (TF serializes the internal state of each stage, shuffle buffers included; a
pipeline that reshuffles on every pass resumes here at the right count, in a new
order.)
"""

import itertools


class PositionTrackingIterator:
    """Wraps ``make_iter()`` counting the elements it produces; ``variables()`` gives
    the position Variable a checkpoint saves and restores."""

    def __init__(self, make_iter):
        self._make_iter = make_iter
        self._it = make_iter()
        self._consumed = 0
        self._position = None   # the Variable, made when a checkpoint first asks
        self._synced = 0        # the value this iterator last wrote to it

    def __iter__(self):
        return self

    def __next__(self):
        if self._position is not None:
            self._follow_restore()
        value = next(self._it)
        self._consumed += 1
        return value

    def close(self):
        self._it.close()

    def variables(self):
        """[the position Variable], brought up to date (called when a checkpoint
        walks its objects, before saving or restoring)."""
        from dlframe.core import dtypes
        from dlframe.core.variable import Variable
        if self._position is None:
            self._position = Variable(self._consumed, dtype=dtypes.int64,
                                      trainable=False, name="iterator_position")
        else:
            self._follow_restore()
            self._position.assign(self._consumed)
        self._synced = self._consumed
        return [self._position]

    def _follow_restore(self):
        target = int(self._position.numpy())
        if target == self._synced:
            return
        self._it.close()
        self._it = self._make_iter()
        for _ in itertools.islice(self._it, target):
            pass
        self._consumed = self._synced = target
