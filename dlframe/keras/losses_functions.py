"""The function forms of the classic Keras losses (``mean_squared_error``,
``binary_crossentropy``, ``sparse_categorical_crossentropy``, ...): per-sample values
reduced over the last axis. ``dlframe.keras.losses`` re-exports them."""

import math as _pymath

from dlframe.core import dtypes
from dlframe.keras.losses_base import (
    EPSILON,
    _clip,
    _log_softmax,
    _mean,
    _pred_true,
    _t,
    l2_normalize,
)
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red


def _symbolic(fn):
    """Keras 2: a loss function called on functional-model tensors inserts an op
    layer (``model.add_loss(keras.losses.binary_crossentropy(inputs, outputs))``)."""
    return generic_utils.symbolic_aware(fn, f"keras.losses.{fn.__name__}")


@_symbolic
def mean_squared_error(y_true, y_pred):
    """Mean of ``(y_true - y_pred)^2`` over the last axis."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    return _mean(_m.squared_difference(y_pred, y_true))


@_symbolic
def mean_absolute_error(y_true, y_pred):
    """Mean of ``|y_true - y_pred|`` over the last axis."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    return _mean(_m.abs(_m.subtract(y_pred, y_true)))


@_symbolic
def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|)``."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    diff = _m.abs(_m.divide(_m.subtract(y_true, y_pred),
                            _m.maximum(_m.abs(y_true), EPSILON)))
    return _m.multiply(100.0, _mean(diff))


@_symbolic
def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean of ``(log(y_pred + 1) - log(y_true + 1))^2`` (inputs floored at eps)."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    a = _m.log(_m.add(_m.maximum(y_pred, EPSILON), 1.0))
    b = _m.log(_m.add(_m.maximum(y_true, EPSILON), 1.0))
    return _mean(_m.squared_difference(a, b))


def _hinge_labels(y_true):
    # {0, 1} labels become {-1, 1}; labels already in {-1, 1} stay (decided by ops,
    # so a compiled step keeps working for either labelling).
    is01 = _m.logical_or(_m.equal(y_true, 0.0), _m.equal(y_true, 1.0))
    all01 = _m.equal(_red.reduce_min(_m.cast(is01, y_true.dtype)), 1.0)
    return _m.where(all01, _m.subtract(_m.multiply(2.0, y_true), 1.0), y_true)


@_symbolic
def hinge(y_true, y_pred):
    """Mean of ``max(1 - y_true * y_pred, 0)``; 0/1 labels are mapped to -1/1."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return _mean(_m.maximum(_m.subtract(1.0, _m.multiply(y_true, y_pred)), 0.0))


@_symbolic
def squared_hinge(y_true, y_pred):
    """Mean of ``max(1 - y_true * y_pred, 0)^2``; 0/1 labels are mapped to -1/1."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return _mean(_m.square(_m.maximum(_m.subtract(1.0, _m.multiply(y_true, y_pred)),
                                      0.0)))


@_symbolic
def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    pos = _red.reduce_sum(_m.multiply(y_true, y_pred), axis=-1)
    neg = _red.reduce_max(_m.multiply(_m.subtract(1.0, y_true), y_pred), axis=-1)
    return _m.maximum(_m.add(_m.subtract(neg, pos), 1.0), 0.0)


@_symbolic
def huber(y_true, y_pred, delta=1.0):
    """Quadratic for errors below ``delta``, linear above; mean over the last axis."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    err = _m.abs(_m.subtract(y_pred, y_true))
    quad = _m.minimum(err, float(delta))
    lin = _m.subtract(err, quad)
    return _mean(_m.add(_m.multiply(0.5, _m.square(quad)), _m.multiply(float(delta), lin)))


@_symbolic
def log_cosh(y_true, y_pred):
    """Mean of ``log(cosh(y_pred - y_true))`` (computed without overflow)."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    x = _m.subtract(y_pred, y_true)
    return _mean(_m.subtract(_m.add(x, _m.softplus(_m.multiply(-2.0, x))),
                             _pymath.log(2.0)))


