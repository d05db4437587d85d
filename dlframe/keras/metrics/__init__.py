"""``keras.metrics``: stateful metrics, their function forms, ``get``/``serialize``."""

from dlframe.keras.losses import (  # noqa
                                  KLD,
                                  MAE,
                                  MAPE,
                                  MSE,
                                  MSLE,
                                  binary_crossentropy,
                                  binary_focal_crossentropy,
                                  categorical_crossentropy,
                                  categorical_focal_crossentropy,
                                  categorical_hinge,
                                  hinge,
                                  huber,
                                  kl_divergence,
                                  kld,
                                  log_cosh,
                                  logcosh,
                                  mae,
                                  mape,
                                  mean_absolute_error,
                                  mean_absolute_percentage_error,
                                  mean_squared_error,
                                  mean_squared_logarithmic_error,
                                  mse,
                                  msle,
                                  poisson,
                                  sparse_categorical_crossentropy,
                                  squared_hinge,
)
from dlframe.keras.metrics.accuracy_metrics import (
                                  Accuracy,
                                  BinaryAccuracy,
                                  CategoricalAccuracy,
                                  SparseCategoricalAccuracy,
                                  SparseTopKCategoricalAccuracy,
                                  TopKCategoricalAccuracy,
                                  accuracy,
                                  binary_accuracy,
                                  categorical_accuracy,
                                  sparse_categorical_accuracy,
                                  sparse_top_k_categorical_accuracy,
                                  top_k_categorical_accuracy,
)
from dlframe.keras.metrics.confusion_metrics import (
                                  AUC,
                                  FalseNegatives,
                                  FalsePositives,
                                  Precision,
                                  Recall,
                                  TrueNegatives,
                                  TruePositives,
)
from dlframe.keras.metrics.f_score_metrics import F1Score, FBetaScore, R2Score
from dlframe.keras.metrics.correlation_metrics import (
                                  ConcordanceCorrelation,
                                  PearsonCorrelation,
                                  concordance_correlation,
                                  pearson_correlation,
)
from dlframe.keras.metrics.iou_metrics import (
                                  IoU,
                                  BinaryIoU,
                                  MeanIoU,
                                  OneHotIoU,
                                  OneHotMeanIoU,
)
from dlframe.keras.metrics.metric import Metric
from dlframe.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from dlframe.keras.metrics.sensitivity_metrics import (
                                  PrecisionAtRecall,
                                  RecallAtPrecision,
                                  SensitivityAtSpecificity,
                                  SpecificityAtSensitivity,
)
from dlframe.keras.metrics.regression_metrics import (
                                  BinaryCrossentropy,
                                  CategoricalCrossentropy,
                                  CategoricalHinge,
                                  CosineSimilarity,
                                  Hinge,
                                  KLDivergence,
                                  LogCoshError,
                                  MeanAbsoluteError,
                                  MeanAbsolutePercentageError,
                                  MeanSquaredError,
                                  MeanSquaredLogarithmicError,
                                  Poisson,
                                  RootMeanSquaredError,
                                  SparseCategoricalCrossentropy,
                                  SquaredHinge,
                                  cosine_similarity,
)
from dlframe.keras.utils import generic_utils

_CLASSES = {c.__name__: c for c in (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC,
    Precision, Recall, TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, MeanIoU, CosineSimilarity, LogCoshError, Hinge,
    SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, F1Score, FBetaScore, R2Score,
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
    SpecificityAtSensitivity, IoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
    PearsonCorrelation, ConcordanceCorrelation)}
_FUNCTIONS = {f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, cosine_similarity,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, hinge, squared_hinge, categorical_hinge, poisson,
    kl_divergence, log_cosh, pearson_correlation, concordance_correlation)}
_FUNCTIONS.update(mse=mse, MSE=mse, mae=mae, MAE=mae, mape=mape, MAPE=mape, msle=msle,
                  MSLE=msle, kld=kld, KLD=kld, logcosh=log_cosh, acc=accuracy,
                  kullback_leibler_divergence=kl_divergence)
# Keras 3 string names of metric classes ('mse' -> MeanSquaredError(name='mse')).
_STRING_CLASSES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "auc": AUC, "precision": Precision, "recall": Recall,
    "root_mean_squared_error": RootMeanSquaredError, "rmse": RootMeanSquaredError,
    "cosine_similarity": CosineSimilarity, "hinge": Hinge, "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge, "kl_divergence": KLDivergence,
    "kld": KLDivergence, "poisson": Poisson, "logcosh": LogCoshError,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
}

kullback_leibler_divergence = kl_divergence

serialize, deserialize, _lookup_get = generic_utils.function_or_class_lookup(
    Metric, _CLASSES, _FUNCTIONS, "metric function", "keras.metrics")
# Keras 3 also knows every metric class by its snake-case name ('recall', 'auc')
_STRING_CLASSES = {**{generic_utils.to_snake_case(name): cls
                      for name, cls in _CLASSES.items()}, **_STRING_CLASSES}


def get(identifier):
    """The metric for ``identifier``: a Metric, a function, a name or a config.

    Args:
      identifier: a Metric or callable (returned as is), a function or class name
        ('mae', 'AUC'), a Keras 3 snake-case class name ('recall', which gives
        ``Recall(name='recall')``), or a serialized config dict.

    Returns:
      A metric function or a ``Metric`` instance (None for None).
    """
    try:
        return _lookup_get(identifier)
    except ValueError:
        cls = _STRING_CLASSES.get(identifier) if isinstance(identifier, str) else None
        if cls is None:
            raise
        return cls(name=identifier)


def is_known_name(name):
    """Whether ``get(name)`` resolves a metric name, without creating the metric (so
    no auto name such as 'auc_1' is used up by a check)."""
    return (generic_utils.get_registered_object(name) is not None or name in _FUNCTIONS
            or name in _CLASSES or name in _STRING_CLASSES)
