"""Keras 3's top-level state names: ``keras.Variable``, ``name_scope``, ``device``.

``keras.Variable`` takes Keras 3's arguments (an initializer plus a shape, or a
value) and builds the framework's one Variable type, so ``isinstance(w,
keras.Variable)`` holds for every variable, layer weights included.
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import Variable as _CoreVariable
from dlframe.core.variable import VariableAggregation as _Aggregation
from dlframe.core.variable import VariableSynchronization as _Synchronization
from dlframe.core.variable import name_scope  # noqa: F401 - keras.name_scope
from dlframe.device_scope import device  # noqa: F401 - keras.device
from dlframe.ops.math import cast as _cast

_AGGREGATIONS = {None: _Aggregation.NONE, "none": _Aggregation.NONE,
                 "mean": _Aggregation.MEAN, "sum": _Aggregation.SUM,
                 "only_first_replica": _Aggregation.ONLY_FIRST_REPLICA}
_SYNCHRONIZATIONS = {None: _Synchronization.AUTO, "auto": _Synchronization.AUTO,
                     "on_read": _Synchronization.ON_READ,
                     "on_write": _Synchronization.ON_WRITE,
                     "none": _Synchronization.NONE}


class _AnyVariable(type(_CoreVariable)):
    """Makes ``isinstance(v, keras.Variable)`` true for every framework Variable."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _CoreVariable)


def _lookup(table, value, arg, expected):
    if isinstance(value, (_Aggregation, _Synchronization)):
        return value
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ValueError(f"Invalid value for argument `{arg}`. Expected one of "
                         f"{expected}. Received: {arg}={value}") from None


class Variable(_CoreVariable, metaclass=_AnyVariable):
    """A variable with Keras 3's constructor.

    Args:
      initializer: the initial value (a Tensor, array or Python number) or an
        initializer (an ``Initializer``, its name such as ``'glorot_uniform'``, or a
        callable ``(shape, dtype)``), which then needs ``shape``.
      shape: the variable's shape (required with an initializer).
      dtype: the dtype (default: the value's dtype, ``floatx()`` for initializers).
      trainable: whether gradients update it (default True).
      autocast: kept for Keras compatibility (mixed precision casts on read).
      aggregation: 'none', 'mean', 'sum' or 'only_first_replica'.
      synchronization: 'auto', 'on_read', 'on_write' or 'none'.
      name: the variable's name (the current ``name_scope`` prefixes its ``path``;
        ``name`` itself stays bare, as in Keras 3).

    Raises:
      ValueError: an initializer without ``shape``, a value whose shape differs from
        ``shape``, or an unknown ``aggregation``/``synchronization``.
    """

    def __init__(self, initializer, shape=None, dtype=None, trainable=True,
                 autocast=True, aggregation="none", synchronization="auto", name=None,
                 **kwargs):
        aggregation = _lookup(_AGGREGATIONS, aggregation, "aggregation",
                              "`None`, `'none'`, `'mean'`, `'sum'`, "
                              "`'only_first_replica'`")
        synchronization = _lookup(_SYNCHRONIZATIONS, synchronization,
                                  "synchronization",
                                  "`None`, `'auto'`, `'on_read'`, `'on_write'`, "
                                  "`'none'`")
        if dtype is not None:
            # Keras's spellings: "int" and Python's int are int64, float floatx
            # (imported here: the keras.utils package pulls in the layers)
            from dlframe.keras.utils.backend_utils import standardize_dtype
            dtype = standardize_dtype(dtype)
        if isinstance(initializer, str) or (callable(initializer) and
                                            not isinstance(initializer, Tensor)):
            if shape is None:
                raise ValueError(
                    "When creating a Variable from an initializer, the `shape` "
                    "argument should be specified. Received: "
                    f"initializer={initializer!r} and shape=None")
            from dlframe.keras import initializers
            init = initializers.get(initializer)
            from dlframe import config as _config
            dtype = _dt.as_dtype(dtype or _config.floatx())
            value = init(tuple(shape), dtype=dtype)
        else:
            want = None if dtype is None else _dt.as_dtype(dtype)
            if want is not None and (want.is_bool or want.is_integer):
                # Keras casts here where tf.constant refuses (ints to bool, floats
                # to ints)
                value = _cast(convert_to_tensor(initializer), want)
            else:
                value = convert_to_tensor(initializer, dtype=dtype)
            if shape is not None and tuple(value.shape) != tuple(shape):
                raise ValueError(
                    f"Initial value has shape {tuple(value.shape)}, which differs from "
                    f"the `shape` argument. Received: shape={tuple(shape)}")
        super().__init__(value, trainable=trainable, name=name or "variable",
                         dtype=dtype, aggregation=aggregation,
                         synchronization=synchronization)
        self.autocast = autocast
        # read as the compute dtype in a mixed-precision layer's call (Keras 3)
        self._autocast = bool(autocast) and _dt.from_numpy(
            self._value.dtype).is_floating
        # Keras 3: `name` is the bare name, `path` the name scope plus the name
        self.__dict__["_bare_name"] = name or "variable"

    @property
    def name(self):
        """The name given at construction (Keras 3: no scope, no ':0')."""
        return self.__dict__.get("_bare_name") or super().name
