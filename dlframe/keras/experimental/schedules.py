"""Keras 2's ``keras.experimental`` learning-rate schedules: linear cosine decay
(Bello et al., 2017, "Neural Optimizer Search with Reinforcement Learning") and its
noisy variant."""

import math as _pymath

from dlframe.keras.optimizers.schedules.learning_rate_schedule import (
    LearningRateSchedule,
    _step,
)
from dlframe.ops import math as _m
from dlframe.ops import random as _random


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"Argument `{name}` must be a positive number. "
                         f"Received: {name}={value!r}")


class LinearCosineDecay(LearningRateSchedule):
    """``lr * ((alpha + linear) * cosine + beta)`` where, with
    ``t = min(step, decay_steps)``, ``linear = (decay_steps - t) / decay_steps`` and
    ``cosine = 0.5 * (1 + cos(2 pi num_periods t / decay_steps))``.

    Args:
      initial_learning_rate: the starting rate.
      decay_steps: steps to decay over.
      num_periods: periods of the cosine part.
      alpha: see the formula.
      beta: see the formula.
      name: name of the schedule.

    Raises:
      ValueError: ``decay_steps`` is not positive.
    """

    def __init__(self, initial_learning_rate, decay_steps, num_periods=0.5, alpha=0.0,
                 beta=0.001, name=None):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.num_periods = num_periods
        self.alpha = alpha
        self.beta = beta
        self.name = name

    def _noise(self, t):
        """Noise added to the linear part at step ``t`` (None: none)."""
        del t

    def __call__(self, step):
        ds = float(self.decay_steps)
        t = _m.minimum(_step(step), ds)
        linear = _m.divide(_m.subtract(ds, t), ds)
        noise = self._noise(t)
        if noise is not None:
            linear = _m.add(linear, noise)
        angle = _m.multiply(2.0 * _pymath.pi * float(self.num_periods) / ds, t)
        cosine = _m.multiply(0.5, _m.add(_m.cos(angle), 1.0))
        decayed = _m.add(_m.multiply(_m.add(float(self.alpha), linear), cosine),
                         float(self.beta))
        return _m.multiply(float(self.initial_learning_rate), decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "num_periods": self.num_periods,
                "alpha": self.alpha, "beta": self.beta, "name": self.name}


class NoisyLinearCosineDecay(LinearCosineDecay):
    """``LinearCosineDecay`` with Gaussian noise of variance
    ``initial_variance / (1 + t) ** variance_decay`` added to the linear part.

    Args:
      initial_learning_rate, decay_steps, num_periods, alpha, beta, name: as in
        ``LinearCosineDecay``.
      initial_variance: the noise's variance at step 0.
      variance_decay: how fast the variance decays.
    """

    def __init__(self, initial_learning_rate, decay_steps, initial_variance=1.0,
                 variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001,
                 name=None):
        super().__init__(initial_learning_rate, decay_steps, num_periods=num_periods,
                         alpha=alpha, beta=beta, name=name)
        self.initial_variance = initial_variance
        self.variance_decay = variance_decay

    def _noise(self, t):
        variance = _m.divide(float(self.initial_variance),
                             _m.pow(_m.add(t, 1.0), float(self.variance_decay)))
        return _m.multiply(_m.sqrt(variance), _random.normal([]))

    def get_config(self):
        config = super().get_config()
        config.update(initial_variance=self.initial_variance,
                      variance_decay=self.variance_decay)
        return config
