"""The base of Keras losses: ``Loss``, ``LossFunctionWrapper``, the reductions and the
weighting of per-sample values (``reduce_weighted_values``), plus the small tensor
helpers the loss functions share. ``dlframe.keras.losses`` re-exports all of it.

A loss computes per-sample values with ``call(y_true, y_pred)`` (reduced over the
last axis), weights them by ``sample_weight`` and reduces them with ``reduction``
('sum_over_batch_size' by default, 'sum', 'none', 'mean', 'mean_with_sample_weight').
"""

from dlframe import config as _config
from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras import mixed_precision
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
    # Keras 3 spells "no reduction" reduction=None (kept as None, as its
    # get_config shows); Keras 2's "auto" means the default.
    if reduction is None:
        return None
    if reduction == "auto":
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


def squeeze_or_expand_weights(values, weights, expand=True):
    """Brings ``weights`` to ``values``'s rank the way Keras does, then (``expand``)
    makes lower-rank weights broadcastable with trailing axes."""
    # one rank apart with a trailing 1: a rank-1 side gains the axis (so 'none'
    # keeps (B, 1) for weights of shape (B, 1)), otherwise the 1 is squeezed
    vr, wr = values.ndim, weights.ndim
    if vr == wr + 1 and values.shape[-1] == 1:
        if wr == 1:
            weights = _array.expand_dims(weights, -1)
        else:
            values = _array.squeeze(values, -1)
    elif wr == vr + 1 and weights.shape[-1] == 1:
        if vr == 1:
            values = _array.expand_dims(values, -1)
        else:
            weights = _array.squeeze(weights, -1)
    while expand and weights.ndim < values.ndim:
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
        if sample_weight is None:
            sample_weight = mask
        else:
            # per-sample weights (B,) with a per-timestep mask (B, T) broadcast as
            # they do without a mask (Keras 2 took both; TF 2.21 fails on the product)
            mask, sample_weight = squeeze_or_expand_weights(
                mask, _t(sample_weight, values.dtype))
            sample_weight = _m.multiply(sample_weight, mask)
    if sample_weight is not None:
        sample_weight = _t(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_weights(values, sample_weight)
        values = _m.multiply(values, sample_weight)
    if reduction in (None, "none") or values.ndim == 0:
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


def _and_masks(a, b):
    """The elementwise AND of two optional boolean masks."""
    if a is None or b is None:
        return b if a is None else a
    return _m.logical_and(_m.cast(a, dtypes.bool), _m.cast(b, dtypes.bool))


def _size(x):
    n = 1
    for d in x._value.shape:
        n *= int(d)
    return n


# ---------------------------------------------------------------- classes
class Loss:
    """Base class of losses: subclasses implement ``call(y_true, y_pred)``.

    Args:
      reduction: 'sum_over_batch_size' (default), 'sum', 'none' (or None, Keras
        3's spelling), 'mean' or 'mean_with_sample_weight'.
      name: the loss's name.
      dtype: dtype of the loss computations (default float32 / floatx).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or generic_utils.to_snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        # Keras 3 resolves the dtype (a name; a policy gives its compute dtype) when
        # the loss is made
        self.dtype = (mixed_precision.as_policy(dtype).compute_dtype if dtype
                      else _config.floatx())

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Keras 3: a loss computes in its dtype (floatx unless given), so float16 or
        # float64 predictions give a float32 loss by default
        keras_mask = getattr(y_pred, "_keras_mask", None)   # Masking/Embedding
        y_pred = _t(y_pred)
        dtype = dtypes.as_dtype(self.dtype or _config.floatx())
        if y_pred.dtype.is_floating and y_pred.dtype != dtype:
            y_pred = _m.cast(y_pred, dtype)
        losses = self.call(y_true, y_pred)
        if not isinstance(losses, Tensor):
            losses = convert_to_tensor(losses)
        if not losses.dtype.is_floating:
            losses = _m.cast(losses, dtypes.float32)
        mask = _and_masks(getattr(self, "_last_mask", None), keras_mask)
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
