"""Adagrad and Adadelta: per-parameter rates from accumulated squared gradients."""

from dlframe.core.indexed_slices import IndexedSlices
from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.slice_gradients import kernel_rows
from dlframe.ops import sparse_training_ops as _sparse_kernels
from dlframe.ops import training_ops as _kernels


class Adagrad(Optimizer):
    """Adagrad, as ``keras.optimizers.Adagrad``: ``acc += g^2``,
    ``var -= lr * g / sqrt(acc + epsilon)``.

    Args:
      learning_rate: float or schedule (default 0.001).
      initial_accumulator_value: starting value of the accumulators (default 0.1).
      epsilon: small constant for numerical stability (default 1e-7).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        self._accumulators = []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._accumulators.append(self.add_variable_from_reference(
                v, "accumulator", initializer=float(self.initial_accumulator_value)))

    def _takes_slices(self):
        return self._sparse_update_applies(Adagrad)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        # only the gradient's rows change (other rows add 0 and subtract 0, unless
        # acc + epsilon could be 0, where the dense update writes 0/0)
        if (isinstance(gradient, IndexedSlices) and float(self.epsilon) > 0
                and float(self.initial_accumulator_value) >= 0):
            self._kernel_update(_sparse_kernels.sparse_adagrad_p, variable,
                                (self._accumulators[i], gradient.values),
                                gradient.indices, learning_rate,
                                {"epsilon": float(self.epsilon)})
            return
        gradient, rows = kernel_rows(gradient, variable)
        self._kernel_update(_kernels.adagrad_p, variable, (self._accumulators[i],),
                            gradient, learning_rate, {"epsilon": float(self.epsilon)},
                            extra=rows)

    def get_config(self):
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value,
                      epsilon=self.epsilon)
        return config


class Adadelta(Optimizer):
    """Adadelta, as ``keras.optimizers.Adadelta``.

    ``Eg = rho Eg + (1 - rho) g^2``; ``delta = -sqrt(Ed + eps) / sqrt(Eg + eps) * g``;
    ``Ed = rho Ed + (1 - rho) delta^2``; ``var += lr * delta``.

    Args:
      learning_rate: float or schedule (default 0.001).
      rho: decay rate (default 0.95).
      epsilon: small constant for numerical stability (default 1e-7).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="adadelta",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon
        self._acc_grads, self._acc_deltas = [], []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._acc_grads.append(self.add_variable_from_reference(v, "accumulated_grad"))
            self._acc_deltas.append(
                self.add_variable_from_reference(v, "accumulated_delta_var"))

    def _takes_slices(self):
        # the dense kernel takes the squares of IndexedSlices' rows
        return self._sparse_update_applies(Adadelta)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        gradient, rows = kernel_rows(gradient, variable)
        self._kernel_update(_kernels.adadelta_p, variable,
                            (self._acc_grads[i], self._acc_deltas[i]), gradient,
                            learning_rate, {"rho": float(self.rho),
                                            "epsilon": float(self.epsilon)},
                            extra=rows)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, epsilon=self.epsilon)
        return config
