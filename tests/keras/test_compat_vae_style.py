"""Keras 2/3 VAE-tutorial idioms: a custom train_step returning its own log names,
and Keras 2's ``model.add_loss(symbolic tensor)`` on a functional model."""

import numpy as np

import dlframe as tf

keras = tf.keras


class _TrackedModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")

    def call(self, x):
        return self.dense(x)

    @property
    def metrics(self):
        return [self.total_loss_tracker]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self(x) - y))
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(loss)
        return {"loss": self.total_loss_tracker.result()}

    def test_step(self, data):
        x, y = data
        self.total_loss_tracker.update_state(tf.reduce_mean(tf.square(self(x) - y)))
        return {"mse": self.total_loss_tracker.result()}


def test_custom_step_log_names_reach_history_and_evaluate():
    rng = np.random.RandomState(0)
    x = rng.rand(64, 3).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = _TrackedModel()
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert sorted(history.history) == ["loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert list(result) == ["mse"]
    np.testing.assert_allclose(result["mse"], expected, rtol=1e-5)


def test_functional_model_add_loss_of_a_symbolic_tensor():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3)(inputs)
    outputs = keras.layers.Dense(1)(hidden)
    model = keras.Model(inputs, outputs)
    model.add_loss(0.5 * tf.reduce_mean(tf.square(hidden)))
    x = np.random.RandomState(1).rand(8, 4).astype("float32")
    model(x)
    kernel, bias = model.layers[1].get_weights()
    expected = 0.5 * np.mean((x @ kernel + bias) ** 2)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), expected, rtol=1e-5)
    y = np.zeros((8, 1), "float32")
    model.compile(optimizer="sgd", loss="mse")
    mse = float(np.mean(model.predict(x, verbose=0) ** 2))
    total = model.evaluate(x, y, batch_size=8, verbose=0)
    np.testing.assert_allclose(total, mse + expected, rtol=1e-5)
    # the added loss is trained down together with the data loss
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
