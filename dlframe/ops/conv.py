"""Convolutions, channels_last with HWIO filters: conv1d/2d/3d, transposes, depthwise.

Speed (DESIGN.md §11): the forward builds the patch matrix from a strided view of
the padded input (one copy) and runs one GEMM through ``Device.matmul``; the
filter gradient is ``patches^T @ dY``; the input gradient is ``dY @ W^T`` followed
by col2im as one strided slice-add per kernel tap (never a loop over pixels).
1x1 kernels are plain GEMMs. Each family (forward, backprop-input,
backprop-filter) is three primitives whose gradients are each other, so second
derivatives work. The kernels are rank-generic (1, 2 or 3 spatial dims).
"""

import itertools

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError, UnimplementedError
from dlframe.ops._util import operands, static_shape
from dlframe.ops.array import transpose

__all__ = []  # names exported at the dlframe top level (tf.X)
NN_NAMES = ["conv1d", "conv2d", "conv3d", "convolution", "conv1d_transpose",
            "conv2d_transpose", "conv3d_transpose", "conv_transpose", "atrous_conv2d",
            "depthwise_conv2d", "separable_conv2d", "depthwise_conv2d_backprop_input",
            "depthwise_conv2d_backprop_filter"]


# ---------------------------------------------------------------- geometry (host side)
def out_size(n, k, s, dil, lo, hi, op):
    """Output length of a window sweep; raises like TF when it would be negative."""
    span = n + lo + hi - ((k - 1) * dil + 1)
    if span < 0:
        raise InvalidArgumentError(
            f"{op}: Computed output size would be negative: {span // s + 1} "
            f"[input_size: {n}, effective_filter_size: {(k - 1) * dil + 1}, stride: {s}] "
            f"[Op:{op}]")
    return span // s + 1


