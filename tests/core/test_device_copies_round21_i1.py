"""Copies between devices as TensorFlow makes them: one recorded copy primitive
(``Tensor.cpu()``, ``copy_to_device``, ``tf.identity`` under a scope) that tapes
differentiate and traced functions replay, and the implicit copies of an op whose
operands live on several devices. Runs on two logical CPUs, and on a GPU beside
the CPU where one exists (or under the fake CuPy)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends, config
from dlframe.core.tensor import copy_to_device


@pytest.fixture
def two_devices():
    """``(near, far)``: the default device and another one (the CPU beside a GPU,
    else a second logical CPU)."""
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        near = backends.default_device()
        far = backends.get_device("cpu:1" if not near.is_gpu else "cpu:0")
        yield near, far
    finally:
        config._logical_cpu_count = before


def _on(device, values):
    with tf.device(device.name):
        return tf.constant(values)


def test_cpu_copy_in_a_function_is_replayed_not_baked(two_devices):
    near, _ = two_devices

    @tf.function
    def f(x):
        return tf.reduce_sum(x.cpu() * 2.0)

    for values in ([1.0, 2.0], [3.0, 5.0], [-1.0, 0.5]):
        out = f(_on(near, values))
        assert out.device.endswith("CPU:0")
        assert out.numpy() == pytest.approx(2 * sum(values))


def test_copy_is_differentiable_and_gradient_goes_back(two_devices):
    near, far = two_devices
    x = _on(near, [1.0, -2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = copy_to_device(x, far)
        loss = tf.reduce_sum(y * y * y)
    grad = tape.gradient(loss, x)
    assert grad.device == x.device
    np.testing.assert_allclose(grad.numpy(), 3 * x.numpy() ** 2, rtol=1e-6)


def test_gradient_through_copy_matches_finite_differences(two_devices):
    near, far = two_devices
    x0 = np.array([0.3, -0.7], dtype="float64")

    def loss(x):
        with tf.device(far.name):
            moved = tf.identity(x)
        return tf.reduce_sum(tf.sin(moved) * x)   # back on ``near``: implicit copy

    x = _on(near, x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = loss(x)
    grad = tape.gradient(value, x).numpy()
    eps = 1e-6
    numeric = [(loss(_on(near, x0 + eps * e)).numpy()
                - loss(_on(near, x0 - eps * e)).numpy()) / (2 * eps)
               for e in np.eye(2)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_implicit_copy_follows_the_device_scope_else_the_default(two_devices):
    near, far = two_devices
    a, b = _on(far, [1.0, 2.0]), _on(near, [10.0, 20.0])
    total = a + b
    assert total.numpy().tolist() == [11.0, 22.0]
    assert total.device == b.device    # the GPU among the inputs, else the default
    with tf.device(far.name):
        there = b - a
    assert there.device == a.device
    assert there.numpy().tolist() == [9.0, 18.0]


def test_implicit_copies_eager_equals_function(two_devices):
    near, far = two_devices
    table = _on(far, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

    def step(ids, scale):
        rows = tf.gather(table, ids)                       # ids follow the table
        looked = tf.nn.embedding_lookup(table, ids)
        sums = tf.math.segment_sum(looked, tf.constant([0, 0, 1]))
        return rows * scale + tf.reduce_sum(sums)

    traced = tf.function(step)
    for ids, scale in (([0, 2, 1], 2.0), ([2, 2, 0], -1.0)):
        ids_t, scale_t = _on(near, ids), _on(near, scale)
        np.testing.assert_allclose(traced(ids_t, scale_t).numpy(),
                                   step(ids_t, scale_t).numpy())
        expect = np.array([[1, 2], [3, 4], [5, 6.0]])[ids]
        np.testing.assert_allclose(step(ids_t, scale_t).numpy(),
                                   expect * scale + expect.sum())


def test_variable_assign_from_another_device_in_a_function(two_devices):
    near, far = two_devices
    with tf.device(near.name):
        v = tf.Variable([0.0, 0.0])

    @tf.function
    def write(value):
        v.assign(value)
        v.assign_add(value)
        return v.read_value()

    for values in ([1.0, 2.0], [4.0, -3.0]):
        out = write(_on(far, values))
        assert out.numpy().tolist() == [2 * x for x in values]
        assert v.device == out.device


def test_hashed_crossing_replays_its_host_copy():
    layer = tf.keras.layers.HashedCrossing(num_bins=5)

    @tf.function
    def f(a, b):
        return layer((a, b))

    a, b = tf.constant([1, 2, 3]), tf.constant([4, 5, 6])
    eager = layer((a, b)).numpy()
    np.testing.assert_array_equal(f(a, b).numpy(), eager)
    a2, b2 = tf.constant([7, 8, 9]), tf.constant([1, 1, 2])
    np.testing.assert_array_equal(f(a2, b2).numpy(), layer((a2, b2)).numpy())


def test_dataset_map_reads_a_captured_tensor_on_the_host(device):
    with tf.device(device):
        offset = tf.constant(10, dtype="int64")
    ds = tf.data.Dataset.range(4).map(lambda x: x + offset)
    assert [int(x) for x in ds] == [10, 11, 12, 13]


def test_gpu_method_names_a_missing_gpu_like_tf():
    with pytest.raises(RuntimeError, match="unknown device"):
        tf.ones([2]).gpu(7)


def test_a_scatter_write_lands_in_the_variable_on_its_device(two_devices):
    near, far = two_devices
    with tf.device(far.name):
        v = tf.Variable([1.0, 2.0, 3.0])
    indices, updates = _on(near, [0, 2]), _on(near, [10.0, 30.0])
    v.scatter_nd_update(tf.reshape(indices, [2, 1]), updates)
    v.scatter_add(tf.IndexedSlices(updates, indices))
    assert v.numpy().tolist() == [20.0, 2.0, 60.0]
    assert v.device.endswith(far.name.upper())
