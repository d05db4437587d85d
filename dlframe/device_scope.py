"""``dlframe.device(name)``: a context manager placing new tensors on a device."""

from dlframe import backends


class device:
    """Places tensors created inside the block on ``device_name`` ('/GPU:0', '/CPU:1').

    Raises:
      ValueError: when the device name is malformed or the device does not exist.
    """

    def __init__(self, device_name):
        self._name = device_name
        self._device = None

    def __enter__(self):
        self._device = backends.get_device(self._name) if self._name else \
            backends.current_device()
        backends.push_device(self._device)
        return self

    def __exit__(self, *exc):
        backends.pop_device()
        return False
