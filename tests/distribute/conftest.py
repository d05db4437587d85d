"""Fixtures of the distribute tests (``two_cpus`` lives in tests/conftest.py)."""

import pytest


@pytest.fixture
def cpu_default(monkeypatch):
    """The process default device is ``cpu:0``, as on a machine without a GPU (or
    with ``DLFRAME_DEVICE=cpu``): ``MirroredStrategy()`` then takes the CPUs."""
    from dlframe import backends
    monkeypatch.setattr(backends, "_default", backends.get_device("cpu:0"))
