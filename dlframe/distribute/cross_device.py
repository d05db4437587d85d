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
from dlframe.core.tensor import Tensor
from dlframe.distribute.values import copy_array


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


class CrossDeviceOps:
    """Base of the cross-device reduction choices (see ``MirroredStrategy``)."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class NcclAllReduce(CrossDeviceOps):
    """All-reduce through NCCL (several GPUs of this process)."""


class HierarchicalCopyAllReduce(CrossDeviceOps):
    """In-process reduction (copies to one device, sums, copies back)."""


class ReductionToOneDevice(CrossDeviceOps):
    """In-process reduction on the first device."""
