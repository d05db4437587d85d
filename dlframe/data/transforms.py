"""Sequential transformations: batching, shuffling, selection, windows, nesting, caches."""

import collections
import itertools
import os

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor_shape import TensorShape
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, apply_fn, call_fn_raw, predicate_value
from dlframe.data.options import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.data.seeds import make_rng, resolve_seed
from dlframe.data.sources import _ListDataset, _TensorSliceDataset
from dlframe.errors import FailedPreconditionError, InvalidArgumentError
from dlframe.io.sparse_tensor import SparseTensor


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


# ---------------------------------------------------------------- batching
def stack_components(elements, first_index=None):
    """Stacks a list of host elements into one batched element.

    Raises:
      InvalidArgumentError: components of different shapes, naming the component, the
        element's position in the batch (and in the input) and both shapes.
    """
    structure = elements[0]
    columns = [S.flatten(e) for e in elements]
    out = []
    for c, first in enumerate(columns[0]):
        if isinstance(first, SparseTensor):
            out.append(_stack_sparse([col[c] for col in columns]))
            continue
        if isinstance(first, Dataset):
            raise TypeError("Cannot batch elements that contain datasets; use "
                            "flat_map(lambda w: w.batch(n)) on windows.")
        shape = first.shape
        for i, col in enumerate(columns):
            if col[c].shape != shape:
                where = "" if first_index is None else \
                    f" (element {first_index + i} of the input dataset)"
                raise InvalidArgumentError(
                    None, None, f"Cannot batch tensors with different shapes in component "
                    f"{c}. First element had shape {list(shape)} and element {i} had shape "
                    f"{list(col[c].shape)}{where}. Use padded_batch or ragged batching "
                    "for elements of varying shape.")
        out.append(np.stack([col[c] for col in columns]))
    return S.pack_sequence_as(structure, out)


def _stack_sparse(items):
    rank = max(len(np.asarray(sp.dense_shape)) for sp in items)
    shape = np.zeros(rank, dtype=np.int64)
    indices, values = [], []
    for b, sp in enumerate(items):
        ind = np.asarray(sp.indices, dtype=np.int64).reshape(-1, rank)
        shape = np.maximum(shape, np.asarray(sp.dense_shape, dtype=np.int64))
        indices.append(np.concatenate([np.full((len(ind), 1), b, np.int64), ind], axis=1))
        values.append(np.asarray(sp.values))
    return SparseTensor(np.concatenate(indices), np.concatenate(values),
                        np.concatenate([[len(items)], shape]).astype(np.int64))


class _BatchDataset(_PassThrough):
    def __init__(self, input_dataset, batch_size, drop_remainder):
        if batch_size <= 0:
            raise InvalidArgumentError(None, None, "Batch size must be greater than zero, "
                                       f"got batch_size={batch_size}.")
        super().__init__(input_dataset)
        self._batch_size = batch_size
        self._drop = drop_remainder

    def _compute_spec(self):
        dim = self._batch_size if self._drop else None
        return S.map_structure(lambda s: S.batch_spec(s, dim), self._input.element_spec)

    def _iter(self):
        src, b = self._input, self._batch_size
        if isinstance(src, _TensorSliceDataset):  # slice instead of stacking
            n = src._n
            stop = n - n % b if self._drop else n
            for start in range(0, stop, b):
                yield src._slices(start, min(start + b, stop))
            return
        buf, count = [], 0
        for element in src._iter():
            buf.append(element)
            if len(buf) == b:
                yield stack_components(buf, count)
                count += b
                buf = []
        if buf and not self._drop:
            yield stack_components(buf, count)

    def _cardinality(self):
        n = self._input._cardinality()
        if not _known(n):
            return n
        return n // self._batch_size if self._drop else -(-n // self._batch_size)


