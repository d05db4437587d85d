"""Max and average pooling (channels_last), 1-3 spatial dims, with gradients.

Non-overlapping VALID pooling (window == stride, no dilation) reshapes to
(N, H/k, k, W/k, k, C) and reduces, with no window copy; its max-pool gradient
breaks ties with whole-array boolean passes over row-long runs. Everything else
runs one vectorized pass per window tap over a strided slice of the padded input.
Max-pool gradients go to the first maximum of each window in row-major order
(like TF); MaxPoolGrad and MaxPoolGradGrad are adjoint primitives, as are AvgPool
and AvgPoolGrad, so second derivatives work.

NaN follows TF's CPU kernels: the forward ignores NaN and never returns less than
the dtype's lowest finite value (an all-NaN or all -inf window gives it); the
gradient scans each window like TF's argmax (its first valid element, moved on to
every later one strictly greater), so it lands on a leading NaN. Inputs with NaN or
such windows take that exact scan; all others the fast paths, which agree with it.
A GPU skips that host check (it would wait for the device): its gradient goes to the
first maximum ignoring NaN (TF's GPU kernels do not scan for NaN either), the first
element of a window without a finite value.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import swept_static_shape
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import t
from dlframe.ops.conv import (
    accumulate_taps,
    channels_last,
    pad_array,
    resolve_pads,
    spatial_attr,
    tap_index,
    taps,
    to_first,
    to_last,
)
from dlframe.ops.logic import cast, zeros_like
from dlframe.ops.pooling_depth import depth_max_pool, full_attr

__all__ = []  # names exported at the dlframe top level (tf.X)
NN_NAMES = ["max_pool", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool",
            "avg_pool1d", "avg_pool2d", "avg_pool3d", "pool"]


# ---------------------------------------------------------------- array kernels (xp)
def _tiled(ksize, strides, pads, dilations):
    """Windows that tile the input exactly: reshape-and-reduce applies."""
    return (tuple(ksize) == tuple(strides) and all(d == 1 for d in dilations)
            and not any(lo or hi for lo, hi in pads))


def _out_sp(shape, ksize, strides, pads, dilations):
    return tuple((n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, s, d, (lo, hi) in
                 zip(shape[1:-1], ksize, strides, dilations, pads))


def _blocks(x, ksize, out_sp):
    """(N, o1, k1, o2, k2, ..., C) view/copy of the tiled part of ``x``."""
    covered = tuple(o * k for o, k in zip(out_sp, ksize))
    if covered != tuple(x.shape[1:-1]):
        x = x[(slice(None),) + tuple(slice(0, c) for c in covered)]
    shape = (x.shape[0],)
    for o, k in zip(out_sp, ksize):
        shape += (o, k)
    return x.reshape(shape + (x.shape[-1],))


def _reduce_blocks(fn, blocks, r):
    """Reduces the k axes of ``blocks`` with a binary ufunc, one window offset at a time.

    Pairwise ufunc passes over strided slices run ~5x faster than
    ``blocks.max(axis=...)`` over the interleaved window axes.
    """
    for i in range(r):
        axis = 2 + i  # earlier k axes are already reduced away
        k = blocks.shape[axis]
        lead = (slice(None),) * axis
        acc = blocks[lead + (0,)]
        if k == 1:
            blocks = acc
            continue
        acc = fn(acc, blocks[lead + (1,)])
        for j in range(2, k):
            fn(acc, blocks[lead + (j,)], out=acc)
        blocks = acc
    return blocks if blocks.flags.owndata or r == 0 else blocks.copy()


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _window_max(xp, fn, x, ksize, strides, pads, dilations, out_sp):
    if _tiled(ksize, strides, pads, dilations):
        return _reduce_blocks(fn, _blocks(x, ksize, out_sp), len(ksize))
    xpad = pad_array(xp, x, pads, _lowest(x.dtype))
    out = None
    for tap in taps(ksize):
        src = xpad[tap_index(tap, strides, dilations, out_sp)]
        out = src.copy() if out is None else fn(out, src, out=out)
    return out


def max_pool_forward(d, x, *, ksize, strides, pads, dilations):
    """Window maxima ignoring NaN, at least the dtype's lowest finite value (TF's
    CPU kernel); padding never wins."""
    xp = d.xp
    geo = (ksize, strides, pads, dilations, _out_sp(x.shape, ksize, strides, pads,
                                                    dilations))
    floating = x.dtype.kind == "f"
    if not floating:
        return _window_max(xp, xp.maximum, x, *geo)
    low = xp.finfo(x.dtype).min
    if d.is_gpu:   # no host check (it would wait for the device)
        out = _window_max(xp, xp.fmax, x, *geo)
        return xp.fmax(out, low, out=out)
    out = _window_max(xp, xp.maximum, x, *geo)
    least = out.min() if out.size else low   # NaN where a window held NaN
    if not least >= low:   # NaN, or a window without a finite value
        if xp.isnan(least):
            out = _window_max(xp, xp.fmax, x, *geo)
        xp.fmax(out, low, out=out)   # TF's starting value
    return out


def _every_tie(ksize):
    """TF's MaxPool3DGrad sends the gradient to every element equal to the window's
    maximum (NaN never is); the 1-D and 2-D kernels to one element."""
    return len(ksize) == 3


def _needs_scan(d, x, y):
    """Whether ``x`` holds a NaN or some window's maximum is the dtype's lowest
    value: only then can the first element equal to the maximum differ from where
    TF's scan sends the gradient (on GPU the fast paths run without asking)."""
    if d.is_gpu or x.dtype.kind != "f" or not x.size or not y.size or \
            _every_tie(y.shape[1:-1]):
        return False
    xp = d.xp
    return bool(xp.isnan(x.max())) or bool(y.min() <= xp.finfo(x.dtype).min)


