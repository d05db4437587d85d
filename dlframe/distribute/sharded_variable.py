"""``ShardedVariable``: a variable of ``ParameterServerStrategy`` split along its
first axis into shards (``variable_partitioner``).

In TF each shard lives on its own parameter server. dlframe's parameter servers are
in-process (``parameter_server``), so the shards are views of one buffer: the
variable still behaves as one variable in every op, tape, optimizer and checkpoint,
and ``.variables`` are real Variables over its rows (``w/part_0``, ``w/part_1``...)
whose writes reach the whole. TF's split is kept: with ``n`` rows in ``k`` shards
the first ``n % k`` shards hold one row more.
"""

from dlframe.core.tensor import Tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.core.variable import Variable

_SLOT_VALUE = Tensor._value


def shard_sizes(rows, num_shards):
    """Rows per shard: ``rows // num_shards``, one more for the first
    ``rows % num_shards`` shards."""
    base, extra = divmod(rows, num_shards)
    return [base + (1 if i < extra else 0) for i in range(num_shards)]


class _Shard(Variable):
    """One shard: a Variable over rows ``[start, stop)`` of its ShardedVariable."""

    @property
    def _value(self):
        full = self.__dict__["_sv_parent"]
        start, stop = self.__dict__["_sv_rows"]
        return _SLOT_VALUE.__get__(full)[start:stop]

    @_value.setter
    def _value(self, array):
        parent = self.__dict__.get("_sv_parent")
        if parent is None:  # Tensor.__init__ on creation
            _SLOT_VALUE.__set__(self, array)
            return
        start, stop = self.__dict__["_sv_rows"]
        parent._device.xp.copyto(_SLOT_VALUE.__get__(parent)[start:stop], array)

    @property
    def device(self):
        return self.__dict__["_sv_device_name"]


class ShardedVariable(Variable):
    """A variable split into shards along axis 0 (see the module docstring).

    ``variables`` are the shards; iterating the variable yields them (as TF's
    ShardedVariable does). Everything else is the whole variable's.
    """

    @property
    def _value(self):
        return _SLOT_VALUE.__get__(self)

    @_value.setter
    def _value(self, array):
        shards = self.__dict__.get("_sv_shards")
        current = _SLOT_VALUE.__get__(self) if shards else None
        if current is not None and current.shape == array.shape:
            self._device.xp.copyto(current, array)  # shards keep viewing it
            return
        _SLOT_VALUE.__set__(self, array)
        if shards:  # a reshaping assign: the rows are split again
            _split(self, len(shards), self.__dict__["_sv_devices"])

    @property
    def variables(self):
        """The shards, in row order."""
        return list(self._sv_shards)

    def __iter__(self):
        return iter(self._sv_shards)

    def __repr__(self):
        parts = ", ".join(f"{s.name} {tuple(s.shape)}" for s in self._sv_shards)
        return (f"<ShardedVariable '{self.name}' shape={tuple(self.shape)} "
                f"dtype={self.dtype.name}, shards=[{parts}]>")

    __str__ = __repr__


def _split(var, num_shards, device_names):
    sizes = shard_sizes(int(var._value.shape[0]), num_shards)
    shards, start = [], 0
    for i, size in enumerate(sizes):
        shard = _Shard.__new__(_Shard)
        shard.__dict__.update(_sv_parent=None, _sv_rows=(start, start + size),
                              _sv_device_name=device_names[i % len(device_names)])
        Tensor.__init__(shard, _SLOT_VALUE.__get__(var)[start:start + size],
                        var._device)
        shard.__dict__["_sv_parent"] = var
        shard._name = f"{var._name}/part_{i}"
        shard._trainable = var._trainable
        shard._constraint = var._constraint
        shard._synchronization = var._synchronization
        shard._aggregation = var._aggregation
        shard._shape = TensorShape((size,) + tuple(var._value.shape[1:]))
        shard._distribute = None
        shards.append(shard)
        start += size
    var.__dict__["_sv_shards"] = shards


def make_sharded(var, num_shards, device_names):
    """Turns ``var`` (a fresh Variable of rank >= 1) into a ShardedVariable of
    ``num_shards`` shards; shard ``i`` reports ``device_names[i % len]``."""
    var.__class__ = ShardedVariable
    var.__dict__["_sv_devices"] = tuple(device_names)
    var.__dict__["_sv_shards"] = None
    _split(var, num_shards, device_names)
    return var
