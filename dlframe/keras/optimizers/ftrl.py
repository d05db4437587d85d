"""FTRL-proximal and Lion."""

from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.slice_gradients import kernel_rows
from dlframe.ops import training_ops as _kernels


class Ftrl(Optimizer):
    """Follow-the-regularized-leader, as ``keras.optimizers.Ftrl``.

    Args:
      learning_rate: float or schedule (default 0.001).
      learning_rate_power: <= 0, how the rate decreases (default -0.5).
      initial_accumulator_value: starting value of the accumulators (default 0.1).
      l1_regularization_strength, l2_regularization_strength: >= 0 (default 0).
      l2_shrinkage_regularization_strength: >= 0, magnitude penalty (default 0).
      beta: >= 0 (default 0).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "ftrl"

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name="ftrl", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        checks = (("initial_accumulator_value", initial_accumulator_value),
                  ("l1_regularization_strength", l1_regularization_strength),
                  ("l2_regularization_strength", l2_regularization_strength),
                  ("l2_shrinkage_regularization_strength",
                   l2_shrinkage_regularization_strength))
        for arg, value in checks:
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: "
                                 f"{arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. "
                             f"Received: learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        self._accumulators, self._linears = [], []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._accumulators.append(self.add_variable_from_reference(
                v, "accumulator", initializer=float(self.initial_accumulator_value)))
            self._linears.append(self.add_variable_from_reference(v, "linear"))

    def _takes_slices(self):
        # the dense kernel takes the squares of IndexedSlices' rows
        return self._sparse_update_applies(Ftrl)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        gradient, rows = kernel_rows(gradient, variable)
        self._kernel_update(_kernels.ftrl_p, variable,
                            (self._accumulators[i], self._linears[i]), gradient,
                            learning_rate, {
                                "lr_power": float(self.learning_rate_power),
                                "l1": float(self.l1_regularization_strength),
                                "l2": float(self.l2_regularization_strength),
                                "l2_shrinkage": float(
                                    self.l2_shrinkage_regularization_strength),
                                "beta": float(self.beta)},
                            extra=rows)

    def get_config(self):
        config = super().get_config()
        config.update(
            learning_rate_power=self.learning_rate_power,
            initial_accumulator_value=self.initial_accumulator_value,
            l1_regularization_strength=self.l1_regularization_strength,
            l2_regularization_strength=self.l2_regularization_strength,
            l2_shrinkage_regularization_strength=self.l2_shrinkage_regularization_strength,
            beta=self.beta)
        return config


class Lion(Optimizer):
    """Lion (evolved sign momentum), as ``keras.optimizers.Lion``.

    ``var -= lr * sign(b1 m + (1 - b1) g)``; ``m = b2 m + (1 - b2) g``.

    Args:
      learning_rate: float or schedule (default 0.001).
      beta_1: interpolation factor of the update (default 0.9).
      beta_2: decay of the momentum (default 0.99).
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name="lion",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument for `beta_1` must be in range [0, 1]. "
                             f"Received: beta_1={beta_1}.")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self._momentums = []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._momentums.append(self.add_variable_from_reference(v, "momentum"))

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        self._kernel_update(_kernels.lion_p, variable, (self._momentums[i],), gradient,
                            learning_rate, {"beta_1": float(self.beta_1),
                                            "beta_2": float(self.beta_2)})

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2)
        return config
