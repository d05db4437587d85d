"""Threshold-based metrics: TP/FP/TN/FN counts, Precision, Recall and AUC."""

from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.keras.metrics.metric import Metric, as_tensor
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red

EPSILON = 1e-7
NEG_INF = -1e10


def _thresholds_list(thresholds, default):
    if thresholds is None:
        return [default], True
    if isinstance(thresholds, (list, tuple)):
        for t in thresholds:
            if not NEG_INF <= t <= 1:
                raise ValueError(f"Threshold values must be in [0, 1]. Received: "
                                 f"{thresholds}")
        return [float(t) for t in thresholds], False
    if not NEG_INF <= thresholds <= 1:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
    return [float(thresholds)], True


def _filter_top_k(y_pred, k):
    """Sets all but the ``k`` largest entries of the last axis to -inf."""
    higher = _red.reduce_sum(_m.cast(_m.greater(_array.expand_dims(y_pred, -2),
                                                _array.expand_dims(y_pred, -1)),
                                     dtypes.float32), axis=-1)
    return _m.where(_m.less(higher, float(k)), y_pred,
                    _m.multiply(_m.ones_like(y_pred), NEG_INF))


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, multi_label=False,
                     top_k=None, class_id=None, dtype=dtypes.float32):
    """Weighted (tp, fp, tn, fn) per threshold: ``[T]`` (or ``[T, labels]``)."""
    y_pred = as_tensor(y_pred, dtype)
    y_true = as_tensor(y_true)
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = _array.squeeze(y_true, -1)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = _array.squeeze(y_pred, -1)
    labels = _m.cast(_m.not_equal(_m.cast(y_true, dtype), 0.0), dtype)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        labels = labels[..., class_id]
        y_pred = y_pred[..., class_id]
    if sample_weight is not None:
        w = as_tensor(sample_weight, dtype)
        if class_id is not None and w.ndim == y_true.ndim and w.ndim > labels.ndim:
            w = w[..., class_id]
        while w.ndim < y_pred.ndim:
            w = _array.expand_dims(w, -1)
        w = _array.broadcast_to(w, tuple(y_pred.shape))
    else:
        w = _m.ones_like(y_pred)
    if multi_label:
        n_labels = y_pred.shape[-1]
        y_pred = _array.reshape(y_pred, (-1, n_labels))
        labels = _array.reshape(labels, (-1, n_labels))
        w = _array.reshape(w, (-1, n_labels))
    else:
        y_pred = _array.reshape(y_pred, (-1,))
        labels = _array.reshape(labels, (-1,))
        w = _array.reshape(w, (-1,))
    thr = convert_to_tensor(thresholds, dtype=dtype, device=y_pred._device)
    shape = (len(thresholds),) + (1,) * y_pred.ndim
    above = _m.cast(_m.greater(_array.expand_dims(y_pred, 0), _array.reshape(thr, shape)),
                    dtype)  # [T, N] or [T, N, L]
    pos_w = _m.multiply(labels, w)
    neg_w = _m.multiply(_m.subtract(1.0, labels), w)
    if multi_label:
        tp = _red.reduce_sum(_m.multiply(above, pos_w), axis=1)
        fp = _red.reduce_sum(_m.multiply(above, neg_w), axis=1)
        pos, neg = _red.reduce_sum(pos_w, axis=0), _red.reduce_sum(neg_w, axis=0)
    else:
        tp = _array.squeeze(_linalg.matmul(above, _array.expand_dims(pos_w, -1)), -1)
        fp = _array.squeeze(_linalg.matmul(above, _array.expand_dims(neg_w, -1)), -1)
        pos, neg = _red.reduce_sum(pos_w), _red.reduce_sum(neg_w)
    return tp, fp, _m.subtract(neg, fp), _m.subtract(pos, tp)


