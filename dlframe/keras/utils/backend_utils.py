"""Keras 3 ``keras.utils`` helpers about tensors, dtypes and batches:
``get_source_inputs``, ``is_keras_tensor``, ``clear_session``, ``standardize_dtype``,
``pack_x_y_sample_weight``/``unpack_x_y_sample_weight`` and ``Config``."""

import json

from dlframe.core import dtypes

# Python types map as Keras maps them (``float`` is floatx, not float64).
_PYTHON_TYPES = {int: "int64", bool: "bool"}


def standardize_dtype(dtype):
    """The canonical dtype name (``'float32'``, ``'int64'``, ...) of ``dtype``.

    Args:
      dtype: None (floatx), a name, a Python/NumPy type or a ``tf.DType``.

    Raises:
      ValueError: ``dtype`` names no dtype.
    """
    from dlframe.keras import backend
    if dtype is None or dtype is float:
        return backend.floatx()
    if isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    if type(dtype) is int:   # tf.as_dtype takes DataType numbers; Keras does not
        raise ValueError(f"Invalid dtype: {dtype}")
    if isinstance(dtype, str):
        if dtype == "int":
            return "int64"
        if dtype in ("float", "str"):
            raise ValueError(f"Invalid dtype: {dtype}")
    try:
        return dtypes.as_dtype(dtype).name
    except (TypeError, ValueError):
        raise ValueError(f"Invalid dtype: {dtype}") from None


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic ``keras.Input``-derived tensor."""
    from dlframe.keras.engine.keras_tensor import KerasTensor
    return isinstance(x, KerasTensor)


def clear_session(free_memory=True):
    """Resets Keras' global state (layer name counters and session callbacks)."""
    from dlframe.keras import backend
    backend.clear_session(free_memory=free_memory)


def get_source_inputs(tensor):
    """The ``keras.Input`` tensors that ``tensor`` was computed from, in first-seen
    order (``[tensor]`` itself for an input)."""
    if not is_keras_tensor(tensor) or tensor._keras_history is None:
        return [tensor]
    sources, seen, stack = [], set(), [tensor]
    while stack:
        kt = stack.pop(0)
        history = kt._keras_history
        node = history[0]._inbound_nodes[history[1]] if history is not None else None
        if node is None or node.is_input or not node.flat_inputs:
            if id(kt) not in seen:
                seen.add(id(kt))
                sources.append(kt)
            continue
        stack[:0] = node.flat_inputs  # depth first keeps the inputs' call order
    return sources


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` of a batch ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``; missing parts are None.

    Raises:
      ValueError: a tuple of more than three items.
    """
    from dlframe.keras.engine import training_data
    return training_data.unpack_x_y_sample_weight(data)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch ``x`` (``(x,)`` when ``x`` is a list/tuple), ``(x, y)`` or
    ``(x, y, sample_weight)``; ``sample_weight`` is dropped when ``y`` is None."""
    from dlframe.keras.engine import training_data
    return training_data.pack_x_y_sample_weight(x, y, sample_weight)


class Config:
    """A dict of settings that also reads and writes as attributes and can be
    frozen against changes (Keras 3 ``keras.utils.Config``)."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self):
        """Whether changes raise."""
        return self._frozen

    def freeze(self):
        """Makes the config read-only."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        """Makes the config writable again."""
        object.__setattr__(self, "_frozen", False)

    def _raise_if_frozen(self):
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self):
        """A shallow copy of the settings as a dict."""
        return dict(self._config)

    def to_json(self):
        """The settings as a JSON string."""
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def get(self, key, default=None):
        return self._config.get(key, default)

    def pop(self, *args):
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._raise_if_frozen()
        self._config.update(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._config[name]
        except KeyError:
            raise AttributeError(f"Unknown attribute: '{name}'.") from None

    def __setattr__(self, name, value):
        self._raise_if_frozen()
        self._config[name] = value

    def __delattr__(self, name):
        self._raise_if_frozen()
        del self._config[name]

    def __getitem__(self, key):
        return self._config[key]

    def __setitem__(self, key, value):
        self.__setattr__(key, value)

    def __delitem__(self, key):
        self.__delattr__(key)

    def __contains__(self, key):
        return key in self._config

    def __len__(self):
        return len(self._config)

    def __iter__(self):
        return iter(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"
