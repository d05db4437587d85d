"""tf.bitwise shifts and the tf.audio WAV codec. Expected bytes and values were
recorded from TensorFlow 2.21 (the encoded file is byte-identical)."""

import struct

import numpy as np
import pytest

import dlframe as tf

AUDIO = [[0.0, 0.5], [-0.5, 1.0], [-1.0, 0.25], [0.3, -0.7]]
WAV_TF = (b"RIFF4\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x80>\x00\x00"
          b"\x00\xfa\x00\x00\x04\x00\x10\x00data\x10\x00\x00\x00"
          b"\x00\x00\x00@\x00\xc0\xff\x7f\x00\x80\x00 f&f\xa6")


def test_bitwise_names_and_shifts():
    x = tf.constant([1, -8, 3], tf.int32)
    assert tf.bitwise.left_shift(x, tf.constant([2, 1, 40])).numpy().tolist() == [
        4, -16, -2147483648]    # shift clamped to 31, as TF
    assert tf.bitwise.right_shift(tf.constant([16, -8, 3]), tf.constant([2, 1, 40])
                                  ).numpy().tolist() == [4, -4, 0]
    u = tf.bitwise.right_shift(tf.constant([200], tf.uint8), tf.constant([3], tf.uint8))
    assert u.dtype == tf.uint8 and u.numpy().tolist() == [25]
    assert tf.bitwise.invert(tf.constant([0, 5], tf.int8)).numpy().tolist() == [-1, -6]
    a, b = np.array([12, 10, 7]), np.array([10, 6, 1])
    for name, ref in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                      ("bitwise_xor", np.bitwise_xor)):
        got = getattr(tf.bitwise, name)(tf.constant(a), tf.constant(b))
        np.testing.assert_array_equal(got.numpy(), ref(a, b))
    with pytest.raises(tf.errors.InvalidArgumentError, match="LeftShift"):
        tf.bitwise.left_shift(1.0, 2.0)
    shifted = tf.function(lambda v: tf.bitwise.left_shift(v, 3))(tf.constant([1, 2]))
    assert shifted.numpy().tolist() == [8, 16]


def test_encode_wav_matches_tf_bytes_and_round_trips():
    encoded = tf.audio.encode_wav(tf.constant(AUDIO), 16000)
    assert encoded.dtype == tf.string and encoded.numpy() == WAV_TF
    audio, rate = tf.audio.decode_wav(encoded)
    assert audio.dtype == tf.float32 and rate.dtype == tf.int32 and int(rate) == 16000
    np.testing.assert_allclose(audio.numpy(), AUDIO, atol=1 / 32768)
    assert audio.numpy()[1, 1] == 32767 / 32768   # 1.0 saturates
    clipped = tf.audio.encode_wav(tf.constant([[2.0], [-3.0]]), 8000).numpy()
    assert clipped[44:] == b"\xff\x7f\x00\x80"


def test_decode_wav_channels_samples_and_chunks():
    mono, _ = tf.audio.decode_wav(WAV_TF, desired_channels=1, desired_samples=6)
    np.testing.assert_allclose(mono.numpy()[:, 0], [0, -0.5, -1, 0.3, 0, 0], atol=1e-4)
    three, _ = tf.audio.decode_wav(WAV_TF, desired_channels=3)
    np.testing.assert_array_equal(three.numpy()[:, 2], three.numpy()[:, 1])
    # an extra LIST chunk (odd size: padded to a word) before the data is skipped
    extra = b"LIST" + struct.pack("<I", 3) + b"abc\x00"
    body = b"WAVE" + WAV_TF[12:36] + extra + WAV_TF[36:]   # fmt, LIST, data
    patched = b"RIFF" + struct.pack("<I", len(body)) + body
    audio, rate = tf.audio.decode_wav(patched)
    assert int(rate) == 16000 and audio.shape.as_list() == [4, 2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="too short"):
        tf.audio.decode_wav(b"RIFFxxxx")
    eight_bit = WAV_TF[:34] + struct.pack("<H", 8) + WAV_TF[36:]
    with pytest.raises(tf.errors.InvalidArgumentError, match="16-bit"):
        tf.audio.decode_wav(eight_bit)
    decoded = tf.function(lambda c: tf.audio.decode_wav(c)[0])(tf.constant(WAV_TF))
    np.testing.assert_allclose(decoded.numpy(), AUDIO, atol=1 / 32768)
