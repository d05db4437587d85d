"""Keras losses: ``Loss`` classes, their function forms and string names.

A loss computes per-sample values with ``call(y_true, y_pred)`` (reduced over the
last axis), weights them by ``sample_weight`` and reduces them with ``reduction``
('sum_over_batch_size' by default, 'sum', 'none', 'mean', 'mean_with_sample_weight').

This module holds the classic loss classes and the lookup tables; ``Loss``, the
reductions and shared helpers live in ``losses_base``, the function forms in
``losses_functions`` and the Keras 3 additions (Dice, Tversky, CTC, ...) in
``losses_extra``; all are re-exported here, one lookup table for all.
"""

from dlframe.core import dtypes
from dlframe.keras import losses_extra as _extra
from dlframe.keras.losses_base import (  # noqa: F401
    _REDUCTIONS,
    EPSILON,
    Loss,
    LossFunctionWrapper,
    Reduction,
    _clip,
    _log_softmax,
    _mean,
    _pred_true,
    _size,
    _standardize_reduction,
    _t,
    _wrapper,
    align_ranks,
    argmax,
    l2_normalize,
    one_hot,
    reduce_weighted_values,
)
from dlframe.keras.losses_extra import (  # noqa: F401
    CTC,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    Dice,
    Tversky,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
    dice,
    tversky,
)
from dlframe.keras.losses_functions import (  # noqa: F401
    _categorical_inputs,
    _elementwise_bce,
    _hinge_labels,
    _math_zeros_like,
    _sigmoid_ce_with_logits,
    _symbolic,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from dlframe.keras.utils import generic_utils
from dlframe.ops import array as _array
from dlframe.ops import math as _m


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
                  logcosh=log_cosh, huber_loss=huber,
                  bce=binary_crossentropy, BCE=binary_crossentropy)   # get() only, as TF
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

_FUNCTIONS.update(_extra.FUNCTIONS)
_CLASSES.update(_extra.CLASSES)
_CLASS_OF.update(_extra.CLASS_OF)

serialize, deserialize, get = generic_utils.function_or_class_lookup(
    Loss, _CLASSES, _FUNCTIONS, "loss function", "keras.losses")


def loss_class_for(fn):
    """The Loss class wrapping a built-in loss function (None for other callables)."""
    return _CLASS_OF.get(fn)