def same_pads(n, k, s, dil):
    """TF 'SAME' padding of one dim: output ceil(n/s), extra padding after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * dil + 1 - n, 0)
    return (total // 2, total - total // 2)


def channels_last(data_format, r, op):
    """True for NWC/NHWC/NDHWC (or None), False for the channels-first formats."""
    if data_format is None or data_format in ("NWC", "NHWC", "NDHWC", "channels_last"):
        return True
    if data_format in ("NCW", "NCHW", "NCDHW", "channels_first"):
        return False
    raise ValueError(f"{op}: `data_format` must be one of NWC/NHWC/NDHWC or "
                     f"NCW/NCHW/NCDHW, got data_format={data_format!r}")


def spatial_attr(value, r, last, op, arg, default=1, batch_msg=None):
    """Per-spatial-dim ints from an int or a list of length 1, r or r + 2."""
    if value is None:
        return (default,) * r
    if hasattr(value, "numpy"):
        value = value.numpy().tolist()
    vals = [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]
    if len(vals) == 1:
        vals = vals * r
    elif len(vals) == r + 2:
        outer = (vals[0], vals[-1]) if last else (vals[0], vals[1])
        if outer != (1, 1):
            raise UnimplementedError(
                f"{op}: " + (batch_msg or f"Current implementation does not yet support "
                             f"{arg} in the batch and depth dimensions.") +
                f" Received: {arg}={list(value)} [Op:{op}]")
        vals = vals[1:-1] if last else vals[2:]
    elif len(vals) != r:
        lengths = "1 or 3" if r == 1 else f"1, {r} or {r + 2}"
        raise ValueError(f"{arg} should be of length {lengths}. Received: {arg}={value!r} "
                         f"of length {len(vals)}")
    if any(v <= 0 for v in vals):
        raise InvalidArgumentError(f"{op}: {arg} must be > 0 in every spatial dimension. "
                                   f"Received: {arg}={value!r} [Op:{op}]")
    return tuple(vals)


def explicit_pads(padding, r, last, op):
    """Spatial (lo, hi) pairs from a TF explicit padding list of r + 2 pairs."""
    try:
        pairs = [tuple(int(v) for v in p) for p in padding]
    except TypeError:
        raise ValueError(f"{op}: padding must be 'SAME', 'VALID' or a list of pairs. "
                         f"Received: padding={padding!r}") from None
    if len(pairs) != r + 2 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"When padding is a list, it must be of size {r + 2}. "
                         f"Received: padding={padding!r} of size {len(pairs)}")
    outer = (pairs[0], pairs[-1]) if last else (pairs[0], pairs[1])
    if any(v != 0 for p in outer for v in p):
        raise InvalidArgumentError(f"{op}: Nonzero explicit padding in the batch or depth "
                                   f"dimensions is not supported. Received: "
                                   f"padding={padding!r} [Op:{op}]")
    spatial = pairs[1:-1] if last else pairs[2:]
    if any(v < 0 for p in spatial for v in p):
        raise InvalidArgumentError(f"{op}: explicit padding must be non-negative. "
                                   f"Received: padding={padding!r} [Op:{op}]")
    return tuple(spatial)


def resolve_pads(padding, in_sp, ks, strides, dils, r, last, op):
    """(pads, out_sp) for 'SAME', 'VALID' or explicit padding."""
    if isinstance(padding, str):
        if padding == "SAME":
            pads = tuple(same_pads(n, k, s, d) for n, k, s, d in
                         zip(in_sp, ks, strides, dils))
        elif padding == "VALID":
            pads = ((0, 0),) * r
        else:
            raise InvalidArgumentError(
                f"{op}: Value for attr 'padding' of \"{padding}\" is not in the list of "
                f"allowed values: \"SAME\", \"VALID\", \"EXPLICIT\" [Op:{op}]")
    else:
        pads = explicit_pads(padding, r, last, op)
    out = tuple(out_size(n, k, s, d, lo, hi, op) for n, k, s, d, (lo, hi) in
                zip(in_sp, ks, strides, dils, pads))
    return pads, out


def to_last(x, r):
    """Channels-first tensor to channels-last."""
    return transpose(x, (0,) + tuple(range(2, r + 2)) + (1,))


def to_first(x, r):
    """Channels-last tensor to channels-first."""
    return transpose(x, (0, r + 1) + tuple(range(1, r + 1)))


# ---------------------------------------------------------------- array kernels (xp)
def pad_array(xp, x, pads, value=0):
    """``x`` with spatial (lo, hi) padding filled with ``value`` (x itself if none)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in
                                  zip(x.shape[1:-1], pads)) + (x.shape[-1],)
    out = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, x.dtype)
    out[interior(x.shape, pads)] = x
    return out


def interior(shape, pads):
    """Index of the unpadded region inside a padded array."""
    return (slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                  zip(shape[1:-1], pads)) + (slice(None),)


def tap_index(tap, strides, dils, out_sp):
    """Index of the input elements that kernel tap ``tap`` sees, over all outputs."""
    return (slice(None),) + tuple(
        slice(t * d, t * d + s * (o - 1) + 1, s) for t, s, d, o in
        zip(tap, strides, dils, out_sp)) + (slice(None),)


def taps(ks):
    """All kernel taps in row-major (TF scan) order."""
    return itertools.product(*(range(k) for k in ks))


def windows(xp, xpad, ks, strides, dils, out_sp):
    """Strided view (N, *out_sp, *ks, C) of every window of the padded input."""
    st = xpad.strides
    r = len(ks)
    shape = (xpad.shape[0],) + tuple(out_sp) + tuple(ks) + (xpad.shape[-1],)
    strides_b = ((st[0],) + tuple(st[1 + i] * strides[i] for i in range(r)) +
                 tuple(st[1 + i] * dils[i] for i in range(r)) + (st[-1],))
    return xp.lib.stride_tricks.as_strided(xpad, shape, strides_b)


def _pointwise(ks, pads):
    return all(k == 1 for k in ks) and not any(lo or hi for lo, hi in pads)


