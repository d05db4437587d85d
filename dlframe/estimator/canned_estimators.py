"""The premade estimator classes (``tf.estimator.DNNClassifier`` etc.); their models
and training are in ``canned``."""

import math

from dlframe.estimator.canned import (
    _BASELINE_LEARNING_RATE,
    _COMBINED_DNN_LEARNING_RATE,
    _COMBINED_LINEAR_LEARNING_RATE,
    _DNN_LEARNING_RATE,
    _LINEAR_LEARNING_RATE,
    _Baseline,
    _CannedEstimator,
    _dnn_part,
    _linear_part,
)
from dlframe.estimator.head import ClassificationHead, RegressionHead
from dlframe.ops.nn import relu

_SUM_OVER_BATCH_SIZE = "sum_over_batch_size"


class LinearClassifier(_CannedEstimator):
    """Linear (logistic / softmax) classifier over feature columns.

    Args:
      feature_columns: the model's input columns (dense or categorical).
      model_dir: checkpoint directory.
      n_classes: number of label classes (default 2, binary).
      weight_column: name or numeric_column of the example-weight feature.
      label_vocabulary: list of string labels (default: int class ids).
      optimizer: 'Ftrl' (default, learning rate 0.2), another name, or a Keras
        optimizer (or callable returning one).
      config: a RunConfig.
      warm_start_from: checkpoint or WarmStartSettings to initialize from.
      loss_reduction: 'sum_over_batch_size' (default) or 'sum'.
      sparse_combiner: how categorical weights combine: 'sum', 'mean' or 'sqrtn'.
    """

    def __init__(self, feature_columns, model_dir=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, optimizer="Ftrl",
                 config=None, warm_start_from=None,
                 loss_reduction=_SUM_OVER_BATCH_SIZE, sparse_combiner="sum"):
        head = ClassificationHead(n_classes, weight_column, label_vocabulary,
                                  loss_reduction)
        parts = [_linear_part(feature_columns, head, optimizer, _LINEAR_LEARNING_RATE,
                              sparse_combiner)]
        super().__init__(head, parts, model_dir, config, warm_start_from)


class LinearRegressor(_CannedEstimator):
    """Linear regressor over feature columns (see ``LinearClassifier``; labels are
    ``label_dimension`` floats per example)."""

    def __init__(self, feature_columns, model_dir=None, label_dimension=1,
                 weight_column=None, optimizer="Ftrl", config=None,
                 warm_start_from=None, loss_reduction=_SUM_OVER_BATCH_SIZE,
                 sparse_combiner="sum"):
        head = RegressionHead(label_dimension, weight_column, loss_reduction)
        parts = [_linear_part(feature_columns, head, optimizer, _LINEAR_LEARNING_RATE,
                              sparse_combiner)]
        super().__init__(head, parts, model_dir, config, warm_start_from)


class DNNClassifier(_CannedEstimator):
    """Feed-forward neural network classifier over dense feature columns.

    Args:
      hidden_units: sizes of the hidden layers, e.g. ``[30, 10]``.
      feature_columns: dense columns (numeric, bucketized, embedding, indicator).
      model_dir: checkpoint directory.
      n_classes: number of label classes (default 2).
      weight_column: name or numeric_column of the example-weight feature.
      label_vocabulary: list of string labels (default: int class ids).
      optimizer: 'Adagrad' (default, learning rate 0.05), another name, or a Keras
        optimizer (or callable returning one).
      activation_fn: hidden-layer activation (default ``tf.nn.relu``).
      dropout: probability of dropping a hidden unit while training.
      config: a RunConfig.
      warm_start_from: checkpoint or WarmStartSettings to initialize from.
      loss_reduction: 'sum_over_batch_size' (default) or 'sum'.
      batch_norm: batch-normalize after each hidden layer.
    """

    def __init__(self, hidden_units, feature_columns, model_dir=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, optimizer="Adagrad",
                 activation_fn=relu, dropout=None, config=None, warm_start_from=None,
                 loss_reduction=_SUM_OVER_BATCH_SIZE, batch_norm=False):
        head = ClassificationHead(n_classes, weight_column, label_vocabulary,
                                  loss_reduction)
        parts = [_dnn_part(feature_columns, head, hidden_units, optimizer,
                           _DNN_LEARNING_RATE, activation_fn, dropout, batch_norm)]
        super().__init__(head, parts, model_dir, config, warm_start_from)


