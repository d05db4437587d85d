"""Winograd F(m x m, 3 x 3) convolution on host (NumPy) arrays, channels_last.

A 3x3, stride-1, dilation-1 convolution computes each m x m output tile from an
(m + 2) x (m + 2) input tile. Winograd's minimal filtering (Lavin & Gray, 2015)
transforms input tiles (``B^T d B``) and filters (``G g G^T``) so that the tile's
output is ``A^T [U . V] A``: the (m + 2)^2 elementwise products, summed over input
channels, are one batched GEMM [positions, tiles, Cin] x [positions, Cin, Cout]
with (m + 2)^2 / (9 m^2) of the direct convolution's multiplies (0.44 for m = 2).

The transforms are small matrices applied along one spatial axis at a time, as a
few whole-array adds per matrix row (their entries are mostly 0 and +-1), so they
stream the data a handful of times and cost far less than the GEMM they save on
wide layers. The input gradient of such a convolution is itself one (a "full"
convolution of dY with the flipped, transposed filter), so it runs here too.
"""

from dlframe.backends.base import np

# F(2x2, 3x3), interpolation points 0, 1, -1 (and infinity)
_BT = np.array([[1, 0, -1, 0],
                   [0, 1, 1, 0],
                   [0, -1, 1, 0],
                   [0, 1, 0, -1]], np.float64)
_G = np.array([[1, 0, 0],
                  [0.5, 0.5, 0.5],
                  [0.5, -0.5, 0.5],
                  [0, 0, 1]], np.float64)
_AT = np.array([[1, 1, 1, 0],
                   [0, 1, -1, -1]], np.float64)
# F(4x4, 3x3), points 0, 1, -1, 2, -2 (and infinity): 36 / 144 of the multiplies
_BT4 = np.array([[4, 0, -5, 0, 1, 0],
                 [0, -4, -4, 1, 1, 0],
                 [0, 4, -4, -1, 1, 0],
                 [0, -2, -1, 2, 1, 0],
                 [0, 2, -1, -2, 1, 0],
                 [0, 4, 0, -5, 0, 1]], np.float64)
_G4 = np.array([[1 / 4, 0, 0],
                [-1 / 6, -1 / 6, -1 / 6],
                [-1 / 6, 1 / 6, -1 / 6],
                [1 / 24, 1 / 12, 1 / 6],
                [1 / 24, -1 / 12, 1 / 6],
                [0, 0, 1]], np.float64)
_AT4 = np.array([[1, 1, 1, 1, 1, 0],
                 [0, 1, -1, 2, -2, 0],
                 [0, 1, 1, 4, 4, 0],
                 [0, 1, -1, 8, -8, 1]], np.float64)
_SCHEME = {2: (_BT, _G, _AT), 4: (_BT4, _G4, _AT4)}
TILE = 2

# Below these sizes the transforms (and their Python) cost more than the GEMM
# multiplies they save (process time, one BLAS thread, see bench/README.md): a
# 32->64 layer (the small CNN's conv2) is slower here, 64->64 and wider faster
# from ~4e7 flops (break-even), so the path starts at 1e8
_MIN_CHANNELS = 64
_MIN_FLOPS = 1e8


def winograd_applies(x, w, strides, dilations, pads, groups=1):
    """True when the convolution of host array ``x`` (N, H, W, C) with filter ``w``
    (3, 3, C, K) should take the Winograd path: float32/float64, 3x3, stride 1,
    dilation 1, ungrouped, padding of at most 2 a side, and wide enough to pay."""
    if (type(x) is not np.ndarray or type(w) is not np.ndarray   # host arrays only
            or x.ndim != 4 or w.shape[:2] != (3, 3)
            or groups != 1 or x.dtype not in (np.float32, np.float64)
            or w.dtype != x.dtype or tuple(strides) != (1, 1)
            or tuple(dilations) != (1, 1)
            or any(not 0 <= p <= 2 for pair in pads for p in pair)):
        return False
    cin, cout = w.shape[2], w.shape[3]
    if min(cin, cout) < _MIN_CHANNELS:
        return False
    out_h = x.shape[1] + sum(pads[0]) - 2
    out_w = x.shape[2] + sum(pads[1]) - 2
    return 2.0 * 9 * x.shape[0] * out_h * out_w * cin * cout >= _MIN_FLOPS


def filter_transform(w, dtype, tile=None):
    """(alpha^2, Cin, Cout) transformed filters ``G g G^T`` of a (3, 3, Cin, Cout)
    filter, computed in float64 and rounded once to ``dtype``."""
    g = _SCHEME[tile or TILE][1]
    u = np.tensordot(g, np.asarray(w, np.float64), axes=(1, 0))
    u = np.tensordot(g, u, axes=(1, 1))     # (alpha_w, alpha_h, C, K)
    u = u.transpose(1, 0, 2, 3)
    return u.reshape(-1, w.shape[2], w.shape[3]).astype(dtype)