class _PaddedBatchDataset(_BatchDataset):
    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values,
                 drop_remainder):
        super().__init__(input_dataset, batch_size, drop_remainder)
        spec = input_dataset.element_spec
        flat_spec = S.flatten(spec)
        for s in flat_spec:
            if not isinstance(s, S.TensorSpec):
                raise TypeError(f"padded_batch supports dense components only, got {s}")
        self._spec_shapes = None
        if padded_shapes is None:
            for s in flat_spec:
                if s.shape.rank is None:
                    raise ValueError("You must provide `padded_shapes` when a component "
                                     "has unknown rank.")
            shapes = [TensorShape([None] * s.shape.rank) for s in flat_spec]
            # the spec reports the input's known sizes (as TF); padding still goes to
            # the longest in each batch, the input's spec being inferred from samples
            self._spec_shapes = [s.shape for s in flat_spec]
        else:
            shapes = [TensorShape([None if d is None or (not isinstance(d, TensorShape)
                                                          and int(d) < 0) else d
                                   for d in _dims(p)])
                      for p in _flatten_up_to(spec, padded_shapes)]
        for s, p in zip(flat_spec, shapes):
            if not p.is_compatible_with(TensorShape([None] * p.rank)) or (
                    s.shape.rank is not None and s.shape.rank != p.rank):
                raise ValueError(f"The padded shape {p} is not compatible with the shape "
                                 f"{s.shape} of the corresponding input component.")
        if padding_values is None:
            pads = [b"" if s.dtype is _dt.string else 0 for s in flat_spec]
        elif not S.is_nested(padding_values) and S.is_nested(spec):
            pads = [padding_values] * len(flat_spec)
        else:
            pads = _flatten_up_to(spec, padding_values)
        self._pad_shapes = shapes
        self._pad_values = [np.asarray(S.to_host_array(v), dtype=s.dtype._np).reshape(())
                            for v, s in zip(pads, flat_spec)]
        self._spec_in = spec

    def _compute_spec(self):
        dim = self._batch_size if self._drop else None
        shapes = self._spec_shapes or self._pad_shapes
        flat = [S.TensorSpec([dim] + p.dims, s.dtype)
                for p, s in zip(shapes, S.flatten(self._spec_in))]
        return S.pack_sequence_as(self._spec_in, flat)

    def _iter(self):
        buf = []
        for element in self._input._iter():
            buf.append(element)
            if len(buf) == self._batch_size:
                yield self._pad(buf)
                buf = []
        if buf and not self._drop:
            yield self._pad(buf)

    def _pad(self, elements):
        columns = [S.flatten(e) for e in elements]
        out = []
        for c, (pshape, pad) in enumerate(zip(self._pad_shapes, self._pad_values)):
            arrays = [col[c] for col in columns]
            target = []
            for axis, d in enumerate(pshape.dims):
                longest = max(a.shape[axis] for a in arrays)
                if d is not None and longest > d:
                    raise InvalidArgumentError(
                        None, None, "Attempted to pad to a smaller size than the input "
                        f"element: component {c} has dimension {axis} of size {longest} "
                        f"but the padded shape is {pshape}.")
                target.append(longest if d is None else d)
            batch = np.full([len(arrays)] + target, pad, dtype=pad.dtype)
            for i, a in enumerate(arrays):
                batch[(i,) + tuple(slice(0, k) for k in a.shape)] = a
            out.append(batch)
        return S.pack_sequence_as(elements[0], out)


def _dims(shape):
    if isinstance(shape, TensorShape):
        return shape.dims
    if hasattr(shape, "numpy"):
        shape = shape.numpy().tolist()
    return list(shape)


def _flatten_up_to(spec, values):
    """Leaves of ``values`` at ``spec``'s leaf positions (values' leaves may be lists)."""
    if isinstance(spec, dict):
        return [x for k in sorted(spec) for x in _flatten_up_to(spec[k], values[k])]
    if isinstance(spec, tuple):
        return [x for s, v in zip(spec, values) for x in _flatten_up_to(s, v)]
    return [values]


class _UnbatchDataset(_PassThrough):
    def _compute_spec(self):
        return S.map_structure(lambda s: S.unbatch_spec(s), self._input.element_spec)

    def _iter(self):
        for element in self._input._iter():
            flat = S.flatten(element)
            for leaf in flat:
                if not isinstance(leaf, np.ndarray) or leaf.ndim == 0:
                    raise InvalidArgumentError(
                        None, None, "Input element must have a non-scalar value in each "
                        "component to unbatch.")
            n = flat[0].shape[0]
            if any(leaf.shape[0] != n for leaf in flat):
                raise InvalidArgumentError(
                    None, None, "Input element must have the same batch size in each "
                    f"component; got {[leaf.shape[0] for leaf in flat]}.")
            for i in range(n):
                yield S.pack_sequence_as(element, [leaf[i, ...] for leaf in flat])

    def _cardinality(self):
        n = self._input._cardinality()
        return INFINITE_CARDINALITY if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY


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
        if not reshuffle and self._seed is None:  # one random order, kept
            self._seed = (0, int(np.random.default_rng().integers(2**62)))
        self._epoch = itertools.count()

    def _sample_iter(self):
        return self._input._sample_iter()

    def _iter(self):
        epoch = next(self._epoch) if self._reshuffle else 0
        rng = make_rng(self._seed, epoch)
        limit = self._buffer_size if self._buffer_size > 0 else float("inf")
        source = self._input._iter()
        buf = []
        for element in source:
            buf.append(element)
            if len(buf) >= limit:
                break
        exhausted = len(buf) < limit
        while buf:
            i = int(rng.integers(len(buf)))
            out = buf[i]
            if not exhausted:
                try:
                    buf[i] = next(source)
                except StopIteration:
                    exhausted = True
            if exhausted:
                buf[i] = buf[-1]
                buf.pop()
            yield out

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
        for _ in epochs:
            produced = False
            for element in self._input._iter():
                produced = True
                yield element
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
        self._predicate = predicate

    def _iter(self):
        for element in self._input._iter():
            if predicate_value(call_fn_raw(self._predicate, element)):
                yield element

    def _cardinality(self):
        n = self._input._cardinality()
        return INFINITE_CARDINALITY if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY


