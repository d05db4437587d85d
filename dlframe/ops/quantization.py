"""``tf.quantization``: simulated ("fake") quantization for quantization-aware training.

The range [min, max] is first nudged so that 0.0 is exactly representable, inputs
are clamped to the nudged range and snapped to one of ``2**num_bits`` levels (one
fewer with ``narrow_range``). Gradients are straight-through: 1 for inputs inside
the nudged range, 0 outside; with tensor bounds, ``min``/``max`` receive the sum of
the upstream gradient of the inputs clamped to them.
"""

from dlframe.core import dtypes
from dlframe.core.tensor import _tracing_tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.array_dims import reshape
from dlframe.ops.array_meta import stop_gradient
from dlframe.ops.logic import (
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    where,
)
from dlframe.ops.math_binary import maximum, minimum
from dlframe.ops.math_unary import floor, round
from dlframe.ops.reduction import reduce_max, reduce_min

__all__ = ["fake_quant_with_min_max_args", "fake_quant_with_min_max_vars",
           "fake_quant_with_min_max_vars_per_channel", "quantize_and_dequantize",
           "quantize_and_dequantize_v2"]


def _check_bits(num_bits):
    if isinstance(num_bits, bool) or not isinstance(num_bits, int) or \
            not 2 <= num_bits <= 16:
        raise InvalidArgumentError(None, None, f"num_bits must be between 2 and 16, "
                                   f"inclusive. Received: num_bits={num_bits!r}")


def _nudged_range(lo, hi, num_bits, narrow_range):
    """(nudged_min, nudged_max, scale, levels per unit) with the zero point on an
    integer level."""
    qmin = 1.0 if narrow_range else 0.0
    qmax = float(2 ** num_bits - 1)
    scale = (hi - lo) / (qmax - qmin)
    zero = qmin - lo / scale
    zero = where(less(zero, qmin), qmin + 0.0 * zero,
                 where(greater(zero, qmax), qmax + 0.0 * zero, floor(zero + 0.5)))
    per_unit = (qmax - qmin) / (hi - lo)
    return (qmin - zero) * scale, (qmax - zero) * scale, scale, per_unit


def _fake_quant(inputs, lo, hi, num_bits, narrow_range, divide):
    """``divide``: snap with ``/ scale`` (as TF's ``_vars`` kernel) rather than
    ``* levels_per_unit`` (``_args``, ``_per_channel``); in float32 the two pick
    different levels for inputs at exact half levels."""
    _check_bits(num_bits)
    x = convert_to_tensor(inputs, dtype=dtypes.float32)
    lo = convert_to_tensor(lo, dtype=dtypes.float32)
    hi = convert_to_tensor(hi, dtype=dtypes.float32)
    nmin, nmax, scale, per_unit = _nudged_range(stop_gradient(lo), stop_gradient(hi),
                                                num_bits, narrow_range)
    # the nudged bounds carry the gradient of the bounds they were derived from
    nmin = lo + stop_gradient(nmin - lo)
    nmax = hi + stop_gradient(nmax - hi)
    clamped = where(less(x, nmin), nmin + 0.0 * x,
                    where(greater(x, nmax), nmax + 0.0 * x, x))
    shifted = clamped - nmin
    steps = shifted / scale if divide else shifted * per_unit
    levels = floor(steps + 0.5) * scale + nmin
    return clamped + stop_gradient(levels - clamped)


def fake_quant_with_min_max_args(inputs, min=-6.0, max=6.0, num_bits=8,
                                 narrow_range=False, name=None):
    """Fake-quantizes float32 ``inputs`` to a fixed range [min, max].

    Args:
      inputs: float32 tensor.
      min: Python float, lower end of the range (default -6).
      max: Python float, upper end of the range (default 6); must exceed ``min``.
      num_bits: 2 to 16 (default 8).
      narrow_range: quantize into [1, 2**num_bits - 1] instead of [0, 2**num_bits - 1].
      name: ignored.

    Returns:
      float32 tensor of the shape of ``inputs``.
    """
    if not float(min) < float(max):
        raise InvalidArgumentError(None, None, f"min has to be smaller than max, was: "
                                   f"{min} >= {max}")
    return _fake_quant(inputs, float(min), float(max), num_bits, narrow_range,
                       divide=False)


