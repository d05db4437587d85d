"""Categorical columns: vocabulary list/file, identity, hash bucket and weighted.

Ids of missing values are -1 (see base.py). Vocabulary lookups and out-of-vocabulary
buckets follow TF bit for bit: OOV buckets are FarmHash Fingerprint64 of the value
(integers via their decimal string) modulo ``num_oov_buckets``, placed after the
vocabulary, and hash buckets are ``tf.strings.to_hash_bucket_fast``.
"""

import collections
import os

from dlframe.core import dtypes as _dt
from dlframe.core.primitive import STATE as _STATE
from dlframe.core.primitive import call
from dlframe.errors import InvalidArgumentError
from dlframe.feature_column import base
from dlframe.keras.layers.preprocessing_lookup import _Table, lookup_p
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import strings as _strings

_TABLES = {}  # column -> host lookup table, built once per column


def _oov_hash(value):
    if isinstance(value, bytes):
        return _strings.fingerprint64(value)
    return _strings.fingerprint64(str(int(value)).encode())


def _lookup(column, raw, vocabulary):
    """Ids of ``raw`` in ``vocabulary`` (OOV buckets or ``default_value`` beyond it)."""
    table = _TABLES.get(column)
    if table is None:
        string = column.dtype == _dt.string
        mapping = {
            (v.encode() if isinstance(v, str) else v): i
            for i, v in enumerate(vocabulary)
        }
        mapping[b"" if string else -1] = -1  # TF's ignored (missing) value
        oov = (len(vocabulary), column.num_oov_buckets, _oov_hash)
        table = _Table(
            mapping, column.default_value, oov if column.num_oov_buckets else None
        )
        _TABLES[column] = table
    host = raw if raw.dtype == _dt.string else _math.cast(raw.cpu(), _dt.int64)
    return call(lookup_p, (host,), {"table": table, "dtype": "int64"})


def _check_oov(key, num_oov_buckets, default_value):
    if num_oov_buckets is None or num_oov_buckets < 0:
        raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")
    if default_value is not None and default_value != -1 and num_oov_buckets:
        raise ValueError(
            f"Can't specify both num_oov_buckets and default_value in {key}."
        )


def _check_string_or_int(key, dtype):
    dtype = _dt.as_dtype(dtype)
    if dtype != _dt.string and not dtype.is_integer:
        raise ValueError(
            f"column_name: {key} dtype must be string or integer. dtype: {dtype}."
        )
    return dtype


class _KeyedColumn:
    """Mixin of the columns reading one feature ``key``: named after it, computed
    from it and parsed as a ``VarLenFeature`` of ``_feature_dtype``."""

    __slots__ = ()

    @property
    def _feature_dtype(self):
        return self.dtype

    @property
    def name(self):
        return self.key

    @property
    def parse_example_spec(self):
        from dlframe.io.parsing import VarLenFeature

        return {self.key: VarLenFeature(self._feature_dtype)}

    @property
    def parents(self):
        return [self.key]


class VocabularyListCategoricalColumn(
    _KeyedColumn,
    base.CategoricalColumn,
    collections.namedtuple(
        "VocabularyListCategoricalColumn",
        ("key", "vocabulary_list", "dtype", "default_value", "num_oov_buckets"),
    ),
):
    """Ids from a vocabulary list (``categorical_column_with_vocabulary_list``)."""

    __slots__ = ()

    @property
    def num_buckets(self):
        return len(self.vocabulary_list) + self.num_oov_buckets

    def transform_feature(self, transformation_cache, state_manager, training=None):
        raw = base.categorical_input(
            transformation_cache, self.key, self.dtype, state_manager
        )
        return _lookup(self, raw, self.vocabulary_list)


def categorical_column_with_vocabulary_list(
    key, vocabulary_list, dtype=None, default_value=-1, num_oov_buckets=0
):
    """A categorical column whose ids are positions in ``vocabulary_list``.

    Args:
      key: feature key (string or integer feature).
      vocabulary_list: non-empty list of unique strings or integers.
      dtype: feature dtype (default inferred from the vocabulary: string or int64).
      default_value: id of out-of-vocabulary values when ``num_oov_buckets`` is 0
        (the default -1 drops them).
      num_oov_buckets: hash OOV values into this many extra buckets
        ``[len(vocabulary_list), len(vocabulary_list) + num_oov_buckets)``.

    Returns:
      A ``VocabularyListCategoricalColumn``.
    """
    base.check_key(key)
    if vocabulary_list is None or len(vocabulary_list) < 1:
        raise ValueError(
            f"vocabulary_list {vocabulary_list} must be non-empty, column_name: {key}"
        )
    vocab = list(vocabulary_list)
    if len(set(vocab)) != len(vocab):
        raise ValueError(
            f"Duplicate keys in vocabulary_list {vocab}, column_name: {key}"
        )
    strings = all(isinstance(v, (str, bytes)) for v in vocab)
    if not strings and not all(
        isinstance(v, int) or hasattr(v, "__index__") for v in vocab
    ):
        raise ValueError(
            f"vocabulary_list {vocab} must hold only strings or only "
            f"integers, column_name: {key}"
        )
    vocab_dtype = _dt.string if strings else _dt.int64
    _check_oov(key, num_oov_buckets, default_value)
    if dtype is not None:
        dtype = _check_string_or_int(key, dtype)
        if (dtype == _dt.string) != strings:
            raise ValueError(
                f"dtype {dtype} and vocabulary dtype {vocab_dtype} do not "
                f"match, column_name: {key}"
            )
    else:
        dtype = vocab_dtype
    vocab = tuple(
        v.decode() if isinstance(v, bytes) else (v if strings else int(v))
        for v in vocab
    )
    return VocabularyListCategoricalColumn(
        key=key,
        vocabulary_list=vocab,
        dtype=dtype,
        default_value=-1 if default_value is None else default_value,
        num_oov_buckets=num_oov_buckets,
    )


