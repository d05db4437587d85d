"""MeanIoU: mean intersection-over-union from an accumulated confusion matrix."""

from dlframe.core import dtypes
from dlframe.keras import losses as _losses
from dlframe.keras.metrics.metric import Metric, as_tensor
from dlframe.ops import array as _array
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red


class MeanIoU(Metric):
    """Mean IoU over classes: ``tp / (tp + fp + fn)`` per class, averaged over classes
    that occur.

    Args:
      num_classes: number of classes.
      name, dtype: as ``Metric``.
      ignore_class: a label value excluded from the matrix.
      sparse_y_true: labels are class ids (else one-hot / scores: argmax is taken).
      sparse_y_pred: predictions are class ids (else scores: argmax is taken).
      axis: the class axis of non-sparse inputs.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name or "mean_io_u", dtype=dtype)
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_weight(name="total_confusion_matrix",
                                        shape=(self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
        if not self.sparse_y_true:
            y_true = _losses.argmax(y_true, self.axis)
        if not self.sparse_y_pred:
            y_pred = _losses.argmax(y_pred, self.axis)
        y_true = _array.reshape(_m.cast(y_true, dtypes.int64), (-1,))
        y_pred = _array.reshape(_m.cast(y_pred, dtypes.int64), (-1,))
        if sample_weight is None:
            w = _m.ones_like(_m.cast(y_true, self._dtype))
        else:
            w = _array.reshape(_array.broadcast_to(
                as_tensor(sample_weight, self._dtype),
                tuple(_array.reshape(y_true, (-1,)).shape)) if as_tensor(
                    sample_weight).ndim == 0 else as_tensor(sample_weight, self._dtype),
                (-1,))
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
        n = self.num_classes
        eye = as_tensor([[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)],
                        self._dtype)
        tp = _red.reduce_sum(_m.multiply(cm, eye), axis=1)
        denom = _m.subtract(_m.add(_red.reduce_sum(cm, axis=0), _red.reduce_sum(cm, axis=1)),
                            tp)
        valid = _red.reduce_sum(_m.cast(_m.not_equal(denom, 0.0), self._dtype))
        iou = _m.divide_no_nan(tp, denom)
        return _m.divide_no_nan(_red.reduce_sum(iou), valid)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
