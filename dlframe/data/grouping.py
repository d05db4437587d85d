"""Grouping and re-batching transformations: ``group_by_window``,
``bucket_by_sequence_length`` (built on it), ``rebatch`` and ``ignore_errors``; and the
endless sources ``counter`` and ``random``."""

import itertools

import numpy as np

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.data import spec_trace
from dlframe.data import structure as S
from dlframe.data.batching import element_rows, stack_components
from dlframe.data.dataset import Dataset, _spec_is_cheap, call_fn_raw
from dlframe.data.nesting import _as_dataset
from dlframe.data.options import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.data.seeds import philox_words, resolve_seed, shuffle_seeds
from dlframe.data.sources import _ListDataset
from dlframe.data.transforms import _PassThrough
from dlframe.errors import InvalidArgumentError, OpError


def _scalar_int(value, what, dtype_error=ValueError, kind="int64"):
    """The Python int of a function's scalar integer result; ``dtype_error`` is the
    class raised for a non-integer one (TF: a conversion ValueError, or the TypeError
    of an op comparing it with integers)."""
    arr = S.to_host_array(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        cls = dtype_error if arr.dtype.kind not in "iu" else ValueError
        raise cls(f"`{what}` must return a scalar {kind} tensor, got "
                  f"{_dt.from_numpy(arr.dtype).name} with shape {tuple(arr.shape)}")
    return int(arr.reshape(()))


def _key_of(value):
    """The Python int of a ``key_func`` result, which TF requires to be int64."""
    if isinstance(value, Tensor) and value.dtype != _dt.int64:
        raise ValueError(f"Tensor conversion requested dtype int64 for Tensor with "
                         f"dtype {value.dtype.name}: `key_func` must return a scalar "
                         f"int64 tensor, got {value!r}")
    return _scalar_int(value, "key_func")


# ---------------------------------------------------------------- group_by_window
class _GroupByWindowDataset(_PassThrough):
    """Routes elements into per-key windows; a full window (and, at the end, every
    partial one, by increasing key) becomes ``reduce_func(key, window_dataset)``."""

    _spec_runs_functions = True

    def __init__(self, input_dataset, key_func, reduce_func, window_size_func,
                 relax_spec=None):
        super().__init__(input_dataset)
        self._key_func, self._reduce_func = key_func, reduce_func
        self._size_func = window_size_func
        self._relax_spec = relax_spec   # spec -> the spec TF's symbolic key gives

    def _reduce(self, key, elements):
        window = _ListDataset(elements, self._input.element_spec)
        out = self._reduce_func(S.to_tensors(np.asarray(key, np.int64), S.host_device()),
                                window)
        return _as_dataset(out, "reduce_func")

    def _compute_spec(self):
        for element in self._input._sample_iter():
            key = _key_of(call_fn_raw(self._key_func, element))
            spec = self._reduce(key, [element]).element_spec
            return spec if self._relax_spec is None else self._relax_spec(spec)
        raise ValueError("Cannot infer the element_spec of an empty dataset.")

    def _iter(self):
        windows, sizes = {}, {}
        for element in self._input._iter():
            key = _key_of(call_fn_raw(self._key_func, element))
            if key not in sizes:
                sizes[key] = self._size_func(key)
            windows.setdefault(key, []).append(element)
            if len(windows[key]) >= sizes[key]:
                yield from self._reduce(key, windows.pop(key))._iter()
        for key in sorted(windows):
            yield from self._reduce(key, windows[key])._iter()

    def _cardinality(self):
        n = self._input._cardinality()
        return INFINITE_CARDINALITY if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY


def group_by_window(dataset, key_func, reduce_func, window_size=None,
                    window_size_func=None):
    if (window_size is None) == (window_size_func is None):
        raise ValueError("Either the `window_size` argument or the `window_size_func` "
                         "argument must be specified.")
    if window_size is not None:
        size = int(window_size)
        if size < 1:
            raise InvalidArgumentError(None, None, f"Window size must be greater than "
                                       f"zero, but got {size}.")

        def size_func(key):
            return size
    else:
        def size_func(key):
            value = window_size_func(S.to_tensors(np.asarray(key, np.int64),
                                                  S.host_device()))
            size = _scalar_int(value, "window_size_func")
            if size < 1:
                raise InvalidArgumentError(None, None, "Window size must be greater than "
                                           f"zero, but got {size}.")
            return size
    if _spec_is_cheap(dataset):
        # TF traces key_func here: a key that is not an int64 scalar fails now
        key = spec_trace.placeholder_result(key_func, dataset.element_spec)
        if key is not spec_trace.CANNOT_RUN:
            _key_of(key)
    return _GroupByWindowDataset(dataset, key_func, reduce_func, size_func)


def bucket_by_sequence_length(dataset, element_length_func, bucket_boundaries,
                              bucket_batch_sizes, padded_shapes=None,
                              padding_values=None, pad_to_bucket_boundary=False,
                              no_padding=False, drop_remainder=False):
    bounds = [int(b) for b in bucket_boundaries]
    sizes = [int(b) for b in bucket_batch_sizes]
    if len(sizes) != len(bounds) + 1:
        raise ValueError(f"`len(bucket_batch_sizes)` must equal `len(bucket_boundaries) + "
                         f"1` but `len(bucket_batch_sizes)={len(sizes)}` and "
                         f"`len(bucket_boundaries)={len(bounds)}`.")
    if any(b2 <= b1 for b1, b2 in itertools.pairwise(bounds)):
        raise ValueError(f"bucket_boundaries must be sorted increasingly, got {bounds}")

    def bucket_of(*args):
        length = _scalar_int(element_length_func(*args), "element_length_func",
                             TypeError, "integer")
        return np.asarray(sum(length >= b for b in bounds), np.int64)

    def batch_bucket(bucket_id, window):
        bucket = int(bucket_id.numpy())
        if no_padding:
            return window.batch(sizes[bucket], drop_remainder=drop_remainder)
        shapes = padded_shapes
        if pad_to_bucket_boundary:
            if bucket == len(bounds):
                raise InvalidArgumentError(
                    None, None, "pad_to_bucket_boundary=True needs every length below the "
                    f"last boundary {bounds[-1]}; got an element in the last bucket.")
            fill = bounds[bucket] - 1
            spec = window.element_spec
            shapes = S.map_structure(
                lambda s: [fill if d is None else d for d in s.shape.dims], spec) \
                if shapes is None else shapes
        return window.padded_batch(sizes[bucket], padded_shapes=shapes,
                                   padding_values=padding_values,
                                   drop_remainder=drop_remainder)

    def relax(spec):
        # TF picks the batch size (and boundary padding) by a bucket id tensor, so
        # the batch dimension is unknown, as are the input's unknown dimensions
        # unless `padded_shapes` fixes them.
        def leaf(out, source):
            if type(out) is not S.TensorSpec or out.shape.rank is None or \
                    type(source) is not S.TensorSpec or source.shape.rank is None:
                return out
            dims = out.shape.dims[1:] if padded_shapes is not None else \
                source.shape.dims
            return S.TensorSpec([None] + dims, out.dtype)
        return S.map_structure(leaf, spec, dataset.element_spec)

    return _GroupByWindowDataset(dataset, bucket_of, batch_bucket,
                                 lambda key: sizes[key], relax_spec=relax)


# ---------------------------------------------------------------- rebatch
class _RebatchDataset(_PassThrough):
    """Re-slices the rows of batched elements into batches of the given sizes."""

    def __init__(self, input_dataset, sizes, drop_remainder):
        super().__init__(input_dataset)
        self._sizes, self._drop = sizes, drop_remainder
        for s in S.flatten(input_dataset.element_spec):
            shape = getattr(s, "shape", None)   # extension specs have no shape
            if shape is not None and not shape.rank:
                raise ValueError("rebatch needs batched elements (every component of "
                                 f"rank >= 1), got {input_dataset.element_spec}")

    def _row_specs(self):
        return S.map_structure(S.unbatch_spec, self._input.element_spec)

    def _batch_dim(self):
        return self._sizes[0] if len(set(self._sizes)) == 1 and self._drop else None

    def _compute_spec(self):
        dim = self._batch_dim()
        return S.map_structure(lambda s: S.batch_spec(s, dim), self._row_specs())

    def _iter(self):
        sizes = itertools.cycle(self._sizes)
        want = next(sizes)
        specs, dim = S.flatten(self._row_specs()), self._batch_dim()
        rows = []
        for element in self._input._iter():
            for row in element_rows(element):
                rows.append(row)
                if len(rows) == want:
                    yield stack_components(rows, specs=specs, batch_dim=dim)
                    rows, want = [], next(sizes)
        if rows and not self._drop:
            yield stack_components(rows, specs=specs)


# ---------------------------------------------------------------- ignore_errors
class _IgnoreErrorsDataset(_PassThrough):
    """Drops the elements whose computation raised a ``tf.errors`` error."""

    def __init__(self, input_dataset, log_warning):
        super().__init__(input_dataset)
        self._log = log_warning

    def _iter(self):
        source = self._input
        if hasattr(source, "_iter_ignoring_errors"):
            yield from source._iter_ignoring_errors(self._log)
            return
        try:   # a generator that raised cannot resume: the error ends the input
            yield from source._iter()
        except OpError as e:
            if self._log:
                print(f"Warning: ignoring error in the input pipeline: {e}")

    def _cardinality(self):   # as TF, even of an infinite input
        return UNKNOWN_CARDINALITY


# ---------------------------------------------------------------- endless sources
class _RandomDataset(Dataset):
    """Uniform pseudo-random int64 values in ``[0, 2**32)``, forever."""

    def __init__(self, seed, rerandomize):
        super().__init__()
        self._seed = resolve_seed(seed)   # a random pair when no seed is set
        self._epochs = itertools.count() if rerandomize else None
        self._spec = S.TensorSpec([], _dt.int64)

    def _iter(self):
        # TF's values: the 32-bit words of the Philox stream of the seed pair (of the
        # pass's seeds, drawn as shuffle draws them, when rerandomizing)
        seeds = self._seed if self._epochs is None else \
            shuffle_seeds(self._seed, next(self._epochs))
        for word in philox_words(seeds):
            yield np.asarray(word, np.int64)

    def _cardinality(self):
        return INFINITE_CARDINALITY