def _floored(d, x, ksize):
    """``x`` as a GPU's first-max masks compare it with the maxima.

    A GPU takes the fast paths without the host check for NaN (``_needs_scan``), so
    a window without a finite value (all NaN or -inf, pooled to the dtype's lowest
    value) would match none of its elements and lose its gradient. Raising NaN and
    lower values to that floor (one pass over ``x``) makes each such window send it
    to its first element, as TF's CPU kernel does; windows with a finite maximum
    are unchanged. 3-D windows keep every-maximum matching (NaN never equals).
    """
    if not d.is_gpu or x.dtype.kind != "f" or _every_tie(ksize):
        return x
    return d.xp.fmax(x, d.xp.finfo(x.dtype).min)


def _scan_masks(xp, x, y, ksize, strides, pads, dilations):
    """Yields (tap, mask) with mask true where TF's argmax scan ends in this tap.

    Like TF's CPU kernel, each window takes its first valid (non-padding) element
    and moves on to every later one strictly greater than the one it holds (NaN is
    never greater; a NaN it holds is never left).
    """
    out_sp = y.shape[1:-1]
    xpad = pad_array(xp, x, pads)
    padded = any(lo or hi for lo, hi in pads)
    inside = pad_array(xp, xp.ones((1,) + x.shape[1:-1] + (1,), bool), pads) \
        if padded else None
    held = xp.full(y.shape, -1, xp.int32)   # tap number of the element held
    best = xp.empty(y.shape, x.dtype)
    all_taps = list(taps(ksize))
    for i, tap in enumerate(all_taps):
        where = tap_index(tap, strides, dilations, out_sp)
        src = xpad[where]
        take = xp.logical_or(held < 0, best < src)
        if padded:
            take &= inside[where]
        xp.copyto(best, src, where=take)
        held[take] = i
    for i, tap in enumerate(all_taps):
        yield tap, held == i


