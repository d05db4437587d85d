"""tf.signal against NumPy/SciPy: FFTs (complex and real, 1-3-N dims, fft_length,
norm), framing and overlap-add, windows, STFT and its inverse, DCTs, mel
filterbanks and MFCCs.

Complex gradients are checked through real and imaginary parts; rfft/irfft's
gradients must account for the bins that stand for two (conjugate) frequencies.
"""

import numpy as np
import pytest
import scipy.fft

import dlframe as tf
from dlframe.errors import InvalidArgumentError
from tests.helpers import check_function_matches_eager, check_grad, check_op

RNG = np.random.default_rng(3)


def _r(*shape):
    return RNG.standard_normal(shape)


def _c(re, im):
    return tf.complex(re, im)


def _parts(z):
    return tf.math.real(z), tf.math.imag(z)


def _np_parts(z):
    return z.real, z.imag


# ---------------------------------------------------------------- complex FFTs
COMPLEX = [("fft", 1, np.fft.fft), ("ifft", 1, np.fft.ifft), ("fft2d", 2, np.fft.fft2),
           ("ifft2d", 2, np.fft.ifft2),
           ("fft3d", 3, lambda z: np.fft.fftn(z, axes=(-3, -2, -1))),
           ("ifft3d", 3, lambda z: np.fft.ifftn(z, axes=(-3, -2, -1)))]


@pytest.mark.parametrize("name,rank,ref", COMPLEX, ids=[c[0] for c in COMPLEX])
def test_complex_fft(name, rank, ref):
    op = getattr(tf.signal, name)
    re, im = _r(2, 3, 4, 5), _r(2, 3, 4, 5)
    check_op(lambda a, b: _parts(op(_c(a, b))), [re, im],
             lambda a, b: _np_parts(ref(a + 1j * b)), rtol=1e-10, atol=1e-10)
    z = (re + 1j * im).astype(np.complex64)
    out = op(z)
    assert out.dtype == tf.complex64
    np.testing.assert_allclose(out.numpy(), ref(z), rtol=1e-4, atol=1e-4)


def test_complex_fft_errors():
    with pytest.raises(InvalidArgumentError, match="Tcomplex"):
        tf.signal.fft(tf.ones([4]))
    with pytest.raises(InvalidArgumentError, match="rank of at least 2"):
        tf.signal.fft2d(tf.complex(tf.ones([4]), tf.ones([4])))


def test_fftnd_lengths_axes_and_norm():
    z = _r(3, 4, 6) + 1j * _r(3, 4, 6)
    out = tf.signal.fftnd(z, fft_length=[5, 4], axes=[0, 2])
    np.testing.assert_allclose(out.numpy(), np.fft.fftn(z, s=[5, 4], axes=[0, 2]))
    for norm in ("backward", "ortho", "forward"):
        np.testing.assert_allclose(tf.signal.fftnd(z, norm=norm).numpy(),
                                   np.fft.fftn(z, norm=norm), atol=1e-12)
        np.testing.assert_allclose(tf.signal.ifftnd(z, axes=[-1], norm=norm).numpy(),
                                   np.fft.ifftn(z, axes=[-1], norm=norm), atol=1e-12)
    check_grad(lambda a, b: _parts(tf.signal.fftnd(_c(a, b), fft_length=[3, 5], axes=[0, 2],
                                                   norm="ortho")),
               [z.real.copy(), z.imag.copy()])


