"""``tf.distribute.experimental.CentralStorageStrategy``: compute replicated over the
local devices as ``MirroredStrategy`` does, variables kept on one parameter device.

It is MirroredStrategy's machinery (``strategy.run``, batch splitting, in-process
gradient sums, Keras ``fit``) with one change: each variable's primary buffer --
the one the optimizer updates -- lives on ``parameter_device`` (the CPU when there
are several GPUs, else the one compute device), and the reduced gradients are
brought there before the update. The replicas read it through their components
(on logical CPU devices: the one shared host buffer; on GPUs: copies refreshed
after every update).
"""

import contextlib

from dlframe import backends, config, device_scope
from dlframe.core.variable import VariableSynchronization, variable_creator_scope
from dlframe.distribute.cross_device import to_device
from dlframe.distribute.extended import StrategyExtended, canonical_device_name
from dlframe.distribute.mirrored_strategy import (
    MirroredStrategy,
    _default_mirrored_devices,
)
from dlframe.distribute.values import DistributedVariable, make_distributed


def _default_compute_devices():
    """Every GPU, else the one CPU: unlike MirroredStrategy, TF's default here does
    not use logical CPU devices (TF 2.21 gives one replica on a split CPU)."""
    if backends.default_device().is_gpu:
        return _default_mirrored_devices()
    return ["/cpu:0"]


def _default_parameter_device(compute_devices):
    if len(compute_devices) == 1:
        return compute_devices[0]
    return "/device:CPU:0"


class CentralStorageExtended(StrategyExtended):
    """``strategy.extended`` of CentralStorageStrategy: reduced gradients land on the
    parameter device."""

    def __init__(self, strategy, devices, parameter_device):
        super().__init__(strategy, devices)
        self._parameter_device = parameter_device

    @property
    def parameter_devices(self):
        return (canonical_device_name(self._parameter_device),)

    def _reduce_gradients(self, grads, op="sum"):
        reduced = super()._reduce_gradients(grads, op)
        target = backends.get_device(self._parameter_device)
        return [None if g is None else to_device(g, target) for g in reduced]


class CentralStorageStrategy(MirroredStrategy):
    """Synchronous data parallelism over ``compute_devices`` with the variables on
    ``parameter_device``.

    Args:
      compute_devices: the replicas' devices; None: every GPU, else the CPU (one
        replica, even when the CPU was split into logical devices).
      parameter_device: where the variables live; None: the compute device when
        there is one, else ``/device:CPU:0``.

    Raises:
      ValueError: for an empty or duplicated device list or an unknown device.
    """

    def __init__(self, compute_devices=None, parameter_device=None):
        if isinstance(compute_devices, str):
            compute_devices = [compute_devices]
        if compute_devices is None:
            compute_devices = _default_compute_devices()
        compute_devices = list(compute_devices)
        super().__init__(compute_devices)
        if parameter_device is None:
            parameter_device = _default_parameter_device(compute_devices)
        try:
            backends.get_device(parameter_device)
        except ValueError as exc:
            raise ValueError(f"CentralStorageStrategy: invalid parameter_device "
                             f"{parameter_device!r} (logical CPUs: "
                             f"{config.logical_cpu_count()}): {exc}") from None
        self.extended = CentralStorageExtended(self, compute_devices, parameter_device)
        self._separate_parameters = canonical_device_name(parameter_device) not in \
            self.extended._devices
        if self._separate_parameters:
            self._device = parameter_device  # variables are created there

    @contextlib.contextmanager
    def scope(self):
        """Variables created inside live on the parameter device (see the module
        docstring); ``get_strategy()`` returns this strategy."""
        placement = variable_creator_scope(self._create_variable) \
            if self._separate_parameters else contextlib.nullcontext()
        with super().scope(), placement:
            yield self

    def _create_variable(self, next_creator, **kwargs):
        if kwargs.get("synchronization") is VariableSynchronization.ON_READ:
            with self._on_first_replica():  # one buffer per replica, as mirrored
                return next_creator(**kwargs)
        var = next_creator(**kwargs)
        if isinstance(var, DistributedVariable) or self.num_replicas_in_sync < 2:
            return var
        param = backends.get_device(self.extended._parameter_device)
        if var._device is not param:
            return var  # placed elsewhere on purpose
        devices = [param] + list(self.extended._replica_devices)
        make_distributed(var, self, devices, self.extended._share_host_memory)
        return var

    def _on_first_replica(self):
        return device_scope.device(self.extended._replica_devices[0])

    # the replicas' values are combined on the first replica's device (then the
    # result is copied to the variable's device, see strategy.assign_in_replica)
    def _aggregate_assign(self, agg, value, has_data, dtype):
        with self._on_first_replica():
            return super()._aggregate_assign(agg, value, has_data, dtype)

    def reduce(self, reduce_op, value, axis):
        """As ``MirroredStrategy.reduce`` (the result is on the first compute
        device)."""
        with self._on_first_replica():
            return super().reduce(reduce_op, value, axis)
