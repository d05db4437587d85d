"""Dataset functions run as TF runs them: traced once, then replayed per element.

TF traces a ``map`` function into a graph once, when the pipeline is built (AutoGraph
on), and runs that graph for every element. What users see of it: a Python ``print``
(or other Python code) runs once, at trace time, showing symbolic tensors named
``args_0``, ``args_1``, ...; random ops get op seeds fixed in the graph, so under a
global seed every new iterator draws the same sequence (their kernels restart with
the iterator), while a ``tf.random.Generator`` keeps its shared state.

``DatasetFunction`` wraps a user function that way. Its first run of Python code is
the visible trace (its prints show); every later run (the placeholder runs that find
the element spec, re-specializations for new element shapes) is quiet. Elements are
run through a ``dlframe.function`` over the flat element leaves, one graph per element
shape (at most ``MAX_GRAPHS``); where the function cannot be traced (it calls
``.numpy()``, takes ragged, sparse or nested-dataset elements), it runs eagerly, its
prints still quiet.

Random kernels belong to an iteration of the stage, as in TF where each iterator
instantiates the function: a stage's ``_iter`` takes a ``new_run()`` (the kernels'
positions) and passes it to every call, so two iterators open at once (or the two
inputs of ``zip(ds, ds)``) draw the same sequence independently, while ``repeat``
makes a ``RepeatScope`` active (``ACTIVE.scope``) that hands its input's stages
the runs of the previous epoch, so the kernels continue from epoch to epoch as
TF's do.
"""

import contextlib
import threading

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import function as _function
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.data import structure as S
from dlframe.errors import OpError
from dlframe.ops import random_kernels as _random_kernels

# distinct element shapes that get a graph each; beyond, the function runs eagerly
# (a new graph costs a trace and a compile: worth it only when shapes repeat)
MAX_GRAPHS = 16
_ARRAY_KINDS = frozenset("biufcO")
# .run: the kernel positions of the iteration calling a graph (this thread);
# .scope: the RepeatScope of the epoch being iterated here
ACTIVE = threading.local()


@contextlib.contextmanager
def _quiet(quiet):
    """Trace-time ``print`` of AutoGraph-converted code is silent inside."""
    before = STATE.silent_trace
    STATE.silent_trace = quiet or before
    try:
        yield
    finally:
        STATE.silent_trace = before


def host_call(fn, args, unpack):
    """Calls a user function with Tensors on the host device as the current one
    (the device scope makes ops that read GPU tensors it captured copy them to the
    host, as TF does: ``core.primitive.call``'s placement rule)."""
    backends.push_device(S.host_device())
    try:
        return fn(*args) if unpack else fn(args)
    finally:
        backends.pop_device()


def _graph_leaves(element):
    """The element's leaves when all are dense arrays a graph takes, else None."""
    leaves = S.flatten(element)
    for leaf in leaves:
        if type(leaf) is not np.ndarray or leaf.dtype.kind not in _ARRAY_KINDS:
            return None
    return leaves


def _is_stream(value):
    return isinstance(value, _random_kernels._Stream)


