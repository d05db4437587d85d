"""tf.summary: event files read back with TensorBoard's EventAccumulator."""

import struct
import zlib

import numpy as np
import pytest

import dlframe as tf

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")
from tensorboard.util import tensor_util


@pytest.fixture(autouse=True)
def _clean_state():
    tf.summary.experimental.set_step(None)
    yield
    tf.summary.experimental.set_step(None)


def _read(logdir):
    acc = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.TENSORS: 0}).Reload()
    return acc


def _values(acc, tag):
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def test_scalars_steps_and_name_scopes(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(3):
            assert bool(tf.summary.scalar("loss", 1.5 * step, step=step))
        with tf.name_scope("eval"):
            tf.summary.scalar("acc", tf.constant(0.75), step=7, description="accuracy")
        tf.summary.experimental.set_step(11)
        tf.summary.scalar("lr", np.float64(0.1))
    acc = _read(tmp_path)
    assert set(acc.Tags()["tensors"]) == {"loss", "eval/acc", "lr"}
    assert [(s, float(v)) for s, v in _values(acc, "loss")] == [(0, 0.0), (1, 1.5),
                                                                 (2, 3.0)]
    assert _values(acc, "eval/acc")[0][0] == 7
    assert acc.SummaryMetadata("eval/acc").plugin_data.plugin_name == "scalars"
    assert acc.SummaryMetadata("eval/acc").summary_description == "accuracy"
    step, value = _values(acc, "lr")[0]
    assert step == 11 and value.dtype == np.float32 and value.shape == ()
    np.testing.assert_allclose(value, 0.1)


def test_step_required_and_no_writer(tmp_path):
    assert not bool(tf.summary.scalar("x", 1.0, step=0))  # no default writer: no-op
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.scalar("x", 1.0)
        with pytest.raises(ValueError, match="scalar"):
            tf.summary.scalar("x", [1.0, 2.0], step=0)
    with writer.as_default(step=4):
        assert tf.summary.experimental.get_step() == 4
        tf.summary.scalar("x", 2.0)
    assert tf.summary.experimental.get_step() is None
    assert _values(_read(tmp_path), "x")[0][0] == 4


def test_record_if_noop_writer_and_set_as_default(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        with tf.summary.record_if(False):
            assert not bool(tf.summary.scalar("skipped", 1.0, step=0))
            assert not tf.summary.should_record_summaries()
        steps = []
        with tf.summary.record_if(lambda: len(steps) % 2 == 0):
            for step in range(4):
                tf.summary.scalar("every_other", float(step), step=step)
                steps.append(step)
        assert tf.summary.should_record_summaries()
    with tf.summary.create_noop_writer().as_default():
        assert not bool(tf.summary.scalar("noop", 1.0, step=0))
    writer.set_as_default(step=20)
    try:
        tf.summary.scalar("default", 3.0)
        tf.summary.flush()
    finally:
        tf.summary.create_noop_writer().set_as_default()
    writer.close()
    assert not bool(writer._write(None, 0))  # closed: no more writes
    acc = _read(tmp_path)
    assert "skipped" not in acc.Tags()["tensors"]
    assert [s for s, _ in _values(acc, "every_other")] == [0, 2]
    assert [s for s, _ in _values(acc, "default")] == [20]


def _reference_buckets(data, k):
    data = np.asarray(data, np.float64).ravel()
    lo, hi = data.min(), data.max()
    if hi == lo:
        counts = np.zeros(k)
        counts[-1] = data.size
        return np.stack([np.full(k, hi), np.full(k, hi), counts], 1)
    width = (hi - lo) / k
    idx = np.minimum(np.floor((data - lo) / width).astype(int), k - 1)
    edges = np.linspace(lo, hi, k + 1)
    edges[-1] = hi
    return np.stack([edges[:-1], edges[1:], np.bincount(idx, minlength=k)], 1)


def test_histograms(tmp_path):
    data = np.random.default_rng(0).normal(size=(40, 5)).astype("float32")
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        tf.summary.histogram("weights", tf.constant(data), step=1)
        tf.summary.histogram("few", data, step=2, buckets=4)
        tf.summary.histogram("single", [3.0, 3.0, 3.0], step=3, buckets=5)
        tf.summary.histogram("empty", np.zeros((0,), "float32"), step=4)
    acc = _read(tmp_path)
    assert acc.SummaryMetadata("weights").plugin_data.plugin_name == "histograms"
    weights = _values(acc, "weights")[0][1]
    assert weights.shape == (30, 3) and weights.dtype == np.float64
    assert weights[:, 2].sum() == 200
    np.testing.assert_allclose(weights, _reference_buckets(data, 30), rtol=1e-6)
    np.testing.assert_allclose(_values(acc, "few")[0][1], _reference_buckets(data, 4),
                               rtol=1e-6)
    np.testing.assert_array_equal(_values(acc, "single")[0][1],
                                  _reference_buckets([3.0, 3.0, 3.0], 5))
    np.testing.assert_array_equal(_values(acc, "empty")[0][1], np.zeros((30, 3)))


def test_text(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        tf.summary.text("note", "hello **world**", step=0)
        tf.summary.text("table", tf.constant([["a", "b"], ["c", "d"]]), step=1)
    acc = _read(tmp_path)
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"
    assert _values(acc, "note")[0][1] == b"hello **world**"
    np.testing.assert_array_equal(_values(acc, "table")[0][1],
                                  np.array([[b"a", b"b"], [b"c", b"d"]], dtype=object))


def _decode_png(blob):
    """Minimal decoder for the 8-bit, unfiltered PNGs the writer produces."""
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos:pos + 4])
        kind, data = blob[pos + 4:pos + 8], blob[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", blob[pos + 8 + length:pos + 12 + length])[0] == \
            zlib.crc32(kind + data)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height, depth, color = header[:4]
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, -1)
    assert depth == 8 and (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(height, width, channels)


def test_images(tmp_path):
    rng = np.random.default_rng(1)
    floats = rng.uniform(-0.2, 1.2, size=(5, 4, 6, 3)).astype("float32")
    gray = rng.integers(0, 256, size=(2, 3, 2, 1)).astype("uint8")
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        tf.summary.image("rgb", floats, step=3)  # max_outputs=3
        tf.summary.image("gray", tf.constant(gray), step=4, max_outputs=5)
        with pytest.raises(ValueError, match="rank 4"):
            tf.summary.image("bad", floats[0], step=0)
    acc = _read(tmp_path)
    assert acc.SummaryMetadata("rgb").plugin_data.plugin_name == "images"
    step, rgb = _values(acc, "rgb")[0]
    assert step == 3 and rgb.shape == (5,)
    assert (rgb[0], rgb[1]) == (b"6", b"4")  # width, height
    expected = np.clip(floats[:3] * 255.5, 0, 255).astype(np.uint8)
    for i in range(3):
        np.testing.assert_array_equal(_decode_png(rgb[2 + i]), expected[i])
    gray_values = _values(acc, "gray")[0][1]
    assert gray_values.shape == (4,)
    for i in range(2):
        np.testing.assert_array_equal(_decode_png(gray_values[2 + i]), gray[i])


def test_summaries_inside_function_write_each_call(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    value = tf.Variable(1.0)
    writer = tf.summary.create_file_writer(str(tmp_path))

    @tf.function
    def train_step():
        value.assign(value * 2.0)
        step.assign_add(1)
        with writer.as_default():
            tf.summary.scalar("value", value, step=step)
            tf.summary.histogram("hist", tf.fill([4], value), step=step)

    for _ in range(3):
        train_step()
    writer.flush()
    acc = _read(tmp_path)
    assert [(s, float(v)) for s, v in _values(acc, "value")] == [(1, 2.0), (2, 4.0),
                                                                  (3, 8.0)]
    assert [s for s, _ in _values(acc, "hist")] == [1, 2, 3]


def test_generic_write(tmp_path):
    from tensorboardX.proto import summary_pb2
    meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="custom"))
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        assert bool(tf.summary.write("raw", tf.constant([[1, 2], [3, 4]]), step=5,
                                     metadata=meta))
    acc = _read(tmp_path)
    assert acc.SummaryMetadata("raw").plugin_data.plugin_name == "custom"
    step, value = _values(acc, "raw")[0]
    assert step == 5
    np.testing.assert_array_equal(value, [[1, 2], [3, 4]])
