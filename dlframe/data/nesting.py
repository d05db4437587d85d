"""Windows and nested datasets: ``window``, ``flat_map``, ``interleave`` and ``scan``."""

import collections
import itertools
import os

from dlframe.data import spec_trace
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, _spec_is_cheap
from dlframe.data.options import AUTOTUNE
from dlframe.data.parallel import background
from dlframe.data.sources import _ListDataset
from dlframe.data.traced_fn import DatasetFunction, Family, take_state
from dlframe.data.transforms import _known, _PassThrough
from dlframe.errors import InvalidArgumentError


class _WindowDataset(_PassThrough):
    def __init__(self, input_dataset, size, shift, stride, drop_remainder):
        for name, v in (("size", size), ("shift", shift), ("stride", stride)):
            if v <= 0:
                raise InvalidArgumentError(None, None, f"Window {name} must be greater "
                                           f"than zero, but got {v}.")
        super().__init__(input_dataset)
        self._size, self._shift, self._stride = size, shift, stride
        self._drop = drop_remainder

    def _compute_spec(self):
        return S.map_structure(lambda s: S.DatasetSpec(s), self._input.element_spec)

    def _iter(self):
        size, shift, stride = self._size, self._shift, self._stride
        span = (size - 1) * stride + 1
        leaf_specs = S.flatten(self._input.element_spec)
        buf = collections.deque()  # elements from position `base` on
        base, start, source, exhausted = 0, 0, self._input._iter(), False
        while True:
            while not exhausted and len(buf) < start - base + span:
                try:
                    buf.append(next(source))
                except StopIteration:
                    exhausted = True
            while base < start and buf:
                buf.popleft()
                base += 1
            window = list(itertools.islice(buf, 0, span, stride))
            if not window or (self._drop and len(window) < size):
                return
            template = window[0]
            columns = [S.flatten(e) for e in window]
            parts = [_ListDataset([col[j] for col in columns], leaf_specs[j])
                     for j in range(len(columns[0]))]
            yield S.pack_sequence_as(template, parts)
            start += shift
            if exhausted and start - base >= len(buf):
                return

    def _cardinality(self):
        n = self._input._cardinality()
        if not _known(n):
            return n
        if self._drop:
            span = (self._size - 1) * self._stride + 1
            return max(0, (n - span) // self._shift + 1) if n >= span else 0
        return -(-n // self._shift)


def _as_dataset(value, what):
    if not isinstance(value, Dataset):
        raise TypeError(f"The `{what}` function must return a `tf.data.Dataset` object, "
                        f"got {type(value).__name__}.")
    return value


class _FlatMapDataset(_PassThrough):
    _spec_runs_functions = True

    def __init__(self, input_dataset, map_func):
        super().__init__(input_dataset)
        self._fn = DatasetFunction(map_func)   # its prints show on the first run only
        if _spec_is_cheap(input_dataset):
            # TF traces map_func here: its prints show symbolic `args_i` tensors
            # once, and a result that is not a dataset fails at `flat_map`. The
            # placeholder run reads no data (datasets it builds are not iterated).
            out = spec_trace.placeholder_result(self._fn, input_dataset.element_spec)
            if out is not spec_trace.CANNOT_RUN:
                _as_dataset(out, "map_func")

    def _compute_spec(self):
        for element in self._input._sample_iter():
            return _as_dataset(self._fn.call_element(element),
                               "map_func").element_spec
        raise ValueError("Cannot infer the element_spec of an empty dataset.")

    def _inner(self, family, element):
        """The dataset ``map_func`` makes of ``element``; the functions inside it
        share random kernels with those of earlier elements (one TF trace)."""
        with family.making():
            return _as_dataset(self._fn.call_element(element), "map_func")

    def _iter(self):
        family = take_state(self, Family)
        for element in self._input._iter():
            yield from self._inner(family, element)._iter()


def _autotuned_cycle_length(num_parallel_calls):
    """TF's cycle length for ``cycle_length=AUTOTUNE`` (the default), which decides
    the output order: the schedulable cores sequentially; with ``num_parallel_calls``
    at most that many; with both autotuned, a third of the cores (rounded up), as
    each cycle element then also holds two prefetching threads."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if num_parallel_calls is None:
        return cores
    if num_parallel_calls == AUTOTUNE:
        return -(-cores // 3)
    return min(num_parallel_calls, cores)


class _InterleaveDataset(_FlatMapDataset):
    def __init__(self, input_dataset, map_func, cycle_length, block_length,
                 num_parallel_calls=None):
        super().__init__(input_dataset, map_func)
        # parallel: each open input (and the next `cycle_length` ones) is read
        # ahead on a thread of its own; the output order stays TF's
        self._parallel = num_parallel_calls not in (None, 1)
        if cycle_length == AUTOTUNE:
            cycle_length = _autotuned_cycle_length(num_parallel_calls)
        if cycle_length <= 0:
            raise InvalidArgumentError(None, None, "cycle_length must be greater than zero,"
                                       f" got {cycle_length}")
        if block_length <= 0:
            raise InvalidArgumentError(None, None, "block_length must be greater than zero,"
                                       f" got {block_length}")
        self._cycle, self._block = cycle_length, block_length

    def _open(self, family, element):
        inner = self._inner(family, element)._iter()
        return background(inner, max(2, self._block)) if self._parallel else inner

    def _iter(self):
        source = self._input._iter()
        family = take_state(self, Family)
        slots = [None] * self._cycle
        ahead = collections.deque()   # inputs opened ahead of their slot (parallel)
        source_done = False
        i = 0
        while True:
            while self._parallel and not source_done and len(ahead) < self._cycle:
                try:
                    ahead.append(self._open(family, next(source)))
                except StopIteration:
                    source_done = True
            if slots[i] is None and ahead:
                slots[i] = ahead.popleft()
            elif slots[i] is None and not source_done:
                try:
                    element = next(source)
                except StopIteration:
                    source_done = True
                else:
                    slots[i] = self._open(family, element)
            if slots[i] is not None:
                for _ in range(self._block):
                    try:
                        yield next(slots[i])
                    except StopIteration:
                        slots[i] = None
                        break
            if source_done and not ahead and all(s is None for s in slots):
                return
            i = (i + 1) % self._cycle


class _ScanDataset(_PassThrough):
    _spec_runs_functions = True

    def __init__(self, input_dataset, initial_state, scan_func):
        super().__init__(input_dataset)
        self._state = S.to_host(initial_state)
        # traced once (its prints show then), replayed per element (traced_fn)
        self._fn = DatasetFunction(scan_func)
        if _spec_is_cheap(input_dataset):
            # TF traces scan_func here: dtype errors inside it, and a new state
            # unlike the initial one, fail at `scan`, not on the first element.
            in_spec = (S.spec_of(self._state), input_dataset.element_spec)
            out = spec_trace.placeholder_result(self._fn, in_spec)
            if out is not spec_trace.CANNOT_RUN:
                self._check_result(S.lists_to_tuples(out))

    def _check_result(self, out):
        """``(new_state, value)`` of a scan function's result ``out``, after
        checking that the new state has the initial state's structure and dtypes."""
        if not isinstance(out, tuple) or len(out) != 2:
            raise TypeError(f"Invalid `scan_func`. The scan function must return a "
                            f"pair (new_state, output_element), got {out!r}.")
        state_spec = S.spec_of(self._state)
        new_spec = S.spec_of(S.to_host(out[0]))
        if not S.same_structure(state_spec, new_spec):
            raise TypeError(f"Invalid `scan_func`. The element structure for the new "
                            f"state must match the initial state. Expected "
                            f"{state_spec!r}, got {new_spec!r}.")
        for want, got in zip(S.flatten(state_spec), S.flatten(new_spec)):
            if getattr(want, "dtype", None) != getattr(got, "dtype", None):
                raise TypeError(f"Invalid `scan_func`. The element types for the new "
                                f"state must match the initial state. Expected "
                                f"{want.dtype!r}, got {got.dtype!r}.")
        return out

    def _compute_spec(self):
        # as TF: trace on the state's spec, relaxed to the new state's until the
        # two agree (a state that grows has an unknown size, and so may the value)
        state_spec = S.spec_of(self._state)
        for _ in range(4):
            out = spec_trace.traced_map_spec(
                self._fn, (state_spec, self._input.element_spec))
            if not (isinstance(out, tuple) and len(out) == 2
                    and S.same_structure(state_spec, out[0])):
                break
            try:
                relaxed = S.relax_spec(state_spec, out[0])
            except (TypeError, ValueError):   # (a dtype change fails per element)
                break
            if relaxed == state_spec:
                return out[1]
            state_spec = relaxed
        return Dataset._compute_spec(self)

    def _iter(self):
        state, run = self._state, self._fn.new_run()
        for element in self._input._iter():
            out = S.to_host(self._fn((state, element), run))
            state, value = self._check_result(out)
            yield value

    def _cardinality(self):
        return self._input._cardinality()
