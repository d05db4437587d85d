"""``map`` (sequential or on a thread pool) and ``prefetch`` (a background producer).

Neither can hang its consumer: a worker's exception is re-raised by the consumer's next
``next()`` and stops the pipeline, and abandoning an iterator (``close()``, or garbage
collection of its generator) stops the threads it started.
"""

import collections
import concurrent.futures as cf
import functools
import itertools
import os
import queue
import threading
import weakref

from dlframe.data import spec_trace
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, _spec_is_cheap
from dlframe.data.options import AUTOTUNE
from dlframe.data.traced_fn import ACTIVE, DatasetFunction, current_scope
from dlframe.errors import InvalidArgumentError, OpError

_SPEC_SAMPLES = 3   # elements a map function runs on to find its element_spec


def autotune_parallelism(options=None):
    """Threads used for ``AUTOTUNE``: enough to overlap I/O-bound calls on few cores."""
    cap = None
    if options is not None:
        cap = options.threading.private_threadpool_size
    n = min(32, (os.cpu_count() or 1) + 4)
    return min(n, cap) if cap else n


class _MapDataset(Dataset):
    _spec_runs_functions = True

    def __init__(self, input_dataset, map_func, num_parallel_calls, deterministic):
        super().__init__((input_dataset,))
        if not callable(map_func):
            raise TypeError(f"`map_func` must be callable, got {map_func!r}")
        # traced once (its prints show then), replayed per element (traced_fn)
        self._fn = DatasetFunction(map_func)
        self._fn.input_spec = functools.partial(_cheap_spec, input_dataset)
        self._parallel = num_parallel_calls
        self._deterministic = deterministic
        if _spec_is_cheap(input_dataset):
            # TF traces map_func here, so a function returning nothing fails at
            # `map`; placeholder runs find the spec (and that error) as early.
            self._spec = spec_trace.traced_map_spec(self._fn,
                                                    input_dataset.element_spec)

    def _cardinality(self):
        return self._inputs[0]._cardinality()

    def _compute_spec(self):
        # TF traces the function on the input's spec; spec_trace does the same with
        # placeholder elements, else with a few real ones (traced, then plain runs).
        source = self._inputs[0]
        spec = spec_trace.traced_map_spec(self._fn, source.element_spec)
        if spec is not None:
            return spec
        samples = list(itertools.islice(source._sample_iter(), _SPEC_SAMPLES))
        spec = spec_trace.sampled_map_spec(self._fn, source, samples)
        if spec is not None:
            return spec
        error = None
        for element in samples:
            try:
                result = _apply_map(self._fn, element)
            except OpError as e:
                # TF's spec comes from the trace: an element the function fails on
                # (a box too large for it) raises when iterated, not here
                error = error or e
                continue
            out = S.relax_unknown_dims(S.spec_of(result), source.element_spec,
                                       element)
            spec = out if spec is None else S.relax_spec(spec, out)
        if spec is None and error is not None:
            raise error
        if spec is None:
            raise ValueError("Cannot infer the element_spec of map over an empty "
                             "dataset.")
        return spec

    def _iter_ignoring_errors(self, log_warning):
        """Sequential iteration that skips elements whose function raised a
        ``tf.errors`` error (for ``ignore_errors``)."""
        run = self._fn.new_run()
        for element in self._inputs[0]._iter():
            try:
                yield _apply_map(self._fn, element, run)
            except OpError as e:
                if log_warning:
                    print(f"Warning: ignoring error in the input pipeline: {e}")

    def _iter(self):
        run = self._fn.new_run()   # this iteration's random kernels (traced_fn)
        if self._parallel is None or self._parallel == 1:
            fn = self._fn
            for element in self._inputs[0]._iter():
                yield _apply_map(fn, element, run)
            return
        options = self.options()
        workers = autotune_parallelism(options) if self._parallel == AUTOTUNE \
            else self._parallel
        deterministic = self._deterministic
        if deterministic is None:
            deterministic = options.deterministic is not False
        yield from _parallel_map(self._fn, self._inputs[0]._iter(), workers,
                                 deterministic, run)


