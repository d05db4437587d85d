"""Gate-major layout of the fused LSTM/GRU kernels (portable: NumPy or CuPy).

Keras packs an LSTM's or GRU's gates side by side in the last axis of its weights
(``kernel`` ``(in, n*u)``). The kernels of ``ops/rnn.py`` keep each gate in its own
contiguous ``[batch, units]`` block instead (``[n, ..., units]``): every elementwise
pass of a step then runs over whole contiguous blocks (a slice of a row-major
``[batch, n*units]`` matrix costs NumPy one inner loop per row), the sigmoid gates
are adjacent so one pass activates them all, and the per-gate products are batched
GEMMs as fast as the single wide one (on one BLAS thread; a product summed over the
gates, as the LSTM backward's dh, is one wide GEMM). The weights seen from outside
stay Keras's: they are split on entry and the gradients merged back on exit.
"""

# sigmoid(z) = 0.5 * tanh(z / 2) + 0.5; halving a sigmoid gate's weights and bias is
# exact in binary floating point (float16 weights under ~1.2e-4 in magnitude turn
# subnormal and may lose low bits: far below the resolution of float16 sums), so its
# GEMMs yield z / 2 directly and the activation is one tanh pass plus a fused-able
# scale and shift. Saturated gates come out exactly 0 or 1 (nothing divides by them
# or takes their log; the derivative y * (1 - y) is then exactly 0)
HALVED_SIGMOID = "sigmoid"


def gate_scales(ract, n_gates, n_sigmoid):
    """Per-gate weight factors: 0.5 for the first ``n_sigmoid`` gates when the
    recurrent activation is sigmoid (see ``half_sigmoid_into``), else None."""
    if ract != HALVED_SIGMOID:
        return None
    return [0.5] * n_sigmoid + [1.0] * (n_gates - n_sigmoid)


def half_sigmoid_into(xp, x, out):
    """sigmoid(2 x) into out: the recurrent activation of gates with halved weights."""
    xp.tanh(x, out=out)
    out *= 0.5
    out += 0.5
    return out


def split_gates(xp, w, order, scales=None, transpose=False):
    """Keras gate blocks of ``w [..., n*u]`` as a contiguous ``[n, ..., u]`` array.

    Args:
      xp: the array module.
      w: a kernel ``(in, n*u)`` or bias ``(n*u,)`` in Keras gate order.
      order: the Keras gate index stored at each internal position.
      scales: optional factor per internal gate.
      transpose: swap the last two axes of each block (``[n, u, in]``: the blocks
        of ``w.T``, for products with gradients).

    Returns:
      The blocks, C-contiguous.
    """
    # (slices and scalars only: a host index or factor array would be a host-to-device
    # copy, which a CUDA-graph capture of the step refuses)
    n = len(order)
    units = w.shape[-1] // n
    gates = w.reshape(w.shape[:-1] + (n, units))
    blocks = xp.stack([gates[..., g, :] for g in order])
    if transpose:
        blocks = xp.ascontiguousarray(blocks.swapaxes(-1, -2))
    if scales is not None:
        for i, s in enumerate(scales):
            if s != 1:
                blocks[i] *= w.dtype.type(s)
    return blocks


def merge_gates(xp, blocks, order):
    """Inverse of ``split_gates``: ``[n, ..., u]`` -> ``[..., n*u]`` in Keras order."""
    n = len(order)
    merged = xp.stack([blocks[order.index(g)] for g in range(n)], axis=-2)
    return merged.reshape(merged.shape[:-2] + (n * blocks.shape[-1],))


def sum_gates(xp, parts, out):
    """``parts.sum(axis=0)`` into ``out`` without a temporary."""
    xp.add(parts[0], parts[1], out=out)
    for p in parts[2:]:
        out += p
    return out


def gate_inputs(d, xt, kernel, bias, order, scales, shape):
    """All timesteps' input projections per gate in one batched GEMM.

    Args:
      d: the device.
      xt: the inputs ``[T*B, F]`` time-major, in processing order.
      kernel: Keras ``(F, n*u)``.
      bias: Keras ``(n*u,)`` or None.
      order: internal gate order.
      scales: per-gate factors or None.
      shape: ``(T, B)``.

    Returns:
      ``[n, T, B, u]``.
    """
    xp = d.xp
    if bias is not None and bias.size:
        # the bias as one more input row fed by a column of ones: the GEMM adds it,
        # which saves a pass over the whole [n, T*B, u] result
        xt_ones = xp.empty((xt.shape[0], xt.shape[1] + 1), dtype=xt.dtype)
        xt_ones[:, :-1] = xt
        xt_ones[:, -1] = 1
        xt = xt_ones
        kernel = xp.concatenate([kernel, bias.reshape(1, -1)], axis=0)
    proj = d.matmul(xt, split_gates(xp, kernel, order, scales))
    return proj.reshape((len(order),) + tuple(shape) + (proj.shape[-1],))


