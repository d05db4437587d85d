"""Datasets that start or combine pipelines: slices, tensors, range, generator, zip,
concatenate, list_files and sampling between datasets."""

import glob
import itertools
import os

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, _int_arg
from dlframe.data.options import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.errors import InvalidArgumentError
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.ops.ragged_spec import RaggedTensorSpec
from dlframe.ops.ragged_tensor import RaggedTensor


class GeneratorElementError(InvalidArgumentError, TypeError):
    """A ``from_generator`` value does not match ``output_signature``.

    TF reports this as ``InvalidArgumentError`` wrapping a ``TypeError``; this is both.
    """


class _ListDataset(Dataset):
    """A dataset over a list of host elements with a known spec (windows, caches)."""

    def __init__(self, elements, spec):
        super().__init__()
        self._elements = elements
        self._spec = spec

    def _iter(self):
        return iter(self._elements)

    def _cardinality(self):
        return len(self._elements)


class _TensorDataset(Dataset):
    def __init__(self, tensors):
        super().__init__()
        self._element = S.to_host_input(tensors)
        self._spec = S.spec_of(self._element)

    def _iter(self):
        yield self._element

    def _cardinality(self):
        return 1


class _TensorSliceDataset(Dataset):
    def __init__(self, tensors):
        super().__init__()
        element = S.to_host_input(tensors)
        flat = S.flatten(element)
        if not flat:
            raise ValueError("from_tensor_slices needs at least one component.")
        sizes = []
        for leaf in flat:
            if isinstance(leaf, SparseTensor) or not isinstance(leaf, np.ndarray):
                raise TypeError(f"from_tensor_slices does not support component {leaf!r}")
            if leaf.ndim == 0:
                raise ValueError(f"Unbatching a tensor is only supported for rank >= 1, "
                                 f"got a scalar component {leaf!r}")
            sizes.append(leaf.shape[0])
        if len(set(sizes)) > 1:
            raise ValueError(f"Dimensions {sizes[0]} and {next(s for s in sizes if s != sizes[0])}"
                             " are not compatible: all components of from_tensor_slices "
                             f"must have the same first dimension; got {sizes}")
        # A private copy: later changes to the caller's arrays must not leak in.
        self._flat = [np.array(leaf, copy=True) for leaf in flat]
        self._structure = element
        self._n = sizes[0]
        self._spec = S.map_structure(lambda leaf: S.TensorSpec(
            leaf.shape[1:], _dt.from_numpy(leaf.dtype)), element)

    def _iter(self):
        flat, structure = self._flat, self._structure
        single = len(flat) == 1 and not S.is_nested(structure)
        for i in range(self._n):
            if single:
                yield flat[0][i, ...]
            else:
                yield S.pack_sequence_as(structure, [leaf[i, ...] for leaf in flat])

    def _slices(self, start, stop):
        """Components ``[start:stop]`` without per-element stacking (batch fast path)."""
        return S.pack_sequence_as(self._structure, [leaf[start:stop] for leaf in self._flat])

    def _cardinality(self):
        return self._n


class _RangeDataset(Dataset):
    def __init__(self, *args, output_type=_dt.int64, name=None, dtype=None):
        super().__init__()
        args = [_int_arg(a, "range argument") if a is not None else None for a in args]
        if len(args) == 1:
            start, stop, step = 0, args[0], 1
        elif len(args) == 2:
            (start, stop), step = args, 1
        elif len(args) == 3:
            start, stop, step = args
        else:
            raise ValueError(f"Dataset.range takes 1 to 3 arguments, got {len(args)}")
        if step == 0:
            raise InvalidArgumentError(None, None, "step size cannot be 0")
        self._start, self._stop, self._step = start, stop, step
        self._dtype = _dt.as_dtype(dtype or output_type)
        self._spec = S.TensorSpec([], self._dtype)

    def _iter(self):
        np_dtype = self._dtype._np
        values = itertools.count(self._start, self._step) if self._stop is None else \
            range(self._start, self._stop, self._step)
        for v in values:
            yield np.array(v, dtype=np_dtype)

    def _cardinality(self):
        if self._stop is None:
            return INFINITE_CARDINALITY
        return len(range(self._start, self._stop, self._step))


