"""Collective communication between replicas (DESIGN.md section 7).

A ``Communicator`` combines one tensor per local replica: ``all_reduce`` (SUM or
MEAN), ``broadcast`` and ``all_gather``; every result is one tensor per local
replica, on that replica's device. Engines:

* ``InProcessCommunicator``: replicas driven by this process (logical CPU devices,
  or GPUs without NCCL). Values are copied to the first replica's device, combined
  with ordinary ops there and copied back, so the collective is recorded like any
  op: differentiable and replayed by compiled steps.
* ``NcclCommunicator`` (``communicators_nccl``): several GPUs of this process
  through ``cupy.cuda.nccl``.
* ``MpiCommunicator`` (``communicators_mpi``): one replica per process through
  mpi4py (host buffers).

Gradients are reduced in buckets (``bucketed_all_reduce``): the small tensors of
one dtype are flattened into one buffer up to ``bucket_bytes``, so one collective
serves many variables.
"""

from dlframe.distribute.cross_device import divide_by_count, to_device
from dlframe.ops import array as _array
from dlframe.ops import math as _math

SUM = "sum"
MEAN = "mean"
DEFAULT_BUCKET_BYTES = 4 << 20


def reduce_op_name(op):
    """'sum' or 'mean' from a ReduceOp, its name or value (any case)."""
    name = str(getattr(op, "value", op)).lower()
    if name not in (SUM, MEAN):
        raise ValueError(f"`reduce_op` must be ReduceOp.SUM or ReduceOp.MEAN (or 'SUM', "
                         f"'MEAN'), got {op!r}")
    return name


class Communicator:
    """Collectives over the replicas of this process (one tensor per replica).

    Args:
      devices: the Devices of the local replicas, in replica order.
    """

    def __init__(self, devices):
        self.devices = tuple(devices)

    @property
    def num_local_replicas(self):
        return len(self.devices)

    @property
    def world_size(self):
        """Replicas taking part in a collective (over every process)."""
        return len(self.devices)

    def _check(self, values, what):
        values = list(values)
        if len(values) != len(self.devices):
            raise ValueError(f"{type(self).__name__}.{what} expects one value per local "
                             f"replica ({len(self.devices)}), got {len(values)}")
        return values

    def all_reduce(self, values, op=SUM):
        """Sum (or mean) of ``values`` over all replicas, one copy per replica."""
        raise NotImplementedError

    def reduce(self, values, op=SUM, root=0):
        """Sum (or mean) over all replicas, needed only on replica ``root``'s device
        (engines may skip the copies to the others)."""
        return self.all_reduce(values, op)[root]

    def broadcast(self, values, root=0):
        """``values[root]`` on every replica's device."""
        raise NotImplementedError

    def all_gather(self, values, axis=0):
        """The replicas' values concatenated along ``axis``, one copy per replica."""
        raise NotImplementedError


class InProcessCommunicator(Communicator):
    """Collectives of replicas in this process, computed with ops on the first device."""

    def reduce(self, values, op=SUM, root=0):
        values = self._check(values, "reduce")
        op = reduce_op_name(op)
        device = self.devices[root]
        total = None
        for v in values:  # replica order: the same sum on every run
            v = to_device(v, device)
            total = v if total is None else _math.add(total, v)
        if op == MEAN:
            total = divide_by_count(total, len(values))
        return total

    def all_reduce(self, values, op=SUM):
        total = self.reduce(values, op, 0)
        return [to_device(total, d) for d in self.devices]

    def broadcast(self, values, root=0):
        values = self._check(values, "broadcast")
        src = values[root]
        return [to_device(src, d) for d in self.devices]

    def all_gather(self, values, axis=0):
        values = self._check(values, "all_gather")
        root = self.devices[0]
        joined = _array.concat([to_device(v, root) for v in values], axis=axis)
        return [to_device(joined, d) for d in self.devices]


# ---------------------------------------------------------------- buckets
def plan_buckets(tensors, bucket_bytes=DEFAULT_BUCKET_BYTES):
    """Groups tensor indices into buckets: same dtype, at most ``bucket_bytes`` each
    (a bigger tensor gets a bucket of its own). None entries are skipped."""
    open_buckets = {}   # dtype -> (indices, bytes)
    buckets = []
    for i, t in enumerate(tensors):
        if t is None:
            continue
        size = int(t._value.size) * t._value.dtype.itemsize
        key = t._value.dtype
        current = open_buckets.get(key)
        if current is not None and current[1] + size > bucket_bytes:
            buckets.append(current[0])
            current = None
        if current is None:
            current = ([], 0)
        current[0].append(i)
        open_buckets[key] = (current[0], current[1] + size)
    buckets.extend(b for b, _ in open_buckets.values())
    return sorted(buckets, key=lambda b: b[0])


def bucketed_all_reduce(communicator, per_replica, op=SUM,
                        bucket_bytes=DEFAULT_BUCKET_BYTES, root_only=False):
    """All-reduces lists of tensors (one list per replica) bucket by bucket.

    Args:
      communicator: the Communicator of the replicas.
      per_replica: one list of tensors per replica, all lists alike in shapes and
        dtypes; None entries stay None.
      op: 'sum' or 'mean' (or a ReduceOp).
      bucket_bytes: the most bytes packed into one collective.
      root_only: reduce onto the first replica's device only (``reduce``).

    Returns:
      One list per replica of the reduced tensors, on that replica's device (with
      ``root_only`` a single list, on the first replica's device).
    """
    per_replica = [list(p) for p in per_replica]
    first = per_replica[0]
    n_out = 1 if root_only else len(per_replica)
    out = [[None] * len(first) for _ in range(n_out)]

    def collective(values):
        if root_only:
            return [communicator.reduce(values, op, 0)]
        return communicator.all_reduce(values, op)
    for bucket in plan_buckets(first, bucket_bytes):
        if len(bucket) == 1:
            reduced = collective([p[bucket[0]] for p in per_replica])
            for r, value in enumerate(reduced):
                out[r][bucket[0]] = value
            continue
        shapes = [tuple(first[i]._value.shape) for i in bucket]
        flats = [_array.concat([_array.reshape(p[i], [-1]) for i in bucket], axis=0)
                 for p in per_replica]
        sizes = [_count(s) for s in shapes]
        for r, flat in enumerate(collective(flats)):
            parts = _array.split(flat, sizes, axis=0)
            for i, part, shape in zip(bucket, parts, shapes):
                out[r][i] = _array.reshape(part, list(shape))
    return out[0] if root_only else out


def _count(shape):
    n = 1
    for s in shape:
        n *= s
    return n
