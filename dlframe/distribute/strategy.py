"""``tf.distribute`` strategies: the default strategy, OneDeviceStrategy and
MirroredStrategy (synchronous data parallelism over several devices).

The user API is TensorFlow's: ``with strategy.scope():`` creates models, optimizers and
variables (Keras code inside it just works), ``strategy.run(fn, args)`` runs ``fn``
once per replica in a replica context, ``strategy.reduce`` combines its results,
datasets are distributed with ``experimental_distribute_dataset`` /
``distribute_datasets_from_function``.

With several devices (``MirroredStrategy(["CPU:0", "CPU:1"])`` on logical CPU devices,
or every GPU) each global batch is split over the replicas, ``run`` executes the
step once per replica (``mirrored_run``: one thread per replica, taking turns),
variables created in the scope are mirrored (``values``), ``optimizer.apply_gradients``
all-reduces the gradients through a Communicator (``communicators``) in buckets and
applies one update per variable. The replicas never drift.
"""


import contextlib
import enum
import threading

from dlframe import backends, device_scope
from dlframe.core import variable as _variable_mod
from dlframe.core.primitive import STATE
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import VariableAggregation
from dlframe.distribute.collectives import (
    differentiable_all_reduce,
    merge_all_reduce,
)
from dlframe.distribute.cross_device import (  # noqa: F401 - re-exported
    CrossDeviceOps,
    HierarchicalCopyAllReduce,
    NcclAllReduce,
    ReductionToOneDevice,
    divide_by_count,
    to_device,
)
from dlframe.distribute.extended import StrategyExtended
from dlframe.distribute.input import (
    DistributedDataset,
    InputContext,
    ValueContext,
    check_dataset,
    check_input_options,
)
from dlframe.distribute.values import (
    DistributedVariable,
    PerReplica,
    make_distributed,
    write,
)
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops import nn_impl as _nn_impl
from dlframe.ops import reduction as _reduction


class ReduceOp(enum.Enum):
    """How ``Strategy.reduce`` / ``ReplicaContext.all_reduce`` combine values."""

    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_variable_aggregation(aggregation):
        name = getattr(aggregation, "name", str(aggregation)).upper()
        if name not in ("SUM", "MEAN"):
            raise ValueError(f"Could not convert from `tf.VariableAggregation` "
                             f"{aggregation} to `tf.distribute.ReduceOp` type")
        return ReduceOp[name]


def _reduce_op(op):
    if isinstance(op, ReduceOp):
        return op
    try:
        return ReduceOp(str(op).upper())
    except ValueError:
        raise ValueError(f"`reduce_op` must be ReduceOp.SUM or ReduceOp.MEAN (or 'SUM', "
                         f"'MEAN'), got {op!r}") from None


# ------------------------------------------------------------------ context stack
class _Context(threading.local):
    def __init__(self):
        self.stack = []  # [(strategy, replica_context or None)]


_CTX = _Context()


def _top():
    return _CTX.stack[-1] if _CTX.stack else (None, None)


def get_strategy():
    """The strategy whose scope (or ``run``) is active, else the default strategy."""
    strategy, _ = _top()
    return strategy if strategy is not None else _DEFAULT


def has_strategy():
    """Whether a non-default strategy is active."""
    return _top()[0] is not None


def in_cross_replica_context():
    """True inside ``strategy.scope()`` but outside ``strategy.run``."""
    strategy, replica = _top()
    return strategy is not None and replica is None


def get_replica_context():
    """The current ReplicaContext; None in a cross-replica context."""
    strategy, replica = _top()
    if strategy is None:
        return _DEFAULT_REPLICA
    return replica


def get_cross_replica_context():
    """The active strategy in a cross-replica context, else None."""
    strategy, replica = _top()
    if strategy is None:
        return _DEFAULT
    return strategy if replica is None else None


class _entered:
    """Makes ``strategy`` (and ``replica``'s context) current while entered.

    A class, not a generator, so that ``strategy.scope().__enter__()`` stays
    entered as in TF even when the returned object is dropped; ``with ... as s``
    gives the strategy.
    """

    def __init__(self, strategy, replica):
        self._entry = (strategy, replica)
        self._device = strategy._device_scope()

    def __enter__(self):
        _CTX.stack.append(self._entry)
        try:
            self._device.__enter__()
        except BaseException:
            _CTX.stack.pop()
            raise
        return self._entry[0]

    def __exit__(self, *exc):
        try:
            self._device.__exit__(*exc)
        finally:
            _CTX.stack.pop()
        return False


