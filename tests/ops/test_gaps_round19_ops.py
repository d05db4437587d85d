"""Round-19 op error types and values against TF 2.21: real FFTs of the wrong dtype,
HSV conversions of non-RGB images, ``tf.signal.frame`` steps, conv layers on integer
inputs, and softmax rows holding NaN."""

import numpy as np
import pytest

import dlframe as tf

NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------- FFT dtypes
@pytest.mark.parametrize("op", [tf.signal.rfft, tf.signal.rfft2d, tf.signal.rfft3d])
def test_rfft_of_integers_is_a_value_error(op):
    x = tf.zeros([2, 2, 2], tf.int32)
    # TF 2.21: ValueError "RFFT requires tf.float32 or tf.float64 inputs, got: ..."
    with pytest.raises(ValueError, match="RFFT requires tf.float32 or tf.float64"):
        op(x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="int32"):   # Keras 2 era
        op(x)


@pytest.mark.parametrize("op", [tf.signal.irfft, tf.signal.irfft2d])
def test_irfft_of_reals_is_a_value_error(op):
    with pytest.raises(ValueError, match="IRFFT requires tf.complex64 or tf.complex128"):
        op(tf.zeros([2, 2]))


def test_complex_fft_of_reals_stays_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Tcomplex") as info:
        tf.signal.fft(tf.zeros([4]))
    assert not isinstance(info.value, ValueError)   # TF 2.21: the kernel's error


def test_rfft_of_floats_still_matches_numpy():
    x = np.random.default_rng(0).normal(size=(3, 8))
    for dtype, cdtype in [(np.float32, tf.complex64), (np.float64, tf.complex128)]:
        out = tf.signal.rfft(tf.constant(x.astype(dtype)))
        assert out.dtype == cdtype
        np.testing.assert_allclose(out.numpy(), np.fft.rfft(x), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------- HSV channels
@pytest.mark.parametrize("op", [tf.image.rgb_to_hsv, tf.image.hsv_to_rgb])
def test_hsv_of_four_channels_is_failed_precondition(op):
    # TF 2.21: FailedPreconditionError "input must have 3 channels but input only has 4"
    with pytest.raises(tf.errors.FailedPreconditionError, match="3 channels.*4"):
        op(tf.zeros([2, 2, 4]))


def test_hsv_round_trip_still_works():
    rgb = np.random.default_rng(1).uniform(size=(4, 5, 3)).astype(np.float32)
    back = tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(rgb))
    np.testing.assert_allclose(back.numpy(), rgb, atol=1e-5)


# ------------------------------------------------------------- frame
@pytest.mark.parametrize("length, step", [(3, 0), (-1, 1)])
def test_frame_bad_sizes_are_invalid_argument(length, step):
    # TF 2.21: InvalidArgumentError (integer division by zero / a bad range)
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"frame_step={step}"):
        tf.signal.frame(tf.range(10.0), length, step)


def test_frame_negative_step_gives_no_frames():
    out = tf.signal.frame(tf.range(10.0), 3, -1)     # TF 2.21: shape (0, 3)
    assert out.shape.as_list() == [0, 3] and out.dtype == tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError, match="pad_end"):
        tf.signal.frame(tf.range(10.0), 3, -2, pad_end=True)


def test_frame_values_unchanged():
    x = np.arange(10, dtype=np.float32)
    out = tf.signal.frame(x, 4, 3).numpy()
    np.testing.assert_array_equal(out, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    padded = tf.signal.frame(x, 4, 3, pad_end=True).numpy()
    assert padded.shape == (4, 4) and padded[-1].tolist() == [9, 0, 0, 0]


# ------------------------------------------------------------- conv on integers
def test_conv2d_op_on_uint8_is_invalid_argument():
    x, k = tf.zeros([1, 4, 4, 1], tf.uint8), tf.zeros([2, 2, 1, 1], tf.uint8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="uint8"):
        tf.nn.conv2d(x, k, 1, "VALID")
    with pytest.raises(tf.errors.InvalidArgumentError, match="uint8"):
        tf.nn.conv2d(x, tf.zeros([2, 2, 1, 1]), 1, "VALID")
    ints = tf.nn.conv2d(tf.ones([1, 3, 3, 1], tf.int32), tf.ones([2, 2, 1, 1], tf.int32),
                        1, "VALID")
    assert ints.dtype == tf.int32 and ints.numpy().ravel().tolist() == [4, 4, 4, 4]


@pytest.mark.parametrize("layer, shape", [
    (lambda: tf.keras.layers.Conv2D(2, 3), [1, 4, 4, 1]),
    (lambda: tf.keras.layers.Conv1D(2, 3), [1, 4, 1]),
])
@pytest.mark.parametrize("dtype", [tf.uint8, tf.int32])
def test_conv_layer_on_integer_inputs(layer, shape, dtype):
    x = tf.zeros(shape, dtype)
    # Keras 3: ValueError; Keras 2: InvalidArgumentError. The error is both.
    with pytest.raises(ValueError, match=f"inputs of dtype {dtype.name}"):
        layer()(x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="tf.cast"):
        layer()(x)
    out = layer()(tf.cast(x, tf.float32))
    assert out.dtype == tf.float32


def test_dense_on_uint8_still_casts():
    assert tf.keras.layers.Dense(2)(tf.zeros([1, 4], tf.uint8)).dtype == tf.float32


# ------------------------------------------------------------- softmax with NaN
def test_softmax_nan_rows():
    # A NaN poisons its own row only. TF 2.21's float32 CPU kernel gives ragged
    # results there ([1, nan, 2] -> [0, nan, 0], varying with the row length) while
    # its float64 kernel and log_softmax give all-NaN rows; dlframe gives all-NaN.
    x = np.array([[1, NAN, 2], [1, 2, 3], [-INF, 1, 2]], np.float32)
    out = tf.nn.softmax(x).numpy()
    assert np.isnan(out[0]).all()
    e = np.exp(np.array([1, 2, 3]) - 3.0)
    np.testing.assert_allclose(out[1], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(out[2], [0.0, 0.26894142, 0.7310586], rtol=1e-6)
    assert np.isnan(tf.nn.log_softmax(x).numpy()[0]).all()
