"""``tf.compat.v1.metrics``: TF1's streaming metrics, for ``tf.estimator`` model_fns.

Each returns ``(value, update_op)``. The state lives in metric variables that the
Estimator keeps across its eager ``model_fn`` calls and resets for each
``evaluate``; every call updates them at once, so both elements are the value after
this batch (the last batch's is the metric). As in TF 2, they raise RuntimeError
outside a ``model_fn`` (eager execution).
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.estimator import model_scope as _scope
from dlframe.keras import metrics as _keras_metrics
from dlframe.ops import array as _array
from dlframe.ops import math as _math


def _check_graph(api):
    if _scope.active_scope() is None:
        raise RuntimeError(f"tf.metrics.{api} is not supported when eager execution "
                           "is enabled (use it in a tf.estimator model_fn, or use "
                           "a tf.keras.metrics object).")


def _squeeze_pair(labels, predictions):
    """Drops a trailing size-1 dimension from whichever has one rank too many."""
    labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
    lr, pr = labels.shape.rank, predictions.shape.rank
    if lr is not None and pr is not None:
        if lr == pr + 1 and labels.shape[-1] == 1:
            labels = _array.squeeze(labels, [-1])
        elif pr == lr + 1 and predictions.shape[-1] == 1:
            predictions = _array.squeeze(predictions, [-1])
    return labels, predictions


def _run(metric, *args, weights=None):
    metric.update_state(*args, sample_weight=weights)
    value = metric.result()
    return value, value


def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """Weighted mean of ``values`` over all batches."""
    _check_graph("mean")
    return _run(_keras_metrics.Mean(name=name or "mean"),
                _math.cast(convert_to_tensor(values), _dt.float32), weights=weights)


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """Fraction of ``predictions`` equal to ``labels`` (class ids)."""
    _check_graph("accuracy")
    labels, predictions = _squeeze_pair(labels, predictions)
    if predictions.dtype != labels.dtype:
        predictions = _math.cast(predictions, labels.dtype)
    hits = _math.cast(_math.equal(labels, predictions), _dt.float32)
    return _run(_keras_metrics.Mean(name=name or "accuracy"), hits, weights=weights)


def _binary(api, cls, labels, predictions, weights, name, **kwargs):
    _check_graph(api)
    labels, predictions = _squeeze_pair(labels, predictions)
    return _run(cls(name=name or api, **kwargs), _math.cast(labels, _dt.float32),
                _math.cast(predictions, _dt.float32), weights=weights)


def precision(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
    """true positives / predicted positives (``predictions`` are bools or 0/1)."""
    return _binary("precision", _keras_metrics.Precision, labels, predictions,
                   weights, name)


def recall(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
    """true positives / actual positives (``predictions`` are bools or 0/1)."""
    return _binary("recall", _keras_metrics.Recall, labels, predictions, weights,
                   name)


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None,
        summation_method="trapezoidal", thresholds=None):
    """Area under the ROC (or 'PR') curve of probabilities ``predictions``, from
    ``num_thresholds`` thresholds (trapezoidal sums are Keras' interpolation)."""
    if curve not in ("ROC", "PR"):
        raise ValueError(f"curve must be 'ROC' or 'PR', given: {curve!r}")
    method = "interpolation" if summation_method in (
        "trapezoidal", "careful_interpolation") else summation_method
    return _binary("auc", _keras_metrics.AUC, labels, predictions, weights, name,
                   num_thresholds=num_thresholds, curve=curve,
                   summation_method=method, thresholds=thresholds)


def _regression(api, cls, labels, predictions, weights, name):
    _check_graph(api)
    labels, predictions = _squeeze_pair(labels, predictions)
    return _run(cls(name=name or api), _math.cast(labels, _dt.float32),
                _math.cast(predictions, _dt.float32), weights=weights)


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
    """Mean of ``(labels - predictions)**2`` over all batches."""
    return _regression("mean_squared_error", _keras_metrics.MeanSquaredError, labels,
                       predictions, weights, name)


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    """Mean of ``|labels - predictions|`` over all batches."""
    return _regression("mean_absolute_error", _keras_metrics.MeanAbsoluteError,
                       labels, predictions, weights, name)


def root_mean_squared_error(labels, predictions, weights=None,
                            metrics_collections=None, updates_collections=None,
                            name=None):
    """Square root of the mean squared error over all batches."""
    return _regression("root_mean_squared_error", _keras_metrics.RootMeanSquaredError,
                       labels, predictions, weights, name)


__all__ = ["accuracy", "auc", "mean", "mean_absolute_error", "mean_squared_error",
           "precision", "recall", "root_mean_squared_error"]