def weight_grad(d, inputs_flat, dz_flat, order):
    """Keras-layout grad of a kernel applied per gate to ``inputs_flat [T*B, in]``,
    from the per-gate pre-activation grads ``dz_flat [n, T*B, u]``: one batched GEMM
    over all timesteps."""
    return merge_gates(d.xp, d.matmul(inputs_flat.T, dz_flat), order)


def input_grad(d, dz_flat, kernel, order):
    """``[T*B, F]`` = sum over gates of ``dz_j @ kernel_j^T``."""
    xp = d.xp
    parts = d.matmul(dz_flat, split_gates(xp, kernel, order, transpose=True))
    return sum_gates(xp, parts, xp.empty(parts.shape[1:], dtype=parts.dtype))


# The LSTM step as one GEMM: [h | x_t | 1] @ [R; W; b] per gate. Keeping each step's
# input next to its state costs the step GEMM F + 1 more rows of K - the flops of
# the separate input projection - but writes the pre-activations straight into the
# step's gates (no projection pass, no add of the recurrent part, no bias pass), and
# in the backward pass one GEMM over all timesteps yields the recurrent kernel,
# kernel and bias grads together.
def stacked_weights(xp, rkernel, kernel, bias, order, scales):
    """``[R; W; b]`` per gate: ``[n, U + F + 1, u]`` (see ``state_input_buffer``)."""
    stacked = xp.concatenate([rkernel, kernel, bias.reshape(1, -1)], axis=0)
    return split_gates(xp, stacked, order, scales)


def state_input_buffer(xp, x, h0):
    """``[T + 1, B, U + F + 1]``: entry k is ``[h before step k | x_k | 1]``.

    Args:
      xp: the array module.
      x: the inputs ``[B, T, F]`` in processing order.
      h0: the initial state ``[B, U]``; the steps write each new h into the next
        entry's first U columns.
    """
    B, T, F = x.shape
    U = h0.shape[-1]
    hx = xp.empty((T + 1, B, U + F + 1), dtype=x.dtype)
    hx[0, :, :U] = h0
    hx[:T, :, U:U + F] = x.transpose(1, 0, 2)
    hx[T, :, U:U + F] = 0
    hx[:, :, U + F] = 1
    return hx


def stacked_weight_grads(d, hx, dz_flat, units):
    """Keras-layout ``(recurrent kernel, kernel, bias)`` grads of ``stacked_weights``
    from the pre-activation grads ``dz_flat [T*B, n*units]`` (Keras layout): one
    GEMM over all timesteps (the three are row blocks of its result)."""
    steps, width = hx.shape[0], hx.shape[-1]
    grads = d.matmul(hx[:steps - 1].reshape(-1, width).T, dz_flat)   # [width, n*u]
    return grads[:units], grads[units:width - 1], grads[width - 1]


def lstm_grad_factors(xp, gates, cs, tcs, deriv_act, deriv_ract):
    """The LSTM backward's per-step gradient factors of every timestep, in bulk.

    They depend only on forward values, so a few whole-sequence passes replace about
    a dozen small passes per step inside the backward loop.

    Args:
      xp: the array module.
      gates: the activated gates ``[T, 4, B, U]`` (i, f, o, c).
      cs: the cell states ``[T + 1, B, U]`` (entry k: before step k).
      tcs: ``act(new c)`` per step ``[T, B, U]``.
      deriv_act, deriv_ract: ``fn(xp, y, out)`` writing the activation's derivative
        given its output y.

    Returns:
      ``(fac [4, T, B, U], p [T, B, U])``: the grad of gate i's, f's or c's
      pre-activation is the new c's grad times ``fac[0|1|2]``, gate o's is the new
      h's grad times ``fac[3]`` (Keras order), and the new h's grad reaches the new
      c times ``p``.
    """
    steps, _, batch, units = gates.shape
    gi, go, gg = gates[:, 0], gates[:, 2], gates[:, 3]
    fac = xp.empty((4, steps, batch, units), dtype=gates.dtype)
    deriv_ract(xp, gates[:, :2], fac[:2].swapaxes(0, 1))
    deriv_ract(xp, go, fac[3])
    fac[0] *= gg                    # i: c~ * ract'
    fac[1] *= cs[:steps]            # f: c_prev * ract'
    fac[3] *= tcs                   # o: act(c) * ract'
    xp.multiply(deriv_act(xp, gg, fac[2]), gi, out=fac[2])    # c~: i * act'
    p = deriv_act(xp, tcs, xp.empty((steps, batch, units), dtype=gates.dtype))
    p *= go                         # o * act'(c)
    return fac, p
