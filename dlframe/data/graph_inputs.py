"""Datasets built inside a ``dlframe.function`` from its traced tensors.

TF builds such a dataset with graph ops, so ``from_tensor_slices(x)``, ``take(k)``,
``range(n)`` or ``map(lambda v: v * scale)`` read each run's ``x``, ``k``, ``n`` and
``scale``. dlframe's pipelines run on host values, so a stage made while tracing
remembers how it was made (``Dataset.__new__`` keeps its constructor's arguments)
and an int argument read from a traced tensor keeps that tensor (``TracedInt``).
The traced tensors a pipeline was built from (``GraphArgs``) become inputs of the
op that opens its iteration (``graph_loop``); each run rebuilds the stages that
depend on them from that run's values (``GraphArgs.rebuilt``), reusing the others.

Found: traced tensors (function inputs, values computed from them, Variables) in a
stage's arguments, nested in lists, tuples and dicts, and in the closures of the
functions it is given (``map``, ``filter``, ``flat_map``...). A traced tensor held
elsewhere (an attribute of an object a function reads) stays at its trace-time
value, as for any Python object the stage keeps.
"""

import contextlib
import functools
import types

from dlframe.core import nest
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_spec import TensorSpec
from dlframe.data import structure as S
from dlframe.errors import InvalidArgumentError
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.ops.ragged_tensor import RaggedTensor


class TracedInt(int):
    """An int argument (``take``'s count, ``batch``'s size) read while tracing from a
    traced tensor; ``tensor`` is that tensor, read again at each run."""

    def __new__(cls, value, tensor):
        obj = int.__new__(cls, value)
        obj.tensor = tensor
        return obj


def flag_arg(value):
    """A bool argument (``batch``'s ``drop_remainder``): a traced tensor gives a
    ``TracedInt`` of its trace-time truth (read again at each run)."""
    if is_traced(value):
        return TracedInt(bool(value._device.to_numpy(value._value)), value)
    return bool(value)


def is_traced(value):
    """Whether ``value`` is a tensor (or Variable) of the active trace."""
    trace = STATE.trace
    return trace is not None and isinstance(value, Tensor) and trace.is_symbolic(value)


def note_construction(obj, args, kwargs):
    """Keeps a stage's constructor arguments when it is made while tracing."""
    if STATE.trace is not None:
        obj._built_from = (args, kwargs)


def _is_dataset(value):
    return hasattr(value, "_iter") and hasattr(value, "_inputs")


def _children(value):
    """The parts of ``value`` that may hold traced tensors, or None for a leaf."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, functools.partial):
        return [value.func, value.args, value.keywords or {}]
    if isinstance(value, types.FunctionType):
        cells = []
        for cell in value.__closure__ or ():
            try:
                cells.append(cell.cell_contents)
            except ValueError:   # an empty cell (a name assigned later)
                pass
        return cells
    if isinstance(value, types.MethodType):
        return [value.__func__]
    if _is_dataset(value):
        built = getattr(value, "_built_from", None)
        return None if built is None else [built[0], built[1]]
    if _is_composite(value):   # a RaggedTensor, SparseTensor: its components
        return nest.flatten(value, expand_composites=True)
    return None


def _is_composite(value):
    return isinstance(value, (RaggedTensor, SparseTensor))


class GraphArgs:
    """The traced tensors a pipeline was built from (``tensors``, distinct, in a
    fixed order; empty for a pipeline made outside the trace or from constants
    only) and the parts of it that hold them (rebuilt at each run)."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.tensors = []
        self._dirty = set()   # ids of the parts (stages, functions...) to rebuild
        found, done = {}, {}

        def walk(value):
            if isinstance(value, TracedInt):
                found.setdefault(id(value.tensor), value.tensor)
                return True
            if isinstance(value, Tensor):
                if is_traced(value):
                    found.setdefault(id(value), value)
                    return True
                return False
            key = id(value)
            if key in done:
                return done[key]
            parts = _children(value)
            if parts is None:
                return False
            done[key] = False   # (a function that refers to itself)
            dirty = False
            for part in parts:
                dirty = walk(part) or dirty
            done[key] = dirty
            if dirty:
                self._dirty.add(key)
            return dirty
        walk(dataset)
        self.tensors = list(found.values())

    def elements(self, values, device):
        """Iterates the elements (Tensors on ``device``) of the pipeline rebuilt from
        ``values``. Its functions were traced (their Python ``print``s shown) with
        the trace's pipeline: the rebuilt one's traces are quiet."""
        with _quiet():
            it = self.rebuilt(values)._iter_output(device)
        while True:
            with _quiet():
                try:
                    element = next(it)
                except StopIteration:
                    return
            yield element

    def rebuilt(self, values):
        """The pipeline with the parts that hold the traced tensors made again from
        ``values`` (this run's Tensors, in the order of ``tensors``)."""
        lookup = {id(t): v for t, v in zip(self.tensors, values)}
        memo = {}

        def new(value):
            if isinstance(value, TracedInt):
                found = lookup.get(id(value.tensor))
                return value if found is None else int(found.numpy())
            if isinstance(value, Tensor):
                return lookup.get(id(value), value)
            key = id(value)
            if key not in self._dirty:
                return value
            if key in memo:
                return memo[key]
            memo[key] = value   # (a function that refers to itself)
            memo[key] = result = _rebuild(value, new)
            return result
        return new(self.dataset)


