"""Keras 3 losses beyond the classic set: Dice, Tversky, generalized cross-entropy,
Circle and CTC (function and class forms). ``dlframe.keras.losses`` re-exports them."""

from dlframe.core import dtypes
from dlframe.keras.losses_base import (
    EPSILON,
    LossFunctionWrapper,
    _pred_true,
    _t,
    one_hot,
)
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import ctc as _ctc
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red


def dice(y_true, y_pred, axis=None):
    """Dice loss ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred))``.

    Args:
      y_true, y_pred: labels and predictions of one shape.
      axis: axes summed over (default all: one scalar).
    """
    y_true, y_pred = _pred_true(y_true, y_pred)
    inter = _red.reduce_sum(_m.multiply(y_true, y_pred), axis=axis)
    total = _m.add(_m.add(_red.reduce_sum(y_true, axis=axis),
                          _red.reduce_sum(y_pred, axis=axis)), EPSILON)
    return _m.subtract(1.0, _m.divide(_m.multiply(inter, 2.0), total))


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss ``1 - tp / (tp + alpha sum(y_true (1 - y_pred)) +
    beta sum((1 - y_true) y_pred))`` (``alpha = beta = 0.5`` is the Dice loss).

    Args:
      y_true, y_pred: labels and predictions of one shape.
      alpha: weight of missed positives.
      beta: weight of false alarms.
      axis: axes summed over (default all).
    """
    y_true, y_pred = _pred_true(y_true, y_pred)
    inter = _red.reduce_sum(_m.multiply(y_true, y_pred), axis=axis)
    missed = _red.reduce_sum(_m.multiply(_m.subtract(1.0, y_pred), y_true), axis=axis)
    false_alarm = _red.reduce_sum(_m.multiply(y_pred, _m.subtract(1.0, y_true)), axis=axis)
    denom = _m.add(_m.add(_m.add(inter, _m.multiply(missed, alpha)),
                          _m.multiply(false_alarm, beta)), EPSILON)
    return _m.subtract(1.0, _m.divide(inter, denom))


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross-entropy ``(1 - p_true^q) / q`` (Zhang & Sabuncu 2018), robust
    to noisy integer labels ``y_true`` against probabilities ``y_pred``.

    Args:
      y_true: integer class ids ``[batch]``.
      y_pred: class probabilities ``[batch, num_classes]``.
      q: in ``(0, 1]``; ``q -> 0`` approaches cross-entropy, ``q = 1`` the MAE.
    """
    y_pred = _t(y_pred)
    labels = _m.cast(_t(y_true), dtypes.int64)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = _array.squeeze(labels, -1)
    p = _red.reduce_sum(_m.multiply(y_pred, one_hot(labels, y_pred.shape[-1],
                                                    y_pred.dtype)), axis=-1)
    return _m.divide(_m.subtract(1.0, _m.pow(p, q)), q)


