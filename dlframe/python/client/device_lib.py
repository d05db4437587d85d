"""``device_lib.list_local_devices()``: the devices this process can run on."""

import random

from dlframe import config


class DeviceAttributes:
    """One device, with the fields of TF's ``DeviceAttributes`` message.

    Attributes:
      name: e.g. ``"/device:GPU:0"``.
      device_type: ``"CPU"`` or ``"GPU"``.
      memory_limit: bytes available to the device (0 when unknown).
      incarnation: a random id of this device instance.
      physical_device_desc: ``"device: 0, name: ..., compute capability: 9.0"`` for
        GPUs, empty for the CPU.
    """

    def __init__(self, name, device_type, memory_limit, physical_device_desc):
        self.name = name
        self.device_type = device_type
        self.memory_limit = memory_limit
        self.incarnation = random.getrandbits(63)
        self.physical_device_desc = physical_device_desc
        self.xla_global_id = -1

    def __repr__(self):
        lines = [f'name: "{self.name}"', f'device_type: "{self.device_type}"',
                 f"memory_limit: {self.memory_limit}", "locality {", "}",
                 f"incarnation: {self.incarnation}"]
        if self.physical_device_desc:
            lines.append(f'physical_device_desc: "{self.physical_device_desc}"')
        lines.append(f"xla_global_id: {self.xla_global_id}")
        return "\n".join(lines) + "\n"

    __str__ = __repr__


_CPU_MEMORY_LIMIT = 268435456   # what TF reports for its CPU device


def list_local_devices(session_config=None):
    """Returns a ``DeviceAttributes`` per local device (the CPU first, then GPUs).

    Args:
      session_config: accepted for TF compatibility; unused.
    """
    out = [DeviceAttributes("/device:CPU:0", "CPU", _CPU_MEMORY_LIMIT, "")]
    for i, dev in enumerate(config.list_physical_devices("GPU")):
        details = config.experimental.get_device_details(dev)
        cc = details.get("compute_capability")
        desc = f"device: {i}, name: {details.get('device_name', 'GPU')}"
        if cc:
            desc += f", compute capability: {cc[0]}.{cc[1]}"
        memory = config.experimental.get_memory_info(f"GPU:{i}") \
            if hasattr(config.experimental, "get_memory_info") else {}
        out.append(DeviceAttributes(f"/device:GPU:{i}", "GPU",
                                    int(memory.get("limit", 0) or 0), desc))
    return out
