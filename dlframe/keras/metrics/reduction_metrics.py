"""Mean, Sum and MeanMetricWrapper (a stateless function averaged over samples)."""

from dlframe.core.tensor import convert_to_tensor
from dlframe.keras.losses import align_ranks
from dlframe.keras.losses_base import squeeze_or_expand_weights
from dlframe.keras.metrics.metric import Metric, as_tensor
from dlframe.ops import array as _array
from dlframe.ops import math as _m
from dlframe.ops import reduction as _red


def reduce_to_samplewise_values(values, sample_weight, dtype, reduce_fn=None):
    """Weighted per-sample values and weights, reduced as Keras's Mean metric does
    (``reduce_fn``: how a sample's entries combine, the mean unless given)."""
    reduce_fn = reduce_fn or _red.reduce_mean

    def reduce_over(x, axes):
        return reduce_fn(x, axis=axes) if axes else x

    values = as_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype)
        values, sample_weight = squeeze_or_expand_weights(values, sample_weight,
                                                          expand=False)
        wr, vr = sample_weight.ndim, values.ndim
        if vr > wr:
            values = reduce_over(values, tuple(range(wr, vr)))
        sample_weight = _array.broadcast_to(sample_weight, tuple(values.shape))
        values = _m.multiply(values, sample_weight)
        if wr > 1:
            sample_weight = reduce_over(sample_weight, tuple(range(1, wr)))
    if values.ndim > 1:
        values = reduce_over(values, tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the given values."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight(name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, self._dtype,
                                                _red.reduce_sum)
        self.total.assign_add(_red.reduce_sum(values))

    def result(self):
        return self.total.read_value()


class Mean(Metric):
    """The (weighted) mean of the given values: ``total / count``."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight(name="total")
        self.count = self.add_weight(name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight,
                                                            self._dtype)
        self.total.assign_add(_red.reduce_sum(values))
        if sample_weight is not None:
            n = _red.reduce_sum(sample_weight)
        else:
            n = convert_to_tensor(float(values.shape[0]) if values.ndim else 1.0,
                                  dtype=self._dtype, device=values._device)
        self.count.assign_add(n)

    def result(self):
        return _m.divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """Averages ``fn(y_true, y_pred, **kwargs)`` over samples.

    Args:
      fn: the per-sample metric function.
      name: the metric's name.
      dtype: dtype of the state.
      **kwargs: keyword arguments passed to ``fn``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        # Keras 3: unnamed wrappers are auto-named after the class, not the function
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)   # Keras 3: masked steps weigh 0
        if not isinstance(y_true, (list, tuple, dict)) and not isinstance(
                y_pred, (list, tuple, dict)):
            # Keras 2: labels (N,) against predictions (N, 1) are one value per
            # sample, never an (N, N) broadcast
            y_true, y_pred = align_ranks(as_tensor(y_true), as_tensor(y_pred))
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        # a function that already reduced the masked axes returns fewer dims
        if mask is not None and as_tensor(values).ndim >= mask.ndim:
            mask = _m.cast(mask, self._dtype)
            if sample_weight is not None:
                mask, sample_weight = squeeze_or_expand_weights(
                    mask, as_tensor(sample_weight, self._dtype))
                mask = _m.multiply(mask, sample_weight)
            sample_weight = mask
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            config["fn"] = self._fn
        return config
