"""Correlation metrics: Pearson's r and Lin's concordance correlation coefficient,
computed per sample along ``axis`` and averaged over samples."""

from dlframe.keras.metrics.metric import as_tensor
from dlframe.keras.metrics.reduction_metrics import MeanMetricWrapper
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red

_EPSILON = 1e-7   # Keras's backend epsilon: concordance stays finite on constants


def _centered(y_true, y_pred, axis):
    y_pred = as_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = as_tensor(y_pred, "float32")
    y_true = as_tensor(y_true, y_pred.dtype)
    true_mean = _red.reduce_mean(y_true, axis=axis, keepdims=True)
    pred_mean = _red.reduce_mean(y_pred, axis=axis, keepdims=True)
    return (_m.subtract(y_true, true_mean), _m.subtract(y_pred, pred_mean), true_mean,
            pred_mean)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    Args:
      y_true: the labels.
      y_pred: the predictions, of ``y_true``'s shape.
      axis: the axis the correlation is computed along (one value per other index).

    Returns:
      The correlations, ``y_true``'s shape without ``axis`` (NaN where either input
      is constant along ``axis``, as in Keras).
    """
    true_c, pred_c, _, _ = _centered(y_true, y_pred, axis)
    true_std = _red.reduce_std(true_c, axis=axis, keepdims=True)
    pred_std = _red.reduce_std(pred_c, axis=axis, keepdims=True)
    product = _m.multiply(_m.divide(true_c, true_std), _m.divide(pred_c, pred_std))
    return _red.reduce_mean(product, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient along ``axis``:
    ``2 cov / (var_true + var_pred + (mean_true - mean_pred)^2)``.

    Args:
      y_true: the labels.
      y_pred: the predictions, of ``y_true``'s shape.
      axis: the axis the coefficient is computed along.

    Returns:
      The coefficients, ``y_true``'s shape without ``axis``.
    """
    true_c, pred_c, true_mean, pred_mean = _centered(y_true, y_pred, axis)
    true_var = _red.reduce_mean(_m.square(true_c), axis=axis, keepdims=True)
    pred_var = _red.reduce_mean(_m.square(pred_c), axis=axis, keepdims=True)
    norm = _m.add(_m.add(true_var, pred_var), _m.square(_m.subtract(true_mean, pred_mean)))
    ratio = _m.divide(_m.multiply(_m.multiply(true_c, pred_c), 2.0), _m.add(norm, _EPSILON))
    return _red.reduce_mean(ratio, axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of ``pearson_correlation`` along ``axis``."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of ``concordance_correlation`` along ``axis``."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
