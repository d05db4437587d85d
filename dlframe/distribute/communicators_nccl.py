"""``NcclCommunicator``: collectives of several GPUs of this process through NCCL.

The array work lives in ``dlframe.backends.nccl`` (the only layer that may touch
CuPy); here it becomes a primitive over one tensor per replica device, recorded
with ``run_placed`` so tapes differentiate it (the gradient of an all-reduce is
the all-reduce of the output gradients) and compiled steps replay it.
"""

from dlframe.core.primitive import Primitive, run_placed
from dlframe.distribute.communicators import (
    MEAN,
    SUM,
    Communicator,
    InProcessCommunicator,
    reduce_op_name,
)

_PRIMS = {}


def _all_reduce_prim(n):
    """The all-reduce primitive of ``n`` replicas (one input and output each)."""
    prim = _PRIMS.get(n)
    if prim is None:
        # a primitive of one output returns that array itself, not a 1-tuple
        def forward(d, *arrays, engine, op):
            outs = engine._group.all_reduce(arrays, mean=op == MEAN)
            return outs[0] if n == 1 else outs

        def grad(inputs, outs, dys, *, engine, op):
            return list(engine.all_reduce([dys] if n == 1 else list(dys), op))
        prim = _PRIMS[n] = Primitive(f"NcclAllReduce{n}", forward, grad, n_out=n,
                                     stateful=True)
    return prim


class NcclCommunicator(Communicator):
    """All-reduce, broadcast and all-gather of GPU replicas through ``cupy.cuda.nccl``.

    Args:
      devices: the GPU Devices of the local replicas.
      group: an object with ``all_reduce(arrays, mean)``, ``broadcast(arrays, root)``
        and ``all_gather(arrays)`` on raw arrays (default: a
        ``dlframe.backends.nccl.NcclGroup`` over the devices' ordinals).

    Raises:
      ValueError: when a device is not a GPU.
      RuntimeError: when NCCL is not available.
    """

    def __init__(self, devices, group=None):
        super().__init__(devices)
        for d in self.devices:
            if not d.is_gpu:
                raise ValueError(f"NcclCommunicator needs GPU devices, got {d.name!r}")
        if group is None:
            from dlframe.backends.nccl import NcclGroup
            group = NcclGroup([d.index for d in self.devices])
        self._group = group
        self._fallback = InProcessCommunicator(self.devices)

    def all_reduce(self, values, op=SUM):
        values = self._check(values, "all_reduce")
        op = reduce_op_name(op)
        prim = _all_reduce_prim(len(values))
        outs = run_placed(prim, values, {"engine": self, "op": op},
                          self.devices[0], self.devices)
        return [outs] if prim.n_out == 1 else list(outs)

    def broadcast(self, values, root=0):
        values = self._check(values, "broadcast")
        arrays = self._group.broadcast([v._value for v in values], root)
        return _wrap(arrays, self.devices)

    def all_gather(self, values, axis=0):
        values = self._check(values, "all_gather")
        shapes = {tuple(v._value.shape) for v in values}
        if axis != 0 or len(shapes) != 1 or not next(iter(shapes)):
            return self._fallback.all_gather(values, axis)
        arrays = self._group.all_gather([v._value for v in values])
        return _wrap(arrays, self.devices)


def _wrap(arrays, devices):
    from dlframe.core.tensor import Tensor
    return [Tensor(a, d) for a, d in zip(arrays, devices)]
