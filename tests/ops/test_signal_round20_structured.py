"""Framing, overlap-add and tensordot in graphs whose sizes follow the data.

Found running the keras.io speech-recognition (CTC) example shrunk: a ``Dataset.map``
decoding WAV files of different lengths and taking their STFT replayed one graph
whose framing, tensordot and overlap-add had the first file's sizes baked in.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op


def _frame_ref(x, length, step, pad_end=False, pad_value=0, axis=-1):
    x = np.moveaxis(np.asarray(x), axis, -1)
    samples = x.shape[-1]
    if pad_end:
        frames = -(-samples // step)
        needed = max((frames - 1) * step + length, samples) if frames else samples
        pad = [(0, 0)] * (x.ndim - 1) + [(0, needed - samples)]
        x = np.pad(x, pad, constant_values=pad_value)
    else:
        frames = 1 + (samples - length) // step if samples >= length else 0
    index = step * np.arange(frames)[:, None] + np.arange(length)[None, :]
    out = x[..., index]   # [..., frames, length]
    axis = axis % (out.ndim - 1)
    return np.moveaxis(out, (-2, -1), (axis, axis + 1))


def _overlap_and_add_ref(x, step):
    x = np.asarray(x)
    frames, length = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (max((frames - 1) * step + length, 0),), x.dtype)
    for f in range(frames):
        out[..., f * step:f * step + length] += x[..., f, :]
    return out


@pytest.mark.parametrize("shape,length,step,pad_end,axis", [
    ((13,), 4, 3, False, -1),
    ((2, 11), 5, 2, True, -1),
    ((9, 2), 3, 4, True, 0),      # step > length: gaps between frames
    ((2, 10, 3), 4, 4, False, 1),
    ((2, 3), 5, 2, False, -1),    # shorter than a frame: no frames
])
def test_frame_matches_numpy_with_gradients(shape, length, step, pad_end, axis):
    x = np.random.default_rng(0).normal(size=shape)
    check_op(lambda s: tf.signal.frame(s, length, step, pad_end=pad_end, axis=axis),
             [x], lambda s: _frame_ref(s, length, step, pad_end, axis=axis))


def test_frame_pad_value():
    got = tf.signal.frame(tf.constant([1, 2, 3, 4, 5]), 2, 2, pad_end=True, pad_value=9)
    np.testing.assert_array_equal(got.numpy(), [[1, 2], [3, 4], [5, 9]])


@pytest.mark.parametrize("shape,step", [((2, 4, 5), 2), ((3, 2), 5), ((1, 6), 3)])
def test_overlap_and_add_matches_numpy_with_gradients(shape, step):
    x = np.random.default_rng(1).normal(size=shape)
    check_op(lambda s: tf.signal.overlap_and_add(s, step), [x],
             lambda s: _overlap_and_add_ref(s, step))


def test_gradients_of_gradients_are_the_adjoints():
    # d/dw <d/dx sum(frame(x) * w), u> = frame(u): the adjoint's own gradient
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(11,)))
    u = rng.normal(size=(11,))
    w = tf.Variable(rng.normal(size=(4, 5)))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.signal.frame(x, 5, 2) * w)
        dx = inner.gradient(y, x)
        z = tf.reduce_sum(dx * u)
    np.testing.assert_allclose(outer.gradient(z, w).numpy(), _frame_ref(u, 5, 2))
    frames = tf.constant(rng.normal(size=(4, 5)))
    v = tf.Variable(rng.normal(size=(11,)))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(frames)
            y = tf.reduce_sum(tf.signal.overlap_and_add(frames, 2) * v)
        dframes = inner.gradient(y, frames)
        z = tf.reduce_sum(dframes * np.ones((4, 5)))
    np.testing.assert_allclose(outer.gradient(z, v).numpy(),
                               _overlap_and_add_ref(np.ones((4, 5)), 2))


def test_sizes_that_follow_values_in_one_graph():
    weights = np.arange(12, dtype="float32").reshape(3, 4)
    rows = tf.function(lambda x, m: tf.tensordot(tf.boolean_mask(x, m), weights, 1))
    frames = tf.function(lambda x, m: tf.signal.frame(tf.boolean_mask(x, m), 2, 1))
    added = tf.function(lambda x, m: tf.signal.overlap_and_add(
        tf.reshape(tf.boolean_mask(x, m), [-1, 2]), 1))
    x = np.arange(15, dtype="float32").reshape(5, 3)
    for mask in ([True, False, True, True, False], [True] * 5, [False] * 5):
        mask = np.array(mask)
        np.testing.assert_allclose(rows(x, mask).numpy(), x[mask] @ weights)
        flat = x.reshape(-1)[:5][mask]
        np.testing.assert_array_equal(frames(x.reshape(-1)[:5], mask).numpy(),
                                      _frame_ref(flat, 2, 1))
    signal = np.arange(6, dtype="float32")
    for keep in (4, 6):
        mask = np.arange(6) < keep
        np.testing.assert_array_equal(added(signal, mask).numpy(),
                                      _overlap_and_add_ref(signal[:keep].reshape(-1, 2), 1))


def test_static_shapes_of_unknown_lengths():
    def out_shape(fn, shape, dtype=tf.float32):
        spec = tf.TensorSpec(shape, dtype)
        traced = tf.function(fn, input_signature=[spec]).get_concrete_function()
        return tuple(traced.structured_outputs.shape)

    # expected shapes from TF 2.21
    assert out_shape(lambda x: tf.signal.frame(x, 64, 32), [None]) == (None, 64)
    assert out_shape(lambda x: tf.signal.frame(x, 64, 32, pad_end=True), [160]) == (5, 64)
    assert out_shape(lambda x: tf.signal.frame(x, 64, 32, axis=0), [None, 3]) == \
        (None, 64, 3)
    assert out_shape(lambda x: tf.signal.stft(x, 64, 32), [None]) == (None, 33)
    assert out_shape(lambda x: tf.signal.stft(x, 64, 32), [2, None]) == (2, None, 33)
    assert out_shape(lambda x: tf.signal.rfft(x, fft_length=[16]), [None]) == (9,)
    assert out_shape(lambda x: tf.signal.rfft(x), [None]) == (None,)
    assert out_shape(lambda x: tf.signal.overlap_and_add(x, 3), [2, None, 4]) == (2, None)
    assert out_shape(lambda x: tf.signal.inverse_stft(x, 64, 32), [None, 33],
                     tf.complex64) == (None,)
