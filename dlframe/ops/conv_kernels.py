"""Convolution kernels on raw arrays (``xp``), channels_last with HWIO filters.

Speed (DESIGN.md §11): the forward builds the patch matrix from a strided view of
the padded input (one copy) and runs one GEMM through ``Device.matmul``; the
filter gradient is ``patches^T @ dY``; the input gradient is ``dY @ W^T`` followed
by col2im as one strided slice-add per kernel tap (never a loop over pixels).
1x1 kernels are plain GEMMs. The kernels are rank-generic (1, 2 or 3 spatial dims)
and shared with pooling (``pad_array``, ``taps``, ``tap_index``, ``accumulate_taps``).
"""

import itertools

from dlframe.ops.conv_winograd import (
    winograd_applies,
    winograd_backprop_input,
    winograd_forward,
)


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


def _im2col(xp, x, ks, strides, pads, dils, out_sp, ones=False):
    """The (N*prod(out_sp), prod(ks)*C) patch matrix (one copy at most; with one
    channel the transpose of a contiguous (prod(ks), N*prod(out_sp)) block, which
    ``ones`` extends by a column of ones)."""
    c = x.shape[-1]
    if _pointwise(ks, pads):
        if any(s != 1 for s in strides):
            x = x[(slice(None),) + tuple(slice(None, None, s) for s in strides)]
        return xp.ascontiguousarray(x).reshape(-1, c)
    xpad = pad_array(xp, x, pads)
    if c == 1:
        # single channel: one contiguous block per tap, the patch matrix's transpose
        # ((K, P), returned as a (P, K) view that GEMMs take as it is): ~2x faster
        # than strided per-tap columns, ~6x than copying the window view (its
        # innermost axis has length 1); the filter gradient's GEMM is then (K, P) @ dY
        k = _prod(ks)
        cols = xp.empty((k + bool(ones), x.shape[0]) + tuple(out_sp), x.dtype)
        for i, tap in enumerate(taps(ks)):
            cols[i] = xpad[tap_index(tap, strides, dils, out_sp)][..., 0]
        if ones:
            cols[k] = 1
        return cols.reshape(cols.shape[0], -1).T
    win = windows(xp, xpad, ks, strides, dils, out_sp)
    cols = xp.ascontiguousarray(win)
    return cols.reshape(win.shape[0] * _prod(out_sp), -1)


def _prod(seq):
    out = 1
    for v in seq:
        out *= v
    return out


