"""Checkpointing an iterator (``tf.train.Checkpoint(iterator=iter(ds))``, the tf.data
guide's "Iterator checkpointing").

The saved state is the number of elements the iterator has produced, kept in an int64
Variable that the checkpoint saves and restores like any other. After a restore the
iterator notices the changed count on its next pull and replays its pipeline from the
start to that position, so a deterministic pipeline resumes exactly where it was
saved. Stages that draw a new random order on each pass (``shuffle``,
``sample_from_datasets``, ...) count their passes; the iterator notes those counts
when it is made and sets them back before a replay, so the replay draws the same
orders as the run that was saved (TF serializes each stage's state, shuffle buffers
included, to the same effect).
"""

import itertools


class PositionTrackingIterator:
    """Wraps ``make_iter()`` counting the elements it produces; ``variables()`` gives
    the position Variable a checkpoint saves and restores."""

    def __init__(self, make_iter, dataset=None):
        self._make_iter = make_iter
        self._passes = _note_pass_counters(dataset)
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
        for stage, attr, first in self._passes:
            setattr(stage, attr, itertools.count(first))
        self._it = self._make_iter()
        for _ in itertools.islice(self._it, target):
            pass
        self._consumed = self._synced = target


_PASS_COUNTERS = ("_epoch", "_epochs")   # per-pass counters of random stages


def _note_pass_counters(dataset):
    """[(stage, attribute, next pass number)] for the pass counters in the pipeline
    ending at ``dataset``; each counter is rebuilt to start at the noted number."""
    noted, pending, seen = [], [dataset] if dataset is not None else [], set()
    while pending:
        stage = pending.pop()
        if id(stage) in seen:
            continue
        seen.add(id(stage))
        for attr in _PASS_COUNTERS:
            counter = getattr(stage, attr, None)
            if isinstance(counter, itertools.count):
                first = next(counter)
                setattr(stage, attr, itertools.count(first))
                noted.append((stage, attr, first))
        pending.extend(getattr(stage, "_inputs", ()))
    return noted
