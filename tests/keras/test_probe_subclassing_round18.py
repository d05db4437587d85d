"""Round 18 probes of subclassing-heavy Keras programs (keras.io / tensorflow.org
guides written as TF2 users write them): distillation with a ``compile``/
``compute_loss`` override, a GAN with its own ``metrics``, gradient accumulation in
``train_step``, registered custom objects saved to .keras/.h5, nested models as
feature extractors, shared layers, unbuilt summaries and trainable toggling."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


def _data(n=64, d=6, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, d).astype("float32")
    return x, (x[:, : d // 2].sum(1) > x[:, d // 2:].sum(1)).astype("int64")


class _Distiller(keras.Model):
    """keras.io knowledge distillation (Keras 3 version)."""

    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn,
                alpha=0.1, temperature=3):
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     allow_empty=False):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)
        distillation_loss = self.distillation_loss_fn(
            keras.ops.softmax(teacher_pred / self.temperature, axis=1),
            keras.ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature ** 2)
        return self.alpha * student_loss + (1 - self.alpha) * distillation_loss

    def call(self, x):
        return self.student(x)


def _mlp(units, name):
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, "relu"),
                             keras.layers.Dense(2)], name=name)


def test_distiller_compile_and_compute_loss_overrides_train_the_student():
    keras.utils.set_random_seed(1)
    x, y = _data()
    teacher, student = _mlp(16, "teacher"), _mlp(4, "student")
    teacher.trainable = False   # else, as in TF 2.21, the teacher trains too
    teacher_w = [w.numpy() for w in teacher.weights]
    distiller = _Distiller(student, teacher)
    distiller.compile(
        optimizer=keras.optimizers.Adam(0.01),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.KLDivergence(), alpha=0.1, temperature=10)
    hist = distiller.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert sorted(hist.history) == ["loss", "sparse_categorical_accuracy"]  # TF 2.21
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    # only the student trains
    for w, w0 in zip(teacher.weights, teacher_w):
        np.testing.assert_array_equal(w.numpy(), w0)
    assert len(distiller.trainable_weights) == 4 == len(student.trainable_weights)
    assert len(distiller.weights) == 8
    result = distiller.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(result) == ["loss", "sparse_categorical_accuracy"]
    np.testing.assert_allclose(distiller.predict(x, verbose=0),
                               student.predict(x, verbose=0), rtol=1e-6)


class _GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real):
        batch = tf.shape(real)[0]
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        combined = tf.concat([self.generator(z), real], axis=0)
        labels = tf.concat([tf.ones((batch, 1)), tf.zeros((batch, 1))], axis=0)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads,
                                             self.discriminator.trainable_weights))
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(tf.zeros((batch, 1)),
                                  self.discriminator(self.generator(z)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(),
                "g_loss": self.g_loss_metric.result()}


def test_gan_with_metrics_property_and_two_optimizers():
    keras.utils.set_random_seed(2)
    real = np.random.RandomState(0).randn(64, 6).astype("float32") + 1.0
    disc = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8),
                             keras.layers.LeakyReLU(negative_slope=0.2),
                             keras.layers.Dense(1)])
    gen = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
                            keras.layers.LeakyReLU(negative_slope=0.2),
                            keras.layers.Dense(6)])
    gan = _GAN(disc, gen, 4)
    gan.compile(keras.optimizers.Adam(3e-4), keras.optimizers.Adam(3e-4),
                keras.losses.BinaryCrossentropy(from_logits=True))
    seen = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(sorted(logs)))
    ds = tf.data.Dataset.from_tensor_slices(real).shuffle(64).batch(16)
    hist = gan.fit(ds, epochs=2, verbose=0, callbacks=[callback])
    assert sorted(hist.history) == ["d_loss", "g_loss"]
    assert seen == [["d_loss", "g_loss"]] * 2
    assert np.isfinite(hist.history["g_loss"]).all()
    assert [m.name for m in gan.metrics] == ["d_loss", "g_loss"]
    assert int(gan.d_optimizer.iterations.numpy()) == 8
    assert int(gan.g_optimizer.iterations.numpy()) == 8


class _AccumModel(keras.Model):
    def __init__(self, n_gradients, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_gradients = tf.constant(n_gradients, dtype=tf.int32)
        self.n_acum_step = tf.Variable(0, dtype=tf.int32, trainable=False)
        self.gradient_accumulation = [
            tf.Variable(tf.zeros_like(v, dtype=tf.float32), trainable=False)
            for v in self.trainable_variables]

    def train_step(self, data):
        self.n_acum_step.assign_add(1)
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred)
        gradients = tape.gradient(loss, self.trainable_variables)
        for acc, g in zip(self.gradient_accumulation, gradients):
            acc.assign_add(g)
        tf.cond(tf.equal(self.n_acum_step, self.n_gradients), self._apply,
                lambda: None)
        return {"loss": loss}

    def _apply(self):
        self.optimizer.apply_gradients(zip(self.gradient_accumulation,
                                           self.trainable_variables))
        self.n_acum_step.assign(0)
        for acc in self.gradient_accumulation:
            acc.assign(tf.zeros_like(acc))


def test_gradient_accumulation_applies_the_summed_gradient_every_n_steps():
    x = np.random.RandomState(3).rand(8, 3).astype("float32")
    y = x @ np.array([[1.0], [2.0], [3.0]], "float32")
    inp = keras.Input((3,))
    out = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")(inp)
    model = _AccumModel(2, inputs=inp, outputs=out)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 2
    assert int(model.n_acum_step.numpy()) == 0
    # NumPy reference: sum the mse gradients of two batches, then one SGD step
    w = np.zeros((3, 1))
    for first in (0, 4):
        grad = np.zeros((3, 1))
        for start in (first, first + 2):
            xb, yb = x[start:start + 2], y[start:start + 2]
            grad += 2 * xb.T @ (xb @ w - yb) / len(xb)
        w -= 0.1 * grad
    np.testing.assert_allclose(model.layers[-1].kernel.numpy(), w, rtol=1e-5)


@keras.saving.register_keras_serializable(package="Round18")
class _Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                 name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="Round18")
class _Block(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units, activation="relu")
        self.scale = _Scale(0.5)

    def call(self, x):
        return self.scale(self.dense(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="Round18")
class _Lazy(keras.layers.Layer):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.k = self.add_weight(shape=(input_shape[-1], self.units), name="k")
        self.in_dim = input_shape[-1]

    def call(self, x):
        return tf.matmul(x, self.k)

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def get_build_config(self):
        return {"in_dim": self.in_dim}

    def build_from_config(self, config):
        self.build((None, config["in_dim"]))


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_registered_custom_layers_save_and_reload(tmp_path, ext):
    assert keras.saving.get_registered_name(_Scale) == "Round18>_Scale"
    assert keras.saving.get_registered_object("Round18>_Block") is _Block
    x = np.random.RandomState(4).rand(8, 5).astype("float32")
    inp = keras.Input((5,))
    out = keras.layers.Dense(1)(_Scale(3.0)(_Block(4)(inp)))
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    model.fit(x, x.sum(1, keepdims=True), epochs=1, verbose=0)
    path = str(tmp_path / f"m.{ext}")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)
    assert [type(layer).__name__ for layer in loaded.layers[1:3]] == ["_Block", "_Scale"]
    seq = keras.Sequential([_Lazy(3, name="lazy"), keras.layers.Dense(2)])
    seq(x)
    path = str(tmp_path / f"lazy.{ext}")
    seq.save(path)
    again = keras.models.load_model(path)
    assert again.get_layer("lazy").built
    np.testing.assert_allclose(again.predict(x, verbose=0), seq.predict(x, verbose=0),
                               rtol=1e-6)


# --------------------------------------------------- nested models and layer output
def _outer_with_nested_sequential():
    base = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, name="d1")],
                            name="base")
    inp = keras.Input((5,), name="img")
    features = base(inp)
    out = keras.layers.Dense(3, name="cls")(features)
    return base, inp, features, keras.Model(inp, out, name="outer")


def test_nested_sequential_output_is_its_call_in_the_outer_graph():
    base = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
    assert base.output is base.outputs[0]   # not called yet: its own graph
    base, inp, features, model = _outer_with_nested_sequential()
    assert base.output is features and base.input is inp   # TF 2.21
    assert base.outputs[0] is not features   # its own graph stays available
    extractor = keras.Model(model.input, model.layers[1].output)
    x = np.random.RandomState(5).rand(3, 5).astype("float32")
    np.testing.assert_allclose(extractor.predict(x, verbose=0), base(x).numpy(),
                               rtol=1e-6)
    every = keras.Model(model.input, [layer.output for layer in model.layers[1:]])
    assert [tuple(o.shape) for o in every(x)] == [(3, 4), (3, 3)]
    # a Sequential without Input, called inside a functional graph
    plain = keras.Sequential([keras.layers.Dense(2)])
    h = plain(inp)
    assert plain.output is h


def test_shared_layer_output_is_its_first_call():
    dense = keras.layers.Dense(3)
    a, b = keras.Input((2,)), keras.Input((2,))
    ya, yb = dense(a), dense(b)
    assert dense.output is ya and dense.input is a   # Keras 3 (Keras 2 refused)
    assert dense.get_output_at(1) is yb
    assert dense.output_shape == (None, 3)


def test_summary_of_unbuilt_subclassed_model_and_nested_expansion():
    class Net(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.proj = keras.layers.Dense(6, name="proj")
            self.head = keras.layers.Dense(2, name="head")

        def call(self, x):
            return self.head(self.proj(x))

    lines = []
    Net(name="net").summary(print_fn=lambda s, **kw: lines.append(s))
    text = "\n".join(lines)
    assert "proj (Dense)" in text and "?" in text and "Total params: 0" in text
    _, _, _, model = _outer_with_nested_sequential()
    nested, flat = [], []
    model.summary(expand_nested=True, print_fn=lambda s, **kw: nested.append(s))
    model.summary(print_fn=lambda s, **kw: flat.append(s))
    assert "d1 (Dense)" in "\n".join(nested) and "d1" not in "\n".join(flat)
    assert model.get_layer("base").get_layer("d1").units == 4
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")


def test_trainable_toggle_then_recompile_freezes_and_unfreezes():
    base, _, _, model = _outer_with_nested_sequential()
    x = np.random.RandomState(6).rand(16, 5).astype("float32")
    y = np.eye(3)[np.arange(16) % 3].astype("float32")
    base.trainable = False
    model.compile(keras.optimizers.Adam(0.05), "categorical_crossentropy")
    assert (len(model.trainable_weights), len(model.non_trainable_weights)) == (2, 2)
    frozen = base.get_layer("d1").kernel.numpy().copy()
    model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(base.get_layer("d1").kernel.numpy(), frozen)
    base.trainable = True
    model.compile(keras.optimizers.Adam(0.05), "categorical_crossentropy")
    assert len(model.trainable_weights) == 4
    model.fit(x, y, epochs=2, verbose=0)
    assert not np.allclose(base.get_layer("d1").kernel.numpy(), frozen)
