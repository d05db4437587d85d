"""The modified discrete cosine transform (``tf.signal.mdct`` / ``inverse_mdct``) and
the Kaiser-Bessel-derived window, written with dlframe ops (differentiable)."""

import math as _pymath

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.tensor import convert_to_tensor
from dlframe.ops import math as m
from dlframe.ops.array_dims import transpose
from dlframe.ops.array_join import concat
from dlframe.ops.array_tile_pad import reverse
from dlframe.ops.linalg import tensordot
from dlframe.ops.reduction import cumsum
from dlframe.ops.signal import _int_arg, _real_input, frame, overlap_and_add
from dlframe.ops.signal_spectral import _window_length, kaiser_window, vorbis_window


def kaiser_bessel_derived_window(window_length, beta=12.0, dtype=dtypes.float32,
                                 name=None):
    """The Kaiser-Bessel-derived window (power complementary, for the MDCT):
    ``w[k] = sqrt(cumsum(kaiser)[k] / sum(kaiser))`` on the first half, from a Kaiser
    window of ``window_length // 2 + 1`` samples, mirrored on the second half.

    Args:
      window_length: number of samples.
      beta: the Kaiser shape parameter.
      dtype: a floating dtype.
    """
    n, dtype = _window_length(window_length, dtype, "kaiser_bessel_derived_window")
    half = n // 2
    kaiser = kaiser_window(half + 1, beta, dtype)
    csum = cumsum(kaiser)
    first = m.sqrt(m.divide(csum[:half], csum[half]))
    return concat([first, reverse(first, [0])], 0)


def _mdct_basis(frame_length, dtype):
    """``cos(pi / half (n + 1/2 + half / 2)(k + 1/2))``: ``[frame_length, half]``."""
    half = frame_length // 2
    n = np.arange(frame_length)[:, None] + 0.5 + half / 2
    k = np.arange(half)[None, :] + 0.5
    return convert_to_tensor(np.cos(_pymath.pi / half * n * k).astype(dtype._np))


def _windowed(frames, window_fn, length):
    """Frames times the window; without one, times the constant ``1 / sqrt(2)``
    (as TF: the rectangular window that is power complementary)."""
    if window_fn is None:
        return m.multiply(frames, 1.0 / _pymath.sqrt(2.0))
    return m.multiply(frames, window_fn(length, dtype=frames.dtype))


def _check_norm(norm):
    if norm not in (None, "ortho"):
        raise ValueError(f"norm must be None or 'ortho', got {norm!r}")


def mdct(signals, frame_length, window_fn=vorbis_window, pad_end=False, norm=None,
         name=None):
    """MDCT of real signals, on frames of ``frame_length`` samples that overlap by
    half.

    Args:
      signals: a float32/float64 ``[..., samples]`` tensor.
      frame_length: samples per frame, a multiple of 4.
      window_fn: ``window_fn(frame_length, dtype=...)`` applied to each frame (None:
        the constant ``1 / sqrt(2)``, as TF); the default Vorbis window gives
        perfect reconstruction.
      pad_end: zero-pad the end so that every sample is in a frame.
      norm: None (``X[k] = 2 sum_n w[n] x[n] cos(pi / H (n + 1/2 + H / 2)(k + 1/2))``
        with ``H = frame_length / 2``) or "ortho" (``2 / sqrt(frame_length)`` in
        place of the 2, an orthonormal transform).

    Returns:
      A ``[..., frames, frame_length // 2]`` tensor.

    Raises:
      ValueError: ``frame_length`` not a multiple of 4, or a bad ``norm``.
    """
    x = _real_input(signals, "MDCT")
    length = _int_arg(frame_length, "frame_length")
    if length % 4:
        raise ValueError("The frame length must be a multiple of 4.")
    _check_norm(norm)
    frames = _windowed(frame(x, length, length // 2, pad_end=pad_end), window_fn,
                       length)
    scale = 2.0 / _pymath.sqrt(length) if norm == "ortho" else 2.0
    return m.multiply(tensordot(frames, _mdct_basis(length, x.dtype), 1), scale)


def inverse_mdct(mdcts, window_fn=vorbis_window, norm=None, name=None):
    """Inverse of ``mdct``: inverse transform of each frame, window, overlap-add.

    With the window ``mdct`` used (power complementary, as the Vorbis and
    Kaiser-Bessel-derived windows are) and the same ``norm``, every sample covered
    by two frames is reconstructed exactly.

    Args:
      mdcts: a float ``[..., frames, frame_length // 2]`` tensor.
      window_fn: as for ``mdct``.
      norm: None or "ortho".

    Returns:
      A ``[..., samples]`` tensor.
    """
    z = _real_input(mdcts, "InverseMDCT")
    _check_norm(norm)
    half = int(z._value.shape[-1])
    length = 2 * half
    basis = _mdct_basis(length, z.dtype)
    frames = tensordot(z, transpose(basis), 1)
    scale = 2.0 / _pymath.sqrt(length) if norm == "ortho" else 1.0 / half
    frames = _windowed(m.multiply(frames, scale), window_fn, length)
    return overlap_and_add(frames, half)


SIGNAL_NAMES = ["inverse_mdct", "kaiser_bessel_derived_window", "mdct"]
