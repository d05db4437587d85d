"""The ``element_spec`` of ``Dataset.map``, found the way TF finds it: by tracing the
function on the input's spec.

dlframe's traces are concrete, so the function runs (under a trace) on placeholder
elements built from the input spec: unknown dimensions take two different sizes, and
the values a third setting. An output dimension that differs between the runs is
unknown, as are the outputs of ops whose shapes depend on values (``tf.range(n)``,
``tf.where``, ``tf.unique``: the trace marks them) and the results of
``tf.py_function`` / ``tf.numpy_function`` (unknown shape, as TF's), unless
``set_shape`` gave them one. As TF, their Python bodies do not run: their results
are placeholders (shape ``()``, resized by ``set_shape`` / ``tf.ensure_shape``);
only where the rest of the function cannot run on those (it reshapes or reads one
with no shape set) does the run repeat with the bodies called. An input of unknown
rank is rank 1 in the first run and rank 2 in the others. Where the function cannot
run on placeholders (it decodes or parses its input), a few real elements stand in
for them, as before.
"""

import contextlib
import functools
import random as _py_random

from dlframe.backends.base import np  # NumPy's global random state
from dlframe.core import static_dims as _static_dims
from dlframe.core import trace as _trace
from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.data import structure as S
from dlframe.data.dataset import _call
from dlframe.data.traced_fn import DatasetFunction
from dlframe.data.type_specs import NoneTensorSpec
from dlframe.errors import DTypeMismatchError, InvalidArgumentError, OpError
from dlframe.ops import py_func as _py_func
from dlframe.ops.ragged_spec import RaggedTensorSpec

# (size of unknown dimensions, value of every element, rank for an unknown rank) of
# the placeholder runs: an output whose rank follows an unknown input rank differs
_RUNS = ((2, 2, 1), (4, 3, 2), (5, 0, 2))
# the same with sizes large enough for crops (tried when the small ones fail), for
# placeholders of at most _LARGE_ELEMENTS elements
_LARGE_RUNS = ((521, 2, 1), (643, 3, 2), (587, 0, 2))
_LARGE_ELEMENTS = 1 << 21
CANNOT_RUN = object()   # placeholder_result of a function that needs real data
_OPAQUE = (_py_func._py_func_p, _py_func._numpy_func_p, _py_func._numpy_func_pure_p)


class _SpecTrace(_trace.Trace):
    """A trace that also remembers ``set_shape`` calls (TF's static shapes)."""

    def __init__(self, fill=_RUNS[0][:2], placeholders=True):
        super().__init__()
        # effects (Variable assignments, generator draws, prints) are recorded, not
        # run: TF traces without running them, so finding a spec changes no state
        self.run_effects = False
        self.skip_output_free_py_functions = True   # their bodies only have effects
        # as TF, py_function bodies do not run: their results are placeholders
        # (filled with this run's value; sized by set_shape / ensure_shape)
        self.placeholder_py_functions = placeholders
        self.placeholder_size, self.placeholder_fill = fill
        self.placeholders = {}   # id -> placeholder result Tensor of a py_function
        self.made_placeholders = False   # (also in cond / while branches)
        self.static_shapes = {}
        self.parsed_shapes = {}   # id -> (value, TensorShape) from tf.io parsers
        self.unknown = {}   # id -> axes TF leaves unknown (core.static_dims)

    def note_parsed_shape(self, value, shape):
        """A parser's static shape of its result ``value`` (a Tensor or
        SparseTensor): None where the size follows the data, as TF's parse ops."""
        self.parsed_shapes[id(value)] = (value, TensorShape(shape))

    def record(self, prim, inputs, outs, attrs, dev):
        if self.placeholder_py_functions and prim in _OPAQUE:
            self.placeholders.update((id(o), o) for o in outs)
        super().record(prim, inputs, outs, attrs, dev)

    def note_static_shape(self, tensor, shape):
        known = self.static_shapes.get(id(tensor), TensorShape(None))
        known = self.static_shapes[id(tensor)] = known.merge_with(TensorShape(shape))
        self.shape_placeholder(tensor, known)
        # the given dims are known downstream too (TF's shape inference)
        _static_dims.refine_static(self, tensor, known)

    def shape_placeholder(self, tensor, shape):
        """Gives a py_function's placeholder result ``tensor`` the (static) ``shape``
        (unknown dims take this run's size), so the ops after it can run."""
        shape = TensorShape(shape)
        if self.placeholders.get(id(tensor)) is not tensor or shape.rank is None:
            return
        dims = [self.placeholder_size if n is None else n for n in shape.as_list()]
        if list(tensor._value.shape) == dims:
            return
        tensor._value = _py_func.placeholder_array(
            tensor._device, dims, tensor.dtype, self.placeholder_fill)
        axes = frozenset(range(len(dims))) | {_static_dims.RANK}
        self.note_unknown(tensor, axes)

    def unruled_dynamic(self, tensor):
        """Whether ``tensor``'s size follows values through an op with no static
        shape rule (``unique``, ``boolean_mask``): its marks cannot tell which dims
        TF leaves unknown. Sizes from ops whose rule says their dims (a resize to a
        fixed size of a random crop) are told by the marks instead."""
        found = self.__dict__.get("_unruled")
        if found is None:
            found = self._unruled = set()
            # a set_shape / ensure_shape to a full shape pins the sizes (a CutMix
            # pad with tensor offsets to a fixed size)
            pinned = {key for key, shape in self.static_shapes.items()
                      if shape.is_fully_defined()}
            for prim, inputs, outs, attrs, _dev in self.nodes:
                if any(id(x) in found for x in inputs) or (
                        _static_dims.value_shaped(prim, inputs, attrs)
                        and not _has_static_dims(prim, inputs, attrs)):
                    found.update(id(o) for o in outs if id(o) not in pinned)
        return id(tensor) in found or (
            self.parent is not None and self.parent.is_dynamic(tensor))

    def opaque_outputs(self):
        return {id(o) for prim, _, outs, _, _ in self.nodes if prim in _OPAQUE
                for o in outs}


