"""``tf.data.Dataset``: the pipeline base class and the method table (its iterators live
in ``iterators``).

A Dataset is an immutable description of a pipeline; ``_iter()`` starts a fresh Python
iterator over host elements each time, so datasets are re-iterable. Transformations
live in ``sources``, ``transforms`` and ``parallel``; the methods here only validate
arguments and build them.
"""

import numpy as np

from dlframe import backends
from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.data import structure as S
from dlframe.data import graph_inputs
from dlframe.data.iterators import (  # noqa: F401 - re-exported
    Iterator,
    NumpyIterator,
    Optional,
    OwnedIterator,
)
from dlframe.data.options import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Options,
)
from dlframe.data.traced_fn import DatasetFunction
from dlframe.data.traced_fn import host_call as _call  # noqa: F401 - re-exported
from dlframe.data.user_fns import (  # noqa: F401 - re-exported
    _check_arity,
    _int_arg,
    _parallel_calls_arg,
    _spec_is_cheap,
    apply_fn,
    call_fn_raw,
    predicate_value,
)
from dlframe.errors import InvalidArgumentError


class Dataset:
    """A re-iterable pipeline of elements (``tf.data.Dataset``).

    Elements are nested structures (tuples, dicts) of Tensors. Iterating a dataset in
    Python yields them as Tensors on the current device; functions passed to ``map``,
    ``filter`` and friends receive Tensors on ``cpu:0`` and run on the host, as
    TensorFlow runs input pipelines on the CPU.
    """

    _spec_runs_functions = False   # True where the spec comes from running user code

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        graph_inputs.note_construction(obj, args, kwargs)   # made while tracing
        return obj

    def __init__(self, inputs=()):
        self._inputs = tuple(inputs)
        self._spec = None

    # -- what subclasses provide --------------------------------------------------
    def _iter(self):
        """A fresh iterator of host elements."""
        raise NotImplementedError

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _sample_iter(self):
        """An iterator whose first element has this dataset's spec, for computing specs
        downstream; order-only stages (shuffle, prefetch, repeat) delegate to their
        input so that a spec never fills a shuffle buffer or starts a thread."""
        return self._iter()

    def _compute_spec(self):
        """Default: the spec of the first element (the function is run once, as TF
        traces it once); an empty dataset reports its input's spec."""
        for element in self._sample_iter():
            return S.spec_of(element)
        if self._inputs:
            return self._inputs[0].element_spec
        raise ValueError("Cannot infer the element_spec of an empty dataset.")

    def _iter_output(self, device):
        for element in self._iter():
            yield S.to_tensors(element, device)

    # -- introspection -----------------------------------------------------------
    @property
    def element_spec(self):
        """The nested ``TensorSpec`` structure of one element."""
        if self._spec is None:
            self._spec = self._compute_spec()
        return self._spec

    def cardinality(self):
        """Number of elements as an int64 scalar Tensor; -1 infinite, -2 unknown."""
        built = graph_inputs.GraphArgs(self)
        if built.tensors:   # made from traced tensors: counted at each run
            return graph_inputs.run_time(built, lambda ds: np.int64(ds._cardinality()),
                                         S.TensorSpec([], _dt.int64))
        return convert_to_tensor(np.asarray(self._cardinality(), dtype=np.int64))

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True

    def options(self):
        """The ``Options`` of this pipeline, later ``with_options`` calls winning."""
        merged = Options()
        for d in self._inputs:
            merged = merged.merge(d.options())
        own = getattr(self, "_own_options", None)
        return merged.merge(own) if own is not None else merged

    def with_options(self, options, name=None):
        """This dataset with ``options`` (a ``tf.data.Options``) set on its pipeline."""
        from dlframe.data.transforms import _OptionsDataset
        if not isinstance(options, Options):
            raise TypeError(f"`options` must be a `tf.data.Options`, got "
                            f"{type(options).__name__}.")
        return _OptionsDataset(self, options)

    def __repr__(self):
        try:
            spec = self.element_spec
        except Exception:
            spec = "?"
        return f"<{type(self).__name__} element_spec={spec}>"

    # -- iteration -------------------------------------------------------------
    def __iter__(self):
        return OwnedIterator(self)

    def _graph_iteration(self):
        """Op builders for ``for x in dataset`` in a dlframe.function (graph_loop)."""
        from dlframe.data.graph_loop import dataset_feed
        return dataset_feed(self, backends.current_device())

    def as_numpy_iterator(self):
        """Iterates elements as NumPy arrays, NumPy scalars and ``bytes``."""
        return NumpyIterator(self)

    def reduce(self, initial_state, reduce_func):
        """Folds ``reduce_func(state, element)`` over the dataset; returns the state."""
        from dlframe.data.dataset_reduce import check_reduce_state, reduce_off_pipeline
        off = reduce_off_pipeline(self, initial_state, reduce_func)
        if off is not None:
            return off
        state = S.to_host(initial_state)
        fn = DatasetFunction(reduce_func)   # traced once, replayed per element
        run = fn.new_run()
        for i, element in enumerate(self._iter()):
            new_state = S.to_host(fn((state, element), run))
            state = new_state if i else check_reduce_state(state, new_state)
        return S.to_tensors(state, backends.current_device())

    def get_single_element(self):
        """The only element of the dataset (InvalidArgumentError otherwise)."""
        built = graph_inputs.GraphArgs(self)
        if built.tensors:   # made from traced tensors: taken at each run
            return graph_inputs.run_time(built, graph_inputs.single_element,
                                         self.element_spec)
        return S.to_tensors(graph_inputs.single_element(self),
                            backends.current_device())


    # -- sources -------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """Elements are the slices of ``tensors`` along their first dimension."""
        from dlframe.data.composite import _CompositeSliceDataset, has_composite
        if has_composite(tensors):
            return _CompositeSliceDataset(tensors)
        from dlframe.data.sources import _TensorSliceDataset
        return _TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element, ``tensors``."""
        from dlframe.data.sources import _TensorDataset
        return _TensorDataset(tensors)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name=None):
        """Elements are the values yielded by ``generator(*args)`` (called per iteration).

        Args:
          generator: a callable returning an iterator.
          output_signature: nested ``TensorSpec`` structure of the elements.
          output_types, output_shapes: the legacy way to give the same information.
          args: values passed (as NumPy values) to ``generator``.
        """
        from dlframe.data.sources import _GeneratorDataset
        return _GeneratorDataset(generator, output_types, output_shapes, args,
                                 output_signature)

    @staticmethod
    def range(*args, **kwargs):
        """``range(stop)``, ``range(start, stop[, step])`` of int64 (``output_type=``)."""
        from dlframe.data.sources import _RangeDataset
        return _RangeDataset(*args, **kwargs)

    @staticmethod
    def zip(*args, datasets=None, name=None):
        """Tuples (or the given nested structure) of elements of datasets in step.

        Args:
          *args: the datasets, or one nested structure of them.
          datasets: the datasets as a keyword (instead of ``*args``).
          name: unused (TF's op name).
        """
        from dlframe.data.sources import _ZipDataset
        if args and datasets is not None:
            raise TypeError("Both `*args` and `datasets` cannot be set.")
        if datasets is None:
            if not args:
                raise TypeError("Must pass at least one dataset to `zip`.")
            datasets = args[0] if len(args) == 1 else tuple(args)
        return _ZipDataset(datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """File names matching glob pattern(s), shuffled per iteration by default."""
        from dlframe.data.sources import list_files
        return list_files(file_pattern, shuffle, seed)

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None,
                             stop_on_empty_dataset=False, rerandomize_each_iteration=None):
        """Elements drawn at random from ``datasets`` (with ``weights``); every
        iteration repeats the same draws unless ``rerandomize_each_iteration``."""
        from dlframe.data.sampling import sample_from_datasets
        return sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset,
                                    rerandomize_each_iteration)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        from dlframe.data.sources import _ChooseDataset
        return _ChooseDataset(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def counter(start=0, step=1, dtype=_dt.int64, name=None):
        """An endless dataset ``start, start + step, ...`` of ``dtype`` scalars."""
        from dlframe.data.sources import _RangeDataset
        return _RangeDataset(_int_arg(start, "start"), None, _int_arg(step, "step"),
                             output_type=dtype)

    @staticmethod
    def random(seed=None, rerandomize_each_iteration=None, name=None):
        """An endless dataset of uniform pseudo-random int64 values.

        Args:
          seed: the op seed (combined with the global seed, as other random ops).
          rerandomize_each_iteration: draw a new sequence on each iteration (default:
            every iteration repeats the same sequence).
        """
        from dlframe.data.grouping import _RandomDataset
        return _RandomDataset(seed, bool(rerandomize_each_iteration))

    def concatenate(self, dataset, name=None):
        from dlframe.data.sources import _ConcatenateDataset
        return _ConcatenateDataset(self, dataset)

    # -- reshaping --------------------------------------------------------------
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        """Stacks consecutive elements into batches of ``batch_size``.

        Raises:
          InvalidArgumentError: ``batch_size`` < 1; while iterating, when elements of
            one batch differ in shape (naming the element and both shapes).
        """
        from dlframe.data.batching import _BatchDataset
        return _BatchDataset(self, _int_arg(batch_size, "batch_size"),
                             graph_inputs.flag_arg(drop_remainder))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False, name=None):
        """Like ``batch``, padding each component to ``padded_shapes`` (or the batch max)."""
        from dlframe.data.batching import _PaddedBatchDataset
        return _PaddedBatchDataset(self, _int_arg(batch_size, "batch_size"), padded_shapes,
                                   padding_values, bool(drop_remainder))

    def unbatch(self, name=None):
        from dlframe.data.batching import _UnbatchDataset
        return _UnbatchDataset(self)

    def rebatch(self, batch_size, drop_remainder=False, name=None):
        """Re-slices batched elements into batches of ``batch_size`` rows (an int, or a
        list of sizes used in turn), like ``unbatch().batch(batch_size)``."""
        from dlframe.data.grouping import _RebatchDataset
        if hasattr(batch_size, "numpy"):
            batch_size = batch_size.numpy().tolist()
        sizes = [_int_arg(b, "batch_size") for b in
                 (batch_size if isinstance(batch_size, (list, tuple)) else [batch_size])]
        if not sizes or any(b < 1 for b in sizes):
            raise InvalidArgumentError(None, None, "batch_size must be greater than "
                                       f"zero, got {batch_size}.")
        return _RebatchDataset(self, sizes, bool(drop_remainder))

    def ragged_batch(self, batch_size, drop_remainder=False, row_splits_dtype=None,
                     name=None):
        """Batches elements whose components may differ in their first dimension:
        those become RaggedTensors (uniform components stay dense)."""
        from dlframe.data.ragged_batch import ragged_batch
        return ragged_batch(self, batch_size, drop_remainder, row_splits_dtype)

    def sparse_batch(self, batch_size, row_shape, name=None):
        """Batches elements of varying shape into SparseTensors of dense shape
        ``[batch, *row_shape]`` (a -1/None in ``row_shape``: the batch's largest)."""
        from dlframe.data.ragged_batch import _SparseBatchDataset
        return _SparseBatchDataset(self, batch_size, row_shape)

    def group_by_window(self, key_func, reduce_func, window_size=None,
                        window_size_func=None, name=None):
        """Groups elements by ``key_func(element)`` (an int64 scalar) into windows of
        ``window_size`` (or ``window_size_func(key)``); each full window, and at the
        end each partial one, becomes the dataset ``reduce_func(key, window)``."""
        from dlframe.data.grouping import group_by_window
        return group_by_window(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(self, element_length_func, bucket_boundaries,
                                  bucket_batch_sizes, padded_shapes=None,
                                  padding_values=None, pad_to_bucket_boundary=False,
                                  no_padding=False, drop_remainder=False, name=None):
        """Batches elements of similar length together.

        ``element_length_func(element)`` picks the bucket: lengths below
        ``bucket_boundaries[0]`` go to bucket 0, and so on; bucket i is
        ``padded_batch``-ed in batches of ``bucket_batch_sizes[i]`` (one more size
        than boundaries).

        Args:
          padded_shapes, padding_values: as ``padded_batch``.
          pad_to_bucket_boundary: pad unknown dimensions to the bucket's boundary - 1
            instead of the longest element of the batch.
          no_padding: plain ``batch`` (elements already of equal shape).
          drop_remainder: drop a bucket's last partial batch.
        """
        from dlframe.data.grouping import bucket_by_sequence_length
        return bucket_by_sequence_length(self, element_length_func, bucket_boundaries,
                                         bucket_batch_sizes, padded_shapes,
                                         padding_values, pad_to_bucket_boundary,
                                         no_padding, drop_remainder)

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None):
        """Elements are windows: nested datasets of ``size`` consecutive elements."""
        from dlframe.data.nesting import _WindowDataset
        size = _int_arg(size, "size")
        shift = size if shift is None else _int_arg(shift, "shift")
        return _WindowDataset(self, size, shift, _int_arg(stride, "stride"),
                              bool(drop_remainder))

    # -- order and selection --------------------------------------------------------
    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """Samples uniformly from a buffer of ``buffer_size`` elements (TF's semantics).

        With a ``seed``, the sequence of orders repeats from run to run; with
        ``reshuffle_each_iteration`` (default True) each iteration draws a new order.
        """
        from dlframe.data.transforms import _ShuffleDataset
        return _ShuffleDataset(self, _int_arg(buffer_size, "buffer_size"), seed,
                               True if reshuffle_each_iteration is None
                               else bool(reshuffle_each_iteration))

    def repeat(self, count=None, name=None):
        from dlframe.data.transforms import _RepeatDataset
        return _RepeatDataset(self, -1 if count is None else _int_arg(count, "count"))

    def take(self, count, name=None):
        from dlframe.data.transforms import _TakeDataset
        return _TakeDataset(self, _int_arg(count, "count"))

    def skip(self, count, name=None):
        from dlframe.data.transforms import _SkipDataset
        return _SkipDataset(self, _int_arg(count, "count"))

    def shard(self, num_shards, index, name=None):
        """Every ``num_shards``-th element, starting at ``index``."""
        from dlframe.data.transforms import _ShardDataset
        return _ShardDataset(self, _int_arg(num_shards, "num_shards"),
                             _int_arg(index, "index"))

    def enumerate(self, start=0, name=None):
        """Elements become ``(index, element)`` with an int64 index from ``start``."""
        from dlframe.data.sources import _RangeDataset, _ZipDataset
        return _ZipDataset((_RangeDataset(_int_arg(start, "start"), None),
                            self))

    def ignore_errors(self, log_warning=False, name=None):
        """Drops elements whose computation (a ``map`` function just before) raised a
        ``tf.errors`` error, e.g. an image that does not decode."""
        from dlframe.data.grouping import _IgnoreErrorsDataset
        return _IgnoreErrorsDataset(self, bool(log_warning))

    def filter(self, predicate, name=None):
        """Keeps the elements for which ``predicate`` returns a scalar bool True."""
        from dlframe.data.transforms import _FilterDataset
        _check_arity(predicate, self, "filter")
        return _FilterDataset(self, predicate)

    def take_while(self, predicate, name=None):
        from dlframe.data.transforms import _TakeWhileDataset
        return _TakeWhileDataset(self, predicate)

    def unique(self, name=None):
        """The elements without repeats, in first-seen order.

        Args:
          name: unused (TF's op name).

        Raises:
          InvalidArgumentError: the elements have more than one component.
          TypeError: the elements are not int32, int64 or string tensors.
        """
        from dlframe.core.tensor_spec import TensorSpec
        from dlframe.data.transforms import _UniqueDataset
        spec = self.element_spec
        if type(spec) is not TensorSpec:
            raise InvalidArgumentError(None, None, "UniqueDataset only supports inputs "
                                       f"with a single component; got {spec!r}.")
        if spec.dtype not in (_dt.int32, _dt.int64, _dt.string):
            raise TypeError(f"`tf.data.Dataset.unique` does not support type "
                            f"{spec.dtype!r} -- only `tf.int32`, `tf.int64`, and "
                            "`tf.string` are supported.")
        return _UniqueDataset(self)

    # -- functions ------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Applies ``map_func`` to each element (tuple elements are unpacked as args).

        Args:
          map_func: a function of Tensors returning a nested structure of values.
          num_parallel_calls: None runs sequentially; an int or ``AUTOTUNE`` runs that
            many calls at once on a thread pool (useful when the function releases the
            GIL: NumPy kernels, I/O).
          deterministic: False lets results come out in completion order.
        """
        from dlframe.data.parallel import _MapDataset
        _check_arity(map_func, self, "map")
        num_parallel_calls = _parallel_calls_arg(num_parallel_calls)
        return _MapDataset(self, map_func, num_parallel_calls, deterministic)

    def flat_map(self, map_func, name=None):
        from dlframe.data.nesting import _FlatMapDataset
        return _FlatMapDataset(self, map_func)

    def interleave(self, map_func, cycle_length=None, block_length=None,
                   num_parallel_calls=None, deterministic=None, name=None):
        """Cycles through ``cycle_length`` datasets made by ``map_func``, ``block_length``
        elements at a time (TF's order). With ``num_parallel_calls``, each open
        dataset (and the next ``cycle_length`` ones) is read ahead on a thread of its
        own, the order staying the same."""
        from dlframe.data.nesting import _InterleaveDataset
        cycle = AUTOTUNE if cycle_length is None else _int_arg(cycle_length, "cycle_length")
        block = 1 if block_length is None else _int_arg(block_length, "block_length")
        num_parallel_calls = _parallel_calls_arg(num_parallel_calls)
        return _InterleaveDataset(self, map_func, cycle, block, num_parallel_calls)

    def scan(self, initial_state, scan_func, name=None):
        from dlframe.data.nesting import _ScanDataset
        return _ScanDataset(self, initial_state, scan_func)

    def apply(self, transformation_func):
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError("`transformation_func` must return a `tf.data.Dataset` object, "
                            f"got {type(out).__name__}")
        return out

    # -- performance -----------------------------------------------------------
    def cache(self, filename="", name=None):
        """Keeps elements after the first complete iteration, in memory or in a file."""
        from dlframe.data.cache import _CacheDataset
        return _CacheDataset(self, str(filename) if filename else "")

    def snapshot(self, path, compression="AUTO", reader_func=None, shard_func=None,
                 name=None):
        """Writes the first complete iteration under ``path``; later ones read it."""
        from dlframe.data.persistence import snapshot
        return snapshot(self, path, compression, reader_func, shard_func)

    def save(self, path, compression=None, shard_func=None, checkpoint_args=None):
        """Writes the elements under the directory ``path`` (see ``Dataset.load``)."""
        from dlframe.data.persistence import save
        save(self, path, compression, shard_func, checkpoint_args)

    @staticmethod
    def load(path, element_spec=None, compression=None, reader_func=None):
        """The dataset that ``Dataset.save`` wrote under ``path``."""
        from dlframe.data.persistence import load
        return load(path, element_spec, compression, reader_func)

    def rejection_resample(self, class_func, target_dist, initial_dist=None, seed=None,
                           name=None):
        """``(class, element)`` pairs resampled towards the ``target_dist`` classes."""
        from dlframe.data.resample import rejection_resample
        return rejection_resample(self, class_func, target_dist, initial_dist, seed)

    def prefetch(self, buffer_size, name=None):
        """Produces up to ``buffer_size`` elements ahead on a background thread; when it
        is the last stage, elements are also placed on the iterating device there."""
        from dlframe.data.parallel import _PrefetchDataset
        return _PrefetchDataset(self, _int_arg(buffer_size, "buffer_size"))


# Submodules define the transformations (imported last: they subclass Dataset).
from dlframe.data import (  # noqa: F401
    batching,
    grouping,
    nesting,
    parallel,
    sources,
    transforms,
)
