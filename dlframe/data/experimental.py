"""``tf.data.experimental``: constants, options enums, CSV helpers and function forms
of Dataset methods."""

from dlframe.data.dataset import Dataset, Optional
from dlframe.data.experimental_extra import (
    SHARD_HINT,
    DatasetInitializer,
    Reducer,
    at,
    enable_debug_mode,
    group_by_reducer,
    index_table_from_dataset,
    make_batched_features_dataset,
    pad_to_cardinality,
    parse_example_dataset,
    table_from_dataset,
)
from dlframe.data.options import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    AutoShardPolicy,
    AutotuneAlgorithm,
    AutotuneOptions,
    DistributeOptions,
    ExternalStatePolicy,
    OptimizationOptions,
    ThreadingOptions,
)
from dlframe.data.ragged_batch import (  # noqa: F401
    dense_to_ragged_batch,
    dense_to_sparse_batch,
)
from dlframe.data.readers import CsvDataset, make_csv_dataset
from dlframe.data.sql import SqlDataset
from dlframe.data.structure import DatasetSpec
from dlframe.data.type_specs import get_structure

INFINITE = INFINITE_CARDINALITY
UNKNOWN = UNKNOWN_CARDINALITY

__all__ = [
    "AUTOTUNE",
    "INFINITE_CARDINALITY",
    "SHARD_HINT",
    "UNKNOWN_CARDINALITY",
    "AutoShardPolicy",
    "AutotuneAlgorithm",
    "AutotuneOptions",
    "Counter",
    "CsvDataset",
    "DatasetInitializer",
    "DatasetSpec",
    "DistributeOptions",
    "ExternalStatePolicy",
    "OptimizationOptions",
    "Optional",
    "RandomDataset",
    "Reducer",
    "SqlDataset",
    "TFRecordWriter",
    "ThreadingOptions",
    "assert_cardinality",
    "at",
    "bucket_by_sequence_length",
    "cardinality",
    "choose_from_datasets",
    "copy_to_device",
    "enable_debug_mode",
    "enumerate_dataset",
    "from_list",
    "get_next_as_optional",
    "get_single_element",
    "get_structure",
    "group_by_reducer",
    "group_by_window",
    "ignore_errors",
    "index_table_from_dataset",
    "load",
    "make_batched_features_dataset",
    "make_csv_dataset",
    "map_and_batch",
    "pad_to_cardinality",
    "parallel_interleave",
    "parse_example_dataset",
    "prefetch_to_device",
    "rejection_resample",
    "sample_from_datasets",
    "save",
    "scan",
    "shuffle_and_repeat",
    "snapshot",
    "table_from_dataset",
    "take_while",
    "unbatch",
    "unique",
]


def cardinality(dataset):
    """``dataset.cardinality()`` (an int64 scalar Tensor; -1 infinite, -2 unknown)."""
    return dataset.cardinality()


def enumerate_dataset(start=0):
    """A transformation for ``Dataset.apply`` that enumerates elements."""
    return lambda dataset: dataset.enumerate(start)


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False):
    return Dataset.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
    return Dataset.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)


def get_single_element(dataset):
    return dataset.get_single_element()


def assert_cardinality(expected_cardinality):
    """A transformation that declares the cardinality of a dataset (checked while
    iterating: too few or too many elements is an error)."""
    from dlframe.data.transforms import _AssertCardinalityDataset
    return lambda dataset: _AssertCardinalityDataset(dataset, int(expected_cardinality))


def prefetch_to_device(device, buffer_size=None):
    """A transformation (for ``Dataset.apply``) prefetching elements onto ``device``."""
    from dlframe.data.parallel import _PrefetchToDeviceDataset
    return lambda dataset: _PrefetchToDeviceDataset(dataset, device,
                                                    1 if buffer_size is None else
                                                    int(buffer_size))


copy_to_device = prefetch_to_device


def group_by_window(key_func, reduce_func, window_size=None, window_size_func=None):
    """A transformation (for ``Dataset.apply``): ``Dataset.group_by_window``."""
    return lambda dataset: dataset.group_by_window(key_func, reduce_func, window_size,
                                                   window_size_func)


def bucket_by_sequence_length(element_length_func, bucket_boundaries, bucket_batch_sizes,
                              padded_shapes=None, padding_values=None,
                              pad_to_bucket_boundary=False, no_padding=False,
                              drop_remainder=False):
    """A transformation (for ``Dataset.apply``): ``Dataset.bucket_by_sequence_length``."""
    return lambda dataset: dataset.bucket_by_sequence_length(
        element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes,
        padding_values, pad_to_bucket_boundary, no_padding, drop_remainder)


