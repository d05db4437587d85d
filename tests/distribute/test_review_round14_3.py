"""Review of round 14 (R3): the ``loss`` of a Keras-3-style custom ``train_step``
under MirroredStrategy is recorded once per replica (not also by ``compute_loss``)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


class _UpdatesLossItself(keras.Model):
    """The keras.io customizing-fit step: compute_loss, then every metric updated
    by the step itself (``loss`` with the returned total)."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        for m in self.metrics:
            if m.name == "loss":
                m.update_state(loss)
            else:
                m.update_state(y, pred)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("eager", [True, False])
def test_custom_step_loss_recorded_once_per_replica(two_cpus, eager):
    x = np.linspace(-1, 1, 32).reshape(16, 2).astype("float32")
    y = (x.sum(1, keepdims=True) * 3).astype("float32")
    with two_cpus.scope():
        inp = keras.Input((2,))
        model = _UpdatesLossItself(
            inp, keras.layers.Dense(1, kernel_initializer="ones")(inp))
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse",
                      run_eagerly=eager)
    hist = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    # each replica's compute_loss is its shard's mse times its share (4 of 8 rows);
    # the step records it once: 2.8304 in TF 2.21 (5.0947 when counted twice)
    err = (x.sum(1, keepdims=True) - y) ** 2
    expected = np.mean([err[i:i + 4].mean() * 0.5 for i in range(0, 16, 4)])
    np.testing.assert_allclose(hist.history["loss"][0], expected, rtol=1e-5)
    assert round(float(expected), 4) == 2.8304