def _masked_logsumexp(x, mask):
    """logsumexp of ``x`` over axis 1 where ``mask``; -inf for rows with no entry
    (without NaN gradients)."""
    neg = _m.multiply(_m.ones_like(x), -1e30)
    masked = _m.where(mask, x, neg)
    top = _array.stop_gradient(_red.reduce_max(masked, axis=1, keepdims=True))
    sums = _red.reduce_sum(_m.multiply(_m.exp(_m.subtract(masked, top)),
                                       _m.cast(mask, x.dtype)), axis=1)
    any_entry = _red.reduce_any(mask, axis=1)
    safe = _m.add(_m.log(_m.add(sums, _m.cast(_m.logical_not(any_entry), x.dtype))),
                  _array.squeeze(top, 1))
    return _m.where(any_entry, safe, _m.multiply(_m.ones_like(safe), float("-inf")))


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Circle loss (Sun et al. 2020) over L2-normalized embeddings ``y_pred`` with
    integer class ``y_true``, against themselves or ``ref_embeddings``/``ref_labels``.

    Returns:
      ``[batch]`` losses.
    """
    y_pred = _t(y_pred)
    labels = _array.reshape(_m.cast(_t(y_true), dtypes.int32), (-1, 1))
    ref = y_pred if ref_embeddings is None else _t(ref_embeddings, y_pred.dtype)
    ref_lab = labels if ref_labels is None else _array.reshape(
        _m.cast(_t(ref_labels), dtypes.int32), (-1, 1))
    dist = _m.maximum(_m.subtract(1.0, _linalg.matmul(y_pred, ref, transpose_b=True)),
                      0.0)
    positive = _m.equal(labels, _array.transpose(ref_lab))
    negative = _m.logical_not(positive)
    if remove_diagonal:
        n, k = labels.shape[0], ref_lab.shape[0]
        positive = _m.logical_and(positive, _m.logical_not(
            _m.cast(_creation.eye(n, k), dtypes.bool)))
    pos_w = _m.maximum(_m.multiply(_m.add(dist, margin), _m.cast(positive, dist.dtype)),
                       0.0)
    neg_w = _m.maximum(_m.multiply(_m.subtract(1.0 + margin, dist),
                                   _m.cast(negative, dist.dtype)), 0.0)
    pos_term = _m.multiply(_m.multiply(pos_w, _m.subtract(margin, dist)), -float(gamma))
    neg_term = _m.multiply(_m.multiply(neg_w, _m.subtract(1.0 - margin, dist)),
                           float(gamma))
    return _m.softplus(_m.add(_masked_logsumexp(pos_term, positive),
                              _masked_logsumexp(neg_term, negative)))


def ctc(y_true, y_pred):
    """CTC loss of logits ``y_pred [batch, time, classes]`` against labels
    ``y_true [batch, max_length]`` padded with the blank 0 (which is also the CTC
    blank); every sequence uses all ``time`` frames.

    Returns:
      ``[batch]`` losses.
    """
    y_true, y_pred = _t(y_true), _t(y_pred)
    if y_true.ndim != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape "
                         "`(batch_size, max_length)` in integer format. "
                         f"Received: y_true.shape={tuple(y_true.shape)}")
    if y_pred.ndim != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape "
                         "`(batch_size, max_length, num_classes)`. "
                         f"Received: y_pred.shape={tuple(y_pred.shape)}")
    labels = _m.cast(y_true, dtypes.int32)
    label_length = _red.reduce_sum(_m.cast(_m.not_equal(labels, 0), dtypes.int32), axis=1)
    logit_length = _m.multiply(_array.ones((y_pred.shape[0],), dtypes.int32),
                               int(y_pred.shape[1]))
    return _ctc.ctc_loss(labels, y_pred, label_length, logit_length,
                         logits_time_major=False, blank_index=0)


class Dice(LossFunctionWrapper):
    """Dice loss (``axis``: the summed axes, default all)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None,
                 dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """Tversky loss (``alpha``, ``beta``, ``axis``)."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size",
                 name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype,
                         alpha=alpha, beta=beta, axis=axis)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross-entropy over integer labels (``q`` in (0, 1])."""

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q <= 1:
            raise ValueError(f"q must be in the interval (0, 1]. Received: q={q}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction,
                         name=name, dtype=dtype, q=q)


class Circle(LossFunctionWrapper):
    """Circle loss over embeddings; samples with zero loss are masked out of the
    reduction (as Keras does)."""

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype,
                         gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)

    def call(self, y_true, y_pred):
        losses = circle(y_true, y_pred, **self._fn_kwargs)
        self._last_mask = _m.greater(losses, 0.0)
        return losses


class CTC(LossFunctionWrapper):
    """CTC loss of logits against blank(0)-padded labels."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)


FUNCTIONS = {f.__name__: f for f in (dice, tversky, categorical_generalized_cross_entropy,
                                     circle, ctc)}
CLASSES = {c.__name__: c for c in (Dice, Tversky, CategoricalGeneralizedCrossEntropy,
                                   Circle, CTC)}
CLASS_OF = {dice: Dice, tversky: Tversky, circle: Circle, ctc: CTC,
            categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy}
