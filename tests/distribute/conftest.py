"""Fixtures of the distribute tests: two logical CPU devices."""

import pytest

import dlframe as tf
from dlframe import config


@pytest.fixture
def two_cpus():
    """Splits the CPU into 2 logical devices (TF's recipe); restores the count after.

    Yields a ``MirroredStrategy(["CPU:0", "CPU:1"])``; the test's other tensors go
    to the default device (a GPU where there is one), copied as TF copies them.
    """
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        yield tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"])
    finally:
        config._logical_cpu_count = before


@pytest.fixture
def cpu_default(monkeypatch):
    """The process default device is ``cpu:0``, as on a machine without a GPU (or
    with ``DLFRAME_DEVICE=cpu``): ``MirroredStrategy()`` then takes the CPUs."""
    from dlframe import backends
    monkeypatch.setattr(backends, "_default", backends.get_device("cpu:0"))
