"""tf.signal FFTs of NumPy input, as the time-series tutorial calls them (round 15)."""

import numpy as np
import pytest

import dlframe as tf


def test_rfft_of_numpy_float64_is_complex64_like_tf():
    # the tutorial runs tf.signal.rfft(df['T (degC)']) on a float64 column: TF
    # converts non-Tensor input to float32 (complex64 output)
    sig = np.sin(np.arange(16.0) / 3.0) + 0.25
    out = tf.signal.rfft(sig)
    assert out.dtype == tf.complex64 and out.shape == (9,)
    np.testing.assert_allclose(out.numpy(), np.fft.rfft(sig), rtol=1e-5, atol=1e-5)
    # ints and lists convert too
    assert tf.signal.rfft(np.arange(8)).dtype == tf.complex64
    assert tf.signal.rfft([1.0, 2.0, 3.0, 4.0]).dtype == tf.complex64
    # a float64 Tensor keeps double precision
    assert tf.signal.rfft(tf.constant(sig)).dtype == tf.complex128


@pytest.mark.parametrize("name,ref", [("fft", np.fft.fft), ("ifft", np.fft.ifft)])
def test_complex_ffts_of_numpy_input_are_complex64(name, ref):
    x = np.arange(8.0) + 1j * np.cos(np.arange(8.0))
    out = getattr(tf.signal, name)(x)
    assert out.dtype == tf.complex64
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=1e-5, atol=1e-5)
    assert getattr(tf.signal, name)(np.arange(8.0)).dtype == tf.complex64
    assert getattr(tf.signal, name)(tf.constant(x)).dtype == tf.complex128


def test_irfft_of_numpy_input_is_float32_and_inverts_rfft():
    sig = np.random.RandomState(0).rand(10)
    spec = np.fft.rfft(sig)
    out = tf.signal.irfft(spec)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), sig, rtol=1e-5, atol=1e-5)
    back = tf.signal.irfft(tf.signal.rfft(tf.constant(sig)))
    assert back.dtype == tf.float64


def test_rfft_numpy_input_matches_in_function():
    sig = np.linspace(0.0, 1.0, 12)

    @tf.function
    def spectrum(x):
        return tf.abs(tf.signal.rfft(x))

    np.testing.assert_allclose(spectrum(sig.astype(np.float32)).numpy(),
                               np.abs(tf.signal.rfft(sig).numpy()), rtol=1e-6)