def _replicas_now():
    return get_strategy().num_replicas_in_sync


def _require_replica_context(caller):
    if in_cross_replica_context():
        raise RuntimeError(f"You are calling `{caller}` in cross replica context, while "
                           "it was expected to be called in replica context.")


_nn_impl.REPLICA_HOOK["num_replicas_in_sync"] = _replicas_now
_nn_impl.REPLICA_HOOK["in_replica_context"] = _require_replica_context


# ------------------------------------------------------------------ replica context
class ReplicaContext:
    """The context of one replica inside ``strategy.run``."""

    def __init__(self, strategy, replica_id_in_sync_group=0):
        self._strategy = strategy
        self._replica_id = replica_id_in_sync_group

    @property
    def strategy(self):
        return self._strategy

    @property
    def num_replicas_in_sync(self):
        return self._strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self):
        if self._strategy is _DEFAULT:
            return 0  # TF's default replica context answers a Python int
        return convert_to_tensor(self._replica_id + self._strategy._replica_offset,
                                 dtype="int32")

    @property
    def devices(self):
        return tuple(self._strategy.extended.worker_devices[self._replica_id:
                                                            self._replica_id + 1])

    def _several(self):
        return self._strategy.num_replicas_in_sync > 1

    def all_reduce(self, reduce_op, value, options=None):
        """Combines ``value`` (a tensor or nest of tensors) over the replicas; every
        replica gets the result on its device."""
        op = _reduce_op(reduce_op)
        if not self._several():
            return value  # one replica: the sum and the mean of one value are the value
        leaves = _flatten_values(value)
        if STATE.tapes and leaves and all(isinstance(v, Tensor) for v in leaves):
            reduced = differentiable_all_reduce(self, op, leaves)
        else:
            reduced = merge_all_reduce(self, op, leaves)
        return _pack_values(value, reduced)

    def all_gather(self, value, axis, options=None):
        """Concatenates the replicas' ``value`` along ``axis``, on every replica."""
        if not self._several():
            return value

        def merge(strategy, value):
            leaves = _flatten_values(value)
            comm = strategy.extended.communicator
            out = []
            for leaf in leaves:
                parts = strategy.extended._replica_parts(leaf, "sum")
                from dlframe.distribute.values import Mirrored
                out.append(Mirrored(comm.all_gather(parts, axis)))
            return _pack_values(value, out)
        return self.merge_call(merge, args=(value,))

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """Runs ``merge_fn(strategy, *args, **kwargs)`` once in the cross-replica
        context; with several replicas their arguments arrive as PerReplica values and
        each replica gets its part of the result."""
        if self._several():
            from dlframe.distribute import mirrored_run
            if mirrored_run.in_replica_thread():
                return mirrored_run.merge_call(merge_fn, args, kwargs)
        _CTX.stack.append((self._strategy if self._strategy is not _DEFAULT else None,
                           None))
        try:
            return merge_fn(self._strategy, *args, **(kwargs or {}))
        finally:
            _CTX.stack.pop()


def _flatten_values(structure):
    from dlframe.distribute.input import _flatten
    return _flatten(structure)


def _pack_values(structure, leaves):
    from dlframe.distribute.input import _map
    it = iter(leaves)
    return _map(lambda _: next(it), structure)