def _has_static_dims(prim, inputs, attrs):
    """Whether ``prim`` has a static shape rule that gives its outputs' dims."""
    rule = getattr(prim, "static_shape", None)
    if rule is None:
        return False
    in_dims = [list(x._value.shape) if isinstance(x, Tensor) else None for x in inputs]
    try:
        return rule(in_dims, attrs or {}) is not None
    except Exception:  # noqa: BLE001 - a rule that cannot tell: no dims
        return False


def _placeholder(spec, size, value, rank):
    if isinstance(spec, NoneTensorSpec):
        return None
    if isinstance(spec, RaggedTensorSpec) and spec.ragged_rank == 0:
        spec = S.TensorSpec(spec.shape, spec.dtype)   # its values are dense rows
    if not isinstance(spec, S.TensorSpec):
        raise _CannotTrace(spec)
    dims = [None] * rank if spec.shape.rank is None else spec.shape.as_list()
    shape = [size if d is None else d for d in dims]
    return _py_func.placeholder_array(S.host_device(), shape, spec.dtype, value)


def check_has_outputs(out, what="map_func"):
    """Raises TF's error (an ``InvalidArgumentError`` when the pipeline is built)
    for a function result with no tensors in it: most often a forgotten ``return``."""
    if out is None or (S.is_nested(out) and not S.flatten(out)):
        hint = " (did the function forget a `return`?)" if out is None else ""
        error = InvalidArgumentError(None, None, (
            f"`{what}` must return at least one tensor, got {out!r}{hint}: Length "
            f"for attr 'output_types' of 0 must be at least minimum 1"))
        error.no_outputs = True
        raise error


def _is_no_outputs(error):
    return getattr(error, "no_outputs", False)


def _fails_when_traced(error):
    """Errors TF raises while tracing a function on its input spec, so when the
    pipeline is built: no outputs, and operands of different dtypes (which do not
    depend on the values a placeholder holds)."""
    return _is_no_outputs(error) or isinstance(error, DTypeMismatchError)


class _CannotTrace(Exception):
    """The input spec has a component no placeholder can stand for."""


def _invoke(fn, args):
    """``fn`` on the Tensors ``args`` (a tuple is unpacked into arguments); a
    ``DatasetFunction`` runs its AutoGraph-converted code, printing on its first
    run only (TF traces once)."""
    unpack = type(args) is tuple
    if isinstance(fn, DatasetFunction):
        return fn.call_raw(args, unpack)
    return _call(fn, args, unpack=unpack)



def _input_trace(args, in_spec, **options):
    """A new spec trace (``options``: ``_SpecTrace``'s) whose inputs are the Tensor
    leaves of ``args``, named and shaped as TF's graph inputs (``args_0``, ... with
    ``in_spec``'s shapes)."""
    tr = _SpecTrace(**options)
    leaves = S.flatten(args)
    specs = S.flatten(in_spec) if in_spec is not None else []
    if len(specs) != len(leaves):
        specs = [None] * len(leaves)
    for i, (leaf, spec) in enumerate(zip(leaves, specs)):
        if isinstance(leaf, Tensor):
            tr.add_input(leaf, name=f"args_{i}", static_shape=_known_rank_shape(spec))
    return tr


