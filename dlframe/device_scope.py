"""``dlframe.device(name)``: a context manager placing new tensors on a device."""

import re

from dlframe import backends, config

_TPU_NAME = re.compile(r"^(/job:[^/]+(/replica:\d+)?(/task:\d+)?)?/?(device:)?tpu(:\d+)?$")


def _soft_get_device(name):
    """The named device; with soft placement (TF's default) a well-formed name of a
    device this machine lacks ('GPU:0' on a CPU host) falls back to the default
    device, as TF places such ops on the CPU."""
    try:
        return backends.get_device(name)
    except ValueError:
        if not isinstance(name, str) or not config.get_soft_device_placement():
            raise
        if not _TPU_NAME.search(name.strip().lower()):  # TPUs soft-place as in TF
            backends._parse(name)   # a malformed name stays an error
        return backends.default_device()


class device:
    """Places tensors created inside the block on ``device_name`` ('/GPU:0', '/CPU:1').

    Raises:
      ValueError: when the device name is malformed, or names a device that does
        not exist while soft placement is off
        (``config.set_soft_device_placement(False)``).
    """

    def __init__(self, device_name):
        if hasattr(device_name, "to_string"):   # a tf.DeviceSpec
            device_name = device_name.to_string()
        self._name = device_name
        self._device = None

    def __enter__(self):
        self._device = _soft_get_device(self._name) if self._name else \
            backends.current_device()
        backends.push_device(self._device)
        return self

    def __exit__(self, *exc):
        backends.pop_device()
        return False
