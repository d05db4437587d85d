"""Test fixtures: a `device` fixture over CPU and (when present) GPU; clean state."""

import os
import sys

import pytest

os.environ.setdefault("DLFRAME_DEVICE", "cpu")  # tests place GPU cases explicitly

import dlframe  # noqa: E402
from dlframe import backends  # noqa: E402


def _gpu():
    try:
        return backends.gpu_available()
    except Exception:
        return False


HAS_GPU = _gpu()
DEVICE_PARAMS = ["cpu:0"] + ([pytest.param("gpu:0", marks=pytest.mark.gpu)]
                             if HAS_GPU else [pytest.param(
                                 "gpu:0", marks=[pytest.mark.gpu, pytest.mark.skip(
                                     reason="no GPU on this machine")])])


@pytest.fixture(params=DEVICE_PARAMS)
def device(request):
    """Runs the test body under `dlframe.device(<name>)` and yields the name."""
    with dlframe.device(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _keras2_default_seeds():
    """Each test starts as a fresh process would: before any
    ``keras.utils.set_random_seed`` (unseeded initializers use the global-seed stream)."""
    seeds = sys.modules.get("dlframe.keras.default_seeds")
    if seeds is not None:
        seeds.disable()
    yield


@pytest.fixture
def two_cpus():
    """Splits the CPU into 2 logical devices (TF's recipe); restores the count after.

    Yields a ``MirroredStrategy(["CPU:0", "CPU:1"])``; the test's other tensors go
    to the default device (a GPU where there is one), copied as TF copies them.
    """
    before = dlframe.config.logical_cpu_count()
    cpu = dlframe.config.list_physical_devices("CPU")[0]
    dlframe.config.set_logical_device_configuration(
        cpu, [dlframe.config.LogicalDeviceConfiguration()] * 2)
    try:
        yield dlframe.distribute.MirroredStrategy(["CPU:0", "CPU:1"])
    finally:
        dlframe.config._logical_cpu_count = before


@pytest.fixture
def check_numerics_on():
    """``tf.debugging.enable_check_numerics()`` for the test's duration."""
    dlframe.debugging.enable_check_numerics()
    try:
        yield
    finally:
        dlframe.debugging.disable_check_numerics()


def pytest_collection_modifyitems(config, items):
    if HAS_GPU:
        return
    skip = pytest.mark.skip(reason="no GPU on this machine")
    for item in items:
        if "gpu" in item.keywords or "multi_gpu" in item.keywords:
            item.add_marker(skip)