def _combine(row, sources, out):
    """``out = sum_i row[i] * sources(i)``: one pass per non-zero coefficient, the
    first two +-1 terms in one binary op (most rows are ``a + b`` or ``a - b``)."""
    terms = [(c, i) for i, c in enumerate(row) if c != 0]
    if not terms:
        out[...] = 0
        return
    (c0, i0), rest = terms[0], terms[1:]
    if rest and abs(c0) == 1 and abs(rest[0][0]) == 1:
        (c1, i1), rest = rest[0], rest[1:]
        if c0 == c1:
            np.add(sources(i0), sources(i1), out=out)
        else:
            a, b = (i0, i1) if c0 == 1 else (i1, i0)
            np.subtract(sources(a), sources(b), out=out)
        if c0 == c1 == -1:
            np.negative(out, out=out)
    elif c0 == 1:
        np.copyto(out, sources(i0))
    else:
        np.multiply(sources(i0), c0, out=out)
    for c, i in rest:
        if c == 1:
            np.add(out, sources(i), out=out)
        elif c == -1:
            np.subtract(out, sources(i), out=out)
        else:
            out += c * sources(i)


def _input_transform(xpad, tiles_h, tiles_w, bt):
    """(alpha^2, N * tiles_h * tiles_w, C) transformed input tiles ``B^T d B``."""
    alpha, m = bt.shape[0], bt.shape[0] - 2
    n, _, wp, c = xpad.shape
    rows = np.empty((alpha, n, tiles_h, wp, c), xpad.dtype)
    span_h, span_w = m * (tiles_h - 1) + 1, m * (tiles_w - 1) + 1
    for a in range(alpha):
        _combine(bt[a], lambda i: xpad[:, i:i + span_h:m], rows[a])
    v = np.empty((alpha, alpha, n, tiles_h, tiles_w, c), xpad.dtype)
    for a in range(alpha):
        for b in range(alpha):
            _combine(bt[b], lambda j, src=rows[a]: src[:, :, j:j + span_w:m],
                     v[a, b])
    return v.reshape(alpha * alpha, -1, c)


def _output_transform(prod, n, tiles_h, tiles_w, out_h, out_w, at):
    """(N, out_h, out_w, K) output from the per-position products (alpha^2, T, K)."""
    m, alpha = at.shape
    k = prod.shape[-1]
    prod = prod.reshape(alpha, alpha, n, tiles_h, tiles_w, k)
    cols = np.empty((m, alpha, n, tiles_h, tiles_w, k), prod.dtype)
    for u in range(m):
        _combine(at[u], lambda a: prod[a], cols[u])
    y = np.empty((n, tiles_h, m, tiles_w, m, k), prod.dtype)
    for u in range(m):
        for v in range(m):
            _combine(at[v], lambda b, src=cols[u]: src[b], y[:, :, u, :, v])
    y = y.reshape(n, tiles_h * m, tiles_w * m, k)
    if y.shape[1:3] != (out_h, out_w):
        y = np.ascontiguousarray(y[:, :out_h, :out_w])
    return y


def winograd_conv(d, x, u, pads, tile=None):
    """Stride-1 3x3 cross-correlation of (N, H, W, C) ``x`` with pre-transformed
    filters ``u`` (alpha^2, C, K) (see ``filter_transform``) and spatial ``pads``
    ((top, bottom), (left, right)); returns (N, H', W', K) in ``x``'s dtype."""
    bt, _, at = _SCHEME[tile or TILE]
    m = at.shape[0]
    n, h, w, _ = x.shape
    out_h, out_w = h + sum(pads[0]) - 2, w + sum(pads[1]) - 2
    tiles_h, tiles_w = -(-out_h // m), -(-out_w // m)
    # the last tiles may reach past the padded input: pad it further with zeros
    xpad = np.zeros((n, tiles_h * m + 2, tiles_w * m + 2, x.shape[-1]), x.dtype)
    xpad[:, pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + w] = x
    v = _input_transform(xpad, tiles_h, tiles_w, bt)
    prod = d.matmul(v, u)
    return _output_transform(prod, n, tiles_h, tiles_w, out_h, out_w, at)


def winograd_forward(d, x, w, pads, tile=None):
    """Forward 3x3 convolution of ``x`` with the (3, 3, Cin, Cout) filter ``w``."""
    return winograd_conv(d, x, filter_transform(w, x.dtype, tile), pads, tile)


def winograd_backprop_input(d, dy, w, pads, tile=None):
    """Input gradient of a stride-1 3x3 convolution with filter ``w`` and ``pads``:
    the full convolution of ``dy`` with the flipped, transposed filter."""
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)
    full = tuple((2 - lo, 2 - hi) for lo, hi in pads)
    return winograd_conv(d, dy, filter_transform(flipped, dy.dtype, tile), full, tile)
