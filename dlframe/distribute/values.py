"""Distributed values: ``PerReplica``, ``MirroredVariable`` and ``SyncOnReadVariable``.

A replica runs on one device. The thread running replica ``i`` of a
``strategy.run`` records that device in ``REPLICA`` (a thread-local), and the
distributed variables answer reads by that device:

* ``MirroredVariable`` (trainable weights, optimizer slots; ``ON_WRITE``): one
  logical value with one component per replica device. Updates happen once, in the
  cross-replica context (gradients all-reduced first), and reach every component.
  On logical CPU devices all components **share one host buffer**: the update is
  applied exactly once to it and every replica reads the same memory, so the
  replicas cannot drift. Devices that do not share memory (several GPUs) hold one
  buffer each; writes go to the primary component and are then copied to the
  others (``sync_mirrors``), so the components again hold identical values.
* ``SyncOnReadVariable`` (metric accumulators; ``ON_READ``): one buffer per
  replica; a replica reads and writes its own, a read in the cross-replica context
  combines them (SUM, MEAN or the first replica's).

A trace records a replica's read of a distributed variable as a read of that
replica's component (``replica_inputs``): a compiled step over several GPUs replays
each replica's ops on its own device's buffer, as the eager run does.

The variables stay ``dlframe.Variable`` instances (the class of a variable created
in a multi-replica scope is switched to one of these), so tapes, layers and
optimizers use them unchanged; ``_value``/``_device`` are the only dispatch points.
"""

import threading

from dlframe.core import trace as _trace
from dlframe.core.primitive import call, copy_array, primitive
from dlframe.core.tensor import Tensor
from dlframe.core.variable import (
    Variable,
    VariableAggregation,
    VariableSynchronization,
    _assign_p,
)

_SLOT_VALUE = Tensor._value      # the slot descriptors the subclasses shadow
_SLOT_DEVICE = Tensor._device


class _Replica(threading.local):
    """The replica the current thread runs (None outside ``strategy.run``)."""

    def __init__(self):
        self.device = None
        self.index = None
        self.strategy = None


REPLICA = _Replica()


# ---------------------------------------------------------------- PerReplica
class PerReplica(tuple):
    """One value per replica (``.values``), as ``tf.distribute.DistributedValues``.

    It is a tuple with namedtuple-like ``_fields`` so that ``dlframe.function`` and
    ``tf.nest(..., expand_composites=True)`` flatten it into its per-replica tensors
    and rebuild it; plain ``tf.nest`` calls see one leaf, as TF's composite.
    """

    _dlframe_nest_leaf = True

    def __new__(cls, *values):
        if len(values) == 1 and isinstance(values[0], (list, tuple)) and \
                not isinstance(values[0], PerReplica):
            values = tuple(values[0])
        return super().__new__(cls, values)

    @property
    def _fields(self):
        return tuple(f"replica_{i}" for i in range(len(self)))

    @property
    def values(self):
        return tuple(self)

    def _get(self):
        index = REPLICA.index
        return self[index if index is not None and index < len(self) else 0]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self[0], name)  # shape, dtype... of the first component

    def _show(self, fmt):
        body = ",\n".join(f"  {i}: {fmt(v)}" for i, v in enumerate(self))
        return f"{type(self).__name__}:{{\n{body}\n}}"

    def __repr__(self):
        return self._show(repr)

    def __str__(self):
        return self._show(str)


class PerReplicaSpec(tuple):
    """The type of a PerReplica value: one spec per replica (what a distributed
    dataset's ``element_spec`` holds; usable as a ``tf.function`` input signature).
    """

    def __new__(cls, *specs):
        return super().__new__(cls, specs)

    @property
    def _fields(self):
        return tuple(f"replica_{i}" for i in range(len(self)))

    @property
    def value_type(self):
        return PerReplica

    def __repr__(self):
        return f"PerReplicaSpec({', '.join(repr(s) for s in self)})"

    __str__ = __repr__


class Mirrored(PerReplica):
    """Per-replica values known to be equal (results of an all-reduce)."""


def is_distributed(value):
    return isinstance(value, PerReplica)


@primitive("SyncMirroredVariable", effects=True)
def _sync_p(d, primary, *, mirrors):
    for dev, holder in mirrors:
        copy_array(d, primary, dev, out=holder[0])
    return primary


# ---------------------------------------------------------------- variables
def _aggregation(var):
    agg = var._aggregation
    return agg if isinstance(agg, VariableAggregation) else VariableAggregation.NONE


class DistributedVariable(Variable):
    """Base of the distributed variables (class switched in by ``make_distributed``)."""

    @property
    def _distributed_strategy(self):
        return self.__dict__["_dv_strategy"]

    @property
    def values(self):
        """The components, one Variable per replica device."""
        return tuple(self._component(i) for i in range(len(self._dv_devices)))

    def _local_index(self):
        dev = REPLICA.device
        if dev is None:
            return None
        return self._dv_index.get(dev)


