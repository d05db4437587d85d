"""tf.signal: discrete Fourier transforms, framing and overlap-add.

Four primitives carry the transforms over any set of axes (complex FFT and its
inverse, real-input FFT and its inverse); every public transform fits its input to
``fft_length`` with differentiable slices and pads first, so the primitives' gradient
rules only handle exact sizes. Windows, short-time Fourier
transforms, DCTs, mel filterbanks and MFCCs are in ``dlframe.ops.signal_spectral``.
"""

import math as _pymath

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError, InvalidDTypeError
from dlframe.ops import array as arr
from dlframe.ops import math as m
from dlframe.ops._util import t
from dlframe.ops.late_bound import reads_values


def _shape(x):
    return tuple(x._value.shape)


def _count(shape, axes):
    return _pymath.prod(shape[a] for a in axes)


_COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}
_REAL_OF = {"complex64": "float32", "complex128": "float64"}


# ---------------------------------------------------------------- primitives
@primitive("FFTND")
def fftn_p(d, x, *, axes):
    return d.xp.fft.fftn(x, axes=axes).astype(x.dtype, copy=False)


@fftn_p.defgrad
def _fftn_grad(inputs, out, dy, *, axes):
    # y = F x with F^H = n F^-1
    return m.multiply(call(ifftn_p, (dy,), {"axes": axes}),
                      float(_count(_shape(dy), axes)))


@primitive("IFFTND")
def ifftn_p(d, x, *, axes):
    return d.xp.fft.ifftn(x, axes=axes).astype(x.dtype, copy=False)


@ifftn_p.defgrad
def _ifftn_grad(inputs, out, dy, *, axes):
    return m.divide(call(fftn_p, (dy,), {"axes": axes}),
                    float(_count(_shape(dy), axes)))


@primitive("RFFTND")
def rfftn_p(d, x, *, axes):
    return d.xp.fft.rfftn(x, axes=axes).astype(_COMPLEX_OF[x.dtype.name], copy=False)


@rfftn_p.defgrad
def _rfftn_grad(inputs, out, dy, *, axes):
    # rfftn keeps the first n // 2 + 1 bins of the last axis of fftn: its adjoint
    # zero-fills the dropped bins and applies fftn's adjoint, n * ifftn.
    shape = _shape(inputs[0])
    full = _fit(dy, {axes[-1]: shape[axes[-1]]})
    back = call(ifftn_p, (full,), {"axes": axes})
    return m.multiply(m.real(back), float(_count(shape, axes)))


@primitive("IRFFTND")
def irfftn_p(d, x, *, axes, n):
    lengths = [x.shape[a] for a in axes[:-1]] + [n]
    return d.xp.fft.irfftn(x, s=lengths, axes=axes).astype(_REAL_OF[x.dtype.name],
                                                           copy=False)


