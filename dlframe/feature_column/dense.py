# ruff: noqa: TRY004 - TensorFlow raises ValueError for these type checks
"""Dense columns: numeric, bucketized, indicator and embedding (+ shared embeddings).

``bucketized_column`` is also categorical (its ids feed ``crossed_column`` or
``embedding_column``). Bucket ``i`` holds ``boundaries[i-1] <= x < boundaries[i]``.
"""

import collections
import itertools
import math as _pymath

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.feature_column import base
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.keras import initializers as _initializers
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red


class _DerivedColumn:
    """Mixin of the columns computed from one parent column (the field named
    ``_parent_field``): they parse what the parent parses."""

    __slots__ = ()
    _parent_field = "categorical_column"

    @property
    def parse_example_spec(self):
        return getattr(self, self._parent_field).parse_example_spec

    @property
    def parents(self):
        return [getattr(self, self._parent_field)]


# ---------------------------------------------------------------- numeric
class NumericColumn(
    base.DenseColumn,
    collections.namedtuple(
        "NumericColumn", ("key", "shape", "default_value", "dtype", "normalizer_fn")
    ),
):
    """Real-valued feature of a fixed ``shape`` (see ``numeric_column``)."""

    __slots__ = ()

    @property
    def name(self):
        return self.key

    @property
    def variable_shape(self):
        return TensorShape(self.shape)

    @property
    def parse_example_spec(self):
        from dlframe.io.parsing import FixedLenFeature

        return {self.key: FixedLenFeature(self.shape, self.dtype, self.default_value)}

    @property
    def parents(self):
        return [self.key]

    def transform_feature(self, transformation_cache, state_manager, training=None):
        raw = transformation_cache.get(self.key, state_manager)
        if isinstance(raw, SparseTensor):
            raise ValueError(
                "The corresponding Tensor of numerical column must be a "
                f"Tensor. SparseTensor is not supported. key: {self.key}"
            )
        if raw.dtype == _dt.string:
            raise TypeError(
                f"numeric_column {self.key!r} received a string feature; "
                "convert it with tf.strings.to_number first."
            )
        if self.normalizer_fn is not None:
            raw = self.normalizer_fn(raw)
        return _math.cast(raw, _dt.float32)

    def get_dense_tensor(self, transformation_cache, state_manager, training=None):
        return transformation_cache.get(self, state_manager, training)


def _check_shape(shape, key):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    for dim in shape:
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(
                f"shape dimensions must be integer. shape: {shape}, key: {key}"
            )
        if dim < 1:
            raise ValueError(
                f"shape dimensions must be greater than 0. shape: {shape}, key: {key}"
            )
    return shape


def _nested_shape(value):
    if isinstance(value, (list, tuple)):
        inner = {_nested_shape(v) for v in value}
        if len(inner) != 1:
            return None
        sub = inner.pop()
        return None if sub is None else (len(value),) + sub
    return ()


def _default_value(value, dtype, shape, key):
    if value is None:
        return None
    cast = float if dtype.is_floating else int

    def convert(v):
        if dtype.is_integer and isinstance(v, float) and not v.is_integer():
            raise TypeError(
                f"default_value must be compatible with dtype. "
                f"default_value: {value}, dtype: {dtype}, key: {key}"
            )
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise TypeError(
                f"default_value must be compatible with dtype. "
                f"default_value: {value}, dtype: {dtype}, key: {key}"
            )
        return cast(v)

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        filled = convert(value)
        for dim in reversed(shape):
            filled = (filled,) * dim
        return filled
    if _nested_shape(value) != shape:
        raise ValueError(
            f"The shape of default_value must be equal to given shape. "
            f"default_value: {value}, shape: {shape}, key: {key}"
        )

    def walk(v):
        return tuple(walk(x) for x in v) if isinstance(v, (list, tuple)) else convert(v)

    return walk(value)


def numeric_column(
    key, shape=(1,), default_value=None, dtype=_dt.float32, normalizer_fn=None
):
    """A column of real-valued features.

    Args:
      key: feature key.
      shape: the per-example shape (an int or a tuple of positive ints).
      default_value: value of missing features when parsing examples (a scalar fills
        ``shape``).
      dtype: the feature's dtype (float or integer); the output is float32.
      normalizer_fn: optional function applied to the raw feature tensor.

    Returns:
      A ``NumericColumn``.
    """
    base.check_key(key)
    shape = _check_shape(shape, key)
    dtype = _dt.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise ValueError(
            f"dtype must be convertible to float. dtype: {dtype}, key: {key}"
        )
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return NumericColumn(
        key=key,
        shape=shape,
        default_value=_default_value(default_value, dtype, shape, key),
        dtype=dtype,
        normalizer_fn=normalizer_fn,
    )


