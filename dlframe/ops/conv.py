"""Convolutions, channels_last with HWIO filters: conv1d/2d/3d, transposes, depthwise.

Each family (forward, backprop-input, backprop-filter) is three primitives whose
gradients are each other, so second derivatives work. The array kernels live in
``conv_kernels`` and the host-side geometry in ``conv_geometry`` (both re-exported
here, also for pooling).
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import swept_static_shape
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import operands, static_shape
from dlframe.ops.conv_geometry import (  # noqa: F401 - re-exported
    channels_last,
    explicit_pads,
    out_size,
    resolve_pads,
    same_pads,
    spatial_attr,
    to_first,
    to_last,
)
from dlframe.ops.conv_kernels import (  # noqa: F401 - re-exported
    _TAP_MAJOR_MIN_CHANNELS,
    _col2im,
    _group_filter,
    _im2col,
    _pointwise,
    _prod,
    _split_groups,
    accumulate_taps,
    conv_backprop_filter,
    conv_backprop_input,
    conv_forward,
    depthwise_backprop_filter,
    depthwise_backprop_input,
    depthwise_forward,
    interior,
    pad_array,
    tap_index,
    taps,
    windows,
)

__all__ = []  # names exported at the dlframe top level (tf.X)
NN_NAMES = ["conv1d", "conv2d", "conv3d", "convolution", "conv1d_transpose",
            "conv2d_transpose", "conv3d_transpose", "conv_transpose", "atrous_conv2d",
            "depthwise_conv2d", "separable_conv2d", "depthwise_conv2d_backprop_input",
            "depthwise_conv2d_backprop_filter"]


# ---------------------------------------------------------------- primitives
def _keeping_dtype(kernel):
    """``kernel`` whose result has its first input's dtype: NumPy multiplies
    bfloat16 (ml_dtypes) blocks in float32."""
    def run(d, a, b, **attrs):
        out = kernel(d, a, b, **attrs)
        return out if out.dtype == a.dtype else out.astype(a.dtype)
    run.__name__ = kernel.__name__
    return run


def _out_channels(w):
    return w[-1]


def _depthwise_channels(w):
    return None if None in w[-2:] else w[-2] * w[-1]


def _family(names, fwd, dgrad, wgrad, channels=_out_channels):
    """Registers forward/backprop-input/backprop-filter primitives, mutually adjoint."""
    fwd_p = primitive(names[0])(_keeping_dtype(fwd))
    dgrad_p = primitive(names[1])(_keeping_dtype(dgrad))
    wgrad_p = primitive(names[2])(_keeping_dtype(wgrad))

    # ``needs`` (from the tape) skips the half of a backward pass nobody asked for:
    # the input gradient of a first layer fed with data, the filter gradient of a
    # constant filter
    @fwd_p.defgrad
    def _fwd_grad(inputs, out, dy, needs=(True, True), **geo):
        x, w = inputs
        return (call(dgrad_p, (dy, w), dict(geo, in_shape=tuple(x._value.shape[1:])))
                if needs[0] else None,
                call(wgrad_p, (x, dy), dict(geo, filter_shape=tuple(w._value.shape)))
                if needs[1] else None)

    @dgrad_p.defgrad
    def _dgrad_grad(inputs, out, ddx, *, in_shape, needs=(True, True), **geo):
        dy, w = inputs
        return (call(fwd_p, (ddx, w), geo) if needs[0] else None,
                call(wgrad_p, (ddx, dy), dict(geo, filter_shape=tuple(w._value.shape)))
                if needs[1] else None)

    @wgrad_p.defgrad
    def _wgrad_grad(inputs, out, ddw, *, filter_shape, needs=(True, True), **geo):
        x, dy = inputs
        return (call(dgrad_p, (dy, ddw), dict(geo, in_shape=tuple(x._value.shape[1:])))
                if needs[0] else None,
                call(fwd_p, (x, ddw), geo) if needs[1] else None)

    for prim in (fwd_p, dgrad_p, wgrad_p):
        prim.wants_needs = True
    fwd_p.static_shape = lambda in_dims, attrs: swept_static_shape(
        in_dims, attrs, channels(in_dims[1]))
    dgrad_p.static_shape = _backprop_input_static_shape
    return fwd_p, dgrad_p, wgrad_p


def _backprop_input_static_shape(in_dims, attrs):
    """A transposed convolution's (or input gradient's) ``in_shape`` is given, yet TF
    leaves the dims unknown that the input leaves unknown (Keras and user code build
    ``output_shape`` from ``tf.shape`` there)."""
    dy, shape = in_dims[0], attrs["in_shape"]
    return dy[:1] + [None if n is None else s for n, s in zip(dy[1:-1], shape)] + \
        [shape[-1]]


conv2d_p, conv2d_backprop_input_p, conv2d_backprop_filter_p = _family(
    ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"),
    conv_forward, conv_backprop_input, conv_backprop_filter)
conv3d_p, conv3d_backprop_input_p, conv3d_backprop_filter_p = _family(
    ("Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"),
    conv_forward, conv_backprop_input, conv_backprop_filter)
depthwise_p, depthwise_backprop_input_p, depthwise_backprop_filter_p = _family(
    ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
     "DepthwiseConv2dNativeBackpropFilter"),
    depthwise_forward, depthwise_backprop_input, depthwise_backprop_filter,
    _depthwise_channels)


def _conv_prims(r):
    # TF runs conv1d through Conv2D; 3-d convolutions are Conv3D
    return (conv3d_p, conv3d_backprop_input_p) if r == 3 else \
        (conv2d_p, conv2d_backprop_input_p)


# ---------------------------------------------------------------- public ops
_ALLOWED = "fi"
_FORMATS = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


def _check_pair(op, x, w, r, filter_arg="filters"):
    if (x._value.dtype.kind not in _ALLOWED and x.dtype.name != "bfloat16") or \
            x._value.dtype.kind == "i" and x._value.dtype.itemsize != 4:
        raise InvalidArgumentError(
            f"{op}: Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
            f"values: half, bfloat16, float, double, int32 [Op:{op}]")
    if x._value.ndim != r + 2:
        raise InvalidArgumentError(
            f"{op}: input must be {r + 2}-dimensional ({_FORMATS[r]}), got shape "
            f"{list(x._value.shape)} [Op:{op}]")
    if w._value.ndim != r + 2:
        raise InvalidArgumentError(
            f"{op}: convolution filter must be {r + 2}-dimensional: "
            f"{list(w._value.shape)} (`{filter_arg}` with input shape "
            f"{list(x._value.shape)}) [Op:{op}]")


def _conv(op, r, input, filters, strides, padding, data_format, dilations):
    last = channels_last(data_format, r, op)
    x, w = operands(input, filters, op)
    _check_pair(op, x, w, r)
    if not last:
        x = to_last(x, r)
    xs, ws = x._value.shape, w._value.shape
    c, cg, cout = xs[-1], ws[r], ws[-1]
    if cg == 0 or c % cg:
        raise InvalidArgumentError(
            f"{op}: input depth must be evenly divisible by filter depth: {c} vs {cg} "
            f"(input shape {list(xs)}, filters shape {list(ws)}) [Op:{op}]")
    if cout % (c // cg):
        raise InvalidArgumentError(
            f"{op}: output depth must be evenly divisible by number of groups: {cout} vs "
            f"{c // cg} (filters shape {list(ws)}) [Op:{op}]")
    strides = spatial_attr(strides, r, last, op, "strides")
    dilations = spatial_attr(dilations, r, last, op, "dilations")
    pads, _ = resolve_pads(padding, xs[1:-1], ws[:r], strides, dilations, r, last, op)
    fwd_p = _conv_prims(r)[0]
    y = call(fwd_p, (x, w), {"strides": strides, "pads": pads, "dilations": dilations})
    return y if last else to_first(y, r)


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,
           name=None):
    """2-D convolution (cross-correlation) of a 4-D input with a [h, w, in, out] filter.

    Args:
      input: [batch, height, width, channels] (NHWC) or NCHW tensor.
      filters: [filter_height, filter_width, in_channels / groups, out_channels].
      strides: int or list of 1, 2 or 4 ints.
      padding: 'SAME', 'VALID' or explicit [[0, 0], [top, bottom], [left, right], [0, 0]].
      data_format: 'NHWC' (default) or 'NCHW'.
      dilations: int or list of 1, 2 or 4 ints (default 1).
      name: ignored.

    Returns:
      The convolved tensor in ``data_format``.
    """
    return _conv("Conv2D", 2, input, filters, strides, padding, data_format, dilations)


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None,
           name=None):
    """1-D convolution of a [batch, width, channels] input with a [w, in, out] filter."""
    return _conv("Conv2D", 1, input, filters, stride, padding, data_format, dilations)


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None,
           name=None):
    """3-D convolution of an NDHWC input with a [d, h, w, in, out] filter."""
    return _conv("Conv3D", 3, input, filters, strides, padding, data_format, dilations)


def convolution(input, filters, strides=None, padding="VALID", data_format=None,
                dilations=None, name=None):
    """N-d convolution dispatching on the input rank (3, 4 or 5)."""
    ndim = len(getattr(input, "shape", np.shape(input)))
    r = ndim - 2
    if r not in (1, 2, 3):
        raise ValueError(f"convolution: input must have rank 3, 4 or 5, got shape "
                         f"{list(getattr(input, 'shape', np.shape(input)))}")
    op = "Conv3D" if r == 3 else "Conv2D"
    return _conv(op, r, input, filters, strides, padding, data_format, dilations)


def atrous_conv2d(value, filters, rate, padding, name=None):
    """Dilated 2-D convolution with stride 1 (``conv2d`` with ``dilations=rate``)."""
    return conv2d(value, filters, 1, padding, dilations=rate)


def _conv_transpose(op, r, input, filters, output_shape, strides, padding,
                    data_format, dilations):
    last = channels_last(data_format, r, op)
    dy, w = operands(input, filters, op)
    _check_pair(op, dy, w, r)
    if not last:
        dy = to_last(dy, r)
    shape = static_shape(output_shape, op, "output_shape")
    if len(shape) != r + 2:
        raise ValueError(f"{op}: output_shape must have length {r + 2}, got "
                         f"output_shape={list(shape)}")
    if not last:
        shape = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    ds, ws = dy._value.shape, w._value.shape
    if ws[-1] != ds[-1]:
        raise InvalidArgumentError(
            f"{op}: filter and out_backprop must have the same out_depth: filters shape "
            f"{list(ws)} vs input shape {list(ds)} [Op:{op}]")
    if ws[r] == 0 or shape[-1] % ws[r]:
        raise InvalidArgumentError(
            f"{op}: input depth must be evenly divisible by filter depth: output_shape "
            f"{list(shape)} vs filters shape {list(ws)} [Op:{op}]")
    if shape[0] != ds[0]:
        raise InvalidArgumentError(
            f"{op}: output_shape batch {shape[0]} does not match input batch {ds[0]} "
            f"[Op:{op}]")
    strides = spatial_attr(strides, r, last, op, "strides")
    dilations = spatial_attr(dilations, r, last, op, "dilations")
    pads, out_sp = resolve_pads(padding, shape[1:-1], ws[:r], strides, dilations, r,
                                last, op)
    for i in range(r):
        if out_sp[i] != ds[1 + i]:
            raise InvalidArgumentError(
                f"{op}: Size of out_backprop doesn't match computed: actual = {ds[1 + i]}, "
                f"computed = {out_sp[i]} spatial_dim: {i + 1} input: {shape[1 + i]} "
                f"filter: {ws[i]} output: {ds[1 + i]} stride: {strides[i]} dilation: "
                f"{dilations[i]} [Op:{op}]")
    dgrad_p = _conv_prims(r)[1]
    dx = call(dgrad_p, (dy, w), {"in_shape": tuple(shape[1:]), "strides": strides,
                                 "pads": pads, "dilations": dilations})
    return dx if last else to_first(dx, r)


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NHWC", dilations=None, name=None):
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input).

    Args:
      input: [batch, height, width, in_channels] tensor.
      filters: [height, width, output_channels, in_channels] filter.
      output_shape: the 4-element output shape; must be one that ``conv2d`` with
        the same strides and padding maps onto ``input``'s spatial shape.
      strides: int or list of 1, 2 or 4 ints.
      padding: 'SAME', 'VALID' or an explicit list of pairs.
      data_format: 'NHWC' (default) or 'NCHW'.
      dilations: int or list (default 1).
      name: ignored.
    """
    return _conv_transpose("Conv2DBackpropInput", 2, input, filters, output_shape, strides,
                           padding, data_format, dilations)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NWC", dilations=None, name=None):
    """Transposed 1-D convolution; ``filters`` is [width, output_channels, in_channels]."""
    return _conv_transpose("Conv2DBackpropInput", 1, input, filters, output_shape, strides,
                           padding, data_format, dilations)


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NDHWC", dilations=None, name=None):
    """Transposed 3-D convolution; ``filters`` is [d, h, w, output_channels, in_channels]."""
    return _conv_transpose("Conv3DBackpropInputV2", 3, input, filters, output_shape,
                           strides, padding, data_format, dilations)


