"""``tf.distribute.MultiWorkerMirroredStrategy``: synchronous data parallelism over
several processes (workers), each with its local replicas, on MPI.

One worker per process: under ``mpirun -n N python train.py`` (mpi4py installed) the
workers are the ranks of ``MPI.COMM_WORLD``; rank 0 is the chief. Without a launcher
and without a multi-worker ``TF_CONFIG`` -- a tutorial run on one machine -- the
strategy is a single worker over the local devices, as TF's is without ``TF_CONFIG``.
``TF_CONFIG`` naming several workers without MPI is a clear error: dlframe does not
start gRPC servers (DESIGN.md section 7).

Each global batch is split over all ``workers x local replicas`` replicas and each
worker keeps its own rows (TF's DATA auto-sharding, also under AUTO and FILE;
OFF leaves each worker its whole elements). Gradients are summed locally (in-process
or NCCL), then across the workers by MPI (``MultiWorkerCommunicator``), and every
worker applies the same update, so the workers never drift. Variables created in the
scope take rank 0's initial value.
"""

import enum
import importlib.util

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.variable import VariableAggregation, VariableSynchronization
from dlframe.distribute import cluster_resolver as _resolvers
from dlframe.distribute.communicators import MEAN, SUM
from dlframe.distribute.communicators_mpi import MpiCommunicator
from dlframe.distribute.communicators_multi_worker import MultiWorkerCommunicator
from dlframe.distribute.cross_device import to_device
from dlframe.distribute.extended import StrategyExtended
from dlframe.distribute.input import (
    DistributedDataset,
    InputContext,
    check_dataset,
    check_input_options,
)
from dlframe.distribute.mirrored_strategy import _default_mirrored_devices
from dlframe.distribute.strategy import (
    NcclAllReduce,
    ReduceOp,
    ReductionToOneDevice,
    Strategy,
    _is_distributed,
    _map_values,
    _reduce_op,
)
from dlframe.distribute.values import PerReplica
from dlframe.ops import array as _array
from dlframe.ops import logic as _logic
from dlframe.ops import math as _math


class CommunicationImplementation(enum.Enum):
    """Collective implementation choice (``AUTO``, ``RING``, ``NCCL``): NCCL/AUTO
    use NCCL between the GPUs of one worker, RING the in-process reduction; across
    workers dlframe always uses MPI."""

    AUTO = "AUTO"
    RING = "RING"
    NCCL = "NCCL"


CollectiveCommunication = CommunicationImplementation


class CommunicationOptions:
    """Options of the cross-device communication.

    Args:
      bytes_per_pack: the most bytes of gradients packed into one collective
        (0: dlframe's default bucket size).
      timeout_seconds: accepted (MPI collectives do not time out).
      implementation: a ``CommunicationImplementation`` (or its name).

    Raises:
      ValueError: for a negative ``bytes_per_pack`` or an unknown implementation.
    """

    def __init__(self, bytes_per_pack=0, timeout_seconds=None,
                 implementation=CommunicationImplementation.AUTO):
        if bytes_per_pack < 0:
            raise ValueError(f"Argument `bytes_per_pack` must be >=0, Received "
                             f"{bytes_per_pack}.")
        if isinstance(implementation, str):
            try:
                implementation = CommunicationImplementation(implementation.upper())
            except ValueError:
                implementation = None
        if not isinstance(implementation, CommunicationImplementation):  # TF: ValueError
            raise ValueError(  # noqa: TRY004
                "Argument `implementation` must be instance of "
                "`tf.distribute.experimental.CommunicationImplementation`, got "
                f"{implementation!r}.")
        self.bytes_per_pack = bytes_per_pack
        self.timeout_seconds = timeout_seconds
        self.implementation = implementation

    def __repr__(self):
        return (f"Options(bytes_per_pack={self.bytes_per_pack},timeout_seconds="
                f"{self.timeout_seconds}, implementation={self.implementation})")


# ---------------------------------------------------------------- who the workers are
def _needs_mpi(workers, reason):
    return RuntimeError(
        f"The cluster names {workers} workers (TF_CONFIG or the cluster resolver), but "
        "dlframe's multi-worker training runs under MPI: start every worker with "
        f"`mpirun -n {workers} python train.py` (mpi4py installed: pip install "
        f"'dlframe[mpi]'); TF_CONFIG then only needs to describe the cluster. "
        f"Missing: {reason}.")


def _mpi_missing_reason():
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed"
    return "this process was not started by an MPI launcher (mpirun/mpiexec/srun)"


