"""Regression and probabilistic metrics (means of per-sample loss-like values)."""

from dlframe.keras import losses as _losses
from dlframe.keras.metrics.metric import as_tensor
from dlframe.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along ``axis`` (1 means aligned)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    return _red.reduce_sum(_m.multiply(_losses.l2_normalize(y_true, axis),
                                       _losses.l2_normalize(y_pred, axis)), axis=axis)


def _wrapper_class(cls_name, fn, default_name, params=(), doc=""):
    def __init__(self, *args, name=default_name, dtype=None, **kwargs):
        kw = dict(params)
        kw.update(zip([p for p, _ in params], args))
        kw.update(kwargs)
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **kw)
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})


MeanSquaredError = _wrapper_class("MeanSquaredError", _losses.mean_squared_error,
                                  "mean_squared_error", doc="Mean of squared errors.")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", _losses.mean_absolute_error,
                                   "mean_absolute_error", doc="Mean of absolute errors.")
MeanAbsolutePercentageError = _wrapper_class(
    "MeanAbsolutePercentageError", _losses.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", doc="Mean absolute percentage error.")
MeanSquaredLogarithmicError = _wrapper_class(
    "MeanSquaredLogarithmicError", _losses.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", doc="Mean squared logarithmic error.")
LogCoshError = _wrapper_class("LogCoshError", _losses.log_cosh, "logcosh",
                              doc="Mean of log(cosh(error)).")
CosineSimilarity = _wrapper_class("CosineSimilarity", cosine_similarity,
                                  "cosine_similarity", (("axis", -1),),
                                  doc="Mean cosine similarity between labels and "
                                      "predictions.")
Hinge = _wrapper_class("Hinge", _losses.hinge, "hinge", doc="Mean hinge loss.")
SquaredHinge = _wrapper_class("SquaredHinge", _losses.squared_hinge, "squared_hinge",
                              doc="Mean squared hinge loss.")
CategoricalHinge = _wrapper_class("CategoricalHinge", _losses.categorical_hinge,
                                  "categorical_hinge", doc="Mean categorical hinge loss.")
KLDivergence = _wrapper_class("KLDivergence", _losses.kl_divergence, "kl_divergence",
                              doc="Mean KL divergence.")
Poisson = _wrapper_class("Poisson", _losses.poisson, "poisson", doc="Mean Poisson loss.")
BinaryCrossentropy = _wrapper_class(
    "BinaryCrossentropy", _losses.binary_crossentropy, "binary_crossentropy",
    (("from_logits", False), ("label_smoothing", 0.0)),
    doc="Mean binary cross-entropy.")
CategoricalCrossentropy = _wrapper_class(
    "CategoricalCrossentropy", _losses.categorical_crossentropy, "categorical_crossentropy",
    (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)),
    doc="Mean categorical cross-entropy.")
SparseCategoricalCrossentropy = _wrapper_class(
    "SparseCategoricalCrossentropy", _losses.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy", (("from_logits", False), ("axis", -1)),
    doc="Mean sparse categorical cross-entropy.")


class RootMeanSquaredError(Mean):
    """``sqrt`` of the (weighted) mean of squared errors."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _losses.align_ranks(as_tensor(y_true, self._dtype),
                                             as_tensor(y_pred, self._dtype))
        return super().update_state(_m.squared_difference(y_pred, y_true), sample_weight)

    def result(self):
        return _m.sqrt(_m.divide_no_nan(self.total, self.count))
