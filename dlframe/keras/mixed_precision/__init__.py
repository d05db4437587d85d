"""``keras.mixed_precision``: dtype policies ('float32', 'mixed_float16', ...) and
``LossScaleOptimizer``."""

from dlframe import config as _config

_GLOBAL = [None]


class Policy:
    """A dtype policy: ``compute_dtype`` for math, ``variable_dtype`` for weights.

    Args:
      name: 'float32', 'float64', 'float16', 'bfloat16', 'mixed_float16' or
        'mixed_bfloat16'.
    """

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, but got: {name!r}")
        if name in ("mixed_float16", "mixed_bfloat16"):
            self._compute, self._variable = name.split("_")[1], "float32"
        elif name in ("float16", "bfloat16", "float32", "float64", "int32", "int64"):
            self._compute = self._variable = name
        else:
            raise ValueError(f"Cannot convert value {name!r} to a mixed precision Policy. "
                             "Valid policies include 'mixed_float16', 'mixed_bfloat16', "
                             "and the name of any dtype such as 'float32'.")
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return self._compute

    @property
    def variable_dtype(self):
        return self._variable

    def __repr__(self):
        return f'<Policy "{self._name}">'

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


DTypePolicy = Policy


def global_policy():
    """The policy new layers use when no ``dtype`` is given (default: floatx)."""
    return _GLOBAL[0] if _GLOBAL[0] is not None else Policy(_config.floatx())


def set_global_policy(policy):
    _GLOBAL[0] = None if policy is None else (
        policy if isinstance(policy, Policy) else Policy(policy))


set_dtype_policy = set_global_policy
dtype_policy = global_policy


def __getattr__(name):
    # imported on first use: the optimizers package imports layers' dtype machinery
    if name == "LossScaleOptimizer":
        from dlframe.keras.mixed_precision import loss_scale_optimizer
        globals()[name] = loss_scale_optimizer.LossScaleOptimizer
        return loss_scale_optimizer.LossScaleOptimizer
    raise AttributeError(f"module 'dlframe.keras.mixed_precision' has no attribute {name!r}")
