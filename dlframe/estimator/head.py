"""Heads of the premade estimators: labels, loss, predictions and eval metrics from
logits, with TF 2.15's keys (``tf.estimator`` canned heads, loss reduction
``SUM_OVER_BATCH_SIZE``)."""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, constant, convert_to_tensor
from dlframe.estimator.model_fn import EstimatorSpec, ModeKeys
from dlframe.feature_column.base import FeatureColumn
from dlframe.keras import metrics as _metrics
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red

_REDUCTIONS = ("sum_over_batch_size", "sum")


def _as_column(labels):
    """Labels as ``[batch, 1]`` (``[batch]`` is expanded)."""
    labels = labels if isinstance(labels, Tensor) else convert_to_tensor(labels)
    if labels.shape.rank == 1:
        labels = _array.expand_dims(labels, -1)
    return labels


class _Head:
    """Shared parts: example weights, loss reduction, the EstimatorSpec."""

    def __init__(self, weight_column, loss_reduction):
        if isinstance(weight_column, FeatureColumn):
            weight_column = weight_column.name
        if weight_column is not None and not isinstance(weight_column, str):
            raise TypeError(f"weight_column must be a string or a numeric_column, "
                            f"given: {weight_column!r}")
        reduction = str(getattr(loss_reduction, "value", loss_reduction)).lower()
        if reduction.startswith("weighted_"):   # tf.compat.v1.losses.Reduction names
            reduction = {"weighted_sum": "sum"}.get(reduction, "sum_over_batch_size")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid loss_reduction: {loss_reduction!r}; use "
                             "tf.losses.Reduction.SUM_OVER_BATCH_SIZE or SUM.")
        self._weight_column = weight_column
        self._reduction = reduction

    def _weights(self, features, batch):
        if self._weight_column is None:
            return _array.ones([batch, 1], dtype=_dt.float32)
        if self._weight_column not in features:
            raise ValueError(f"weight_column {self._weight_column!r} is not in features "
                             f"(keys: {sorted(features)}).")
        return _math.cast(_as_column(features[self._weight_column]), _dt.float32)

    def _reduce(self, unreduced, weights):
        total = _red.reduce_sum(_math.multiply(unreduced, weights))
        if self._reduction == "sum":
            return total
        return _math.divide(total, float(unreduced.shape.num_elements()))

    def create_estimator_spec(self, features, mode, logits, labels=None,
                              train_op_fn=None):
        """The EstimatorSpec of ``mode``; ``train_op_fn(loss)`` applies a step."""
        predictions = self.predictions(logits)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions)
        if labels is None:
            raise ValueError(f"labels must not be None in mode {mode!r}: input_fn must "
                             "return (features, labels).")
        ids = self._label_ids(labels)
        weights = self._weights(features, logits.shape[0])
        unreduced = self._unreduced_loss(logits, ids)
        loss = self._reduce(unreduced, weights)
        if mode == ModeKeys.TRAIN:
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 train_op=train_op_fn(loss))
        metrics = self._metrics(predictions, ids, unreduced, weights)
        return EstimatorSpec(mode, predictions=predictions, loss=loss,
                             eval_metric_ops=metrics)

    @staticmethod
    def _mean(name, values, weights):
        metric = _metrics.Mean(name=name)
        metric.update_state(values, sample_weight=_array.broadcast_to(
            weights, _array.shape(values)))
        return metric


