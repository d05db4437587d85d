"""``for element in dataset`` inside a ``dlframe.function``: a graph loop that pulls
the dataset's elements each time the graph runs (TF's loop over an iterator), not a
copy of the elements seen while tracing.

AutoGraph asks an iterable for ``_graph_iteration()`` and receives three op builders:
``start()`` (a token that opens the iteration), ``has_next(i)`` (whether element ``i``
exists, fetching it) and ``get(i)`` (element ``i``). Fetches are keyed by the loop
counter so that running a builder twice for the same ``i`` (tracing runs the loop's
condition and body once before the loop itself runs) takes one element, not two.
Each run of the graph has its own iteration state (named by its counter), so runs
on several threads at once do not share elements or an unfinished fetch.
"""

import itertools
import threading

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor_spec import TensorSpec
from dlframe.data import structure as S


# The loop counter of a run starts at ``run id << _RUN_SHIFT``: its fetches then name
# their run, so runs of one graph on several threads keep their own iterator state.
_RUN_SHIFT = 32
_RUN_IDS = 1 << 31
# runs left by a ``break`` (never exhausted) keep a state; the oldest are dropped
# past this many (far more runs than can be in flight at once)
_MAX_OPEN_RUNS = 256


class _Run:
    """One run's iteration: its iterator, the lock of that iterator's ``next`` (one
    lock per iterator object, shared by the runs that continue one iterator) and
    the element fetched for loop counter ``index``."""
    __slots__ = ("it", "lock", "index", "element")

    def __init__(self, it, lock):
        self.it, self.lock, self.index, self.element = it, lock, None, None


class _Feed:
    def __init__(self, make_iter, spec, sources=()):
        self._make_iter = make_iter   # None: continue the shared iterator ``_it``
        self._spec = spec
        self._sources = list(sources)   # traced tensors make_iter takes (graph_inputs)
        self._it = None
        self._runs = {}   # run id -> _Run
        self._ids = itertools.count()
        self._lock = threading.Lock()   # guards _runs

    def _run(self, index):
        return self._runs.get(int(index) >> _RUN_SHIFT)

    def start(self):
        from dlframe.ops.py_func import py_function

        def reset(*values):
            it = self._it if self._make_iter is None else self._make_iter(*values)
            run = next(self._ids) % (_RUN_IDS - 1) + 1   # 0: no run (a stand-in index)
            with self._lock:
                lock = next((r.lock for r in self._runs.values() if r.it is it), None)
                self._runs[run] = _Run(it, lock or threading.Lock())
                while len(self._runs) > _MAX_OPEN_RUNS:
                    del self._runs[next(iter(self._runs))]
            return np.int64(run << _RUN_SHIFT)
        return py_function(reset, self._sources, Tout=_dt.int64)

    def has_next(self, i):
        from dlframe.ops.py_func import py_function

        def fetch(index):
            index = int(index)
            run = self._run(index)
            if run is None:
                return np.bool_(False)
            if index != run.index:
                try:
                    with run.lock:
                        run.element = next(run.it)
                except StopIteration:
                    with self._lock:
                        self._runs.pop(index >> _RUN_SHIFT, None)
                    return np.bool_(False)
                run.index = index
            return np.bool_(True)
        return py_function(fetch, [i], Tout=_dt.bool)

    def get(self, i):
        from dlframe.ops.py_func import py_function
        leaves = S.flatten(self._spec)

        def take(index):
            run = self._run(index)
            if run is None or run.element is None:   # a trace's probe of the body (a
                # lazy TensorArray's first write) before any fetch: stand-in zeros
                # (strings: empty ones, which string ops can read)
                return [np.full([1 if d is None else d for d in s.shape.as_list()]
                                if s.shape.rank is not None else [],
                                b"" if s.dtype == _dt.string else 0,
                                s.dtype.as_numpy_dtype) for s in leaves]
            return S.flatten(run.element)
        flat = py_function(take, [i], Tout=[s.dtype for s in leaves])
        if not isinstance(flat, (list, tuple)):
            flat = [flat]
        for t, s in zip(flat, leaves):   # TF's iterator knows the element spec's
            t.set_shape(s.shape)         # static shapes (None dims stay None)
        return S.pack_sequence_as(self._spec, list(flat))


def feed(make_iter, spec, restart, sources=()):
    """The ``(start, has_next, get)`` builders of a graph loop over elements of
    ``spec`` from the iterator ``make_iter(*values)`` (opened anew on every run when
    ``restart``, else once), ``values`` being the run's values of the traced tensors
    ``sources`` (the loop's graph inputs); None when ``spec`` has leaves other than
    dense tensors (the loop then runs in Python while tracing)."""
    leaves = S.flatten(spec)
    if not leaves or any(type(s) is not TensorSpec for s in leaves):
        return None
    state = _Feed(make_iter, spec, sources)
    if not restart:
        state._it = make_iter()
        state._make_iter = None
    return state.start, state.has_next, state.get


def dataset_feed(dataset, device):
    """The builders of a graph loop over ``dataset``'s elements (Tensors on
    ``device``), opened anew on every run; a pipeline built from traced tensors is
    rebuilt from the run's values of them (graph_inputs). None where the elements
    are not all dense tensors (and the pipeline is not built from traced ones)."""
    from dlframe.data.graph_inputs import GraphArgs, raise_unfed
    built = GraphArgs(dataset)
    if not built.tensors:
        return feed(lambda: dataset._iter_output(device), dataset.element_spec,
                    restart=True)
    hooks = feed(lambda *values: built.elements(values, device),
                 dataset.element_spec, restart=True, sources=built.tensors)
    if hooks is None:
        raise_unfed(built)
    return hooks
