"""More of ``tf.data.experimental``: ``group_by_reducer`` with its ``Reducer``,
``pad_to_cardinality``, ``at``, ``enable_debug_mode``, Example-parsing datasets and
lookup tables built from a dataset (``DatasetInitializer``, ``table_from_dataset``,
``index_table_from_dataset``)."""

import numpy as np

from dlframe import backends
from dlframe.core import dtypes as _dt
from dlframe.core.tensor_spec import TensorSpec
from dlframe.data import structure as S
from dlframe.data.dataset import Dataset, _call, apply_fn
from dlframe.data.grouping import _scalar_int
from dlframe.data.options import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from dlframe.data.transforms import _PassThrough
from dlframe.errors import OutOfRangeError, UnimplementedError
from dlframe.ops import lookup_ops

SHARD_HINT = -1
_DEBUG_MODE = [False]


# ---------------------------------------------------------------- group_by_reducer
class Reducer:
    """How ``group_by_reducer`` folds the elements of one key.

    Args:
      init_func: ``key -> initial state``.
      reduce_func: ``(state, element) -> new state``.
      finalize_func: ``state -> output element`` (a tuple state is unpacked).
    """

    def __init__(self, init_func, reduce_func, finalize_func):
        for name, fn in (("init_func", init_func), ("reduce_func", reduce_func),
                         ("finalize_func", finalize_func)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable, got {fn!r}")
        self._init_func = init_func
        self._reduce_func = reduce_func
        self._finalize_func = finalize_func

    init_func = property(lambda self: self._init_func)
    reduce_func = property(lambda self: self._reduce_func)
    finalize_func = property(lambda self: self._finalize_func)


class _GroupByReducerDataset(_PassThrough):
    """One output per distinct key (in order of first appearance), produced once the
    input is exhausted."""

    _spec_runs_functions = True

    def __init__(self, input_dataset, key_func, reducer):
        super().__init__(input_dataset)
        self._key_func, self._reducer = key_func, reducer

    def _fold(self, elements):
        cpu = S.host_device()
        states = {}
        for element in elements:
            args = S.to_tensors(element, cpu)
            key = _scalar_int(_call(self._key_func, args, unpack=type(args) is tuple),
                              "key_func")
            if key not in states:
                key_t = S.to_tensors(np.asarray(key, np.int64), cpu)
                states[key] = S.to_host(_call(self._reducer.init_func, (key_t,),
                                              unpack=True))
            state = S.to_tensors(states[key], cpu)
            states[key] = S.to_host(_call(self._reducer.reduce_func, (state, args),
                                          unpack=True))
        for state in states.values():
            yield apply_fn(self._reducer.finalize_func, state)

    def _compute_spec(self):
        for element in self._input._sample_iter():
            return S.spec_of(next(self._fold([element])))
        raise ValueError("Cannot infer the element_spec of an empty dataset.")

    def _iter(self):
        return self._fold(self._input._iter())

    def _cardinality(self):
        n = self._input._cardinality()
        infinite = n == INFINITE_CARDINALITY
        return INFINITE_CARDINALITY if infinite else UNKNOWN_CARDINALITY


def group_by_reducer(key_func, reducer):
    """A transformation (for ``Dataset.apply``) that groups elements by the int64
    ``key_func(element)`` and folds each group with ``reducer``.

    Args:
      key_func: element -> scalar int64 key.
      reducer: a ``tf.data.experimental.Reducer``.
    """
    if not isinstance(reducer, Reducer):
        raise TypeError(f"`reducer` must be a tf.data.experimental.Reducer, got "
                        f"{reducer!r}")
    return lambda dataset: _GroupByReducerDataset(dataset, key_func, reducer)


# ---------------------------------------------------------------- pad_to_cardinality
class _PadToCardinalityDataset(Dataset):
    def __init__(self, input_dataset, cardinality, mask_key):
        super().__init__((input_dataset,))
        self._target, self._mask_key = cardinality, mask_key

    def _compute_spec(self):
        spec = dict(self._inputs[0].element_spec)
        spec[self._mask_key] = TensorSpec([], _dt.bool)
        return spec

    def _padding(self):
        out = {}
        for key, spec in self._inputs[0].element_spec.items():
            if not isinstance(spec, TensorSpec) or spec.shape.rank is None:
                raise TypeError(f"pad_to_cardinality needs dense components of known "
                                f"rank, got {spec!r} for key {key!r}")
            shape = [0 if d is None else d for d in spec.shape.dims]
            out[key] = (np.full(shape, b"", dtype=object) if spec.dtype == _dt.string
                        else np.zeros(shape, dtype=spec.dtype._np))
        out[self._mask_key] = np.asarray(False)
        return out

    def _iter(self):
        for element in self._inputs[0]._iter():
            element = dict(element)
            element[self._mask_key] = np.asarray(True)
            yield element
        for _ in range(self._target - self._inputs[0]._cardinality()):
            yield self._padding()

    def _cardinality(self):
        return self._target


def pad_to_cardinality(cardinality, mask_key="valid"):
    """A transformation (for ``Dataset.apply``) that pads a dataset of dicts with
    zero-filled elements up to ``cardinality`` elements, adding a bool ``mask_key``
    entry that is True for the real elements.

    Args:
      cardinality: the number of elements to produce.
      mask_key: the key of the added validity entry.
    """
    cardinality = int(cardinality)

    def apply(dataset):
        if not isinstance(dataset.element_spec, dict):
            raise ValueError(  # noqa: TRY004 - TF's error type
                "`pad_to_cardinality` requires its input dataset to be a dictionary.")
        if mask_key in dataset.element_spec:
            raise ValueError(f"`mask_key` {mask_key!r} is already a key of the dataset "
                             f"elements.")
        n = dataset._cardinality()
        if n < 0:
            raise ValueError("The dataset passed into `pad_to_cardinality` must have a "
                             f"known cardinalty, but has cardinality {n}")
        if n > cardinality:
            raise ValueError("The dataset passed into `pad_to_cardinality` must have a "
                             "cardinalty less than the target cardinality "
                             f"({cardinality}), but has cardinality {n}")
        return _PadToCardinalityDataset(dataset, cardinality, mask_key)
    return apply


# ---------------------------------------------------------------- at / debug mode
def at(dataset, index):
    """The element of ``dataset`` at position ``index``
    (``tf.data.experimental.at``).

    Args:
      dataset: a ``tf.data.Dataset`` of known or infinite cardinality.
      index: a non-negative int.

    Raises:
      OutOfRangeError: ``index`` outside ``[0, cardinality)``.
      UnimplementedError: the dataset's cardinality is unknown (e.g. after
        ``filter``), where TF has no random access either.
    """
    index = int(S.to_host_array(index).reshape(()))
    n = dataset._cardinality()
    if n == UNKNOWN_CARDINALITY:
        raise UnimplementedError(None, None, "Random access is not implemented for "
                                 f"a dataset of unknown cardinality ({dataset!r})")
    if index < 0 or (n != INFINITE_CARDINALITY and index >= n):
        bound = "inf" if n == INFINITE_CARDINALITY else n
        raise OutOfRangeError(None, None, f"Index out of range [0, {bound}):{index}")
    for i, element in enumerate(dataset._iter()):
        if i == index:
            return S.to_tensors(element, backends.current_device())
    raise OutOfRangeError(None, None, f"Index out of range [0, {n}):{index}")


def enable_debug_mode():
    """Turns on tf.data debug mode. dlframe already runs every pipeline function
    eagerly, in order, in Python (what TF's debug mode switches to), so this only
    records the request."""
    _DEBUG_MODE[0] = True


# ---------------------------------------------------------------- Example parsing
def parse_example_dataset(features, num_parallel_calls=1, deterministic=None):
    """A transformation (for ``Dataset.apply``) that parses batches of serialized
    ``tf.train.Example`` protos into dicts of features.

    Args:
      features: a dict of feature configs, as ``tf.io.parse_example``.
      num_parallel_calls, deterministic: as ``Dataset.map``.
    """
    from dlframe.io.parsing import parse_example
    if not features:
        raise ValueError("Argument `features` cannot be None or empty.")
    return lambda dataset: dataset.map(lambda s: parse_example(s, features),
                                       num_parallel_calls, deterministic)


def make_batched_features_dataset(file_pattern, batch_size, features, reader=None,
                                  label_key=None, reader_args=None, num_epochs=None,
                                  shuffle=True, shuffle_buffer_size=10000,
                                  shuffle_seed=None, prefetch_buffer_size=None,
                                  reader_num_threads=None, parser_num_threads=None,
                                  sloppy_ordering=False, drop_final_batch=False):
    """Batches of parsed ``tf.train.Example`` features read from files.

    Args:
      file_pattern: a glob pattern or list of file paths.
      batch_size: examples per batch.
      features: a dict of feature configs (``tf.io.FixedLenFeature`` ...).
      reader: a dataset class reading records of a file (default TFRecordDataset).
      label_key: a feature key returned separately as the label.
      reader_args: extra arguments for ``reader``.
      num_epochs: passes over the data (None: forever).
      shuffle, shuffle_buffer_size, shuffle_seed: record shuffling.
      prefetch_buffer_size: batches to prefetch (default AUTOTUNE).
      reader_num_threads, parser_num_threads, sloppy_ordering: accepted for TF
        compatibility.
      drop_final_batch: drop a last batch smaller than ``batch_size``.

    Returns:
      A Dataset of feature dicts, or of ``(features, label)`` with ``label_key``.
    """
    from dlframe.data.readers import TFRecordDataset
    from dlframe.io import gfile
    if label_key is not None and label_key not in features:
        raise ValueError(f"The `label_key` provided ({label_key}) must be one of the "
                         f"`features` keys.")
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else \
        list(file_pattern)
    files = sorted({m for p in patterns for m in gfile.glob(p)})
    if not files:
        raise ValueError(f"No files match `file_pattern` {file_pattern!r}.")
    reader = TFRecordDataset if reader is None else reader
    dataset = Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=shuffle_seed)
    dataset = dataset.flat_map(lambda name: reader(name, *(reader_args or ())))
    if num_epochs != 1:
        dataset = dataset.repeat(num_epochs)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    dataset = dataset.batch(batch_size, drop_remainder=drop_final_batch)
    dataset = dataset.apply(parse_example_dataset(features))
    if label_key is not None:
        dataset = dataset.map(lambda f: (f, f.pop(label_key)))
    return dataset.prefetch(
        -1 if prefetch_buffer_size is None else prefetch_buffer_size)


