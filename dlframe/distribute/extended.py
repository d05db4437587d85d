"""``strategy.extended``: replica devices, the communicator and cross-replica reductions.

Reductions across replicas go through the strategy's Communicator (DESIGN.md
section 7): gradients in buckets (``bucketed_all_reduce``), ``strategy.reduce`` and
``ReplicaContext.all_reduce`` leaf by leaf. The first replica device is the primary:
``strategy.reduce`` results, optimizer updates and mirrored variables' primary
buffers live there.
"""

import contextlib

from dlframe import backends
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.distribute.communicators import (
    DEFAULT_BUCKET_BYTES,
    SUM,
    InProcessCommunicator,
    bucketed_all_reduce,
    reduce_op_name,
)
from dlframe.distribute.cross_device import to_device
from dlframe.distribute.values import DistributedVariable, PerReplica
from dlframe.ops import math as _math


def canonical_device_name(name):
    """'/cpu:0', 'CPU:0', '/device:GPU:1', full names -> TF's full device string."""
    kind, index = backends._parse(name)
    return f"/job:localhost/replica:0/task:0/device:{kind.upper()}:{index}"


class StrategyExtended:
    """``strategy.extended``: devices, placement, reductions and variable updates.

    Args:
      strategy: the owning strategy.
      devices: device names of the replicas, or None for the current device.
      cross_device_ops: a ``CrossDeviceOps`` choosing the communicator engine
        (``NcclAllReduce`` on GPUs; anything else: in-process reduction).
    """

    def __init__(self, strategy, devices=None, cross_device_ops=None):
        self._strategy = strategy
        self._names = None if devices is None else tuple(devices)
        self._cross_device_ops = cross_device_ops
        self._communicator = None
        # logical CPU devices share the host buffer of a mirrored variable (values.py)
        self._share_host_memory = True
        self._bucket_bytes = DEFAULT_BUCKET_BYTES

    # -- devices ---------------------------------------------------------------------
    @property
    def _devices(self):
        # the default device is looked up on use: importing dlframe must not probe GPUs
        if self._names is None:
            return (canonical_device_name(backends.current_device().name),)
        return tuple(canonical_device_name(n) for n in self._names)

    @property
    def _replica_devices(self):
        """The replicas' Device objects, in replica order."""
        if self._names is None:
            return (backends.current_device(),)
        return tuple(backends.get_device(n) for n in self._names)

    @property
    def worker_devices(self):
        return self._devices

    @property
    def parameter_devices(self):
        return self._devices

    # one process: it initializes, checkpoints and writes summaries itself
    @property
    def experimental_between_graph(self):
        return False

    @property
    def experimental_should_init(self):
        return True

    @property
    def should_checkpoint(self):
        return True

    @property
    def should_save_summary(self):
        return True

    @property
    def experimental_require_static_shapes(self):
        return False

    def non_slot_devices(self, var_list):
        return self._devices

    def colocate_vars_with(self, colocate_with_variable):
        return contextlib.nullcontext()

    def variable_created_in_scope(self, v):
        if len(self._devices) == 1:
            return True
        return isinstance(v, DistributedVariable) and \
            v._distributed_strategy is self._strategy

    # -- communication ---------------------------------------------------------------
    @property
    def communicator(self):
        """The Communicator of the replicas (created on first use)."""
        if self._communicator is None:
            devices = self._replica_devices
            comm = None
            wants_nccl = type(self._cross_device_ops).__name__ == "NcclAllReduce" or \
                self._cross_device_ops is None
            if wants_nccl and len(devices) > 1 and all(d.is_gpu for d in devices):
                from dlframe.backends.nccl import nccl_available
                if nccl_available():
                    from dlframe.distribute.communicators_nccl import NcclCommunicator
                    comm = NcclCommunicator(devices)
            self._communicator = comm or InProcessCommunicator(devices)
        return self._communicator

    def _replica_parts(self, value, op):
        """One tensor per replica for ``value`` (PerReplica, distributed variable or a
        value every replica holds); None when there is nothing to reduce."""
        devices = self._replica_devices
        if isinstance(value, PerReplica):
            parts = list(value)
            present = next((p for p in parts if p is not None), None)
            if present is None:
                return None
            parts = [p if p is not None else _math.zeros_like(present) for p in parts]
            return [p if isinstance(p, Tensor) else convert_to_tensor(p, device=d)
                    for p, d in zip(parts, devices)]
        if isinstance(value, DistributedVariable):
            return [c.value() for c in value.values]
        if value is None:
            return None
        t = value if isinstance(value, Tensor) else convert_to_tensor(value)
        return [to_device(t, d) for d in devices]

    def _reduce_list(self, op, values, root_only):
        """Reduces a list of per-replica values; each result is a Tensor on the
        primary device (``root_only``) or a Mirrored of per-replica copies."""
        op = reduce_op_name(op)
        per_value = [self._replica_parts(v, op) for v in values]
        n = len(self._replica_devices)
        per_replica = [[p[i] if p is not None else None for p in per_value]
                       for i in range(n)]
        reduced = bucketed_all_reduce(self.communicator, per_replica, op,
                                      self._bucket_bytes, root_only=root_only)
        if root_only:
            return reduced
        from dlframe.distribute.values import Mirrored
        return [None if reduced[0][k] is None else Mirrored([r[k] for r in reduced])
                for k in range(len(values))]

    def _reduce_gradients(self, grads, op=SUM):
        """Gradients (PerReplica or None, one per variable) -> reduced Tensors (or
        None) on the primary device."""
        return self._reduce_list(op, list(grads), root_only=True)

    def reduce_to(self, reduce_op, value, destinations=None, options=None):
        """Reduces a per-replica ``value`` onto the primary device."""
        return self._reduce_list(reduce_op, [value], root_only=True)[0]

    def batch_reduce_to(self, reduce_op, value_destination_pairs, options=None):
        """Reduces several ``(value, destinations)`` pairs in bucketed collectives."""
        return self._reduce_list(reduce_op, [v for v, _ in value_destination_pairs],
                                 root_only=True)

    def broadcast_to(self, tensor, destinations):
        """``tensor`` copied to every device of ``destinations`` (a Mirrored for
        several devices)."""
        from dlframe.distribute.cross_device import CrossDeviceOps
        return CrossDeviceOps().broadcast(tensor, destinations)

    def call_for_each_replica(self, fn, args=(), kwargs=None):
        """Runs ``fn`` once per replica, as ``strategy.run`` (TF 1's spelling)."""
        return self._strategy.run(fn, args=args, kwargs=kwargs)

    def _all_reduce_leaves(self, op, leaves):
        """All-reduce of per-replica leaves; Mirrored results (one copy per replica)."""
        return self._reduce_list(op, leaves, root_only=False)

    # -- variables -------------------------------------------------------------------
    def update(self, var, fn, args=(), kwargs=None, group=True):
        """Runs ``fn(var, *args, **kwargs)`` once on the primary buffer in the
        cross-replica context and brings the other components up to date."""
        result = fn(var, *args, **(kwargs or {}))
        if isinstance(var, DistributedVariable):
            var._sync_mirrors()
        return result

    def value_container(self, value):
        return value

    def read_var(self, var):
        return var.read_value()