# ------------------------------------------------------------------ strategies
class Strategy:
    """Base of the strategies: scope, run, reduce and dataset distribution.

    Args:
      devices: the replicas' device names (one per replica), or None for one replica
        on the default device.
      cross_device_ops: how values are reduced across devices (see StrategyExtended).
    """

    # global index of this process's first replica, and (worker index, workers) of the
    # input pipeline (MultiWorkerMirroredStrategy: one process per worker)
    _replica_offset = 0
    _input_worker = (0, 1)

    def __init__(self, devices=None, cross_device_ops=None):
        if isinstance(devices, str):
            devices = [devices]
        self._device = devices[0] if devices else None
        self.extended = StrategyExtended(self, devices, cross_device_ops)

    @property
    def num_replicas_in_sync(self):
        """Replicas that take part in each step."""
        return len(self.extended._devices)

    @property
    def cluster_resolver(self):
        return None

    def _device_scope(self):
        if self._device is None:
            return contextlib.nullcontext()
        return device_scope.device(self._device)

    def scope(self):
        """Context manager: variables, models and optimizers created inside it belong to
        this strategy (mirrored over its devices); ``get_strategy()`` returns it.

        Raises:
          RuntimeError: inside the scope of another (non-default) strategy.
        """
        current, _ = _top()
        if current is not None and current is not self:
            raise RuntimeError("Mixing different tf.distribute.Strategy objects: "
                               f"{current!r} is not {self!r}")
        return _entered(self, None)

    def run(self, fn, args=(), kwargs=None, options=None):
        """Runs ``fn(*args, **kwargs)`` once per replica in its replica context.

        PerReplica arguments give each replica its own part; other tensors are copied
        to every replica's device. Returns ``fn``'s result with one replica, else the
        results regrouped: PerReplica where the replicas' results differ.
        """
        if not isinstance(args, (list, tuple)):
            raise ValueError(  # noqa: TRY004 - TF raises ValueError here
                f"positional args must be a list or tuple, got {type(args)}")
        kwargs = kwargs or {}
        from dlframe.distribute import mirrored_run
        if self.num_replicas_in_sync == 1:
            if self._device is not None:   # tensors made elsewhere (a GPU batch for
                device = self.extended._replica_devices[0]   # a CPU replica) go there
                args = mirrored_run.for_replica(0, device, tuple(args))
                kwargs = mirrored_run.for_replica(0, device, dict(kwargs))
            with _entered(self, ReplicaContext(self, 0)):
                return fn(*args, **kwargs)
        if mirrored_run.in_replica_thread():
            raise RuntimeError("strategy.run() was called inside a replica function; "
                               "call it from the cross-replica context.")
        compiled = mirrored_run.compiled_run(self, fn)
        if compiled is not None:
            return compiled(tuple(args), kwargs)
        devices = self.extended._replica_devices
        copies = {}  # every replica's copy of one argument regroups to the argument
        per_args = [mirrored_run.for_replica(i, d, tuple(args), copies)
                    for i, d in enumerate(devices)]
        per_kwargs = [mirrored_run.for_replica(i, d, dict(kwargs), copies)
                      for i, d in enumerate(devices)]
        results = mirrored_run.call_for_each_replica(self, fn, per_args, per_kwargs,
                                                     copies)
        return mirrored_run.regroup(results, sources=copies)

    def reduce(self, reduce_op, value, axis):
        """Combines per-replica ``value`` across replicas and, with ``axis``, along it.

        Args:
          reduce_op: ReduceOp.SUM or ReduceOp.MEAN (or their names).
          value: a per-replica value (a tensor or a nest of tensors).
          axis: None to reduce only across replicas, or the axis to reduce along too
            (MEAN divides by the total number of elements along it over all replicas).

        Returns:
          The reduced value (a nest like ``value``) on the current device.

        Raises:
          ValueError: for a SUM (``axis=None``) of a value that is not per-replica
            with several replicas (TF's rule), or an unknown ``reduce_op``. With an
            ``axis``, such a value counts once per replica, as in TF.
        """
        op = _reduce_op(reduce_op)
        several = self.num_replicas_in_sync > 1

        def one(v):
            if not several or not _is_distributed(v):
                if axis is not None:
                    v = v if isinstance(v, Tensor) else convert_to_tensor(v)
                    fn = _reduction.reduce_sum if op is ReduceOp.SUM else \
                        _reduction.reduce_mean
                    v = fn(v, axis=axis)
                    if several and op is ReduceOp.SUM:   # TF: every replica's copy
                        return v * self.num_replicas_in_sync
                if several and op is ReduceOp.SUM:
                    raise ValueError(f"A non-DistributedValues value {v!s} cannot be "
                                     f"reduced with the given reduce op {op}.")
                return v
            ext = self.extended
            if axis is None:
                return _to_current_device(ext.reduce_to(op, v))
            parts = ext._replica_parts(v, "sum")
            sums = PerReplica([_reduction.reduce_sum(p, axis=axis) for p in parts])
            total = ext.reduce_to(ReduceOp.SUM, sums)
            if op is ReduceOp.MEAN:
                count = sum(int(p.shape[axis]) for p in parts)
                total = divide_by_count(total, count)
            return _to_current_device(total)
        return _map_values(one, value)

    def experimental_local_results(self, value):
        """The per-replica parts of ``value`` as a tuple (one replica: ``(value,)``)."""
        n = self.num_replicas_in_sync
        if isinstance(value, DistributedVariable):
            return value.values
        if n == 1 or not _contains_distributed(value):
            return (value,)
        from dlframe.distribute.mirrored_run import select_replica
        return tuple(select_replica(i, value) for i in range(n))

    unwrap = experimental_local_results   # TF's deprecated name, still in TF2

    def gather(self, value, axis):
        """Concatenates per-replica ``value`` along ``axis`` on the primary device."""
        if self.num_replicas_in_sync == 1:
            return value

        def one(v):
            if not _is_distributed(v):
                return v
            root = self.extended._replica_devices[0]
            parts = [to_device(p, root) for p in self.extended._replica_parts(v, "sum")]
            return _array.concat(parts, axis=axis)
        return _map_values(one, value)

    def experimental_distribute_dataset(self, dataset, options=None):
        """Wraps ``dataset`` so each global batch is split over the replicas."""
        check_input_options(options, from_function=False)
        return DistributedDataset(check_dataset(dataset), self)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """Calls ``dataset_fn(InputContext)`` once (one input pipeline); each element of
        the dataset it returns goes to one replica, in turn. With
        ``InputOptions(experimental_replication_mode=PER_REPLICA)`` it is called once
        per replica (pipeline ``i`` of ``num_replicas_in_sync``) and replica ``i``
        takes the elements of its own dataset, as in TF."""
        n = self.num_replicas_in_sync
        if not check_input_options(options, from_function=True) or n == 1:
            dataset = check_dataset(dataset_fn(InputContext(1, 0, n)), True)
        else:
            datasets = [check_dataset(dataset_fn(InputContext(n, i, n)), True)
                        for i in range(n)]
            turns = type(datasets[0]).range(n).repeat()  # round robin: replica order
            dataset = type(datasets[0]).choose_from_datasets(datasets, turns)
        return DistributedDataset(dataset, self, per_replica_elements=True)

    experimental_distribute_datasets_from_function = distribute_datasets_from_function

    def experimental_distribute_values_from_function(self, value_fn):
        """Calls ``value_fn(ValueContext)`` per replica on its device; returns the
        per-replica values (one replica: the value)."""
        n = self.num_replicas_in_sync
        if n == 1:
            return value_fn(ValueContext(0, 1))
        values = []
        for i, dev in enumerate(self.extended._replica_devices):
            with device_scope.device(dev):
                values.append(value_fn(ValueContext(i, n)))
        return PerReplica(values)

    # -- hooks a strategy spanning several processes overrides ----------------------
    def _sync_new_variable(self, var):
        """Called after ``var`` was mirrored in this strategy's scope."""

    def _combine_logs(self, logs):
        """The training logs of this process's step as reported to the user (a
        strategy over several processes averages them over the workers)."""
        return logs

    def _aggregate_assign(self, agg, value, has_data, dtype):
        """The value an assignment in a replica context writes: the replicas'
        ``value``s combined by the variable's aggregation ``agg`` (SUM, MEAN,
        ONLY_FIRST_REPLICA; NONE is treated as MEAN, so identical values give TF's
        result and different ones never make the copies drift)."""
        ext = self.extended
        if agg is VariableAggregation.ONLY_FIRST_REPLICA:
            return value[0] if isinstance(value, PerReplica) else value
        if isinstance(value, PerReplica) and agg is VariableAggregation.SUM:
            return ext.reduce_to(ReduceOp.SUM, value)
        if isinstance(value, PerReplica):
            return _mean_of_replicas_with_data(ext, value, has_data)
        if agg is VariableAggregation.SUM:
            return _math.multiply(convert_to_tensor(value, dtype=dtype),
                                  self.num_replicas_in_sync)
        return value

    def __repr__(self):
        return f"<{type(self).__name__} devices={list(self.extended.worker_devices)}>"