# ---------------------------------------------------------------- lookup tables
class DatasetInitializer(lookup_ops.TableInitializerBase):
    """Table contents from a dataset of ``(key, value)`` pairs.

    Args:
      dataset: a ``tf.data.Dataset`` whose elements are 2-tuples of scalars.
    """

    def __init__(self, dataset):
        spec = dataset.element_spec
        if not (isinstance(spec, tuple) and len(spec) == 2
                and all(isinstance(s, TensorSpec) for s in spec)):
            raise TypeError(f"`dataset` must have elements of (key, value) tensors, "
                            f"got element_spec {spec!r}")
        for name, s in zip(("key", "value"), spec):
            if s.shape.rank not in (0, None):
                raise ValueError(f"The {name}s of `dataset` must be scalars, got shape "
                                 f"{s.shape}")
        self.dataset = dataset
        super().__init__(spec[0].dtype, spec[1].dtype)

    def _host_items(self):
        keys, values = [], []
        for key, value in self.dataset._iter():
            keys.append(key.reshape(()))
            values.append(value.reshape(()))
        key_np = object if self.key_dtype == _dt.string else self.key_dtype._np
        return (np.asarray(keys, dtype=key_np),
                np.asarray(values, dtype=self.value_dtype._np))


def _check_hasher(hasher_spec):
    hasher = getattr(hasher_spec, "hasher", "fasthash")
    if hasher != "fasthash":
        raise ValueError(f"`hasher_spec` {hasher_spec!r} is not supported: dlframe "
                         f"hashes out-of-vocabulary keys with 'fasthash' "
                         f"(Fingerprint64) only")