# ---------------------------------------------------------------- bucketized
class BucketizedColumn(
    _DerivedColumn,
    base.DenseColumn,
    base.CategoricalColumn,
    collections.namedtuple("BucketizedColumn", ("source_column", "boundaries")),
):
    """A numeric column discretized by ``boundaries`` (see ``bucketized_column``)."""

    __slots__ = ()
    _parent_field = "source_column"

    @property
    def name(self):
        return f"{self.source_column.name}_bucketized"

    @property
    def _buckets_per_value(self):
        return len(self.boundaries) + 1

    @property
    def num_buckets(self):
        return (
            self._buckets_per_value
            * TensorShape(self.source_column.shape).num_elements()
        )

    @property
    def variable_shape(self):
        return TensorShape(tuple(self.source_column.shape) + (self._buckets_per_value,))

    def transform_feature(self, transformation_cache, state_manager, training=None):
        values = transformation_cache.get(self.source_column, state_manager)
        bounds = convert_to_tensor(list(self.boundaries), dtype=_dt.float32)
        above = _math.greater_equal(_array.expand_dims(values, -1), bounds)
        return _red.reduce_sum(_math.cast(above, _dt.int64), [-1])

    def get_dense_tensor(self, transformation_cache, state_manager, training=None):
        buckets = transformation_cache.get(self, state_manager, training)
        return _creation.one_hot(buckets, self._buckets_per_value, dtype=_dt.float32)

    def get_sparse_tensors(self, transformation_cache, state_manager):
        buckets = transformation_cache.get(self, state_manager)
        buckets = _array.reshape(buckets, [buckets.shape[0], -1])
        width = buckets.shape[1]
        # value i of an example uses buckets [i * per_value, (i + 1) * per_value)
        offsets = convert_to_tensor(
            [i * self._buckets_per_value for i in range(width)], dtype=_dt.int64
        )
        return base.IdWeightPair(_math.add(buckets, offsets), None)


def bucketized_column(source_column, boundaries):
    """Discretizes a ``numeric_column`` into ``len(boundaries) + 1`` buckets per value.

    Args:
      source_column: a one-dimensional ``numeric_column``.
      boundaries: strictly increasing list of floats.

    Returns:
      A ``BucketizedColumn`` (dense: one-hot buckets; categorical: bucket ids).
    """
    if not isinstance(source_column, NumericColumn):
        raise ValueError(
            "source_column must be a column generated with "
            f"numeric_column(). Given: {source_column}"
        )
    if len(source_column.shape) > 1:
        raise ValueError(
            f"source_column must be one-dimensional column. Given: {source_column}"
        )
    if not isinstance(boundaries, (list, tuple)):
        raise ValueError("boundaries must be a sorted list.")
    if not boundaries:
        raise ValueError("boundaries must not be empty.")
    for low, high in itertools.pairwise(boundaries):
        if low >= high:
            raise ValueError("boundaries must be a sorted list.")
    return BucketizedColumn(
        source_column=source_column, boundaries=tuple(float(b) for b in boundaries)
    )