class DNNRegressor(_CannedEstimator):
    """Feed-forward neural network regressor (see ``DNNClassifier``)."""

    def __init__(self, hidden_units, feature_columns, model_dir=None,
                 label_dimension=1, weight_column=None, optimizer="Adagrad",
                 activation_fn=relu, dropout=None, config=None, warm_start_from=None,
                 loss_reduction=_SUM_OVER_BATCH_SIZE, batch_norm=False):
        head = RegressionHead(label_dimension, weight_column, loss_reduction)
        parts = [_dnn_part(feature_columns, head, hidden_units, optimizer,
                           _DNN_LEARNING_RATE, activation_fn, dropout, batch_norm)]
        super().__init__(head, parts, model_dir, config, warm_start_from)


def _combined_parts(head, linear_feature_columns, linear_optimizer,
                    dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                    dnn_activation_fn, dnn_dropout, batch_norm, linear_sparse_combiner):
    if not linear_feature_columns and not dnn_feature_columns:
        raise ValueError("Either linear_feature_columns or dnn_feature_columns must "
                         "be defined.")
    parts = []
    if linear_feature_columns:
        n = len(list(linear_feature_columns))
        lr = min(_COMBINED_LINEAR_LEARNING_RATE, 1.0 / math.sqrt(n))
        parts.append(_linear_part(linear_feature_columns, head, linear_optimizer, lr,
                                  linear_sparse_combiner))
    if dnn_feature_columns:
        if not dnn_hidden_units:
            raise ValueError("dnn_hidden_units must be defined when dnn_feature_columns "
                             "is specified.")
        parts.append(_dnn_part(dnn_feature_columns, head, dnn_hidden_units,
                               dnn_optimizer, _COMBINED_DNN_LEARNING_RATE,
                               dnn_activation_fn, dnn_dropout, batch_norm))
    return parts


class DNNLinearCombinedClassifier(_CannedEstimator):
    """Wide & deep classifier: a linear model and a DNN whose logits are summed,
    each trained by its own optimizer ('Ftrl' and 'Adagrad' by default)."""

    def __init__(self, model_dir=None, linear_feature_columns=None,
                 linear_optimizer="Ftrl", dnn_feature_columns=None,
                 dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=relu, dnn_dropout=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, config=None,
                 warm_start_from=None, loss_reduction=_SUM_OVER_BATCH_SIZE,
                 batch_norm=False, linear_sparse_combiner="sum"):
        head = ClassificationHead(n_classes, weight_column, label_vocabulary,
                                  loss_reduction)
        parts = _combined_parts(head, linear_feature_columns, linear_optimizer,
                                dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                                dnn_activation_fn, dnn_dropout, batch_norm,
                                linear_sparse_combiner)
        super().__init__(head, parts, model_dir, config, warm_start_from)


class DNNLinearCombinedRegressor(_CannedEstimator):
    """Wide & deep regressor (see ``DNNLinearCombinedClassifier``)."""

    def __init__(self, model_dir=None, linear_feature_columns=None,
                 linear_optimizer="Ftrl", dnn_feature_columns=None,
                 dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=relu, dnn_dropout=None, label_dimension=1,
                 weight_column=None, config=None, warm_start_from=None,
                 loss_reduction=_SUM_OVER_BATCH_SIZE, batch_norm=False,
                 linear_sparse_combiner="sum"):
        head = RegressionHead(label_dimension, weight_column, loss_reduction)
        parts = _combined_parts(head, linear_feature_columns, linear_optimizer,
                                dnn_feature_columns, dnn_optimizer, dnn_hidden_units,
                                dnn_activation_fn, dnn_dropout, batch_norm,
                                linear_sparse_combiner)
        super().__init__(head, parts, model_dir, config, warm_start_from)


class BaselineClassifier(_CannedEstimator):
    """Predicts the label distribution seen in training, ignoring the features."""

    def __init__(self, model_dir=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, optimizer="Ftrl", config=None,
                 loss_reduction=_SUM_OVER_BATCH_SIZE):
        head = ClassificationHead(n_classes, weight_column, label_vocabulary,
                                  loss_reduction)
        parts = [("", lambda: _Baseline(head.logits_dimension), optimizer,
                  _BASELINE_LEARNING_RATE)]
        super().__init__(head, parts, model_dir, config)


class BaselineRegressor(_CannedEstimator):
    """Predicts the mean label seen in training, ignoring the features."""

    def __init__(self, model_dir=None, label_dimension=1, weight_column=None,
                 optimizer="Ftrl", config=None, loss_reduction=_SUM_OVER_BATCH_SIZE):
        head = RegressionHead(label_dimension, weight_column, loss_reduction)
        parts = [("", lambda: _Baseline(head.logits_dimension), optimizer,
                  _BASELINE_LEARNING_RATE)]
        super().__init__(head, parts, model_dir, config)
