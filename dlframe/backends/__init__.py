"""Device registry: parsing device names, the default device and the placement stack.

Default placement (DESIGN.md §3): env ``DLFRAME_DEVICE`` if set, else ``gpu:0`` when
NVML reports a GPU and CuPy can run a kernel on it, else ``cpu:0``. NVML is asked
first so that a machine without a GPU never imports CuPy.
"""

import re
import threading

from dlframe import config
from dlframe.backends.base import Device, np
from dlframe.backends.numpy_backend import CPUDevice, blas_threads

__all__ = ["Device", "np", "get_device", "default_device", "current_device",
           "push_device", "pop_device", "cpu_devices", "gpu_available", "all_devices"]

_devices = {}
_default = None
_local = threading.local()
_DEVICE_RE = re.compile(
    r"^(?:/job:[^/]+)?(?:/replica:\d+)?(?:/task:\d+)?/?(?:device:)?([a-z_]+)(?::(\d+))?$")


def gpu_available():
    """True when a usable GPU is present (NVML sees one and CuPy runs a kernel)."""
    if not config.gpu_details():
        return False
    from dlframe.backends import cupy_backend
    return cupy_backend.gpu_usable()


def _parse(spec):
    """'/GPU:1', 'gpu:1', '/device:CPU:0', '/job:localhost/.../device:GPU:0' -> (kind, index)."""
    text = str(spec).strip().lower()
    m = _DEVICE_RE.match(text)
    if not m:
        raise ValueError(f"Invalid device specification: {spec!r}; expected e.g. "
                         "'/CPU:0', '/GPU:0' or 'gpu:1'.")
    kind, index = m.group(1), int(m.group(2) or 0)
    if kind in ("xla_cpu",):
        kind = "cpu"
    if kind in ("xla_gpu", "cuda"):
        kind = "gpu"
    if kind not in ("cpu", "gpu"):
        raise ValueError(f"Unknown device type {kind!r} in {spec!r}; expected CPU or GPU.")
    return kind, index


def get_device(spec):
    """Returns the Device for a spec string or Device.

    Raises:
      ValueError: for a malformed spec or a device that does not exist.
    """
    if isinstance(spec, Device):
        return spec
    kind, index = _parse(spec)
    key = (kind, index)
    dev = _devices.get(key)
    if dev is not None:
        return dev
    if kind == "cpu":
        if index >= config.logical_cpu_count():
            raise ValueError(
                f"Device {spec!r} does not exist: {config.logical_cpu_count()} logical "
                "CPU device(s) configured (see config.set_logical_device_configuration).")
        dev = CPUDevice(index)
    else:
        from dlframe.backends import cupy_backend
        count = cupy_backend.gpu_count() if config.gpu_details() else 0
        if index >= count:
            raise ValueError(f"Device {spec!r} does not exist: {count} usable GPU(s).")
        dev = cupy_backend.GPUDevice(index)
    _devices[key] = dev
    return dev


def default_device():
    """The device used when no ``dlframe.device`` scope is active."""
    global _default
    if _default is None:
        wanted = config.requested_device()
        if wanted is not None:
            _default = get_device(wanted)
        elif gpu_available():
            _default = get_device("gpu:0")
        else:
            _default = get_device("cpu:0")
    return _default


def _stack():
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def current_device():
    """The innermost device of ``dlframe.device`` scopes, else the default device."""
    stack = getattr(_local, "stack", None)
    if stack:
        return stack[-1]
    return default_device()


def push_device(device):
    _stack().append(get_device(device))


def pop_device():
    _stack().pop()


def cpu_devices():
    """All configured logical CPU devices."""
    return [get_device(f"cpu:{i}") for i in range(config.logical_cpu_count())]


def all_devices():
    """Every device created so far."""
    return list(_devices.values())


def _memory_info(spec):
    return get_device(spec).memory_info()


def _reset_memory_stats(spec):
    get_device(spec).reset_memory_stats()


def _set_intra(n):
    for dev in _devices.values():
        if isinstance(dev, CPUDevice):
            dev.set_intra_op_threads(n)


config.register_hook("memory_info", _memory_info)
config.register_hook("reset_memory_stats", _reset_memory_stats)
config.register_hook("intra_op_threads", _set_intra)
blas_threads  # re-exported for benchmarks
