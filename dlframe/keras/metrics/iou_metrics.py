"""Intersection-over-union metrics from an accumulated confusion matrix: ``IoU`` (chosen
classes), ``MeanIoU`` (all classes), ``BinaryIoU`` (thresholded scores) and the one-hot
label variants ``OneHotIoU`` / ``OneHotMeanIoU``."""

from dlframe.core import dtypes
from dlframe.keras import losses as _losses
from dlframe.keras.metrics.metric import Metric, as_tensor
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red


class IoU(Metric):
    """IoU ``tp / (tp + fp + fn)`` of each class in ``target_class_ids``, averaged over
    those of them that occur in labels or predictions.

    Args:
      num_classes: number of classes (the confusion matrix is
        ``num_classes x num_classes``).
      target_class_ids: the class ids whose IoU is averaged.
      name, dtype: as ``Metric``.
      ignore_class: a label value excluded from the matrix.
      sparse_y_true: labels are class ids (else one-hot / scores: argmax is taken).
      sparse_y_pred: predictions are class ids (else scores: argmax is taken).
      axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = int(num_classes)
        ids = [int(i) for i in target_class_ids]
        if not ids:
            raise ValueError("`target_class_ids` must not be empty. Received: "
                             f"target_class_ids={target_class_ids}")
        if max(ids) >= self.num_classes or min(ids) < 0:
            raise ValueError(f"Target class id {max(ids)} is out of range, which is "
                             f"[0, {self.num_classes}).")
        self.target_class_ids = ids
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_weight(name="total_confusion_matrix",
                                        shape=(self.num_classes, self.num_classes))

    def _class_ids(self, y_true, y_pred):
        """Flat int64 label and prediction ids."""
        y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
        if not self.sparse_y_true:
            y_true = _losses.argmax(y_true, self.axis)
        if not self.sparse_y_pred:
            y_pred = _losses.argmax(y_pred, self.axis)
        return y_true, y_pred

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the (weighted) confusion matrix of this batch."""
        y_true, y_pred = self._class_ids(y_true, y_pred)
        shape = tuple(y_true.shape)
        y_true = _array.reshape(_m.cast(y_true, dtypes.int64), (-1,))
        y_pred = _array.reshape(_m.cast(y_pred, dtypes.int64), (-1,))
        if sample_weight is None:
            w = _m.ones_like(_m.cast(y_true, self._dtype))
        else:
            w = _array.reshape(_array.broadcast_to(
                as_tensor(sample_weight, self._dtype), shape), (-1,))
        if self.ignore_class is not None:
            keep = _m.not_equal(y_true, int(self.ignore_class))
            w = _m.multiply(w, _m.cast(keep, self._dtype))
            y_true = _m.where(keep, y_true, _m.zeros_like(y_true))
        n = self.num_classes
        t = _m.multiply(_losses.one_hot(y_true, n, self._dtype), _array.expand_dims(w, -1))
        p = _losses.one_hot(y_pred, n, self._dtype)
        self.total_cm.assign_add(_linalg.matmul(t, p, transpose_a=True))

    def result(self):
        cm = self.total_cm.read_value()
        ids = self.target_class_ids
        tp = _index.gather(_linalg.diag_part(cm), ids)
        denom = _index.gather(_m.subtract(
            _m.add(_red.reduce_sum(cm, axis=0), _red.reduce_sum(cm, axis=1)),
            _linalg.diag_part(cm)), ids)
        valid = _red.reduce_sum(_m.cast(_m.not_equal(denom, 0.0), self._dtype))
        return _m.divide_no_nan(_red.reduce_sum(_m.divide_no_nan(tp, denom)), valid)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": list(self.target_class_ids),
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


def _drop(config, *keys):
    return {k: v for k, v in config.items() if k not in keys}


class MeanIoU(IoU):
    """Mean IoU over all classes that occur (``IoU`` with every class as target)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, range(int(num_classes)), name=name,
                         dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred,
                         axis=axis)

    def get_config(self):
        return _drop(super().get_config(), "target_class_ids")


class BinaryIoU(IoU):
    """IoU of binary labels against scores: a score ``>= threshold`` predicts class 1.

    Args:
      target_class_ids: which of the classes 0 and 1 are averaged (default both).
      threshold: the score threshold.
      name, dtype: as ``Metric``.
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = float(threshold)

    def _class_ids(self, y_true, y_pred):
        y_pred = as_tensor(y_pred, self._dtype)
        return as_tensor(y_true), _m.greater_equal(y_pred, self.threshold)

    def get_config(self):
        return {**_drop(super().get_config(), "num_classes", "ignore_class",
                        "sparse_y_true", "sparse_y_pred", "axis"),
                "threshold": self.threshold}


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (and, unless ``sparse_y_pred``, class scores)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return _drop(super().get_config(), "sparse_y_true")


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (and, unless ``sparse_y_pred``, class scores)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return _drop(super().get_config(), "sparse_y_true")
