"""Keras 3's ``STFTSpectrogram``: spectrograms of 1-D signals through convolutions
whose kernels start as a windowed DFT (``initializers.STFT``) and may be trained."""

from dlframe import config as _config
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import initializers
from dlframe.keras.engine.base_layer import Layer
from dlframe.ops import array as _array
from dlframe.ops import conv as _conv
from dlframe.ops import math as _math

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


def _positive_int(value, arg):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{arg}` should be a positive integer. Received: "
                         f"{arg}={value!r}")
    return value


class STFTSpectrogram(Layer):
    """Short-time Fourier transform of ``(batch, time, channels)`` signals.

    Each channel is framed (``frame_length`` samples every ``frame_step``), windowed
    and transformed to ``fft_length // 2 + 1`` frequency bins by two Conv1D kernels
    (real and imaginary parts, initialized by ``initializers.STFT``; trainable
    unless ``trainable=False``).

    Args:
      mode: 'log' (``log`` of the magnitude, floored at ``sqrt(epsilon())``),
        'magnitude', 'psd' (one-sided power: squared magnitude, doubled except in the
        first and last bins), 'real', 'imag', 'angle' (phase) or 'stft' (real then
        imaginary bins).
      frame_length: samples per frame (default 256).
      frame_step: hop between frames (default ``frame_length // 2``).
      fft_length: DFT size, at least ``frame_length`` (default: the next power of
        two).
      window: 'hann', 'hamming', a sequence of ``frame_length`` weights or None.
      periodic: use a periodic window.
      scaling: 'density', 'spectrum' or None (see ``initializers.STFT``).
      padding: 'valid' or 'same' (``ceil(time / frame_step)`` frames).
      expand_dims: keep channels as their own axis (an image-like output).
      data_format: 'channels_last' (default) or 'channels_first'.

    Output shape: channels_last ``(batch, frames, channels * bins)`` or, with
    ``expand_dims``, ``(batch, frames, bins, channels)``; channels_first
    ``(batch, channels * bins, frames)`` or ``(batch, channels, frames, bins)``.
    Bins are grouped per input channel.

    Raises:
      ValueError: an invalid mode, padding, length or data_format.
      TypeError: (at call) a non-floating input.
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in _MODES:
            raise ValueError("Output mode is invalid, it must be one of "
                             f"{', '.join(_MODES)}. Received: mode={mode}")
        if padding not in ("valid", "same"):
            raise ValueError("Padding is invalid, it should be 'valid', 'same'. "
                             f"Received: padding={padding}")
        self.frame_length = _positive_int(frame_length, "frame_length")
        self.frame_step = _positive_int(frame_step or max(frame_length // 2, 1),
                                        "frame_step")
        if fft_length is None:
            fft_length = 1 << (self.frame_length - 1).bit_length()
        self.fft_length = _positive_int(fft_length, "fft_length")
        if self.fft_length < self.frame_length:
            raise ValueError("`fft_length` should be not less than `frame_length`. "
                             f"Received fft_length={fft_length}, "
                             f"frame_length={frame_length}")
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError("`data_format` must be 'channels_last' or "
                             f"'channels_first'. Received: data_format={data_format!r}")
        self.mode = mode
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = data_format
        # validates window and scaling now, as Keras does
        self._init_real = initializers.STFT("real", window, scaling, periodic)
        self._init_imag = initializers.STFT("imag", window, scaling, periodic)

    @property
    def _bins(self):
        return self.fft_length // 2 + 1

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._bins)
        self.real_kernel = self.imag_kernel = None
        if self.mode != "imag":
            self.real_kernel = self.add_weight(name="real_kernel", shape=shape,
                                               initializer=self._init_real)
        if self.mode != "real":
            self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape,
                                               initializer=self._init_imag)
        self.built = True

    def _frames(self, kernel, x):
        return _conv.conv1d(x, _math.cast(kernel, x.dtype), stride=self.frame_step,
                            padding=self.padding.upper())

    def call(self, inputs):
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if not x.dtype.is_floating:
            raise TypeError("Invalid input type. Expected `float16`, `float32` or "
                            f"`float64`. Received: input type={x.dtype}")
        if len(x.shape) != 3:
            raise ValueError("STFTSpectrogram expects inputs of rank 3 (batch, time, "
                             f"channels). Received: shape={tuple(x.shape)}")
        if self.data_format == "channels_last":
            x = _array.transpose(x, [0, 2, 1])
        batch, channels, time = (_array.shape(x)[0], x.shape[1], x.shape[2])
        signals = _array.reshape(x, [-1, time, 1])          # one signal per channel
        real = self._frames(self.real_kernel, signals) if self.real_kernel is not None \
            else None
        imag = self._frames(self.imag_kernel, signals) if self.imag_kernel is not None \
            else None
        out = self._combine(real, imag)                     # (batch*channels, T', F)
        frames, bins = out.shape[1], out.shape[2]
        out = _array.reshape(out, _array.stack([batch, channels, frames, bins]))
        if self.data_format == "channels_last":
            if self.expand_dims:
                return _array.transpose(out, [0, 2, 3, 1])
            out = _array.transpose(out, [0, 2, 1, 3])
            return _array.reshape(out, _array.stack([batch, frames, channels * bins]))
        if self.expand_dims:
            return out
        out = _array.transpose(out, [0, 1, 3, 2])
        return _array.reshape(out, _array.stack([batch, channels * bins, frames]))

    def _combine(self, real, imag):
        mode = self.mode
        if mode == "real":
            return real
        if mode == "imag":
            return imag
        if mode == "stft":
            return _array.concat([real, imag], axis=-1)
        if mode == "angle":
            return _math.atan2(imag, real)
        power = _math.add(_math.square(real), _math.square(imag))
        if mode == "psd":   # one-sided: the negative frequencies fold onto 1..N/2-1
            inner = max(self._bins - 2, 0)   # Keras never doubles the last bin
            weights = ([1.0] + [2.0] * inner + [1.0])[:self._bins]
            return _math.multiply(power, convert_to_tensor(weights, dtype=power.dtype))
        if mode == "magnitude":
            return _math.sqrt(power)
        return _math.multiply(_math.log(_math.maximum(power, _config.epsilon())), 0.5)

    def compute_output_shape(self, input_shape):
        shape = list(TensorShape(input_shape).as_list())
        if self.data_format == "channels_last":
            batch, time, channels = shape
        else:
            batch, channels, time = shape
        frames = None
        if time is not None:
            if self.padding == "same":
                frames = -(-time // self.frame_step)
            else:
                frames = (time - self.frame_length) // self.frame_step + 1
        bins = self._bins * (2 if self.mode == "stft" else 1)
        if self.data_format == "channels_last":
            if self.expand_dims:
                return TensorShape([batch, frames, bins, channels])
            merged = None if channels is None else channels * bins
            return TensorShape([batch, frames, merged])
        if self.expand_dims:
            return TensorShape([batch, channels, frames, bins])
        merged = None if channels is None else channels * bins
        return TensorShape([batch, merged, frames])

    def get_config(self):
        config = super().get_config()
        window = self._init_real.get_config()["window"]
        config.update({"mode": self.mode, "frame_length": self.frame_length,
                       "frame_step": self.frame_step, "fft_length": self.fft_length,
                       "window": window, "periodic": self.periodic,
                       "scaling": self.scaling, "padding": self.padding,
                       "data_format": self.data_format,
                       "expand_dims": self.expand_dims})
        return config


__all__ = ["STFTSpectrogram"]