class VocabularyFileCategoricalColumn(
    _KeyedColumn,
    base.CategoricalColumn,
    collections.namedtuple(
        "VocabularyFileCategoricalColumn",
        (
            "key",
            "vocabulary_file",
            "vocabulary_size",
            "num_oov_buckets",
            "dtype",
            "default_value",
            "file_format",
        ),
    ),
):
    """Ids from a vocabulary file (see ``categorical_column_with_vocabulary_file``)."""

    __slots__ = ()

    @property
    def num_buckets(self):
        return self.vocabulary_size + self.num_oov_buckets

    def transform_feature(self, transformation_cache, state_manager, training=None):
        raw = base.categorical_input(
            transformation_cache, self.key, self.dtype, state_manager
        )
        vocab = ()  # the table, once built, is cached per column
        if self not in _TABLES:
            lines = _read_lines(self.vocabulary_file)
            if len(lines) < self.vocabulary_size:
                raise InvalidArgumentError(
                    f"Invalid vocab_size in {self.vocabulary_file}: expected "
                    f"{self.vocabulary_size}, the file has {len(lines)} lines."
                )
            lines = lines[: self.vocabulary_size]
            vocab = lines if self.dtype == _dt.string else [int(v) for v in lines]
        return _lookup(self, raw, vocab)


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f]


def categorical_column_with_vocabulary_file(
    key,
    vocabulary_file,
    vocabulary_size=None,
    dtype=_dt.string,
    default_value=None,
    num_oov_buckets=0,
    file_format=None,
):
    """A categorical column whose ids are line numbers in a vocabulary file.

    Args:
      key: feature key.
      vocabulary_file: text file with one vocabulary entry per line.
      vocabulary_size: number of lines to use (default: all lines).
      dtype: string or an integer dtype (lines are parsed as integers).
      default_value: id of out-of-vocabulary values (default -1: dropped).
      num_oov_buckets: number of hashed OOV buckets after the vocabulary.
      file_format: accepted for compatibility ('text' only).

    Returns:
      A ``VocabularyFileCategoricalColumn``.
    """
    base.check_key(key)
    if not vocabulary_file:
        raise ValueError(f"Missing vocabulary_file in {key}.")
    if not os.path.exists(vocabulary_file):
        raise ValueError(f"vocabulary_file in {key} does not exist.")
    if vocabulary_size is None:
        vocabulary_size = len(_read_lines(vocabulary_file))
    if vocabulary_size < 1:
        raise ValueError(f"Invalid vocabulary_size in {key}.")
    _check_oov(key, num_oov_buckets, default_value)
    dtype = _check_string_or_int(key, dtype)
    return VocabularyFileCategoricalColumn(
        key=key,
        vocabulary_file=vocabulary_file,
        vocabulary_size=vocabulary_size,
        num_oov_buckets=num_oov_buckets,
        dtype=dtype,
        default_value=-1 if default_value is None else default_value,
        file_format=file_format,
    )


class IdentityCategoricalColumn(
    _KeyedColumn,
    base.CategoricalColumn,
    collections.namedtuple(
        "IdentityCategoricalColumn", ("key", "number_buckets", "default_value")
    ),
):
    """Integer features used as ids (see ``categorical_column_with_identity``)."""

    __slots__ = ()

    _feature_dtype = _dt.int64

    @property
    def num_buckets(self):
        return self.number_buckets

    def transform_feature(self, transformation_cache, state_manager, training=None):
        raw = transformation_cache.get(self.key, state_manager)
        if not raw.dtype.is_integer:
            raise ValueError(
                f"Invalid input, not integer. key: {self.key} dtype: {raw.dtype}"
            )
        raw = base.categorical_input(
            transformation_cache, self.key, raw.dtype, state_manager
        )
        ids = _math.cast(raw, _dt.int64)
        outside = _math.logical_or(
            _math.less(ids, 0), _math.greater_equal(ids, self.number_buckets)
        )
        if self.default_value is not None:
            default = _math.multiply(_logic.ones_like(ids), self.default_value)
            return base.mark_missing(
                _logic.where(outside, default, ids), _math.equal(ids, -1)
            )
        if _STATE.trace is None and ids.shape.num_elements():
            high = int(_red.reduce_max(ids))
            if high >= self.number_buckets:
                raise InvalidArgumentError(
                    f"Feature {self.key!r} has id {high}, outside [0, "
                    f"{self.number_buckets}) of categorical_column_with_identity; pass "
                    "default_value to map out-of-range ids to a bucket."
                )
        return base.mark_missing(ids, outside)


