"""Nadam: Adam with Nesterov momentum (Keras's momentum-schedule variant)."""

from dlframe.core import dtypes
from dlframe.core.primitive import call
from dlframe.core.variable import Variable
from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.slice_gradients import kernel_rows
from dlframe.ops import training_ops as _kernels


class Nadam(Optimizer):
    """Nadam, as ``keras.optimizers.Nadam``.

    Uses the momentum schedule ``u_t = b1 (1 - 0.5 * 0.96^t)`` and its running
    product, updated once per step.

    Args:
      learning_rate: float or schedule (default 0.001).
      beta_1, beta_2: decays of the first and second moments (0.9, 0.999).
      epsilon: small constant for numerical stability (default 1e-7).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._momentums, self._velocities = [], []
        self._u_product = None

    def build(self, var_list):
        if self._u_product is None:
            self._u_product = Variable(1.0, dtype=dtypes.float32, trainable=False,
                                       name=f"{self.name}/u_product")
            self._variables.append(self._u_product)
        super().build(var_list)
        for v in var_list:
            self._momentums.append(self.add_variable_from_reference(v, "momentum"))
            self._velocities.append(self.add_variable_from_reference(v, "velocity"))

    def _prepare_step(self, lr):
        call(_kernels.nadam_u_product_p, (self._u_product, self.iterations),
             {"beta_1": float(self.beta_1)})

    def _takes_slices(self):
        # the dense kernel takes the squares of IndexedSlices' rows
        return self._sparse_update_applies(Nadam)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        gradient, rows = kernel_rows(gradient, variable)
        self._kernel_update(_kernels.nadam_p, variable,
                            (self._momentums[i], self._velocities[i]), gradient,
                            learning_rate, {
                                "beta_1": float(self.beta_1), "beta_2": float(self.beta_2),
                                "epsilon": float(self.epsilon)},
                            extra=(self._u_product, *rows))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
