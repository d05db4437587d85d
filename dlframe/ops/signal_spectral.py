"""tf.signal spectral analysis: windows, short-time Fourier transforms and their
inverse, discrete cosine transforms, mel filterbanks and MFCCs.

All are composites of differentiable ops (no gradient rules of their own).
"""

import math as _pymath

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops import array as arr
from dlframe.ops import math as m
from dlframe.ops.creation import linspace
from dlframe.ops.creation import range as _range
from dlframe.ops.linalg import tensordot
from dlframe.ops.reduction import reduce_sum
from dlframe.ops.signal import (
    _complex_input,
    _fit,
    _int_arg,
    _real_input,
    _shape,
    frame,
    irfft,
    overlap_and_add,
    rfft,
)
from dlframe.ops.special_functions import bessel_i0e


# ---------------------------------------------------------------- windows
def _window_length(window_length, dtype, op):
    n = _int_arg(window_length, "window_length")
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"{op}: dtype must be a floating point type, got {dtype.name}")
    return n, dtype


def _raised_cosine(window_length, periodic, dtype, a, b, op):
    n, dtype = _window_length(window_length, dtype, op)
    if n <= 1:
        return arr.ones([n], dtype)
    # like TF, `periodic` only changes even lengths (odd ones are already symmetric)
    denom = n - 1 + (1 if periodic and n % 2 == 0 else 0)
    k = m.cast(_range(n), dtype)
    return m.subtract(a, m.multiply(b, m.cos(m.multiply(k, 2.0 * _pymath.pi / denom))))


def hann_window(window_length, periodic=True, dtype=dtypes.float32, name=None):
    """Hann window ``0.5 - 0.5 cos(2 pi k / N)``.

    Args:
      window_length: number of samples.
      periodic: for even lengths, ``N = window_length`` (a period of a periodic
        window, for spectral analysis); otherwise ``N = window_length - 1``.
      dtype: a floating dtype.
    """
    return _raised_cosine(window_length, periodic, dtype, 0.5, 0.5, "hann_window")


def hamming_window(window_length, periodic=True, dtype=dtypes.float32, name=None):
    """Hamming window ``0.54 - 0.46 cos(2 pi k / N)`` (see ``hann_window``)."""
    return _raised_cosine(window_length, periodic, dtype, 0.54, 0.46, "hamming_window")


def vorbis_window(window_length, dtype=dtypes.float32, name=None):
    """Vorbis power-complementary window ``sin(pi / 2 sin^2(pi (k + 0.5) / N))``."""
    n, dtype = _window_length(window_length, dtype, "vorbis_window")
    k = m.add(m.cast(_range(n), dtype), 0.5)
    inner = m.square(m.sin(m.multiply(k, _pymath.pi / n)))
    return m.sin(m.multiply(inner, _pymath.pi / 2))


def kaiser_window(window_length, beta=12.0, dtype=dtypes.float32, name=None):
    """Kaiser window ``I0(beta sqrt(1 - (2 k / (N - 1) - 1)^2)) / I0(beta)``.

    Args:
      window_length: number of samples ``N``.
      beta: shape parameter (larger: a wider main lobe and lower side lobes).
      dtype: a floating dtype.
    """
    n, dtype = _window_length(window_length, dtype, "kaiser_window")
    if n <= 1:
        return arr.ones([n], dtype)
    beta = m.cast(beta, dtype)
    ramp = m.subtract(m.multiply(m.cast(_range(n), dtype), 2.0 / (n - 1)), 1.0)
    arg = m.multiply(beta, m.sqrt(m.maximum(m.subtract(1.0, m.square(ramp)), 0.0)))
    # I0(a) / I0(b) = i0e(a) / i0e(b) * exp(a - b), without overflow for large beta
    return m.multiply(m.divide(bessel_i0e(arg), bessel_i0e(beta)),
                      m.exp(m.subtract(arg, beta)))


# ---------------------------------------------------------------- stft
def _default_fft_length(frame_length):
    return 1 << max(int(frame_length) - 1, 0).bit_length()


def stft(signals, frame_length, frame_step, fft_length=None, window_fn=hann_window,
         pad_end=False, name=None):
    """Short-time Fourier transform of real signals.

    Args:
      signals: a float32/float64 ``[..., samples]`` tensor.
      frame_length: samples per frame.
      frame_step: samples between frame starts.
      fft_length: FFT size, default the smallest power of 2 >= ``frame_length``.
      window_fn: ``window_fn(frame_length, dtype=...)`` window applied to each frame
        (None: no window).
      pad_end: zero-pad the end so that every sample is in a frame.

    Returns:
      A complex ``[..., frames, fft_length // 2 + 1]`` tensor.
    """
    x = _real_input(signals, "STFT")
    length = _int_arg(frame_length, "frame_length")
    n_fft = _default_fft_length(length) if fft_length is None else \
        _int_arg(fft_length, "fft_length")
    frames = frame(x, length, frame_step, pad_end=pad_end)
    if window_fn is not None:
        frames = m.multiply(frames, window_fn(length, dtype=x.dtype))
    return rfft(frames, [n_fft])


