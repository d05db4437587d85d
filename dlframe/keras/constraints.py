"""``keras.constraints``: projections applied to weights after optimizer updates."""

from dlframe.keras.utils import generic_utils
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight tensor."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return _math.sqrt(_red.reduce_sum(_math.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales slices along ``axis`` whose L2 norm exceeds ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = _math.minimum(_math.maximum(norms, 0.0), float(self.max_value))
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        return w * _math.cast(_math.greater_equal(w, 0.0), w.dtype)


class UnitNorm(Constraint):
    """Rescales slices along ``axis`` to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (1e-7 + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps slice norms within [min_value, max_value], moving them by ``rate``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = (
            min_value, max_value, rate, axis)

    def __call__(self, w):
        norms = _norms(w, self.axis)
        clipped = _math.minimum(_math.maximum(norms, float(self.min_value)),
                                float(self.max_value))
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


class RadialConstraint(Constraint):
    def __call__(self, w):
        return w


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
radial_constraint = RadialConstraint
_OBJECTS = {"MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
            "MinMaxNorm": MinMaxNorm, "RadialConstraint": RadialConstraint,
            "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "min_max_norm": MinMaxNorm, "radial_constraint": RadialConstraint}


serialize, deserialize, get = generic_utils.object_lookup(_OBJECTS, "constraint", Constraint)
