"""Keras losses: ``Loss`` classes, their function forms and string names.

A loss computes per-sample values with ``call(y_true, y_pred)`` (reduced over the
last axis), weights them by ``sample_weight`` and reduces them with ``reduction``
('sum_over_batch_size' by default, 'sum', 'none', 'mean', 'mean_with_sample_weight').
"""

import math as _pymath

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import math as _m
from dlframe.ops import nn as _nn
from dlframe.ops import reduction as _red

EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight")


class Reduction:
    """Keras 2's reduction names (``tf.keras.losses.Reduction``)."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        _standardize_reduction(key)


def _standardize_reduction(reduction):
    if reduction is None or reduction == "auto":
        return "sum_over_batch_size"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                         f"{_REDUCTIONS}. Received: reduction={reduction}")
    return reduction


# ---------------------------------------------------------------- small helpers
def _t(x, dtype=None):
    if isinstance(x, Tensor):
        if dtype is not None and x.dtype != dtype:
            return _m.cast(x, dtype)
        return x
    return convert_to_tensor(x, dtype=dtype)


def _pred_true(y_true, y_pred):
    y_pred = _t(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = _m.cast(y_pred, dtypes.float32)
    y_true = _t(y_true, y_pred.dtype)
    return align_ranks(y_true, y_pred)   # Keras 3: (N,) vs (N, 1) is per sample


def _mean(x, axis=-1):
    return _red.reduce_mean(x, axis=axis)


def _clip(x, lo, hi):
    return _m.minimum(_m.maximum(x, lo), hi)


def _log_softmax(x, axis=-1):
    return _nn.log_softmax(x, axis=axis)


def one_hot(labels, depth, dtype):
    """``labels`` (ints) as one-hot rows of ``depth`` entries."""
    labels = _t(labels)
    if labels.dtype.is_floating:
        labels = _m.cast(labels, dtypes.int64)
    return _creation.one_hot(labels, depth, dtype=dtype)


def argmax(x, axis=-1):
    """Index of the largest entry along ``axis`` (first on ties), as int64."""
    return _red.argmax(x, axis=axis)


def l2_normalize(x, axis=-1):
    return _nn.l2_normalize(x, axis=axis)


def _squeeze_or_expand(values, weights):
    """Brings ``weights`` to ``values``'s rank the way Keras does, then broadcastable."""
    vr, wr = values.ndim, weights.ndim
    if vr == wr + 1 and values.shape[-1] == 1:
        values = _array.squeeze(values, -1) if wr != 1 else values
        if wr == 1:
            weights = _array.expand_dims(weights, -1)
    elif wr == vr + 1 and weights.shape[-1] == 1:
        weights = _array.squeeze(weights, -1)
    while weights.ndim < values.ndim:
        weights = _array.expand_dims(weights, -1)
    return values, weights


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size"):
    """Weights per-sample ``values`` and reduces them as ``Loss.__call__`` does."""
    reduction = _standardize_reduction(reduction)
    if mask is not None:
        mask = _m.cast(mask, values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            total = float(int(_size(mask)))
            scale = _m.divide_no_nan(convert_to_tensor(total, dtype=values.dtype,
                                                       device=values._device),
                                     _red.reduce_sum(mask))
            mask = _m.multiply(mask, scale)
        sample_weight = mask if sample_weight is None else \
            _m.multiply(_t(sample_weight, values.dtype), mask)
    if sample_weight is not None:
        sample_weight = _t(sample_weight, values.dtype)
        values, sample_weight = _squeeze_or_expand(values, sample_weight)
        values = _m.multiply(values, sample_weight)
    if reduction == "none" or values.ndim == 0:
        return values
    total = _red.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = _red.reduce_sum(_array.broadcast_to(sample_weight, values.shape))
    else:
        divisor = convert_to_tensor(float(_size(values)), dtype=values.dtype,
                                    device=values._device)
    return _m.divide_no_nan(total, divisor)


def _size(x):
    n = 1
    for d in x._value.shape:
        n *= int(d)
    return n


# ---------------------------------------------------------------- classes
class Loss:
    """Base class of losses: subclasses implement ``call(y_true, y_pred)``.

    Args:
      reduction: 'sum_over_batch_size' (default), 'sum', 'none', 'mean' or
        'mean_with_sample_weight'.
      name: the loss's name.
      dtype: dtype of the loss computations (default float32 / floatx).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or generic_utils.to_snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = _t(y_pred)
        if self.dtype is not None and y_pred.dtype.is_floating and \
                y_pred.dtype != dtypes.as_dtype(self.dtype):
            y_pred = _m.cast(y_pred, self.dtype)
        losses = self.call(y_true, y_pred)
        if not isinstance(losses, Tensor):
            losses = convert_to_tensor(losses)
        if not losses.dtype.is_floating:
            losses = _m.cast(losses, dtypes.float32)
        mask = getattr(self, "_last_mask", None)
        self._last_mask = None
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(
            f"Loss subclass {type(self).__name__} must implement `call(y_true, y_pred)`.")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def align_ranks(y_true, y_pred):
    """Keras's rank alignment: labels (N,) against predictions (N, 1) become (N, 1)
    (never an (N, N) broadcast); a trailing size-1 label axis is squeezed the other way."""
    rt, rp = y_true._value.ndim, y_pred._value.ndim
    if rp == rt + 1 and y_pred._value.shape[-1] == 1:
        if rt == 1:
            y_true = _array.expand_dims(y_true, -1)
        else:
            y_pred = _array.squeeze(y_pred, -1)
    elif rt == rp + 1 and y_true._value.shape[-1] == 1:
        if rp == 1:
            y_pred = _array.expand_dims(y_pred, -1)
        else:
            y_true = _array.squeeze(y_true, -1)
    return y_true, y_pred


class LossFunctionWrapper(Loss):
    """Wraps a function ``fn(y_true, y_pred, **kwargs)`` returning per-sample losses."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None,
                 **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = align_ranks(_t(y_true), y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


def _wrapper(fn, default_name, params=()):
    """Builds a LossFunctionWrapper subclass whose keyword arguments are ``params``."""
    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name,
                 dtype=None, **kwargs):
        names = [p for p, _ in params]
        kw = dict(params)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} positional "
                            f"arguments, got {len(args)}")
        kw.update(zip(names, args))
        for k, v in kwargs.items():
            if k not in kw:
                raise TypeError(f"{type(self).__name__}.__init__() got an unexpected "
                                f"keyword argument '{k}'")
            kw[k] = v
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name,
                                     dtype=dtype, **kw)
    return __init__


