"""Keras 3 ``keras.ops`` convolutions and pooling over 1-D, 2-D and 3-D inputs with
Keras argument names (``strides``, ``padding='valid'``, ``data_format``,
``dilation_rate``) on top of the ``tf.nn`` kernels.
"""

from dlframe import config
from dlframe.ops import array as _a
from dlframe.ops import conv as _cv
from dlframe.ops import pooling as _pl
from dlframe.ops.numpy_api import float_tensor, promote, to_float

_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
_FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _setup(inputs, data_format, op):
    x = float_tensor(inputs)
    r = x._value.ndim - 2
    if r not in (1, 2, 3):
        raise ValueError(f"{op}: `inputs` must have rank 3, 4 or 5, got shape "
                         f"{tuple(x._value.shape)}")
    fmt = data_format or config.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: `data_format` must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}")
    return x, r, fmt == "channels_last"


def _padding(padding, op):
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError(f"{op}: `padding` must be 'valid' or 'same', got {padding!r}")
    return p.upper()


def _tuple(v, r, arg, op):
    vals = tuple(int(i) for i in v) if isinstance(v, (list, tuple)) else (int(v),) * r
    if len(vals) != r:
        raise ValueError(f"{op}: `{arg}` must be an int or {r} ints, got {v!r}")
    return vals


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution; ``kernel`` is ``[*window, in_channels / groups, filters]``.

    Args:
      inputs: ``[batch, *spatial, channels]`` (channels first with 'channels_first').
      kernel: the filters.
      strides: int or one per spatial axis.
      padding: 'valid' or 'same'.
      data_format: 'channels_last' or 'channels_first' (default: the Keras config).
      dilation_rate: int or one per spatial axis.
    """
    x, r, last = _setup(inputs, data_format, "conv")
    x, w = promote(x, kernel)
    return _cv.convolution(x, to_float(w), strides=_tuple(strides, r, "strides", "conv"),
                           padding=_padding(padding, "conv"),
                           data_format=(_LAST if last else _FIRST)[r],
                           dilations=_tuple(dilation_rate, r, "dilation_rate", "conv"))


def _as_2d(x, w, r, last):
    """A 1-D depthwise problem as a 2-D one with a unit height."""
    if r == 2:
        return x, w
    return _a.expand_dims(x, 1 if last else 2), _a.expand_dims(w, 0)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise 1-D/2-D convolution; ``kernel`` is ``[*window, in_channels,
    multiplier]``.

    Args:
      inputs: ``[batch, *spatial, channels]``.
      kernel: the depthwise filters.
      strides: int or one per spatial axis.
      padding: 'valid' or 'same'.
      data_format: 'channels_last' or 'channels_first'.
      dilation_rate: int or one per spatial axis.
    """
    x, r, last = _setup(inputs, data_format, "depthwise_conv")
    if r == 3:
        raise ValueError("depthwise_conv: only 1-D and 2-D inputs are supported")
    x, w = promote(x, kernel)
    x, w = _as_2d(x, to_float(w), r, last)
    s = (1,) * (2 - r) + _tuple(strides, r, "strides", "depthwise_conv")
    dil = (1,) * (2 - r) + _tuple(dilation_rate, r, "dilation_rate", "depthwise_conv")
    stride4 = (1,) + s + (1,) if last else (1, 1) + s
    y = _cv.depthwise_conv2d(x, w, stride4, _padding(padding, "depthwise_conv"),
                             data_format="NHWC" if last else "NCHW", dilations=dil)
    return y if r == 2 else _a.squeeze(y, 1 if last else 2)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1,
                   padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution followed by a pointwise (1x1) convolution.

    Args:
      inputs: ``[batch, *spatial, channels]``.
      depthwise_kernel: ``[*window, in_channels, multiplier]``.
      pointwise_kernel: ``[*ones, in_channels * multiplier, filters]``.
      strides: int or one per spatial axis.
      padding: 'valid' or 'same'.
      data_format: 'channels_last' or 'channels_first'.
      dilation_rate: int or one per spatial axis.
    """
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                       dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format)


def _transpose_length(n, k, stride, padding, output_padding, dilation):
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return n * stride + max(k - stride, 0) if padding == "VALID" else n * stride
    pad = k // 2 if padding == "SAME" else 0
    return (n - 1) * stride + k - 2 * pad + output_padding


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed N-D convolution; ``kernel`` is ``[*window, filters, in_channels]``.

    Args:
      inputs: ``[batch, *spatial, channels]``.
      kernel: the filters.
      strides: int or one per spatial axis.
      padding: 'valid' or 'same'.
      output_padding: optional extra size per spatial axis.
      data_format: 'channels_last' or 'channels_first'.
      dilation_rate: int or one per spatial axis.
    """
    op = "conv_transpose"
    x, r, last = _setup(inputs, data_format, op)
    x, w = promote(x, kernel)
    w = to_float(w)
    s = _tuple(strides, r, "strides", op)
    dil = _tuple(dilation_rate, r, "dilation_rate", op)
    pad = _padding(padding, op)
    outp = [None] * r if output_padding is None else _tuple(output_padding, r,
                                                            "output_padding", op)
    shape = x._value.shape
    sp = shape[1:-1] if last else shape[2:]
    out_sp = [_transpose_length(sp[i], w._value.shape[i], s[i], pad, outp[i], dil[i])
              for i in range(r)]
    filters = w._value.shape[r]
    out_shape = [shape[0]] + out_sp + [filters] if last else [shape[0], filters] + out_sp
    return _cv.conv_transpose(x, w, out_shape, s, pad,
                              data_format=(_LAST if last else _FIRST)[r], dilations=dil)


def _pool(kind, inputs, pool_size, strides, padding, data_format):
    op = f"{kind.lower()}_pool"
    x, r, last = _setup(inputs, data_format, op)
    window = _tuple(pool_size, r, "pool_size", op)
    stride = window if strides is None else _tuple(strides, r, "strides", op)
    return _pl.pool(x, window, kind, strides=stride, padding=_padding(padding, op),
                    data_format=(_LAST if last else _FIRST)[r])


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over 1-D, 2-D or 3-D windows.

    Args:
      inputs: ``[batch, *spatial, channels]``.
      pool_size: int or one per spatial axis.
      strides: int or one per spatial axis (default ``pool_size``).
      padding: 'valid' or 'same'.
      data_format: 'channels_last' or 'channels_first'.
    """
    return _pool("MAX", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over 1-D, 2-D or 3-D windows (padding excluded from the mean).

    Args:
      inputs: ``[batch, *spatial, channels]``.
      pool_size: int or one per spatial axis.
      strides: int or one per spatial axis (default ``pool_size``).
      padding: 'valid' or 'same'.
      data_format: 'channels_last' or 'channels_first'.
    """
    return _pool("AVG", inputs, pool_size, strides, padding, data_format)


__all__ = ["average_pool", "conv", "conv_transpose", "depthwise_conv", "max_pool",
           "separable_conv"]