def _resolve(cluster_resolver):
    """(the strategy's cluster resolver, the MPIClusterResolver or None)."""
    if isinstance(cluster_resolver, _resolvers.MPIClusterResolver):
        return cluster_resolver, cluster_resolver if cluster_resolver.size > 1 else None
    if cluster_resolver is not None and not isinstance(cluster_resolver,
                                                       _resolvers.ClusterResolver):
        raise ValueError("`cluster_resolver` must be a tf.distribute.cluster_resolver."
                         f"ClusterResolver, got {cluster_resolver!r}")
    resolver = cluster_resolver or _resolvers.TFConfigClusterResolver()
    wanted = _resolvers.tf_config_worker_count(resolver.cluster_spec())
    if cluster_resolver is not None and wanted <= 1:
        return resolver, None  # an explicit single-worker cluster
    try:
        world = _resolvers.mpi_world_resolver()
    except ImportError as exc:
        raise RuntimeError(f"This process was started by an MPI launcher but mpi4py "
                           f"cannot be imported ({exc}); install it with pip install "
                           "'dlframe[mpi]'.") from None
    if world is None:
        if wanted > 1:
            raise _needs_mpi(wanted, _mpi_missing_reason())
        return resolver, None
    if wanted > 1 and wanted != world.size:
        raise ValueError(f"The cluster names {wanted} workers but MPI started "
                         f"{world.size} processes: run `mpirun -n {wanted} ...`.")
    return world, world


def _cross_device_ops(options):
    impl = options.implementation
    if impl is CommunicationImplementation.RING:
        return ReductionToOneDevice()
    return NcclAllReduce() if impl is CommunicationImplementation.NCCL else None


# ---------------------------------------------------------------- extended
class MultiWorkerExtended(StrategyExtended):
    """``strategy.extended`` of MultiWorkerMirroredStrategy.

    Args:
      strategy: the owning strategy.
      devices: this worker's replica device names.
      options: the CommunicationOptions.
      world: the MPIClusterResolver of the workers, or None for one worker.
    """

    def __init__(self, strategy, devices, options, world):
        super().__init__(strategy, devices, _cross_device_ops(options))
        self._communication_options = options
        self._world = world
        self._multi_worker_communicator = None
        if options.bytes_per_pack:
            self._bucket_bytes = int(options.bytes_per_pack)

    @property
    def _num_workers(self):
        return self._world.size if self._world is not None else 1

    @property
    def _worker_index(self):
        return self._world.rank if self._world is not None else 0

    def _in_multi_worker_mode(self):
        """Whether there are several workers."""
        return self._num_workers > 1

    @property
    def _is_chief(self):
        return self._worker_index == 0

    @property
    def should_checkpoint(self):
        """Whether this worker writes checkpoints (the chief only)."""
        return self._is_chief

    @property
    def should_save_summary(self):
        """Whether this worker writes summaries (the chief only)."""
        return self._is_chief

    @property
    def experimental_should_init(self):
        return True

    @property
    def experimental_between_graph(self):
        return True

    @property
    def worker_devices(self):
        if self._world is None:
            return self._devices
        resolver = self._strategy.cluster_resolver
        prefix = f"/job:{resolver.task_type}/replica:0/task:{resolver.task_id}"
        return tuple(prefix + d[d.index("/device:"):] for d in self._devices)

    @property
    def parameter_devices(self):
        return self.worker_devices

    @property
    def communicator(self):
        """The local engine, or local x MPI with several workers."""
        local = StrategyExtended.communicator.fget(self)
        if self._world is None:
            return local
        if self._multi_worker_communicator is None:
            remote = MpiCommunicator(self._replica_devices[0], comm=self._world.comm,
                                     mpi=self._world.mpi)
            self._multi_worker_communicator = MultiWorkerCommunicator(local, remote)
        return self._multi_worker_communicator


