"""``tf.train.ExponentialMovingAverage``: shadow copies tracking variables' averages."""

from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.core.variable import Variable
from dlframe.ops import math as _math


_FLOAT_NAMES = ("bfloat16", "float16", "float32", "float64")


class ExponentialMovingAverage:
    """Maintains ``shadow = decay * shadow + (1 - decay) * value`` per variable.

    Args:
      decay: the decay rate (typically close to 1, e.g. 0.999).
      num_updates: optional step count (an int or a Variable); when given the decay
        used is ``min(decay, (1 + num_updates) / (10 + num_updates))``.
      zero_debias: unused; accepted for compatibility.
      name: prefix of the shadow variables' names.

    Example:

    >>> ema = tf.train.ExponentialMovingAverage(decay=0.9)
    >>> v = tf.Variable(1.0)
    >>> ema.apply([v])
    >>> v.assign(2.0)
    >>> ema.apply([v])
    >>> float(ema.average(v))   # 0.9 * 1.0 + 0.1 * 2.0
    1.1
    """

    def __init__(self, decay, num_updates=None, zero_debias=False,
                 name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._name = name
        self._averages = {}

    @property
    def name(self):
        return self._name

    def _decay_value(self):
        decay = convert_to_tensor(self._decay, dtype=dtypes.float32)
        if self._num_updates is None:
            return decay
        n = _math.cast(convert_to_tensor(self._num_updates), dtypes.float32)
        return _math.minimum(decay, (1.0 + n) / (10.0 + n))

    def apply(self, var_list=None):
        """Creates shadow variables (set to the current values) for variables seen for
        the first time and moves every other shadow towards its variable.

        Raises:
          TypeError: an entry of ``var_list`` is not a floating-point Variable.
        """
        var_list = list(var_list or ())
        for var in var_list:
            dtype = getattr(var, "dtype", None)
            if dtype is None or dtypes.as_dtype(dtype).name not in _FLOAT_NAMES:
                raise TypeError("The variables must be half, float, or double: "
                                f"{getattr(var, 'name', var)!s}")
            if not isinstance(var, Variable):
                raise TypeError("tf.train.ExponentialMovingAverage does not support "
                                "non-Variable tensors when eager execution is enabled.")
        decay = self._decay_value()
        for var in var_list:
            key = id(var)
            if key not in self._averages:
                name = var.name.split(":")[0]
                self._averages[key] = (var, Variable(
                    var.read_value(), trainable=False, name=f"{name}/{self._name}"))
                continue
            shadow = self._averages[key][1]
            shadow.assign_sub((shadow - var) * (1.0 - _math.cast(decay, shadow.dtype)))

    def _checkpoint_children(self):
        # stable edges (the order ``apply`` first saw the variables), not ids, so a
        # ``Checkpoint(ema=ema)`` restores in another process
        return [(f"averages/{i}", shadow)
                for i, (_, shadow) in enumerate(self._averages.values())]

    def average(self, var):
        """The shadow variable of ``var`` (None if ``apply`` never saw it)."""
        entry = self._averages.get(id(var))
        return None if entry is None else entry[1]

    def average_name(self, var):
        """The name of ``var``'s shadow variable."""
        return f"{var.name.split(':')[0]}/{self._name}"