def _inside(tap, strides, dils, pads, in_sp, out_sp):
    """(output index, input index) of the outputs whose tap ``tap`` lands inside the
    unpadded input, or None when it only ever sees padding."""
    src, dst = (slice(None),), (slice(None),)
    for t, s, dl, (lo, _), n, o in zip(tap, strides, dils, pads, in_sp, out_sp):
        off = t * dl - lo  # input position of output 0
        first = -(off // s) if off < 0 else 0  # ceil(-off / s)
        last = min(o, (n - 1 - off) // s + 1)
        if last <= first:
            return None
        start = first * s + off
        src += (slice(first, last),)
        dst += (slice(start, start + (last - first - 1) * s + 1, s),)
    return src + (slice(None),), dst + (slice(None),)


# Input elements from which padded col2im adds only the inside part of every tap
# block; below it a padded buffer and one crop cost less Python per tap.
_CLIP_MIN_SIZE = 1 << 16


def accumulate_taps(xp, blocks, n, in_shape, ks, strides, pads, dils, out_sp, dtype):
    """Sums per-tap output-shaped blocks back onto the input: one slice-add per tap.

    With padding, a large input takes only the part of each block that lands
    inside it, so no padded buffer is cropped (copied) afterwards.

    Args:
      blocks: ``blocks(i, tap)`` -> the (N, *out_sp, C) contribution of tap ``tap``;
        called for every tap in scan order, even one that lands on padding only.
    """
    full = (n,) + tuple(in_shape)
    padded = any(lo or hi for lo, hi in pads)
    clip = padded and _prod(full) >= _CLIP_MIN_SIZE
    buffer = full if clip or not padded else (n,) + tuple(
        m + lo + hi for m, (lo, hi) in zip(in_shape[:-1], pads)) + (in_shape[-1],)
    # with stride 1 the first tap's block fills the box [0, out) of the buffer: it
    # is copied there and only the rest zeroed (one pass over dx fewer)
    assign_first = not clip and all(s == 1 for s in strides)
    dx = _zeros_but_box(xp, buffer, out_sp, dtype) if assign_first else \
        xp.zeros(buffer, dtype)
    for i, tap in enumerate(taps(ks)):
        block = blocks(i, tap)
        if not clip:
            if i == 0 and assign_first:
                dx[tap_index(tap, strides, dils, out_sp)] = block
            else:
                dx[tap_index(tap, strides, dils, out_sp)] += block
            continue
        where = _inside(tap, strides, dils, pads, in_shape[:-1], out_sp)
        if where is not None:
            dx[where[1]] += block[where[0]]
    if padded and not clip:
        dx = xp.ascontiguousarray(dx[interior(full, pads)])
    return dx


def _zeros_but_box(xp, shape, box, dtype):
    """An array of ``shape`` that is zero outside the leading spatial box ``box``
    (uninitialized inside it)."""
    out = xp.empty(shape, dtype)
    lead = (slice(None),)
    for o, m in zip(box, shape[1:-1]):
        if o < m:
            out[lead + (slice(o, None),)] = 0
        lead += (slice(0, o),)
    return out


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


def conv_forward_cols(d, x, w, *, strides, pads, dilations, bias=None,
                      want_cols=True):
    """Grouped N-d convolution (cross-correlation) of channels-last ``x``.

    Args:
      bias: optional bias added to the output (see ``add_bias``); with one input
        channel a per-channel bias is added inside the GEMM instead, as a row of
        the filter matrix against a column of ones (one pass over y fewer).

      want_cols: False when the caller drops ``cols`` (then None): a wide 3x3
        convolution takes the Winograd path (``conv_winograd``) and builds none.

    Returns:
      (y, cols): the output and the patch matrix ``filter_grad_from_cols`` accepts
      in place of ``x``.
    """
    xp = d.xp
    r = x.ndim - 2
    ks, cg, cout = w.shape[:r], w.shape[r], w.shape[-1]
    g = x.shape[-1] // cg
    out_sp = tuple((n + lo + hi - (k - 1) * dl - 1) // s + 1 for n, k, s, dl, (lo, hi)
                   in zip(x.shape[1:-1], ks, strides, dilations, pads))
    if winograd_applies(x, w, strides, dilations, pads, g):
        y = winograd_forward(d, x, w, pads)
        if bias is not None:
            add_bias(xp, y, bias)
        cols = _im2col(xp, x, ks, strides, pads, dilations, out_sp) if want_cols \
            else None
        return y, cols
    fold = (bias is not None and x.shape[-1] == 1 and bias.shape == (cout,)
            and bias.dtype == x.dtype and not _pointwise(ks, pads))
    cols = _im2col(xp, x, ks, strides, pads, dilations, out_sp, ones=fold)
    if fold:
        y = d.matmul(cols, xp.concatenate([w.reshape(-1, cout), bias.reshape(1, cout)]))
        cols = cols[:, :-1]
    elif g == 1:
        y = d.matmul(cols, w.reshape(-1, cout))
    else:
        y = d.matmul(_split_groups(cols, g, cg), _group_filter(w, g))  # (G, P, Cog)
        y = y.transpose(1, 0, 2)
    y = y.reshape((x.shape[0],) + out_sp + (cout,))
    if bias is not None and not fold:
        add_bias(xp, y, bias)
    return y, cols


# Batch sizes from which the bias is tiled over one whole sample and added along
# sample-long rows (~2x faster than broadcasting over C-long rows); below it the
# tiling costs as much as it saves
_TILE_MIN_BATCH = 4


def add_bias(xp, y, bias):
    """Adds ``bias`` (broadcasting to ``y``'s shape and dtype) to the fresh,
    contiguous ``y`` in place; a 1-D per-channel bias along sample-long rows."""
    per_sample = y.size // y.shape[0] if y.ndim > 1 and y.shape[0] else 0
    if (bias.ndim == 1 and y.shape[0] >= _TILE_MIN_BATCH
            and bias.shape[0] == y.shape[-1] and per_sample > bias.shape[0]):
        rows = y.reshape(y.shape[0], per_sample)
        xp.add(rows, xp.tile(bias, per_sample // bias.shape[0]), out=rows)
    else:
        xp.add(y, bias, out=y)
    return y


def conv_forward(d, x, w, *, strides, pads, dilations):
    """Grouped N-d convolution (cross-correlation) of channels-last ``x``."""
    return conv_forward_cols(d, x, w, strides=strides, pads=pads,
                             dilations=dilations, want_cols=False)[0]


def conv_backprop_input(d, dy, w, *, in_shape, strides, pads, dilations):
    """Input gradient: dY @ W^T, then col2im."""
    xp = d.xp
    r = dy.ndim - 2
    ks, cg, cout = w.shape[:r], w.shape[r], w.shape[-1]
    g = in_shape[-1] // cg
    if winograd_applies(dy, w, strides, dilations, pads, g):
        return winograd_backprop_input(d, dy, w, pads)
    dy2 = dy.reshape(-1, cout)
    if g == 1 and cg >= _TAP_MAJOR_MIN_CHANNELS and not _pointwise(ks, pads):
        # one GEMM per tap giving a contiguous (P, C) block: the slice-adds then
        # stream whole rows instead of C-long pieces of a (P, K*C) matrix. The taps
        # share one block buffer that the add reads back while it is still in cache
        # (all K blocks at once were ~5% slower: a K-times larger write and re-read)
        w_taps = w.reshape(-1, cg, cout).transpose(0, 2, 1)
        block = xp.empty((dy2.shape[0], cg), dy.dtype)
        per_tap = dy.shape[:-1] + (cg,)

        def tap_block(i, tap):
            return d.matmul(dy2, w_taps[i], out=block).reshape(per_tap)
        with d.gemm_loop(2.0 * dy2.shape[0] * cout * cg):
            return accumulate_taps(xp, tap_block, dy.shape[0], in_shape, ks, strides,
                                   pads, dilations, dy.shape[1:-1], dy.dtype)
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
    r = x.ndim - 2
    cols = _im2col(d.xp, x, filter_shape[:r], strides, pads, dilations, dy.shape[1:-1])
    return filter_grad_from_cols(d, cols, dy, filter_shape=filter_shape)


def filter_grad_from_cols(d, cols, dy, *, filter_shape):
    """Filter gradient from the forward pass's (N*P, K*C) patch matrix."""
    cg, cout = filter_shape[-2], filter_shape[-1]
    g = cols.shape[-1] // (_prod(filter_shape[:-1]))
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
        # (NumPy's unoptimized two-operand loop: faster here than its optimizer)
        dw[tap] = d.einsum("pc,pcm->cm", src.reshape(-1, c), dy3, optimize=False)
    return dw
