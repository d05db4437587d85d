"""Stochastic gradient descent with optional (Nesterov) momentum."""

from dlframe.core.indexed_slices import IndexedSlices
from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.ops import sparse_training_ops as _sparse_kernels
from dlframe.ops import training_ops as _kernels


class SGD(Optimizer):
    """Gradient descent (with momentum), as ``keras.optimizers.SGD``.

    With momentum: ``m = momentum * m - lr * g``; ``var += m`` (or, Nesterov,
    ``var += momentum * m - lr * g``); without: ``var -= lr * g``.

    Args:
      learning_rate: float or schedule (default 0.01).
      momentum: float >= 0 accelerating descent (default 0.0).
      nesterov: use Nesterov momentum.
      **kwargs: the base ``Optimizer`` arguments.
    """

    _default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. "
                             f"Received: momentum={momentum} (of type {type(momentum)}).")
        self.momentum = momentum
        self.nesterov = nesterov
        self._momentums = []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._momentums.append(self.add_variable_from_reference(v, "momentum")
                                   if self.momentum != 0 else None)

    def _takes_slices(self):
        # plain SGD touches only the gathered rows: no dense gradient is built
        return self.momentum == 0 and self._sparse_update_applies(SGD)

    def update_step(self, gradient, variable, learning_rate):
        if isinstance(gradient, IndexedSlices):   # rows named twice add up
            self._kernel_update(_sparse_kernels.sparse_sgd_p, variable,
                                (gradient.values,), gradient.indices, learning_rate,
                                None)
            return
        i = self._index[id(variable)]
        m = self._momentums[i]
        if self.momentum == 0 or m is None:
            self._kernel_update(_kernels.sgd_p, variable, (), gradient, learning_rate, None)
        else:
            self._kernel_update(_kernels.momentum_p, variable, (m,), gradient,
                                learning_rate, {"momentum": float(self.momentum),
                                                "nesterov": bool(self.nesterov)})

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config
