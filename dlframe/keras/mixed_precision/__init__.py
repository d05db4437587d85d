"""``keras.mixed_precision``: dtype policies ('float32', 'mixed_float16', ...) and
``LossScaleOptimizer``."""

from dlframe import config as _config
from dlframe.core import dtypes as _dtypes
from dlframe.keras.mixed_precision.autocast import autocast_variables  # noqa: F401

_GLOBAL = [None]


class Policy:
    """A dtype policy: ``compute_dtype`` for math, ``variable_dtype`` for weights.

    The one policy class: ``layer.dtype_policy`` is an instance, so Keras 2's
    ``Policy`` and Keras 3's ``DTypePolicy`` are the same type.

    Args:
      name: 'mixed_float16', 'mixed_bfloat16' or the name of a dtype ('float32',
        'float16', 'bfloat16', 'float64', 'int32', ...); None: ``floatx()``.

    Raises:
      TypeError: ``name`` is not a string.
      ValueError: ``name`` is neither a mixed policy nor a dtype name.
    """

    def __init__(self, name=None):
        if name is None:
            name = _config.floatx()
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. "
                            f"Received: name={name!r} (of type {type(name)})")
        if name in ("mixed_float16", "mixed_bfloat16"):
            self._compute, self._variable = name.split("_")[1], "float32"
        else:
            try:
                self._compute = self._variable = _dtypes.as_dtype(name).name
            except (TypeError, ValueError):
                raise ValueError(
                    f"Cannot convert value {name!r} to a mixed precision Policy. Valid "
                    "policies include 'mixed_float16', 'mixed_bfloat16', and the name "
                    "of any dtype such as 'float32'.") from None
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

    @property
    def quantization_mode(self):
        """None: float policies are not quantized (Keras 3)."""
        return None

    def __eq__(self, other):
        return isinstance(other, Policy) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def as_policy(dtype):
    """``dtype`` (a Policy, a policy or dtype name, a DType; None: the global policy)
    as a Policy: what a layer's ``dtype`` argument becomes."""
    if dtype is None:
        return global_policy()
    if isinstance(dtype, Policy):
        return dtype
    if isinstance(dtype, dict):   # a serialized (Keras 3) DTypePolicy in a config
        dtype = dtype.get("config", {}).get("name")
    if isinstance(dtype, type):   # float, int, np.float64: named as Keras names them
        from dlframe.keras.utils.backend_utils import standardize_dtype
        dtype = standardize_dtype(dtype)
    return Policy(getattr(dtype, "name", dtype))


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
    if name == "experimental":   # TF 2.1-2.3's API
        import importlib
        return importlib.import_module("dlframe.keras.mixed_precision.experimental")
    raise AttributeError(f"module 'dlframe.keras.mixed_precision' has no attribute {name!r}")


def __dir__():
    # the lazily imported names are part of the public API (``dir()``, completion)
    return sorted(set(globals()) | {"LossScaleOptimizer", "experimental"})
