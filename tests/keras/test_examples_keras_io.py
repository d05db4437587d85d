"""keras.io examples (Keras 3 style) on small synthetic data: knowledge distillation's
``compute_loss`` override, ViT patches, FNet's Fourier mixing, the warmup-cosine
schedule, a PyDataset with worker arguments."""

import math

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
ops = keras.ops
layers = keras.layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


class Distiller(keras.Model):
    """As in keras.io "Knowledge Distillation": its ``compute_loss`` takes no
    ``training`` argument (Keras 3 passes it only to overrides that accept it)."""

    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student
        self.calls = []

    def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn,
                alpha=0.1, temperature=3):
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     allow_empty=False):
        self.calls.append("compute_loss")
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)
        distillation_loss = self.distillation_loss_fn(
            ops.softmax(teacher_pred / self.temperature, axis=1),
            ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature ** 2)
        return self.alpha * student_loss + (1 - self.alpha) * distillation_loss

    def call(self, x):
        return self.student(x)


def test_distiller_compute_loss_without_training_argument():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    teacher = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"),
                                layers.Dense(3)], name="teacher")
    student = keras.Sequential([keras.Input((8,)), layers.Dense(8, activation="relu"),
                                layers.Dense(3)], name="student")
    teacher.compile(optimizer=keras.optimizers.Adam(0.02),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher.fit(x, y, epochs=15, verbose=0)
    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(optimizer=keras.optimizers.Adam(0.02),
                      metrics=[keras.metrics.SparseCategoricalAccuracy()],
                      student_loss_fn=keras.losses.SparseCategoricalCrossentropy(
                          from_logits=True),
                      distillation_loss_fn=keras.losses.KLDivergence(),
                      alpha=0.1, temperature=10)
    history = distiller.fit(x, y, epochs=15, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    results = distiller.evaluate(x, y, batch_size=32, verbose=0)   # test_step too
    # the reported loss is the override's: mean over the three equal batches
    per_batch = []
    for i in range(0, 96, 32):
        xb, yb = x[i:i + 32], y[i:i + 32]
        per_batch.append(float(distiller.compute_loss(xb, yb, student(xb))))
    assert len(results) == 2
    assert results[0] == pytest.approx(np.mean(per_batch), rel=1e-4)
    assert results[1] > 0.6
    assert distiller.calls   # the override ran (traced once per step kind)
    # as in Keras 3, the teacher (an attribute of the model) is trainable too
    assert len(distiller.trainable_variables) == 8
    # KL(p || q) of two distributions, by hand
    kl = keras.losses.KLDivergence()(np.array([[0.2, 0.8]]), np.array([[0.4, 0.6]]))
    assert float(kl) == pytest.approx(0.2 * math.log(0.5) + 0.8 * math.log(0.8 / 0.6),
                                      rel=1e-5)


def test_compute_loss_overrides_with_training_still_get_it():
    seen = []

    class Model(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         training=True):
            seen.append(training)
            return super().compute_loss(x, y, y_pred, sample_weight, training) + 1.0

    inputs = keras.Input((2,))
    model = Model(inputs, layers.Dense(1, kernel_initializer="zeros")(inputs))
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    data = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    history = model.fit(*data, epochs=1, batch_size=8, verbose=0, shuffle=False)
    # Keras 3 (TF 2.21 prints these): the loss metric is the override's total,
    # counted once although the override calls the compiled loss.
    assert history.history["loss"] == [pytest.approx(2.0)]
    assert model.evaluate(*data, verbose=0) == pytest.approx(1.8836, abs=1e-4)
    assert seen == [True, False]


def test_vit_patches_match_tf_image_extract_patches():
    images = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    patches = ops.image.extract_patches(images, size=4)
    flat = ops.reshape(patches, (2, 16, 48))
    tf_style = tf.image.extract_patches(images=images, sizes=[1, 4, 4, 1],
                                        strides=[1, 4, 4, 1], rates=[1, 1, 1, 1],
                                        padding="VALID")
    ref = images.reshape(2, 4, 4, 4, 4, 3).transpose(0, 1, 3, 2, 4, 5)
    ref = ref.reshape(2, 16, 48)
    np.testing.assert_allclose(np.asarray(flat), ref)
    np.testing.assert_allclose(np.reshape(np.asarray(tf_style), (2, 16, 48)), ref)
    positions = ops.expand_dims(ops.arange(start=0, stop=16, step=1), axis=0)
    assert tuple(positions.shape) == (1, 16) and positions.dtype == tf.int32


def test_fnet_fourier_mixing_both_spellings():
    x = np.random.default_rng(1).random((3, 8, 6)).astype("float32")
    real, imag = ops.fft2((x, ops.zeros_like(x)))
    ref = np.fft.fft2(x)
    np.testing.assert_allclose(np.asarray(real), ref.real, atol=1e-4)
    np.testing.assert_allclose(np.asarray(imag), ref.imag, atol=1e-4)
    mixed = tf.cast(tf.signal.fft2d(tf.cast(x, dtype=tf.dtypes.complex64)),
                    dtype=tf.dtypes.float32)
    np.testing.assert_allclose(np.asarray(mixed), ref.real, atol=1e-4)


class WarmUpCosine(keras.optimizers.schedules.LearningRateSchedule):
    """keras.io's Keras 3 warmup schedule (keras.ops.cond / keras.ops.where)."""

    def __init__(self, lr_start, lr_max, warmup_steps, total_steps):
        super().__init__()
        self.lr_start, self.lr_max = lr_start, lr_max
        self.warmup_steps, self.total_steps = warmup_steps, total_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        cos = ops.cos(np.pi * (step - self.warmup_steps)
                      / float(self.total_steps - self.warmup_steps))
        learning_rate = 0.5 * self.lr_max * (1 + cos)
        slope = (self.lr_max - self.lr_start) / self.warmup_steps
        warmup = slope * step + self.lr_start
        learning_rate = ops.cond(step < self.warmup_steps, lambda: warmup,
                                 lambda: learning_rate)
        return ops.where(step > self.total_steps, 0.0, learning_rate)


def test_warmup_cosine_schedule_drives_the_optimizer():
    schedule = WarmUpCosine(0.0, 0.1, 10, 100)
    # What TF 2.21 prints for the same schedule.
    assert [round(float(schedule(i)), 5) for i in (0, 5, 10, 50, 100, 150)] == [
        0.0, 0.05, 0.1, 0.05868, 0.0, 0.0]
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.random((96, 4)), rng.random((96, 1)), batch_size=16, verbose=0)
    assert int(optimizer.iterations.numpy()) == 6
    assert float(optimizer.learning_rate) == pytest.approx(0.06, abs=1e-6)


class _Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        low = idx * self.batch_size
        high = min(low + self.batch_size, len(self.x))
        return self.x[low:high], self.y[low:high]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_pydataset_with_worker_arguments_trains():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    data = _Batches(x, y, 16, workers=2, use_multiprocessing=False, max_queue_size=4)
    assert data.workers == 2 and data.max_queue_size == 4
    assert data.use_multiprocessing is False
    assert data.num_batches == 4
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"], steps_per_execution=3, jit_compile=True)
    history = model.fit(data, epochs=20, verbose=0,
                        validation_data=_Batches(x, y, 32))
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.history["accuracy"][-1] >= 0.9
    assert data.epochs_ended == 20