def _known_rank_shape(spec):
    """``spec``'s shape, or None for no spec or an unknown rank (the runs' ranks
    differ instead: what follows it differs between them, what does not is known,
    as a reduction's scalar)."""
    shape = getattr(spec, "shape", None)
    return None if shape is None or shape.rank is None else shape


def _traced_call(fn, element, in_spec, fill, retry=True):
    """(trace, Tensor arguments, raw result) of ``fn`` on ``element`` under a spec
    trace whose ``py_function`` results are placeholders, as TF's; where the function
    cannot go on with them (it reshapes one without ``set_shape``, reads its value in
    Python), again with the bodies run (on ``element``) when ``retry``."""
    args = S.to_tensors(element, S.host_device())
    tr = _input_trace(args, in_spec, fill=fill)
    try:
        with _trace.tracing(tr):
            return tr, args, _invoke(fn, args)
    except Exception as e:  # retried below with the bodies run, or re-raised
        if not (retry and tr.made_placeholders) or _fails_when_traced(e):
            raise
    args = S.to_tensors(element, S.host_device())
    tr = _input_trace(args, in_spec, fill=fill, placeholders=False)
    with _trace.tracing(tr):
        return tr, args, _invoke(fn, args)


def _run(fn, element, in_spec=None, fill=_RUNS[0][:2]):
    """(trace, flat output leaves) of ``fn`` called on ``element`` under a trace;
    with the element's ``in_spec``, the trace also knows which output dimensions
    TF leaves unknown (``x[:2]`` of a None dimension)."""
    tr, args, out = _traced_call(fn, element, in_spec, fill)
    with _trace.tracing(tr):   # stacked nested lists are ops of the function
        out = S.function_output(out)
    check_has_outputs(out)
    if in_spec is not None:
        leaves, specs = S.flatten(args), S.flatten(in_spec)
        if len(specs) == len(leaves):
            tr.unknown = _static_dims.forced_unknown(tr, [
                (leaf, _known_rank_shape(spec)) for leaf, spec in zip(leaves, specs)
                if isinstance(leaf, Tensor) and _known_rank_shape(spec) is not None])
    else:   # dims a decoder (decode_png) or the values (rt.to_tensor()) decide
        tr.unknown = _static_dims.forced_unknown(tr, [])
    return tr, out


def _leaf_info(tr, leaf):
    """('dense', dtype, dims or None, value-shaped) for Tensors, else the leaf's spec."""
    parsed = tr.parsed_shapes.get(id(leaf))
    if parsed is not None and parsed[0] is leaf:
        if isinstance(leaf, Tensor):
            return ("dense", leaf.dtype, parsed[1].as_list(), False)
        return S.SparseTensorSpec(parsed[1], leaf.dtype)
    if isinstance(leaf, Tensor):
        if id(leaf) in tr.opaque_outputs() and id(leaf) not in tr.static_shapes:
            return ("dense", leaf.dtype, None, False)
        dims = _static_dims.static_dims(leaf, tr.unknown)
        noted = tr.static_shapes.get(id(leaf))
        if noted is not None and noted.rank is not None:
            dims = [n if n is not None else d for n, d in zip(noted.as_list(), dims)]
            if id(leaf) in tr.opaque_outputs():
                dims = noted.as_list()
        return ("dense", leaf.dtype, dims, tr.unruled_dynamic(leaf))
    return S.spec_of_leaf(S.to_host_leaf(leaf))


def _merge(infos, value_shaped_unknown):
    """One spec from the same leaf of several runs."""
    first = infos[0]
    if not (isinstance(first, tuple) and first[0] == "dense"):
        if all(i == first for i in infos):
            return first
        if isinstance(first, RaggedTensorSpec):
            return RaggedTensorSpec([None] * first.shape.rank, first.dtype,
                                    first.ragged_rank, first.row_splits_dtype)
        return functools.reduce(S.relax_spec, infos)
    dtype = first[1]
    if any(i[1] != dtype for i in infos):
        raise TypeError(f"map function output dtypes differ between runs: "
                        f"{[i[1].name for i in infos]}")
    all_dims = [i[2] for i in infos]
    if any(d is None for d in all_dims) or len({len(d) for d in all_dims}) > 1:
        return S.TensorSpec(None, dtype)
    dims = [col[0] if len(set(col)) == 1 else None for col in zip(*all_dims)]
    if value_shaped_unknown and first[3] and dims and None not in dims:
        dims[0] = None   # a size that depends on values (unique, boolean_mask)
    return S.TensorSpec(dims, dtype)


