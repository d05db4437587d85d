"""``tf.distribute`` strategies: the default strategy, OneDeviceStrategy and a
MirroredStrategy that runs one replica.

The user API is TensorFlow's: ``with strategy.scope():`` creates models, optimizers and
variables (Keras code inside it just works), ``strategy.run(fn, args)`` runs ``fn`` in a
replica context, ``strategy.reduce`` combines its results, datasets are distributed with
``experimental_distribute_dataset`` / ``distribute_datasets_from_function``.

Multi-replica MirroredStrategy (splitting the batch over several devices and
all-reducing gradients through a Communicator, DESIGN.md section 7) is future work:
with one device every replica-level operation is exact and the strategy is a real,
single-replica implementation; with several devices it raises NotImplementedError.
"""

import contextlib
import enum
import threading

from dlframe import device_scope
from dlframe.backends import current_device
from dlframe.core.tensor import Tensor, convert_to_tensor
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


@contextlib.contextmanager
def _entered(strategy, replica):
    _CTX.stack.append((strategy, replica))
    try:
        with strategy._device_scope():
            yield
    finally:
        _CTX.stack.pop()


def _replicas_now():
    return get_strategy().num_replicas_in_sync


_nn_impl.REPLICA_HOOK["num_replicas_in_sync"] = _replicas_now


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
        return convert_to_tensor(self._replica_id, dtype="int32")

    @property
    def devices(self):
        return tuple(self._strategy.extended.worker_devices[self._replica_id:
                                                            self._replica_id + 1])

    def all_reduce(self, reduce_op, value, options=None):
        """Combines ``value`` (a tensor or nest of tensors) over the replicas."""
        _reduce_op(reduce_op)
        return value  # one replica: the sum and the mean of one value are the value

    def all_gather(self, value, axis, options=None):
        return value

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """Runs ``merge_fn(strategy, *args, **kwargs)`` in the cross-replica context."""
        _CTX.stack.append((self._strategy if self._strategy is not _DEFAULT else None,
                           None))
        try:
            return merge_fn(self._strategy, *args, **(kwargs or {}))
        finally:
            _CTX.stack.pop()


# ------------------------------------------------------------------ inputs
class InputContext:
    """What ``distribute_datasets_from_function``'s ``dataset_fn`` is told."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"The `global_batch_size` {global_batch_size} is not "
                             f"divisible by `num_replicas_in_sync` "
                             f"{self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync


class InputOptions:
    """Options of distributed datasets (accepted; one replica needs none)."""

    def __init__(self, experimental_fetch_to_device=None,
                 experimental_replication_mode=None, experimental_place_dataset_on_device=False,
                 experimental_per_replica_buffer_size=1):
        self.experimental_fetch_to_device = experimental_fetch_to_device
        self.experimental_replication_mode = experimental_replication_mode
        self.experimental_place_dataset_on_device = experimental_place_dataset_on_device
        self.experimental_per_replica_buffer_size = experimental_per_replica_buffer_size


class ValueContext:
    """What ``experimental_distribute_values_from_function``'s ``value_fn`` is told."""

    def __init__(self, replica_id_in_sync_group=0, num_replicas_in_sync=1):
        self.replica_id_in_sync_group = replica_id_in_sync_group
        self.num_replicas_in_sync = num_replicas_in_sync


class DistributedDataset:
    """A dataset whose elements are per-replica values (one replica: the elements)."""

    def __init__(self, dataset, strategy):
        self._dataset = dataset
        self._strategy = strategy

    def __iter__(self):
        return iter(self._dataset)

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._dataset, name)

    def __repr__(self):
        return f"<DistributedDataset over {self._dataset!r}>"


# ------------------------------------------------------------------ strategies
def _canonical(name):
    name = str(name)
    low = name.lower().lstrip("/")
    low = low.removeprefix("device:")
    kind, _, index = low.partition(":")
    return f"/job:localhost/replica:0/task:0/device:{kind.upper()}:{index or 0}"


class StrategyExtended:
    """``strategy.extended``: devices and placement details."""

    def __init__(self, strategy, device=None):
        self._strategy = strategy
        self._device = device

    @property
    def _devices(self):
        # the default device is looked up on use: importing dlframe must not probe GPUs
        name = self._device if self._device is not None else current_device().name
        return (_canonical(name),)

    @property
    def worker_devices(self):
        return self._devices

    @property
    def parameter_devices(self):
        return self._devices

    def variable_created_in_scope(self, v):
        return True

    def colocate_vars_with(self, colocate_with_variable):
        return contextlib.nullcontext()

    def non_slot_devices(self, var_list):
        return self._devices

    def update(self, var, fn, args=(), kwargs=None, group=True):
        return fn(var, *args, **(kwargs or {}))

    def value_container(self, value):
        return value


