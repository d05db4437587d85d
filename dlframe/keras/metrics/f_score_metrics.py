"""F-scores (FBetaScore, F1Score) and the coefficient of determination (R2Score)."""

from dlframe.core import dtypes
from dlframe.keras.metrics.metric import Metric, as_tensor
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red

_EPSILON = 1e-7


class FBetaScore(Metric):
    """F-beta score of multi-label or one-hot multi-class predictions.

    ``(1 + beta^2) * precision * recall / (beta^2 * precision + recall)`` from true
    positives, false positives and false negatives counted per class.

    Args:
      average: None (one score per class), 'micro' (counts pooled over classes),
        'macro' (mean of the class scores) or 'weighted' (class scores weighted by
        the number of true instances).
      beta: weight of recall relative to precision (a positive float).
      threshold: predictions above it count as positive; None marks the highest
        prediction of each row positive (one-hot multi-class).
      name, dtype: as ``Metric``.

    Inputs are ``(batch, num_classes)`` labels and predictions.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: "
                             "{None, 'micro', 'macro', 'weighted'}. "
                             f"Received: average={average}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError("Invalid `beta` argument value. It should be a Python float "
                             f"> 0. Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, float)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError("Invalid `threshold` argument value. It should be a Python "
                             f"float with 0 < threshold <= 1. Received: "
                             f"threshold={threshold!r}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self._counts = None

    def _build(self, y_true, y_pred):
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError("FBetaScore expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape="
                             f"{tuple(y_pred.shape)} and y_true.shape="
                             f"{tuple(y_true.shape)}.")
        shape = () if self.average == "micro" else (int(y_pred.shape[-1]),)
        self._counts = [self.add_weight(name=n, shape=shape) for n in (
            "true_positives", "false_positives", "false_negatives",
            "intermediate_weights")]

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_tensor(y_true, self._dtype), as_tensor(y_pred, self._dtype)
        if self._counts is None:
            self._build(y_true, y_pred)
        if self.threshold is None:   # the row's maximum (ties all count), if not ~0
            top = _red.reduce_max(y_pred, axis=-1, keepdims=True)
            positive = _m.logical_and(_m.greater_equal(y_pred, top),
                                      _m.greater(_m.abs(y_pred), 1e-9))
        else:
            positive = _m.greater(y_pred, self.threshold)
        pred = _m.cast(positive, self._dtype)
        axis = None if self.average == "micro" else 0
        weight = None if sample_weight is None else _array.expand_dims(
            as_tensor(sample_weight, self._dtype), 1)

        def total(values):
            return _red.reduce_sum(values if weight is None else values * weight,
                                   axis=axis)
        tp, fp, fn, support = self._counts
        tp.assign_add(total(pred * y_true))
        fp.assign_add(total(pred * (1.0 - y_true)))
        fn.assign_add(total((1.0 - pred) * y_true))
        support.assign_add(total(y_true))

    def result(self):
        if self._counts is None:
            return as_tensor(0.0, self._dtype)
        tp, fp, fn, support = (v.read_value() for v in self._counts)
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta ** 2
        score = (1.0 + b2) * (precision * recall) / (b2 * precision + recall + _EPSILON)
        if self.average == "weighted":
            return _red.reduce_sum(score * support / (_red.reduce_sum(support) + _EPSILON))
        if self.average is not None:
            return _red.reduce_mean(score)
        return score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score: the harmonic mean of precision and recall (``FBetaScore`` with
    ``beta=1``); same arguments otherwise."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("beta")
        return config


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot``, per output then
    aggregated.

    Args:
      class_aggregation: 'uniform_average' (mean over outputs),
        'variance_weighted_average' (weighted by each output's variance) or None
        (one score per output).
      num_regressors: number of independent regressors; > 0 gives the adjusted R2.
      name, dtype: as ``Metric``.
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0,
                 name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in ("uniform_average", "variance_weighted_average",
                                     None):
            raise ValueError("Invalid value for argument `class_aggregation`. Expected "
                             "one of {None, 'uniform_average', "
                             f"'variance_weighted_average'}}. Received: "
                             f"class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a "
                             f"value >= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_weight(name="num_samples", dtype=dtypes.int32)
        self._sums = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_tensor(y_true, self._dtype), as_tensor(y_pred, self._dtype)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape="
                             f"{tuple(y_pred.shape)} and y_true.shape="
                             f"{tuple(y_true.shape)}.")
        if self._sums is None:
            shape = (int(y_true.shape[-1]),)
            self._sums = [self.add_weight(name=n, shape=shape) for n in (
                "squared_sum", "sum", "residual", "count")]
        weight = _m.ones_like(y_true) if sample_weight is None else \
            _array.broadcast_to(_array.reshape(as_tensor(sample_weight, self._dtype),
                                               (-1, 1)), tuple(y_true.shape))
        squared_sum, total, residual, count = self._sums
        squared_sum.assign_add(_red.reduce_sum(weight * y_true * y_true, axis=0))
        total.assign_add(_red.reduce_sum(weight * y_true, axis=0))
        residual.assign_add(_red.reduce_sum(weight * _m.square(y_true - y_pred), axis=0))
        count.assign_add(_red.reduce_sum(weight, axis=0))
        # Keras counts every entry (batch * outputs) as a sample of the adjusted R2
        n = 1
        for d in y_true.shape:
            n *= int(d)
        self.num_samples.assign_add(n)

    def result(self):
        squared_sum, total, residual, count = (v.read_value() for v in self._sums)
        mean = total / count
        ss_tot = squared_sum - total * mean
        raw = 1.0 - residual / ss_tot
        raw = _m.where(_m.is_inf(raw), _m.zeros_like(raw), raw)   # constant targets
        if self.class_aggregation == "uniform_average":
            r2 = _red.reduce_mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = _red.reduce_sum(raw * ss_tot / _red.reduce_sum(ss_tot))
        else:
            r2 = raw
        if self.num_regressors:
            n = _m.cast(self.num_samples.read_value(), self._dtype)
            p = float(self.num_regressors)
            # too few samples for p regressors: Keras keeps the plain R2
            adjusted = 1.0 - (1.0 - r2) * (n - 1.0) / _m.maximum(n - p - 1.0, 1.0)
            r2 = _m.where(_m.greater(n - p - 1.0, 0.0), adjusted, r2)
        return r2

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