class MirroredVariable(DistributedVariable):
    """A variable mirrored on every replica device (see the module docstring)."""

    @property
    def synchronization(self):
        sync = self._synchronization
        return VariableSynchronization.ON_WRITE if \
            sync is VariableSynchronization.AUTO else sync

    @property
    def _value(self):
        i = self._local_index()
        if i:  # replica 1.. on a device with its own buffer
            holder = self._dv_mirrors[i]
            if holder is not None:
                return holder[0]
        return _SLOT_VALUE.__get__(self)

    @_value.setter
    def _value(self, array):
        _SLOT_VALUE.__set__(self, array)
        mirrors = self.__dict__.get("_dv_mirrors")
        if mirrors:  # a replaced buffer (checkpoint load, reshaping assign)
            primary = _SLOT_DEVICE.__get__(self)
            for dev, holder in zip(self._dv_devices, mirrors):
                if holder is not None:
                    holder[0] = copy_array(primary, array, dev)

    @property
    def _device(self):
        i = self._local_index()
        if i:
            return self._dv_devices[i]
        return _SLOT_DEVICE.__get__(self)

    @_device.setter
    def _device(self, device):
        _SLOT_DEVICE.__set__(self, device)

    def _component(self, i):
        holder = self._dv_mirrors[i]
        if holder is not None:
            return self._live_component(i)
        return _view(self, _SLOT_VALUE.__get__(self), self._dv_devices[i], i)

    def _live_component(self, i):
        """Component ``i`` (a device with its own buffer) as one Variable object that
        reads and writes that buffer, whatever it is replaced by later."""
        live = self.__dict__.setdefault("_dv_live", {})
        comp = live.get(i)
        if comp is None:
            comp = live[i] = _view(self, self._dv_mirrors[i], self._dv_devices[i], i,
                                   cls=_MirrorComponent)
        return comp

    def _replica_input(self):
        """What a trace records when the current replica reads this variable: its
        own component where that is a separate buffer (another GPU), else itself."""
        i = self._local_index()
        if i and self._dv_mirrors[i] is not None:
            return self._live_component(i)
        return self

    def _sync_mirrors(self):
        """Copies the primary buffer to the components that do not share it."""
        pairs = tuple((dev, holder) for dev, holder in
                      zip(self._dv_devices, self._dv_mirrors) if holder is not None)
        if pairs:
            call(_sync_p, (self,), {"mirrors": pairs})

    def __repr__(self):
        return "MirroredVariable:{\n" + ",\n".join(
            f"  {i}: {c!r}" for i, c in enumerate(self.values)) + "\n}"

    __str__ = __repr__


class SyncOnReadVariable(DistributedVariable):
    """A variable with one buffer per replica, combined when read across replicas."""

    @property
    def _value(self):
        i = self._local_index()
        comps = self._dv_components
        if i is not None:
            return comps[i]._value
        agg = _aggregation(self)
        first = comps[0]
        if agg in (VariableAggregation.SUM, VariableAggregation.MEAN):
            total = first._value.copy()
            for c in comps[1:]:
                total += copy_array(c._device, c._value, first._device)
            if agg is VariableAggregation.MEAN:
                total /= len(comps)
            return total
        return first._value

    @_value.setter
    def _value(self, array):
        comps = self.__dict__.get("_dv_components")
        if not comps:
            _SLOT_VALUE.__set__(self, array)
            return
        src = comps[0]._device
        first_only = _aggregation(self) is VariableAggregation.SUM
        for i, c in enumerate(comps):
            value = copy_array(src, array, c._device)
            if first_only and i:
                value[...] = 0
            Tensor._value.__set__(c, value)

    @property
    def _device(self):
        i = self._local_index()
        comps = self.__dict__.get("_dv_components")
        if comps is None:
            return _SLOT_DEVICE.__get__(self)
        return comps[i if i is not None else 0]._device

    @_device.setter
    def _device(self, device):
        _SLOT_DEVICE.__set__(self, device)

    def _component(self, i):
        return self._dv_components[i]

    def _replica_input(self):
        # outside a replica a read combines the components: a replica's own
        i = self._local_index()
        return self if i is None else self._dv_components[i]

    def _sync_mirrors(self):
        pass

    def __repr__(self):
        return "SyncOnReadVariable:{\n" + ",\n".join(
            f"  {i}: {c!r}" for i, c in enumerate(self.values)) + "\n}"

    __str__ = __repr__


