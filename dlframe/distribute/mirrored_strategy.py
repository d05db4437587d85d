"""The single-process strategies over explicit devices: ``OneDeviceStrategy`` and
``MirroredStrategy`` (synchronous data parallelism, one replica per device), and the
default device list MirroredStrategy uses when given none.
"""

from dlframe import backends, config
from dlframe.distribute.extended import canonical_device_name
from dlframe.distribute.strategy import Strategy


class OneDeviceStrategy(Strategy):
    """Places variables and computation on one ``device`` (e.g. "/gpu:0", "/cpu:0")."""

    def __init__(self, device):
        if not device:
            raise ValueError(f"OneDeviceStrategy needs a device, got {device!r}")
        super().__init__([device])


def _default_mirrored_devices():
    """Every GPU, else every logical CPU device (TF's default device list: one CPU
    unless ``tf.config.set_logical_device_configuration`` split it)."""
    default = backends.default_device()
    if default.is_gpu:
        from dlframe.backends import cupy_backend
        return [f"/gpu:{i}" for i in range(cupy_backend.gpu_count())]
    return [f"/cpu:{i}" for i in range(config.logical_cpu_count())]


class MirroredStrategy(Strategy):
    """Synchronous data parallelism over ``devices``, one replica per device.

    Each global batch is split over the replicas, the step runs once per replica,
    gradients are summed across replicas (all-reduce through the strategy's
    Communicator, in buckets) and every variable gets one identical update.

    Args:
      devices: device names ("CPU:0", "/gpu:1", "/job:localhost/replica:0/task:0/
        device:CPU:1"); None: every GPU, or every logical CPU when there is none
        (TF's default; one unless the CPU was split). Several CPU
        devices need logical CPUs (``tf.config.set_logical_device_configuration``).
      cross_device_ops: ``NcclAllReduce()`` (GPUs; the default there when NCCL is
        available), ``HierarchicalCopyAllReduce()`` or ``ReductionToOneDevice()``
        (in-process reduction).

    Raises:
      ValueError: for an empty or duplicated device list, or a device name that is
        malformed or names a device that does not exist.
    """

    def __init__(self, devices=None, cross_device_ops=None):
        if isinstance(devices, str):
            devices = [devices]
        if devices is None:
            devices = _default_mirrored_devices()
        devices = list(devices)
        if not devices:
            raise ValueError("Must specify at least one device in `devices`, got "
                             f"{devices!r}")
        canonical = []
        for name in devices:
            try:
                backends.get_device(name)
            except ValueError as exc:
                raise ValueError(f"MirroredStrategy: invalid device {name!r} in "
                                 f"devices={devices}: {exc}") from None
            canonical.append(canonical_device_name(name))
        if len(set(canonical)) != len(canonical):
            raise ValueError(f"No duplicates allowed in `devices` argument: {devices}")
        self._cross_device_ops = cross_device_ops
        super().__init__(devices, cross_device_ops)