def fake_quant_with_min_max_vars(inputs, min, max, num_bits=8,
                                 narrow_range=False, name=None):
    """Fake-quantizes ``inputs`` to the range given by scalar tensors ``min``/``max``
    (usually trainable variables; they receive gradients).

    Args:
      inputs: float32 tensor.
      min: float32 scalar tensor or variable.
      max: float32 scalar tensor or variable.
      num_bits: 2 to 16 (default 8).
      narrow_range: see ``fake_quant_with_min_max_args``.
      name: ignored.
    """
    for arg, value in (("min", min), ("max", max)):
        if convert_to_tensor(value).shape.rank not in (0, None):
            raise InvalidArgumentError(None, None, f"`{arg}` must be a scalar. "
                                       f"Received: {arg}={value!r}")
    return _fake_quant(inputs, min, max, num_bits, narrow_range, divide=True)


def fake_quant_with_min_max_vars_per_channel(inputs, min, max,
                                             num_bits=8, narrow_range=False,
                                             name=None):
    """Like ``fake_quant_with_min_max_vars`` with one range per channel (the last
    dimension of ``inputs``).

    Args:
      inputs: float32 tensor ``[..., d]``.
      min: float32 ``[d]``.
      max: float32 ``[d]``.
      num_bits: 2 to 16 (default 8).
      narrow_range: see ``fake_quant_with_min_max_args``.
      name: ignored.
    """
    x = convert_to_tensor(inputs, dtype=dtypes.float32)
    depth = x.shape[-1] if x.shape.rank else None
    for arg, value in (("min", min), ("max", max)):
        shape = convert_to_tensor(value).shape
        if shape.rank != 1 or (depth is not None and shape[0] not in (None, depth)):
            raise InvalidArgumentError(None, None, f"`{arg}` must have shape [{depth}] "
                                       f"(the last dimension of `inputs`). Received: "
                                       f"{arg} of shape {shape}")
    return _fake_quant(x, min, max, num_bits, narrow_range, divide=False)


def _channel_bound(value, x, axis):
    """``value`` as a scalar, or shaped to broadcast along ``axis`` of ``x``."""
    value = convert_to_tensor(value, dtype=x.dtype)
    if axis is None:
        return value
    shape = [1] * x.shape.rank
    shape[axis] = -1
    return reshape(value, shape)


