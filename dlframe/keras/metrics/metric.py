"""The ``Metric`` base class: state in non-trainable variables made by ``add_weight``."""

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor
from dlframe.core.variable import Variable, VariableAggregation, VariableSynchronization
from dlframe.keras import backend as _backend
from dlframe.keras.engine.base_layer_utils import keras3_positional
from dlframe.keras.initializers import initial_value
from dlframe.keras.utils.generic_utils import to_snake_case
from dlframe.ops import logic as _logic


def _enum(kind, value):
    """A Variable{Synchronization,Aggregation} from an enum or its name ('sum')."""
    if isinstance(value, kind):
        return value
    return kind[str(value or "none").upper()]


class Metric:
    """Encapsulates metric state and logic, as ``keras.metrics.Metric``.

    Subclasses create state in ``__init__`` with ``add_weight`` and implement
    ``update_state(y_true, y_pred, sample_weight=None)`` and ``result()``.
    Calling the metric updates it and returns the result.

    Args:
      name: the metric's name (default: the class name in snake case, made unique
        in the session: 'auc', 'auc_1', ...).
      dtype: dtype of the metric's computations (default float32).
    """

    def __init__(self, name=None, dtype=None, **kwargs):
        # as Keras, an unnamed metric gets a unique auto name ('auc', 'auc_1', ...);
        # built-ins with a fixed default name ('mean', 'accuracy') pass it explicitly
        self.name = name or _backend.unique_object_name(to_snake_case(type(self).__name__))
        self._dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.float32

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj._variables = []  # usable before (or without) super().__init__()
        obj._metrics = []
        return obj

    @property
    def dtype(self):
        return self._dtype.name

    _dtype = dtypes.float32

    @keras3_positional(("shape", "initializer", "dtype", "name"))
    def add_weight(self, name=None, shape=(), dtype=None, initializer="zeros",
                   aggregation="sum", synchronization="on_read", trainable=False,
                   **kwargs):
        """Creates a non-trainable state variable of ``shape`` (zeros by default)."""
        dtype = dtypes.as_dtype(dtype) if dtype is not None else self._dtype
        shape = tuple(int(s) for s in (shape or ()))
        value = initial_value(initializer, shape, dtype)
        # ON_READ + SUM (TF's metric state): under a multi-replica strategy each replica
        # accumulates its own copy and a read sums them (dlframe.distribute.values)
        var = Variable(value, trainable=False, name=f"{self.name}/{name or 'variable'}",
                       synchronization=_enum(VariableSynchronization, synchronization),
                       aggregation=_enum(VariableAggregation, aggregation))
        self._variables.append(var)
        return var

    @keras3_positional(("shape", "initializer", "dtype", "aggregation", "name"))
    def add_variable(self, shape=(), initializer="zeros", dtype=None,
                     aggregation="sum", name=None, **kwargs):
        """Keras 3's spelling of ``add_weight`` (shape and initializer first)."""
        return self.add_weight(name=name, shape=shape, dtype=dtype,
                               initializer=initializer, aggregation=aggregation,
                               **kwargs)

    @property
    def variables(self):
        out = list(self._variables)
        for m in self._metrics:
            out.extend(m.variables)
        return out

    weights = variables
    non_trainable_weights = variables
    non_trainable_variables = variables

    @property
    def trainable_weights(self):
        return []

    trainable_variables = trainable_weights

    def __setattr__(self, name, value):
        if isinstance(value, Metric) and name != "_metrics":
            self.__dict__.setdefault("_metrics", []).append(value)
        object.__setattr__(self, name, value)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"Metric {type(self).__name__} must implement "
                                  "`update_state`.")

    def result(self):
        raise NotImplementedError(f"Metric {type(self).__name__} must implement `result`.")

    def reset_state(self):
        """Resets every state variable to zeros."""
        for v in self._variables:
            v.assign(_logic.zeros_like(v))   # on v's device (a CPU strategy on a GPU host)
        for m in self._metrics:
            m.reset_state()

    def reset_states(self):
        return self.reset_state()

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def as_tensor(x, dtype=None):
    from dlframe.core.tensor import convert_to_tensor
    from dlframe.ops import math as _m
    if isinstance(x, Tensor):
        return _m.cast(x, dtype) if dtype is not None and x.dtype != dtype else x
    return convert_to_tensor(x, dtype=dtype)
