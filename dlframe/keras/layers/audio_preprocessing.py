"""Keras 3's ``MelSpectrogram``: raw audio to (log-)mel spectrograms.

The STFT is centered as Keras's: the signal is reflect-padded by ``fft_length // 2``
on both sides, each frame of ``fft_length`` samples is multiplied by a periodic
window of ``sequence_length`` samples centered in it, and ``|rfft| ** mag_exp`` goes
through a mel filterbank (``tf.signal.linear_to_mel_weight_matrix``). With
``power_to_db`` the result is in decibels, clipped to ``top_db`` below the largest
value of the batch. Outputs are ``[batch, num_mel_bins, frames]`` (Keras's layout).
"""

import math as _pymath

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras.engine.base_layer import Layer
from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import linalg as _linalg
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops import signal as _signal
from dlframe.ops import signal_spectral as _spectral

_WINDOWS = {"hann": _spectral.hann_window, "hamming": _spectral.hamming_window}


def _positive_int(value, arg):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{arg}` should be a positive integer. Received: "
                         f"{arg}={value!r}")
    return value


class MelSpectrogram(Layer):
    """Mel spectrograms of raw audio ``[batch, samples]`` (or ``[samples]``).

    Args:
      fft_length: FFT size (and frame length) in samples.
      sequence_stride: hop between frames in samples.
      sequence_length: window length (``<= fft_length``; default ``fft_length``).
      window: 'hann', 'hamming' or None (rectangular).
      sampling_rate: samples per second of the audio.
      num_mel_bins: number of mel bands.
      min_freq: lower edge of the lowest band, in Hz.
      max_freq: upper edge of the highest band (default ``sampling_rate / 2``).
      power_to_db: return ``10 log10(S / ref_power)`` instead of ``S``.
      top_db: with ``power_to_db``, the floor below the batch's maximum, in dB.
      mag_exp: exponent of the STFT magnitude (2: power).
      min_power: smallest power taken into the logarithm.
      ref_power: power that maps to 0 dB.
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None,
                 window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0,
                 max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0,
                 min_power=1e-10, ref_power=1.0, **kwargs):
        super().__init__(**kwargs)
        self.fft_length = _positive_int(fft_length, "fft_length")
        self.sequence_stride = _positive_int(sequence_stride, "sequence_stride")
        self.sequence_length = _positive_int(sequence_length or fft_length,
                                             "sequence_length")
        if self.sequence_length > self.fft_length:
            raise ValueError(f"`sequence_length` must not exceed `fft_length`. Received: "
                             f"sequence_length={sequence_length}, "
                             f"fft_length={fft_length}")
        if window is not None and window not in _WINDOWS:
            raise ValueError(f"`window` must be one of {sorted(_WINDOWS)} or None. "
                             f"Received: window={window!r}")
        self.window = window
        self.sampling_rate = _positive_int(sampling_rate, "sampling_rate")
        self.num_mel_bins = _positive_int(num_mel_bins, "num_mel_bins")
        self.min_freq = min_freq
        self.max_freq = max_freq if max_freq is not None else sampling_rate // 2
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self._mel_matrix = None

    def _frame_window(self):
        """The analysis window, centered in a frame of ``fft_length`` samples."""
        length, fft = self.sequence_length, self.fft_length
        if self.window is None:
            window = _creation.ones([length], dtype=self.compute_dtype)
        else:
            window = _WINDOWS[self.window](length, periodic=True, dtype=self.compute_dtype)
        left = (fft - length) // 2
        return _array.pad(window, [[left, fft - length - left]])

    def _mel_weights(self):
        if self._mel_matrix is None:
            self._mel_matrix = _spectral.linear_to_mel_weight_matrix(
                self.num_mel_bins, self.fft_length // 2 + 1, self.sampling_rate,
                self.min_freq, self.max_freq, dtype=self.compute_dtype)
        return self._mel_matrix

    def _spectrogram(self, x):
        half = self.fft_length // 2
        padded = _array.pad(x, [[0, 0], [half, half]], mode="REFLECT")
        frames = _signal.frame(padded, self.fft_length, self.sequence_stride)
        stft = _signal.rfft(_math.multiply(frames, self._frame_window()))
        magnitude = _math.abs(stft)
        return magnitude if self.mag_exp == 1 else _math.pow(magnitude, self.mag_exp)

    def _to_db(self, power):
        def db(value):
            return _math.multiply(_math.log(value), 10.0 / _pymath.log(10.0))
        out = db(_math.maximum(power, self.min_power))
        out = _math.subtract(out, 10.0 * _pymath.log10(max(self.ref_power,
                                                            self.min_power)))
        if self.top_db is not None:
            out = _math.maximum(out, _math.subtract(_red.reduce_max(out), self.top_db))
        return out

    def call(self, inputs):
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if x.dtype.name != self.compute_dtype:
            x = _math.cast(x, self.compute_dtype)
        unbatched = x.shape.rank == 1
        if unbatched:
            x = _array.expand_dims(x, 0)
        if x.shape.rank != 2:
            raise ValueError(f"MelSpectrogram expects inputs of shape (samples,) or "
                             f"(batch, samples). Received: shape={tuple(x.shape)}")
        mel = _linalg.matmul(self._spectrogram(x), self._mel_weights())
        if self.power_to_db:
            mel = self._to_db(mel)
        mel = _array.transpose(mel, [0, 2, 1])
        return mel[0] if unbatched else mel

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).as_list()
        samples = shape[-1]
        frames = None if samples is None else 1 + samples // self.sequence_stride
        return TensorShape(shape[:-1] + [self.num_mel_bins, frames])

    def get_config(self):
        config = super().get_config()
        config.update({
            "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length, "window": self.window,
            "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
            "min_freq": self.min_freq, "max_freq": self.max_freq,
            "power_to_db": self.power_to_db, "top_db": self.top_db,
            "mag_exp": self.mag_exp, "min_power": self.min_power,
            "ref_power": self.ref_power})
        return config


__all__ = ["MelSpectrogram"]
