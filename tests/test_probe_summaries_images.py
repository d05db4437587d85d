"""Probe regressions: tf.summary inside compiled Keras steps, tf.image rank and
attribute checks.

Expected behaviour marked "TF 2.21" was recorded from TensorFlow 2.21 / Keras 3.
"""

import glob
import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


@pytest.fixture(autouse=True)
def _clean_summary_state():
    tf.summary.experimental.set_step(None)
    yield
    tf.summary.experimental.set_step(None)


def _events(logdir):
    """{tag: [(step, value)]} of every event file in ``logdir``."""
    out = {}
    for path in sorted(glob.glob(os.path.join(str(logdir), "events*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag != "keras":
                    out.setdefault(value.tag, []).append(
                        (event.step, tf.make_ndarray(value.tensor)))
    return out


# ---------------------------------------------------------------- record_if in graphs
def test_record_if_graph_condition_is_checked_at_every_run(tmp_path):
    pytest.importorskip("tensorboardX")
    writer = tf.summary.create_file_writer(str(tmp_path))
    step = tf.Variable(0, dtype=tf.int64)
    traces = []

    @tf.function
    def log(x):
        traces.append(1)
        tf.summary.histogram("h", tf.stack([x, 2.0 * x]), buckets=2)
        return tf.summary.scalar("s", x)

    written = []
    with writer.as_default(step=step), tf.summary.record_if(lambda: step % 3 == 0):
        for i in range(7):
            step.assign(i)
            written.append(bool(log(tf.constant(float(i)))))
        # TF 2.21: a tensor, here a value of no graph (eager)
        assert isinstance(tf.summary.should_record_summaries(), tf.Tensor)
    writer.flush()
    # TF 2.21: [True, False, False, True, False, False, True], one trace
    assert written == [i % 3 == 0 for i in range(7)]
    assert len(traces) == 1
    events = _events(tmp_path)
    assert [(s, float(v)) for s, v in events["s"]] == [(0, 0.0), (3, 3.0), (6, 6.0)]
    # TF 2.21: the histogram of [6, 12] in 2 buckets
    np.testing.assert_allclose(events["h"][-1][1], [[6, 9, 1], [9, 12, 1]])
    assert [s for s, _ in events["h"]] == [0, 3, 6]


def test_python_record_condition_and_writer_are_fixed_at_trace(tmp_path):
    pytest.importorskip("tensorboardX")
    # TF 2.21: a callable returning a Python bool, and the writer, are read when the
    # function is traced; the step Variable is read at every run
    first = tf.summary.create_file_writer(str(tmp_path / "a"))
    second = tf.summary.create_file_writer(str(tmp_path / "b"))
    step = tf.Variable(0, dtype=tf.int64)
    flag = [True]

    @tf.function
    def log(x):
        return tf.summary.scalar("s", x)

    with first.as_default(step=step), tf.summary.record_if(lambda: flag[0]):
        assert bool(log(tf.constant(1.0)))
        step.assign(5)
        flag[0] = False
        assert bool(log(tf.constant(2.0)))
    with second.as_default(step=step):
        step.assign(7)
        assert bool(log(tf.constant(3.0)))
    first.flush()
    second.flush()
    assert [(s, float(v)) for s, v in _events(tmp_path / "a")["s"]] == [
        (0, 1.0), (5, 2.0), (7, 3.0)]
    assert _events(tmp_path / "b") == {}


def test_should_record_summaries_is_a_boolean_tensor(tmp_path):
    pytest.importorskip("tensorboardX")
    assert not bool(tf.summary.should_record_summaries())
    assert tf.summary.should_record_summaries().dtype == tf.bool
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        assert bool(tf.summary.should_record_summaries())
        with tf.summary.record_if(False):
            assert not bool(tf.summary.should_record_summaries())


# ---------------------------------------------------------------- TensorBoard routing
class _LoggingModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self(x, training=True) - y))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        tf.summary.scalar("iters", tf.cast(self.optimizer.iterations, tf.float32))
        tf.summary.histogram("hist", tf.constant([1.0, 2.0, 3.0]))
        return {"loss": loss}

    def test_step(self, data):
        x, y = data
        loss = tf.reduce_mean(tf.square(self(x, training=False) - y))
        tf.summary.scalar("val_metric", loss * 0.0 + 7.0)
        return {"loss": loss}


def _fit_logging_model(logdir, update_freq, run_eagerly):
    inputs = keras.Input((3,))
    model = _LoggingModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", run_eagerly=run_eagerly)
    x = np.arange(24, dtype="float32").reshape(8, 3) / 24
    y = np.ones((8, 1), "float32")
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, validation_data=(x[:4], y[:4]),
              callbacks=[keras.callbacks.TensorBoard(str(logdir),
                                                     update_freq=update_freq)])
    return _events(logdir / "train"), _events(logdir / "validation")


