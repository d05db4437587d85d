"""cuDNN sequence kernels as primitives: ``CudnnRNN`` and its gradient ``CudnnRNNGrad``.

The forward asks the device for its fused kernel (``device.rnn_kernel(kind)``, a
``backends.cudnn.CudnnRNN`` on GPUs) and returns results in the same convention as
the portable kernels of ``ops/rnn.py``: ``outputs[:, s]`` is the output produced at
input step s, and masked steps carry the previous output (so a layer post-processes
both kernels identically). Masks must be right-padded with every length >= 1;
the layer checks that before choosing this kernel.

cuDNN's backward needs the reserve space of the training forward. The forward keeps
that state in a small table keyed by its output array; the gradient takes it from
there, or (state evicted, or a second backward of the same forward) runs the
training forward again, so results never depend on the cache.
"""

import collections
import threading

from dlframe.core.primitive import call, primitive
from dlframe.ops import rnn_steps as _steps
from dlframe.ops._util import t

_MAX_STATES = 32


class _States(threading.local):
    def __init__(self):
        self.table = collections.OrderedDict()


_STATES = _States()


def _remember(y, state):
    table = _STATES.table
    table[id(y)] = (y, state)  # holding y keeps its id from being reused
    while len(table) > _MAX_STATES:
        table.popitem(last=False)


def _recall(y):
    entry = _STATES.table.pop(id(y), None)
    if entry is None or entry[0] is not y:
        return None
    return entry[1]


def _lengths(xp, mask):
    """Host ints of each sample's number of valid steps (synchronises on GPU)."""
    counts = mask.sum(axis=1)
    if hasattr(counts, "get"):
        counts = counts.get()
    return tuple(int(n) for n in counts.tolist())


def _reverse_index(xp, lengths, steps):
    """idx[b, j] = L_b - 1 - j for j < L_b, else j: reverses each sequence within its
    length and is its own inverse."""
    j = xp.arange(steps)[None, :]
    ln = xp.asarray(lengths)[:, None]
    return xp.where(j < ln, ln - 1 - j, j)


def _take_time(xp, a, idx):
    return xp.take_along_axis(a, idx[:, :, None], axis=1)


def _mask_info(xp, mask, steps, go_backwards):
    """(lengths, time index for go_backwards or None, valid [B, T, 1]) of a mask."""
    lengths = _lengths(xp, mask)
    valid = (xp.arange(steps)[None, :] < xp.asarray(lengths)[:, None])[:, :, None]
    idx = _reverse_index(xp, lengths, steps) if go_backwards else None
    return lengths, idx, valid


def _prepare(xp, x, mask, go_backwards):
    """(input in cuDNN order, lengths or None, time index or None, valid [B,T,1])."""
    if mask is None:
        return (x[:, ::-1] if go_backwards else x), None, None, None
    lengths, idx, valid = _mask_info(xp, mask, x.shape[1], go_backwards)
    return (x if idx is None else _take_time(xp, x, idx)), lengths, idx, valid


def _kernel(d, cell_kind):
    kernel = d.rnn_kernel(cell_kind)
    if kernel is None:
        raise RuntimeError(f"CudnnRNN: device {d.name} offers no fused {cell_kind} kernel")
    return kernel


def _forward(d, x, h0, c0, kernel, rkernel, bias, mask, cell_kind, go_backwards,
             training):
    xp = d.xp
    lstm = cell_kind == "lstm"
    k = _kernel(d, cell_kind)
    x_in, lengths, idx, valid = _prepare(xp, x, mask, go_backwards)
    y, hy, cy, state = k.forward(x_in, h0, c0 if lstm else None, kernel, rkernel, bias,
                                 seq_lengths=lengths, training=training)
    # back to the portable convention (outputs indexed by input step)
    if mask is None:
        out = y[:, ::-1] if go_backwards else y
    elif go_backwards:
        out = _take_time(xp, y, idx) * valid  # steps past a length output zeros
    else:
        out = xp.where(valid, y, hy[:, None, :])  # padded steps carry the last output
    out = xp.ascontiguousarray(out)
    return out, hy, cy, state


@primitive("CudnnRNN", n_out=-1, stateful=True)
def cudnn_rnn_p(d, x, h0, c0, kernel, rkernel, bias, *mask, cell_kind, go_backwards,
                training):
    m = mask[0] if mask else None
    out, hy, cy, state = _forward(d, x, h0, c0, kernel, rkernel, bias, m, cell_kind,
                                  go_backwards, training)
    if state is not None:
        _remember(out, state)
    return (out, hy, cy) if cell_kind == "lstm" else (out, hy)