@_symbolic
def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred))`` with both clipped to [eps, 1]."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true = _clip(y_true, EPSILON, 1.0)
    y_pred = _clip(y_pred, EPSILON, 1.0)
    return _red.reduce_sum(_m.multiply(y_true, _m.log(_m.divide(y_true, y_pred))), axis=-1)


@_symbolic
def poisson(y_true, y_pred):
    """Mean of ``y_pred - y_true * log(y_pred + eps)``."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    return _mean(_m.subtract(y_pred, _m.multiply(y_true, _m.log(_m.add(y_pred, EPSILON)))))


@_symbolic
def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis`` (-1 means perfectly aligned)."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    return _m.negative(_red.reduce_sum(_m.multiply(l2_normalize(y_true, axis),
                                                   l2_normalize(y_pred, axis)), axis=axis))


def _sigmoid_ce_with_logits(labels, logits):
    return _nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)


def _elementwise_bce(y_true, y_pred, from_logits):
    if from_logits:
        return _sigmoid_ce_with_logits(y_true, y_pred)
    p = _clip(y_pred, EPSILON, 1.0 - EPSILON)
    return _m.negative(_m.add(_m.multiply(y_true, _m.log(p)),
                              _m.multiply(_m.subtract(1.0, y_true),
                                          _m.log(_m.subtract(1.0, p)))))


@_symbolic
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over ``axis``."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    _check_same_shape(y_true, y_pred, scalar_ok=True)
    if label_smoothing:
        y_true = _m.add(_m.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    return _mean(_elementwise_bce(y_true, y_pred, from_logits), axis)


@_symbolic
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0,
                              axis=-1):
    """Binary cross-entropy scaled by ``(1 - p_t)^gamma`` (and ``alpha`` balancing)."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    _check_same_shape(y_true, y_pred, scalar_ok=True)
    if label_smoothing:
        y_true = _m.add(_m.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    return _mean(_elementwise_binary_focal(y_true, y_pred, apply_class_balancing, alpha,
                                           gamma, from_logits), axis)


def _elementwise_binary_focal(y_true, y_pred, apply_class_balancing, alpha, gamma,
                              from_logits):
    """Per-element focal binary cross-entropy (Keras 2's backend function)."""
    if from_logits:
        y_pred = _m.sigmoid(y_pred)
    bce = _elementwise_bce(y_true, y_pred, False)
    p_t = _m.add(_m.multiply(y_true, y_pred),
                 _m.multiply(_m.subtract(1.0, y_true), _m.subtract(1.0, y_pred)))
    focal = _m.multiply(_m.pow(_m.subtract(1.0, p_t), float(gamma)), bce)
    if apply_class_balancing:
        w = _m.add(_m.multiply(y_true, float(alpha)),
                   _m.multiply(_m.subtract(1.0, y_true), 1.0 - float(alpha)))
        focal = _m.multiply(w, focal)
    return focal


def _check_same_shape(y_true, y_pred, scalar_ok=False, hint=""):
    """Keras 3 refuses targets that would only broadcast against the outputs ((N, 2)
    against (N, 1) trains on the wrong thing); ``scalar_ok`` keeps Keras 2's
    broadcasting of a scalar target (``bce(1.0, outputs)``)."""
    true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
    if scalar_ok and len(true_shape) == 0:
        return
    if len(true_shape) != len(pred_shape) or any(
            a is not None and b is not None and a != b
            for a, b in zip(true_shape, pred_shape)):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={true_shape}, output.shape={pred_shape}" + hint)


def _crossentropy_hint(y_true, y_pred, sparse):
    """What most likely went wrong when cross-entropy targets and outputs disagree."""
    t, p = tuple(y_true.shape), tuple(y_pred.shape)
    if len(p) >= 3 and len(p) > len(t) + sparse:
        return (f" The model's output has rank {len(p)}: a `Flatten` or global pooling "
                "layer may be missing before the last `Dense` layer.")
    if sparse and len(t) == len(p) and t[-1:] == p[-1:]:
        return (" The targets look one-hot encoded: use `categorical_crossentropy` for "
                "one-hot targets, or pass integer class ids (e.g. `argmax(y, axis=-1)`).")
    if not sparse and p[-1:] != (1,) and (
            (len(t) == len(p) and t[-1:] == (1,)) or t == p[:-1]):
        return (" For integer class ids use `sparse_categorical_crossentropy`, or "
                "one-hot encode them with `keras.utils.to_categorical`.")
    return ""


def _categorical_inputs(y_true, y_pred, label_smoothing, axis):
    """Tensors of one-hot (or soft) labels, smoothed, and same-shape predictions."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    hint = _crossentropy_hint(y_true, y_pred, sparse=False)
    _check_same_shape(y_true, y_pred, hint=hint and "." + hint)
    if label_smoothing:
        n = float(y_pred.shape[axis])
        y_true = _m.add(_m.multiply(y_true, 1.0 - label_smoothing), label_smoothing / n)
    return y_true, y_pred


@_symbolic
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    """Cross-entropy between one-hot (or soft) labels and predicted distributions."""
    y_true, y_pred = _categorical_inputs(y_true, y_pred, label_smoothing, axis)
    if from_logits:
        if axis in (-1, y_pred.ndim - 1):
            return _nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
        logp = _log_softmax(y_pred, axis)
    else:
        p = _m.divide(y_pred, _red.reduce_sum(y_pred, axis=axis, keepdims=True))
        logp = _m.log(_clip(p, EPSILON, 1.0 - EPSILON))
    return _m.negative(_red.reduce_sum(_m.multiply(y_true, logp), axis=axis))


@_symbolic
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0,
                                   from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy with each class term scaled by ``alpha * (1 -
    p)^gamma``, so confidently right predictions weigh less (focal loss)."""
    y_true, y_pred = _categorical_inputs(y_true, y_pred, label_smoothing, axis)
    if from_logits:
        y_pred = _nn.softmax(y_pred, axis=axis)
    p = _clip(_m.divide(y_pred, _red.reduce_sum(y_pred, axis=axis, keepdims=True)),
              EPSILON, 1.0 - EPSILON)
    scale = _m.multiply(_m.pow(_m.subtract(1.0, p), float(gamma)), float(alpha))
    terms = _m.multiply(scale, _m.negative(_m.multiply(y_true, _m.log(p))))
    return _red.reduce_sum(terms, axis=axis)


@_symbolic
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Cross-entropy between integer labels and predicted distributions."""
    y_pred = _t(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = _m.cast(y_pred, dtypes.float32)
    y_true = _t(y_true)
    if y_true.ndim == y_pred.ndim and y_true.ndim > 0 and y_true.shape[-1] == 1:
        y_true = _array.squeeze(y_true, -1)
    if y_true.dtype.is_floating:
        y_true = _m.cast(y_true, dtypes.int64)
    if y_true.ndim != y_pred.ndim - 1:
        raise ValueError(
            "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}."
            + _crossentropy_hint(y_true, y_pred, sparse=True))
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={tuple(y_true.shape)}, "
            f"output.shape={tuple(y_pred.shape)}")
    valid = None
    if ignore_class is not None:
        valid = _m.not_equal(y_true, ignore_class)
        y_true = _m.where(valid, y_true, _math_zeros_like(y_true))
    logits = y_pred
    if not from_logits:   # log-probabilities are logits: softmax gives p back
        p = _m.divide(y_pred, _red.reduce_sum(y_pred, axis=-1, keepdims=True))
        logits = _m.log(_clip(p, EPSILON, 1.0 - EPSILON))
    # the op refuses labels outside [0, classes) on CPU (NaN on GPU), as TF's
    loss = _nn.sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=logits)
    if valid is not None:
        loss = _m.where(valid, loss, _m.zeros_like(loss))
    return loss


def _math_zeros_like(x):
    return _m.zeros_like(x)
