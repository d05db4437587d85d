"""Adam and AdamW: adaptive moment estimation (with decoupled weight decay)."""

from dlframe.core.indexed_slices import IndexedSlices
from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.slice_gradients import kernel_rows
from dlframe.ops import sparse_training_ops as _sparse_kernels
from dlframe.ops import training_ops as _kernels


class Adam(Optimizer):
    """Adam, as ``keras.optimizers.Adam``.

    ``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``,
    ``var -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)``; with
    ``amsgrad`` the running maximum of ``v`` is used.

    Args:
      learning_rate: float or schedule (default 0.001).
      beta_1: decay of the first moment (default 0.9).
      beta_2: decay of the second moment (default 0.999).
      epsilon: small constant for numerical stability (default 1e-7).
      amsgrad: use the AMSGrad variant.
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self._momentums, self._velocities, self._velocity_hats = [], [], []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._momentums.append(self.add_variable_from_reference(v, "momentum"))
            self._velocities.append(self.add_variable_from_reference(v, "velocity"))
            self._velocity_hats.append(
                self.add_variable_from_reference(v, "velocity_hat")
                if self.amsgrad else None)

    def _takes_slices(self):
        # IndexedSlices skip the dense gradient (same result, see sparse_training_ops);
        # with amsgrad the dense kernel takes their rows' squares
        return self._sparse_update_applies(Adam)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        if isinstance(gradient, IndexedSlices) and not self.amsgrad:
            self._kernel_update(
                _sparse_kernels.sparse_adam_p, variable,
                (self._momentums[i], self._velocities[i], gradient.values),
                gradient.indices, learning_rate,
                {"beta_1": float(self.beta_1), "beta_2": float(self.beta_2),
                 "epsilon": float(self.epsilon)})
            return
        v = self._velocities[i]
        vhat = self._velocity_hats[i]
        gradient, rows = kernel_rows(gradient, variable)
        self._kernel_update(_kernels.adam_p, variable,
                            (self._momentums[i], v, vhat if vhat is not None else v),
                            gradient, learning_rate, {
                                "beta_1": float(self.beta_1), "beta_2": float(self.beta_2),
                                "epsilon": float(self.epsilon),
                                "amsgrad": vhat is not None},
                            extra=rows)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      amsgrad=self.amsgrad)
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (``var -= var * weight_decay * lr`` first).

    Args:
      learning_rate: float or schedule (default 0.001).
      weight_decay: decay rate (default 0.004).
      beta_1, beta_2, epsilon, amsgrad: as ``Adam``.
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="adamw", **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