class Strategy:
    """Base of the strategies: scope, run, reduce and dataset distribution.

    Args:
      device: the device name replicas run on, or None for the default device.
    """

    def __init__(self, device=None):
        self._device = device
        self.extended = StrategyExtended(self, device)

    @property
    def num_replicas_in_sync(self):
        """Replicas that take part in each step."""
        return 1

    @property
    def cluster_resolver(self):
        return None

    def _device_scope(self):
        if self._device is None:
            return contextlib.nullcontext()
        return device_scope.device(self._device)

    def scope(self):
        """Context manager: variables, models and optimizers created inside it belong to
        this strategy; ``get_strategy()`` returns it."""
        return _entered(self, None)

    def run(self, fn, args=(), kwargs=None, options=None):
        """Runs ``fn(*args, **kwargs)`` on each replica; returns the per-replica results
        (with one replica: ``fn``'s result)."""
        with _entered(self, ReplicaContext(self, 0)):
            return fn(*args, **(kwargs or {}))

    def reduce(self, reduce_op, value, axis):
        """Combines per-replica ``value`` across replicas and, with ``axis``, along it.

        Args:
          reduce_op: ReduceOp.SUM or ReduceOp.MEAN (or their names).
          value: a per-replica value (a tensor or a nest of tensors).
          axis: None to reduce only across replicas, or the axis to reduce along too
            (MEAN divides by the total number of elements along it).
        """
        op = _reduce_op(reduce_op)
        if axis is None:
            return value

        def along(v):
            v = v if isinstance(v, Tensor) else convert_to_tensor(v)
            fn = _reduction.reduce_sum if op is ReduceOp.SUM else _reduction.reduce_mean
            return fn(v, axis=axis)
        from dlframe.core import nest
        return nest.map_structure(along, value)

    def experimental_local_results(self, value):
        """The per-replica parts of ``value`` as a tuple (one replica: ``(value,)``)."""
        return (value,)

    def gather(self, value, axis):
        """Concatenates per-replica ``value`` along ``axis`` (one replica: ``value``)."""
        return value

    def experimental_distribute_dataset(self, dataset, options=None):
        """Wraps ``dataset`` so each element is split over the replicas."""
        return DistributedDataset(dataset, self)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """Calls ``dataset_fn(InputContext)`` once per input pipeline (here once)."""
        ctx = InputContext(1, 0, self.num_replicas_in_sync)
        return DistributedDataset(dataset_fn(ctx), self)

    experimental_distribute_datasets_from_function = distribute_datasets_from_function

    def experimental_distribute_values_from_function(self, value_fn):
        """Calls ``value_fn(ValueContext)`` per replica; returns the per-replica values."""
        return value_fn(ValueContext(0, self.num_replicas_in_sync))

    def __repr__(self):
        return f"<{type(self).__name__} devices={list(self.extended.worker_devices)}>"


class _DefaultDistributionStrategy(Strategy):
    """What ``get_strategy()`` returns outside any strategy scope."""

    def scope(self):
        return contextlib.nullcontext()


_DEFAULT = _DefaultDistributionStrategy()
_DEFAULT_REPLICA = ReplicaContext(_DEFAULT, 0)


class OneDeviceStrategy(Strategy):
    """Places variables and computation on one ``device`` (e.g. "/gpu:0", "/cpu:0")."""

    def __init__(self, device):
        if not device:
            raise ValueError(f"OneDeviceStrategy needs a device, got {device!r}")
        super().__init__(device)


class MirroredStrategy(Strategy):
    """Synchronous data parallelism over ``devices``; one replica for now.

    Args:
      devices: None (the default device) or a list with one device name. Several devices
        raise NotImplementedError: multi-replica all-reduce is future work.
      cross_device_ops: accepted (one replica needs no cross-device reduction).
    """

    def __init__(self, devices=None, cross_device_ops=None):
        if isinstance(devices, str):
            devices = [devices]
        devices = list(devices) if devices is not None else []
        if len(devices) > 1:
            raise NotImplementedError(
                f"MirroredStrategy with {len(devices)} devices ({devices}) is not supported "
                "yet: dlframe's MirroredStrategy runs one replica; multi-replica all-reduce "
                "is future work. Pass one device or none.")
        self._cross_device_ops = cross_device_ops
        super().__init__(devices[0] if devices else None)


class CrossDeviceOps:
    """Base of the cross-device reduction choices (accepted, unused with one replica)."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class NcclAllReduce(CrossDeviceOps):
    pass


class HierarchicalCopyAllReduce(CrossDeviceOps):
    pass


class ReductionToOneDevice(CrossDeviceOps):
    pass


def experimental_set_strategy(strategy):
    """Makes ``strategy`` current for the thread (None restores the default)."""
    _CTX.stack[:] = [s for s in _CTX.stack if not getattr(s, "_global", False)]
    if strategy is not None:
        entry = _GlobalEntry((strategy, None))
        _CTX.stack.insert(0, entry)


class _GlobalEntry(tuple):
    _global = True
