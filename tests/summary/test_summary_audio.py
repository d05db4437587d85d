"""tf.summary.audio (WAV bytes as TF 2.21 encodes them) and tf.summary.graph."""

import hashlib
import io
import wave

import numpy as np
import pytest

import dlframe as tf

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")
from tensorboard.util import tensor_util


def _clips():
    t = np.linspace(0, 1, 50, dtype=np.float32)
    x = np.stack([np.sin(2 * np.pi * 4 * t), 1.5 * np.cos(t)], -1)[None]
    return np.concatenate([x, -x])


def test_audio_writes_wav_clips(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        assert bool(tf.summary.audio("snd", _clips(), 8000, step=3, max_outputs=1,
                                     description="two tones"))
    writer.flush()
    acc = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.TENSORS: 0}).Reload()
    event = acc.Tensors("snd")[0]
    value = tensor_util.make_ndarray(event.tensor_proto)
    assert event.step == 3 and value.shape == (1, 2) and value[0, 1] == b""
    meta = acc.SummaryMetadata("snd")
    assert meta.plugin_data.plugin_name == "audio"
    assert meta.plugin_data.content == b"\x10\x0b"   # AudioPluginData(encoding=WAV)
    assert meta.summary_description == "two tones"
    wav = value[0, 0]
    # tf.audio.encode_wav of the same clip in TF 2.21 has this digest
    assert len(wav) == 244
    assert hashlib.md5(wav).hexdigest() == "1bbb2f3baabbd497010ec6764b842391"
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (8000, 2, 50)


def test_audio_validation_and_no_writer(tmp_path):
    assert not bool(tf.summary.audio("snd", _clips(), 8000, step=0))
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        with pytest.raises(ValueError, match="rank 3"):
            tf.summary.audio("snd", np.zeros((4, 2), np.float32), 8000, step=0)
        with pytest.raises(ValueError, match="sample_rate"):
            tf.summary.audio("snd", _clips(), 0, step=0)
        with pytest.raises(ValueError, match="encoding"):
            tf.summary.audio("snd", _clips(), 8000, step=0, encoding="mp3")


def test_graph_writes_nothing_and_says_so(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        assert not bool(tf.summary.graph(object()))