def _im2col(xp, x, ks, strides, pads, dils, out_sp):
    """The (N*prod(out_sp), prod(ks)*C) patch matrix (one contiguous copy at most)."""
    c = x.shape[-1]
    if _pointwise(ks, pads):
        if any(s != 1 for s in strides):
            x = x[(slice(None),) + tuple(slice(None, None, s) for s in strides)]
        return xp.ascontiguousarray(x).reshape(-1, c)
    xpad = pad_array(xp, x, pads)
    if c == 1:
        # single channel: one strided copy per tap is ~3x faster than copying the
        # window view, whose innermost axis has length 1
        cols = xp.empty((x.shape[0],) + tuple(out_sp) + (_prod(ks),), x.dtype)
        for i, tap in enumerate(taps(ks)):
            cols[..., i] = xpad[tap_index(tap, strides, dils, out_sp)][..., 0]
        return cols.reshape(-1, cols.shape[-1])
    win = windows(xp, xpad, ks, strides, dils, out_sp)
    cols = xp.ascontiguousarray(win)
    return cols.reshape(win.shape[0] * _prod(out_sp), -1)


def _prod(seq):
    out = 1
    for v in seq:
        out *= v
    return out


def accumulate_taps(xp, blocks, n, in_shape, ks, strides, pads, dils, out_sp, dtype):
    """Sums per-tap output-shaped blocks back onto the input: one slice-add per tap.

    Args:
      blocks: ``blocks(i, tap)`` -> the (N, *out_sp, C) contribution of tap ``tap``.
    """
    full = (n,) + tuple(in_shape)
    padded = (n,) + tuple(m + lo + hi for m, (lo, hi) in zip(in_shape[:-1], pads)) + \
        (in_shape[-1],)
    dx = xp.zeros(padded, dtype)
    for i, tap in enumerate(taps(ks)):
        dx[tap_index(tap, strides, dils, out_sp)] += blocks(i, tap)
    if any(lo or hi for lo, hi in pads):
        dx = xp.ascontiguousarray(dx[interior(full, pads)])
    return dx


def _col2im(xp, dcols, n, in_shape, ks, strides, pads, dils, out_sp):
    """Patch gradients (N*P, K*C) back onto the input."""
    if _pointwise(ks, pads) and all(s == 1 for s in strides):
        return dcols.reshape((n,) + tuple(in_shape))
    cols = dcols.reshape((n,) + tuple(out_sp) + tuple(ks) + (in_shape[-1],))
    lead = (slice(None),) * (1 + len(ks))
    return accumulate_taps(xp, lambda i, tap: cols[lead + tap], n, in_shape, ks,
                           strides, pads, dils, out_sp, dcols.dtype)


# Input channels from which the tap-major input gradient (a batch of K GEMMs with
# C-wide outputs) beats one GEMM plus a C-strided col2im; narrower outputs make the
# per-tap products memory-bound matrix-vector passes.
_TAP_MAJOR_MIN_CHANNELS = 16


def _split_groups(cols, g, cg):
    """(P, KK*G*Cg) patches -> contiguous (G, P, KK*Cg)."""
    p = cols.shape[0]
    return cols.reshape(p, -1, g, cg).transpose(2, 0, 1, 3).reshape(g, p, -1)