def _merged_spec(runs, value_shaped_unknown):
    structure = runs[0][1]
    flats = []
    for tr, out in runs:
        S.assert_same_structure(structure, out)
        flats.append([_leaf_info(tr, leaf) for leaf in S.flatten(out)])
    return S.pack_sequence_as(structure, [_merge(list(col), value_shaped_unknown)
                                          for col in zip(*flats)])


def placeholder_result(fn, in_spec):
    """``fn``'s raw result on one placeholder element of ``in_spec`` (as TF traces a
    predicate when the pipeline is built), or ``CANNOT_RUN`` when it cannot."""
    size, value, rank = _RUNS[0]
    try:
        element = S.map_structure(lambda s: _placeholder(s, size, value, rank),
                                  in_spec)
        # no retry: the result is only checked, as TF checks it when it traces
        with _host_random_kept():
            return _traced_call(fn, element, in_spec, (size, value), retry=False)[2]
    except Exception as e:  # a function that needs real data (re-raised if not)
        if _fails_when_traced(e):
            raise
        return CANNOT_RUN


@contextlib.contextmanager
def _host_random_kept():
    """Leaves Python's ``random`` (AugMix draws there) and NumPy's global generator
    (``np.random.uniform`` in a map) as it found them: TF traces a function once, so
    these extra placeholder runs must not consume their draws."""
    saved, saved_np = _py_random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        _py_random.setstate(saved)
        np.random.set_state(saved_np)


def _placeholder_runs(fn, in_spec, settings):
    """The ``_run`` results of ``fn`` on placeholder elements of ``in_spec``, one per
    (size, value, rank) of ``settings``; None when fewer than two could run."""
    runs = []
    with _host_random_kept():
        for size, value, rank in settings:
            try:
                element = S.map_structure(
                    lambda s, n=size, v=value, r=rank: _placeholder(s, n, v, r), in_spec)
                runs.append(_run(fn, element, in_spec, (size, value)))
            except Exception as e:  # a function that needs real data (re-raised if not)
                if _fails_when_traced(e):
                    raise
                if len(runs) < 2:
                    return None
    return runs


def _large_placeholders_fit(in_spec):
    """Whether some placeholder of ``in_spec`` has an unknown size (else the large
    runs would only repeat the small ones) and every one stays small with
    ``_LARGE_RUNS``'s sizes (an image of unknown height and width does; a volume of
    three unknown dimensions does not)."""
    size = max(n for n, _, _ in _LARGE_RUNS)
    rank = max(r for _, _, r in _LARGE_RUNS)
    unknown = False
    for spec in S.flatten(in_spec):
        shape = getattr(spec, "shape", None)
        if shape is None:
            continue
        dims = [None] * rank if shape.rank is None else shape.as_list()
        unknown = unknown or None in dims
        count = 1
        for d in dims:
            count *= size if d is None else d
        if count > _LARGE_ELEMENTS:
            return False
    return unknown


def traced_map_spec(fn, in_spec):
    """The spec of ``fn``'s results on elements of ``in_spec`` from placeholder runs,
    or None when the function cannot run on placeholders.

    Where the small placeholders are too small for the function (a random crop or
    ``crop_to_bounding_box`` of an image of unknown size), large ones stand in,
    as TF's spec does not depend on the sizes of the elements to come."""
    runs = _placeholder_runs(fn, in_spec, _RUNS)
    if runs is None and _large_placeholders_fit(in_spec):
        runs = _placeholder_runs(fn, in_spec, _LARGE_RUNS)
    if runs is None:
        return None
    try:
        return _merged_spec(runs, value_shaped_unknown=True)
    except (TypeError, ValueError):
        return None


def sampled_map_spec(fn, source, elements):
    """The spec of ``fn`` from runs on real ``elements`` of ``source`` (traced, so
    ``py_function`` results and ``set_shape`` count), relaxing sizes that follow the
    input's unknown dimensions; None when the function cannot run under a trace."""
    spec = None
    for element in elements:
        try:
            out = _merged_spec([_run(fn, element)], value_shaped_unknown=False)
        except OpError as e:  # an element the function fails on: the others tell
            if _is_no_outputs(e):
                raise
            continue
        except Exception as e:  # eager-only user code: the caller runs it
            if _is_no_outputs(e):
                raise
            return None
        out = S.relax_unknown_dims(out, source.element_spec, element)
        spec = out if spec is None else S.relax_spec(spec, out)
    return spec