@cudnn_rnn_p.defgrad
def _cudnn_rnn_grad(inputs, outs, dys, *, cell_kind, go_backwards, training):
    lstm = cell_kind == "lstm"
    if _steps.records(inputs, dys):   # a tape records the backward: ops (see there)
        return _steps.vjp(_steps.cudnn_sequence, inputs, 6, dys[:3 if lstm else 2],
                          None, cell_kind=cell_kind, go_backwards=go_backwards)
    dcy = dys[2] if lstm else dys[1]
    res = call(cudnn_rnn_grad_p, tuple(inputs[:6]) + (outs[0], dys[0], dys[1], dcy)
               + tuple(inputs[6:]), {"cell_kind": cell_kind, "go_backwards": go_backwards})
    dx, dh0, dc0, dk, drk, db = res
    return (dx, dh0, dc0 if lstm else None, dk, drk, db) + (None,) * len(inputs[6:])


@primitive("CudnnRNNGrad", n_out=6, stateful=True)
def cudnn_rnn_grad_p(d, x, h0, c0, kernel, rkernel, bias, out, dy, dhy, dcy, *mask,
                     cell_kind, go_backwards):
    xp = d.xp
    m = mask[0] if mask else None
    lstm = cell_kind == "lstm"
    state = _recall(out)
    if state is None:  # evicted or already consumed: redo the training forward
        state = _forward(d, x, h0, c0, kernel, rkernel, bias, m, cell_kind,
                         go_backwards, True)[3]
    if m is not None:
        _, idx, valid = _mask_info(xp, m, x.shape[1], go_backwards)
    # dy to cuDNN's order (the inverse of the forward's conversion)
    if m is None:
        dy_c = dy[:, ::-1] if go_backwards else dy
    elif go_backwards:
        dy_c = _take_time(xp, dy * valid, idx)
    else:
        dhy = dhy + (dy * ~valid).sum(axis=1)  # padded outputs are copies of hy
        dy_c = dy * valid
    dx, dh0, dc0, dk, drk, db = _kernel(d, cell_kind).backward(
        state, xp.ascontiguousarray(dy_c), dhy, dcy if lstm else None)
    if m is None:
        if go_backwards:
            dx = dx[:, ::-1]
    elif go_backwards:
        dx = _take_time(xp, dx, idx)
    if dc0 is None:
        dc0 = xp.zeros_like(c0)
    return (xp.ascontiguousarray(dx), dh0, dc0, dk.astype(kernel.dtype, copy=False),
            drk.astype(rkernel.dtype, copy=False), db.reshape(bias.shape))


# Without a mask neither primitive reads anything on the host at run time (the
# lengths' device copy is cached by the plan), so a CUDA graph of a step replays
# them: the state table above is Python bookkeeping between the two, and a replay
# reuses the reserve buffer the captured forward wrote and its backward read. With
# a mask the lengths are read back on the host (a sync a capture refuses).
cudnn_rnn_p.capture_safe = lambda attrs, n_inputs: n_inputs == 6
cudnn_rnn_grad_p.capture_safe = lambda attrs, n_inputs: n_inputs == 10


def cudnn_rnn(cell_kind, x, h0, c0, kernel, recurrent_kernel, bias, mask=None,
              go_backwards=False, training=False):
    """Runs the device's fused cuDNN LSTM/GRU(reset_after) over ``x [B, T, F]``.

    Args:
      cell_kind: 'lstm' or 'gru'.
      x, h0, c0: inputs and initial states (c0 ignored for GRU but required).
      kernel, recurrent_kernel, bias: Keras-layout weights (GRU bias ``(2, 3u)``).
      mask: optional ``[B, T]`` bool, right-padded, every row with a valid step.
      go_backwards: process each sequence from its last valid step to its first.
      training: keep cuDNN's reserve space for the gradient.

    Returns:
      LSTM ``(outputs, h, c)``, GRU ``(outputs, h)``, outputs indexed by input step.
    """
    inputs = tuple(t(a) for a in (x, h0, c0, kernel, recurrent_kernel, bias))
    if mask is not None:
        inputs += (t(mask),)
    return call(cudnn_rnn_p, inputs, {"cell_kind": cell_kind,
                                      "go_backwards": bool(go_backwards),
                                      "training": bool(training)})


__all__ = []
