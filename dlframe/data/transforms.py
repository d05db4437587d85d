"""Sequential transformations: options, order (shuffle, repeat), selection (take, skip,
shard, filter, unique) and ``assert_cardinality``.

Batching lives in ``batching`` and windows/nested datasets in ``nesting``; their names
are re-exported here, where they used to be defined.
"""

import itertools

from dlframe.data import spec_trace
from dlframe.data.dataset import Dataset, _spec_is_cheap, predicate_value
from dlframe.data.options import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.data.seeds import philox_words, resolve_seed, shuffle_seeds
from dlframe.data.traced_fn import (
    ACTIVE,
    DatasetFunction,
    RepeatScope,
    current_scope,
    take_state,
)
from dlframe.errors import FailedPreconditionError, InvalidArgumentError

_DONE = object()   # end of an input iterator


def _known(n):
    return n >= 0


class _OptionsDataset(Dataset):
    def __init__(self, input_dataset, options):
        super().__init__((input_dataset,))
        self._own_options = options

    def _iter(self):
        return self._inputs[0]._iter()

    def _sample_iter(self):
        return self._inputs[0]._sample_iter()

    def _compute_spec(self):
        return self._inputs[0].element_spec

    def _cardinality(self):
        return self._inputs[0]._cardinality()


class _PassThrough(Dataset):
    """Base for transformations that keep the element spec of their input."""

    def __init__(self, input_dataset):
        super().__init__((input_dataset,))

    @property
    def _input(self):
        return self._inputs[0]

    def _compute_spec(self):
        return self._input.element_spec


# ---------------------------------------------------------------- order
class _ShuffleDataset(_PassThrough):
    def __init__(self, input_dataset, buffer_size, seed, reshuffle):
        if buffer_size <= 0 and buffer_size != UNKNOWN_CARDINALITY:
            raise InvalidArgumentError(
                None, None, "buffer_size must be greater than zero or UNKNOWN_CARDINALITY, "
                f"got buffer_size={buffer_size}.")
        super().__init__(input_dataset)
        self._buffer_size = buffer_size
        self._seed = resolve_seed(seed)
        self._reshuffle = reshuffle
        self._epoch = itertools.count()

    def _sample_iter(self):
        return self._input._sample_iter()

    def _iter(self):
        """TF's order: a buffer kept as a ring; each output takes slot
        ``word % count`` (counted from the ring's front), moves the front element
        into that slot and drops the front; when the next output is asked for, the
        next input element joins at the back (``seeds`` gives the words)."""
        epoch = next(self._epoch) if self._reshuffle else 0
        words = philox_words(shuffle_seeds(self._seed, epoch, self._reshuffle))
        limit = self._buffer_size if self._buffer_size > 0 else float("inf")
        source = self._input._iter()
        ring = []
        for element in source:
            ring.append(element)
            if len(ring) >= limit:
                break
        size = count = len(ring)
        exhausted = size < limit
        start = 0
        while count:
            pos = start + next(words) % count
            if pos >= size:
                pos -= size
            out = ring[pos]
            ring[pos] = ring[start]
            ring[start] = None
            back, count = start, count - 1
            start = start + 1 if start + 1 < size else 0
            yield out
            if not exhausted:   # as TF, the refill waits for the next request: the
                try:            # new element takes the front's old slot (the back)
                    ring[back] = next(source)
                    count += 1
                except StopIteration:
                    exhausted = True

    def _cardinality(self):
        return self._input._cardinality()


class _RepeatDataset(_PassThrough):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = count

    def _sample_iter(self):
        return self._input._sample_iter() if self._count else iter(())

    def _iter(self):
        epochs = itertools.count() if self._count < 0 else range(self._count)
        # the stages below continue their random kernels from epoch to epoch (TF)
        memo = take_state(self, dict)
        for _ in epochs:
            produced = False
            scope = RepeatScope(memo)
            outer, ACTIVE.scope = current_scope(), scope
            try:
                it = self._input._iter()
            finally:
                ACTIVE.scope = outer
            while True:   # stages starting inside take the last epoch's state
                outer, ACTIVE.scope = current_scope(), scope
                try:
                    element = next(it, _DONE)
                finally:
                    ACTIVE.scope = outer
                if element is _DONE:
                    break
                produced = True
                yield element
            scope.end()
            if not produced:  # an empty input repeated forever is empty, not a hang
                return

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count < 0:
            return 0 if n == 0 else INFINITE_CARDINALITY
        if self._count == 0:
            return 0
        return n if not _known(n) else n * self._count


