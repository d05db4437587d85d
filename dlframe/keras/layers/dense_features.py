# ruff: noqa: TRY004 - TensorFlow raises ValueError for these type checks
"""``DenseFeatures``: the Keras layer that turns a dict of raw features into one dense
tensor through ``tf.feature_column`` columns.

The columns live one package up (``dlframe.feature_column``, DESIGN.md §2), so this
layer only relies on their protocol: ``name``, ``variable_shape``,
``create_state(state_manager)`` and ``get_dense_tensor(cache, state_manager,
training)``. Columns register their classes here (``FEATURE_COLUMN_CLASSES``) so the
layer's config can rebuild them.
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.io.sparse_tensor import SparseTensor
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import math as _math

__all__ = ["DenseFeatures"]

# class name -> feature column class, filled by dlframe.feature_column on import
FEATURE_COLUMN_CLASSES = {}


def serialize_feature_column(column):
    """``{'class_name': ..., 'config': ...}`` of a feature column (TF's format)."""
    if isinstance(column, str):
        return column
    return {"class_name": type(column).__name__, "config": column.get_config()}


def deserialize_feature_column(config, custom_objects=None):
    """A feature column from ``serialize_feature_column``'s dict (a str stays a key)."""
    if isinstance(config, str):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Improper config format for a feature column: {config!r}")
    name = config["class_name"]
    cls = FEATURE_COLUMN_CLASSES.get(name) or generic_utils.get_registered_object(
        name, custom_objects
    )
    if cls is None:
        raise ValueError(
            f"Unknown feature column: {name!r}. Known: {sorted(FEATURE_COLUMN_CLASSES)}"
        )
    return cls.from_config(config.get("config", {}), custom_objects=custom_objects)


def _raw_tensor(value, key):
    if isinstance(value, (Tensor, SparseTensor)):
        tensor = value
    else:
        tensor = convert_to_tensor(value)
    rank = len(tensor.shape)
    if rank == 0:
        shown = tensor.numpy() if isinstance(tensor, Tensor) else tensor
        raise ValueError(f"Feature (key: {key}) cannot have rank 0. Given: {shown}")
    if rank == 1 and isinstance(tensor, Tensor):
        tensor = _array.expand_dims(tensor, -1)  # a [batch] feature is [batch, 1]
    return tensor


class FeatureTransformationCache:
    """Raw features by key and column outputs by column, each computed once per call.

    Args:
      features: dict from feature key to Tensor, SparseTensor or array-like.
    """

    def __init__(self, features):
        self._features = dict(features)
        self._cache = {}

    def get(self, key, state_manager, training=None):
        """The raw feature ``key`` (rank-1 expanded to ``[batch, 1]``), or the
        transformed output of the feature column ``key``."""
        if key in self._cache:
            return self._cache[key]
        if isinstance(key, str):
            if key not in self._features:
                raise ValueError(f"Feature {key} is not in features dictionary.")
            out = _raw_tensor(self._features[key], key)
        else:
            out = key.transform_feature(self, state_manager, training=training)
        self._cache[key] = out
        return out


class _StateManager:
    """Creates and finds the variables columns need, as weights of ``layer``."""

    def __init__(self, layer, trainable):
        self._layer = layer
        self._trainable = trainable
        self._vars = {}

    def create_variable(
        self,
        feature_column,
        name,
        shape,
        dtype=None,
        trainable=True,
        use_resource=True,
        initializer=None,
    ):
        key = (feature_column.name, name)
        if key in self._vars:
            raise ValueError(f"Variable already exists: {feature_column.name}/{name}")
        var = self._layer.add_weight(
            name=f"{feature_column.name}/{name}",
            shape=shape,
            dtype=dtype or _dt.float32,
            initializer=initializer,
            trainable=self._trainable and trainable,
        )
        self._vars[key] = var
        return var

    def get_variable(self, feature_column, name):
        try:
            return self._vars[(feature_column.name, name)]
        except KeyError:
            raise ValueError(
                f"Variable does not exist: {feature_column.name}/{name}. "
                "Was the layer built?"
            ) from None

    def has_resource(self, feature_column, name):
        return False


def _num_elements(column):
    return TensorShape(column.variable_shape).num_elements()


class DenseFeatures(Layer):
    """A layer producing a dense tensor from a features dict via feature columns.

    Each column's output is reshaped to ``[batch, num_elements]`` and the outputs are
    concatenated in the order of the columns' names (as TensorFlow does).

    Args:
      feature_columns: iterable of dense columns (``numeric_column``,
        ``bucketized_column``, ``indicator_column``, ``embedding_column``, ...).
      trainable: whether embedding weights are trainable.
      name: layer name (default 'dense_features').
      partitioner: accepted for compatibility (variables are never partitioned).
      **kwargs: other Layer arguments (``dtype``, ...).
    """

    def __init__(
        self, feature_columns, trainable=True, name=None, partitioner=None, **kwargs
    ):
        super().__init__(name=name, trainable=trainable, **kwargs)
        if hasattr(type(feature_columns), "_is_dense_column") or not hasattr(
            feature_columns, "__iter__"
        ):  # one column (a namedtuple) alone
            feature_columns = [feature_columns]
        columns = list(feature_columns)
        if not columns:
            raise ValueError("feature_columns must not be empty.")
        for column in columns:
            if not getattr(column, "_is_dense_column", False):
                raise ValueError(
                    "Items of feature_columns must be a DenseColumn. You can wrap a "
                    "categorical column with an embedding_column or indicator_column. "
                    f"Given: {column}"
                )
        self._feature_columns = sorted(columns, key=lambda c: c.name)
        self._partitioner = partitioner
        self._state_manager = _StateManager(self, trainable)
        self._column_outputs = {}

    @property
    def feature_columns(self):
        return list(self._feature_columns)

    @property
    def _is_feature_layer(self):
        return True

    def build(self, input_shape=None):
        for column in self._feature_columns:
            column.create_state(self._state_manager)
        self.built = True

    def _maybe_build(self, inputs):
        if not self.built:
            self.build(None)

    def call(self, features, cols_to_output_tensors=None, training=None):
        """Dense ``[batch, total]`` float tensor of all columns for ``features``."""
        if not isinstance(features, dict):
            raise ValueError(
                f"We expected a dictionary here. Instead we got: {features!r}"
            )
        cache = FeatureTransformationCache(features)
        outputs = []
        for column in self._feature_columns:
            tensor = column.get_dense_tensor(
                cache, self._state_manager, training=training
            )
            tensor = _math.cast(tensor, self.compute_dtype)
            n = _num_elements(column)
            batch = tensor.shape[0]
            if len(tensor.shape) < 1 or tensor.shape.num_elements() != batch * n:
                from dlframe.errors import InvalidArgumentError

                raise InvalidArgumentError(
                    f"Feature column {column.name!r} produced shape "
                    f"{tuple(tensor.shape)}, which cannot be reshaped to "
                    f"[batch={batch}, {n}] as its variable_shape "
                    f"{tuple(TensorShape(column.variable_shape).as_list())} requires."
                )
            tensor = _array.reshape(tensor, [batch, n])
            if cols_to_output_tensors is not None:
                cols_to_output_tensors[column] = tensor
            outputs.append(tensor)
        return _array.concat(outputs, 1)

    def compute_output_shape(self, input_shape):
        batch = None
        if isinstance(input_shape, dict) and input_shape:
            first = TensorShape(next(iter(input_shape.values())))
            batch = first[0] if first.rank else None
        total = sum(_num_elements(c) for c in self._feature_columns)
        return TensorShape([batch, total])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "feature_columns": [
                    serialize_feature_column(c) for c in self._feature_columns
                ],
                "partitioner": None,
            }
        )
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["feature_columns"] = [
            deserialize_feature_column(c, custom_objects)
            for c in config["feature_columns"]
        ]
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)