@contextlib.contextmanager
def _quiet():
    """Python ``print``s of converted code are silent inside (as after a trace)."""
    before, STATE.silent_trace = STATE.silent_trace, True
    try:
        yield
    finally:
        STATE.silent_trace = before


def _rebuild(value, new):
    """``value`` with its parts replaced by ``new(part)``; ``value`` itself when no
    part changed."""
    parts = _children(value)
    if parts is None:
        return value
    fresh = [new(p) for p in parts]
    if all(a is b for a, b in zip(parts, fresh)):
        return value
    if _is_dataset(value):
        args, kwargs = fresh
        return type(value)(*args, **kwargs)
    if _is_composite(value):
        return nest.pack_sequence_as(value, fresh, expand_composites=True)
    if isinstance(value, dict):
        return type(value)(zip(value.keys(), fresh))
    if isinstance(value, tuple):
        return type(value)(*fresh) if hasattr(value, "_fields") else tuple(fresh)
    if isinstance(value, list):
        return fresh
    if isinstance(value, functools.partial):
        return functools.partial(fresh[0], *fresh[1], **fresh[2])
    if isinstance(value, types.MethodType):
        return types.MethodType(fresh[0], value.__self__)
    return _with_closure(value, iter(fresh))


def _with_closure(fn, contents):
    """A copy of function ``fn`` whose closure cells hold ``contents`` (empty cells
    stay empty)."""
    cells = []
    for cell in fn.__closure__:
        try:
            cell.cell_contents
        except ValueError:
            cells.append(types.CellType())
            continue
        cells.append(types.CellType(next(contents)))
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__,
                              fn.__defaults__, tuple(cells))
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__dict__.update(fn.__dict__)
    copy.__qualname__ = fn.__qualname__
    return copy


def single_element(dataset):
    """The only host element of ``dataset`` (InvalidArgumentError otherwise)."""
    it = dataset._iter()
    try:
        first = next(it)
    except StopIteration:
        raise InvalidArgumentError(None, None, "Dataset was empty.") from None
    for _ in it:
        raise InvalidArgumentError(None, None, "Dataset had more than one element.")
    return first


def run_time(built, compute, spec):
    """``compute(pipeline)`` (a host value of ``spec``) as an op of the trace that
    runs on the pipeline rebuilt from each run's values of ``built.tensors``."""
    from dlframe.ops.py_func import py_function
    leaves = S.flatten(spec)
    if not leaves or any(type(s) is not TensorSpec for s in leaves):
        raise_unfed(built)

    def body(*values):   # (a dlframe body: it also runs while tracing)
        with _quiet():
            return S.flatten(compute(built.rebuilt(values)))
    flat = py_function(body, built.tensors, Tout=[s.dtype for s in leaves])
    flat = list(flat) if isinstance(flat, (list, tuple)) else [flat]
    for t, s in zip(flat, leaves):
        t.set_shape(s.shape)
    return S.pack_sequence_as(spec, flat)


def raise_unfed(built):
    """The error for a pipeline built from traced tensors whose elements a graph
    loop cannot pull (ragged, sparse or nested-dataset leaves): a loop run while
    tracing would keep the trace's values for every later call."""
    raise NotImplementedError(
        f"Reading {type(built.dataset).__name__} inside a dlframe.function: it "
        f"was built from {len(built.tensors)} traced tensor(s) (the function's "
        "inputs or values computed from them) and its elements are not all dense "
        "tensors, which a graph loop cannot pull at each call. Build the dataset "
        "outside the function, or from dense tensors.")
