"""Review of round 21's cross-device copies: gradients that reach a copy as
IndexedSlices stay IndexedSlices (as through TF's copies and ``tf.identity`` under a
device scope), on the copied tensor's device. Runs on two logical CPUs, and on a GPU
beside the CPU where one exists (or under the fake CuPy)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends, config

_TABLE = np.arange(8, dtype="float32").reshape(4, 2)
_IDS = [0, 2, 2]


@pytest.fixture
def far(device):
    """A device other than ``device``: cpu:1 beside cpu:0, cpu:0 beside a GPU."""
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        near = backends.get_device(device)
        yield backends.get_device("cpu:0" if near.is_gpu else "cpu:1")
    finally:
        config._logical_cpu_count = before


def _dense_grad(table):
    """d/dtable of sum(gather(table, ids) ** 2), from NumPy."""
    grad = np.zeros_like(table)
    np.add.at(grad, _IDS, 2 * table[_IDS])
    return grad


def _sparse_grad(table, device):
    with tf.GradientTape() as tape:
        with tf.device(device):
            moved = tf.identity(table)           # a recorded copy to ``device``
            ids = tf.constant(_IDS)
        loss = tf.reduce_sum(tf.gather(moved, ids) ** 2)
    return tape.gradient(loss, table)


def test_slices_gradient_passes_a_copy_as_slices(device, far):
    with tf.device(far.name):
        table = tf.Variable(_TABLE)
    grad = _sparse_grad(table, device)
    assert isinstance(grad, tf.IndexedSlices)
    assert grad.values.device == table.device
    assert grad.indices.device == table.device
    assert grad.indices.numpy().tolist() == _IDS
    np.testing.assert_allclose(tf.convert_to_tensor(grad).numpy(), _dense_grad(_TABLE))


def test_sparse_update_through_a_copy_eager_equals_function(device, far):
    def make():
        with tf.device(far.name):
            return tf.Variable(_TABLE)

    eager_table, traced_table = make(), make()
    eager_opt, traced_opt = tf.keras.optimizers.SGD(0.1), tf.keras.optimizers.SGD(0.1)

    @tf.function
    def traced_step():
        grad = _sparse_grad(traced_table, device)
        traced_opt.apply_gradients([(grad, traced_table)])
        return grad.indices   # (sparse in the traced step too)

    expect = _TABLE.copy()
    for _ in range(3):
        expect = expect - 0.1 * _dense_grad(expect)
        eager_opt.apply_gradients([(_sparse_grad(eager_table, device), eager_table)])
        assert traced_step().numpy().tolist() == _IDS
        np.testing.assert_allclose(eager_table.numpy(), expect, rtol=1e-6)
        np.testing.assert_allclose(traced_table.numpy(), expect, rtol=1e-6)