def inverse_stft(stfts, frame_length, frame_step, fft_length=None, window_fn=hann_window,
                 name=None):
    """Inverse of ``stft``: inverse FFT of each frame, window, overlap-add.

    For perfect reconstruction pass
    ``window_fn=tf.signal.inverse_stft_window_fn(frame_step)``.

    Args:
      stfts: a complex ``[..., frames, fft_length // 2 + 1]`` tensor.
      frame_length, frame_step, fft_length, window_fn: as for ``stft``.

    Returns:
      A real ``[..., samples]`` tensor.
    """
    z = _complex_input(stfts, "InverseSTFT")
    length = _int_arg(frame_length, "frame_length")
    n_fft = _default_fft_length(length) if fft_length is None else \
        _int_arg(fft_length, "fft_length")
    frames = _fit(irfft(z, [n_fft]), {z._value.ndim - 1: length})
    if window_fn is not None:
        frames = m.multiply(frames, window_fn(length, dtype=frames.dtype))
    return overlap_and_add(frames, frame_step)


def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None):
    """A window function for ``inverse_stft`` that undoes ``forward_window_fn``:
    the forward window divided by the overlap-added sum of its squares."""
    step = _int_arg(frame_step, "frame_step")

    def window_fn(frame_length, dtype):
        window = forward_window_fn(frame_length, dtype=dtype)
        length = _shape(window)[0]
        blocks = -(-length // step)
        squares = arr.pad(m.square(window), [[0, blocks * step - length]])
        denom = arr.reshape(squares, [blocks, step])
        denom = arr.reshape(arr.tile(reduce_sum(denom, axis=0, keepdims=True),
                                     [blocks, 1]), [-1])[:length]
        return m.divide(window, denom)
    return window_fn


# ---------------------------------------------------------------- dct
def _dct_matrix(n, dct_type, norm):
    """``C[k, j]``: output ``k`` of the DCT is ``sum_j C[k, j] x[j]`` (float64)."""
    k = np.arange(n, dtype=np.float64)[:, None]
    j = np.arange(n, dtype=np.float64)[None, :]
    ortho = norm == "ortho"
    if dct_type == 1:
        weight = np.full(n, 2.0)
        weight[[0, -1]] = 1.0
        return weight * np.cos(np.pi * k * j / (n - 1))
    if dct_type == 2:
        out = 2.0 * np.cos(np.pi * k * (2 * j + 1) / (2 * n))
        if ortho:
            out[0] *= np.sqrt(1.0 / (4 * n))
            out[1:] *= np.sqrt(1.0 / (2 * n))
        return out
    if dct_type == 3:
        weight = np.full(n, np.sqrt(2.0 / n) if ortho else 2.0)
        weight[0] = np.sqrt(1.0 / n) if ortho else 1.0
        return weight * np.cos(np.pi * j * (2 * k + 1) / (2 * n))
    scale = np.sqrt(2.0 / n) if ortho else 2.0
    return scale * np.cos(np.pi * (2 * k + 1) * (2 * j + 1) / (4 * n))


def dct(input, type=2, n=None, axis=-1, norm=None, name=None):  # noqa: A002
    """Discrete cosine transform of types I-IV over the last dimension (SciPy's
    definitions).

    Args:
      input: a float32/float64 ``[..., samples]`` tensor.
      type: 1, 2, 3 or 4.
      n: crop or zero-pad the signal to ``n`` samples first.
      axis: must be -1.
      norm: None or ``'ortho'`` (orthonormal scaling; not for type I).

    Returns:
      A ``[..., n]`` tensor.
    """
    x = _real_input(input, "DCT")
    if axis != -1:
        raise NotImplementedError(f"axis must be -1. Got: {axis}")
    if type not in (1, 2, 3, 4):
        raise ValueError(f"Types I, II, III and IV (I)DCT are supported, got type {type}")
    if norm not in (None, "ortho"):
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")
    if type == 1 and norm == "ortho":
        raise ValueError("Normalization is not supported for the Type-I DCT.")
    if n is not None:
        n = _int_arg(n, "n")
        if n < 1:
            raise ValueError(f"Invalid value for n: must be positive, got {n}")
        x = _fit(x, {x._value.ndim - 1: n})
    size = _shape(x)[-1]
    if type == 1 and size < 2:
        raise ValueError("Type-I DCT requires at least 2 samples")
    matrix = _dct_matrix(size, type, norm).T.astype(x._value.dtype)
    return tensordot(x, convert_to_tensor(matrix, device=x._device), 1)


def idct(input, type=2, n=None, axis=-1, norm=None, name=None):  # noqa: A002
    """Inverse DCT: the DCT of the inverse type (III for II, II for III; I and IV
    invert themselves), so ``idct(dct(x)) == x`` with ``norm='ortho'`` and
    ``== 2 * N * x`` (``2 * (N - 1) * x`` for type I) without."""
    return dct(input, type={1: 1, 2: 3, 3: 2, 4: 4}.get(type, type), n=n, axis=axis,
               norm=norm)


# ---------------------------------------------------------------- mel
def _hertz_to_mel(frequency):
    """HTK's mel scale ``1127 ln(1 + f / 700)``."""
    return m.multiply(m.log1p(m.divide(frequency, 700.0)), 1127.0)


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129,
                                sample_rate=8000, lower_edge_hertz=125.0,
                                upper_edge_hertz=3800.0, dtype=dtypes.float32, name=None):
    """A matrix mapping linear-frequency spectrogram bins to mel bands.

    Each mel band is a triangle on the mel scale rising from its lower edge to its
    center and falling to its upper edge; adjacent bands share edges. The DC bin
    gets no weight. Multiply a ``[..., num_spectrogram_bins]`` magnitude spectrogram
    by it to get ``[..., num_mel_bins]``.

    Args:
      num_mel_bins: number of mel bands.
      num_spectrogram_bins: number of linear bins (``fft_length // 2 + 1``), spanning
        0 Hz to ``sample_rate / 2``.
      sample_rate: samples per second of the source signal.
      lower_edge_hertz: lower edge of the lowest band.
      upper_edge_hertz: upper edge of the highest band.
      dtype: a floating dtype.

    Returns:
      A ``[num_spectrogram_bins, num_mel_bins]`` tensor.
    """
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating point type. Got: {dtype.name}")
    num_mel_bins = _int_arg(num_mel_bins, "num_mel_bins")
    num_bins = _int_arg(num_spectrogram_bins, "num_spectrogram_bins")
    rate, lower, upper = float(sample_rate), float(lower_edge_hertz), float(upper_edge_hertz)
    if num_mel_bins <= 0:
        raise ValueError(f"num_mel_bins must be positive. Got: {num_mel_bins}")
    if lower < 0.0:
        raise ValueError(f"lower_edge_hertz must be non-negative. Got: {lower_edge_hertz}")
    if lower >= upper:
        raise ValueError(f"lower_edge_hertz {lower_edge_hertz} >= upper_edge_hertz "
                         f"{upper_edge_hertz}")
    if rate <= 0.0:
        raise ValueError(f"sample_rate must be positive. Got: {sample_rate}")
    if upper > rate / 2:
        raise ValueError(f"upper_edge_hertz must not be larger than the Nyquist frequency "
                         f"(sample_rate / 2). Got {upper_edge_hertz} for sample_rate: "
                         f"{sample_rate}")
    zero = m.cast(0.0, dtype)
    frequencies = linspace(zero, m.cast(rate / 2, dtype), num_bins)[1:]
    bins_mel = arr.expand_dims(_hertz_to_mel(frequencies), 1)
    edges = linspace(_hertz_to_mel(m.cast(lower, dtype)), _hertz_to_mel(m.cast(upper, dtype)),
                     num_mel_bins + 2)
    low, center, high = (arr.expand_dims(edges[i:i + num_mel_bins], 0) for i in range(3))
    rising = m.divide(m.subtract(bins_mel, low), m.subtract(center, low))
    falling = m.divide(m.subtract(high, bins_mel), m.subtract(high, center))
    weights = m.maximum(zero, m.minimum(rising, falling))
    return arr.pad(weights, [[1, 0], [0, 0]])


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None):
    """Mel-frequency cepstral coefficients: the type-II DCT of log-mel spectrograms
    over their last dimension, scaled by ``1 / sqrt(2 * num_mel_bins)``."""
    x = _real_input(log_mel_spectrograms, "MFCC")
    if x._value.ndim < 1 or _shape(x)[-1] < 1:
        raise ValueError(f"log_mel_spectrograms must have a non-empty last dimension, "
                         f"got shape {list(_shape(x))}")
    return m.multiply(dct(x, type=2), 1.0 / _pymath.sqrt(2.0 * _shape(x)[-1]))


SIGNAL_NAMES = ["dct", "hamming_window", "hann_window", "idct", "inverse_stft",
                "inverse_stft_window_fn", "kaiser_window", "linear_to_mel_weight_matrix",
                "mfccs_from_log_mel_spectrograms", "stft", "vorbis_window"]
