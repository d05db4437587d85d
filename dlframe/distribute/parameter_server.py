"""``tf.distribute.ParameterServerStrategy`` over an in-process cluster.

TF's strategy trains asynchronously: a coordinator (the chief) schedules step
functions onto ``worker`` tasks, the variables live once, spread over ``ps``
tasks. dlframe starts no gRPC servers (DESIGN.md section 7), so the cluster's
workers and parameter servers run inside this process, as in TF's own tests
(``SimpleClusterResolver`` over an in-process cluster on localhost ports):

* every ``worker`` and ``ps`` address must name this machine (``localhost``,
  ``127.0.0.1``, ``::1`` or its host name); a remote host is a clear error;
* variables created in ``strategy.scope()`` exist once (one replica,
  ``num_replicas_in_sync == 1``) and are read and updated by every worker; with a
  ``variable_partitioner`` a variable of rank >= 1 becomes a ``ShardedVariable``
  whose shards report the parameter servers round robin;
* ``ClusterCoordinator`` (``coordinator``) runs the scheduled functions on one
  thread per worker.

``in_process_cluster(num_workers, num_ps)`` builds such a cluster resolver.
"""

import contextlib
import socket

from dlframe.core.variable import variable_creator_scope
from dlframe.distribute import cluster_resolver as _resolvers
from dlframe.distribute.extended import StrategyExtended
from dlframe.distribute.sharded_variable import make_sharded
from dlframe.distribute.strategy import Strategy, _entered

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0", "")


def in_process_cluster(num_workers=2, num_ps=1, has_chief=True, rpc_layer="grpc"):
    """A ``SimpleClusterResolver`` of ``num_workers`` workers and ``num_ps``
    parameter servers on localhost (dlframe's counterpart of TF's
    ``create_in_process_cluster``); this process is the chief.

    Raises:
      ValueError: for fewer than one worker or parameter server.
    """
    if num_workers < 1 or num_ps < 1:
        raise ValueError(f"An in-process cluster needs at least one worker and one ps, "
                         f"got num_workers={num_workers!r}, num_ps={num_ps!r}")
    port = iter(range(20000, 20000 + num_workers + num_ps + 1))
    cluster = {"worker": [f"localhost:{next(port)}" for _ in range(num_workers)],
               "ps": [f"localhost:{next(port)}" for _ in range(num_ps)]}
    if has_chief:
        cluster["chief"] = [f"localhost:{next(port)}"]
    return _resolvers.SimpleClusterResolver(
        _resolvers.ClusterSpec(cluster), task_type="chief" if has_chief else None,
        task_id=0 if has_chief else None, rpc_layer=rpc_layer)