@pytest.mark.parametrize("run_eagerly", [False, True])
@pytest.mark.parametrize("update_freq", [1, 2])
def test_summaries_in_steps_go_to_tensorboard_writers(tmp_path, update_freq,
                                                      run_eagerly):
    pytest.importorskip("tensorboardX")
    train, val = _fit_logging_model(tmp_path, update_freq, run_eagerly)
    # the 1-based training batch count over the whole fit, every update_freq batches
    # (the steps of batch_loss); TF 2.21 fixes step 1 and the record decision at the
    # first trace instead (all 8 at step 1 for update_freq=1, none for 2)
    steps = list(range(update_freq, 9, update_freq))
    assert [s for s, _ in train["batch_loss"]] == steps
    assert [(s, float(v)) for s, v in train["iters"]] == [(s, float(s)) for s in steps]
    assert [(s, v.shape) for s, v in train["hist"]] == [(s, (30, 3)) for s in steps]
    # test batches are counted over every evaluation (2 epochs x 2 batches)
    assert [(s, float(v)) for s, v in val["val_metric"]] == [
        (s, 7.0) for s in range(update_freq, 5, update_freq)]
    # the callback's own epoch summaries are written whatever the batch condition
    assert [s for s, _ in train["epoch_loss"]] == [0, 1]
    assert [s for s, _ in val["epoch_loss"]] == [0, 1]
    # the writers are popped at the end of fit
    assert not bool(tf.summary.should_record_summaries())


def test_epoch_update_freq_routes_no_step_summaries(tmp_path):
    pytest.importorskip("tensorboardX")
    train, val = _fit_logging_model(tmp_path, "epoch", False)
    assert set(train) == {"epoch_loss", "epoch_learning_rate"}   # TF 2.21
    assert set(val) == {"epoch_loss", "evaluation_loss_vs_iterations"}


# ---------------------------------------------------------------- tf.image
RANK_OPS = [tf.image.flip_left_right, tf.image.flip_up_down,
            tf.image.random_flip_left_right, tf.image.random_flip_up_down,
            tf.image.transpose, tf.image.rot90,
            lambda x: tf.image.stateless_random_flip_left_right(x, seed=(1, 2)),
            lambda x: tf.image.stateless_random_flip_up_down(x, seed=(1, 2))]


@pytest.mark.parametrize("op", RANK_OPS)
def test_flips_and_rotations_need_3d_or_4d_images(op):
    # TF 2.21: ValueError "'image' (shape (2, 3)) must be at least three-dimensional."
    for shape in [(), (3,), (2, 3)]:
        with pytest.raises(ValueError, match="at least three-dimensional"):
            op(tf.zeros(shape))
    with pytest.raises(ValueError, match="either 3 or 4 dimensions"):
        op(tf.zeros((1, 1, 2, 2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        op(np.zeros((2, 3)))


def test_flips_still_flip_3d_and_4d():
    image = np.arange(12, dtype="float32").reshape(2, 2, 3)
    np.testing.assert_array_equal(tf.image.flip_left_right(image).numpy(),
                                  image[:, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(image[None]).numpy(),
                                  image[None, ::-1])
    np.testing.assert_array_equal(tf.image.rot90(image).numpy(), np.rot90(image))


@pytest.mark.parametrize("padding", ["same", "valid", "Same", "FULL"])
def test_extract_patches_padding_is_an_exact_attribute(padding):
    # TF 2.21: InvalidArgumentError "Value for attr 'padding' of "same" is not in the
    # list of allowed values: "SAME", "VALID""
    with pytest.raises(tf.errors.InvalidArgumentError, match="padding"):
        tf.image.extract_patches(tf.zeros((1, 4, 4, 1)), [1, 2, 2, 1], [1, 1, 1, 1],
                                 [1, 1, 1, 1], padding)


@pytest.mark.parametrize("op", [tf.image.rgb_to_hsv, tf.image.hsv_to_rgb])
@pytest.mark.parametrize("dtype", [tf.uint8, tf.int32])
def test_hsv_kernels_refuse_integer_tensors(op, dtype):
    # TF 2.21: InvalidArgumentError (the kernels' 'T' attribute takes floats only)
    with pytest.raises(tf.errors.InvalidArgumentError, match="floating"):
        op(tf.zeros((2, 2, 3), dtype))


def test_adjust_hue_keeps_float64():
    # TF 2.21: adjust_hue on a float64 image works and keeps float64
    image = np.random.RandomState(0).rand(2, 2, 3)
    out = tf.image.adjust_hue(tf.constant(image), 0.1)
    assert out.dtype == tf.float64
    np.testing.assert_allclose(
        out.numpy(), tf.image.adjust_hue(image.astype("float32"), 0.1).numpy(),
        rtol=1e-5, atol=1e-6)
