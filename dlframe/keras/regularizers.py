"""``keras.regularizers``: L1, L2, L1L2 (+ snake_case aliases), OrthogonalRegularizer."""

from dlframe.keras.utils import generic_utils
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red


def _check_penalty(name, value):
    if not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"Value for argument `{name}` must be a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: ``__call__(weights)`` returns a scalar penalty."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_penalty("l1", 0.0 if l1 is None else l1)
        self.l2 = _check_penalty("l2", 0.0 if l2 is None else l2)

    def __call__(self, x):
        total = None
        if self.l1:
            total = self.l1 * _red.reduce_sum(_math.abs(x))
        if self.l2:
            term = self.l2 * _red.reduce_sum(_math.square(x))
            total = term if total is None else total + term
        if total is None:
            return _red.reduce_sum(x * 0.0)
        return total

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01, **kwargs):
        l1 = kwargs.pop("l", l1)
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01, **kwargs):
        l2 = kwargs.pop("l", l2)
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1=l1, l2=l2)


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D kernel towards orthonormality."""

    def __init__(self, factor=0.01, mode="rows"):
        if mode not in ("rows", "columns"):
            raise ValueError(f"Invalid value for argument `mode`. Expected one of "
                             f"{{'rows', 'columns'}}. Received: mode={mode!r}")
        self.factor = _check_penalty("factor", factor)
        self.mode = mode

    def __call__(self, x):
        from dlframe.ops import array as _array
        from dlframe.ops import linalg as _linalg
        if self.mode == "columns":
            x = _array.transpose(x)
        norm = _math.sqrt(_red.reduce_sum(_math.square(x), axis=1, keepdims=True))
        x = x / _math.maximum(norm, 1e-12)
        prod = _linalg.matmul(x, x, transpose_b=True)
        n = x.shape[0]
        return self.factor * (_red.reduce_sum(_math.abs(prod)) - n) / (n * (n - 1) or 1)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer
_OBJECTS = {"L1L2": L1L2, "L1": L1, "L2": L2, "l1": L1, "l2": L2, "l1_l2": l1_l2,
            "OrthogonalRegularizer": OrthogonalRegularizer,
            "orthogonal_regularizer": OrthogonalRegularizer}


serialize, deserialize, get = generic_utils.object_lookup(_OBJECTS, "regularizer", Regularizer)
