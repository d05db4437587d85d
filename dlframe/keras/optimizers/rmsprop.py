"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from dlframe.core.indexed_slices import IndexedSlices
from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.slice_gradients import kernel_rows
from dlframe.ops import sparse_training_ops as _sparse_kernels
from dlframe.ops import training_ops as _kernels


class RMSprop(Optimizer):
    """RMSprop, as ``keras.optimizers.RMSprop``.

    ``v = rho * v + (1 - rho) * g^2``; centered subtracts the squared running mean
    of ``g``; the step ``lr * g / sqrt(v + epsilon)`` optionally goes through momentum.

    Args:
      learning_rate: float or schedule (default 0.001).
      rho: discounting factor of the gradient history (default 0.9).
      momentum: momentum of the step (default 0.0).
      epsilon: small constant for numerical stability (default 1e-7).
      centered: normalize by the estimated variance of the gradient.
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        self._velocities, self._momentums, self._average_gradients = [], [], []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._velocities.append(self.add_variable_from_reference(v, "velocity"))
            self._momentums.append(self.add_variable_from_reference(v, "momentum")
                                   if self.momentum > 0 else None)
            self._average_gradients.append(
                self.add_variable_from_reference(v, "average_gradient")
                if self.centered else None)

    def _takes_slices(self):
        # uncentered: the step is 0 on rows without gradient (vel + epsilon > 0),
        # so IndexedSlices skip the dense gradient (see sparse_training_ops);
        # otherwise the dense kernel takes their rows' squares
        return self._sparse_update_applies(RMSprop)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        vel, mom, avg = self._velocities[i], self._momentums[i], self._average_gradients[i]
        if (isinstance(gradient, IndexedSlices) and not self.centered
                and float(self.epsilon) > 0):
            self._kernel_update(_sparse_kernels.sparse_rmsprop_p, variable,
                                (vel, mom if mom is not None else vel, gradient.values),
                                gradient.indices, learning_rate, {
                                    "rho": float(self.rho), "epsilon": float(self.epsilon),
                                    "momentum": float(self.momentum)
                                    if mom is not None else 0.0})
            return
        slots = (vel, mom if mom is not None else vel, avg if avg is not None else vel)
        gradient, rows = kernel_rows(gradient, variable)
        self._kernel_update(_kernels.rmsprop_p, variable, slots, gradient, learning_rate, {
            "rho": float(self.rho), "momentum": float(self.momentum) if mom is not None
            else 0.0, "epsilon": float(self.epsilon),
            "centered": bool(self.centered and avg is not None)},
            extra=rows)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                      centered=self.centered)
        return config