def _cheap_spec(dataset):
    """``dataset``'s element_spec where it is known without running user code."""
    return dataset.element_spec if _spec_is_cheap(dataset) else None


def _apply_map(fn, element, run=None):
    """``apply_fn`` that names a function returning nothing (TF fails at `map`);
    ``fn`` is a ``DatasetFunction`` (replaying its graph, its random kernels at
    ``run``'s positions)."""
    out = fn(element, run)
    spec_trace.check_has_outputs(out)
    return S.to_host(out)


def _parallel_map(fn, source, workers, deterministic, run=None):
    """Keeps ``workers`` calls in flight; yields results in input order (or as done)."""
    pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dlframe-map")
    pending = collections.deque()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < workers:
                try:
                    element = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending.append(pool.submit(_apply_map, fn, element, run))
            if not pending:
                return
            if deterministic:
                done = pending.popleft()
            else:
                finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                done = next(f for f in pending if f in finished)
                pending.remove(done)
            yield done.result()  # re-raises the worker's exception here
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


class _PrefetchDataset(Dataset):
    def __init__(self, input_dataset, buffer_size):
        if buffer_size < 0 and buffer_size != AUTOTUNE:
            raise InvalidArgumentError(None, None, "buffer_size must be >= 0 or AUTOTUNE "
                                       f"(-1), got {buffer_size}")
        super().__init__((input_dataset,))
        self._buffer_size = 2 if buffer_size == AUTOTUNE else buffer_size

    def _cardinality(self):
        return self._inputs[0]._cardinality()

    def _compute_spec(self):
        return self._inputs[0].element_spec

    def _sample_iter(self):
        return self._inputs[0]._sample_iter()

    def _iter(self):
        if self._buffer_size == 0:
            return self._inputs[0]._iter()
        return _background(self._inputs[0]._iter(), self._buffer_size, None)

    def _iter_output(self, device):
        """As the last stage, also places each element on ``device`` in the producer
        thread, so host-to-device copies overlap the consumer's step."""
        if self._buffer_size == 0:
            return Dataset._iter_output(self, device)
        return _background(self._inputs[0]._iter(), self._buffer_size,
                           lambda element: S.to_tensors(element, device))


_END, _ITEM, _ERROR = 0, 1, 2


def _background(source, buffer_size, convert, start=False):
    """Generator yielding ``source``'s items, produced ahead on a daemon thread
    (started now with ``start``, else on the first ``next``)."""
    q = queue.Queue(maxsize=buffer_size)
    stop = threading.Event()
    scope = current_scope()   # a repeat above: its epochs' states, in the producer

    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        ACTIVE.scope = scope
        try:
            for element in source:
                if convert is not None:
                    element = convert(element)
                if not put((_ITEM, element)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, never swallowed
            put((_ERROR, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    pass

    thread = threading.Thread(target=produce, name="dlframe-prefetch", daemon=True)
    consumer = _consume(q, stop, None if start else thread)
    if start:   # a consumer dropped before its first `next` still stops the thread
        weakref.finalize(consumer, stop.set)
        thread.start()
    return consumer


def background(source, buffer_size):
    """``source``'s items produced ahead on a thread started now (parallel
    ``interleave`` opens its inputs ahead of use this way)."""
    return _background(source, buffer_size, None, start=True)


def _consume(q, stop, thread):
    if thread is not None:
        thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == _ITEM:
                yield value
            elif kind == _END:
                return
            else:
                raise value
    finally:
        stop.set()


class _PrefetchToDeviceDataset(_PrefetchDataset):
    """``prefetch`` that places elements on a fixed device (must be the last stage)."""

    def __init__(self, input_dataset, device, buffer_size):
        super().__init__(input_dataset, buffer_size)
        from dlframe import backends
        self._device = backends.get_device(device)
        self._buffer_size = max(1, self._buffer_size)

    def _iter_output(self, device):
        return _PrefetchDataset._iter_output(self, self._device)