# ---------------------------------------------------------------- indicator
class IndicatorColumn(
    _DerivedColumn,
    base.DenseColumn,
    collections.namedtuple("IndicatorColumn", ("categorical_column",)),
):
    """Multi-hot representation of a categorical column (see ``indicator_column``)."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.categorical_column.name}_indicator"

    @property
    def variable_shape(self):
        return TensorShape([self.categorical_column.num_buckets])

    def transform_feature(self, transformation_cache, state_manager, training=None):
        pair = self.categorical_column.get_sparse_tensors(
            transformation_cache, state_manager
        )
        return base.ids_to_dense(pair, self.categorical_column.num_buckets)

    def get_dense_tensor(self, transformation_cache, state_manager, training=None):
        return transformation_cache.get(self, state_manager, training)


def indicator_column(categorical_column):
    """A dense column counting each id of ``categorical_column`` (multi-hot; with a
    ``weighted_categorical_column`` the weights are summed instead).

    Args:
      categorical_column: any categorical column.

    Returns:
      An ``IndicatorColumn`` of ``num_buckets`` floats per example.
    """
    base.check_categorical(categorical_column, "indicator_column")
    return IndicatorColumn(categorical_column=categorical_column)


# ---------------------------------------------------------------- embedding
_COMBINERS = ("mean", "sqrtn", "sum")


class EmbeddingColumn(
    _DerivedColumn,
    base.DenseColumn,
    collections.namedtuple(
        "EmbeddingColumn",
        (
            "categorical_column",
            "dimension",
            "combiner",
            "initializer",
            "ckpt_to_load_from",
            "tensor_name_in_ckpt",
            "max_norm",
            "trainable",
            "use_safe_embedding_lookup",
        ),
    ),
):
    """Learned embeddings of a categorical column's ids (see ``embedding_column``)."""

    __slots__ = ()

    @property
    def name(self):
        return f"{self.categorical_column.name}_embedding"

    @property
    def variable_shape(self):
        return TensorShape([self.dimension])

    def create_state(self, state_manager):
        var = state_manager.create_variable(
            self,
            name="embedding_weights",
            shape=(self.categorical_column.num_buckets, self.dimension),
            dtype=_dt.float32,
            trainable=self.trainable,
            use_resource=True,
            initializer=self.initializer,
        )
        if self.ckpt_to_load_from is not None:
            from dlframe import train

            var.assign(
                train.load_variable(self.ckpt_to_load_from, self.tensor_name_in_ckpt)
            )

    def transform_feature(self, transformation_cache, state_manager, training=None):
        return self.categorical_column.get_sparse_tensors(
            transformation_cache, state_manager
        )

    def get_dense_tensor(self, transformation_cache, state_manager, training=None):
        pair = self.categorical_column.get_sparse_tensors(
            transformation_cache, state_manager
        )
        params = state_manager.get_variable(self, "embedding_weights")
        return base.embedding_lookup(params, pair, self.combiner, self.max_norm)


def embedding_column(
    categorical_column,
    dimension,
    combiner="mean",
    initializer=None,
    ckpt_to_load_from=None,
    tensor_name_in_ckpt=None,
    max_norm=None,
    trainable=True,
    use_safe_embedding_lookup=True,
):
    """A dense column of learned ``dimension``-long embeddings of categorical ids.

    The table is a ``[num_buckets, dimension]`` weight named
    ``<layer>/<column name>/embedding_weights`` of the ``DenseFeatures`` layer.

    Args:
      categorical_column: any categorical column.
      dimension: embedding size (> 0).
      combiner: how a row's several ids combine: 'mean' (default), 'sqrtn' or 'sum'
        (weighted by a ``weighted_categorical_column``'s weights).
      initializer: initializer of the table (default truncated normal with mean 0
        and stddev ``1/sqrt(dimension)``).
      ckpt_to_load_from: optional checkpoint to initialize the table from.
      tensor_name_in_ckpt: name of the table in that checkpoint.
      max_norm: if set, each embedding is clipped to this L2 norm before combining.
      trainable: whether the table is trained.
      use_safe_embedding_lookup: accepted for compatibility (lookups are always safe:
        missing ids are pruned and empty rows give zeros).

    Returns:
      An ``EmbeddingColumn``.
    """
    if dimension is None or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError(
            "Must specify both `ckpt_to_load_from` and "
            "`tensor_name_in_ckpt` or none of them."
        )
    if initializer is not None and not callable(initializer):
        raise ValueError(
            "initializer must be callable if specified. Embedding of "
            f"column_name: {categorical_column.name}"
        )
    if combiner not in _COMBINERS:
        raise ValueError(
            f"combiner must be one of {list(_COMBINERS)}. Given: combiner={combiner!r}"
        )
    base.check_categorical(categorical_column, "embedding_column")
    if initializer is None:
        initializer = _initializers.TruncatedNormal(
            mean=0.0, stddev=1 / _pymath.sqrt(dimension)
        )
    return EmbeddingColumn(
        categorical_column=categorical_column,
        dimension=dimension,
        combiner=combiner,
        initializer=initializer,
        ckpt_to_load_from=ckpt_to_load_from,
        tensor_name_in_ckpt=tensor_name_in_ckpt,
        max_norm=max_norm,
        trainable=trainable,
        use_safe_embedding_lookup=use_safe_embedding_lookup,
    )


def shared_embeddings(
    categorical_columns,
    dimension,
    combiner="mean",
    initializer=None,
    shared_embedding_collection_name=None,
    ckpt_to_load_from=None,
    tensor_name_in_ckpt=None,
    max_norm=None,
    trainable=True,
    use_safe_embedding_lookup=True,
):
    """TF 2's ``shared_embeddings`` works only in graph mode; under eager execution
    (always, in dlframe) it raises RuntimeError as TensorFlow does. Use one
    ``embedding_column`` per categorical column instead."""
    raise RuntimeError(
        "shared_embedding_columns are not supported when eager execution is enabled."
    )