# ---------------------------------------------------------------- strategy
class MultiWorkerMirroredStrategy(Strategy):
    """Synchronous training over several workers (processes), each mirroring the
    variables over its local devices (every GPU, else the CPU).

    ``num_replicas_in_sync`` is workers x local replicas; Keras ``fit`` and custom
    loops (``strategy.run`` + ``strategy.reduce``) run unchanged on every worker.

    Args:
      cluster_resolver: None (MPI ranks under mpirun, else ``TF_CONFIG``), a
        ``TFConfigClusterResolver``/``SimpleClusterResolver`` describing the
        cluster, or an ``MPIClusterResolver``.
      communication_options: a ``tf.distribute.experimental.CommunicationOptions``.

    Raises:
      RuntimeError: when the cluster has several workers but this process is not
        one of several MPI ranks (the message says what is missing).
      ValueError: for bad options, or a cluster size that differs from MPI's.
    """

    def __init__(self, cluster_resolver=None, communication_options=None):
        if communication_options is None:
            communication_options = CommunicationOptions()
        if not isinstance(communication_options, CommunicationOptions):  # TF: ValueError
            raise ValueError(  # noqa: TRY004
                "communication_options must be an instance of tf.distribute."
                "experimental.CommunicationOptions, got "
                f"{communication_options!r}")
        resolver, world = _resolve(cluster_resolver)
        # TF's local devices for a worker: every GPU, else one CPU (however many
        # logical CPU devices the CPU was split into).
        devices = [d for d in _default_mirrored_devices() if "gpu" in d] or ["/cpu:0"]
        super().__init__(devices)
        self._cluster_resolver = resolver
        self.extended = MultiWorkerExtended(self, devices, communication_options, world)

    @property
    def cluster_resolver(self):
        """The cluster resolver (``task_type``/``task_id`` of this worker)."""
        return self._cluster_resolver

    @property
    def _num_workers(self):
        return self.extended._num_workers

    @property
    def _local_replicas(self):
        return len(self.extended._replica_devices)

    @property
    def num_replicas_in_sync(self):
        return self._local_replicas * self._num_workers

    @property
    def _replica_offset(self):
        return self.extended._worker_index * self._local_replicas

    @property
    def _input_worker(self):
        return (self.extended._worker_index, self._num_workers)

    # -- values from several processes -----------------------------------------------
    def _as_per_replica(self, value):
        """A value of this process (not per-replica) as the value of its local
        replicas, so that it is combined across the workers."""
        if _is_distributed(value) or value is None:
            return value
        return PerReplica([value] * self._local_replicas)

    def reduce(self, reduce_op, value, axis):
        """As ``Strategy.reduce``, across every replica of every worker; a plain
        tensor counts as the value of this worker's replicas."""
        if self._num_workers == 1:
            return super().reduce(reduce_op, value, axis)
        op = _reduce_op(reduce_op)
        value = _map_values(self._as_per_replica, value)
        if op is ReduceOp.SUM or axis is None:
            return super().reduce(op, value, axis)
        total = super().reduce(ReduceOp.SUM, value, axis)

        def rows(v):
            parts = self.extended._replica_parts(v, SUM)
            return PerReplica([convert_to_tensor(float(p.shape[axis]), dtype="float64",
                                                 device=p._device) for p in parts])
        counts = super().reduce(ReduceOp.SUM, _map_values(rows, value), None)
        return _divide_nest(total, counts)

    def gather(self, value, axis):
        """Concatenates ``value`` of every replica of every worker along ``axis``
        (worker by worker), on every worker."""
        if self._num_workers == 1:
            return super().gather(value, axis)
        ext = self.extended

        def one(v):
            parts = ext._replica_parts(self._as_per_replica(v), SUM)
            return ext.communicator.all_gather(parts, axis)[0]
        return _map_values(one, value)

    def _sync_new_variable(self, var):
        """Every worker starts from rank 0's initial value (a host broadcast: not
        recorded, since variables are created once, on every worker alike)."""
        if self._num_workers == 1 or \
                var._synchronization is VariableSynchronization.ON_READ:
            return
        comm = self.extended.communicator
        device = var._device
        host = comm.broadcast_host(device.to_numpy(var._value), 0)
        var._value = device.asarray(host).reshape(var._value.shape)

    def _aggregate_assign(self, agg, value, has_data, dtype):
        if self._num_workers == 1:
            return super()._aggregate_assign(agg, value, has_data, dtype)
        ext = self.extended
        value = self._as_per_replica(value)
        if agg is VariableAggregation.ONLY_FIRST_REPLICA:
            first = value[0]
            first = first if isinstance(first, Tensor) else \
                convert_to_tensor(first, dtype=dtype)
            first = to_device(first, ext._replica_devices[0])
            return ext.communicator.remote.broadcast([first], 0)[0]
        if agg is VariableAggregation.SUM:
            return ext.reduce_to(ReduceOp.SUM, value)
        return self._mean_with_data(value, has_data, dtype)

    def _mean_with_data(self, value, has_data, dtype):
        """MEAN over the replicas (of all workers) whose shard was not empty; over
        all of them when every shard was empty."""
        ext = self.extended
        flags = list(has_data) if isinstance(has_data, PerReplica) else \
            [has_data] * len(value)
        parts = ext._replica_parts(value, SUM)
        root = ext._replica_devices[0]
        parts = [to_device(_math.cast(p, dtype), root) for p in parts]
        with_data = [p for p, keep in zip(parts, flags) if keep]
        stacked = _array.stack([_sum(with_data, parts[0]), _sum(parts, parts[0])])
        counts = convert_to_tensor([float(len(with_data)), float(len(parts))],
                                   dtype=stacked.dtype, device=root)
        remote = ext.communicator.remote
        stacked = remote.all_reduce([stacked], SUM)[0]
        counts = remote.all_reduce([counts], SUM)[0]
        use_data = _logic.greater(counts[0], 0)
        return _logic.where(use_data, _math.divide(stacked[0], counts[0]),
                            _math.divide(stacked[1], counts[1]))

    def _combine_logs(self, logs):
        """Keras ``fit``/``evaluate`` logs averaged over the workers (one recorded
        collective for every float scalar): each worker's metrics cover its rows, so
        with equal shards the mean is the metric over the global batches."""
        if self._num_workers == 1 or not isinstance(logs, dict):
            return logs
        keys = [k for k, v in logs.items() if isinstance(v, Tensor) and
                v._value.ndim == 0 and v._value.dtype.kind == "f"]
        if not keys:
            return logs
        root = self.extended._replica_devices[0]
        packed = _array.stack([to_device(_math.cast(logs[k], "float64"), root)
                               for k in keys])
        packed = self.extended.communicator.remote.all_reduce([packed], MEAN)[0]
        out = dict(logs)
        for i, k in enumerate(keys):
            out[k] = _math.cast(packed[i], logs[k].dtype)
        return out

    # -- input ---------------------------------------------------------------------------
    def experimental_distribute_dataset(self, dataset, options=None):
        """Wraps ``dataset`` (global batches) so that each worker takes its rows of
        each batch, split over its replicas (``AutoShardPolicy.OFF``: each worker
        takes its whole elements)."""
        check_input_options(options, from_function=False)
        worker = self._input_worker
        if _auto_shard_off(check_dataset(dataset)):
            worker = (0, 1)
        return DistributedDataset(dataset, self, worker=worker)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """Calls ``dataset_fn(InputContext)`` with ``num_input_pipelines`` = workers
        and ``input_pipeline_id`` = this worker's index; each element of the dataset
        it returns goes to one local replica, in turn."""
        ctx = InputContext(self._num_workers, self.extended._worker_index,
                           self.num_replicas_in_sync)
        check_input_options(options, from_function=True)
        return DistributedDataset(check_dataset(dataset_fn(ctx), True),
                                  self, per_replica_elements=True)

    experimental_distribute_datasets_from_function = distribute_datasets_from_function


