"""``for element in dataset`` inside a ``dlframe.function``: a graph loop that pulls
the dataset's elements each time the graph runs (TF's loop over an iterator), not a
copy of the elements seen while tracing.

AutoGraph asks an iterable for ``_graph_iteration()`` and receives three op builders:
``start()`` (a token that opens the iteration), ``has_next(i)`` (whether element ``i``
exists, fetching it) and ``get(i)`` (element ``i``). Fetches are keyed by the loop
counter so that running a builder twice for the same ``i`` (tracing runs the loop's
condition and body once before the loop itself runs) takes one element, not two.
"""

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor_spec import TensorSpec
from dlframe.data import structure as S


class _Feed:
    def __init__(self, make_iter, spec, sources=()):
        self._make_iter = make_iter   # None: continue the current iterator
        self._spec = spec
        self._sources = list(sources)   # traced tensors make_iter takes (graph_inputs)
        self._it = None
        self._index = None
        self._element = None

    def start(self):
        from dlframe.ops.py_func import py_function

        def reset(*values):
            if self._make_iter is not None:
                self._it = self._make_iter(*values)
            self._index, self._element = None, None
            return np.int64(0)
        return py_function(reset, self._sources, Tout=_dt.int64)

    def has_next(self, i):
        from dlframe.ops.py_func import py_function

        def fetch(index):
            index = int(index)
            if index != self._index:
                try:
                    self._element = next(self._it)
                except StopIteration:
                    return np.bool_(False)
                self._index = index
            return np.bool_(True)
        return py_function(fetch, [i], Tout=_dt.bool)

    def get(self, i):
        from dlframe.ops.py_func import py_function
        leaves = S.flatten(self._spec)

        def take(index):
            if self._element is None:   # a trace's probe of the body (a lazy
                # TensorArray's first write) before any fetch: stand-in zeros
                # (strings: empty ones, which string ops can read)
                return [np.full([1 if d is None else d for d in s.shape.as_list()]
                                if s.shape.rank is not None else [],
                                b"" if s.dtype == _dt.string else 0,
                                s.dtype.as_numpy_dtype) for s in leaves]
            return S.flatten(self._element)
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