class _MirrorComponent(Variable):
    """A mirrored variable's component on a device with its own buffer: reads and
    writes go to the mirror's holder (``[array]``), so a traced graph that captured
    this object follows buffers the variable replaces (checkpoint loads)."""

    @property
    def _value(self):
        return _SLOT_VALUE.__get__(self)[0]

    @_value.setter
    def _value(self, array):
        holder = _SLOT_VALUE.__get__(self)
        holder[0] = array


def _view(var, array, device, index, cls=Variable):
    """A plain Variable object over ``array`` on ``device`` (a component); a
    ``_MirrorComponent`` over the holder ``array`` with ``cls``."""
    comp = cls.__new__(cls)
    _SLOT_VALUE.__set__(comp, array)   # the slots themselves (the holder, for cls)
    _SLOT_DEVICE.__set__(comp, device)
    comp._name = var._name if index == 0 else f"{var._name}/replica_{index}"
    comp._trainable = var._trainable
    comp._constraint = var._constraint
    comp._synchronization = var._synchronization
    comp._aggregation = var._aggregation
    comp._shape = var._shape
    comp._distribute = None
    return comp


def make_distributed(var, strategy, devices, share_host_memory=True):
    """Turns ``var`` (created on ``devices[0]``) into a distributed variable.

    Args:
      var: a Variable freshly created in the strategy's scope.
      strategy: the owning strategy (its ``extended`` handles writes).
      devices: the replica Devices, the first being ``var``'s.
      share_host_memory: on CPU devices, let mirrored components share one buffer.
    """
    primary = var._device
    array = var._value
    index = {dev: i for i, dev in enumerate(devices)}
    sync = var._synchronization
    on_read = sync is VariableSynchronization.ON_READ
    var.__class__ = SyncOnReadVariable if on_read else MirroredVariable
    var._dv_strategy = strategy
    var._dv_devices = tuple(devices)
    var._dv_index = index
    if on_read:
        comps = [_view(var, array, primary, 0)]
        for i, dev in enumerate(devices[1:], 1):
            comps.append(_view(var, copy_array(primary, array, dev), dev, i))
        var._dv_components = comps
    else:
        mirrors = [None]
        for dev in devices[1:]:
            shared = share_host_memory and not dev.is_gpu and not primary.is_gpu
            mirrors.append(None if shared else [copy_array(primary, array, dev)])
        var._dv_mirrors = mirrors
    var._distribute = _Writer(strategy)
    return var


class _Writer:
    """``Variable._distribute``: routes assignments of distributed variables."""

    def __init__(self, strategy):
        self.strategy = strategy

    def assign(self, var, value, op, read_value):
        from dlframe.distribute import strategy as _strategy_mod
        mode = {"assign": "set", "assign_add": "add", "assign_sub": "sub"}[op]
        if isinstance(var, SyncOnReadVariable):
            _assign_on_read(var, value, op)
        elif var._local_index() is not None:
            _strategy_mod.assign_in_replica(var, value, mode)
        else:
            write(var, value, mode)
        return var if read_value else None


def replica_inputs(inputs):
    """``inputs`` of a primitive that a trace records in a replica thread, with each
    distributed variable replaced by the current replica's component (a graph then
    replays every replica's reads and writes on its own device's buffer)."""
    if REPLICA.device is None:
        return inputs
    for t in inputs:
        if isinstance(t, DistributedVariable):
            return tuple(t._replica_input() if isinstance(t, DistributedVariable)
                         else t for t in inputs)
    return inputs


_trace.REPLICA_INPUTS = replica_inputs


def write(var, value, mode):
    """Writes ``value`` into the primary buffer (cross-replica) and syncs mirrors."""
    saved = var._distribute
    var._distribute = None
    try:
        if mode == "set":
            t, reshape = var._coerce(value, "assign")
            if reshape:
                var._value = var._device.xp.array(t._value, copy=True, order="C")
            else:
                call(_assign_p, (var, t), {"mode": "set"})
        else:
            t, _ = var._coerce(value, "assign_add" if mode == "add" else "assign_sub")
            call(_assign_p, (var, t), {"mode": mode})
    finally:
        var._distribute = saved
    var._sync_mirrors()


def _assign_on_read(var, value, op):
    i = var._local_index()
    comps = var._dv_components
    if i is not None:  # a replica updates its own buffer
        getattr(comps[i], op)(_on_device(value, comps[i]._device))
        return
    first_only = _aggregation(var) is VariableAggregation.SUM
    for k, c in enumerate(comps):
        if first_only and k and op != "assign":
            continue  # a delta counts once in the sum
        v = _on_device(value, c._device)
        if first_only and k:
            from dlframe.ops import math as _math
            v = _math.zeros_like(c)
        getattr(c, op)(v)


def _on_device(value, device):
    if isinstance(value, Tensor) and value._device is not device:
        from dlframe.distribute.cross_device import to_device
        return to_device(value, device)
    return value