def _first_max_masks(xp, x, y, ksize, strides, pads, dilations):
    """Yields (tap, mask) with mask true where this tap holds the window's first max
    (every max for 3-D windows, see ``_every_tie``)."""
    out_sp = y.shape[1:-1]
    xpad = pad_array(xp, x, pads, _lowest(x.dtype))
    all_taps = list(taps(ksize))
    first_only = not _every_tie(ksize)
    found = None
    for i, tap in enumerate(all_taps):
        mask = xp.equal(xpad[tap_index(tap, strides, dilations, out_sp)], y)
        if first_only and found is None:
            found = mask  # consumed by the caller before the next tap updates it
        elif first_only:
            xp.greater(mask, found, out=mask)  # equal and no earlier tap matched
            if i + 1 < len(all_taps):
                xp.logical_or(found, mask, out=found)
        yield tap, mask


def _row_shapes(n, c, out_sp, ksize):
    """Views of a tiled input whose last axis is a whole row of the last spatial dim.

    Returns (rows, wide): ``rows`` splits every other spatial dim into (out, k) and
    merges the last spatial dim with the channels, (N, o1, k1, ..., o_r*k_r*C); ``wide``
    is the same with 1 for the k axes, the shape of a pooled array widened by
    ``_widen``. Row-long innermost runs keep NumPy's loops long (a window tap's
    C-long runs make every pass several times slower).
    """
    rows, wide = (n,), (n,)
    for o, k in zip(out_sp[:-1], ksize[:-1]):
        rows += (o, k)
        wide += (o, 1)
    tail = (out_sp[-1] * ksize[-1] * c,) if out_sp else (c,)
    return rows + tail, wide + tail


def _widen(xp, a, k, wide):
    """Pooled ``a`` with each value repeated ``k`` times along the last spatial dim."""
    return (xp.repeat(a, k, axis=-2) if k > 1 else a).reshape(wide)


def _tiled_first_max(d, x, y, ksize, rows, wide, zero_ties_free=False):
    """Bool (rows-shaped) mask of the first maximum of every tiled window.

    One comparison of the whole input with the widened maxima; the row-major
    first-max suppression runs only when some window may hold two maxima (always on
    GPU, where checking would wait for the device). ``zero_ties_free``: ``x`` is a
    ReLU output (no negative values) whose all-zero windows get a zero gradient, so
    their K equal maxima need no suppression.
    """
    xp = d.xp
    eq = xp.equal(x.reshape(rows), _widen(xp, y, ksize[-1], wide))
    if _every_tie(ksize):
        return eq
    if not d.is_gpu and not (y.dtype.kind == "f" and bool(xp.isnan(y.max()))):
        # every window holds its maximum at least once (no NaN window), an all-zero
        # window of a ReLU output exactly K times
        expect = y.size
        if zero_ties_free:
            expect += (_prod(ksize) - 1) * int(xp.count_nonzero(y == 0))
        if int(xp.count_nonzero(eq)) == expect:
            return eq  # no window that matters has two maxima
    _keep_first_in_rows(xp, eq, ksize, x.shape[-1])
    return eq


