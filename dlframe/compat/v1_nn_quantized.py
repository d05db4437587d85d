"""TF1's quantized ``nn`` ops: ``quantized_avg_pool``, ``quantized_max_pool``,
``quantized_relu_x`` and ``quantized_conv2d``.

A quantized tensor holds integers ``q`` standing for the floats
``min + (q - lowest) * (max - min) / (2**bits - 1)``; each op takes the
``[min, max]`` range beside its input and returns its output's range. dlframe
tensors cannot have TF's ``quint8``/``qint32`` dtypes, so these ops take and
return their storage types instead: ``uint8`` for ``quint8``, ``int8`` for
``qint8``, ``uint16``/``int16`` and ``int32`` for ``qint32`` (NumPy arrays of TF's
structured quantized dtypes are accepted too). The arithmetic is TF's: pools work
on the integers (averages rounded half up), ``quantized_conv2d`` accumulates
``(input - input_zero) * (filter - filter_zero)`` exactly in int32.
"""

import dlframe as _tf

_STORAGE = {"quint8": "uint8", "qint8": "int8", "quint16": "uint16",
            "qint16": "int16", "qint32": "int32"}
_BITS = {"uint8": (8, 0), "int8": (8, -128), "uint16": (16, 0),
         "int16": (16, -32768), "int32": (32, -(2 ** 31))}


def _storage_name(dtype):
    name = _tf.as_dtype(dtype).name
    return _STORAGE.get(name, name)


def _quantized_input(value, arg, op, allowed=("uint8", "int8", "uint16", "int16")):
    """``value`` as an integer Tensor of a storage type in ``allowed``."""
    dtype = getattr(value, "dtype", None)
    names = getattr(dtype, "names", None)
    if names:    # a NumPy array of TF's structured quantized dtype
        value = value.view(dtype[0])
    x = value if isinstance(value, _tf.Tensor) else _tf.convert_to_tensor(value)
    if x.dtype.name not in allowed:
        raise TypeError(f"{op}: `{arg}` must hold quantized values as one of "
                        f"{list(allowed)} (the storage types of "
                        f"{[q for q, s in _STORAGE.items() if s in allowed]}), got "
                        f"dtype {x.dtype.name}")
    return x


