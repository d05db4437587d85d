"""Writes and cells across devices (the first real-GPU run, round 21, group B).

``set_weights`` of host arrays under another device scope converts them on each
variable's own device; ``Variable.assign`` of a tensor from another device copies it
to the variable's device (TF does both); ``RNNCellDeviceWrapper`` runs its cell on
its device inside a model on another one, gradients and optimizer updates included.
"""

import numpy as np
import pytest

import dlframe as tf

pytestmark = pytest.mark.gpu   # a GPU next to the CPU (skipped without one)
L = tf.keras.layers
RNG = np.random.default_rng(21)


@pytest.mark.parametrize("home,scope", [("/CPU:0", "/GPU:0"), ("/GPU:0", "/CPU:0")])
def test_set_weights_converts_on_each_variables_device(home, scope):
    with tf.device(home):
        layer = L.LSTM(3)
        layer.build((2, 4, 5))
    where = [w._device for w in layer.weights]
    values = [RNG.standard_normal(tuple(w.shape)).astype("float32")
              for w in layer.weights]
    with tf.device(scope):
        layer.set_weights(values)
    assert [w._device for w in layer.weights] == where
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_assign_copies_a_tensor_from_another_device():
    with tf.device("/CPU:0"):
        v = tf.Variable(np.arange(3, dtype="float32"))
    with tf.device("/GPU:0"):
        t = tf.constant(np.array([5.0, 6.0, 7.0], "float32"))
        v.assign(t)
        v.assign_add(t)
        v.assign_sub(tf.ones([3]))
    assert v._device.name == "cpu:0"
    np.testing.assert_array_equal(v.numpy(), [9.0, 11.0, 13.0])

    @tf.function
    def write(x):
        v.assign(x)

    # a traced write copies too (TF), replaying the copy with each call's tensor
    with tf.device("/GPU:0"):
        write(t)
        write(t * 2.0)
    assert v._device.name == "cpu:0"
    np.testing.assert_array_equal(v.numpy(), [10.0, 12.0, 14.0])


def _model(wrap):
    cell = L.LSTMCell(4)
    cell = tf.nn.RNNCellDeviceWrapper(cell, "/cpu:0") if wrap else cell
    return tf.keras.Sequential([tf.keras.Input((5, 3)), L.RNN(cell), L.Dense(1)])


def test_device_wrapper_cell_on_the_cpu_in_a_gpu_model():
    x = RNG.standard_normal((6, 5, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 5.0
    with tf.device("/CPU:0"):
        ref = _model(wrap=False)
    with tf.device("/GPU:0"):
        model = _model(wrap=True)
        model.set_weights(ref.get_weights())
        cell = model.layers[0].cell.cell
        assert {w._device.name for w in cell.weights} == {"cpu:0"}
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = model(xt)
            loss = tf.reduce_sum(out * out)
        grads = tape.gradient(loss, model.trainable_weights + [xt])
        assert out._device.name == "gpu:0" and grads[-1]._device.name == "gpu:0"
    with tf.device("/CPU:0"):
        xc = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xc)
            out_ref = ref(xc)
            loss_ref = tf.reduce_sum(out_ref * out_ref)
        grads_ref = tape.gradient(loss_ref, ref.trainable_weights + [xc])
    np.testing.assert_allclose(out.numpy(), out_ref.numpy(), rtol=1e-5, atol=1e-6)
    for g, r in zip(grads, grads_ref):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-4, atol=1e-5)
    # compiled fit: the optimizer's scalars reach the CPU cell by a recorded copy
    with tf.device("/GPU:0"):
        model.compile(tf.keras.optimizers.Adam(0.05), "mse")
        hist = model.fit(x, y, epochs=10, verbose=0)
    with tf.device("/CPU:0"):
        ref.compile(tf.keras.optimizers.Adam(0.05), "mse")
        hist_ref = ref.fit(x, y, epochs=10, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], hist_ref.history["loss"],
                               rtol=1e-3)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