# ---------------------------------------------------------------- real FFTs
@pytest.mark.parametrize("length", [5, 6])
@pytest.mark.parametrize("fft_length", [None, 4, 7, 8])
def test_rfft(length, fft_length):
    n = None if fft_length is None else [fft_length]
    check_op(lambda x: _parts(tf.signal.rfft(x, n)), [_r(2, 3, length)],
             lambda x: _np_parts(np.fft.rfft(x, fft_length)), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("bins", [4, 5])
@pytest.mark.parametrize("fft_length", [None, 5, 6, 9])
def test_irfft(bins, fft_length):
    # the imaginary parts of bin 0 (and of bin n / 2 for even n) do not count
    n = None if fft_length is None else [fft_length]
    check_op(lambda a, b: tf.signal.irfft(_c(a, b), n), [_r(2, bins), _r(2, bins)],
             lambda a, b: np.fft.irfft(a + 1j * b, fft_length), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fft_length", [None, [3, 8], [5, 5]], ids=str)
def test_rfft2d_irfft2d(fft_length):
    x = _r(2, 4, 6)
    check_op(lambda v: _parts(tf.signal.rfft2d(v, fft_length)), [x],
             lambda v: _np_parts(np.fft.rfft2(v, fft_length)), rtol=1e-10, atol=1e-10)
    z = np.fft.rfft2(x) + 0.25j
    check_op(lambda a, b: tf.signal.irfft2d(_c(a, b), fft_length), [z.real, z.imag],
             lambda a, b: np.fft.irfft2(a + 1j * b, fft_length), rtol=1e-10, atol=1e-10)


def test_rfft3d_rfftnd_dtypes_and_round_trip():
    x = _r(2, 3, 4, 6)
    # a float64 Tensor (TF converts a NumPy array to float32 for these ops)
    np.testing.assert_allclose(tf.signal.rfft3d(tf.constant(x)).numpy(),
                               np.fft.rfftn(x, axes=(-3, -2, -1)), atol=1e-12)
    np.testing.assert_allclose(
        tf.signal.irfft3d(tf.signal.rfft3d(tf.constant(x))).numpy(), x, atol=1e-12)
    np.testing.assert_allclose(tf.signal.rfftnd(x, axes=[0, 3]).numpy(),
                               np.fft.rfftn(x, axes=[0, 3]), atol=1e-12)
    np.testing.assert_allclose(
        tf.signal.irfftnd(tf.signal.rfftnd(x, axes=[1, 3]), fft_length=[3, 6],
                          axes=[1, 3]).numpy(), x, atol=1e-12)
    f32 = tf.signal.rfft(x.astype(np.float32))
    assert f32.dtype == tf.complex64
    assert tf.signal.irfft(f32).dtype == tf.float32
    assert tf.signal.irfft(f32).shape == (2, 3, 4, 6)
    with pytest.raises(InvalidArgumentError, match="Treal"):
        tf.signal.rfft(tf.complex(tf.ones([4]), tf.ones([4])))
    with pytest.raises(InvalidArgumentError, match="fft_length"):
        tf.signal.rfft(tf.ones([4]), [4, 4])


def test_fftshift():
    x = _r(4, 5)
    np.testing.assert_allclose(tf.signal.fftshift(x).numpy(), np.fft.fftshift(x))
    np.testing.assert_allclose(tf.signal.ifftshift(x, axes=1).numpy(),
                               np.fft.ifftshift(x, axes=1))
    np.testing.assert_allclose(tf.signal.ifftshift(tf.signal.fftshift(x)).numpy(), x)


# ---------------------------------------------------------------- framing
def _np_frame(x, length, step, pad_end=False, pad_value=0):
    n = x.shape[-1]
    if pad_end:
        frames = -(-n // step)
        extra = max((frames - 1) * step + length - n, 0)
        x = np.concatenate([x, np.full(x.shape[:-1] + (extra,), pad_value, x.dtype)], -1)
    else:
        frames = max(0, 1 + (n - length) // step)
    if not frames:
        return np.zeros(x.shape[:-1] + (0, length), x.dtype)
    return np.stack([x[..., f * step:f * step + length] for f in range(frames)], -2)


@pytest.mark.parametrize("length,step,pad_end", [(4, 3, False), (4, 3, True), (5, 5, True),
                                                 (3, 1, False), (12, 4, False),
                                                 (12, 4, True)])
def test_frame(length, step, pad_end):
    check_op(lambda x: tf.signal.frame(x, length, step, pad_end=pad_end, pad_value=0.5),
             [_r(2, 10)], lambda x: _np_frame(x, length, step, pad_end, 0.5))


def test_frame_axis_and_ints():
    x = np.arange(24).reshape(2, 12)
    out = tf.signal.frame(x.T, 4, 3, axis=0)
    assert out.shape == (3, 4, 2)
    np.testing.assert_array_equal(np.moveaxis(out.numpy(), -1, 0), _np_frame(x, 4, 3))
    ints = tf.signal.frame(tf.range(10), 4, 3, pad_end=True, pad_value=-1)
    np.testing.assert_array_equal(ints.numpy()[-1], [9, -1, -1, -1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="frame_step"):   # TF 2.21
        tf.signal.frame(tf.ones([5]), 2, 0)


def _np_overlap_and_add(frames, step):
    n, length = frames.shape[-2:]
    out = np.zeros(frames.shape[:-2] + ((n - 1) * step + length,))
    for f in range(n):
        out[..., f * step:f * step + length] += frames[..., f, :]
    return out


@pytest.mark.parametrize("step", [1, 2, 3, 7, 9])
def test_overlap_and_add(step):
    check_op(lambda x: tf.signal.overlap_and_add(x, step), [_r(2, 5, 7)],
             lambda x: _np_overlap_and_add(x, step))


# ---------------------------------------------------------------- windows
def _raised_cosine(n, periodic, a, b):
    if n == 1:
        return np.ones(1)
    denom = n if periodic and n % 2 == 0 else n - 1   # TF: odd lengths stay symmetric
    return a - b * np.cos(2 * np.pi * np.arange(n) / denom)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_hann_hamming(n, periodic):
    hann = tf.signal.hann_window(n, periodic)
    assert hann.dtype == tf.float32
    np.testing.assert_allclose(hann.numpy(), _raised_cosine(n, periodic, 0.5, 0.5),
                               atol=1e-6)
    hamming = tf.signal.hamming_window(n, periodic, dtype=tf.float64)
    np.testing.assert_allclose(hamming.numpy(), _raised_cosine(n, periodic, 0.54, 0.46))


def test_other_windows():
    np.testing.assert_allclose(tf.signal.hann_window(5).numpy(), [0, 0.5, 1, 0.5, 0],
                               atol=1e-7)
    np.testing.assert_allclose(tf.signal.kaiser_window(7, beta=4.0, dtype=tf.float64),
                               np.kaiser(7, 4.0), rtol=1e-12)
    assert tf.signal.kaiser_window(1).numpy().tolist() == [1.0]
    k = np.arange(6) + 0.5
    np.testing.assert_allclose(tf.signal.vorbis_window(6, dtype=tf.float64).numpy(),
                               np.sin(np.pi / 2 * np.sin(np.pi * k / 6) ** 2))
    with pytest.raises(ValueError, match="floating"):
        tf.signal.hann_window(4, dtype=tf.int32)


# ---------------------------------------------------------------- stft
def _np_stft(x, length, step, n_fft, pad_end=False):
    frames = _np_frame(x, length, step, pad_end)
    return np.fft.rfft(frames * _raised_cosine(length, True, 0.5, 0.5), n_fft)


@pytest.mark.parametrize("length,step,fft_length,pad_end", [
    (8, 3, None, False), (12, 5, None, True), (12, 5, 20, False), (8, 4, 6, True)])
def test_stft(length, step, fft_length, pad_end):
    n_fft = fft_length or 1 << (length - 1).bit_length()
    check_op(lambda x: _parts(tf.signal.stft(x, length, step, fft_length, pad_end=pad_end)),
             [_r(2, 30)], lambda x: _np_parts(_np_stft(x, length, step, n_fft, pad_end)),
             rtol=1e-10, atol=1e-10)


def test_inverse_stft():
    x = _r(2, 64)
    spec = tf.signal.stft(x, 16, 4)
    assert spec.shape == (2, 13, 9)
    window_fn = tf.signal.inverse_stft_window_fn(4)
    back = tf.signal.inverse_stft(spec, 16, 4, window_fn=window_fn).numpy()
    # perfect reconstruction away from the edges (covered by all 4 windows)
    np.testing.assert_allclose(back[:, 12:-12], x[:, 12:60 - 8], atol=1e-10)
    # without the dual window: irfft, crop, window, overlap-add
    frames = np.fft.irfft(spec.numpy(), 16)[..., :16] * _raised_cosine(16, True, 0.5, 0.5)
    np.testing.assert_allclose(tf.signal.inverse_stft(spec, 16, 4).numpy(),
                               _np_overlap_and_add(frames, 4), atol=1e-10)
    re, im = spec.numpy().real, spec.numpy().imag
    check_grad(lambda a, b: tf.signal.inverse_stft(_c(a, b)[:, :4], 16, 4, fft_length=12),
               [re, im])


# ---------------------------------------------------------------- dct, mel, mfcc
@pytest.mark.parametrize("dct_type,norm", [(1, None), (2, None), (2, "ortho"), (3, None),
                                           (3, "ortho"), (4, None), (4, "ortho")])
def test_dct_idct(dct_type, norm):
    check_op(lambda x: tf.signal.dct(x, type=dct_type, norm=norm), [_r(3, 6)],
             lambda x: scipy.fft.dct(x, type=dct_type, norm=norm), rtol=1e-10, atol=1e-10)
    inverse = {1: 1, 2: 3, 3: 2, 4: 4}[dct_type]
    x = _r(6)
    np.testing.assert_allclose(tf.signal.idct(x, type=dct_type, norm=norm).numpy(),
                               scipy.fft.dct(x, type=inverse, norm=norm), atol=1e-10)


def test_dct_n_and_errors():
    x = _r(2, 6)
    np.testing.assert_allclose(tf.signal.dct(x, n=4).numpy(), scipy.fft.dct(x, n=4))
    np.testing.assert_allclose(tf.signal.dct(x, n=9).numpy(), scipy.fft.dct(x, n=9))
    with pytest.raises(NotImplementedError, match="axis"):
        tf.signal.dct(x, axis=0)
    with pytest.raises(ValueError, match="Type-I"):
        tf.signal.dct(x, type=1, norm="ortho")
    with pytest.raises(ValueError):
        tf.signal.dct(x, type=5)


def _np_mel_matrix(num_mel, num_bins, rate, lower, upper):
    def mel(f):
        return 1127.0 * np.log1p(f / 700.0)
    freqs = mel(np.linspace(0, rate / 2, num_bins))
    edges = np.linspace(mel(lower), mel(upper), num_mel + 2)
    out = np.zeros((num_bins, num_mel))
    for b in range(num_mel):
        lo, mid, hi = edges[b:b + 3]
        tri = np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid))
        out[:, b] = np.maximum(tri, 0)
    out[0] = 0   # the DC bin carries no weight
    return out


def test_linear_to_mel_weight_matrix():
    default = tf.signal.linear_to_mel_weight_matrix()
    assert default.shape == (129, 20) and default.dtype == tf.float32
    np.testing.assert_allclose(default.numpy(), _np_mel_matrix(20, 129, 8000, 125, 3800),
                               atol=1e-5)
    out = tf.signal.linear_to_mel_weight_matrix(10, 33, 16000, 20.0, 8000.0, tf.float64)
    np.testing.assert_allclose(out.numpy(), _np_mel_matrix(10, 33, 16000, 20, 8000),
                               atol=1e-12)
    for bad, match in [((0,), "num_mel_bins"), ((20, 129, 8000, -1.0), "non-negative"),
                       ((20, 129, 8000, 500.0, 400.0), ">="),
                       ((20, 129, 8000, 125.0, 5000.0), "Nyquist")]:
        with pytest.raises(ValueError, match=match):
            tf.signal.linear_to_mel_weight_matrix(*bad)


def test_mfccs_from_log_mel_spectrograms():
    check_op(tf.signal.mfccs_from_log_mel_spectrograms, [_r(2, 5, 8)],
             lambda x: scipy.fft.dct(x, type=2) / np.sqrt(2 * 8), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- compiled pipeline
def test_log_mel_pipeline_in_function_and_gradient():
    mel = tf.signal.linear_to_mel_weight_matrix(8, 17, 8000, 50.0, 4000.0, tf.float64)

    def features(x):
        spec = tf.abs(tf.signal.stft(x, 32, 8))
        log_mel = tf.math.log(tf.tensordot(spec, mel, 1) + 1e-3)
        return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :4]
    x = _r(2, 80)
    check_function_matches_eager(features, [x], rtol=1e-10)
    check_grad(features, [x[:1, :48]], rtol=1e-5, atol=1e-7)
