"""Checkpointing an iterator (``tf.train.Checkpoint(iterator=iter(ds))``, the tf.data
guide's "Iterator checkpointing").

The saved state is one int64 vector Variable, stored under TF's key
``<path>/.ATTRIBUTES/ITERATOR_STATE``: the number of elements the iterator has
produced, then the pass number each random stage (``shuffle``,
``sample_from_datasets``, ...) was at when the iterator was made. After a restore the
iterator notices the changed state on its next pull, sets those pass counters back
and replays its pipeline from the start to the saved position, so the replay draws
the same orders as the run that was saved, also in a fresh iterator over the same
pipeline (TF serializes each stage's state, shuffle buffers included, to the same
effect).
"""

import itertools

STATE_EDGE = ".ATTRIBUTES/ITERATOR_STATE"   # TF's checkpoint key of an iterator


class PositionTrackingIterator:
    """Wraps ``make_iter()`` counting the elements it produces; ``variables()`` gives
    the state Variable a checkpoint saves and restores."""

    def __init__(self, make_iter, dataset=None):
        self._make_iter = make_iter
        self._passes = _note_pass_counters(dataset)
        self._it = make_iter()
        self._consumed = 0
        self._position = None   # the Variable, made when a checkpoint first asks
        self._synced = None     # the state this iterator last wrote to it

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

    def _state(self):
        return (self._consumed, *(first for _, _, first in self._passes))

    def variables(self):
        """[the state Variable], brought up to date (called when a checkpoint
        walks its objects, before saving or restoring)."""
        from dlframe.core import dtypes
        from dlframe.core.variable import Variable
        if self._position is None:
            self._position = Variable(list(self._state()), dtype=dtypes.int64,
                                      trainable=False, name="iterator_state")
        else:
            self._follow_restore()
            self._position.assign(list(self._state()))
        self._synced = self._state()
        return [self._position]

    def checkpoint_children(self):
        """The checkpoint edge of the state, named as TF names an iterator's."""
        return [(STATE_EDGE, self.variables()[0])]

    def _follow_restore(self):
        state = tuple(int(v) for v in self._position.numpy().reshape(-1))
        if state == self._synced:
            return
        self._it.close()
        self._passes = [(stage, attr, first) for (stage, attr, _), first
                        in zip(self._passes, state[1:])]
        for stage, attr, first in self._passes:
            setattr(stage, attr, itertools.count(first))
        self._it = self._make_iter()
        for _ in itertools.islice(self._it, state[0]):
            pass
        self._consumed = state[0]
        self._synced = state


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
