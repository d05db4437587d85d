# ruff: noqa: TRY004 - TensorFlow raises ValueError for these type checks
"""Base classes of feature columns and the math shared by the dense columns.

Columns are immutable namedtuples (as in TensorFlow), so they compare and hash by
value and can key the per-call transformation cache.

Categorical columns produce an ``IdWeightPair``: dense int64 ids of shape
``[batch, ..., n]`` where ``-1`` marks a missing value (TF drops these from its
SparseTensor: '' for strings, -1 for integers, out-of-vocabulary ids without OOV
buckets), and optional float weights of the same shape.
"""

import collections

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor
from dlframe.io.sparse_tensor import SparseTensor, to_dense
from dlframe.keras import initializers as _initializers
from dlframe.keras.layers import dense_features as _dense_features
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import clip_ops as _clip
from dlframe.ops import creation as _creation
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red

IdWeightPair = collections.namedtuple("IdWeightPair", ("id_tensor", "weight_tensor"))


class FeatureColumn:
    """Base of all feature columns (subclasses are namedtuples)."""

    __slots__ = ()
    _is_dense_column = False
    _is_categorical_column = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _dense_features.FEATURE_COLUMN_CLASSES[cls.__name__] = cls

    @property
    def name(self):
        raise NotImplementedError

    @property
    def parents(self):
        """The columns (or raw feature keys) this column is computed from."""
        return []

    @property
    def parse_example_spec(self):
        raise NotImplementedError

    def create_state(self, state_manager):
        """Creates the variables this column needs (none by default)."""

    def transform_feature(self, transformation_cache, state_manager, training=None):
        raise NotImplementedError

    # -- config: one field -> JSON value mapping for every column -----------------
    def get_config(self):
        """The column's fields as a JSON-friendly dict (nested columns serialized)."""
        return {k: _to_config(v) for k, v in self._asdict().items()}

    @classmethod
    def from_config(cls, config, custom_objects=None, columns_by_name=None):
        """Rebuilds a column from ``get_config``'s dict."""
        kwargs = {k: _from_config(k, v, custom_objects) for k, v in config.items()}
        return cls(**kwargs)


class DenseColumn(FeatureColumn):
    """A column with a dense ``[batch, *variable_shape]`` output."""

    __slots__ = ()
    _is_dense_column = True

    @property
    def variable_shape(self):
        raise NotImplementedError

    def get_dense_tensor(self, transformation_cache, state_manager, training=None):
        raise NotImplementedError


class CategoricalColumn(FeatureColumn):
    """A column mapping a feature to integer ids in ``[0, num_buckets)``."""

    __slots__ = ()
    _is_categorical_column = True

    @property
    def num_buckets(self):
        raise NotImplementedError

    def get_sparse_tensors(self, transformation_cache, state_manager):
        """The ``IdWeightPair`` of this column (weights None for unweighted columns)."""
        return IdWeightPair(transformation_cache.get(self, state_manager), None)


# ---------------------------------------------------------------- config helpers
def _to_config(value):
    if isinstance(value, FeatureColumn):
        return _dense_features.serialize_feature_column(value)
    if isinstance(value, _dt.DType):
        return value.name
    if isinstance(value, (list, tuple)):
        return [_to_config(v) for v in value]
    if callable(value):
        return generic_utils.serialize_keras_object(value)
    return value


