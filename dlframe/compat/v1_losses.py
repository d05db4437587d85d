"""``tf.compat.v1.losses``: TF1's loss functions (weighted, reduced to a scalar).

The default reduction is TF1's ``SUM_BY_NONZERO_WEIGHTS``: the weighted sum divided
by the number of non-zero weights (with the default ``weights=1.0``, the mean).
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red


class Reduction:
    """How ``compute_weighted_loss`` reduces the weighted losses."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}.")


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``losses * weights`` reduced by ``reduction`` (a float32 scalar unless NONE)."""
    Reduction.validate(reduction)
    losses = _math.cast(convert_to_tensor(losses), _dt.float32)
    weights = _math.cast(convert_to_tensor(weights), _dt.float32)
    if weights.shape.rank and losses.shape.rank and \
            weights.shape.rank == losses.shape.rank + 1 and weights.shape[-1] == 1:
        weights = _array.squeeze(weights, [-1])
    weighted = _math.multiply(losses, weights)
    if reduction == Reduction.NONE:
        return weighted
    total = _red.reduce_sum(weighted)
    if reduction == Reduction.SUM:
        return total
    full = _array.broadcast_to(weights, _array.shape(weighted))
    if reduction == Reduction.MEAN:
        return _math.divide_no_nan(total, _red.reduce_sum(full))
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return _math.divide_no_nan(total, _math.cast(_array.size(weighted), _dt.float32))
    nonzero = _red.reduce_sum(_math.cast(_math.not_equal(full, 0.0), _dt.float32))
    return _math.divide_no_nan(total, nonzero)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=None,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy of class ids ``labels`` (``[batch]`` or ``[batch, 1]``)."""
    labels = convert_to_tensor(labels)
    if labels.shape.rank == 2 and labels.shape[-1] == 1:
        labels = _array.squeeze(labels, [-1])
    losses = _nn.sparse_softmax_cross_entropy_with_logits(
        labels=_math.cast(labels, _dt.int64), logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy of one-hot ``onehot_labels`` (optionally smoothed)."""
    labels = _math.cast(convert_to_tensor(onehot_labels), _dt.float32)
    if label_smoothing:
        n = float(labels.shape[-1])
        labels = labels * (1.0 - label_smoothing) + label_smoothing / n
    losses = _nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Sigmoid cross-entropy of 0/1 ``multi_class_labels`` (optionally smoothed)."""
    labels = _math.cast(convert_to_tensor(multi_class_labels), _dt.float32)
    if label_smoothing:
        labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    losses = _nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None,
                       loss_collection=None,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted squared error."""
    diff = _math.subtract(_math.cast(predictions, _dt.float32),
                          _math.cast(labels, _dt.float32))
    return compute_weighted_loss(_math.square(diff), weights, reduction=reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None,
                        loss_collection=None,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted absolute error."""
    diff = _math.subtract(_math.cast(predictions, _dt.float32),
                          _math.cast(labels, _dt.float32))
    return compute_weighted_loss(_math.abs(diff), weights, reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=None, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Weighted binary log loss of probabilities ``predictions``."""
    y = _math.cast(labels, _dt.float32)
    p = _math.cast(predictions, _dt.float32)
    losses = -(y * _math.log(p + epsilon) + (1.0 - y) * _math.log(1.0 - p + epsilon))
    return compute_weighted_loss(losses, weights, reduction=reduction)


def get_regularization_losses(scope=None):
    """The REGULARIZATION_LOSSES collection (``get_variable(regularizer=...)``)."""
    from dlframe.compat import v1_graph
    return v1_graph.get_collection(v1_graph.GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of ``get_regularization_losses(scope)`` (0.0 when there are none)."""
    losses = get_regularization_losses(scope)
    if not losses:
        return convert_to_tensor(0.0)
    return _math.add_n([convert_to_tensor(x) for x in losses])


__all__ = [
    "Reduction",
    "absolute_difference",
    "compute_weighted_loss",
    "get_regularization_loss",
    "get_regularization_losses",
    "log_loss",
    "mean_squared_error",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]