def ignore_errors(log_warning=False):
    """A transformation (for ``Dataset.apply``): ``Dataset.ignore_errors``."""
    return lambda dataset: dataset.ignore_errors(log_warning)


def unbatch():
    """A transformation (for ``Dataset.apply``): ``Dataset.unbatch``."""
    return lambda dataset: dataset.unbatch()


def scan(initial_state, scan_func):
    """A transformation (for ``Dataset.apply``): ``Dataset.scan``."""
    return lambda dataset: dataset.scan(initial_state, scan_func)


def take_while(predicate):
    """A transformation (for ``Dataset.apply``): ``Dataset.take_while``."""
    return lambda dataset: dataset.take_while(predicate)


def unique():
    """A transformation (for ``Dataset.apply``): ``Dataset.unique``."""
    return lambda dataset: dataset.unique()


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """A transformation: ``shuffle(buffer_size, seed).repeat(count)``."""
    return lambda dataset: dataset.shuffle(buffer_size, seed=seed).repeat(count)


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False,
                  num_parallel_calls=None):
    """A transformation: ``map(map_func).batch(batch_size, drop_remainder)``."""
    return lambda dataset: dataset.map(map_func, num_parallel_calls).batch(
        batch_size, drop_remainder)


def parallel_interleave(map_func, cycle_length, block_length=1, sloppy=False,
                        buffer_output_elements=None, prefetch_input_elements=None):
    """A transformation: ``interleave(map_func, cycle_length, block_length)``."""
    return lambda dataset: dataset.interleave(map_func, cycle_length, block_length)


def from_list(elements, name=None):
    """A dataset of the given elements (each a nested structure of equal spec)."""
    from dlframe.data.batching import stack_components
    from dlframe.data.structure import to_host
    if not elements:
        raise ValueError("Invalid `elements`. `elements` should not be empty.")
    return Dataset.from_tensor_slices(stack_components([to_host(e) for e in elements]))


def Counter(start=0, step=1, dtype=None):
    """``Dataset.counter`` (int64 unless ``dtype``)."""
    return Dataset.counter(start, step) if dtype is None else \
        Dataset.counter(start, step, dtype)


def RandomDataset(seed=None, rerandomize_each_iteration=None):
    """``Dataset.random``."""
    return Dataset.random(seed, rerandomize_each_iteration)


def save(dataset, path, compression=None, shard_func=None, checkpoint_args=None):
    """``dataset.save(path, ...)`` (deprecated spelling in TF)."""
    dataset.save(path, compression, shard_func, checkpoint_args)


def load(path, element_spec=None, compression=None, reader_func=None):
    """``Dataset.load(path, ...)`` (deprecated spelling in TF)."""
    return Dataset.load(path, element_spec, compression, reader_func)


def get_next_as_optional(iterator):
    """``iterator.get_next_as_optional()``: an ``Optional`` that is empty at the end."""
    return iterator.get_next_as_optional()


def rejection_resample(class_func, target_dist, initial_dist=None, seed=None):
    """A transformation (for ``Dataset.apply``): ``Dataset.rejection_resample``."""
    return lambda dataset: dataset.rejection_resample(class_func, target_dist,
                                                      initial_dist, seed)


def snapshot(path, compression="AUTO", reader_func=None, shard_func=None):
    """A transformation (for ``Dataset.apply``): ``Dataset.snapshot``."""
    return lambda dataset: dataset.snapshot(path, compression, reader_func, shard_func)


class TFRecordWriter:
    """Writes a dataset of scalar strings to a TFRecord file
    (``tf.data.experimental.TFRecordWriter``, deprecated in TF for
    ``tf.io.TFRecordWriter``).

    Args:
      filename: the file to write.
      compression_type: ``None``/``""``, ``"ZLIB"`` or ``"GZIP"``.
    """

    def __init__(self, filename, compression_type=None):
        self._filename = filename
        self._compression = compression_type

    def write(self, dataset):
        """Writes every element of ``dataset`` (each a scalar ``tf.string``) as one
        record, replacing the file."""
        from dlframe.core import dtypes
        from dlframe.core.tensor_spec import TensorSpec
        from dlframe.io.tfrecord import TFRecordWriter as _Writer
        spec = dataset.element_spec
        if not (isinstance(spec, TensorSpec) and spec.dtype is dtypes.string
                and spec.shape.rank in (0, None)):
            raise TypeError("`dataset` must produce scalar `DT_STRING` tensors whereas "
                            f"it produces shape {spec.shape} and types {spec!r}")
        with _Writer(self._filename, self._compression) as writer:
            for record in dataset.as_numpy_iterator():
                writer.write(record)
