"""TF2 programs overriding ``train_step``/``test_step`` (the "Customizing what happens
in fit" guide and the Keras GAN example), run unchanged with ``import dlframe as tf``."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
RNG = np.random.default_rng(0)
X = RNG.normal(size=(256, 8)).astype("float32")
Y = (X @ RNG.normal(size=(8, 1))).astype("float32")


class TrackerModel(keras.Model):
    """Own loss and metric trackers; ``metrics`` lists them so fit resets them."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def call(self, x, training=False):
        return self.out(self.hidden(x))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(keras.losses.mean_squared_error(y, y_pred))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(tf.reduce_mean(keras.losses.MSE(y, y_pred)))
        self.mae_metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_trackers_train_step_learns_and_reports_keras_keys():
    keras.utils.set_random_seed(1)
    model = TrackerModel()
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    hist = model.fit(X, Y, epochs=6, batch_size=32, validation_split=0.25, verbose=0)
    assert sorted(hist.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert [m.name for m in model.metrics] == ["loss", "mae"]
    result = model.evaluate(X, Y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert sorted(model.evaluate(X, Y, verbose=0, return_dict=True)) == ["loss", "mae"]


class Keras2StepModel(keras.Model):
    """Keras 2 guide: ``compiled_loss`` / ``compiled_metrics`` with sample weights."""

    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            (x, y), sample_weight = data, None
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, sample_weight=sample_weight,
                                      regularization_losses=self.losses)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


def test_compiled_loss_and_metrics_with_sample_weight():
    keras.utils.set_random_seed(2)
    inputs = keras.Input(shape=(8,))
    h = keras.layers.Dense(8, kernel_regularizer=keras.regularizers.l2(1e-3))(inputs)
    model = Keras2StepModel(inputs, keras.layers.Dense(1)(h))
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse", metrics=["mae"])
    sw = RNG.random((256, 1)).astype("float32")
    hist = model.fit(X, Y, sample_weight=sw, epochs=5, batch_size=32, verbose=0)
    assert sorted(hist.history) == ["loss", "mae"]
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert [m.name for m in model.metrics] == ["loss", "mae"]


class GAN(keras.Model):
    """The Keras GAN example's structure: no ``call``, two optimizers, compile
    overridden, a dataset of images only (``train_step`` receives the tensor)."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real):
        batch_size = real.shape[0]
        noise = tf.random.normal(shape=(batch_size, self.latent_dim))
        combined = tf.concat([self.generator(noise), real], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        noise = tf.random.normal(shape=(batch_size, self.latent_dim))
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(tf.zeros((batch_size, 1)),
                                  self.discriminator(self.generator(noise)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result()}


def _gan():
    d = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1)])
    g = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(4)])
    gan = GAN(d, g, latent_dim=2)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                keras.losses.BinaryCrossentropy(from_logits=True))
    return gan


def test_gan_without_call_trains_on_image_only_dataset():
    gan = _gan()
    d_before = [w.numpy().copy() for w in gan.discriminator.weights]
    ds = tf.data.Dataset.from_tensor_slices(
        RNG.normal(size=(128, 4)).astype("float32")).batch(32)
    hist = gan.fit(ds, epochs=2, verbose=0)
    assert sorted(hist.history) == ["d_loss", "g_loss"]
    assert len(hist.history["d_loss"]) == 2
    assert all(np.isfinite(v) for v in hist.history["g_loss"])
    assert any(not np.array_equal(a, w.numpy())
               for a, w in zip(d_before, gan.discriminator.weights))
    assert int(gan.d_optimizer.iterations.numpy()) == 8


def test_x_only_batches_reach_train_step_unwrapped():
    seen = []

    class Probe(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            seen.append(type(data))
            return {}

    model = Probe()
    model.compile("sgd", run_eagerly=True)
    model.fit(tf.data.Dataset.from_tensor_slices(X).batch(64), epochs=1, verbose=0)
    model.fit(X, epochs=1, batch_size=64, verbose=0)
    model.fit(X, Y, epochs=1, batch_size=64, verbose=0)
    assert seen[0] is tf.Tensor and seen[4] is tf.Tensor and seen[8] is tuple


def test_tf_shape_of_batch_in_compiled_train_step():
    class Noisy(GAN):
        def train_step(self, real):
            batch_size = tf.shape(real)[0]      # the GAN example's spelling
            noise = tf.random.normal(shape=(batch_size, self.latent_dim))
            return {"d_loss": tf.reduce_mean(self.generator(noise)), "g_loss": 0.0}

    gan = _gan()
    gan.__class__ = Noisy
    gan.fit(RNG.normal(size=(64, 4)).astype("float32"), epochs=1, verbose=0)


class Keras3LoopModel(keras.Model):
    """Keras 3's guide: ``compute_loss`` + ``for metric in self.metrics`` loop."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_keras3_metrics_loop_reports_compiled_metrics(run_eagerly):
    inputs = keras.Input(shape=(8,))
    model = Keras3LoopModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"],
                  run_eagerly=run_eagerly)
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]  # unbuilt
    hist = model.fit(X, Y, batch_size=32, epochs=3, verbose=0)
    assert sorted(hist.history) == ["loss", "mae"]
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert model.metrics_names == ["loss", "mae"]
    result = model.evaluate(X, Y, verbose=0, return_dict=True)
    pred = model.predict(X, verbose=0)
    np.testing.assert_allclose(result["mae"], np.mean(np.abs(pred - Y)), rtol=1e-4)