def _host(address):
    address = address.split("://", 1)[-1]
    if address.startswith("["):  # [::1]:port
        return address[1:address.find("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def _is_local(address):
    host = _host(address).lower()
    return host in _LOCAL_HOSTS or host == socket.gethostname().lower()


def validated_cluster(cluster_resolver):
    """The ClusterSpec of ``cluster_resolver`` after TF's checks (non-empty, at least
    one ``ps`` and one ``worker``) and dlframe's (every task on this machine).

    Raises:
      ValueError: naming what is missing or the tasks on remote hosts.
    """
    if not isinstance(cluster_resolver, _resolvers.ClusterResolver):  # as MWMS
        raise ValueError(  # noqa: TRY004
            "`cluster_resolver` must be a tf.distribute.cluster_resolver."
            f"ClusterResolver, got {cluster_resolver!r}")
    spec = cluster_resolver.cluster_spec()
    if not spec:
        raise ValueError("Cluster spec must be non-empty in "
                         "`tf.distribute.cluster_resolver.ClusterResolver`.")
    jobs = spec.jobs
    if "ps" not in jobs or not spec.num_tasks("ps"):
        raise ValueError(f"There must be at least one ps. Cluster: {spec.as_dict()}")
    if "worker" not in jobs or not spec.num_tasks("worker"):
        raise ValueError(f"There must be at least one worker. Cluster: "
                         f"{spec.as_dict()}")
    remote = [f"/job:{job}/task:{i} ({spec.task_address(job, i)})"
              for job in ("worker", "ps") for i in spec.task_indices(job)
              if not _is_local(spec.task_address(job, i))]
    if remote:
        raise ValueError(
            f"ParameterServerStrategy: the cluster names remote tasks {remote}. "
            "dlframe runs the workers and parameter servers of a ParameterServerStrategy "
            "inside this process (an in-process cluster) and cannot reach other hosts; "
            "list them on localhost (see dlframe.distribute.parameter_server."
            "in_process_cluster), or train on several machines with "
            "MultiWorkerMirroredStrategy under mpirun.")
    return spec


class ParameterServerExtended(StrategyExtended):
    """``strategy.extended`` of ParameterServerStrategy: the cluster's sizes, the
    parameter devices and the variable partitioner."""

    def __init__(self, strategy, cluster_spec, variable_partitioner):
        super().__init__(strategy, None)
        self._cluster_spec = cluster_spec
        self._num_workers = cluster_spec.num_tasks("worker")
        self._num_ps = cluster_spec.num_tasks("ps")
        self._variable_partitioner = variable_partitioner
        self._next_ps = 0

    @property
    def parameter_devices(self):
        """The parameter servers' CPU devices."""
        return tuple(f"/job:ps/replica:0/task:{i}/device:CPU:0"
                     for i in range(self._num_ps))

    def _ps_devices_from_next(self, count):
        """``count`` parameter devices round robin, from the next one in turn."""
        devices = self.parameter_devices
        names = [devices[(self._next_ps + i) % len(devices)] for i in range(count)]
        self._next_ps = (self._next_ps + count) % len(devices)
        return names

    def _partitions(self, var):
        """How many shards ``var`` gets from the partitioner (1: not sharded)."""
        partitioner = self._variable_partitioner
        if partitioner is None or var._value.ndim == 0 or not var._value.shape[0]:
            return 1
        parts = partitioner(var.shape, var.dtype)
        try:
            parts = [int(p) for p in parts]
        except TypeError:
            raise ValueError(f"variable_partitioner must return a list of integers, got "
                             f"{parts!r} for {var.name} of shape {var.shape}") from None
        if len(parts) != var._value.ndim or any(p != 1 for p in parts[1:]) or \
                parts[0] < 1:
            raise ValueError(
                f"variable_partitioner returned {parts} for variable {var.name} of "
                f"shape {tuple(var.shape)}: it must give one positive count per axis "
                "and partition only the first axis.")
        return min(parts[0], int(var._value.shape[0]))


class ParameterServerStrategy(Strategy):
    """Asynchronous training over an in-process cluster of workers and parameter
    servers (see the module docstring); use it with
    ``tf.distribute.coordinator.ClusterCoordinator`` or Keras ``fit``.

    Args:
      cluster_resolver: a ClusterResolver whose cluster has ``worker`` and ``ps``
        jobs on this machine.
      variable_partitioner: None, or a partitioner (e.g.
        ``tf.distribute.experimental.partitioners.MinSizePartitioner``) that splits
        variables created in ``scope()`` into shards.

    Raises:
      ValueError: for a missing/empty cluster, no ``ps`` or ``worker`` task, tasks on
        remote hosts, or a ``variable_partitioner`` that is not callable.
    """

    def __init__(self, cluster_resolver, variable_partitioner=None):
        spec = validated_cluster(cluster_resolver)
        if variable_partitioner is not None and not callable(variable_partitioner):
            raise ValueError("`variable_partitioner` must be a callable (shape, dtype) "
                             f"-> partitions, got {variable_partitioner!r}")
        super().__init__(None)
        self._cluster_resolver = cluster_resolver
        self.extended = ParameterServerExtended(self, spec, variable_partitioner)
        self._cluster_coordinator = None

    @property
    def cluster_resolver(self):
        return self._cluster_resolver

    @contextlib.contextmanager
    def scope(self):
        """Variables created inside are the cluster's (sharded by the partitioner)."""
        with _entered(self, None), variable_creator_scope(self._create_variable):
            yield self

    def _create_variable(self, next_creator, **kwargs):
        var = next_creator(**kwargs)
        ext = self.extended
        shards = ext._partitions(var)
        if shards > 1:
            make_sharded(var, shards, ext._ps_devices_from_next(shards))
        return var

    def __repr__(self):
        ext = self.extended
        return (f"<ParameterServerStrategy workers={ext._num_workers} "
                f"ps={ext._num_ps}>")
