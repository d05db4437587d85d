"""Global settings and device configuration (``dlframe.config``).

Imports nothing of dlframe (DESIGN.md §2). The backends read the settings kept here
and register the few runtime hooks (memory info, BLAS threading) that this module
forwards to, so the dependency points from backends to config only.
"""

import os
import threading as _threading
from types import SimpleNamespace

# ---------------------------------------------------------------- keras.backend
_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"


def floatx():
    """Returns the default float type as a string, e.g. ``'float32'``."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type ('float16', 'bfloat16', 'float32' or 'float64')."""
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            f"Unknown floatx type: {value!r}; expected one of 'float16', "
            "'bfloat16', 'float32', 'float64'.")
    _FLOATX = str(value)


def epsilon():
    """Returns the fuzz factor used in numeric expressions (default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor used in numeric expressions."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Returns 'channels_last' (the only layout dlframe layers compute in)."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image data format ('channels_last' or 'channels_first')."""
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"Unknown data_format: {data_format!r}")
    _IMAGE_DATA_FORMAT = data_format


# ---------------------------------------------------------------- device choice
def requested_device():
    """The device asked for by env ``DLFRAME_DEVICE`` ('cpu', 'gpu', 'gpu:N'), or None."""
    value = os.environ.get("DLFRAME_DEVICE", "").strip().lower()
    return value or None


class PhysicalDevice(SimpleNamespace):
    """A physical device, as ``tf.config.PhysicalDevice(name, device_type)``."""

    def __hash__(self):
        return hash((self.name, self.device_type))


class LogicalDevice(SimpleNamespace):
    """A logical device, as ``tf.config.LogicalDevice(name, device_type)``."""

    def __hash__(self):
        return hash((self.name, self.device_type))


class LogicalDeviceConfiguration(SimpleNamespace):
    """Configuration of one logical device (``memory_limit`` in MB is advisory)."""

    def __init__(self, memory_limit=None, experimental_priority=None,
                 experimental_device_ordinal=None):
        super().__init__(memory_limit=memory_limit,
                         experimental_priority=experimental_priority,
                         experimental_device_ordinal=experimental_device_ordinal)


VirtualDeviceConfiguration = LogicalDeviceConfiguration

_logical_cpu_count = 1
_logical_gpu_limits = {}
_visible = {}
_memory_growth = {}
_run_functions_eagerly = False
_soft_placement = True
_determinism = False
_lock = _threading.Lock()
_gpu_cache = None


def _nvml_gpus():
    """Names and total memory of the GPUs NVML sees; [] when there is no driver."""
    global _gpu_cache
    if _gpu_cache is not None:
        return _gpu_cache
    found = []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        _gpu_cache = found
        return found
    try:
        import pynvml
    except ImportError:
        _gpu_cache = found
        return found
    try:
        pynvml.nvmlInit()
        try:
            for i in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(i)
                name = pynvml.nvmlDeviceGetName(handle)
                if isinstance(name, bytes):
                    name = name.decode()
                mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
                found.append({"name": name, "memory_total": int(mem.total)})
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        found = []
    except OSError:
        found = []
    _gpu_cache = found
    return found


def gpu_details():
    """NVML facts about each physical GPU: dicts with 'name' and 'memory_total'."""
    return list(_nvml_gpus())


def _check_type(device_type):
    if device_type is None:
        return None
    kind = str(device_type).upper()
    if kind not in ("CPU", "GPU"):
        if kind in ("TPU", "XLA_CPU", "XLA_GPU"):
            return kind
        raise ValueError(f"device_type must be 'CPU' or 'GPU', got {device_type!r}")
    return kind