class _TakeWhileDataset(_FilterDataset):
    def _iter(self):
        for element in self._input._iter():
            if not predicate_value(call_fn_raw(self._predicate, element)):
                return
            yield element

    def _cardinality(self):
        return UNKNOWN_CARDINALITY


class _UniqueDataset(_PassThrough):
    def _iter(self):
        seen = set()
        for element in self._input._iter():
            if not isinstance(element, np.ndarray) or element.ndim != 0 or \
                    element.dtype.kind not in "iuO":
                raise TypeError("Dataset.unique() supports scalar integer or string "
                                "elements only.")
            key = element.item()
            if key not in seen:
                seen.add(key)
                yield element

    def _cardinality(self):
        n = self._input._cardinality()
        return INFINITE_CARDINALITY if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY


# ---------------------------------------------------------------- windows and nesting
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
        self._fn = map_func

    def _compute_spec(self):
        for element in self._input._sample_iter():
            return _as_dataset(call_fn_raw(self._fn, element), "map_func").element_spec
        raise ValueError("Cannot infer the element_spec of an empty dataset.")

    def _iter(self):
        for element in self._input._iter():
            yield from _as_dataset(call_fn_raw(self._fn, element), "map_func")._iter()


class _InterleaveDataset(_FlatMapDataset):
    def __init__(self, input_dataset, map_func, cycle_length, block_length):
        super().__init__(input_dataset, map_func)
        if cycle_length == AUTOTUNE:
            cycle_length = os.cpu_count() or 1
        if cycle_length <= 0:
            raise InvalidArgumentError(None, None, "cycle_length must be greater than zero,"
                                       f" got {cycle_length}")
        if block_length <= 0:
            raise InvalidArgumentError(None, None, "block_length must be greater than zero,"
                                       f" got {block_length}")
        self._cycle, self._block = cycle_length, block_length

    def _iter(self):
        source = self._input._iter()
        slots = [None] * self._cycle
        source_done = False
        i = 0
        while True:
            if slots[i] is None and not source_done:
                try:
                    element = next(source)
                except StopIteration:
                    source_done = True
                else:
                    slots[i] = _as_dataset(call_fn_raw(self._fn, element), "map_func")._iter()
            if slots[i] is not None:
                for _ in range(self._block):
                    try:
                        yield next(slots[i])
                    except StopIteration:
                        slots[i] = None
                        break
            if source_done and all(s is None for s in slots):
                return
            i = (i + 1) % self._cycle


class _ScanDataset(_PassThrough):
    _spec_runs_functions = True

    def __init__(self, input_dataset, initial_state, scan_func):
        super().__init__(input_dataset)
        self._state = S.to_host(initial_state)
        self._fn = scan_func

    def _compute_spec(self):
        return Dataset._compute_spec(self)

    def _iter(self):
        state = self._state
        for element in self._input._iter():
            out = apply_fn(lambda s, e: self._fn(s, e), (state, element))
            if not isinstance(out, tuple) or len(out) != 2:
                raise TypeError("The scan function must return a pair "
                                "(new_state, output_element).")
            state, value = out
            yield value

    def _cardinality(self):
        return self._input._cardinality()


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
                    "elements but contained at least one more.")
            yield element
        if self._expected == INFINITE_CARDINALITY or count < self._expected:
            raise FailedPreconditionError(
                None, None, f"Input dataset was expected to contain {self._expected} "
                f"elements but contained only {count} elements.")
