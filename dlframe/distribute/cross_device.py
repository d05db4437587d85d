"""Explicit, recorded copies of tensors between devices.

``dlframe`` never moves data silently (DESIGN.md section 3); a distribution
strategy moves it on purpose: an argument to every replica, a replica's gradient to
the device that reduces it, the reduced value back. ``to_device`` is that move as a
primitive whose output lives on the target device. It is recorded on tapes (its
gradient is the copy back) and in traces (a compiled step replays the copy), which
``primitive.call`` cannot do for an output on another device than the inputs.
"""

from dlframe import backends
from dlframe.core.primitive import STATE, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.distribute.values import (
    DistributedVariable,
    Mirrored,
    PerReplica,
    copy_array,
)


@primitive("CopyToDevice")
def _copy_p(d, x, *, source):
    return copy_array(source, x, d)


@_copy_p.defgrad
def _copy_grad(inputs, out, dy, *, source):
    return to_device(dy, source)


def run_recorded(prim, inputs, attrs, device, out_devices):
    """Runs ``prim.forward(device, ...)`` on ``inputs`` (which may live on several
    devices), wraps output ``k`` on ``out_devices[k]`` and records the call on the
    active tapes and trace (recorded with ``device``, as ``primitive.call`` does).

    Returns:
      A Tensor when ``prim.n_out == 1``, else a tuple of Tensors.
    """
    arrays = [t._value for t in inputs]
    if device.is_gpu:
        with device.context():
            result = prim.forward(device, *arrays, **attrs)
    else:
        result = prim.forward(device, *arrays, **attrs)
    if prim.n_out == 1:
        outs = (Tensor(result, out_devices[0]),)
    else:
        outs = tuple(Tensor(r, d) for r, d in zip(result, out_devices))
    state = STATE
    if state.tapes and prim.grad is not None:
        for tape in state.tapes:
            tape._record(prim, tuple(inputs), outs, attrs)
    if state.trace is not None:
        state.trace.record(prim, tuple(inputs), outs, attrs, device)
    return outs[0] if prim.n_out == 1 else outs


def to_device(t, device):
    """``t`` copied to ``device`` (a Device or a name); ``t`` itself if already there."""
    device = backends.get_device(device)
    if t._device is device:
        return t
    return run_recorded(_copy_p, (t,), {"source": t._device}, device, (device,))


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
