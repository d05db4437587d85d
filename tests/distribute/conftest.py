"""Fixtures of the distribute tests: two logical CPU devices."""

import pytest

import dlframe as tf
from dlframe import config


@pytest.fixture
def two_cpus():
    """Splits the CPU into 2 logical devices (TF's recipe); restores the count after.

    Yields a ``MirroredStrategy(["CPU:0", "CPU:1"])``.
    """
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        yield tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"])
    finally:
        config._logical_cpu_count = before
