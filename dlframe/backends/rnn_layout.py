"""Keras <-> cuDNN RNN weight layout, and NumPy reference RNNs used as test oracles.

Array-module generic: the packing helpers run on NumPy and CuPy arrays alike (the
module of ``kernel``/the flat buffer is used), so the layout logic is tested on CPU
and reused unchanged by the cuDNN binding (``dlframe.backends.cudnn``).

Facts (../shared/GPU.md §3.6):

* cuDNN numbers a single-layer LSTM's matrices ``linLayerID`` 0-3 (multiply the
  layer input, "W") and 4-7 (multiply the recurrent state, "R"), gates i, f, c, o,
  which is Keras' order. GRU: 0-2 W, 3-5 R, gates r, z, h; Keras' order is z, r, h,
  so the first two blocks swap.
* Each cuDNN matrix is row-major ``[hidden, input]`` (or ``[hidden, hidden]``): the
  transpose of the Keras kernel slice ``kernel[:, k*u:(k+1)*u]``.
* Biases: cuDNN has one bias per linLayerID (DOUBLE_BIAS mode): bW for 0..G-1, bR for
  G..2G-1. Keras LSTM has one bias, fed as bW = 0, bR = bias (TF's choice); its
  gradient is dbR (mathematically equal to dbW; never sum them). Keras GRU
  (reset_after=True) bias is (2, 3u): bias[0] -> bW, bias[1] -> bR.

A *weight view table* (:class:`WeightViews`) says where each linLayerID's matrix and
bias sit in the flat weight space, as element offsets plus shapes - exactly what
``cudnnGetRNNWeightParams`` reports once the address is turned into an offset.
"""

import collections
import sys

import numpy

CELL_GATES = {"lstm": 4, "gru": 3}

# cuDNN gate g takes Keras block _KERAS_BLOCK[cell][g].
_KERAS_BLOCK = {"lstm": (0, 1, 2, 3), "gru": (1, 0, 2)}

WeightViews = collections.namedtuple("WeightViews", ["matrices", "biases", "size"])
WeightViews.__doc__ = """Where each linLayerID's parameters live in a flat weight space.

Attributes:
  matrices: list indexed by linLayerID of ``(offset, shape)``; ``offset`` in elements,
    ``shape`` as reported by the matrix descriptor (any leading 1s are ignored; the
    element count must be hidden*input for W and hidden*hidden for R).
  biases: list indexed by linLayerID of ``(offset, shape)`` (hidden elements each).
  size: total number of elements of the flat weight space.
"""


def num_gates(cell_kind):
    """Number of gates of ``'lstm'`` (4) or ``'gru'`` (3)."""
    try:
        return CELL_GATES[cell_kind]
    except KeyError:
        raise ValueError(f"cell_kind must be 'lstm' or 'gru', got {cell_kind!r}") from None


def array_module(array):
    """numpy for NumPy arrays, cupy for CuPy arrays (never imports CuPy itself)."""
    if isinstance(array, numpy.ndarray) or numpy.isscalar(array):
        return numpy
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return numpy


def synthetic_views(cell_kind, input_size, units):
    """A view table laid out as cuDNN 9 does for one unidirectional layer.

    All W matrices (row-major [units, input_size]) in gate order, then all R
    matrices ([units, units]), then the G bW biases, then the G bR biases. Used by
    CPU tests; the GPU binding always asks cuDNN for the real table.
    """
    gates = num_gates(cell_kind)
    matrices, biases = [], []
    offset = 0
    for _ in range(gates):
        matrices.append((offset, (1, units, input_size)))
        offset += units * input_size
    for _ in range(gates):
        matrices.append((offset, (1, units, units)))
        offset += units * units
    for _ in range(2 * gates):
        biases.append((offset, (1, units, 1)))
        offset += units
    return WeightViews(matrices, biases, offset)