def conv_transpose(input, filters, output_shape, strides, padding="SAME",
                   data_format=None, dilations=None, name=None):
    """Transposed N-d convolution dispatching on the input rank."""
    r = len(getattr(input, "shape", np.shape(input))) - 2
    fn = {1: conv1d_transpose, 2: conv2d_transpose, 3: conv3d_transpose}.get(r)
    if fn is None:
        raise ValueError(f"conv_transpose: input must have rank 3, 4 or 5, got rank {r + 2}")
    return fn(input, filters, output_shape, strides, padding, data_format, dilations)


def _depthwise_setup(op, input, filter, strides, padding, data_format, dilations):
    last = channels_last(data_format, 2, op)
    x, w = operands(input, filter, op)
    _check_pair(op, x, w, 2, "filter")
    if not last:
        x = to_last(x, 2)
    if x._value.shape[-1] != w._value.shape[2]:
        raise InvalidArgumentError(
            f"{op}: input and filter must have the same depth: {x._value.shape[-1]} vs "
            f"{w._value.shape[2]} (input shape {list(x._value.shape)}, filter shape "
            f"{list(w._value.shape)}) [Op:{op}]")
    strides = spatial_attr(strides, 2, last, op, "strides")
    dilations = spatial_attr(dilations, 2, last, op, "dilations")
    return x, w, last, strides, dilations