def _is_distributed(v):
    return isinstance(v, (PerReplica, DistributedVariable))


def _contains_distributed(structure):
    return any(_is_distributed(v) for v in _flatten_values(structure))


def _map_values(fn, structure):
    from dlframe.distribute.input import _map
    if _is_distributed(structure):
        return fn(structure)
    return _map(fn, structure)


class _DefaultDistributionStrategy(Strategy):
    """What ``get_strategy()`` returns outside any strategy scope."""

    def scope(self):
        return contextlib.nullcontext()

    def experimental_distribute_dataset(self, dataset, options=None):
        """The dataset itself (TF's default strategy does not wrap it)."""
        return dataset

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """``dataset_fn(InputContext())``: the one input pipeline."""
        return dataset_fn(InputContext())

    experimental_distribute_datasets_from_function = distribute_datasets_from_function


_DEFAULT = _DefaultDistributionStrategy()
_DEFAULT_REPLICA = ReplicaContext(_DEFAULT, 0)


def experimental_set_strategy(strategy):
    """Makes ``strategy`` current for the thread (None restores the default)."""
    _CTX.stack[:] = [s for s in _CTX.stack if not getattr(s, "_global", False)]
    if strategy is not None:
        entry = _GlobalEntry((strategy, None))
        _CTX.stack.insert(0, entry)