def table_from_dataset(dataset=None, num_oov_buckets=0, vocab_size=None,
                       default_value=None, hasher_spec=None, key_dtype=_dt.string,
                       name=None):
    """A lookup table from a dataset of ``(key, value)`` pairs.

    Args:
      dataset: a Dataset of scalar ``(key, value)`` pairs.
      num_oov_buckets: extra ids for unknown keys (needs int64 values); 0 gives a
        ``StaticHashTable`` that returns ``default_value`` for unknown keys.
      vocab_size: only the first ``vocab_size`` pairs are used, when given.
      default_value: the value of unknown keys (``num_oov_buckets == 0``).
      hasher_spec: the OOV hasher; only TF's default 'fasthash' is supported.
      key_dtype: the dtype of the keys looked up.
      name: optional table name.
    """
    if dataset is None:
        raise ValueError("`dataset` must be specified.")
    if int(num_oov_buckets) < 0:
        raise ValueError(f"`num_oov_buckets` must be greater than or equal to 0, got "
                         f"{num_oov_buckets}.")
    if vocab_size is not None:
        if int(vocab_size) < 1:
            raise ValueError(f"`vocab_size` must be greater than 0, got {vocab_size}.")
        dataset = dataset.take(int(vocab_size))
    _check_hasher(hasher_spec)
    initializer = DatasetInitializer(dataset)
    if int(num_oov_buckets) == 0:
        return lookup_ops.StaticHashTable(initializer, default_value, name=name)
    if initializer.value_dtype != _dt.int64:
        raise TypeError(f"Invalid `value_dtype`: expected int64 but got "
                        f"{initializer.value_dtype!r}.")
    return lookup_ops.StaticVocabularyTable(initializer, int(num_oov_buckets),
                                            lookup_key_dtype=key_dtype, name=name)


def index_table_from_dataset(dataset=None, num_oov_buckets=0, vocab_size=None,
                             default_value=-1, hasher_spec=None, key_dtype=_dt.string,
                             name=None):
    """A table mapping each key of ``dataset`` to its int64 position.

    Args:
      dataset: a Dataset of scalar keys (the vocabulary, in id order).
      num_oov_buckets, vocab_size, default_value, hasher_spec, key_dtype, name: as
        ``table_from_dataset``.
    """
    if dataset is None:
        raise ValueError("`dataset` must be specified.")
    return table_from_dataset(dataset.enumerate().map(lambda i, k: (k, i)),
                              num_oov_buckets, vocab_size, default_value, hasher_spec,
                              key_dtype, name)
