"""tf.summary in a custom training loop (eager and inside tf.function), read back with
TensorBoard's EventAccumulator and ``tf.make_ndarray`` as TF2 users do."""

import glob

import numpy as np
import pytest

import dlframe as tf


def test_summaries_from_a_training_loop_read_back(tmp_path):
    pytest.importorskip("tensorboardX")
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    writer = tf.summary.create_file_writer(str(tmp_path / "train"))
    var = tf.Variable(1.0)
    opt = tf.keras.optimizers.SGD(0.1)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = var * var
        opt.apply_gradients([(tape.gradient(loss, var), var)])
        with writer.as_default():
            tf.summary.scalar("in_fn", loss, step=opt.iterations)
        return loss

    with writer.as_default():
        for i in range(5):
            loss = step()
            tf.summary.scalar("loss", loss, step=i)
            tf.summary.histogram("weights", tf.random.normal((100,)), step=i)
            tf.summary.text("note", "hello", step=i)
    with writer.as_default(step=7):
        tf.summary.scalar("default_step", 1.0)
    writer.close()
    files = glob.glob(str(tmp_path / "train" / "events.out.tfevents.*"))
    assert len(files) == 1
    acc = ea.EventAccumulator(files[0], size_guidance={"tensors": 0})
    acc.Reload()
    assert sorted(acc.Tags()["tensors"]) == ["default_step", "in_fn", "loss", "note",
                                             "weights"]
    values = [(e.step, float(tf.make_ndarray(e.tensor_proto)))
              for e in acc.Tensors("loss")]
    np.testing.assert_allclose(values, [(i, 0.64 ** i) for i in range(5)], rtol=1e-5)
    assert [e.step for e in acc.Tensors("in_fn")] == [1, 2, 3, 4, 5]
    assert [e.step for e in acc.Tensors("default_step")] == [7]
    assert tf.make_ndarray(acc.Tensors("note")[0].tensor_proto) == b"hello"
    hist = tf.make_ndarray(acc.Tensors("weights")[0].tensor_proto)
    assert hist.shape[1] == 3 and hist[:, 2].sum() == 100


def test_make_tensor_proto_round_trip():
    pytest.importorskip("tensorboardX")
    cases = [(1.5, np.float32, ()), ([[1, 2], [3, 4]], np.int32, (2, 2)),
             (np.arange(6, dtype="int64").reshape(2, 3), np.int64, (2, 3)),
             (np.float16([1, 2]), np.float16, (2,)), (True, np.bool_, ())]
    for value, dtype, shape in cases:
        back = tf.make_ndarray(tf.make_tensor_proto(value))
        assert back.dtype == dtype and back.shape == shape
        np.testing.assert_array_equal(back, np.asarray(value))
    assert tf.make_ndarray(tf.make_tensor_proto("abc")) == b"abc"
    np.testing.assert_array_equal(tf.make_ndarray(tf.make_tensor_proto(3, shape=[2, 2])),
                                  np.full((2, 2), 3))
    np.testing.assert_array_equal(
        tf.make_ndarray(tf.make_tensor_proto(tf.constant([1.0, 2.0]))), [1.0, 2.0])
    with pytest.raises(TypeError, match="shape"):
        tf.make_tensor_proto([1, 2, 3], shape=[2, 2])