@irfftn_p.defgrad
def _irfftn_grad(inputs, out, dy, *, axes, n):
    # irfftn sums each interior bin of the last axis twice (it and its mirrored
    # conjugate) and bin 0 (and n / 2 for even n) once, real part only.
    bins = n // 2 + 1
    weights = np.full(bins, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    weights /= _count(_shape(dy), axes)
    axis = axes[-1] % dy._value.ndim
    weights = weights.reshape((bins,) + (1,) * (dy._value.ndim - 1 - axis))
    fwd = call(rfftn_p, (dy,), {"axes": axes})
    return m.multiply(fwd, convert_to_tensor(weights.astype(fwd._value.dtype),
                                             device=fwd._device))


def _fft_static_shape(last):
    """A static-shape rule for a transform whose last transformed axis becomes
    ``last(size, attrs)`` long (the other dims pass through, None where unknown)."""
    def rule(in_dims, attrs):
        dims = in_dims[0]
        if getattr(dims, "unknown_rank", False):
            return None
        dims = list(dims)
        axis = attrs["axes"][-1] % len(dims)
        dims[axis] = last(dims[axis], attrs)
        return dims
    return rule


fftn_p.static_shape = ifftn_p.static_shape = _fft_static_shape(lambda n, attrs: n)
rfftn_p.static_shape = _fft_static_shape(
    lambda n, attrs: None if n is None else n // 2 + 1)
irfftn_p.static_shape = _fft_static_shape(lambda n, attrs: attrs["n"])


# ---------------------------------------------------------------- helpers
def _fit(x, lengths):
    """Crops or zero-pads ``x`` to ``lengths`` ({axis: length})."""
    shape = _shape(x)
    key = [slice(None)] * len(shape)
    pads = [[0, 0] for _ in shape]
    crop = pad = False
    for axis, n in lengths.items():
        if shape[axis] > n:
            key[axis] = slice(0, n)
            crop = True
        elif shape[axis] < n:
            pads[axis][1] = n - shape[axis]
            pad = True
    if crop:
        x = x[tuple(key)]
    if pad:
        x = arr.pad(x, pads)
    if (crop or pad) and STATE.trace is not None:
        # the fitted sizes are known to TF whatever the input's (an fft_length)
        fitted = {axis % len(shape): n for axis, n in lengths.items()}
        x = call(arr.ensure_shape_p, (x,),
                 {"shape": [fitted.get(a) for a in range(len(shape))]})
    return x


def _complex_input(x, op):
    x = t(x)
    if x._value.dtype.kind != "c":
        message = (f"{op}: Value for attr 'Tcomplex' of {x.dtype.name} is not in the "
                   f"list of allowed values: complex64, complex128 [Op:{op}]")
        if op.startswith("IRFFT"):   # TF's wrapper checks first: ValueError
            raise InvalidDTypeError(f"IRFFT requires tf.complex64 or tf.complex128 "
                                    f"inputs, got dtype {x.dtype.name} ({message})")
        raise InvalidArgumentError(message)
    return x


def _real_input(x, op):
    x = t(x)
    if x._value.dtype.name not in _COMPLEX_OF:   # TF 2.21: ValueError
        raise InvalidDTypeError(
            f"RFFT requires tf.float32 or tf.float64 inputs, got dtype "
            f"{x.dtype.name} ({op}: Value for attr 'Treal' of {x.dtype.name} is not "
            f"in the list of allowed values: float, double [Op:{op}])")
    return x


def _axes(x, rank, op, axes=None):
    nd = x._value.ndim
    if axes is None:
        if nd < rank:
            raise InvalidArgumentError(f"{op}: Input must have rank of at least {rank} "
                                       f"but got: {nd} [Op:{op}]")
        return tuple(range(nd - rank, nd))
    axes = [axes] if isinstance(axes, int) else [int(a) for a in axes]
    for a in axes:
        if not -nd <= a < nd:
            raise InvalidArgumentError(f"{op}: axis {a} is out of range for an input of "
                                       f"rank {nd} [Op:{op}]")
    return tuple(a % nd for a in axes)


def _lengths(fft_length, count, op):
    if fft_length is None:
        return None
    if isinstance(fft_length, Tensor):
        fft_length = fft_length.numpy().tolist()
    if isinstance(fft_length, int):
        fft_length = [fft_length]
    lengths = [int(n) for n in fft_length]
    if len(lengths) != count:
        raise InvalidArgumentError(f"{op}: fft_length must have {count} elements, got "
                                   f"{lengths} [Op:{op}]")
    return lengths


def _scale(y, axes, shape, norm, inverse):
    """Applies ``norm`` ('backward' default: 1/n on the inverse, 'ortho', 'forward')."""
    if norm in (None, "backward"):
        return y
    if norm not in ("ortho", "forward"):
        raise ValueError(f"norm must be one of None, 'backward', 'ortho' or 'forward', "
                         f"got {norm!r}")
    n = float(_count(shape, axes))
    if norm == "ortho":
        factor = _pymath.sqrt(n) if inverse else 1.0 / _pymath.sqrt(n)
    else:
        factor = n if inverse else 1.0 / n
    return m.multiply(y, factor)


def _op_input(x, dtype):
    """A non-Tensor input of a TF FFT op (NumPy array, list) converted to the op's
    default ``dtype`` (float32 or complex64), as TF converts it: a float64 array
    gives a complex64 spectrum. Tensors keep their dtype."""
    return x if isinstance(x, Tensor) else convert_to_tensor(x, dtype=dtype)


# ---------------------------------------------------------------- complex FFTs
def _complex_fft(x, rank, op, inverse, fft_length=None, axes=None, norm=None):
    x = _complex_input(_op_input(x, dtypes.complex64), op)
    axes = _axes(x, rank, op, axes)
    lengths = _lengths(fft_length, len(axes), op)
    if lengths is not None:
        x = _fit(x, dict(zip(axes, lengths)))
    y = call(ifftn_p if inverse else fftn_p, (x,), {"axes": axes})
    return _scale(y, axes, _shape(x), norm, inverse)


def fft(input, name=None):  # noqa: A002
    """Fast Fourier transform over the innermost dimension of a complex tensor."""
    return _complex_fft(input, 1, "FFT", False)


def ifft(input, name=None):  # noqa: A002
    """Inverse FFT over the innermost dimension (scaled by 1 / n)."""
    return _complex_fft(input, 1, "IFFT", True)


def fft2d(input, name=None):  # noqa: A002
    """2-D FFT over the two innermost dimensions of a complex tensor."""
    return _complex_fft(input, 2, "FFT2D", False)


def ifft2d(input, name=None):  # noqa: A002
    """Inverse 2-D FFT over the two innermost dimensions."""
    return _complex_fft(input, 2, "IFFT2D", True)


def fft3d(input, name=None):  # noqa: A002
    """3-D FFT over the three innermost dimensions of a complex tensor."""
    return _complex_fft(input, 3, "FFT3D", False)


def ifft3d(input, name=None):  # noqa: A002
    """Inverse 3-D FFT over the three innermost dimensions."""
    return _complex_fft(input, 3, "IFFT3D", True)


def fftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """N-D FFT over ``axes`` (default: all), cropping or zero-padding each to
    ``fft_length``; ``norm`` is None/'backward', 'ortho' or 'forward'."""
    x = t(input_tensor)
    axes = tuple(range(x._value.ndim)) if axes is None else axes
    return _complex_fft(x, None, "FFTND", False, fft_length, axes, norm)


def ifftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """N-D inverse FFT over ``axes`` (see ``fftnd``)."""
    x = t(input_tensor)
    axes = tuple(range(x._value.ndim)) if axes is None else axes
    return _complex_fft(x, None, "IFFTND", True, fft_length, axes, norm)


# ---------------------------------------------------------------- real FFTs
def _rfft(x, rank, op, fft_length=None, axes=None, norm=None):
    x = _real_input(_op_input(x, dtypes.float32), op)
    axes = _axes(x, rank, op, axes)
    lengths = _lengths(fft_length, len(axes), op)
    if lengths is not None:
        x = _fit(x, dict(zip(axes, lengths)))
    y = call(rfftn_p, (x,), {"axes": axes})
    return _scale(y, axes, _shape(x), norm, False)


def _irfft(z, rank, op, fft_length=None, axes=None, norm=None):
    z = _complex_input(_op_input(z, dtypes.complex64), op)
    axes = _axes(z, rank, op, axes)
    shape = _shape(z)
    lengths = _lengths(fft_length, len(axes), op)
    if lengths is None:
        lengths = [shape[a] for a in axes[:-1]] + [2 * (shape[axes[-1]] - 1)]
    fitted = dict(zip(axes, lengths))
    fitted[axes[-1]] = lengths[-1] // 2 + 1
    z = _fit(z, fitted)
    y = call(irfftn_p, (z,), {"axes": axes, "n": lengths[-1]})
    return _scale(y, axes, _shape(y), norm, True)


def rfft(input_tensor, fft_length=None, name=None):
    """FFT of a real signal over its innermost dimension.

    Args:
      input_tensor: a float32 or float64 tensor.
      fft_length: ``[n]``: the signal is cropped or zero-padded to ``n`` first.

    Returns:
      The ``n // 2 + 1`` non-negative frequency bins (complex64/complex128).
    """
    return _rfft(input_tensor, 1, "RFFT", fft_length)


def irfft(input_tensor, fft_length=None, name=None):
    """Inverse of ``rfft``: a real signal of length ``n`` from its ``n // 2 + 1``
    non-negative frequency bins.

    Args:
      input_tensor: a complex64 or complex128 tensor.
      fft_length: ``[n]``, default ``2 * (bins - 1)``; the bins are cropped or
        zero-padded to ``n // 2 + 1`` first.
    """
    return _irfft(input_tensor, 1, "IRFFT", fft_length)


def rfft2d(input_tensor, fft_length=None, name=None):
    """2-D FFT of a real signal over its two innermost dimensions (see ``rfft``)."""
    return _rfft(input_tensor, 2, "RFFT2D", fft_length)


def irfft2d(input_tensor, fft_length=None, name=None):
    """Inverse of ``rfft2d`` (see ``irfft``)."""
    return _irfft(input_tensor, 2, "IRFFT2D", fft_length)


def rfft3d(input_tensor, fft_length=None, name=None):
    """3-D FFT of a real signal over its three innermost dimensions."""
    return _rfft(input_tensor, 3, "RFFT3D", fft_length)


def irfft3d(input_tensor, fft_length=None, name=None):
    """Inverse of ``rfft3d``."""
    return _irfft(input_tensor, 3, "IRFFT3D", fft_length)


def rfftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """N-D FFT of a real signal over ``axes`` (default: all); the last axis keeps
    its ``n // 2 + 1`` non-negative bins."""
    x = t(input_tensor)
    axes = tuple(range(x._value.ndim)) if axes is None else axes
    return _rfft(x, None, "RFFTND", fft_length, axes, norm)


def irfftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None):
    """Inverse of ``rfftnd``."""
    x = t(input_tensor)
    axes = tuple(range(x._value.ndim)) if axes is None else axes
    return _irfft(x, None, "IRFFTND", fft_length, axes, norm)


def _shift(x, axes, sign):
    x = t(x)
    nd = x._value.ndim
    axes = list(range(nd)) if axes is None else \
        [axes] if isinstance(axes, int) else list(axes)
    shifts = [sign * (_shape(x)[a] // 2) for a in axes]
    return arr.roll(x, shifts, axes)


def fftshift(x, axes=None, name=None):
    """Moves the zero-frequency bin to the center of ``axes`` (default: all)."""
    return _shift(x, axes, 1)


def ifftshift(x, axes=None, name=None):
    """Inverse of ``fftshift``."""
    return _shift(x, axes, -1)


# ---------------------------------------------------------------- framing
def _int_arg(v, arg):
    if isinstance(v, Tensor):
        v = v.numpy()
    try:
        out = int(v)
    except (TypeError, ValueError):
        raise TypeError(f"`{arg}` must be an integer, got {v!r}") from None
    return out


def _frame_sizes(samples, length, step, pad_end):
    """(frames, padded sample count) of framing ``samples`` samples."""
    if step < 0:
        return 0, samples
    if pad_end:
        frames = -(-samples // step)
        needed = max((frames - 1) * step + length, samples) if frames else samples
        return frames, needed
    return (1 + (samples - length) // step if samples >= length else 0), samples


def _frame_index(xp, frames, length, step):
    return step * xp.arange(frames)[:, None] + xp.arange(length)[None, :]


@primitive("Frame")
def frame_p(d, x, *, length, step, axis, pad_end, pad_value):
    xp = d.xp
    frames, needed = _frame_sizes(x.shape[axis], length, step, pad_end)
    if needed > x.shape[axis]:
        widths = [(0, 0)] * x.ndim
        widths[axis] = (0, needed - x.shape[axis])
        x = xp.pad(x, widths, constant_values=x.dtype.type(pad_value))   # a host scalar
    return xp.take(x, _frame_index(xp, frames, length, step), axis=axis)


def _frame_static_shape(in_dims, attrs):
    dims, axis = list(in_dims[0]), attrs["axis"]
    frames = None if dims[axis] is None else _frame_sizes(
        dims[axis], attrs["length"], attrs["step"], attrs["pad_end"])[0]
    return dims[:axis] + [frames, attrs["length"]] + dims[axis + 1:]


frame_p.static_shape = _frame_static_shape


@frame_p.defgrad
def _frame_grad(inputs, out, dy, *, length, step, axis, pad_end, pad_value):
    return call(frame_adjoint_p, (dy, inputs[0]), {
        "length": length, "step": step, "axis": axis, "pad_end": pad_end})


def _sum_frames(xp, g, step, out_len):
    """Frames ``g`` ``[frames, length, ...]`` placed ``step`` samples apart and summed
    into ``[out_len, ...]``: frame ``f`` covers blocks ``f .. f + chunks - 1`` of
    ``step`` samples, so chunk ``c`` of every frame is added at once
    (``chunks = ceil(length / step)`` adds)."""
    frames, length = g.shape[:2]
    chunks = max(-(-length // step), 1)
    g = xp.pad(g, [(0, 0), (0, chunks * step - length)] + [(0, 0)] * (g.ndim - 2))
    g = g.reshape((frames, chunks, step) + g.shape[2:])
    blocks = xp.zeros((frames + chunks - 1, step) + g.shape[3:], dtype=g.dtype)
    for c in range(chunks):
        blocks[c:c + frames] += g[:, c]
    flat = blocks.reshape(((frames + chunks - 1) * step,) + g.shape[3:])
    if flat.shape[0] < out_len:
        flat = xp.pad(flat, [(0, out_len - flat.shape[0])] + [(0, 0)] * (flat.ndim - 1))
    return flat[:out_len]


@primitive("FrameAdjoint")
def frame_adjoint_p(d, dy, like, *, length, step, axis, pad_end):
    """Sums framed ``dy`` back onto the samples of ``like`` (the adjoint of Frame)."""
    xp = d.xp
    samples = like.shape[axis]
    frames, _ = _frame_sizes(samples, length, step, pad_end)
    lead, tail = like.shape[:axis], like.shape[axis + 1:]
    if frames == 0 or length == 0 or dy.size == 0:
        return xp.zeros(like.shape, dtype=dy.dtype)
    g = xp.moveaxis(dy.reshape(lead + (frames, length, -1)), (-3, -2), (0, 1))
    flat = xp.moveaxis(_sum_frames(xp, g, step, samples), 0, -1)
    return xp.moveaxis(flat.reshape(lead + tail + (samples,)), -1, axis).copy()


frame_adjoint_p.static_shape = lambda in_dims, attrs: list(in_dims[1])


@frame_adjoint_p.defgrad
def _frame_adjoint_grad(inputs, out, dy, *, length, step, axis, pad_end):
    return call(frame_p, (dy,), {"length": length, "step": step, "axis": axis,
                                 "pad_end": pad_end, "pad_value": 0}), None


def _frame_stand_in(signal, frame_length, frame_step, pad_end=False, pad_value=0,
                    axis=-1, name=None):
    """Frames of one sample (placeholder lengths or steps ``frame`` refuses)."""
    return frame(signal, 1, 1, pad_end, pad_value, axis)


@reads_values("frame_length", "frame_step", stand_in=_frame_stand_in,
              sizes_follow=True)
def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1,
          name=None):
    """Slices ``signal`` into overlapping frames along ``axis``.

    Args:
      signal: a tensor ``[..., samples, ...]``.
      frame_length: samples per frame.
      frame_step: samples between the starts of consecutive frames.
      pad_end: pad the end with ``pad_value`` so that every sample is in a frame
        (``ceil(samples / frame_step)`` frames); otherwise incomplete frames are
        dropped (``1 + (samples - frame_length) // frame_step`` frames).
      pad_value: the padding value.
      axis: the sample axis.

    Returns:
      A tensor ``[..., frames, frame_length, ...]`` (``axis`` replaced by two).
    """
    x = t(signal)
    nd = x._value.ndim
    if nd == 0:
        raise ValueError("frame: `signal` must have rank at least 1, got a scalar")
    ax = _int_arg(axis, "axis")
    if not -nd <= ax < nd:
        raise ValueError(f"frame: axis {ax} is out of range for a signal of rank {nd}")
    ax %= nd
    length, step = _int_arg(frame_length, "frame_length"), _int_arg(frame_step,
                                                                     "frame_step")
    if length < 0 or step == 0:   # TF 2.21: InvalidArgumentError from its kernels
        raise InvalidArgumentError(
            f"frame: `frame_length` must be >= 0 and `frame_step` nonzero, got "
            f"frame_length={length}, frame_step={step}")
    if step < 0 and pad_end:   # TF: no frames without padding; its padded range fails
        raise InvalidArgumentError(f"frame: `frame_step` must be > 0 with "
                                   f"pad_end=True, got frame_step={step}")
    # one primitive that reads the sample count when it runs: a compiled graph (a
    # Dataset.map after decode_wav) stays right when the signal's length changes
    return call(frame_p, (x,), {"length": length, "step": step, "axis": ax,
                                "pad_end": bool(pad_end), "pad_value": pad_value})


def overlap_and_add(signal, frame_step, name=None):
    """Sums overlapping frames back into a signal (the adjoint of ``frame``).

    Args:
      signal: a ``[..., frames, frame_length]`` tensor.
      frame_step: samples between the starts of consecutive frames.

    Returns:
      A ``[..., (frames - 1) * frame_step + frame_length]`` tensor.
    """
    x = t(signal)
    shape = _shape(x)
    if len(shape) < 2:
        raise ValueError(f"overlap_and_add: `signal` must have rank at least 2, got "
                         f"shape {list(shape)}")
    step = _int_arg(frame_step, "frame_step")
    if step <= 0:
        raise ValueError(f"overlap_and_add: frame_step must be positive, got {step}")
    # a primitive that reads the frame count when it runs (see ``frame``)
    return call(overlap_and_add_p, (x,), {"step": step})


@primitive("OverlapAndAdd")
def overlap_and_add_p(d, x, *, step):
    xp = d.xp
    frames, length = x.shape[-2:]
    out_len = max((frames - 1) * step + length, 0)
    if x.size == 0:
        return xp.zeros(x.shape[:-2] + (out_len,), dtype=x.dtype)
    g = xp.moveaxis(x, (-2, -1), (0, 1))
    return xp.moveaxis(_sum_frames(xp, g, step, out_len), 0, -1).copy()


def _overlap_and_add_static_shape(in_dims, attrs):
    dims = list(in_dims[0])
    frames, length = dims[-2:]
    known = frames is not None and length is not None
    return dims[:-2] + [max((frames - 1) * attrs["step"] + length, 0) if known else None]


overlap_and_add_p.static_shape = _overlap_and_add_static_shape


@overlap_and_add_p.defgrad
def _overlap_and_add_grad(inputs, out, dy, *, step):
    x = inputs[0]
    if x._value.size == 0:
        return m.zeros_like(x)
    return call(frame_p, (dy,), {"length": _shape(x)[-1], "step": step, "axis":
                                 dy._value.ndim - 1, "pad_end": False, "pad_value": 0})


SIGNAL_NAMES = ["fft", "fft2d", "fft3d", "fftnd", "fftshift", "frame", "ifft", "ifft2d",
                "ifft3d", "ifftnd", "ifftshift", "irfft", "irfft2d", "irfft3d", "irfftnd",
                "overlap_and_add", "rfft", "rfft2d", "rfft3d", "rfftnd"]
