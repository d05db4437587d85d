"""Learning-rate schedules: callables of the optimizer's step returning a float32 rate.

Each schedule is written with dlframe ops on the step tensor, so a compiled train
step recomputes the rate from the ``iterations`` variable without retracing.
"""

import math as _pymath

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops import math as _m


def _step(step):
    # a NumPy array of steps (e.g. ``schedule(np.linspace(...))`` to plot a
    # schedule) gives a rate per step, as in Keras
    if not isinstance(step, Tensor):
        step = convert_to_tensor(step)
    return _m.cast(step, dtypes.float32)


def _f(x):
    return convert_to_tensor(float(x), dtype=dtypes.float32)


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config``."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, "
            "step)`.")

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` "
            "in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_steps(arg, value):
    if value <= 0:
        raise ValueError(f"Argument `{arg}` must be > 0. Received: {arg}={value}")


class _RateDecay(LearningRateSchedule):
    """Shared state of the schedules driven by ``step / decay_steps`` and a decay rate."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        """``step / decay_steps``, floored when ``staircase``."""
        p = _m.divide(_step(step), float(self.decay_steps))
        return _m.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored if
    ``staircase``)."""

    def __call__(self, step):
        p = self._progress(step)
        return _m.multiply(float(self.initial_learning_rate),
                           _m.pow(_f(self.decay_rate), p))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        s = _step(step)
        # the values keep their own dtype (ints give an int32 rate), as in Keras
        values = [convert_to_tensor(v) for v in self.values]
        out = values[-1]
        for b, v in zip(reversed(self.boundaries), reversed(values[:-1])):
            out = _m.where(_m.less_equal(s, float(b)), v, out)
        return out

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(lr0 - end) * (1 - step / decay_steps) ** power + end`` (optionally cycling)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s = _step(step)
        steps = _f(self.decay_steps)
        if self.cycle:
            mult = _m.ceil(_m.divide(s, steps))
            mult = _m.where(_m.equal(s, 0.0), _f(1.0), mult)
            steps = _m.multiply(steps, mult)
        else:
            s = _m.minimum(s, steps)
        frac = _m.subtract(1.0, _m.divide(s, steps))
        span = float(self.initial_learning_rate) - float(self.end_learning_rate)
        return _m.add(_m.multiply(span, _m.pow(frac, float(self.power))),
                      float(self.end_learning_rate))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_RateDecay):
    """``lr0 / (1 + decay_rate * step / decay_steps)`` (floored if ``staircase``)."""

    def __call__(self, step):
        p = self._progress(step)
        return _m.divide(float(self.initial_learning_rate),
                         _m.add(_m.multiply(float(self.decay_rate), p), 1.0))


class CosineDecay(LearningRateSchedule):
    """Cosine decay to ``alpha * lr`` over ``decay_steps``, after an optional linear
    warmup of ``warmup_steps`` from ``initial_learning_rate`` to ``warmup_target``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        s = _step(step)
        lr0 = float(self.initial_learning_rate)
        top = lr0 if self.warmup_target is None else float(self.warmup_target)
        ds = float(self.decay_steps)
        after = _m.minimum(_m.maximum(_m.subtract(s, float(self.warmup_steps)), 0.0), ds)
        frac = _m.divide(after, ds) if ds > 0 else _f(1.0)
        cos = _m.multiply(0.5, _m.add(_m.cos(_m.multiply(_pymath.pi, frac)), 1.0))
        decayed = _m.multiply(top, _m.add(_m.multiply(1.0 - float(self.alpha), cos),
                                          float(self.alpha)))
        if self.warmup_target is None or not self.warmup_steps:
            return decayed
        warm = _m.add(lr0, _m.multiply(top - lr0,
                                       _m.divide(s, float(self.warmup_steps))))
        return _m.where(_m.less(s, float(self.warmup_steps)), warm, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul``, peaks
    scale by ``m_mul``."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _check_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        frac = _m.divide(_step(step), float(self.first_decay_steps))
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i = _m.floor(frac)
            frac = _m.subtract(frac, i)
        else:
            i = _m.floor(_m.divide(_m.log(_m.subtract(1.0, _m.multiply(frac, 1.0 - t_mul))),
                                   _pymath.log(t_mul)))
            sum_r = _m.divide(_m.subtract(1.0, _m.pow(_f(t_mul), i)), 1.0 - t_mul)
            frac = _m.divide(_m.subtract(frac, sum_r), _m.pow(_f(t_mul), i))
        m_fac = _m.pow(_f(self._m_mul), i)
        cos = _m.multiply(_m.multiply(0.5, m_fac),
                          _m.add(_m.cos(_m.multiply(_pymath.pi, frac)), 1.0))
        decayed = _m.add(_m.multiply(1.0 - float(self.alpha), cos), float(self.alpha))
        return _m.multiply(float(self.initial_learning_rate), decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_ALL = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(schedule):
    """``{'class_name', 'config'}`` of a schedule."""
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A schedule from ``serialize``'s output."""
    from dlframe.keras.utils.generic_utils import get_registered_object
    name = config["class_name"]
    cls = (get_registered_object(config.get("registered_name") or name, custom_objects)
           or _ALL.get(name))
    if cls is None:
        raise ValueError(f"Unknown learning rate schedule: '{name}'. Please ensure you are "
                         "using a `keras.utils.custom_object_scope` and that this object "
                         "is included in the scope.")
    return cls.from_config(config["config"])