def _group_filter(w, g):
    """(*ks, Cg, G*Cog) filter -> (G, KK*Cg, Cog)."""
    cout = w.shape[-1]
    return w.reshape(-1, g, cout // g).transpose(1, 0, 2)


def conv_forward(d, x, w, *, strides, pads, dilations):
    """Grouped N-d convolution (cross-correlation) of channels-last ``x``."""
    xp = d.xp
    r = x.ndim - 2
    ks, cg, cout = w.shape[:r], w.shape[r], w.shape[-1]
    g = x.shape[-1] // cg
    out_sp = tuple((n + lo + hi - (k - 1) * dl - 1) // s + 1 for n, k, s, dl, (lo, hi)
                   in zip(x.shape[1:-1], ks, strides, dilations, pads))
    cols = _im2col(xp, x, ks, strides, pads, dilations, out_sp)
    if g == 1:
        y = d.matmul(cols, w.reshape(-1, cout))
    else:
        y = d.matmul(_split_groups(cols, g, cg), _group_filter(w, g))  # (G, P, Cog)
        y = y.transpose(1, 0, 2)
    return y.reshape((x.shape[0],) + out_sp + (cout,))


def conv_backprop_input(d, dy, w, *, in_shape, strides, pads, dilations):
    """Input gradient: dY @ W^T, then col2im."""
    xp = d.xp
    r = dy.ndim - 2
    ks, cg, cout = w.shape[:r], w.shape[r], w.shape[-1]
    g = in_shape[-1] // cg
    dy2 = dy.reshape(-1, cout)
    if g == 1 and cg >= _TAP_MAJOR_MIN_CHANNELS and not _pointwise(ks, pads):
        # one batched GEMM giving a contiguous (P, C) block per tap: the slice-adds
        # then stream whole rows instead of C-long pieces of a (P, K*C) matrix
        dcols = d.matmul(dy2[None], w.reshape(-1, cg, cout).transpose(0, 2, 1))
        per_tap = dy.shape[:-1] + (cg,)
        return accumulate_taps(xp, lambda i, tap: dcols[i].reshape(per_tap), dy.shape[0],
                               in_shape, ks, strides, pads, dilations, dy.shape[1:-1],
                               dy.dtype)
    if g == 1:
        dcols = d.matmul(dy2, w.reshape(-1, cout).T)
    else:
        p = dy2.shape[0]
        gw = _group_filter(w, g).transpose(0, 2, 1)  # (G, Cog, KK*Cg)
        dcols = d.matmul(dy2.reshape(p, g, cout // g).transpose(1, 0, 2), gw)
        dcols = dcols.reshape(g, p, -1, cg).transpose(1, 2, 0, 3).reshape(p, -1)
    return _col2im(xp, dcols, dy.shape[0], in_shape, ks, strides, pads, dilations,
                   dy.shape[1:-1])


def conv_backprop_filter(d, x, dy, *, filter_shape, strides, pads, dilations):
    """Filter gradient: patches^T @ dY."""
    xp = d.xp
    r = x.ndim - 2
    ks, cg, cout = filter_shape[:r], filter_shape[r], filter_shape[-1]
    g = x.shape[-1] // cg
    cols = _im2col(xp, x, ks, strides, pads, dilations, dy.shape[1:-1])
    dy2 = dy.reshape(-1, cout)
    if g == 1:
        dw = d.matmul(cols.T, dy2)
    else:
        p = dy2.shape[0]
        gc = _split_groups(cols, g, cg).transpose(0, 2, 1)  # (G, KK*Cg, P)
        dw = d.matmul(gc, dy2.reshape(p, g, cout // g).transpose(1, 0, 2))
        dw = dw.transpose(1, 0, 2)
    return dw.reshape(filter_shape)


# depthwise: filter (*ks, C, M); output channel c*M + m
def depthwise_forward(d, x, w, *, strides, pads, dilations):
    """Depthwise convolution: every input channel has its own M filters."""
    xp = d.xp
    r = x.ndim - 2
    ks, c, m = w.shape[:r], w.shape[r], w.shape[-1]
    out_sp = tuple((n + lo + hi - (k - 1) * dl - 1) // s + 1 for n, k, s, dl, (lo, hi)
                   in zip(x.shape[1:-1], ks, strides, dilations, pads))
    xpad = pad_array(xp, x, pads)
    out = xp.zeros((x.shape[0],) + out_sp + (c, m), x.dtype)
    for tap in taps(ks):
        src = xpad[tap_index(tap, strides, dilations, out_sp)]
        out += src[..., None] * w[tap]
    return out.reshape((x.shape[0],) + out_sp + (c * m,))


def depthwise_backprop_input(d, dy, w, *, in_shape, strides, pads, dilations):
    """Input gradient of the depthwise convolution (one slice-add per tap)."""
    xp = d.xp
    r = dy.ndim - 2
    ks, c, m = w.shape[:r], w.shape[r], w.shape[-1]
    out_sp = dy.shape[1:-1]
    dy4 = dy.reshape(dy.shape[:-1] + (c, m))

    def block(i, tap):
        return dy4[..., 0] * w[tap][:, 0] if m == 1 else (dy4 * w[tap]).sum(axis=-1)
    return accumulate_taps(xp, block, dy.shape[0], in_shape, ks, strides, pads, dilations,
                           out_sp, dy.dtype)


def depthwise_backprop_filter(d, x, dy, *, filter_shape, strides, pads, dilations):
    """Filter gradient of the depthwise convolution (one reduction per tap)."""
    xp = d.xp
    r = x.ndim - 2
    ks, c, m = filter_shape[:r], filter_shape[r], filter_shape[-1]
    out_sp = dy.shape[1:-1]
    xpad = pad_array(xp, x, pads)
    dy3 = dy.reshape(-1, c, m)
    dw = xp.zeros(filter_shape, dy.dtype)
    for tap in taps(ks):
        src = xp.ascontiguousarray(xpad[tap_index(tap, strides, dilations, out_sp)])
        dw[tap] = xp.einsum("pc,pcm->cm", src.reshape(-1, c), dy3)
    return dw


# ---------------------------------------------------------------- primitives
def _keeping_dtype(kernel):
    """``kernel`` whose result has its first input's dtype: NumPy multiplies
    bfloat16 (ml_dtypes) blocks in float32."""
    def run(d, a, b, **attrs):
        out = kernel(d, a, b, **attrs)
        return out if out.dtype == a.dtype else out.astype(a.dtype)
    run.__name__ = kernel.__name__
    return run


def _family(names, fwd, dgrad, wgrad):
    """Registers forward/backprop-input/backprop-filter primitives, mutually adjoint."""
    fwd_p = primitive(names[0])(_keeping_dtype(fwd))
    dgrad_p = primitive(names[1])(_keeping_dtype(dgrad))
    wgrad_p = primitive(names[2])(_keeping_dtype(wgrad))

    @fwd_p.defgrad
    def _fwd_grad(inputs, out, dy, **geo):
        x, w = inputs
        return (call(dgrad_p, (dy, w), dict(geo, in_shape=tuple(x._value.shape[1:]))),
                call(wgrad_p, (x, dy), dict(geo, filter_shape=tuple(w._value.shape))))

    @dgrad_p.defgrad
    def _dgrad_grad(inputs, out, ddx, *, in_shape, **geo):
        dy, w = inputs
        return (call(fwd_p, (ddx, w), geo),
                call(wgrad_p, (ddx, dy), dict(geo, filter_shape=tuple(w._value.shape))))

    @wgrad_p.defgrad
    def _wgrad_grad(inputs, out, ddw, *, filter_shape, **geo):
        x, dy = inputs
        return (call(dgrad_p, (dy, ddw), dict(geo, in_shape=tuple(x._value.shape[1:]))),
                call(fwd_p, (x, ddw), geo))

    return fwd_p, dgrad_p, wgrad_p


conv2d_p, conv2d_backprop_input_p, conv2d_backprop_filter_p = _family(
    ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"),
    conv_forward, conv_backprop_input, conv_backprop_filter)
conv3d_p, conv3d_backprop_input_p, conv3d_backprop_filter_p = _family(
    ("Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"),
    conv_forward, conv_backprop_input, conv_backprop_filter)
depthwise_p, depthwise_backprop_input_p, depthwise_backprop_filter_p = _family(
    ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
     "DepthwiseConv2dNativeBackpropFilter"),
    depthwise_forward, depthwise_backprop_input, depthwise_backprop_filter)


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
