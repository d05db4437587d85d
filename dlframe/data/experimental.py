"""``tf.data.experimental``: constants, options enums, CSV helpers and function forms
of Dataset methods."""

from dlframe.data.dataset import Dataset, Optional
from dlframe.data.options import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    AutoShardPolicy,
    DistributeOptions,
    ExternalStatePolicy,
    OptimizationOptions,
    ThreadingOptions,
)
from dlframe.data.readers import CsvDataset, make_csv_dataset
from dlframe.data.structure import DatasetSpec

INFINITE = INFINITE_CARDINALITY
UNKNOWN = UNKNOWN_CARDINALITY

__all__ = ["AUTOTUNE", "AutoShardPolicy", "CsvDataset", "DatasetSpec", "DistributeOptions", "ExternalStatePolicy", "INFINITE_CARDINALITY", "OptimizationOptions", "Optional", "ThreadingOptions", "UNKNOWN_CARDINALITY", "assert_cardinality", "cardinality", "choose_from_datasets", "copy_to_device", "enumerate_dataset", "get_single_element", "make_csv_dataset", "prefetch_to_device", "sample_from_datasets"]


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