def _collect_streams(value, found, seen):
    """Appends ``(attrs, name, stream)`` for the seeded random kernels held by a
    graph's nodes, sub-graphs (cond / while bodies) included."""
    if id(value) in seen:
        return
    seen.add(id(value))
    program = getattr(value, "program", None)
    if isinstance(program, list):
        for step in program:
            attrs = step[4]
            for name, attr in attrs.items():
                if _is_stream(attr):
                    found.append((attrs, name, attr))
                else:
                    _collect_streams(attr, found, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_streams(item, found, seen)
    elif hasattr(value, "_graph"):   # a ConcreteFunction held by an op
        _collect_streams(value._graph, found, seen)


def _plain_template(template):
    """Whether a traced function's output template holds only tensors, containers
    and constants (no composites or other Python objects)."""
    if not isinstance(template, tuple):
        return True
    if template and template[0] in ("pyval", "composite"):
        return False
    return all(_plain_template(part) for part in template)


class DatasetFunction:
    """A user function of a dataset stage, traced once and replayed per element.

    Args:
      fn: the user's callable; called with the components of a tuple element as
        separate arguments, otherwise with the element.
    """

    def __init__(self, fn):
        self.fn = fn
        self._converted = None
        self._traced = False    # the visible (first) run of the Python code happened
        self._eager = False     # the function cannot be traced: run it eagerly
        self._function = None   # dlframe.function over the flat leaves
        self._graphs = {}       # element (shape, dtype) key -> ConcreteFunction
        self._streams = {}      # op seeds -> the random kernel all graphs share
        self._family_run = None  # kernel positions shared with sibling functions
        # () -> the input's element_spec or None: its unknown dims stay unknown in
        # the graphs (TF's one graph), so size checks become run-time errors
        self.input_spec = None
        self._lock = threading.RLock()
        family = getattr(ACTIVE, "family", None)
        if family is not None:   # made by a flat_map / interleave function call
            self._streams, self._family_run = family.sibling()

    # -- the Python code, for traces (spec_trace) and eager runs --------------------
    def converted(self):
        """The function with AutoGraph applied (``print`` then obeys traces)."""
        if self._converted is None:
            convert = _function.CONVERTER
            self._converted = convert(self.fn) if convert is not None else self.fn
        return self._converted

    def trace_run(self):
        """A context for one run of the Python code: the first one is the visible
        trace, later ones are quiet (TF traces once)."""
        with self._lock:
            quiet, self._traced = self._traced, True
        return _quiet(quiet)

    def call_raw(self, args, unpack):
        """The converted function's raw result on Tensors ``args`` (quiet after the
        first trace)."""
        with self.trace_run():
            return S.function_output(host_call(self.converted(), args, unpack))

    def call_element(self, element):
        """The function's raw result on a host ``element``, run eagerly (results that
        are datasets: ``flat_map``, ``interleave``)."""
        args = S.to_tensors(element, S.host_device())
        return self.call_raw(args, unpack=type(args) is tuple)

    # -- per element ------------------------------------------------------------------
    def new_run(self):
        """The random kernels' positions for one iteration of the stage: fresh, or
        those of the previous epoch under a ``repeat`` (or those its siblings in a
        ``flat_map`` use: see ``Family``)."""
        if self._family_run is not None:
            return self._family_run
        return take_state(self, dict)

    def __call__(self, element, run=None):
        """The function's raw result (Tensors) on a host ``element``; ``run`` (from
        ``new_run``) holds the random kernels' positions of the calling iteration."""
        if run is None:
            return self._call(element)
        before = getattr(ACTIVE, "run", None)
        ACTIVE.run = run
        try:
            return self._call(element)
        finally:
            ACTIVE.run = before

    def _call(self, element):
        leaves = None
        if not (self._eager or STATE.trace is not None or STATE.tapes):
            leaves = _graph_leaves(element)   # else recorded where it is called
        if leaves is not None:
            key = tuple((a.shape, a.dtype) for a in leaves)
            graph = self._graphs.get(key)
            if graph is not None:
                return graph._call_flat([Tensor(a, S.host_device()) for a in leaves])
            if len(self._graphs) < MAX_GRAPHS:
                return self._trace(element, leaves, key)
        return self.call_element(element)

    def _trace(self, element, leaves, key):
        with self._lock:
            graph = self._graphs.get(key)
            if graph is None:
                traced, out = self._new_graph(element, leaves, key)
                if traced:
                    return out
                graph = self._graphs.get(key)
        if graph is None:   # eager-only code (.numpy()): TF refuses it, dlframe runs it
            try:
                out = self.call_element(element)   # (or the element's own error)
            except Exception as exc:
                # the graph's run-time error (a box that does not fit an image of
                # unknown size) is TF's, where eager code checks sizes as known
                if isinstance(out, OpError) and not isinstance(exc, OpError):
                    raise out from None
                raise
            self._eager = True
            return out
        return graph._call_flat([Tensor(a, S.host_device()) for a in leaves])

    def _new_graph(self, element, leaves, key):
        """Traces the function for elements like ``element`` (the trace runs it on
        this element, effects included). Returns ``(True, result)`` when the trace's
        result stands for the element, else ``(False, None)``: run the new graph (its
        random kernels continue those of earlier graphs), or eagerly when the
        function cannot be traced (no graph was added; the result is then the
        trace's error)."""
        if self._function is None:
            self._function = _function.Function(
                self._flat_caller(element), autograph=False,
                input_signature=self._signature(leaves))
        tensors = [Tensor(a, S.host_device()) for a in leaves]
        try:
            with self.trace_run():
                self._function._trace_quietly = STATE.silent_trace
                out = host_call(self._function, tensors, unpack=True)
                graph = self._function.get_concrete_function(*tensors)
        except Exception as exc:  # any trace failure: eager (but the below)
            if getattr(exc, "from_py_function", False):
                raise   # a py_function body failed on this element (TF's error)
            return False, exc
        if not _plain_template(graph._out_template):
            self._eager = True   # composite results (sparse, ragged, datasets)
            return True, out
        self._graphs[key] = graph
        if self._share_streams(graph):
            return False, None   # the trace drew from its own kernels: run the graph
        return True, out

    def _share_streams(self, graph):
        """One random kernel per random op across this function's graphs (TF has one
        graph for all element shapes), whose position belongs to the calling
        iteration; True when ``graph``'s trace drew from kernels other than those
        (it must run again). A trace's kernels start at their op seeds, as the
        calling iteration's fresh ones would: they become that iteration's, so the
        trace's result stands and its Python effects are not run twice."""
        new = []
        _collect_streams(graph._graph, new, set())
        run = getattr(ACTIVE, "run", None)
        rerun = False
        seen = {}   # ops with equal seeds are still separate kernels (as in TF)
        for attrs, name, stream in new:
            key = (stream.seeds, seen.setdefault(stream.seeds, 0))
            seen[stream.seeds] += 1
            shared = self._streams.get(key)
            if shared is None:
                shared = self._streams[key] = _RunStream(type(stream)(stream.seeds))
            attrs[name] = shared
            if run is None or shared in run:
                rerun = True
            else:
                run[shared] = stream
        return rerun

    def _signature(self, leaves):
        """The input spec's TensorSpecs of the element's ``leaves`` (None dims where
        TF's graph has them), or None when there is no spec or it does not fit."""
        spec = self.input_spec() if self.input_spec is not None else None
        if spec is None:
            return None
        specs = S.flatten(spec)
        if len(specs) != len(leaves) or not all(
                type(sp) is S.TensorSpec and sp.shape.rank in (None, a.ndim)
                and sp.dtype.as_numpy_dtype == a.dtype
                and sp.shape.is_compatible_with(a.shape)
                for sp, a in zip(specs, leaves)):
            return None
        return specs

    def _flat_caller(self, element):
        structure = element
        unpack = type(element) is tuple
        target = self.converted()

        def call(*leaves):   # *args: TF's graph inputs are args_0, args_1, ...
            args = S.pack_sequence_as(structure, leaves)
            # lists nested in the result are Tensors of the graph (TF's rule)
            return S.function_output(target(*args) if unpack else target(args))
        return call


class _RunStream:
    """A traced graph's random kernel whose position is kept per iteration: the
    ``run`` of the calling thread (``DatasetFunction.__call__``), so every iterator
    starts its kernels afresh; calls outside a run (spec sampling) share the base."""

    __slots__ = ("base", "seeds")

    def __init__(self, base):
        self.base, self.seeds = base, base.seeds

    def reserve(self, d, n):
        run = getattr(ACTIVE, "run", None)
        if run is None:
            return self.base.reserve(d, n)
        stream = run.get(self)
        if stream is None:   # a fresh kernel: its sequence starts at the op seed
            stream = run.setdefault(self, type(self.base)(self.seeds))
        return stream.reserve(d, n)

    def __repr__(self):
        return f"<per-iteration random stream {self.seeds}>"


class RepeatScope:
    """What one epoch of a ``repeat`` hands the stages below it: the states (kernel
    positions, nested repeats' memos) they took in the previous epoch (``memo``),
    matched by owner and by the order they are taken in (``zip(ds, ds)`` takes
    two). ``end()`` keeps only this epoch's states for the next one, so datasets
    made per element (``flat_map``) do not pile up over endless epochs."""

    def __init__(self, memo):
        self.memo, self._taken, self._counts = memo, {}, {}

    def take(self, owner, factory):
        n = self._counts.get(owner, 0)
        self._counts[owner] = n + 1
        state = self.memo.get((owner, n))
        if state is None:
            state = factory()
        self._taken[(owner, n)] = state
        return state

    def end(self):
        """Makes this epoch's states the ones the next epoch takes."""
        self.memo.clear()
        self.memo.update(self._taken)


class Family:
    """The random kernels of the dataset functions that one iteration of a
    ``flat_map`` / ``interleave`` creates by calling its function per element: TF
    traces that function once, so the n-th dataset function made inside is one
    function whose kernels continue from one inner dataset to the next. Calls
    run inside ``family.making()``; the n-th function made in each call gets the
    n-th shared ``(streams, run)`` pair."""

    def __init__(self):
        self._shared = {}
        self._made = 0

    @contextlib.contextmanager
    def making(self):
        """A context for one call of the outer function."""
        before = getattr(ACTIVE, "family", None)
        ACTIVE.family, self._made = self, 0
        try:
            yield
        finally:
            ACTIVE.family = before

    def sibling(self):
        """The ``(streams, run)`` of the next dataset function made in this call."""
        n, self._made = self._made, self._made + 1
        return self._shared.setdefault(n, ({}, {}))


def take_state(owner, factory):
    """``factory()``, or the state ``owner`` took in the previous epoch of the
    enclosing ``repeat``."""
    scope = getattr(ACTIVE, "scope", None)
    return factory() if scope is None else scope.take(owner, factory)


def current_scope():
    """The ``RepeatScope`` active in this thread (handed to producer threads)."""
    return getattr(ACTIVE, "scope", None)