# ---------------------------------------------------------------- functions
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
    if label_smoothing:
        y_true = _m.add(_m.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    return _mean(_elementwise_bce(y_true, y_pred, from_logits), axis)


@_symbolic
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0,
                              axis=-1):
    """Binary cross-entropy scaled by ``(1 - p_t)^gamma`` (and ``alpha`` balancing)."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    if label_smoothing:
        y_true = _m.add(_m.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
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
    return _mean(focal, axis)


def _categorical_inputs(y_true, y_pred, label_smoothing, axis):
    """Tensors of one-hot (or soft) labels, smoothed, and same-shape predictions."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(y_true.shape)}, output.shape={tuple(y_pred.shape)}")
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
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={tuple(y_true.shape)}, "
            f"output.shape={tuple(y_pred.shape)}")
    valid = None
    if ignore_class is not None:
        valid = _m.not_equal(y_true, ignore_class)
        y_true = _m.where(valid, y_true, _math_zeros_like(y_true))
    if from_logits:
        loss = _nn.sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = _m.divide(y_pred, _red.reduce_sum(y_pred, axis=-1, keepdims=True))
        logp = _m.log(_clip(p, EPSILON, 1.0 - EPSILON))
        loss = _m.negative(_red.reduce_sum(_m.multiply(
            one_hot(y_true, y_pred.shape[-1], y_pred.dtype), logp), axis=-1))
    if valid is not None:
        loss = _m.where(valid, loss, _m.zeros_like(loss))
    return loss


def _math_zeros_like(x):
    return _m.zeros_like(x)


