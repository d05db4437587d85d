"""Fixtures of the function tests."""

import pytest

import dlframe as tf


@pytest.fixture
def on_cpu():
    """Runs a test on the CPU: for the CPU's index errors (a GPU gives TF's GPU
    results, zeros or ignored rows: tests/ops/test_gpu_gather_scatter_round21_i2.py)."""
    with tf.device("/CPU:0"):
        yield
