"""Adamax: Adam with the infinity norm."""

from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.slice_gradients import kernel_rows
from dlframe.ops import math as _math
from dlframe.ops import training_ops as _kernels


class Adamax(Optimizer):
    """Adamax, as ``keras.optimizers.Adamax``.

    ``m += (g - m)(1 - b1)``, ``u = max(b2 * u, |g|)``,
    ``var -= lr * m / ((1 - b1^t) * (u + epsilon))``.

    Args:
      learning_rate: float or schedule (default 0.001).
      beta_1: decay of the first moment (default 0.9).
      beta_2: decay of the exponentially weighted infinity norm (default 0.999).
      epsilon: small constant for numerical stability (default 1e-7).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="adamax", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._m, self._u = [], []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._m.append(self.add_variable_from_reference(v, "m"))
            self._u.append(self.add_variable_from_reference(v, "u"))

    def _takes_slices(self):
        # the dense kernel takes the absolute values of IndexedSlices' rows
        return self._sparse_update_applies(Adamax)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        gradient, rows = kernel_rows(gradient, variable, _math.abs)
        self._kernel_update(_kernels.adamax_p, variable, (self._m[i], self._u[i]),
                            gradient, learning_rate, {
                                "beta_1": float(self.beta_1), "beta_2": float(self.beta_2),
                                "epsilon": float(self.epsilon)},
                            extra=rows)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
