"""Copies and reductions of tensors between devices.

A distribution strategy moves data on purpose: an argument to every replica, a
replica's gradient to the device that reduces it, the reduced value back.
``to_device`` is ``core.primitive.copy_to_device``, the one copy primitive: recorded
on tapes (its gradient is the copy back) and in traces (a compiled step replays the
copy); ``core.primitive.run_placed`` runs a primitive whose outputs live on other
devices than its inputs (collectives), recorded the same way.
"""

from dlframe import backends
from dlframe.core.primitive import copy_to_device as to_device
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.distribute.values import DistributedVariable, Mirrored, PerReplica


def divide_by_count(total, count):
    """``total / count`` with the Python number ``count`` made on ``total``'s device
    (a constant made without a device would land on the default GPU while the
    replicas' values sit on logical CPUs)."""
    from dlframe.ops import math as _math
    return _math.divide(total, convert_to_tensor(count, dtype=total.dtype,
                                                 device=total._device))


def _destination_devices(destinations):
    """The Devices named by ``destinations``: a distributed value or variable (its
    components' devices), a Tensor or Variable (its device) or a device name."""
    if isinstance(destinations, (PerReplica, DistributedVariable)):
        return [c._device for c in destinations.values]
    if isinstance(destinations, Tensor):
        return [destinations._device]
    if isinstance(destinations, str):
        return [backends.get_device(destinations)]
    raise ValueError(
        "`destinations` must be a tensor, a variable, a distributed value or a "
        f"device string, got {destinations!r}")


def _copies(tensor, devices):
    """``tensor`` on each of ``devices``: a Tensor for one, else a Mirrored."""
    copies = [to_device(tensor, d) for d in devices]
    return copies[0] if len(copies) == 1 else Mirrored(copies)


class CrossDeviceOps:
    """How values of several replicas are combined: ``reduce``, ``batch_reduce``
    and ``broadcast`` onto destinations, as ``tf.distribute.CrossDeviceOps``.

    Each engine reduces in process (DESIGN.md section 7): the replicas' values are
    copied (recorded, so gradients flow back) to the first destination device and
    summed there; ``MirroredStrategy`` picks NCCL for its own all-reduces on GPUs
    when given ``NcclAllReduce``.
    """

    def reduce(self, reduce_op, per_replica_value, destinations, options=None):
        """Reduces ``per_replica_value`` (a PerReplica, or one value) onto
        ``destinations``.

        Args:
          reduce_op: ``tf.distribute.ReduceOp.SUM``/``MEAN`` or its name.
          per_replica_value: the values to combine.
          destinations: where the result goes: a tensor, a variable, a
            distributed value or a device string.
          options: a ``CommunicationOptions`` (accepted, unused in process).

        Returns:
          A Tensor for one destination device, else a Mirrored value.
        """
        from dlframe.distribute.communicators import MEAN, reduce_op_name
        from dlframe.ops import math as _math
        op = reduce_op_name(reduce_op)
        devices = _destination_devices(destinations)
        # a distributed variable reduces its components (TF: a SUM of a
        # MirroredVariable of 1.0 on 2 replicas is 2.0)
        parts = list(per_replica_value.values) if isinstance(
            per_replica_value, (PerReplica, DistributedVariable)) else [per_replica_value]
        parts = [p if isinstance(p, Tensor) else convert_to_tensor(p) for p in parts]
        accumulate = getattr(self, "accumulation_fn", None) or _math.add_n
        total = accumulate([to_device(p, devices[0]) for p in parts])
        if op == MEAN:
            total = divide_by_count(total, len(parts))
        return _copies(total, devices)

    def batch_reduce(self, reduce_op, value_destination_pairs, options=None):
        """``reduce`` of each ``(per_replica_value, destinations)`` pair; a list."""
        return [self.reduce(reduce_op, value, dest, options)
                for value, dest in value_destination_pairs]

    def broadcast(self, tensor, destinations):
        """``tensor`` copied to every device of ``destinations``."""
        return _copies(convert_to_tensor(tensor), _destination_devices(destinations))


def _check_num_packs(num_packs, what):
    if isinstance(num_packs, bool) or not isinstance(num_packs, int) or num_packs < 0:
        raise ValueError(f"{what} requires num_packs >= 0, but {num_packs} is specified")
    return num_packs


class NcclAllReduce(CrossDeviceOps):
    """All-reduce through NCCL (several GPUs of this process).

    Args:
      num_packs: how many packs gradients are split into (non-negative).
    """

    def __init__(self, num_packs=1):
        self.num_packs = _check_num_packs(num_packs, "NCCL all-reduce")


class HierarchicalCopyAllReduce(CrossDeviceOps):
    """In-process reduction (copies to one device, sums, copies back).

    Args:
      num_packs: how many packs gradients are split into (non-negative).
    """

    def __init__(self, num_packs=1):
        self.num_packs = _check_num_packs(num_packs, "HierarchicalCopy")


class ReductionToOneDevice(CrossDeviceOps):
    """In-process reduction on one device.

    Args:
      reduce_to_device: the device that sums (accepted; the first destination
        device sums here).
      accumulation_fn: the function adding the values (default ``tf.math.add_n``).
    """

    def __init__(self, reduce_to_device=None, accumulation_fn=None):
        self.reduce_to_device = reduce_to_device
        self.accumulation_fn = accumulation_fn
