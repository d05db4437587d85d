"""The fused RNN kernels' differentiable fallback: per-timestep cells in dlframe ops.

The fused sequence primitives of ``ops/rnn.py`` have BPTT gradient primitives
written on raw arrays, which have no gradient of their own. When a tape (an outer
``GradientTape`` or a ``ForwardAccumulator``, whose JVP differentiates a VJP with
respect to its seed) records while such a gradient runs, the gradient rule runs
this module's version instead: the same sequence recomputed step by step with
ordinary ops under an inner tape, and its VJP taken from that tape (as the
``while_loop`` gradient does), so every op of the backward pass is recorded and
higher derivatives are exact. Plain training (nothing records the backward pass)
keeps the fused path.

Weights, gate order, activations, masks and ``go_backwards`` follow the fused
kernels (Keras layouts, see ``ops/rnn.py``).
"""

from dlframe.core.primitive import STATE
from dlframe.core.tape import GradientTape
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops import nn as _nn
from dlframe.ops.array_meta import identity
from dlframe.ops.clip_ops import clip_by_value
from dlframe.ops.linalg import matmul
from dlframe.ops.logic import where, zeros_like

__all__ = []


def _hard_sigmoid(x):
    # Keras 3 definition, as the fused kernel: relu6(x + 3) / 6
    return clip_by_value(x / 6 + 0.5, 0.0, 1.0)


_ACTIVATIONS = {
    "tanh": _math.tanh,
    "sigmoid": _math.sigmoid,
    "relu": _nn.relu,
    "linear": lambda x: x,
    "hard_sigmoid": _hard_sigmoid,
}


def records(*groups):
    """True when an active tape would record an op reading a tensor of ``groups``
    (sequences of Tensors or None): the backward pass computed from them must then
    be made of ops, not of a fused gradient primitive."""
    tensors = [x for group in groups for x in group if x is not None]
    for tape in STATE.tapes:
        watched = getattr(tape, "_watched", None)
        if watched is None:   # a probe or recorder, not a differentiating tape
            continue
        watch_vars = tape._watch_vars
        for x in tensors:
            if id(x) in watched or (watch_vars and x._is_variable and x._trainable):
                return True
    return False


def vjp(sequence_fn, inputs, n_float, dys, needs, **attrs):
    """Gradients of a fused sequence primitive's outputs, as recorded ops.

    Args:
      sequence_fn: ``fn(*inputs, **attrs)`` -> the primitive's differentiable
        outputs (one of this module's ``lstm``, ``gru``, ``simple_rnn``).
      inputs: the primitive's inputs; the first ``n_float`` are differentiable, the
        rest (a mask) are passed through.
      n_float: how many inputs get gradients.
      dys: the cotangents of ``sequence_fn``'s outputs (None: zero).
      needs: a bool per input (None: all wanted).
      **attrs: the primitive's attributes (activations, ``go_backwards``, ...).

    Returns:
      One gradient (or None) per input.
    """
    # fresh copies (recorded by the outer tapes): an input passed in two places (the
    # same tensor as h0 and c0) must get each place's gradient separately
    sources = [identity(x) for x in inputs[:n_float]]
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(sources)
        outs = sequence_fn(*sources, *inputs[n_float:], **attrs)
    pairs = [(o, d) for o, d in zip(outs, dys) if d is not None]
    wanted = [k for k in range(n_float) if needs is None or needs[k]]
    grads = tape.gradient([o for o, _ in pairs], [sources[k] for k in wanted],
                          output_gradients=[d for _, d in pairs],
                          unconnected_gradients="zero")
    result = [None] * len(inputs)
    for k, g in zip(wanted, grads):
        result[k] = g
    return tuple(result)


def _time_steps(x, go_backwards):
    """Input step indices in processing order."""
    steps = range(x.shape[1])
    return list(reversed(steps)) if go_backwards else list(steps)


def _projection(x, kernel, bias):
    """``x @ kernel + bias`` for all timesteps at once: ``[B, T, gates]``."""
    batch, steps, features = x.shape
    flat = matmul(_array.reshape(x, [batch * steps, features]), kernel)
    if bias is not None:
        flat = flat + bias
    return _array.reshape(flat, [batch, steps, -1])


