"""Accuracy metrics and their per-sample functions."""

from dlframe.core import dtypes
from dlframe.keras import losses as _losses
from dlframe.keras.metrics.metric import as_tensor
from dlframe.keras.metrics.reduction_metrics import MeanMetricWrapper
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red


def _f32(x):
    return _m.cast(x, dtypes.float32)


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` exactly, else 0.0."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    y_true, y_pred = _losses.align_ranks(y_true, y_pred)
    return _f32(_m.equal(y_true, y_pred))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of ``y_true == (y_pred > threshold)``."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    y_true, y_pred = _losses.align_ranks(y_true, y_pred)
    pred = _m.cast(_m.greater(y_pred, threshold), y_true.dtype)
    return _red.reduce_mean(_f32(_m.equal(y_true, pred)), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1.0 where the argmax of the one-hot label equals the argmax of the prediction."""
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    return _f32(_m.equal(_losses.argmax(y_true, -1), _losses.argmax(y_pred, -1)))


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals the argmax of the prediction."""
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.ndim > 0 and y_true.shape[-1] == 1:
        y_true = _array.squeeze(y_true, -1)
    pred = _losses.argmax(y_pred, -1) if y_pred.ndim > y_true.ndim else y_pred
    return _f32(_m.equal(_m.cast(y_true, dtypes.int64), _m.cast(pred, dtypes.int64)))


def in_top_k(targets, predictions, k):
    """True where the target's prediction is among the ``k`` largest (ties count in)."""
    predictions = as_tensor(predictions)
    onehot = _losses.one_hot(targets, predictions.shape[-1], predictions.dtype)
    target_score = _red.reduce_sum(_m.multiply(onehot, predictions), axis=-1, keepdims=True)
    higher = _red.reduce_sum(_f32(_m.greater(predictions, target_score)), axis=-1)
    return _m.less(higher, float(k))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is in the top ``k`` predictions."""
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    return _f32(in_top_k(_losses.argmax(y_true, -1), y_pred, k))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is in the top ``k`` predictions."""
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = _array.squeeze(y_true, -1)
    return _f32(in_top_k(_m.cast(y_true, dtypes.int64), y_pred, k))


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the prediction's argmax matches one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the prediction's argmax matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often one-hot targets are in the top ``k`` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often integer targets are in the top ``k`` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 **kwargs):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
