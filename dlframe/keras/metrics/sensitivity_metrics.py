"""Operating-point metrics over a grid of thresholds: the best value of one statistic
subject to a lower bound on another (sensitivity at a specificity, precision at a
recall, ...)."""

from dlframe.keras.metrics.confusion_metrics import confusion_counts
from dlframe.keras.metrics.metric import Metric
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red


class _AtConstraint(Metric):
    """Counts tp/fp/tn/fn at ``num_thresholds`` thresholds evenly spread over [0, 1];
    subclasses name the two statistics and the argument holding the bound."""

    _value_arg = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not 0 <= value <= 1:
            raise ValueError(f"Argument `{self._value_arg}` must be in the range [0, 1]. "
                             f"Received: {self._value_arg}={value}")
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            step = 1.0 / (num_thresholds - 1)
            self.thresholds = [0.0] + [(i + 1) * step for i in range(num_thresholds - 2)
                                       ] + [1.0]
        n = len(self.thresholds)
        self.true_positives = self.add_weight(name="true_positives", shape=(n,))
        self.false_positives = self.add_weight(name="false_positives", shape=(n,))
        self.true_negatives = self.add_weight(name="true_negatives", shape=(n,))
        self.false_negatives = self.add_weight(name="false_negatives", shape=(n,))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  class_id=self.class_id, dtype=self._dtype)
        for var, count in zip((self.true_positives, self.false_positives,
                               self.true_negatives, self.false_negatives), counts):
            var.assign_add(count)

    def _rates(self):
        tp, fp = self.true_positives.read_value(), self.false_positives.read_value()
        tn, fn = self.true_negatives.read_value(), self.false_negatives.read_value()
        return {"sensitivity": _m.divide_no_nan(tp, tp + fn),
                "recall": _m.divide_no_nan(tp, tp + fn),
                "specificity": _m.divide_no_nan(tn, tn + fp),
                "precision": _m.divide_no_nan(tp, tp + fp)}

    def result(self):
        """The largest ``maximized`` statistic over thresholds whose ``constrained``
        statistic is at least ``value`` (0 when none is)."""
        rates = self._rates()
        feasible = _m.greater_equal(rates[self._constrained], self.value)
        best = _m.where(feasible, rates[self._maximized],
                        _m.zeros_like(rates[self._maximized]))
        return _m.maximum(_red.reduce_max(best), 0.0)

    def get_config(self):
        return {**super().get_config(), self._value_arg: self.value,
                "num_thresholds": self.num_thresholds, "class_id": self.class_id}


class SensitivityAtSpecificity(_AtConstraint):
    """Best sensitivity (recall) among thresholds with specificity >= ``specificity``.

    Args:
      specificity: the lower bound, in [0, 1].
      num_thresholds: thresholds evenly spread over [0, 1] (default 200).
      class_id: optional class index for multi-class inputs.
      name, dtype: as ``Metric``.
    """
    _value_arg, _constrained, _maximized = "specificity", "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtConstraint):
    """Best specificity among thresholds with sensitivity >= ``sensitivity``; other
    arguments as ``SensitivityAtSpecificity``."""
    _value_arg, _constrained, _maximized = "sensitivity", "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtConstraint):
    """Best precision among thresholds with recall >= ``recall``; other arguments as
    ``SensitivityAtSpecificity``."""
    _value_arg, _constrained, _maximized = "recall", "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtConstraint):
    """Best recall among thresholds with precision >= ``precision``; other arguments as
    ``SensitivityAtSpecificity``."""
    _value_arg, _constrained, _maximized = "precision", "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