class _GlobalEntry(tuple):
    _global = True


# ------------------------------------------------------------------ variables
def _on_variable_created(var):
    """Mirrors a variable created in a multi-replica strategy's scope or replica
    function (``Variable.__init__`` calls this hook)."""
    strategy, _ = _top()
    if strategy is None or strategy.num_replicas_in_sync < 2:
        return
    devices = strategy.extended._replica_devices
    if var._device is not devices[0]:
        return  # created on another device on purpose: left alone
    make_distributed(var, strategy, devices, strategy.extended._share_host_memory)
    strategy._sync_new_variable(var)


_variable_mod.ON_CREATE = _on_variable_created


def assign_in_replica(var, value, mode):
    """An assignment of a mirrored variable inside a replica: the replicas' values are
    combined by the variable's aggregation (``Strategy._aggregate_assign``) and
    written once."""
    agg = var._aggregation
    ctx = get_replica_context()
    if isinstance(value, (list, tuple)):   # [rid, rid]: one per-replica tensor
        value = convert_to_tensor(value, dtype=var.dtype)

    def merge(strategy, value, has_data):
        v = strategy._aggregate_assign(agg, value, has_data, var.dtype)
        if isinstance(v, Tensor):
            v = to_device(v, var._device)  # its primary buffer's device
        write(var, v, mode)
    ctx.merge_call(merge, args=(value, getattr(ctx, "_has_data", True)))


def _to_current_device(total):
    """A reduced value on the current device (TF: the current device's, else the
    host's): the cross-replica code that reads it runs there, e.g. a GPU
    program's accumulator summing a CPU-split strategy's results."""
    if isinstance(total, Tensor):
        return to_device(total, backends.current_device())
    return total


def _mean_of_replicas_with_data(ext, value, has_data):
    """MEAN over the replicas whose input shard was not empty (an empty shard's
    statistics are NaN: it must not vote), over all of them if none is flagged."""
    flags = list(has_data) if isinstance(has_data, PerReplica) else [has_data] * len(value)
    parts = [p for p, keep in zip(value, flags) if keep] or list(value)
    root = ext._replica_devices[0]
    total = None
    for p in parts:
        p = to_device(p if isinstance(p, Tensor) else convert_to_tensor(p), root)
        total = p if total is None else _math.add(total, p)
    mean = divide_by_count(total, len(parts))
    # integer variables (counters) stay integers: true division made a float
    return mean if mean.dtype == total.dtype else _math.cast(mean, total.dtype)


_MOVED = ("MirroredStrategy", "OneDeviceStrategy", "_default_mirrored_devices")


def __getattr__(name):
    # re-exported lazily: mirrored_strategy builds on Strategy, defined here
    if name in _MOVED:
        from dlframe.distribute import mirrored_strategy
        return getattr(mirrored_strategy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