# ---------------------------------------------------------------- generator
def _signature_from_legacy(types, shapes):
    """Nested TensorSpecs from the deprecated ``output_types`` / ``output_shapes``."""
    if types is None:
        raise TypeError("from_generator needs `output_signature` (or the deprecated "
                        "`output_types`).")
    if isinstance(types, dict):
        return {k: _signature_from_legacy(types[k], None if shapes is None else shapes[k])
                for k in types}
    if isinstance(types, (tuple, list)):
        return tuple(_signature_from_legacy(t, None if shapes is None else shapes[i])
                     for i, t in enumerate(types))
    return S.TensorSpec(shapes, types)


class _GeneratorDataset(Dataset):
    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        super().__init__()
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_signature is not None:
            for name, value in (("output_types", output_types),
                                ("output_shapes", output_shapes)):
                if value is not None:
                    raise TypeError(f"The `{name}` argument can not be used together "
                                    "with the `output_signature` argument.")
            spec = S.lists_to_tuples(output_signature)
            for leaf in S.flatten(spec):
                if not S.is_spec(leaf):
                    raise TypeError(f"`output_signature` must contain objects that are "
                                    f"subclass of `tf.TypeSpec` but found {type(leaf)}")
        else:
            spec = _signature_from_legacy(output_types, output_shapes)
        self._generator = generator
        self._args = tuple(S.to_numpy_value(S.to_host_leaf(a)) for a in (args or ()))
        self._spec = spec

    def _iter(self):
        spec = self._spec
        flat_spec = S.flatten(spec)
        values = _user_code(lambda: iter(self._generator(*self._args)))
        while True:
            try:
                value = _user_code(lambda: next(values))
            except StopIteration:   # the generator's end (not an error)
                return
            yield _conform(value, spec, flat_spec)


def _user_code(step):
    """Runs one step of the user's generator; an exception it raises comes out as
    the OpError TF's iterator raises for it (InvalidArgumentError for ValueError and
    TypeError, else UnknownError, the message naming the original exception)."""
    from dlframe.ops.py_func import _op_error
    try:
        return step()
    except StopIteration:
        raise
    except Exception as exc:
        raise _op_error(exc, "generator") from exc


def _conform(value, spec, flat_spec):
    """Converts one generator value to ``spec`` or raises GeneratorElementError."""
    if S.is_nested(spec):
        # only the spec's own nesting is structure: a list at a spec leaf is one
        # tensor's value (TF flattens the element up to the signature)
        leaves = _flatten_up_to(spec, value)
        if leaves is None:
            types = S.map_structure(lambda s: s.dtype, spec)
            raise GeneratorElementError(
                None, None, "`generator` yielded an element that did not match the "
                f"expected structure. The expected structure was {types}, but the yielded "
                f"element was {value!r}.")
    else:
        leaves = [value]
    out = [_conform_leaf(v, s) for v, s in zip(leaves, flat_spec)]
    return S.pack_sequence_as(spec, out) if S.is_nested(spec) else out[0]