def _keep_first_in_rows(xp, eq, ksize, c):
    """Clears every match of a window after its first in row-major tap order, in place.

    ``eq`` is rows-shaped (see ``_row_shapes``). Every pass is a whole-array boolean
    op over row-long runs: the last spatial dim by shifting the flat row ``s * c``
    places (a periodic mask keeps a shift inside its window), then the leading dims
    slab by slab against the windows already matched in earlier slabs.
    """
    k = ksize[-1]
    col = (xp.arange(eq.shape[-1]) // c) % k  # window column of each row position
    later = [None] + [col >= s for s in range(1, k)]  # s-earlier column in window
    for s in range(1, k):
        earlier = xp.logical_and(eq[..., :-s * c], later[s][s * c:])
        xp.greater(eq[..., s * c:], earlier, out=eq[..., s * c:])
    lead = list(taps(ksize[:-1]))
    found = None
    for i, tap in enumerate(lead):
        idx = (slice(None),)
        for j in tap:
            idx += (slice(None), j)
        slab = eq[idx + (slice(None),)]
        if found is not None:
            xp.greater(slab, found, out=slab)  # a window matched in an earlier slab
        if i + 1 == len(lead):
            break
        # the slab's (single) match of each window, spread over all its columns
        hit = slab.copy() if found is None else xp.logical_or(found, slab, out=found)
        for s in range(1, k):
            xp.logical_or(hit[..., s * c:],
                          xp.logical_and(slab[..., :-s * c], later[s][s * c:]),
                          out=hit[..., s * c:])
            xp.logical_or(hit[..., :-s * c],
                          xp.logical_and(slab[..., s * c:], ~later[k - s][:-s * c]),
                          out=hit[..., :-s * c])
        found = hit


def _tiled_max_pool_grad(d, x, y, dy, ksize, zero_ties_free=False):
    """MaxPoolGrad of windows that tile the input (the uncovered edge gets zeros).

    ``zero_ties_free``: see ``_tiled_first_max`` (``dy`` must then be zero wherever
    ``y`` is).
    """
    xp = d.xp
    out_sp = y.shape[1:-1]
    covered = tuple(o * k for o, k in zip(out_sp, ksize))
    whole = covered == tuple(x.shape[1:-1])
    cov = (slice(None),) + tuple(slice(0, v) for v in covered)
    rows, wide = _row_shapes(x.shape[0], x.shape[-1], out_sp, ksize)
    first = _tiled_first_max(d, x if whole else x[cov], y, ksize, rows, wide,
                             zero_ties_free)
    dx = xp.empty(x.shape, dy.dtype)
    # a view: dx is contiguous, so its covered part splits and merges without a copy
    xp.multiply(first, _widen(xp, dy, ksize[-1], wide),
                out=(dx if whole else dx[cov]).reshape(rows))
    for i, v in enumerate(covered):
        if v != x.shape[1 + i]:
            dx[(slice(None),) * (1 + i) + (slice(v, None),)] = 0
    return dx


def max_pool_grad(d, x, y, dy, *, ksize, strides, pads, dilations):
    """Routes each output gradient to the first maximum of its window."""
    xp = d.xp
    out_sp = y.shape[1:-1]
    if _needs_scan(d, x, y):
        masks = _scan_masks(xp, x, y, ksize, strides, pads, dilations)
    elif _tiled(ksize, strides, pads, dilations):
        return _tiled_max_pool_grad(d, _floored(d, x, ksize), y, dy, ksize)
    else:
        masks = _first_max_masks(xp, _floored(d, x, ksize), y, ksize, strides, pads,
                                 dilations)
    block = xp.empty(dy.shape, dy.dtype)  # reused: each tap's block is added at once
    # accumulate_taps visits taps in scan order, the order the masks are produced in
    return accumulate_taps(xp, lambda i, tap: xp.multiply(dy, next(masks)[1], out=block),
                           x.shape[0], x.shape[1:], ksize, strides, pads, dilations,
                           out_sp, dy.dtype)


def max_pool_grad_grad(d, x, y, ddx, *, ksize, strides, pads, dilations):
    """Gathers ``ddx`` at the first maximum of every window (adjoint of MaxPoolGrad)."""
    xp = d.xp
    out_sp = y.shape[1:-1]
    ddx_pad = pad_array(xp, ddx, pads)
    out = xp.zeros(y.shape, ddx.dtype)
    if _needs_scan(d, x, y):
        masks = _scan_masks(xp, x, y, ksize, strides, pads, dilations)
    else:
        masks = _first_max_masks(xp, _floored(d, x, ksize), y, ksize, strides, pads,
                                 dilations)
    for tap, mask in masks:
        out += ddx_pad[tap_index(tap, strides, dilations, out_sp)] * mask
    return out


def _counts(xp, in_sp, ksize, strides, pads, dilations, out_sp, dtype):
    """Valid (non-padding) elements per window, shaped (1, *out_sp, 1)."""
    total = None
    r = len(ksize)
    for i, (n, k, s, dl, (lo, _), o) in enumerate(zip(in_sp, ksize, strides, dilations,
                                                      pads, out_sp)):
        pos = xp.arange(o)[:, None] * s - lo + xp.arange(k)[None, :] * dl
        cnt = ((pos >= 0) & (pos < n)).sum(axis=1).astype(dtype)
        shape = [1] * (r + 2)
        shape[1 + i] = o
        cnt = cnt.reshape(shape)
        total = cnt if total is None else total * cnt
    return total


def avg_pool_forward(d, x, *, ksize, strides, pads, dilations):
    """Window means over valid (non-padding) elements, like TF's SAME average pool."""
    xp = d.xp
    out_sp = _out_sp(x.shape, ksize, strides, pads, dilations)
    if _tiled(ksize, strides, pads, dilations):
        out = _reduce_blocks(xp.add, _blocks(x, ksize, out_sp), len(ksize))
        out /= x.dtype.type(_prod(ksize))
        return out
    xpad = pad_array(xp, x, pads)
    out = None
    for tap in taps(ksize):
        src = xpad[tap_index(tap, strides, dilations, out_sp)]
        out = src.copy() if out is None else xp.add(out, src, out=out)
    if any(lo or hi for lo, hi in pads):
        out /= _counts(xp, x.shape[1:-1], ksize, strides, pads, dilations, out_sp,
                       x.dtype)
    else:
        out /= x.dtype.type(_prod(ksize))
    return out


def _prod(seq):
    out = 1
    for v in seq:
        out *= v
    return out


def avg_pool_grad(d, dy, *, in_shape, ksize, strides, pads, dilations):
    """Spreads each output gradient evenly over the valid elements of its window."""
    xp = d.xp
    n = dy.shape[0]
    out_sp = dy.shape[1:-1]
    full = (n,) + tuple(in_shape)
    if _tiled(ksize, strides, pads, dilations):
        g = dy / dy.dtype.type(_prod(ksize))
        shape, bshape = (n,), (n,)
        for o, k in zip(out_sp, ksize):
            shape += (o, 1)
            bshape += (o, k)
        spread = xp.broadcast_to(g.reshape(shape + (dy.shape[-1],)),
                                 bshape + (dy.shape[-1],))
        covered = tuple(o * k for o, k in zip(out_sp, ksize))
        spread = spread.reshape((n,) + covered + (dy.shape[-1],))
        if covered == tuple(in_shape[:-1]):
            return spread
        dx = xp.zeros(full, dy.dtype)
        dx[(slice(None),) + tuple(slice(0, c) for c in covered)] = spread
        return dx
    if any(lo or hi for lo, hi in pads):
        g = dy / _counts(xp, in_shape[:-1], ksize, strides, pads, dilations, out_sp,
                         dy.dtype)
    else:
        g = dy / dy.dtype.type(_prod(ksize))
    return accumulate_taps(xp, lambda i, tap: g, n, in_shape, ksize, strides, pads,
                           dilations, out_sp, dy.dtype)


# ---------------------------------------------------------------- primitives
max_pool_p = primitive("MaxPool")(max_pool_forward)
max_pool_grad_p = primitive("MaxPoolGrad")(max_pool_grad)
max_pool_p.static_shape = lambda in_dims, attrs: swept_static_shape(
    in_dims, attrs, in_dims[0][-1])
max_pool_grad_grad_p = primitive("MaxPoolGradGrad")(max_pool_grad_grad)
avg_pool_p = primitive("AvgPool")(avg_pool_forward)
avg_pool_grad_p = primitive("AvgPoolGrad")(avg_pool_grad)
avg_pool_p.static_shape = max_pool_p.static_shape
max_pool_grad_p.static_shape = lambda in_dims, attrs: list(in_dims[0])


@max_pool_p.defgrad
def _max_pool_grad_rule(inputs, out, dy, **geo):
    return call(max_pool_grad_p, (inputs[0], out, dy), geo)


@max_pool_grad_p.defgrad
def _max_pool_grad_grad_rule(inputs, out, ddx, **geo):
    # The routing is piecewise constant in x: zero (not None) gradients, as TF gives.
    x, y, _ = inputs
    return (zeros_like(x), zeros_like(y),
            call(max_pool_grad_grad_p, (x, y, ddx), geo))


@max_pool_grad_grad_p.defgrad
def _max_pool_grad_grad_grad_rule(inputs, out, g, **geo):
    x, y, _ = inputs
    return zeros_like(x), zeros_like(y), call(max_pool_grad_p, (x, y, g), geo)


@avg_pool_p.defgrad
def _avg_pool_grad_rule(inputs, out, dy, **geo):
    return call(avg_pool_grad_p, (dy,), dict(geo, in_shape=tuple(inputs[0]._value.shape[1:])))


@avg_pool_grad_p.defgrad
def _avg_pool_grad_grad_rule(inputs, out, ddx, *, in_shape, **geo):
    return call(avg_pool_p, (ddx,), geo)


# ---------------------------------------------------------------- public ops
_FLOAT_NAMES = "half, bfloat16, float, double"
_MAX_NAMES = "half, bfloat16, float, double, int32, int64, uint8, int16, int8, uint16"


def _pool(op, kind, r, input, ksize, strides, padding, data_format,
          dilations=None):
    x = t(input)
    if r is None:
        r = x._value.ndim - 2
        if r not in (1, 2, 3):
            raise ValueError(f"{op}: input must have rank 3, 4 or 5, got shape "
                             f"{list(x._value.shape)}")
    last = channels_last(data_format, r, op)
    kinds, names = ("f", _FLOAT_NAMES) if kind == "avg" else ("fiu", _MAX_NAMES)
    if x.dtype == dtypes.bfloat16:   # no NumPy bfloat16 kernels: pool in float32
        y = _pool(op, kind, r, cast(x, dtypes.float32), ksize, strides, padding,
                  data_format, dilations)
        return cast(y, dtypes.bfloat16)
    if x._value.dtype.kind not in kinds:
        raise InvalidArgumentError(
            f"{op}: Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
            f"values: {names} [Op:{op}]")
    if x._value.ndim != r + 2:
        raise InvalidArgumentError(
            f"{op}: input must be {r + 2}-dimensional, got shape {list(x._value.shape)} "
            f"(`input`) [Op:{op}]")
    if kind == "avg" and not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    if kind == "max" and last and (full_attr(ksize, r) or [1])[-1] > 1:
        return depth_max_pool(op, x, r, full_attr(ksize, r), full_attr(strides, r))
    batch_msg = "Pooling is not yet supported on the batch dimension."
    ksize = spatial_attr(ksize, r, last, op, "ksize", batch_msg=batch_msg)
    strides = spatial_attr(strides, r, last, op, "strides", batch_msg=batch_msg)
    dilations = spatial_attr(dilations, r, last, op, "dilations")
    if not last:
        x = to_last(x, r)
    pads, _ = resolve_pads(padding, x._value.shape[1:-1], ksize, strides, dilations, r,
                           last, op)
    if not isinstance(padding, str) and r <= 2:
        _check_explicit_pads(op, pads, ksize)
    prim = avg_pool_p if kind == "avg" else max_pool_p
    y = call(prim, (x,), {"ksize": ksize, "strides": strides, "pads": pads,
                          "dilations": dilations})
    return y if last else to_first(y, r)


def _check_explicit_pads(op, pads, ksize):
    """TF's MaxPool refuses explicit padding as wide as the window (a window of
    padding only)."""
    sides = (("Top", "Bottom"), ("Left", "Right"))[-len(pads):]
    for (lo, hi), k, names in zip(pads, ksize, sides):
        for amount, name in zip((lo, hi), names):
            if amount >= k:
                raise InvalidArgumentError(
                    f"{op}: {name} padding {amount} needs to be smaller than the "
                    f"window size {k} [Op:{op}]")


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """Max pooling of a 4-D input.

    Args:
      input: [batch, height, width, channels] (NHWC) or NCHW tensor.
      ksize: window size, int or list of 1, 2 or 4 ints.
      strides: int or list of 1, 2 or 4 ints.
      padding: 'SAME', 'VALID' or explicit [[0, 0], [t, b], [l, r], [0, 0]].
      data_format: 'NHWC' (default) or 'NCHW'.
      name: ignored.
    """
    return _pool("MaxPool", "max", 2, input, ksize, strides, padding, data_format)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """Average pooling of a 4-D input; SAME windows average their valid elements only.

    Args:
      input: [batch, height, width, channels] (NHWC) or NCHW float tensor.
      ksize: window size, int or list of 1, 2 or 4 ints.
      strides: int or list of 1, 2 or 4 ints.
      padding: 'SAME' or 'VALID'.
      data_format: 'NHWC' (default) or 'NCHW'.
      name: ignored.
    """
    return _pool("AvgPool", "avg", 2, input, ksize, strides, padding, data_format)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """Max pooling of a [batch, width, channels] input."""
    return _pool("MaxPool", "max", 1, input, ksize, strides, padding, data_format)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """Average pooling of a [batch, width, channels] input."""
    return _pool("AvgPool", "avg", 1, input, ksize, strides, padding, data_format)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """Max pooling of a 5-D (NDHWC) input."""
    return _pool("MaxPool3D", "max", 3, input, ksize, strides, padding, data_format)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """Average pooling of a 5-D (NDHWC) input."""
    return _pool("AvgPool3D", "avg", 3, input, ksize, strides, padding, data_format)


def max_pool(input, ksize, strides, padding, data_format=None, name=None):
    """Max pooling of a 3-, 4- or 5-D input (rank picks 1-, 2- or 3-D pooling)."""
    return _pool("MaxPool", "max", None, input, ksize, strides, padding, data_format)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):
    """Average pooling of a 3-, 4- or 5-D input (rank picks 1-, 2- or 3-D pooling)."""
    return _pool("AvgPool", "avg", None, input, ksize, strides, padding, data_format)