class ClassificationHead(_Head):
    """Softmax (``n_classes > 2``) or logistic (2) classification head.

    Args:
      n_classes: number of classes (>= 2).
      weight_column: name (or numeric_column) of the example-weight feature.
      label_vocabulary: list of string labels (label ids are their positions).
      loss_reduction: 'sum_over_batch_size' (default) or 'sum'.
    """

    def __init__(self, n_classes=2, weight_column=None, label_vocabulary=None,
                 loss_reduction="sum_over_batch_size"):
        super().__init__(weight_column, loss_reduction)
        if not isinstance(n_classes, int) or n_classes < 2:
            raise ValueError(f"n_classes must be > 1: {n_classes!r}")
        if label_vocabulary is not None:
            label_vocabulary = [v.decode() if isinstance(v, bytes) else v
                                for v in label_vocabulary]
            if not all(isinstance(v, str) for v in label_vocabulary):
                raise ValueError(f"label_vocabulary must be a list of strings, given: "
                                 f"{label_vocabulary!r}")
            if len(label_vocabulary) != n_classes:
                raise ValueError(f"label_vocabulary has {len(label_vocabulary)} entries, "
                                 f"expected n_classes={n_classes}.")
        self.n_classes = n_classes
        self._vocab = label_vocabulary
        self.logits_dimension = 1 if n_classes == 2 else n_classes

    def _label_ids(self, labels):
        labels = _as_column(labels)
        if self._vocab is not None:
            if labels.dtype != _dt.string:
                raise ValueError(f"Labels must be strings with label_vocabulary, given "
                                 f"dtype {labels.dtype.name}.")
            index = {v: i for i, v in enumerate(self._vocab)}
            raw = labels.numpy().reshape(-1)
            bad = [v for v in raw if (v.decode() if isinstance(v, bytes) else v)
                   not in index]
            if bad:
                raise ValueError(f"Label {bad[0]!r} is not in label_vocabulary "
                                 f"{self._vocab}.")
            ids = [index[v.decode() if isinstance(v, bytes) else v] for v in raw]
            return _array.reshape(constant(ids, dtype=_dt.int64), [-1, 1])
        if labels.dtype == _dt.string:
            raise ValueError("Labels are strings: pass label_vocabulary to the "
                             "estimator.")
        values = labels.numpy()
        if values.size and (values.min() < 0 or values.max() > self.n_classes - 1):
            raise ValueError(f"Labels must be in [0, n_classes - 1 = "
                             f"{self.n_classes - 1}], got values in [{values.min()}, "
                             f"{values.max()}].")
        return _math.cast(labels, _dt.int64)

    def _class_names(self):
        return self._vocab or [str(i) for i in range(self.n_classes)]

    def predictions(self, logits):
        batch = logits.shape[0]
        if self.n_classes == 2:
            logistic = _math.sigmoid(logits)
            probabilities = _array.concat([1.0 - logistic, logistic], 1)
            class_ids = _math.cast(_math.greater(logits, 0.0), _dt.int64)
            out = {"logits": logits, "logistic": logistic}
        else:
            probabilities = _nn.softmax(logits)
            class_ids = _array.expand_dims(_red.argmax(logits, 1), -1)
            out = {"logits": logits}
        names = self._class_names()
        table = constant(names, dtype=_dt.string)
        all_ids = _array.tile(constant([list(range(self.n_classes))], dtype=_dt.int32),
                              [batch, 1])
        out.update(probabilities=probabilities, class_ids=class_ids,
                   classes=_index.gather(table, class_ids), all_class_ids=all_ids,
                   all_classes=_array.tile(constant([names], dtype=_dt.string),
                                           [batch, 1]))
        return out

    def _unreduced_loss(self, logits, ids):
        if self.n_classes == 2:
            return _nn.sigmoid_cross_entropy_with_logits(
                labels=_math.cast(ids, _dt.float32), logits=logits)
        loss = _nn.sparse_softmax_cross_entropy_with_logits(
            labels=_array.squeeze(ids, [1]), logits=logits)
        return _array.expand_dims(loss, -1)

    def _metrics(self, predictions, ids, unreduced, weights):
        hits = _math.cast(_math.equal(predictions["class_ids"], ids), _dt.float32)
        out = {"accuracy": self._mean("accuracy", hits, weights),
               "average_loss": self._mean("average_loss", unreduced, weights)}
        if self.n_classes != 2:
            return out
        labels = _math.cast(ids, _dt.float32)
        logistic = predictions["logistic"]
        label_mean = self._mean("label/mean", labels, weights)
        baseline = _math.maximum(label_mean.result(), 1.0 - label_mean.result())
        out.update({
            "prediction/mean": self._mean("prediction/mean", logistic, weights),
            "label/mean": label_mean,
            "accuracy_baseline": (baseline, baseline),
        })
        for key, metric in (
                ("auc", _metrics.AUC(name="auc", num_thresholds=200)),
                ("auc_precision_recall", _metrics.AUC(
                    name="auc_precision_recall", curve="PR", num_thresholds=200)),
                ("precision", _metrics.Precision(name="precision")),
                ("recall", _metrics.Recall(name="recall"))):
            preds = logistic if key.startswith("auc") else \
                _math.cast(predictions["class_ids"], _dt.float32)
            metric.update_state(labels, preds, sample_weight=weights)
            out[key] = metric
        return out


class RegressionHead(_Head):
    """Mean-squared-error regression head.

    Args:
      label_dimension: number of regression targets per example.
      weight_column: name (or numeric_column) of the example-weight feature.
      loss_reduction: 'sum_over_batch_size' (default) or 'sum'.
    """

    def __init__(self, label_dimension=1, weight_column=None,
                 loss_reduction="sum_over_batch_size"):
        super().__init__(weight_column, loss_reduction)
        if not isinstance(label_dimension, int) or label_dimension < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension!r}.")
        self.logits_dimension = label_dimension

    def _label_ids(self, labels):
        labels = _math.cast(_as_column(labels), _dt.float32)
        if labels.shape[-1] != self.logits_dimension:
            raise ValueError(f"Mismatched label shape: expected labels of shape "
                             f"[batch, {self.logits_dimension}], got "
                             f"{tuple(labels.shape)}.")
        return labels

    def predictions(self, logits):
        return {"predictions": logits}

    def _unreduced_loss(self, logits, labels):
        return _math.square(_math.subtract(logits, labels))

    def _metrics(self, predictions, labels, unreduced, weights):
        return {"average_loss": self._mean("average_loss", unreduced, weights),
                "label/mean": self._mean("label/mean", labels, weights),
                "prediction/mean": self._mean("prediction/mean",
                                              predictions["predictions"], weights)}
