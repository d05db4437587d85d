"""Review of round 21's Keras/data/RNN GPU fixes (reviewer 2): seeds, string fills
and RNN cells placed by the device scope, as TF places them.

- a stateless op under a ``/CPU:0`` scope inside a ``tf.function`` whose seed lives
  on another device (a GPU seed variable or argument) runs on the CPU and reads the
  seed on every call (the seed used to stay on its device, and the op with it);
- a string fill under a logical ``/CPU:1`` scope stays there (only a GPU scope sends
  strings to ``cpu:0``);
- ragged dataset elements (nested ones too) arrive on the current device, as dense
  ones do;
- ``RNNCellDeviceWrapper`` across two logical CPUs (no GPU needed): the cell's
  weights live on its device, and outputs, gradients and a compiled fit match the
  unwrapped model's.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import config


def test_traced_stateless_op_copies_the_seed_to_its_cpu_scope(device):
    seed = tf.Variable([1, 2], dtype=tf.int64)   # on the test's device
    with tf.device("/CPU:0"):
        want = [tf.random.stateless_normal([3], s).numpy() for s in ([1, 2], [3, 4])]

    @tf.function
    def draw():
        with tf.device("/CPU:0"):
            return tf.random.stateless_normal([3], seed)

    first = draw()
    seed.assign([3, 4])   # the compiled draw reads the seed when it runs
    second = draw()
    assert first.device.endswith("CPU:0") and second.device.endswith("CPU:0")
    np.testing.assert_array_equal(first.numpy(), want[0])
    np.testing.assert_array_equal(second.numpy(), want[1])



def test_ragged_dataset_elements_arrive_on_the_current_device(device):
    here = tf.ones([1]).device
    flat = tf.ragged.constant([[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]])
    batches = list(tf.data.Dataset.from_tensor_slices(flat).batch(2))
    assert [b.to_list() for b in batches] == [[[1.0, 2.0], [3.0]], [[], [4.0, 5.0, 6.0]]]
    nested = next(iter(tf.data.Dataset.from_tensors(
        tf.ragged.constant([[[1], [2, 3]], [[4]]]))))
    assert nested.to_list() == [[[1], [2, 3]], [[4]]]
    parts = [p for b in batches for p in (b.values, b.row_splits)]
    parts += [nested.flat_values, nested.row_splits, nested.values.row_splits]
    assert {p.device for p in parts} == {here}

@pytest.fixture
def two_logical_cpus():
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        yield
    finally:
        config._logical_cpu_count = before


def test_string_fills_stay_on_a_logical_cpu(two_logical_cpus):
    with tf.device("/CPU:1"):
        blank = tf.zeros([2], tf.string)
        filled = tf.fill([2], "q")
        joined = tf.strings.join([blank, tf.constant(["a", "b"]), filled])
    assert blank.device.endswith("CPU:1") and filled.device.endswith("CPU:1")
    assert joined.numpy().tolist() == [b"aq", b"bq"]


def _lstm_model(wrap):
    cell = tf.keras.layers.LSTMCell(4)
    cell = tf.nn.RNNCellDeviceWrapper(cell, "/cpu:1") if wrap else cell
    return tf.keras.Sequential([tf.keras.Input((5, 3)), tf.keras.layers.RNN(cell),
                                tf.keras.layers.Dense(1)])


def _output_and_grads(model, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x)
        loss = tf.reduce_sum(out * out)
    return out, tape.gradient(loss, model.trainable_weights + [x])


def test_device_wrapper_cell_on_a_second_logical_cpu(two_logical_cpus):
    rng = np.random.default_rng(212)
    x = rng.standard_normal((4, 5, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 5.0
    ref, model = _lstm_model(wrap=False), _lstm_model(wrap=True)
    model.set_weights(ref.get_weights())
    assert {w._device.name for w in model.layers[0].cell.cell.weights} == {"cpu:1"}
    out, grads = _output_and_grads(model, tf.constant(x))
    out_ref, grads_ref = _output_and_grads(ref, tf.constant(x))
    home = model.layers[1].kernel._device   # the default device (a GPU's, if any)
    assert out._device is home and grads[-1]._device is home
    assert grads[0]._device.name == "cpu:1"
    np.testing.assert_allclose(out.numpy(), out_ref.numpy(), rtol=1e-5, atol=1e-6)
    for got, want in zip(grads, grads_ref):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-6)
    histories = []
    for m in (model, ref):   # compiled steps: Adam's scalars reach cpu:1 by a copy
        m.compile(tf.keras.optimizers.Adam(0.05), "mse")
        histories.append(m.fit(x, y, epochs=5, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-4)
    assert histories[0][-1] < histories[0][0]