def _tuple(value):
    return (
        tuple(_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value
    )


def _from_config(field, value, custom_objects):
    if isinstance(value, dict) and "class_name" in value:
        if field == "initializer":
            return _initializers.deserialize(value, custom_objects=custom_objects)
        return _dense_features.deserialize_feature_column(value, custom_objects)
    if field == "dtype" and value is not None:
        return _dt.as_dtype(value)
    if field.endswith("_fn") and isinstance(value, str):
        fn = generic_utils.get_registered_object(value, custom_objects)
        if fn is None:
            raise ValueError(
                f"Unknown function {value!r} for {field}: pass it in "
                "custom_objects or register it with "
                "keras.utils.register_keras_serializable."
            )
        return fn
    if field in ("keys", "categorical_columns"):
        return tuple(
            _dense_features.deserialize_feature_column(v, custom_objects) for v in value
        )
    return _tuple(value)


# ---------------------------------------------------------------- validation
def check_key(key, what="key"):
    if not isinstance(key, str):
        raise ValueError(
            f"{what} must be a string. Got: type {type(key)}. Given key: {key}."
        )
    return key


def check_categorical(column, caller):
    if not getattr(column, "_is_categorical_column", False):
        raise ValueError(
            "Unsupported input type. Input must be a CategoricalColumn. "
            f"Given: {column}"
        )
    return column


# ---------------------------------------------------------------- raw inputs
def categorical_input(transformation_cache, key, column_dtype, state_manager):
    """The raw feature ``key`` as a dense Tensor of rank >= 2 checked against the
    column's dtype (SparseTensors are densified with the ignored value)."""
    raw = transformation_cache.get(key, state_manager)
    string = raw.dtype == _dt.string
    if (column_dtype == _dt.string) != string or not (string or raw.dtype.is_integer):
        raise ValueError(
            "Column dtype and SparseTensors dtype must be compatible. key: "
            f"{key}, column dtype: {column_dtype}, tensor dtype: "
            f"{raw.dtype}"
        )
    if isinstance(raw, SparseTensor):
        raw = to_dense(raw, default_value=b"" if string else -1)
        if len(raw.shape) == 1:
            raw = _array.expand_dims(raw, -1)
    return raw


def weight_input(transformation_cache, key, state_manager):
    raw = transformation_cache.get(key, state_manager)
    if isinstance(raw, SparseTensor):
        raw = to_dense(raw, default_value=0)
        if len(raw.shape) == 1:
            raw = _array.expand_dims(raw, -1)
    if raw.dtype == _dt.string:
        raise ValueError(f"Weight feature {key!r} must be numeric, got string.")
    return _math.cast(raw, _dt.float32)


def mark_missing(ids, missing):
    """``ids`` (cast to int64) with -1 wherever ``missing`` is True."""
    ids = _math.cast(ids, _dt.int64)
    return _logic.where(missing, _math.multiply(_logic.ones_like(ids), -1), ids)


# ---------------------------------------------------------------- dense outputs
def ids_to_dense(pair, num_buckets):
    """Indicator output: per row, the count (or summed weight) of each id."""
    hot = _creation.one_hot(pair.id_tensor, num_buckets, dtype=_dt.float32)
    if pair.weight_tensor is not None:
        hot = _math.multiply(hot, _array.expand_dims(pair.weight_tensor, -1))
    return _red.reduce_sum(hot, [-2])


def embedding_lookup(params, pair, combiner, max_norm=None):
    """Combines the embeddings of each row's ids (TF's safe_embedding_lookup_sparse):
    missing ids are pruned, and ids with non-positive weight too unless ``combiner``
    is 'sum'; empty rows give zeros."""
    ids = pair.id_tensor
    batch = ids.shape[0]
    ids = _array.reshape(ids, [batch, -1])
    valid = _math.greater_equal(ids, 0)
    weights = _math.cast(valid, _dt.float32)
    if pair.weight_tensor is not None:
        given = _array.reshape(_math.cast(pair.weight_tensor, _dt.float32), [batch, -1])
        if combiner != "sum":  # TF prunes non-positive weights except for 'sum'
            weights = _math.multiply(
                weights, _math.cast(_math.greater(given, 0.0), _dt.float32)
            )
        weights = _math.multiply(weights, given)
    safe_ids = _logic.where(valid, ids, _logic.zeros_like(ids))
    vectors = _index.gather(params, safe_ids)  # [batch, n, dim]
    if max_norm is not None:
        vectors = _clip.clip_by_norm(vectors, max_norm, axes=[-1])
    total = _red.reduce_sum(
        _math.multiply(vectors, _array.expand_dims(weights, -1)), [1]
    )
    if combiner == "sum":
        return total
    if combiner == "mean":
        norm = _red.reduce_sum(weights, [1], keepdims=True)
    else:  # sqrtn
        norm = _math.sqrt(_red.reduce_sum(_math.square(weights), [1], keepdims=True))
    return _math.divide_no_nan(total, norm)


def is_tensor_like(value):
    return isinstance(value, (Tensor, SparseTensor))


def make_parse_example_spec(feature_columns):
    """The ``tf.io.parse_example`` feature spec dict all ``feature_columns`` need.

    Raises:
      ValueError: for an item that is not a feature column, or a key two columns
        parse differently.
    """
    spec = {}
    for column in feature_columns:
        if not isinstance(column, FeatureColumn):
            raise ValueError(
                f"All feature_columns must be FeatureColumn instances. Given: {column}"
            )
        for key, value in column.parse_example_spec.items():
            if key in spec and spec[key] != value:
                raise ValueError(
                    f"feature_columns contain different parse_spec for key "
                    f"{key}. Given {value} and {spec[key]}"
                )
            spec[key] = value
    return spec