class _TakeDataset(_PassThrough):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = count

    def _iter(self):
        if self._count < 0:
            yield from self._input._iter()
            return
        if self._count == 0:
            return
        for i, element in enumerate(self._input._iter()):
            yield element
            if i + 1 >= self._count:
                return

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count < 0:
            return n
        if n == INFINITE_CARDINALITY:
            return self._count
        if n == UNKNOWN_CARDINALITY:
            return UNKNOWN_CARDINALITY
        return min(n, self._count)


class _SkipDataset(_PassThrough):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = count

    def _iter(self):
        it = self._input._iter()
        if self._count < 0:
            for _ in it:
                pass
            return
        yield from itertools.islice(it, self._count, None)

    def _cardinality(self):
        n = self._input._cardinality()
        if not _known(n):
            return n
        return 0 if self._count < 0 else max(0, n - self._count)


class _ShardDataset(_PassThrough):
    def __init__(self, input_dataset, num_shards, index):
        if num_shards <= 0:
            raise InvalidArgumentError(None, None, "Number of shards must be greater than "
                                       f"zero (currently num_shards = {num_shards}).")
        if not 0 <= index < num_shards:
            raise InvalidArgumentError(None, None, f"Index must be between 0 and "
                                       f"{num_shards - 1} (currently index = {index}).")
        super().__init__(input_dataset)
        self._n, self._index = num_shards, index

    def _iter(self):
        return itertools.islice(self._input._iter(), self._index, None, self._n)

    def _cardinality(self):
        n = self._input._cardinality()
        if not _known(n):
            return n
        return n // self._n + (1 if self._index < n % self._n else 0)


class _FilterDataset(_PassThrough):
    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        # traced once (its prints show then), replayed per element (traced_fn)
        self._predicate = DatasetFunction(predicate)
        if _spec_is_cheap(input_dataset):
            # TF traces the predicate here: a result that is not a bool scalar
            # fails at `filter` / `take_while`, not on the first element.
            out = spec_trace.placeholder_result(self._predicate,
                                                input_dataset.element_spec)
            if out is not spec_trace.CANNOT_RUN:
                predicate_value(out)

    def _iter(self):
        run = self._predicate.new_run()
        for element in self._input._iter():
            if predicate_value(self._predicate(element, run)):
                yield element

    def _cardinality(self):   # as TF, even of an infinite input
        return UNKNOWN_CARDINALITY


class _TakeWhileDataset(_FilterDataset):
    def _iter(self):
        run = self._predicate.new_run()
        for element in self._input._iter():
            if not predicate_value(self._predicate(element, run)):
                return
            yield element


class _UniqueDataset(_PassThrough):
    def _iter(self):
        seen = set()
        for element in self._input._iter():
            # (the dtype was checked by Dataset.unique; TF compares whole tensors)
            key = element.item() if element.ndim == 0 else \
                (element.shape, tuple(element.ravel().tolist()))
            if key not in seen:
                seen.add(key)
                yield element

    def _cardinality(self):   # as TF, even of an infinite input
        return UNKNOWN_CARDINALITY


class _AssertCardinalityDataset(_PassThrough):
    def __init__(self, input_dataset, expected):
        super().__init__(input_dataset)
        self._expected = expected

    def _cardinality(self):
        return self._expected

    def _iter(self):
        count = 0
        for element in self._input._iter():
            count += 1
            if self._expected >= 0 and count > self._expected:
                raise FailedPreconditionError(
                    None, None, f"Input dataset was expected to contain {self._expected} "
                    f"elements but contained at least {count} elements.")
            yield element
        if self._expected == INFINITE_CARDINALITY or count < self._expected:
            raise FailedPreconditionError(
                None, None, f"Input dataset was expected to contain {self._expected} "
                f"elements but contained only {count} elements.")


# Names that moved to ``batching`` and ``nesting``, still importable from here (resolved
# lazily: those modules import this one).
_MOVED = {"_BatchDataset": "batching", "_PaddedBatchDataset": "batching",
          "_UnbatchDataset": "batching", "stack_components": "batching",
          "_WindowDataset": "nesting", "_FlatMapDataset": "nesting",
          "_InterleaveDataset": "nesting", "_ScanDataset": "nesting",
          "_as_dataset": "nesting"}


def __getattr__(name):
    if name in _MOVED:
        import importlib
        return getattr(importlib.import_module(f"dlframe.data.{_MOVED[name]}"), name)
    raise AttributeError(f"module 'dlframe.data.transforms' has no attribute {name!r}")
