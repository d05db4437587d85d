"""Premade estimators: linear, DNN, DNN+linear ("wide & deep") and baseline models
over feature columns, as TF 2.15's ``tf.estimator`` canned estimators (v2: Keras
optimizers, loss reduction ``SUM_OVER_BATCH_SIZE``).

Variables are named as TensorFlow names them: ``dnn/hiddenlayer_0/kernel``,
``dnn/logits/bias``, ``linear/linear_model/<column>/weights``,
``linear/linear_model/bias_weights``, ``baseline/bias``, ``global_step``.
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tape import graph_gradients
from dlframe.core.variable import name_scope
from dlframe.estimator.estimator import Estimator
from dlframe.estimator.model_fn import ModeKeys
from dlframe.feature_column.base import embedding_lookup
from dlframe.keras import optimizers as _optimizers
from dlframe.keras.layers import (
    BatchNormalization,
    Dense,
    DenseFeatures,
    Dropout,
    Layer,
)
from dlframe.keras.layers.dense_features import (
    FeatureTransformationCache,
    _StateManager,
)
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math

_OPTIMIZERS = {"adagrad": _optimizers.Adagrad, "adam": _optimizers.Adam,
               "ftrl": _optimizers.Ftrl, "rmsprop": _optimizers.RMSprop,
               "sgd": _optimizers.SGD}
_DNN_LEARNING_RATE = 0.05
_LINEAR_LEARNING_RATE = 0.2
_BASELINE_LEARNING_RATE = 0.3
_COMBINED_DNN_LEARNING_RATE = 0.001
_COMBINED_LINEAR_LEARNING_RATE = 0.005


def make_optimizer(optimizer, learning_rate):
    """A Keras optimizer from a name ('Adagrad', 'Adam', 'Ftrl', 'RMSProp', 'SGD'; with
    ``learning_rate``), an instance, or a callable returning one."""
    if isinstance(optimizer, str):
        cls = _OPTIMIZERS.get(optimizer.lower())
        if cls is None:
            raise ValueError(f"Unsupported optimizer name: {optimizer}. Supported names "
                             "are: ['Adagrad', 'Adam', 'Ftrl', 'RMSProp', 'SGD']")
        return cls(learning_rate=learning_rate)
    if callable(optimizer) and not hasattr(optimizer, "apply_gradients"):
        optimizer = optimizer()
    if not hasattr(optimizer, "apply_gradients"):
        raise ValueError(f"The given object is not a tf.keras.optimizers.Optimizer "
                         f"instance. Given: {optimizer!r}")
    return optimizer


def _columns(feature_columns, what):
    if feature_columns is None:
        return []
    if hasattr(type(feature_columns), "_is_dense_column") or \
            hasattr(type(feature_columns), "_is_categorical_column"):
        feature_columns = [feature_columns]
    columns = list(feature_columns)
    for c in columns:
        if not hasattr(c, "parse_example_spec"):
            raise ValueError(f"{what} must be feature columns (tf.feature_column.*), "
                             f"given: {c!r}")
    return columns


class _LinearModel(Layer):
    """Weighted sum of feature columns: dense columns times a weight matrix,
    categorical columns' weights combined by ``sparse_combiner``, plus bias."""

    def __init__(self, feature_columns, units, sparse_combiner="sum",
                 name="linear_model"):
        super().__init__(name=name)
        if sparse_combiner not in ("sum", "mean", "sqrtn"):
            raise ValueError(f"sparse_combiner must be one of 'sum', 'mean', 'sqrtn', "
                             f"given: {sparse_combiner!r}")
        self._columns = sorted(feature_columns, key=lambda c: c.name)
        self._units = units
        self._combiner = sparse_combiner
        self._state_manager = _StateManager(self, True)

    def build(self, input_shape=None):
        self._weights_by_column = {}
        for c in self._columns:
            c.create_state(self._state_manager)
            if getattr(c, "_is_categorical_column", False):
                rows = c.num_buckets
            else:
                rows = 1
                for d in c.variable_shape:
                    rows *= int(d)
            self._weights_by_column[c.name] = self.add_weight(
                name=f"{c.name}/weights", shape=(rows, self._units),
                initializer="zeros")
        self.bias = self.add_weight(name="bias_weights", shape=(self._units,),
                                    initializer="zeros")
        self.built = True

    def call(self, features):
        cache = FeatureTransformationCache(features)
        total = None
        for c in self._columns:
            weights = self._weights_by_column[c.name]
            if getattr(c, "_is_categorical_column", False):
                pair = c.get_sparse_tensors(cache, self._state_manager)
                part = embedding_lookup(weights, pair, self._combiner)
            else:
                dense = _math.cast(c.get_dense_tensor(cache, self._state_manager),
                                   _dt.float32)
                dense = _array.reshape(dense, [dense.shape[0], -1])
                part = _linalg.matmul(dense, weights)
            total = part if total is None else _math.add(total, part)
        return _math.add(total, self.bias)


