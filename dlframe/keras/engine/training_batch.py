"""``train_on_batch``/``test_on_batch``/``predict_on_batch``: one step on one batch
given as arrays, outside ``fit`` (mixed into ``TrainingMixin``)."""

from dlframe.core.tensor import Tensor
from dlframe.keras.engine import training_data as data_mod
from dlframe.keras.engine import training_distributed as _dist
from dlframe.keras.engine.training_steps import (
    _floats,
    _merge_dict_results,
    _sorted_logs,
)
from dlframe.keras.utils import tree


def _to_numpy(structure):
    return tree.map_structure(lambda t: t.numpy() if isinstance(t, Tensor) else t,
                              structure)


def _flat_values(logs):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _batch_result(model, raw, return_dict):
    """A batch method's result as ``evaluate`` gives it: the logs sorted by name
    (TF 2.21: its step function returns the dict with sorted keys), or their values
    in ``evaluate()``'s list order (one value alone)."""
    logs = _sorted_logs(_floats(_merge_dict_results(raw)), raw)
    if return_dict:
        return logs
    return _flat_values({k: logs[k] for k in model._log_order(list(logs))})


class BatchMethodsMixin:
    """Single-batch training, evaluation and prediction."""

    # -- single batches ------------------------------------------------------------
    def _batch_data(self, x, y, sample_weight, class_weight=None):
        x = tree.map_structure(lambda v: data_mod.to_tensor(v, "x"), x)
        y = tree.map_structure(lambda v: data_mod.to_tensor(v, "y"), y) \
            if y is not None else None
        sw = data_mod.to_tensor(sample_weight, "sample_weight") \
            if sample_weight is not None else None
        if class_weight is not None and y is not None:
            sw = data_mod.apply_class_weight(y, sw, class_weight)
        return data_mod.pack_x_y_sample_weight(x, y, sw)

    @_dist.in_strategy_scope
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One gradient update on a single batch; returns loss/metrics."""
        self._assert_compile_was_called()
        if reset_metrics:
            self.reset_metrics()
        data = self._batch_data(x, y, sample_weight, class_weight)
        if not self._checked_first_batch:
            self._check_first_batch(data)
            self._checked_first_batch = True
        return _batch_result(self, self.make_train_function()(data), return_dict)

    @_dist.in_strategy_scope
    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True,
                      return_dict=False):
        """Loss/metrics on a single batch."""
        self._assert_compile_was_called()
        if reset_metrics:
            self.reset_metrics()
        logs = self.make_test_function()(self._batch_data(x, y, sample_weight))
        return _batch_result(self, logs, return_dict)

    @_dist.in_strategy_scope
    def predict_on_batch(self, x):
        """The model's outputs on one batch, as NumPy arrays."""
        data = self._batch_data(x, None, None)
        return _to_numpy(self.make_predict_function()(data))