def depthwise_conv2d(input, filter, strides, padding, data_format=None,
                     dilations=None, name=None):
    """Depthwise 2-D convolution: filter [h, w, in_channels, channel_multiplier].

    Output channel ``c * channel_multiplier + m`` is input channel ``c`` convolved
    with ``filter[:, :, c, m]``.
    """
    op = "DepthwiseConv2dNative"
    x, w, last, strides, dilations = _depthwise_setup(op, input, filter, strides, padding,
                                                      data_format, dilations)
    pads, _ = resolve_pads(padding, x._value.shape[1:-1], w._value.shape[:2], strides,
                           dilations, 2, last, op)
    y = call(depthwise_p, (x, w), {"strides": strides, "pads": pads,
                                   "dilations": dilations})
    return y if last else to_first(y, 2)


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides,
                                    padding, data_format="NHWC", dilations=None,
                                    name=None):
    """Gradient of ``depthwise_conv2d`` w.r.t. its input of shape ``input_sizes``."""
    op = "DepthwiseConv2dNativeBackpropInput"
    last = channels_last(data_format, 2, op)
    dy, w = operands(out_backprop, filter, op)
    _check_pair(op, dy, w, 2, "filter")
    if not last:
        dy = to_last(dy, 2)
    ws = w._value.shape
    if dy._value.shape[-1] != ws[2] * ws[3]:
        raise InvalidArgumentError(
            f"{op}: out_backprop depth {dy._value.shape[-1]} must be in_channels * "
            f"channel_multiplier of filter shape {list(ws)} [Op:{op}]")
    strides = spatial_attr(strides, 2, last, op, "strides")
    dilations = spatial_attr(dilations, 2, last, op, "dilations")
    shape = static_shape(input_sizes, op, "input_sizes")
    if not last:
        shape = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    pads, _ = resolve_pads(padding, shape[1:3], w._value.shape[:2], strides, dilations,
                           2, last, op)
    dx = call(depthwise_backprop_input_p, (dy, w),
              {"in_shape": tuple(shape[1:]), "strides": strides, "pads": pads,
               "dilations": dilations})
    return dx if last else to_first(dx, 2)


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides,
                                     padding, data_format="NHWC", dilations=None,
                                     name=None):
    """Gradient of ``depthwise_conv2d`` w.r.t. its filter of shape ``filter_sizes``."""
    op = "DepthwiseConv2dNativeBackpropFilter"
    fshape = static_shape(filter_sizes, op, "filter_sizes")
    last = channels_last(data_format, 2, op)
    x, dy = operands(input, out_backprop, op)
    if not last:
        x, dy = to_last(x, 2), to_last(dy, 2)
    strides = spatial_attr(strides, 2, last, op, "strides")
    dilations = spatial_attr(dilations, 2, last, op, "dilations")
    pads, _ = resolve_pads(padding, x._value.shape[1:3], fshape[:2], strides, dilations,
                           2, last, op)
    return call(depthwise_backprop_filter_p, (x, dy),
                {"filter_shape": tuple(fshape), "strides": strides, "pads": pads,
                 "dilations": dilations})


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,
                     data_format=None, dilations=None, name=None):
    """Depthwise convolution followed by a 1x1 (pointwise) convolution."""
    y = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format,
                         dilations)
    return conv2d(y, pointwise_filter, 1, "VALID", data_format or "NHWC")