def _size(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _check_views(views, gates, input_size, units):
    if len(views.matrices) != 2 * gates or len(views.biases) != 2 * gates:
        raise ValueError(f"weight view table has {len(views.matrices)} matrices and "
                         f"{len(views.biases)} biases; expected {2 * gates} of each")
    for lin, (offset, shape) in enumerate(views.matrices):
        cols = input_size if lin < gates else units
        if _size(shape) != units * cols:
            raise ValueError(f"linLayerID {lin}: matrix shape {tuple(shape)} does not hold "
                             f"{units}x{cols} elements")
        if offset < 0 or offset + units * cols > views.size:
            raise ValueError(f"linLayerID {lin}: matrix offset {offset} outside the "
                             f"weight space of {views.size} elements")
    for lin, (offset, shape) in enumerate(views.biases):
        if _size(shape) != units or offset < 0 or offset + units > views.size:
            raise ValueError(f"linLayerID {lin}: bias at offset {offset} with shape "
                             f"{tuple(shape)} does not fit {units} elements in "
                             f"{views.size}")


def keras_to_cudnn(cell_kind, kernel, recurrent_kernel, bias):
    """Splits Keras weights into cuDNN's per-gate parameters.

    Args:
      cell_kind: 'lstm' or 'gru' (GRU means reset_after=True).
      kernel: (input_size, G*units).
      recurrent_kernel: (units, G*units).
      bias: LSTM (G*units,); GRU (2, G*units). None means zeros.

    Returns:
      (W, R, bW, bR), each a list of G arrays in cuDNN gate order:
      W[g] (units, input_size), R[g] (units, units), bW[g] and bR[g] (units,).
    """
    gates = num_gates(cell_kind)
    xp = array_module(kernel)
    units = recurrent_kernel.shape[0]
    _check_keras_shapes(cell_kind, kernel, recurrent_kernel, bias, gates, units)
    zeros = xp.zeros((units,), dtype=kernel.dtype)
    w, r, bw, br = [], [], [], []
    for g in range(gates):
        blk = slice(_KERAS_BLOCK[cell_kind][g] * units, (_KERAS_BLOCK[cell_kind][g] + 1) * units)
        w.append(kernel[:, blk].T)
        r.append(recurrent_kernel[:, blk].T)
        if bias is None:
            bw.append(zeros)
            br.append(zeros)
        elif cell_kind == "lstm":
            bw.append(zeros)
            br.append(bias[blk])
        else:
            bw.append(bias[0, blk])
            br.append(bias[1, blk])
    return w, r, bw, br


def cudnn_to_keras(cell_kind, w, r, bw, br):
    """Inverse of :func:`keras_to_cudnn` for gradients.

    LSTM: the returned bias is ``bR`` (the gradient of the Keras bias is dbR; dbW
    equals it mathematically and is not added). GRU: ``stack([bW, bR])``.

    Returns:
      (kernel, recurrent_kernel, bias) in Keras layout.
    """
    gates = num_gates(cell_kind)
    xp = array_module(w[0])
    order = [0] * gates
    for g in range(gates):
        order[_KERAS_BLOCK[cell_kind][g]] = g
    kernel = xp.concatenate([w[order[k]].T for k in range(gates)], axis=1)
    recurrent = xp.concatenate([r[order[k]].T for k in range(gates)], axis=1)
    if cell_kind == "lstm":
        bias = xp.concatenate([br[order[k]] for k in range(gates)])
    else:
        bias = xp.stack([xp.concatenate([bw[order[k]] for k in range(gates)]),
                         xp.concatenate([br[order[k]] for k in range(gates)])])
    return kernel, recurrent, bias


def _check_keras_shapes(cell_kind, kernel, recurrent_kernel, bias, gates, units):
    if kernel.ndim != 2 or kernel.shape[1] != gates * units:
        raise ValueError(f"kernel must have shape (input_size, {gates * units}); "
                         f"got {tuple(kernel.shape)}")
    if tuple(recurrent_kernel.shape) != (units, gates * units):
        raise ValueError(f"recurrent_kernel must have shape ({units}, {gates * units}); "
                         f"got {tuple(recurrent_kernel.shape)}")
    if bias is None:
        return
    want = (gates * units,) if cell_kind == "lstm" else (2, gates * units)
    if tuple(bias.shape) != want:
        raise ValueError(f"{cell_kind} bias must have shape {want}; got {tuple(bias.shape)}")


def pack_weights(cell_kind, kernel, recurrent_kernel, bias, views, out=None):
    """Packs Keras weights into a flat cuDNN weight space.

    Args:
      cell_kind: 'lstm' or 'gru'.
      kernel, recurrent_kernel, bias: Keras-layout arrays (bias may be None = zeros).
      views: a :class:`WeightViews` (from cuDNN or :func:`synthetic_views`).
      out: optional flat array of ``views.size`` elements to fill (same module as
        ``kernel``); elements not covered by a view are zeroed.

    Returns:
      The flat array, dtype of ``kernel`` (or of ``out``).
    """
    gates = num_gates(cell_kind)
    xp = array_module(kernel)
    units = recurrent_kernel.shape[0]
    input_size = kernel.shape[0]
    _check_views(views, gates, input_size, units)
    w, r, bw, br = keras_to_cudnn(cell_kind, kernel, recurrent_kernel, bias)
    if out is None:
        out = xp.zeros((views.size,), dtype=kernel.dtype)
    else:
        if out.ndim != 1 or out.shape[0] != views.size:
            raise ValueError(f"out must be a flat array of {views.size} elements; "
                             f"got shape {tuple(out.shape)}")
        out.fill(0)
    for g in range(gates):
        for lin, mat in ((g, w[g]), (gates + g, r[g])):
            offset, _ = views.matrices[lin]
            out[offset:offset + mat.size] = mat.reshape(-1)  # row-major [units, cols]
        for lin, vec in ((g, bw[g]), (gates + g, br[g])):
            offset, _ = views.biases[lin]
            out[offset:offset + units] = vec
    return out


def unpack_gradients(cell_kind, flat, views, input_size, units):
    """Reads a flat cuDNN weight-gradient buffer back into Keras-shaped gradients.

    Returns:
      (dkernel (input_size, G*units), drecurrent_kernel (units, G*units),
       dbias: LSTM (G*units,) = dbR; GRU (2, G*units) = [dbW, dbR]).
    """
    gates = num_gates(cell_kind)
    _check_views(views, gates, input_size, units)
    if flat.ndim != 1 or flat.shape[0] != views.size:
        raise ValueError(f"flat gradient must have {views.size} elements; "
                         f"got shape {tuple(flat.shape)}")

    def mat(lin, cols):
        offset, _ = views.matrices[lin]
        return flat[offset:offset + units * cols].reshape(units, cols)

    def vec(lin):
        offset, _ = views.biases[lin]
        return flat[offset:offset + units]

    w = [mat(g, input_size) for g in range(gates)]
    r = [mat(gates + g, units) for g in range(gates)]
    bw = [vec(g) for g in range(gates)]
    br = [vec(gates + g) for g in range(gates)]
    return cudnn_to_keras(cell_kind, w, r, bw, br)


# ---------------------------------------------------------------------------------
# NumPy reference RNNs (test oracles). Right-padded variable lengths: outputs at
# t >= length are 0 and the state stops changing, so the final state is the state
# after step length-1 (the initial state for length 0).
# ---------------------------------------------------------------------------------

def _sigmoid(a):
    return 1.0 / (1.0 + numpy.exp(-a))


def _step_mask(seq_lengths, batch, steps):
    if seq_lengths is None:
        return numpy.ones((steps, batch, 1), dtype=bool)
    lengths = numpy.asarray(seq_lengths).reshape(-1)
    if lengths.shape[0] != batch:
        raise ValueError(f"seq_lengths needs {batch} entries; got {lengths.shape[0]}")
    if (lengths < 0).any() or (lengths > steps).any():
        raise ValueError(f"seq_lengths must lie in [0, {steps}]; got {lengths.tolist()}")
    return (numpy.arange(steps)[:, None] < lengths[None, :])[:, :, None]


def _init_state(state, batch, units, dtype):
    if state is None:
        return numpy.zeros((batch, units), dtype=dtype)
    return numpy.asarray(state, dtype=dtype)


def cudnn_equations_forward(cell_kind, x, h0, c0, w, r, bw, br, seq_lengths=None):
    """Forward of cuDNN's LSTM/GRU equations (GPU.md §3.6), batch-major.

    Args:
      x: (B, T, input_size). h0, c0: (B, units) or None (zeros); c0 ignored for GRU.
      w, r, bw, br: per-gate lists in cuDNN order (see :func:`keras_to_cudnn`).
      seq_lengths: None (all T) or B ints.

    Returns:
      (y (B, T, units), hy (B, units), cy (B, units) or None for GRU, cache)
      where ``cache`` feeds :func:`cudnn_equations_backward`.
    """
    gates = num_gates(cell_kind)
    x = numpy.asarray(x)
    dtype = x.dtype
    batch, steps, _ = x.shape
    units = r[0].shape[0]
    wa = numpy.concatenate([numpy.asarray(m) for m in w], axis=0)   # (G*u, in)
    ra = numpy.concatenate([numpy.asarray(m) for m in r], axis=0)   # (G*u, u)
    bwa = numpy.concatenate([numpy.asarray(b) for b in bw])
    bra = numpy.concatenate([numpy.asarray(b) for b in br])
    mask = _step_mask(seq_lengths, batch, steps)
    h = _init_state(h0, batch, units, dtype)
    c = _init_state(c0, batch, units, dtype) if cell_kind == "lstm" else None
    y = numpy.zeros((batch, steps, units), dtype=dtype)
    xw = numpy.einsum("bti,gi->tbg", x, wa) + bwa                   # (T, B, G*u)
    steps_cache = []
    for t in range(steps):
        hr = h @ ra.T + bra
        blocks = [slice(k * units, (k + 1) * units) for k in range(gates)]
        if cell_kind == "lstm":
            a = xw[t] + hr
            i, f = _sigmoid(a[:, blocks[0]]), _sigmoid(a[:, blocks[1]])
            g, o = numpy.tanh(a[:, blocks[2]]), _sigmoid(a[:, blocks[3]])
            c_new = f * c + i * g
            tc = numpy.tanh(c_new)
            h_new = o * tc
            steps_cache.append((h, c, i, f, g, o, tc))
            c = numpy.where(mask[t], c_new, c)
        else:
            rg = _sigmoid(xw[t][:, blocks[0]] + hr[:, blocks[0]])
            z = _sigmoid(xw[t][:, blocks[1]] + hr[:, blocks[1]])
            rh = hr[:, blocks[2]]
            n = numpy.tanh(xw[t][:, blocks[2]] + rg * rh)
            h_new = (1.0 - z) * n + z * h
            steps_cache.append((h, rg, z, n, rh))
        h = numpy.where(mask[t], h_new, h)
        y[:, t] = numpy.where(mask[t], h_new, 0.0)
    cache = (cell_kind, x, wa, ra, mask, steps_cache, units)
    return y, h, c, cache


def cudnn_equations_backward(cache, dy, dhy=None, dcy=None):
    """Backpropagation through time for :func:`cudnn_equations_forward`.

    dy at padded steps is ignored (those outputs are constant zeros).

    Returns:
      (dx, dh0, dc0 (None for GRU), dW, dR, dbW, dbR) with dW/dR/dbW/dbR per-gate
      lists in cuDNN order.
    """
    cell_kind, x, wa, ra, mask, steps_cache, units = cache
    gates = num_gates(cell_kind)
    batch, steps, _ = x.shape
    dtype = x.dtype
    dy = numpy.asarray(dy, dtype=dtype)
    dh = _init_state(dhy, batch, units, dtype).copy()
    dc = _init_state(dcy, batch, units, dtype).copy() if cell_kind == "lstm" else None
    dx = numpy.zeros_like(x)
    dwa = numpy.zeros_like(wa)
    dra = numpy.zeros_like(ra)
    dbwa = numpy.zeros((gates * units,), dtype=dtype)
    dbra = numpy.zeros((gates * units,), dtype=dtype)
    for t in reversed(range(steps)):
        m = mask[t]
        dh = dh + numpy.where(m, dy[:, t], 0.0)
        dh_step = numpy.where(m, dh, 0.0)
        if cell_kind == "lstm":
            h, c, i, f, g, o, tc = steps_cache[t]
            dc_step = numpy.where(m, dc, 0.0) + dh_step * o * (1.0 - tc * tc)
            da = numpy.concatenate([
                dc_step * g * i * (1.0 - i),
                dc_step * c * f * (1.0 - f),
                dc_step * i * (1.0 - g * g),
                dh_step * tc * o * (1.0 - o)], axis=1)
            dx_pre = da
            dr_pre = da
            dbwa += da.sum(0)
            dbra += da.sum(0)
            dc = numpy.where(m, dc_step * f, dc)
        else:
            h, rg, z, n, rh = steps_cache[t]
            dn = dh_step * (1.0 - z)
            dz = dh_step * (h - n)
            dan = dn * (1.0 - n * n)
            drh = dan * rg
            dar = dan * rh * rg * (1.0 - rg)
            daz = dz * z * (1.0 - z)
            dx_pre = numpy.concatenate([dar, daz, dan], axis=1)
            dr_pre = numpy.concatenate([dar, daz, drh], axis=1)
            dbwa += dx_pre.sum(0)
            dbra += dr_pre.sum(0)
        dx[:, t] = dx_pre @ wa
        dwa += dx_pre.T @ x[:, t]
        dra += dr_pre.T @ h
        dh_prev = dr_pre @ ra
        if cell_kind == "gru":
            dh_prev = dh_prev + dh_step * z
        dh = numpy.where(m, dh_prev, dh)

    def split(a):
        return [a[k * units:(k + 1) * units] for k in range(gates)]

    return dx, dh, dc, split(dwa), split(dra), split(dbwa), split(dbra)


def reference_forward(cell_kind, x, h0, c0, kernel, recurrent_kernel, bias,
                      seq_lengths=None):
    """cuDNN-equation forward taking Keras-layout weights (NumPy).

    Returns:
      (y (B, T, units), hy, cy (None for GRU), cache for :func:`reference_backward`).
    """
    w, r, bw, br = keras_to_cudnn(cell_kind, numpy.asarray(kernel),
                                  numpy.asarray(recurrent_kernel),
                                  None if bias is None else numpy.asarray(bias))
    return cudnn_equations_forward(cell_kind, x, h0, c0, w, r, bw, br, seq_lengths)


def reference_backward(cache, dy, dhy=None, dcy=None):
    """Gradients of :func:`reference_forward` in Keras layout.

    Returns:
      (dx, dh0, dc0 (None for GRU), dkernel, drecurrent_kernel, dbias); LSTM dbias
      is dbR (see module docstring).
    """
    dx, dh0, dc0, dw, dr, dbw, dbr = cudnn_equations_backward(cache, dy, dhy, dcy)
    dkernel, drecurrent, dbias = cudnn_to_keras(cache[0], dw, dr, dbw, dbr)
    return dx, dh0, dc0, dkernel, drecurrent, dbias


def keras_equations_forward(cell_kind, x, h0, c0, kernel, recurrent_kernel, bias,
                            seq_lengths=None):
    """Keras' own LSTM / GRU(reset_after=True) equations on Keras weights (NumPy).

    Written independently of the cuDNN mapping so that tests can check
    ``reference_forward`` (cuDNN equations after :func:`keras_to_cudnn`) against it.

    Returns:
      (y, hy, cy or None).
    """
    x = numpy.asarray(x)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    dtype = x.dtype
    mask = _step_mask(seq_lengths, batch, steps)
    h = _init_state(h0, batch, units, dtype)
    c = _init_state(c0, batch, units, dtype)
    y = numpy.zeros((batch, steps, units), dtype=dtype)
    u = units
    for t in range(steps):
        xt = x[:, t]
        if cell_kind == "lstm":
            a = xt @ kernel + h @ recurrent_kernel + (0.0 if bias is None else bias)
            i = _sigmoid(a[:, :u])
            f = _sigmoid(a[:, u:2 * u])
            c_new = f * c + i * numpy.tanh(a[:, 2 * u:3 * u])
            o = _sigmoid(a[:, 3 * u:])
            h_new = o * numpy.tanh(c_new)
            c = numpy.where(mask[t], c_new, c)
        else:
            mx = xt @ kernel + (0.0 if bias is None else bias[0])
            mh = h @ recurrent_kernel + (0.0 if bias is None else bias[1])
            z = _sigmoid(mx[:, :u] + mh[:, :u])
            rg = _sigmoid(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = numpy.tanh(mx[:, 2 * u:] + rg * mh[:, 2 * u:])
            h_new = z * h + (1.0 - z) * hh
        h = numpy.where(mask[t], h_new, h)
        y[:, t] = numpy.where(mask[t], h_new, 0.0)
    return y, h, (c if cell_kind == "lstm" else None)
