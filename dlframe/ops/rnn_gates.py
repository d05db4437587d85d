"""Gate-major layout of the fused LSTM/GRU kernels (portable: NumPy or CuPy).

Keras packs an LSTM's or GRU's gates side by side in the last axis of its weights
(``kernel`` ``(in, n*u)``). The kernels of ``ops/rnn.py`` keep each gate in its own
contiguous ``[batch, units]`` block instead (``[n, ..., units]``): every elementwise
pass of a step then runs over whole contiguous blocks (a slice of a row-major
``[batch, n*units]`` matrix costs NumPy one inner loop per row), the sigmoid gates
are adjacent so one pass activates them all, and the per-gate products are batched
GEMMs as fast as the single wide one. The weights seen from outside stay Keras's:
they are split on entry and the gradients merged back on exit.
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
    n = len(order)
    units = w.shape[-1] // n
    blocks = w.reshape(w.shape[:-1] + (n, units))[..., list(order), :]
    blocks = xp.moveaxis(blocks, -2, 0)
    if transpose:
        blocks = blocks.swapaxes(-1, -2)
    blocks = xp.ascontiguousarray(blocks)
    if scales is not None:
        factor = xp.asarray(scales, dtype=w.dtype)
        blocks *= factor.reshape((n,) + (1,) * (blocks.ndim - 1))
    return blocks


def merge_gates(xp, blocks, order):
    """Inverse of ``split_gates``: ``[n, ..., u]`` -> ``[..., n*u]`` in Keras order."""
    n = len(order)
    inverse = [order.index(g) for g in range(n)]
    merged = xp.moveaxis(blocks[inverse], 0, -2)
    shape = merged.shape[:-2] + (n * blocks.shape[-1],)
    return xp.ascontiguousarray(merged).reshape(shape)


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
    proj = d.matmul(xt, split_gates(xp, kernel, order, scales))
    if bias is not None and bias.size:
        proj += split_gates(xp, bias, order, scales)[:, None, :]
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
