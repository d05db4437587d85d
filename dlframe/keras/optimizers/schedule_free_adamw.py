"""Schedule-Free AdamW (Defazio et al. 2024): no learning rate schedule needed."""

from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.ops import math as _math


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW, as ``keras.optimizers.ScheduleFreeAdamW``.

    Per variable it keeps ``z`` (the slot 'momentum', started at the variable's
    value) where Adam-normalized steps land, ``z -= lr_t g / (sqrt(v / (1 -
    beta_2^t)) + epsilon)``, and the running average ``x`` of the ``z`` iterates
    (weight ``1/t``). The model's variable holds the interpolation ``y = (1 -
    beta_1) z + beta_1 x``, where gradients are evaluated; ``x`` is recovered from
    ``y`` and ``z`` each step, so no third copy is stored (with the updated ``z``,
    exactly as tf.keras computes it).
    ``lr_t`` rises linearly over ``warmup_steps``.

    Args:
      learning_rate: float or schedule (default 0.0025).
      beta_1: interpolation between ``z`` and ``x`` (0.9).
      beta_2: decay of the second moment (0.999).
      epsilon: added to the denominator (1e-8).
      warmup_steps: steps of linear learning rate warm-up (0: none).
      **kwargs: the base ``Optimizer`` arguments (``weight_decay`` defaults to None).
    """

    _default_name = "schedulefreeadamw"

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name,
            **kwargs)
        if int(warmup_steps) < 0:
            raise ValueError("`warmup_steps` must be a non-negative integer. Received: "
                             f"warmup_steps={warmup_steps}")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = int(warmup_steps)
        self._momentums, self._velocities = [], []

    def build(self, var_list):
        super().build(var_list)
        for v in var_list:
            self._momentums.append(self.add_variable_from_reference(
                v, "momentum", initializer=v))
            self._velocities.append(self.add_variable_from_reference(v, "velocity"))

    def update_step(self, gradient, variable, learning_rate):
        i = self._index[id(variable)]
        z, v = self._momentums[i], self._velocities[i]
        dtype = variable.dtype
        gradient = _math.cast(gradient, dtype)
        lr = _math.cast(learning_rate, dtype)
        step = _math.cast(self.iterations + 1, dtype)
        if self.warmup_steps > 0:
            lr = _math.multiply(lr, _math.minimum(step / float(self.warmup_steps), 1.0))
        beta_1, beta_2 = float(self.beta_1), float(self.beta_2)
        v.assign_add(_math.multiply(_math.subtract(_math.square(gradient), v),
                                    1.0 - beta_2))
        correction = _math.subtract(1.0, _math.pow(_math.cast(beta_2, dtype), step))
        denom = _math.add(_math.sqrt(_math.divide(v, correction)), float(self.epsilon))
        z.assign_sub(_math.divide(_math.multiply(gradient, lr), denom))
        # x is recovered with the *updated* z, as Keras 3 does on the TensorFlow
        # backend (its `momentum.value` reads the variable after the update); this
        # keeps dlframe's steps identical to tf.keras's.
        x_old = _math.divide(_math.subtract(variable, _math.multiply(z, 1 - beta_1)),
                             beta_1)
        weight = _math.divide(1.0, step)
        x_new = _math.add(x_old, _math.multiply(_math.subtract(z, x_old), weight))
        variable.assign(_math.add(_math.multiply(z, 1.0 - beta_1),
                                  _math.multiply(x_new, beta_1)))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      warmup_steps=self.warmup_steps)
        return config