def pool(input, window_shape, pooling_type, strides=None, padding="VALID",
         data_format=None, dilations=None, name=None):
    """N-d pooling ('MAX' or 'AVG') with optional dilated windows (VALID only)."""
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"pooling_type must be 'MAX' or 'AVG'. Received: "
                         f"pooling_type={pooling_type!r}")
    window_shape = [int(v) for v in window_shape]
    r = len(window_shape)
    dils = [1] * r if dilations is None else [int(v) for v in (
        dilations if isinstance(dilations, (list, tuple)) else [dilations] * r)]
    strd = [1] * r if strides is None else strides
    if any(v > 1 for v in dils):
        if padding == "SAME":
            raise ValueError(f"pooling with 'SAME' padding is not implemented for "
                             f"`dilation_rate` > 1. Received: padding={padding} and "
                             f"dilation_rate={dils}")
        if any(int(s) > 1 for s in (strd if isinstance(strd, (list, tuple))
                                    else [strd])):
            raise ValueError(f"strides > window_shape not supported due to inconsistency "
                             f"between CPU and GPU implementations. Received: "
                             f"strides={strd} and dilation_rate={dils}")
    x = t(input)
    if x._value.ndim != r + 2:
        raise ValueError(f"pool: input must have rank {r + 2} for window_shape "
                         f"{window_shape}, got shape {list(x._value.shape)}")
    kind = "max" if pooling_type == "MAX" else "avg"
    op = "MaxPool" if kind == "max" else "AvgPool"
    return _pool(op, kind, r, x, window_shape, strd, padding, data_format, dils)
