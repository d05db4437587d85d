"""``dlframe.data``: input pipelines (``tf.data``).

Host-side by design (DESIGN.md §2): elements move through the pipeline as NumPy
arrays and become Tensors when user functions are called and when an iterator hands
them out (on the current device; ``prefetch`` does that placement on its thread).
"""

from dlframe.data import experimental
from dlframe.data import function_args as _function_args  # noqa: F401 - registers
from dlframe.data.dataset import Dataset, Iterator, NumpyIterator, OwnedIterator
from dlframe.data.options import (AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY,
                                  AutotuneOptions, Options, ThreadingOptions)
from dlframe.data.readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset
from dlframe.data.sources import GeneratorElementError
from dlframe.data.type_specs import IteratorSpec
from dlframe.data.structure import (DatasetSpec, SparseTensorSpec, TensorSpec, TypeSpec,
                                    flatten, map_structure, pack_sequence_as)

DatasetV2 = Dataset

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "AutotuneOptions",
           "Dataset", "DatasetSpec", "DatasetV2", "FixedLengthRecordDataset",
           "GeneratorElementError", "Iterator", "IteratorSpec", "NumpyIterator",
           "Options", "OwnedIterator",
           "SparseTensorSpec", "TFRecordDataset", "TensorSpec", "TextLineDataset",
           "ThreadingOptions", "TypeSpec", "experimental", "flatten", "map_structure",
           "pack_sequence_as"]