class _ConfusionMatrixConditionCount(Metric):
    _which = 0

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds, self._scalar = _thresholds_list(thresholds, 0.5)
        self.accumulator = self.add_weight(name="accumulator",
                                           shape=(len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  dtype=self._dtype)
        self.accumulator.assign_add(counts[self._which])

    def result(self):
        v = self.accumulator.read_value()
        return v[0] if self._scalar else v

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of true positives (per threshold; default 0.5)."""
    _which = 0


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives (per threshold; default 0.5)."""
    _which = 1


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives (per threshold; default 0.5)."""
    _which = 2


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives (per threshold; default 0.5)."""
    _which = 3


class _PrecisionRecall(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds, self._scalar = _thresholds_list(thresholds, default)
        n = len(self.thresholds)
        self.true_positives = self.add_weight(name="true_positives", shape=(n,))
        self._other = self.add_weight(name=self._other_name, shape=(n,))

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                         top_k=self.top_k, class_id=self.class_id,
                                         dtype=self._dtype)
        self.true_positives.assign_add(tp)
        self._other.assign_add(fp if self._other_name == "false_positives" else fn)

    def result(self):
        r = _m.divide_no_nan(self.true_positives,
                             _m.add(self.true_positives, self._other))
        return r[0] if self._scalar else r

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)`` at a threshold (default 0.5), optionally for ``top_k`` or a
    single ``class_id``."""
    _other_name = "false_positives"

    @property
    def false_positives(self):
        return self._other


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)`` at a threshold (default 0.5), optionally for ``top_k`` or a
    single ``class_id``."""
    _other_name = "false_negatives"

    @property
    def false_negatives(self):
        return self._other


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds``.

    Args:
      num_thresholds: number of evenly spaced thresholds (default 200).
      curve: 'ROC' or 'PR'.
      summation_method: 'interpolation' (default), 'minoring' or 'majoring'.
      name, dtype: as ``Metric``.
      thresholds: explicit thresholds in (0, 1) (0 - eps and 1 + eps are added).
      multi_label: compute an AUC per label and average them.
      num_labels: number of labels (with ``multi_label``; else inferred).
      label_weights: weights of the per-label AUCs.
      from_logits: predictions are logits (a sigmoid is applied).
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False,
                 num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             "['ROC', 'PR']")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             "Expected values are ['interpolation', 'majoring', "
                             "'minoring']")
        if thresholds is not None:
            self._init_from_thresholds = True
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            self._init_from_thresholds = False
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            inner = [(i + 1) * 1.0 / (num_thresholds - 1)
                     for i in range(num_thresholds - 2)]
        self.num_thresholds = num_thresholds
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = label_weights
        self._from_logits = from_logits
        self._built = False
        if not multi_label or num_labels is not None:
            self._build(num_labels if multi_label else None)

    def _build(self, n_labels):
        shape = (self.num_thresholds,) if n_labels is None else \
            (self.num_thresholds, n_labels)
        self.true_positives = self.add_weight(name="true_positives", shape=shape)
        self.false_positives = self.add_weight(name="false_positives", shape=shape)
        self.true_negatives = self.add_weight(name="true_negatives", shape=shape)
        self.false_negatives = self.add_weight(name="false_negatives", shape=shape)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred, self._dtype)
        if self._from_logits:
            y_pred = _m.sigmoid(y_pred)
        if not self._built:
            self._build(int(y_pred.shape[-1]))
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                          multi_label=self.multi_label, dtype=self._dtype)
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.true_negatives.assign_add(tn)
        self.false_negatives.assign_add(fn)

    def _by_label(self, terms):
        if not self.multi_label:
            return _red.reduce_sum(terms)
        by_label = _red.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return _red.reduce_mean(by_label)
        lw = convert_to_tensor(self.label_weights, dtype=self._dtype)
        return _m.divide_no_nan(_red.reduce_sum(_m.multiply(by_label, lw)),
                                _red.reduce_sum(lw))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        tp0, tp1 = tp[:-1], tp[1:]
        p = _m.add(tp, fp)
        p0, p1 = p[:-1], p[1:]
        dtp = _m.subtract(tp0, tp1)
        slope = _m.divide_no_nan(dtp, _m.maximum(_m.subtract(p0, p1), 0.0))
        intercept = _m.subtract(tp1, _m.multiply(slope, p1))
        ratio = _m.where(_m.logical_and(_m.greater(p0, 0.0), _m.greater(p1, 0.0)),
                         _m.divide_no_nan(p0, _m.maximum(p1, 0.0)), _m.ones_like(p1))
        inc = _m.divide_no_nan(
            _m.multiply(slope, _m.add(dtp, _m.multiply(intercept, _m.log(ratio)))),
            _m.maximum(_m.add(tp1, fn[1:]), 0.0))
        return self._by_label(inc)

    def result(self):
        if not self._built:
            return convert_to_tensor(0.0, dtype=self._dtype)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _m.divide_no_nan(tp, _m.add(tp, fn))
        if self.curve == "ROC":
            x, y = _m.divide_no_nan(fp, _m.add(fp, tn)), recall
        else:
            x, y = recall, _m.divide_no_nan(tp, _m.add(tp, fp))
        if self.summation_method == "interpolation":
            heights = _m.divide(_m.add(y[:-1], y[1:]), 2.0)
        elif self.summation_method == "minoring":
            heights = _m.minimum(y[:-1], y[1:])
        else:
            heights = _m.maximum(y[:-1], y[1:])
        return self._by_label(_m.multiply(_m.subtract(x[:-1], x[1:]), heights))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": self.label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
