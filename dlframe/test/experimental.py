"""``tf.test.experimental``."""

from dlframe import backends as _backends


def sync_devices():
    """Waits until every device has finished its queued work (a no-op on CPU)."""
    for device in _backends.all_devices():
        device.synchronize()


__all__ = ["sync_devices"]