def _run(step, x, states, mask, go_backwards):
    """Runs ``step(s, states) -> (output, new_states)`` over input steps s in
    processing order with Keras masking: masked samples keep their states and
    repeat their previous output (zeros before the first step).

    Returns:
      (outputs ``[B, T, U]`` indexed by input step, final states).
    """
    order = _time_steps(x, go_backwards)
    outputs = [None] * len(order)
    prev_y = None
    for s in order:
        y, new = step(s, states)
        if mask is not None:
            keep = _array.expand_dims(mask[:, s], -1)
            if prev_y is None:
                prev_y = zeros_like(y)
            y = where(keep, y, prev_y)
            new = [where(keep, n, o) for n, o in zip(new, states)]
        outputs[s] = prev_y = y
        states = new
    return _array.stack(outputs, axis=1), states


def _gates(z, n):
    return _array.split(z, n, axis=-1)


def lstm(x, h0, c0, kernel, rkernel, bias, mask=None, *, act, ract, go_backwards):
    """The fused LSTM's (outputs, final h, final c) in ops (Keras gates i, f, c, o)."""
    act, ract = _ACTIVATIONS[act], _ACTIVATIONS[ract]
    proj = _projection(x, kernel, bias)

    def step(s, states):
        h, c = states
        i, f, g, o = _gates(proj[:, s] + matmul(h, rkernel), 4)
        c = ract(f) * c + ract(i) * act(g)
        h = ract(o) * act(c)
        return h, [h, c]

    ys, (h, c) = _run(step, x, [h0, c0], mask, go_backwards)
    return ys, h, c


def gru(x, h0, kernel, rkernel, bias, mask=None, *, act, ract, go_backwards,
        reset_after):
    """The fused GRU's (outputs, final h) in ops (Keras gates z, r, h)."""
    act, ract = _ACTIVATIONS[act], _ACTIVATIONS[ract]
    proj = _projection(x, kernel, bias[0] if reset_after else bias)
    units = rkernel.shape[0]
    rk_zr, rk_h = rkernel[:, :2 * units], rkernel[:, 2 * units:]

    def step(s, states):
        h = states[0]
        xz, xr, xh = _gates(proj[:, s], 3)
        if reset_after:
            rz, rr, rh = _gates(matmul(h, rkernel) + bias[1], 3)
            z, r = ract(xz + rz), ract(xr + rr)
            hh = act(xh + r * rh)
        else:
            rz, rr = _gates(matmul(h, rk_zr), 2)
            z, r = ract(xz + rz), ract(xr + rr)
            hh = act(xh + matmul(r * h, rk_h))
        h = z * h + (1 - z) * hh
        return h, [h]

    ys, (h,) = _run(step, x, [h0], mask, go_backwards)
    return ys, h


def simple_rnn(x, h0, kernel, rkernel, bias, mask=None, *, act, go_backwards):
    """The fused SimpleRNN's (outputs, final h) in ops."""
    act = _ACTIVATIONS[act]
    proj = _projection(x, kernel, bias)

    def step(s, states):
        h = act(proj[:, s] + matmul(states[0], rkernel))
        return h, [h]

    ys, (h,) = _run(step, x, [h0], mask, go_backwards)
    return ys, h


def cudnn_sequence(x, h0, c0, kernel, rkernel, bias, mask=None, *, cell_kind,
                   go_backwards):
    """The cuDNN primitive's outputs (``ops/rnn_cudnn.py``) in ops: an LSTM, or a GRU
    with ``reset_after`` (``c0`` unused), with tanh and sigmoid activations."""
    if cell_kind == "lstm":
        return lstm(x, h0, c0, kernel, rkernel, bias, mask, act="tanh", ract="sigmoid",
                    go_backwards=go_backwards)
    return gru(x, h0, kernel, rkernel, bias, mask, act="tanh", ract="sigmoid",
               go_backwards=go_backwards, reset_after=True)