def list_physical_devices(device_type=None):
    """Lists physical devices ('CPU' and, via NVML, 'GPU'); never raises without a driver.

    Args:
      device_type: 'CPU', 'GPU' or None for all.
    """
    kind = _check_type(device_type)
    out = []
    if kind in (None, "CPU"):
        out.append(PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU"))
    if kind in (None, "GPU"):
        for i, _ in enumerate(_nvml_gpus()):
            out.append(PhysicalDevice(name=f"/physical_device:GPU:{i}", device_type="GPU"))
    return out


def list_logical_devices(device_type=None):
    """Lists logical devices: the configured logical CPUs and one per visible GPU."""
    kind = _check_type(device_type)
    out = []
    if kind in (None, "CPU"):
        for i in range(_logical_cpu_count):
            out.append(LogicalDevice(name=f"/device:CPU:{i}", device_type="CPU"))
    if kind in (None, "GPU"):
        index = 0
        for dev in list_physical_devices("GPU"):
            if _visible.get(dev.name, True) is False:
                continue
            out.append(LogicalDevice(name=f"/device:GPU:{index}", device_type="GPU"))
            index += 1
    return out


def logical_cpu_count():
    """Number of logical CPU devices configured (at least 1)."""
    return _logical_cpu_count


def set_logical_device_configuration(device, logical_devices):
    """Splits a physical device into logical devices.

    For the CPU this creates ``len(logical_devices)`` devices ``cpu:0..N-1`` that all run
    on NumPy; MirroredStrategy uses them to test multi-device code on one machine.

    Args:
      device: a ``PhysicalDevice`` from ``list_physical_devices``.
      logical_devices: a list of ``LogicalDeviceConfiguration``.
    """
    global _logical_cpu_count
    if not isinstance(logical_devices, (list, tuple)) or not logical_devices:
        raise ValueError(
            "logical_devices must be a non-empty list of LogicalDeviceConfiguration, "
            f"got {logical_devices!r}")
    kind = getattr(device, "device_type", None)
    if kind == "CPU":
        with _lock:
            _logical_cpu_count = len(logical_devices)
    elif kind == "GPU":
        _logical_gpu_limits[device.name] = [c.memory_limit for c in logical_devices]
    else:
        raise ValueError(f"device must be a PhysicalDevice, got {device!r}")


set_virtual_device_configuration = set_logical_device_configuration


def get_logical_device_configuration(device):
    """Returns the logical configuration set for ``device``, or None."""
    if getattr(device, "device_type", None) == "CPU" and _logical_cpu_count > 1:
        return [LogicalDeviceConfiguration() for _ in range(_logical_cpu_count)]
    limits = _logical_gpu_limits.get(getattr(device, "name", None))
    if limits is None:
        return None
    return [LogicalDeviceConfiguration(memory_limit=m) for m in limits]


def set_visible_devices(devices, device_type=None):
    """Restricts which physical devices dlframe may use."""
    if isinstance(devices, PhysicalDevice):
        devices = [devices]
    names = {d.name for d in devices}
    for dev in list_physical_devices(device_type):
        _visible[dev.name] = dev.name in names


def get_visible_devices(device_type=None):
    """Returns the physical devices that are visible to dlframe."""
    return [d for d in list_physical_devices(device_type) if _visible.get(d.name, True)]


def run_functions_eagerly(run_eagerly):
    """Makes every ``dlframe.function`` run its Python function eagerly (for debugging)."""
    global _run_functions_eagerly
    _run_functions_eagerly = bool(run_eagerly)


def functions_run_eagerly():
    """Whether ``run_functions_eagerly(True)`` is in effect."""
    return _run_functions_eagerly


def experimental_run_functions_eagerly(run_eagerly):
    """Deprecated TF alias of ``run_functions_eagerly``."""
    run_functions_eagerly(run_eagerly)


def experimental_functions_run_eagerly():
    """Deprecated TF alias of ``functions_run_eagerly``."""
    return functions_run_eagerly()


def set_soft_device_placement(enabled):
    """Kept for TF compatibility: dlframe always places softly (an op without a GPU
    kernel runs on the host; operands on several devices are copied to the op's
    device, as TF copies them)."""
    global _soft_placement
    _soft_placement = bool(enabled)


def get_soft_device_placement():
    """Returns the soft placement flag."""
    return _soft_placement


# ---------------------------------------------------------------- runtime hooks
# The backends register these so that config never imports them (layering).
_hooks = {}


def register_hook(name, fn):
    """Called by the backends to provide runtime services to this module."""
    _hooks[name] = fn


def _call_hook(name, *args):
    fn = _hooks.get(name)
    if fn is None:
        raise RuntimeError(f"dlframe backends are not initialised (hook {name!r})")
    return fn(*args)


def _set_memory_growth(device, enable):
    if getattr(device, "device_type", "GPU") == "CPU":
        raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices")
    _memory_growth[getattr(device, "name", str(device))] = bool(enable)


def _get_memory_growth(device):
    return _memory_growth.get(getattr(device, "name", str(device)), False)


def _get_memory_info(device):
    """Returns {'current': bytes, 'peak': bytes} for a device string like 'GPU:0'."""
    return _call_hook("memory_info", device)


def _reset_memory_stats(device):
    return _call_hook("reset_memory_stats", device)


def _enable_op_determinism():
    global _determinism
    _determinism = True


def _disable_op_determinism():
    global _determinism
    _determinism = False


def op_determinism_enabled():
    """Whether ``experimental.enable_op_determinism`` was called."""
    return _determinism


_synchronous = [True]
_DEVICE_POLICIES = ("warn", "explicit", "silent", "silent_for_int32")
_device_policy = ["silent"]


def _set_synchronous_execution(enable):
    """Records whether ops should run synchronously. dlframe's CPU ops always do; on a
    GPU the flag is recorded only (CuPy kernels run in stream order either way)."""
    _synchronous[0] = True if enable is None else bool(enable)


def _set_device_policy(device_policy):
    """Records the device placement policy (None resets to 'silent').

    dlframe never copies a tensor between devices behind an op's back (DESIGN.md §3)
    whatever the policy; the value is kept so that ``get_device_policy`` returns it.

    Raises:
      ValueError: a policy TF does not know.
    """
    if device_policy is None:
        device_policy = "silent"
    if device_policy not in _DEVICE_POLICIES:
        raise ValueError(
            f"Invalid argument `device_policy`: {device_policy!r}. Please refer to "
            "https://www.tensorflow.org/api_docs/python/tf/config/experimental/"
            "set_device_policy for valid `device_policy` arguments.")
    _device_policy[0] = device_policy


experimental = SimpleNamespace(
    set_synchronous_execution=_set_synchronous_execution,
    get_synchronous_execution=lambda: _synchronous[0],
    set_device_policy=_set_device_policy,
    get_device_policy=lambda: _device_policy[0],
    get_virtual_device_configuration=get_logical_device_configuration,
    set_memory_growth=_set_memory_growth,
    get_memory_growth=_get_memory_growth,
    get_memory_info=_get_memory_info,
    reset_memory_stats=_reset_memory_stats,
    get_memory_usage=lambda device: _get_memory_info(device)["current"],
    enable_op_determinism=_enable_op_determinism,
    disable_op_determinism=_disable_op_determinism,
    list_physical_devices=list_physical_devices,
    list_logical_devices=list_logical_devices,
    set_visible_devices=set_visible_devices,
    get_visible_devices=get_visible_devices,
    set_virtual_device_configuration=set_logical_device_configuration,
    VirtualDeviceConfiguration=LogicalDeviceConfiguration,
    enable_tensor_float_32_execution=lambda enabled: _tf32.__setitem__(0, bool(enabled)),
    tensor_float_32_execution_enabled=lambda: _tf32[0],
    get_device_details=lambda device: (
        {"device_name": gpu_details()[int(device.name.rsplit(":", 1)[1])]["name"]}
        if getattr(device, "device_type", None) == "GPU" else {}),
)
_tf32 = [True]

# ---------------------------------------------------------------- threading
_intra_op_threads = 0
_inter_op_threads = 0


def _set_intra(n):
    global _intra_op_threads
    n = int(n)
    if n < 0:
        raise ValueError(f"num_threads must be >= 0, got {n}")
    _intra_op_threads = n
    hook = _hooks.get("intra_op_threads")
    if hook is not None:
        hook(n)


def _set_inter(n):
    global _inter_op_threads
    n = int(n)
    if n < 0:
        raise ValueError(f"num_threads must be >= 0, got {n}")
    _inter_op_threads = n


def intra_op_threads():
    """Threads for one large op (0 = all cores, TF's default)."""
    return _intra_op_threads or (os.cpu_count() or 1)


threading = SimpleNamespace(
    set_intra_op_parallelism_threads=_set_intra,
    get_intra_op_parallelism_threads=lambda: _intra_op_threads,
    set_inter_op_parallelism_threads=_set_inter,
    get_inter_op_parallelism_threads=lambda: _inter_op_threads,
)

# Graph passes of dlframe.function (TF grappler option names); each can be switched off.
_graph_options = {"constant_folding": True, "common_subgraph_elimination": True,
                  "dependency_optimization": True, "memory_optimization": True,
                  "buffer_reuse": True, "remapping": True,
                  "cuda_graphs": True}


def graph_option(name):
    """Whether graph pass ``name`` is enabled."""
    return _graph_options.get(name, True)


def _set_graph_options(options):
    for key, value in dict(options).items():
        _graph_options[key] = bool(value)


_jit = [""]   # set_jit's recorded mode (dlframe compiles its own graphs either way)


def _set_jit(enabled):
    _jit[0] = "autoclustering" if enabled is True or enabled == "autoclustering" else ""


optimizer = SimpleNamespace(
    set_jit=_set_jit,
    get_jit=lambda: _jit[0],
    set_experimental_options=_set_graph_options,
    get_experimental_options=lambda: dict(_graph_options),
)