# ---------------------------------------------------------------- loss classes
class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors between labels and predictions."""
    __init__ = _wrapper(mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors between labels and predictions."""
    __init__ = _wrapper(mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error."""
    __init__ = _wrapper(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error."""
    __init__ = _wrapper(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (``from_logits``, ``label_smoothing``, ``axis``)."""
    __init__ = _wrapper(binary_crossentropy, "binary_crossentropy", (
        ("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal binary cross-entropy (``apply_class_balancing``, ``alpha``, ``gamma``)."""
    __init__ = _wrapper(binary_focal_crossentropy, "binary_focal_crossentropy", (
        ("apply_class_balancing", False), ("alpha", 0.25), ("gamma", 2.0),
        ("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy over one-hot labels."""
    __init__ = _wrapper(categorical_crossentropy, "categorical_crossentropy", (
        ("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal categorical cross-entropy over one-hot labels (``alpha``, ``gamma``,
    ``from_logits``, ``label_smoothing``, ``axis``)."""
    __init__ = _wrapper(categorical_focal_crossentropy, "categorical_focal_crossentropy",
                        (("alpha", 0.25), ("gamma", 2.0), ("from_logits", False),
                         ("label_smoothing", 0.0), ("axis", -1)))


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy over integer labels (``ignore_class`` optional)."""
    __init__ = _wrapper(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                        (("from_logits", False), ("ignore_class", None), ("axis", -1)))

    def __call__(self, y_true, y_pred, sample_weight=None):
        ignore = self._fn_kwargs.get("ignore_class")
        if ignore is not None:
            yt = _t(y_true)
            if yt.ndim == _t(y_pred).ndim and yt.shape[-1] == 1:
                yt = _array.squeeze(yt, -1)
            self._last_mask = _m.not_equal(_m.cast(yt, dtypes.int64), int(ignore))
        return super().__call__(y_true, y_pred, sample_weight)


class Hinge(LossFunctionWrapper):
    """Hinge loss (labels -1/1 or 0/1)."""
    __init__ = _wrapper(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss (labels -1/1 or 0/1)."""
    __init__ = _wrapper(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss over one-hot labels."""
    __init__ = _wrapper(categorical_hinge, "categorical_hinge")


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta`` (default 1.0)."""
    __init__ = _wrapper(huber, "huber_loss", (("delta", 1.0),))


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error."""
    __init__ = _wrapper(log_cosh, "log_cosh")


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence between label and predicted distributions."""
    __init__ = _wrapper(kl_divergence, "kl_divergence")


class Poisson(LossFunctionWrapper):
    """Poisson loss."""
    __init__ = _wrapper(poisson, "poisson")


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``."""
    __init__ = _wrapper(cosine_similarity, "cosine_similarity", (("axis", -1),))


# ---------------------------------------------------------------- aliases and lookup
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber

_FUNCTIONS = {
    f.__name__: f for f in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, binary_crossentropy, binary_focal_crossentropy,
        categorical_crossentropy, sparse_categorical_crossentropy, hinge, squared_hinge,
        categorical_hinge, huber, log_cosh, kl_divergence, poisson, cosine_similarity,
        categorical_focal_crossentropy)}
_FUNCTIONS.update(mse=mse, MSE=mse, mae=mae, MAE=mae, mape=mape, MAPE=mape, msle=msle,
                  MSLE=msle, kld=kld, KLD=kld, kullback_leibler_divergence=kld,
                  logcosh=log_cosh, huber_loss=huber)
_CLASSES = {c.__name__: c for c in (
    Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, BinaryCrossentropy,
    BinaryFocalCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Hinge, SquaredHinge, CategoricalHinge, Huber, LogCosh, KLDivergence, Poisson,
    CosineSimilarity, CategoricalFocalCrossentropy)}
_CLASS_OF = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
             mean_absolute_percentage_error: MeanAbsolutePercentageError,
             mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
             binary_crossentropy: BinaryCrossentropy,
             binary_focal_crossentropy: BinaryFocalCrossentropy,
             categorical_crossentropy: CategoricalCrossentropy,
             categorical_focal_crossentropy: CategoricalFocalCrossentropy,
             sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
             hinge: Hinge, squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
             huber: Huber, log_cosh: LogCosh, kl_divergence: KLDivergence,
             poisson: Poisson, cosine_similarity: CosineSimilarity}

# Keras 3 losses (Dice, Tversky, CTC, ...) live next door; one lookup table for all.
from dlframe.keras.losses_extra import (  # noqa: E402
    CTC, Circle, CategoricalGeneralizedCrossEntropy, Dice, Tversky,
    categorical_generalized_cross_entropy, circle, ctc, dice, tversky)
from dlframe.keras import losses_extra as _extra  # noqa: E402

_FUNCTIONS.update(_extra.FUNCTIONS)
_CLASSES.update(_extra.CLASSES)
_CLASS_OF.update(_extra.CLASS_OF)

serialize, deserialize, get = generic_utils.function_or_class_lookup(
    Loss, _CLASSES, _FUNCTIONS, "loss function", "keras.losses")


def loss_class_for(fn):
    """The Loss class wrapping a built-in loss function (None for other callables)."""
    return _CLASS_OF.get(fn)