def _qdq_forward(x, input_min, input_max, signed_input, num_bits, range_given,
                 round_mode, narrow_range, axis):
    """(quantized-dequantized x, the range mask of the straight-through gradient)."""
    x = convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"`input` must be a floating tensor. Received: dtype={x.dtype}")
    if round_mode not in ("HALF_TO_EVEN", "HALF_UP"):
        raise InvalidArgumentError(None, None, f"Value for attr 'round_mode' of "
                                   f'"{round_mode}" is not in the list of allowed '
                                   'values: "HALF_TO_EVEN", "HALF_UP"')
    if not 0 < num_bits < (62 if signed_input else 63):
        raise InvalidArgumentError(None, None, f"num_bits is out of range: {num_bits} "
                                   f"with signed_input={signed_input}")
    if axis is not None:
        if not -x.shape.rank <= axis < x.shape.rank:
            raise InvalidArgumentError(None, None, f"axis {axis} is out of range for "
                                       f"`input` of rank {x.shape.rank}")
        axis = axis + x.shape.rank if axis < 0 else axis
    given_lo = _channel_bound(input_min, x, axis)
    given_hi = _channel_bound(input_max, x, axis)
    if range_given:
        known = not (_tracing_tensor(given_lo) or _tracing_tensor(given_hi))
        if axis is None and known and float(given_lo) > float(given_hi):
            raise InvalidArgumentError(None, None, f"Invalid range: input_min "
                                       f"{float(given_lo):g} > input_max "
                                       f"{float(given_hi):g}")
        lo, hi = given_lo, given_hi
    else:
        others = None if axis is None else [a for a in range(x.shape.rank) if a != axis]
        lo = _channel_bound(reduce_min(x, axis=others), x, axis)
        hi = _channel_bound(reduce_max(x, axis=others), x, axis)
    if signed_input:
        qmin = -(2.0 ** (num_bits - 1)) + (1.0 if narrow_range else 0.0)
        qmax = 2.0 ** (num_bits - 1) - 1.0
    else:
        qmin, qmax = 0.0, 2.0 ** num_bits - 1.0
    inf = convert_to_tensor(float("inf"), dtype=x.dtype)
    # the larger side of the range decides the scale; the other end is widened
    def side_scale(level, end):   # level / end where they share a sign, else inf
        usable = greater(level * end, 0.0)
        return where(usable, level / where(usable, end, 1.0 + 0.0 * end), inf + 0.0 * end)

    from_min, from_max = side_scale(qmin, lo), side_scale(qmax, hi)
    scale = minimum(from_min, from_max)
    # neither end can set a scale (a zero range, or unsigned levels for a range
    # that is all <= 0): TF outputs zeros
    finite = less(scale, inf)
    scale = where(finite, scale, 1.0)
    lo = where(greater(from_min, from_max), qmin / scale, lo)
    hi = where(greater(from_min, from_max), hi, qmax / scale)
    # TF clamps only to a given range (unsigned levels keep negative data otherwise)
    scaled = (minimum(maximum(x, lo), hi) if range_given else x) * scale
    levels = round(scaled) if round_mode == "HALF_TO_EVEN" else floor(scaled + 0.5)
    mask = logical_and(greater_equal(x, given_lo), less_equal(x, given_hi))
    return x, where(finite, levels / scale, 0.0 * x), mask


def quantize_and_dequantize_v2(input, input_min, input_max, signed_input=True,
                               num_bits=8, range_given=False,
                               round_mode="HALF_TO_EVEN", name=None,
                               narrow_range=False, axis=None):
    """Quantizes ``input`` to ``num_bits`` integer levels and maps them back.

    The scale is chosen so that one end of the range maps exactly onto the extreme
    integer level and the other end is widened to the level range; the gradient is
    1 where ``input_min <= input <= input_max`` (the given arguments) and 0 elsewhere.

    Args:
      input: floating tensor.
      input_min: lower range end (scalar, or ``[d]`` with ``axis``); ignored for the
        forward pass unless ``range_given``.
      input_max: upper range end, as ``input_min``.
      signed_input: levels ``[-2**(b-1), 2**(b-1) - 1]`` (else ``[0, 2**b - 1]``).
      num_bits: bits of the levels.
      range_given: use ``input_min``/``input_max``; otherwise the min/max of
        ``input`` (per channel with ``axis``).
      round_mode: "HALF_TO_EVEN" (default) or "HALF_UP".
      name: ignored.
      narrow_range: drop the most negative signed level.
      axis: the channel axis for per-channel ranges (None: one range).

    Returns:
      a tensor of the dtype and shape of ``input``.
    """
    x, qdq, mask = _qdq_forward(input, input_min, input_max, signed_input, num_bits,
                                range_given, round_mode, narrow_range, axis)
    passed = where(mask, x, stop_gradient(x))
    return passed + stop_gradient(qdq - passed)


def quantize_and_dequantize(input, input_min, input_max, signed_input=True,
                            num_bits=8, range_given=False, round_mode="HALF_TO_EVEN",
                            name=None, narrow_range=False, axis=None):
    """Deprecated TF1 form of ``quantize_and_dequantize_v2`` whose gradient passes
    through unchanged everywhere (see ``quantize_and_dequantize_v2`` for args)."""
    x, qdq, _ = _qdq_forward(input, input_min, input_max, signed_input, num_bits,
                             range_given, round_mode, narrow_range, axis)
    return x + stop_gradient(qdq - x)