def _sum(tensors, like):
    total = _math.zeros_like(like)
    for t in tensors:
        total = _math.add(total, t)
    return total


def _divide_nest(totals, counts):
    from dlframe.distribute.input import _flatten, _map
    flat = iter(_flatten(counts))
    return _map(lambda t: _math.divide(t, _math.cast(next(flat), t.dtype)), totals)


def _auto_shard_off(dataset):
    options = getattr(dataset, "options", None)
    if not callable(options):
        return False
    try:
        policy = options().experimental_distribute.auto_shard_policy
    except AttributeError:
        return False
    return int(getattr(policy, "value", policy)) == -1


class _ExperimentalMultiWorkerMirroredStrategy(MultiWorkerMirroredStrategy):
    """``tf.distribute.experimental.MultiWorkerMirroredStrategy(communication,
    cluster_resolver)`` (TF 2.0's signature).

    Args:
      communication: a ``CommunicationImplementation`` (or its name).
      cluster_resolver: as for ``MultiWorkerMirroredStrategy``.
    """

    def __init__(self, communication=CommunicationImplementation.AUTO,
                 cluster_resolver=None):
        super().__init__(cluster_resolver,
                         CommunicationOptions(implementation=communication))


class TPUStrategy(Strategy):
    """TPUs are not supported by dlframe.

    Raises:
      NotImplementedError: always (construct MirroredStrategy or
        MultiWorkerMirroredStrategy instead).
    """

    def __init__(self, tpu_cluster_resolver=None, experimental_device_assignment=None,
                 experimental_spmd_xla_partitioning=False, **kwargs):
        raise NotImplementedError(
            "dlframe has no TPU support: tf.distribute.TPUStrategy cannot be created. "
            "Use tf.distribute.MirroredStrategy() (all GPUs of this machine, or the "
            "CPU) or tf.distribute.MultiWorkerMirroredStrategy() (several machines "
            "under mpirun).")