def _range(value, arg, op):
    try:
        return float(value.numpy() if hasattr(value, "numpy") else value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: `{arg}` must be a float scalar, got {arg}={value!r}") \
            from None


def _float_to_quantized(value, range_min, range_max, storage, clamp=True):
    """TF's FloatToQuantized: the integer standing for float ``value`` (Python)."""
    bits, lowest = _BITS[storage]
    if range_min == range_max:
        return lowest
    steps = 2 ** bits
    scale = steps / ((range_max - range_min) * steps / (steps - 1))

    def rnd(v):
        return int(abs(v) + 0.5) * (1 if v >= 0 else -1)
    q = rnd(value * scale) - rnd(range_min * scale) + lowest
    return min(max(q, lowest), lowest + steps - 1) if clamp else q


def _scalar(value):
    return _tf.constant(value, dtype=_tf.float32)


def _pool(op, pool_fn, input, min_input, max_input, ksize, strides, padding):
    x = _quantized_input(input, "input", op)
    lo, hi = _range(min_input, "min_input", op), _range(max_input, "max_input", op)
    y = pool_fn(_tf.cast(x, _tf.float64), ksize, strides, padding)
    return y, x.dtype, _scalar(lo), _scalar(hi)


def quantized_max_pool(input, min_input, max_input, ksize, strides, padding,
                       name=None):
    """Max pooling of a quantized 4-D NHWC ``input``.

    Args:
      input: quantized values (see the module doc on storage types).
      min_input, max_input: the floats the lowest and highest values stand for.
      ksize, strides, padding: as in ``tf.nn.max_pool``.
      name: accepted.

    Returns:
      ``(output, min_output, max_output)``; the range is the input's.
    """
    y, dtype, lo, hi = _pool("QuantizedMaxPool", _tf.nn.max_pool, input, min_input,
                             max_input, ksize, strides, padding)
    return _tf.cast(y, dtype), lo, hi


def quantized_avg_pool(input, min_input, max_input, ksize, strides, padding,
                       name=None):
    """Average pooling of a quantized 4-D NHWC ``input`` (averages rounded half
    up); arguments and results as in ``quantized_max_pool``."""
    y, dtype, lo, hi = _pool("QuantizedAvgPool", _tf.nn.avg_pool, input, min_input,
                             max_input, ksize, strides, padding)
    return _tf.cast(_tf.math.floor(y + 0.5), dtype), lo, hi


def quantized_relu_x(features, max_value, min_features, max_features,
                     out_type="quint8", name=None):
    """``min(max(x, 0), max_value)`` on quantized ``features``, computed on the
    integers: clamped to the values standing for 0 and ``max_value``.

    Args:
      features: quantized values (uint8 storage of ``quint8``).
      max_value: the float upper bound.
      min_features, max_features: the floats the lowest and highest values
        stand for.
      out_type: ``quint8`` (its storage type uint8 is returned).
      name: accepted.

    Returns:
      ``(activations, min_activations, max_activations)``: the range is the
      input's. (TF 2.21's CPU build registers no kernel for this op; this is the
      kernel of earlier TF releases.)
    """
    op = "QuantizedReluX"
    x = _quantized_input(features, "features", op)
    if _storage_name(out_type) != x.dtype.name:
        raise TypeError(f"{op}: out_type must match the features' type "
                        f"({x.dtype.name}), got out_type={out_type!r}")
    lo = _range(min_features, "min_features", op)
    hi = _range(max_features, "max_features", op)
    top = _range(max_value, "max_value", op)
    zero_q = _float_to_quantized(0.0, lo, hi, x.dtype.name)
    top_q = _float_to_quantized(top, lo, hi, x.dtype.name)
    y = _tf.clip_by_value(_tf.cast(x, _tf.int32), zero_q, max(zero_q, top_q))
    return _tf.cast(y, x.dtype), _scalar(lo), _scalar(hi)


def quantized_conv2d(input, filter, min_input, max_input, min_filter, max_filter,
                     strides, padding, out_type="qint32", dilations=(1, 1, 1, 1),
                     name=None):
    """2-D convolution of quantized ``input`` and ``filter`` into 32-bit integers.

    Each operand's zero point (the integer standing for 0.0 in its range) is
    subtracted before multiplying, so padding contributes nothing; the
    accumulated products are exact.

    Args:
      input: quantized NHWC input (uint8 or int8 storage).
      filter: quantized ``[h, w, in, out]`` filter (uint8 or int8 storage).
      min_input, max_input, min_filter, max_filter: the operands' float ranges.
      strides, padding, dilations: as in ``tf.nn.conv2d``.
      out_type: ``qint32`` (int32 storage is returned).
      name: accepted.

    Returns:
      ``(output, min_output, max_output)``: int32 ``output``; one output step is
      the product of the operands' float steps, ``min_output`` and ``max_output``
      are that step times the int32 limits.
    """
    op = "QuantizedConv2D"
    if _storage_name(out_type) != "int32":
        raise TypeError(f"{op}: out_type must be qint32, got out_type={out_type!r}")
    x = _quantized_input(input, "input", op, ("uint8", "int8"))
    w = _quantized_input(filter, "filter", op, ("uint8", "int8"))
    lo_x, hi_x = _range(min_input, "min_input", op), _range(max_input, "max_input", op)
    lo_w = _range(min_filter, "min_filter", op)
    hi_w = _range(max_filter, "max_filter", op)
    zero_x = _float_to_quantized(0.0, lo_x, hi_x, x.dtype.name, clamp=False)
    zero_w = _float_to_quantized(0.0, lo_w, hi_w, w.dtype.name, clamp=False)
    # float64 holds every partial sum of 8-bit products exactly
    y = _tf.nn.conv2d(_tf.cast(x, _tf.float64) - zero_x,
                      _tf.cast(w, _tf.float64) - zero_w, strides, padding,
                      dilations=dilations)
    # the output step in float32 arithmetic, as TF computes it
    step = (_scalar(hi_x - lo_x) / 255.0) * (_scalar(hi_w - lo_w) / 255.0)
    bits, lowest = _BITS["int32"]
    return (_tf.cast(y, _tf.int32), step * float(lowest),
            step * float(lowest + 2 ** bits - 1))


__all__ = [
    "quantized_avg_pool",
    "quantized_conv2d",
    "quantized_max_pool",
    "quantized_relu_x",
]