def _flatten_up_to(spec, value):
    """The parts of ``value`` at the leaves of ``spec`` (lists count as tuples), or
    None when ``value`` lacks part of the structure."""
    if isinstance(spec, dict):
        if not isinstance(value, dict) or sorted(value) != sorted(spec):
            return None
        parts = [_flatten_up_to(spec[k], value[k]) for k in sorted(spec)]
    elif isinstance(spec, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(spec):
            return None
        parts = [_flatten_up_to(s, v) for s, v in zip(spec, value)]
    else:
        return [value]
    if any(p is None for p in parts):
        return None
    return [leaf for p in parts for leaf in p]


def _conform_ragged(value, spec):
    """A generator value (RaggedTensor or nested lists) as a RaggedTensor of ``spec``."""
    from dlframe.ops import ragged_ops
    if not isinstance(value, RaggedTensor):
        try:
            value = ragged_ops.constant(value, dtype=spec.dtype,
                                        ragged_rank=spec.ragged_rank)
        except (TypeError, ValueError):
            raise GeneratorElementError(
                None, None, "`generator` yielded an element that could not be converted "
                f"to the expected type. The expected type was {spec!r}, but the yielded "
                f"element was {value!r}.") from None
    elif value.dtype != spec.dtype:
        value = value.with_values(value.values.numpy().astype(spec.dtype._np))
    if not spec.is_compatible_with(value):
        raise GeneratorElementError(
            None, None, f"`generator` yielded a RaggedTensor of shape {value.shape} "
            f"where {spec!r} was expected.")
    return value


def _conform_leaf(value, spec):
    if isinstance(spec, S.SparseTensorSpec):
        return S.to_host_leaf(value)
    if isinstance(spec, RaggedTensorSpec):
        return _conform_ragged(value, spec)
    dtype = spec.dtype
    try:
        if isinstance(value, Tensor):
            arr = S.to_host_array(value)
            if arr.dtype != dtype._np:
                arr = arr.astype(dtype._np)
        elif dtype is _dt.string:
            # not np.asarray: NumPy's fixed-width bytes drop trailing NUL bytes (a
            # serialized tf.train.Example often ends with one)
            arr = value if isinstance(value, np.ndarray) else S.to_host_array(value)
            if arr.dtype.kind in ("U", "S"):
                arr = S._encode_strings(arr)
            elif arr.dtype != object:
                raise TypeError("not a string")
        else:
            arr = np.asarray(value)
            if arr.dtype.kind in ("U", "S", "O"):
                raise TypeError("not numeric")
            arr = arr.astype(dtype._np)
    except (TypeError, ValueError):
        raise GeneratorElementError(
            None, None, "`generator` yielded an element that could not be converted to "
            f"the expected type. The expected type was {dtype.name}, but the yielded "
            f"element was {value!r}.") from None
    if not spec.shape.is_compatible_with(arr.shape):
        raise GeneratorElementError(
            None, None, f"`generator` yielded an element of shape {arr.shape} where an "
            f"element of shape {spec.shape} was expected.")
    return arr


# ---------------------------------------------------------------- combining
def _combined_cardinality(cards):
    if any(c == UNKNOWN_CARDINALITY for c in cards):
        finite = [c for c in cards if c >= 0]
        return min(finite) if finite and min(finite) == 0 else UNKNOWN_CARDINALITY
    finite = [c for c in cards if c >= 0]
    return min(finite) if finite else INFINITE_CARDINALITY


def _check_zip_input(structure):
    """TF refuses Python lists (a list would be ambiguous with a tensor) and any
    leaf that is not a Dataset."""
    prefix = ("Invalid input to `zip`. Inputs are expected to be (nested) structures "
              "of `tf.data.Dataset` objects")
    if isinstance(structure, list):
        raise TypeError(f"{prefix}. Python `list` is not supported and you should use "
                        "`tuple` instead.")
    if isinstance(structure, dict):
        for v in structure.values():
            _check_zip_input(v)
    elif isinstance(structure, tuple):
        for v in structure:
            _check_zip_input(v)
    elif not isinstance(structure, Dataset):
        raise TypeError(f"{prefix} but encountered object of type {type(structure)}.")


class _ZipDataset(Dataset):
    def __init__(self, structure):
        _check_zip_input(structure)
        flat = S.flatten(structure)
        super().__init__(flat)
        self._structure = structure

    def _compute_spec(self):
        return S.pack_sequence_as(self._structure, [d.element_spec for d in self._inputs])

    def _iter(self):
        iters = [d._iter() for d in self._inputs]
        while True:
            parts = []
            for it in iters:
                try:
                    parts.append(next(it))
                except StopIteration:
                    return
            yield S.pack_sequence_as(self._structure, parts)

    def _cardinality(self):
        return _combined_cardinality([d._cardinality() for d in self._inputs])


class _ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        if not isinstance(second, Dataset):
            raise TypeError(f"concatenate expects a Dataset, got {type(second).__name__}")
        super().__init__((first, second))
        a, b = first.element_spec, second.element_spec
        if not S.same_structure(a, b):
            raise TypeError(f"Incompatible dataset elements:\n  {a} vs.\n  {b}")
        try:
            self._spec = S.relax_spec(a, b)
        except TypeError:
            raise TypeError(f"Incompatible dataset elements:\n  {a} vs.\n  {b}") from None

    def _iter(self):
        yield from self._inputs[0]._iter()
        yield from self._inputs[1]._iter()

    def _cardinality(self):
        a, b = (d._cardinality() for d in self._inputs)
        if INFINITE_CARDINALITY in (a, b):
            return INFINITE_CARDINALITY
        if UNKNOWN_CARDINALITY in (a, b):
            return UNKNOWN_CARDINALITY
        return a + b


def list_files(file_pattern, shuffle=None, seed=None):
    patterns = S.to_host_input(file_pattern)
    patterns = [p.decode() if isinstance(p, bytes) else str(p)
                for p in np.asarray(patterns, dtype=object).reshape(-1)]
    names = sorted({m for p in patterns for m in glob.glob(os.path.expanduser(p))})
    if not names:
        raise InvalidArgumentError(None, None, f"No files matched pattern: "
                                   f"{', '.join(patterns)}")
    ds = _TensorSliceDataset(np.asarray([n.encode() for n in names], dtype=object))
    if shuffle is None or shuffle:
        ds = ds.shuffle(len(names), seed=seed)
    return ds


def _common_spec(datasets):
    """The element spec of a dataset drawing from ``datasets`` (TF's TypeError when
    their specs have no common spec)."""
    spec = datasets[0].element_spec
    for i, d in enumerate(datasets[1:], 1):
        other = d.element_spec
        try:
            if not S.same_structure(spec, other):
                raise TypeError
            spec = S.relax_spec(spec, other)
        except TypeError:
            raise TypeError(
                "Invalid `datasets`. `datasets` must have compatible element specs.\n "
                f"Dataset 0 element_spec={datasets[0].element_spec}.\n"
                f"Dataset {i} element_spec={other}.") from None
    return spec


def _drawing_cardinality(datasets):
    """TF's cardinality of a dataset drawing from ``datasets``: infinite as soon as
    one input is, else unknown (whatever the choices or ``stop_on_empty_dataset``)."""
    if any(d._cardinality() == INFINITE_CARDINALITY for d in datasets):
        return INFINITE_CARDINALITY
    return UNKNOWN_CARDINALITY


class _ChooseDataset(Dataset):
    def __init__(self, datasets, choice_dataset, stop_on_empty):
        datasets = list(datasets)
        if not datasets:
            raise ValueError("Invalid `datasets`. `datasets` should not be empty.")
        super().__init__(datasets + [choice_dataset])
        spec = choice_dataset.element_spec
        if spec.dtype != _dt.int64 or spec.shape.rank != 0:
            raise TypeError("Invalid `choice_dataset`. Elements of `choice_dataset` must be "
                            f"scalar `tf.int64` tensors but are {spec}.")
        self._n = len(datasets)
        self._stop = stop_on_empty
        self._spec = _common_spec(datasets)

    def _cardinality(self):
        return _drawing_cardinality(self._inputs[:self._n])

    def _iter(self):
        def picks():
            for choice in self._inputs[self._n]._iter():
                i = int(choice)
                if not 0 <= i < self._n:
                    raise InvalidArgumentError(
                        None, None, f"Selector index out of range: {i} >= {self._n}")
                yield i
        yield from draw_from([d._iter() for d in self._inputs[:self._n]], picks(),
                             self._stop)


def draw_from(iters, picks, stop_on_empty):
    """The elements of ``iters`` taken in the order of the input indices ``picks``
    (TF's directed interleave, behind choose_from/sample_from_datasets): a pick of an
    exhausted input is skipped; the draw ends when ``picks`` ends, when every input
    is exhausted, or at the first exhausted input with ``stop_on_empty``."""
    live = [True] * len(iters)
    for i in picks:
        if not live[i]:   # TF skips the picks of an exhausted input
            continue
        try:
            yield next(iters[i])
        except StopIteration:
            if stop_on_empty:
                return
            live[i] = False
            if not any(live):
                return