class _DNN:
    """DenseFeatures, hidden Dense layers (dropout, batch norm) and a logits layer."""

    def __init__(self, feature_columns, hidden_units, units, activation_fn, dropout,
                 batch_norm):
        self.input_layer = DenseFeatures(feature_columns,
                                         name="input_from_feature_columns")
        self.hidden = []
        for i, n in enumerate(hidden_units):
            layers = [Dense(n, activation=activation_fn, name=f"hiddenlayer_{i}")]
            if dropout:
                layers.append(Dropout(dropout, name=f"hiddenlayer_{i}_dropout"))
            if batch_norm:
                layers.append(BatchNormalization(momentum=0.999,
                                                 name=f"hiddenlayer_{i}_batchnorm"))
            self.hidden.append(layers)
        self.logits = Dense(units, name="logits")

    def __call__(self, features, training):
        net = self.input_layer(features)
        for layers in self.hidden:
            for layer in layers:
                net = layer(net, training=training) if not isinstance(layer, Dense) \
                    else layer(net)
        return self.logits(net)

    def variables(self):
        out = list(self.input_layer.trainable_weights)
        for layers in self.hidden:
            for layer in layers:
                out += layer.trainable_weights
        return out + list(self.logits.trainable_weights)


class _Baseline(Layer):
    """Logits that ignore the features: one learned bias."""

    def __init__(self, units, name="baseline"):
        super().__init__(name=name)
        self._units = units

    def build(self, input_shape=None):
        self.bias = self.add_weight(name="bias", shape=(self._units,),
                                    initializer="zeros")
        self.built = True

    def call(self, features):
        first = next(iter(features.values()))
        batch = first.shape[0]
        return _array.tile(_array.expand_dims(self.bias, 0), [batch, 1])


class _CannedEstimator(Estimator):
    """An Estimator whose ``model_fn`` sums the logits of its parts (each with its
    own optimizer) and hands them to a head."""

    def __init__(self, head, parts, model_dir=None, config=None,
                 warm_start_from=None):
        self._head = head
        self._parts = parts   # [(scope, make_model, optimizer spec, learning rate)]
        self._built = None
        super().__init__(model_fn=self._canned_model_fn, model_dir=model_dir,
                         config=config, warm_start_from=warm_start_from)

    def _build(self):
        if self._built is None:
            self._built = [[scope, make(), None] for scope, make, _, _ in self._parts]
        return self._built

    def _canned_model_fn(self, features, labels, mode, config):
        if not isinstance(features, dict):
            raise ValueError(  # noqa: TRY004 - TF raises ValueError
                f"features should be a dictionary of `Tensor`s. Given "
                f"type: {type(features)}")
        training = mode == ModeKeys.TRAIN
        logits = None
        for scope, model, _ in self._build():
            with name_scope(scope):
                out = model(features, training=training) if isinstance(model, _DNN) \
                    else model(features)
            logits = out if logits is None else _math.add(logits, out)

        def train_op_fn(loss):
            built = self._build()
            for entry, (_, _, spec, lr) in zip(built, self._parts):
                if entry[2] is None:
                    entry[2] = make_optimizer(spec, lr)
            variables = [self._part_variables(model) for _, model, _ in built]
            grads = graph_gradients(loss, [v for vs in variables for v in vs])
            start = 0
            for (_, _, optimizer), vs in zip(built, variables):
                optimizer.apply_gradients(zip(grads[start:start + len(vs)], vs))
                start += len(vs)
            return self._scope.global_step.assign_add(1)

        return self._head.create_estimator_spec(features, mode, logits, labels,
                                                train_op_fn)

    @staticmethod
    def _part_variables(model):
        return model.variables() if isinstance(model, _DNN) else \
            list(model.trainable_weights)


def _linear_part(feature_columns, head, optimizer, lr, sparse_combiner):
    columns = _columns(feature_columns, "feature_columns")
    if not columns:
        raise ValueError("feature_columns must be given (a non-empty list).")
    return ("linear", lambda: _LinearModel(columns, head.logits_dimension,
                                           sparse_combiner), optimizer, lr)


def _dnn_part(feature_columns, head, hidden_units, optimizer, lr, activation_fn,
              dropout, batch_norm):
    columns = _columns(feature_columns, "feature_columns")
    if not columns:
        raise ValueError("feature_columns must be given (a non-empty list).")
    units = list(hidden_units or [])
    if not units or not all(isinstance(u, int) and u > 0 for u in units):
        raise ValueError(f"hidden_units must be a non-empty list of positive ints, "
                         f"given: {hidden_units!r}")
    if dropout is not None and not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), given: {dropout!r}")
    return ("dnn", lambda: _DNN(columns, units, head.logits_dimension, activation_fn,
                                dropout, batch_norm), optimizer, lr)