def categorical_column_with_identity(key, num_buckets, default_value=None):
    """A categorical column whose integer feature values are the ids.

    Args:
      key: feature key (integer feature).
      num_buckets: ids are in ``[0, num_buckets)``.
      default_value: id given to values outside that range; without it, values
        ``>= num_buckets`` are an error and negative values are dropped.

    Returns:
      An ``IdentityCategoricalColumn``.
    """
    base.check_key(key)
    if num_buckets is None or num_buckets < 1:
        raise ValueError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(
            f"default_value {default_value} not in range [0, "
            f"{num_buckets}), column_name {key}"
        )
    return IdentityCategoricalColumn(
        key=key, number_buckets=num_buckets, default_value=default_value
    )


class HashedCategoricalColumn(
    _KeyedColumn,
    base.CategoricalColumn,
    collections.namedtuple(
        "HashedCategoricalColumn", ("key", "hash_bucket_size", "dtype")
    ),
):
    """Ids by hashing the feature (see ``categorical_column_with_hash_bucket``)."""

    __slots__ = ()

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    def transform_feature(self, transformation_cache, state_manager, training=None):
        raw = base.categorical_input(
            transformation_cache, self.key, self.dtype, state_manager
        )
        if raw.dtype == _dt.string:
            strings, missing = raw, _math.equal(raw, "")
        else:
            strings = _strings.as_string(raw)
            missing = _math.equal(raw, -1)
        ids = _strings.to_hash_bucket_fast(strings, self.hash_bucket_size)
        return base.mark_missing(ids, missing)


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=_dt.string):
    """A categorical column hashing values into ``hash_bucket_size`` buckets.

    Ids equal TF's: FarmHash Fingerprint64 of the string (integers via their decimal
    string) modulo ``hash_bucket_size``. Missing values ('' or -1) are dropped.

    Args:
      key: feature key.
      hash_bucket_size: number of buckets (>= 1).
      dtype: string or an integer dtype.

    Returns:
      A ``HashedCategoricalColumn``.
    """
    base.check_key(key)
    if hash_bucket_size is None:
        raise ValueError(f"hash_bucket_size must be set. key: {key}")
    if hash_bucket_size < 1:
        raise ValueError(
            f"hash_bucket_size must be at least 1. hash_bucket_size: "
            f"{hash_bucket_size}, key: {key}"
        )
    dtype = _check_string_or_int(key, dtype)
    return HashedCategoricalColumn(
        key=key, hash_bucket_size=hash_bucket_size, dtype=dtype
    )


class WeightedCategoricalColumn(
    base.CategoricalColumn,
    collections.namedtuple(
        "WeightedCategoricalColumn",
        ("categorical_column", "weight_feature_key", "dtype"),
    ),
):
    """Categorical ids with a weight each (see ``weighted_categorical_column``)."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets

    @property
    def parse_example_spec(self):
        from dlframe.io.parsing import VarLenFeature

        spec = dict(self.categorical_column.parse_example_spec)
        if self.weight_feature_key in spec:
            raise ValueError(
                f"Parse config {spec} already exists for {self.weight_feature_key}."
            )
        spec[self.weight_feature_key] = VarLenFeature(self.dtype)
        return spec

    @property
    def parents(self):
        return [self.categorical_column, self.weight_feature_key]

    def transform_feature(self, transformation_cache, state_manager, training=None):
        ids = self.categorical_column.get_sparse_tensors(
            transformation_cache, state_manager
        ).id_tensor
        weights = base.weight_input(
            transformation_cache, self.weight_feature_key, state_manager
        )
        if tuple(weights.shape) != tuple(ids.shape):
            raise ValueError(
                f"Weight feature {self.weight_feature_key!r} has shape "
                f"{tuple(weights.shape)}, but the ids of "
                f"{self.categorical_column.name!r} have shape "
                f"{tuple(ids.shape)}; they must match."
            )
        return base.IdWeightPair(ids, weights)

    def get_sparse_tensors(self, transformation_cache, state_manager):
        return transformation_cache.get(self, state_manager)


def weighted_categorical_column(
    categorical_column, weight_feature_key, dtype=_dt.float32
):
    """A categorical column whose ids carry the weights of ``weight_feature_key``.

    Args:
      categorical_column: the column giving the ids.
      weight_feature_key: feature key of the weights (same shape as the ids).
      dtype: weight dtype (float or integer).

    Returns:
      A ``WeightedCategoricalColumn``.
    """
    base.check_categorical(categorical_column, "weighted_categorical_column")
    dtype = _dt.as_dtype(dtype) if dtype is not None else None
    if dtype is None or not (dtype.is_integer or dtype.is_floating):
        raise ValueError(f"dtype {dtype} is not convertible to float.")
    return WeightedCategoricalColumn(
        categorical_column=categorical_column,
        weight_feature_key=weight_feature_key,
        dtype=dtype,
    )
