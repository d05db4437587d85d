"""Fused recurrent sequence kernels (portable: NumPy or CuPy) with BPTT gradients.

One primitive runs a whole sequence (DESIGN.md §11): the input projection of all
timesteps is one GEMM, each step is one GEMM plus one elementwise pass, and the
backward pass (its own primitive) accumulates the recurrent-weight gradient with
one GEMM after the loop. In a compiled function the sequence is a single graph
node, not a Python loop of ops.

Layouts follow Keras: x ``[batch, time, features]``; LSTM kernel ``(in, 4u)`` with
gates i, f, c, o; GRU kernel ``(in, 3u)`` with gates z, r, h and bias ``(2, 3u)``
when ``reset_after`` (input and recurrent biases) or ``(3u,)`` otherwise.
Masks (``[batch, time]`` bool) carry the previous state and output through
masked steps, as Keras does.
"""

from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops._util import t

# -------------------------------------------------------------- activations
_ACTS = {}


def _act(name):
    def reg(fn):
        _ACTS[name] = fn
        return fn
    return reg


@_act("tanh")
def _tanh(xp, x):
    y = xp.tanh(x)
    return y, lambda dy: dy * (1 - y * y)


@_act("sigmoid")
def _sigmoid(xp, x):
    y = 1 / (1 + xp.exp(-x))
    return y, lambda dy: dy * y * (1 - y)


@_act("relu")
def _relu(xp, x):
    y = xp.maximum(x, 0)
    return y, lambda dy: dy * (y > 0)


@_act("linear")
def _linear(xp, x):
    return x, lambda dy: dy


@_act("hard_sigmoid")
def _hard_sigmoid(xp, x):
    # Keras 3 definition: relu6(x + 3) / 6
    y = xp.clip(x / 6 + 0.5, 0, 1)
    return y, lambda dy: dy * ((x > -3) & (x < 3)) / 6


def supported_activation(name):
    """True when the fused kernels implement activation ``name``."""
    return name in _ACTS


def _mask_at(mask, step):
    return None if mask is None else mask[:, step][:, None]


def _steps(T, go_backwards):
    return range(T - 1, -1, -1) if go_backwards else range(T)


def _dtype_cast(xp, arr, like):
    return arr.astype(like.dtype, copy=False)


# -------------------------------------------------------------- LSTM
@primitive("LSTMSequence", n_out=-1)
def lstm_p(d, x, h0, c0, kernel, rkernel, bias, *mask, act, ract, go_backwards):
    xp = d.xp
    B, T, _ = x.shape
    U = h0.shape[-1]
    m = mask[0] if mask else None
    proj = d.matmul(x.reshape(B * T, -1), kernel).reshape(B, T, 4 * U)
    if bias is not None and bias.size:
        proj = proj + bias
    act_f, ract_f = _ACTS[act], _ACTS[ract]
    ys = xp.empty((B, T, U), dtype=x.dtype)
    hs = xp.empty((T, B, U), dtype=x.dtype)   # h before each step
    cs = xp.empty((T, B, U), dtype=x.dtype)   # c before each step
    gates = xp.empty((T, B, 4 * U), dtype=x.dtype)  # activated i, f, g, o
    c_out = xp.empty((T, B, U), dtype=x.dtype)  # tanh-activation input (new c)
    h, c = h0, c0
    prev_y = xp.zeros((B, U), dtype=x.dtype)
    g_blk = slice(2 * U, 3 * U)
    for k, step in enumerate(_steps(T, go_backwards)):
        hs[k], cs[k] = h, c
        z = proj[:, step] + d.matmul(h, rkernel)
        gk = gates[k]
        gk[...] = ract_f(xp, z)[0]           # one pass for i, f, o (g overwritten next)
        gk[:, g_blk] = act_f(xp, z[:, g_blk])[0]
        i, f, g, o = gk[:, :U], gk[:, U:2 * U], gk[:, g_blk], gk[:, 3 * U:]
        c_new = f * c + i * g
        c_out[k] = c_new
        h_new = o * act_f(xp, c_new)[0]
        y, (h, c) = _masked_step(xp, _mask_at(m, step), prev_y, (h_new, c_new), (h, c))
        ys[:, step] = prev_y = y
    return ys, h, c, hs, cs, gates, c_out


@lstm_p.defgrad
def _lstm_grad(inputs, outs, dys, *, act, ract, go_backwards, needs=None):
    x, h0, c0, kernel, rkernel, bias = inputs[:6]
    extra = tuple(inputs[6:])
    ys, h, c, hs, cs, gates, c_out = outs
    dy, dh, dc = dys[0], dys[1], dys[2]
    need_dx = needs is None or needs[0]
    res = call(lstm_grad_p, (x, kernel, rkernel, hs, cs, gates, c_out, dy, dh, dc) + extra,
               {"act": act, "ract": ract, "go_backwards": go_backwards, "need_dx": need_dx})
    dx, dh0, dc0, dk, drk, db = res
    return (dx if need_dx else None, dh0, dc0, dk, drk, db) + (None,) * len(extra)


lstm_p.wants_needs = True


@primitive("LSTMSequenceGrad", n_out=-1)
def lstm_grad_p(d, x, kernel, rkernel, hs, cs, gates, c_out, dy, dh, dc, *mask, act,
                ract, go_backwards, need_dx=True):
    xp = d.xp
    B, T, _ = x.shape
    U = hs.shape[-1]
    m = mask[0] if mask else None
    act_f = _ACTS[act]
    dz_all = xp.empty((T, B, 4 * U), dtype=x.dtype)
    dh_next, dc_next = dh.copy(), dc.copy()
    dprev_y = xp.zeros((B, U), dtype=x.dtype)
    order = list(_steps(T, go_backwards))
    for k in range(T - 1, -1, -1):
        step = order[k]
        mk = _mask_at(m, step)
        dprev_y, (dh_new, dc_new), (dh_carry, dc_carry) = _split_step_grad(
            xp, mk, dy[:, step] + dprev_y, dh_next, dc_next)
        gk = gates[k]
        i, f, g, o = gk[:, :U], gk[:, U:2 * U], gk[:, 2 * U:3 * U], gk[:, 3 * U:]
        tc, dtc = act_f(xp, c_out[k])
        dcn = dc_new + dtc(dh_new * o)
        dz = dz_all[k]
        # upstream grads of the activated gates, then their derivatives in place
        xp.multiply(dcn, g, out=dz[:, :U])
        xp.multiply(dcn, cs[k], out=dz[:, U:2 * U])
        xp.multiply(dh_new, tc, out=dz[:, 3 * U:])
        _scale_by_derivative(xp, ract, gk, dz)  # g block fixed on the next line
        dz[:, 2 * U:3 * U] = _act_grad(xp, act, g, dcn * i)
        dh_next = d.matmul(dz, rkernel.T) + dh_carry
        dc_next = dcn * f + dc_carry
    dproj = xp.empty((B, T, 4 * U), dtype=x.dtype)
    for k, step in enumerate(order):
        dproj[:, step] = dz_all[k]
    flat = dproj.reshape(B * T, 4 * U)
    dx = _input_grad(d, flat, kernel, x, need_dx)
    dk = d.matmul(x.reshape(B * T, -1).T, flat)
    drk = d.matmul(hs.reshape(T * B, U).T, dz_all.reshape(T * B, 4 * U))
    db = flat.sum(axis=0)
    return dx, dh_next, dc_next, dk, drk, db


def _scale_by_derivative(xp, name, y, dy):
    """dy *= activation'(x) in place, given the activation's output y."""
    if name == "sigmoid":
        dy *= y * (1 - y)
    else:
        dy[...] = _ract_grad(xp, name, y, dy)


def _masked_step(xp, mk, prev_y, new_states, old_states):
    """One step's Keras masking: masked samples keep their states and repeat their
    previous output. Returns (output, states); the output is the new h when unmasked."""
    if mk is None:
        return new_states[0], new_states
    states = tuple(xp.where(mk, n, o) for n, o in zip(new_states, old_states))
    return xp.where(mk, states[0], prev_y), states


def _split_step_grad(xp, mk, dy_t, dh_next, *other_states):
    """Routes one step's upstream gradients through the mask bookkeeping.

    Forward: ``y = where(m, h_new, prev_y)`` and every state ``s = where(m, s_new,
    s_prev)``. Returns (grad of prev_y, grads of the new states, grads carried straight
    to the previous states); ``dy_t`` already includes the gradient of y at this step.
    """
    if mk is None:
        return 0, (dy_t + dh_next,) + other_states, (0,) * (1 + len(other_states))
    new = (xp.where(mk, dy_t + dh_next, 0),) + tuple(xp.where(mk, g, 0) for g in other_states)
    carry = tuple(xp.where(mk, 0, g) for g in (dh_next,) + other_states)
    return xp.where(mk, 0, dy_t), new, carry


def _input_grad(d, flat, kernel, x, needed):
    """dx = dZ @ kernel^T, skipped (an empty placeholder) when no one needs it: for a
    model's first RNN layer that is a (B*T, gates) x (gates, features) GEMM saved."""
    if not needed:
        return d.xp.zeros((0,), dtype=x.dtype)
    return d.matmul(flat, kernel.T).reshape(x.shape)


def _ract_grad(xp, name, y, dy):
    """Gradient through an activation given its output y (exact for these functions)."""
    if name == "sigmoid":
        return dy * y * (1 - y)
    if name == "tanh":
        return dy * (1 - y * y)
    if name == "relu":
        return dy * (y > 0)
    if name == "hard_sigmoid":
        return dy * ((y > 0) & (y < 1)) / 6
    return dy


_act_grad = _ract_grad


def _check(op, x, units_from, h0):
    if x._value.ndim != 3:
        raise InvalidArgumentError(f"{op}: inputs must be [batch, time, features], got "
                                   f"shape {list(x._value.shape)}")
    if h0._value.shape != (x._value.shape[0], units_from):
        raise InvalidArgumentError(f"{op}: initial state must have shape "
                                   f"{[x._value.shape[0], units_from]}, got "
                                   f"{list(h0._value.shape)}")


def lstm(x, h0, c0, kernel, recurrent_kernel, bias, mask=None, activation="tanh",
         recurrent_activation="sigmoid", go_backwards=False):
    """Runs an LSTM over a sequence with the fused portable kernel.

    Returns:
      (outputs [B, T, U], final h [B, U], final c [B, U]).
    """
    x, h0, c0 = t(x), t(h0), t(c0)
    kernel, recurrent_kernel = t(kernel), t(recurrent_kernel)
    units = recurrent_kernel._value.shape[0]
    _check("LSTM", x, units, h0)
    if bias is None:
        from dlframe.ops.array import zeros
        bias = zeros([4 * units], dtype=x.dtype)
    inputs = (x, h0, c0, kernel, recurrent_kernel, t(bias))
    if mask is not None:
        inputs += (t(mask),)
    outs = call(lstm_p, inputs, {"act": activation, "ract": recurrent_activation,
                                 "go_backwards": bool(go_backwards)})
    return outs[0], outs[1], outs[2]


# -------------------------------------------------------------- GRU
@primitive("GRUSequence", n_out=-1)
def gru_p(d, x, h0, kernel, rkernel, bias, *mask, act, ract, go_backwards, reset_after):
    xp = d.xp
    B, T, _ = x.shape
    U = h0.shape[-1]
    m = mask[0] if mask else None
    if reset_after:
        b_in, b_rec = bias[0], bias[1]
    else:
        b_in, b_rec = bias, None
    proj = d.matmul(x.reshape(B * T, -1), kernel).reshape(B, T, 3 * U) + b_in
    act_f, ract_f = _ACTS[act], _ACTS[ract]
    hs = xp.empty((T, B, U), dtype=x.dtype)
    gates = xp.empty((T, B, 3 * U), dtype=x.dtype)   # z, r, hh (activated)
    rec = xp.empty((T, B, 3 * U), dtype=x.dtype)     # recurrent projection (+ b_rec)
    ys = xp.empty((B, T, U), dtype=x.dtype)
    h = h0
    prev_y = xp.zeros((B, U), dtype=x.dtype)
    for k, step in enumerate(_steps(T, go_backwards)):
        hs[k] = h
        xz = proj[:, step]
        if reset_after:
            rh = d.matmul(h, rkernel) + b_rec
            rec[k] = rh
            z = ract_f(xp, xz[:, :U] + rh[:, :U])[0]
            r = ract_f(xp, xz[:, U:2 * U] + rh[:, U:2 * U])[0]
            hh = act_f(xp, xz[:, 2 * U:] + r * rh[:, 2 * U:])[0]
        else:
            rh = d.matmul(h, rkernel[:, :2 * U])
            rec[k, :, :2 * U] = rh
            z = ract_f(xp, xz[:, :U] + rh[:, :U])[0]
            r = ract_f(xp, xz[:, U:2 * U] + rh[:, U:])[0]
            rec[k, :, 2 * U:] = r * h
            hh = act_f(xp, xz[:, 2 * U:] + d.matmul(r * h, rkernel[:, 2 * U:]))[0]
        gates[k, :, :U], gates[k, :, U:2 * U], gates[k, :, 2 * U:] = z, r, hh
        h_new = z * h + (1 - z) * hh
        y, (h,) = _masked_step(xp, _mask_at(m, step), prev_y, (h_new,), (h,))
        ys[:, step] = prev_y = y
    return ys, h, hs, gates, rec


@gru_p.defgrad
def _gru_grad(inputs, outs, dys, *, act, ract, go_backwards, reset_after, needs=None):
    x, h0, kernel, rkernel, bias = inputs[:5]
    extra = tuple(inputs[5:])
    ys, h, hs, gates, rec = outs
    need_dx = needs is None or needs[0]
    res = call(gru_grad_p, (x, kernel, rkernel, hs, gates, rec, dys[0], dys[1]) + extra,
               {"act": act, "ract": ract, "go_backwards": go_backwards,
                "reset_after": reset_after, "need_dx": need_dx})
    dx, dh0, dk, drk, db = res
    return (dx if need_dx else None, dh0, dk, drk, db) + (None,) * len(extra)


gru_p.wants_needs = True


@primitive("GRUSequenceGrad", n_out=-1)
def gru_grad_p(d, x, kernel, rkernel, hs, gates, rec, dy, dh, *mask, act, ract,
               go_backwards, reset_after, need_dx=True):
    xp = d.xp
    B, T, _ = x.shape
    U = hs.shape[-1]
    m = mask[0] if mask else None
    dxz_all = xp.empty((T, B, 3 * U), dtype=x.dtype)
    drh_all = xp.empty((T, B, 3 * U), dtype=x.dtype)   # grads of the recurrent projection
    drk = xp.zeros(rkernel.shape, dtype=x.dtype)
    dh_next = dh.copy()
    dprev_y = xp.zeros((B, U), dtype=x.dtype)
    order = list(_steps(T, go_backwards))
    for k in range(T - 1, -1, -1):
        step = order[k]
        mk = _mask_at(m, step)
        dprev_y, (dh_new,), (dh_carry,) = _split_step_grad(xp, mk, dy[:, step] + dprev_y,
                                                           dh_next)
        h = hs[k]
        z, r, hh = gates[k, :, :U], gates[k, :, U:2 * U], gates[k, :, 2 * U:]
        dz = dh_new * (h - hh)
        dhh = dh_new * (1 - z)
        dh_prev = dh_new * z
        da_h = _act_grad(xp, act, hh, dhh)
        dxz = dxz_all[k]
        drh = drh_all[k]
        dxz[:, 2 * U:] = da_h
        if reset_after:
            rh_h = rec[k, :, 2 * U:]
            dr = da_h * rh_h
            drh[:, 2 * U:] = da_h * r
        else:
            # hh = act(xz_h + (r*h) @ Rh)
            d_rh = d.matmul(da_h, rkernel[:, 2 * U:].T)
            drk[:, 2 * U:] += d.matmul(rec[k, :, 2 * U:].T, da_h)
            dr = d_rh * h
            dh_prev = dh_prev + d_rh * r
            drh[:, 2 * U:] = 0
        dxz[:, :U] = drh[:, :U] = _ract_grad(xp, ract, z, dz)
        dxz[:, U:2 * U] = drh[:, U:2 * U] = _ract_grad(xp, ract, r, dr)
        if reset_after:
            dh_prev = dh_prev + d.matmul(drh, rkernel.T)
        else:
            dh_prev = dh_prev + d.matmul(drh[:, :2 * U], rkernel[:, :2 * U].T)
        dh_next = dh_prev + dh_carry
    dproj = xp.empty((B, T, 3 * U), dtype=x.dtype)
    for k, step in enumerate(order):
        dproj[:, step] = dxz_all[k]
    flat = dproj.reshape(B * T, 3 * U)
    dx = _input_grad(d, flat, kernel, x, need_dx)
    dk = d.matmul(x.reshape(B * T, -1).T, flat)
    hflat = hs.reshape(T * B, U)
    drh_flat = drh_all.reshape(T * B, 3 * U)
    if reset_after:
        drk = d.matmul(hflat.T, drh_flat)
        db = xp.stack([flat.sum(axis=0), drh_flat.sum(axis=0)])
    else:
        drk[:, :2 * U] += d.matmul(hflat.T, drh_flat[:, :2 * U])
        db = flat.sum(axis=0)
    return dx, dh_next, dk, drk, db


def gru(x, h0, kernel, recurrent_kernel, bias, mask=None, activation="tanh",
        recurrent_activation="sigmoid", go_backwards=False, reset_after=True):
    """Runs a GRU over a sequence with the fused portable kernel.

    Returns:
      (outputs [B, T, U], final h [B, U]).
    """
    x, h0 = t(x), t(h0)
    kernel, recurrent_kernel = t(kernel), t(recurrent_kernel)
    units = recurrent_kernel._value.shape[0]
    _check("GRU", x, units, h0)
    if bias is None:
        from dlframe.ops.array import zeros
        bias = zeros([2, 3 * units] if reset_after else [3 * units], dtype=x.dtype)
    inputs = (x, h0, kernel, recurrent_kernel, t(bias))
    if mask is not None:
        inputs += (t(mask),)
    outs = call(gru_p, inputs, {"act": activation, "ract": recurrent_activation,
                                "go_backwards": bool(go_backwards),
                                "reset_after": bool(reset_after)})
    return outs[0], outs[1]


# -------------------------------------------------------------- SimpleRNN
@primitive("SimpleRNNSequence", n_out=-1)
def simple_rnn_p(d, x, h0, kernel, rkernel, bias, *mask, act, go_backwards):
    xp = d.xp
    B, T, _ = x.shape
    U = h0.shape[-1]
    m = mask[0] if mask else None
    proj = d.matmul(x.reshape(B * T, -1), kernel).reshape(B, T, U) + bias
    act_f = _ACTS[act]
    hs = xp.empty((T, B, U), dtype=x.dtype)
    outs = xp.empty((T, B, U), dtype=x.dtype)
    ys = xp.empty((B, T, U), dtype=x.dtype)
    h = h0
    prev_y = xp.zeros((B, U), dtype=x.dtype)
    for k, step in enumerate(_steps(T, go_backwards)):
        hs[k] = h
        h_new = act_f(xp, proj[:, step] + d.matmul(h, rkernel))[0]
        outs[k] = h_new
        y, (h,) = _masked_step(xp, _mask_at(m, step), prev_y, (h_new,), (h,))
        ys[:, step] = prev_y = y
    return ys, h, hs, outs


@simple_rnn_p.defgrad
def _simple_rnn_grad(inputs, outs, dys, *, act, go_backwards, needs=None):
    x, h0, kernel, rkernel, bias = inputs[:5]
    extra = tuple(inputs[5:])
    need_dx = needs is None or needs[0]
    res = call(simple_rnn_grad_p, (x, kernel, rkernel, outs[2], outs[3], dys[0], dys[1])
               + extra, {"act": act, "go_backwards": go_backwards, "need_dx": need_dx})
    return (res[0] if need_dx else None,) + tuple(res[1:]) + (None,) * len(extra)


simple_rnn_p.wants_needs = True


@primitive("SimpleRNNSequenceGrad", n_out=-1)
def simple_rnn_grad_p(d, x, kernel, rkernel, hs, acts, dy, dh, *mask, act, go_backwards,
                      need_dx=True):
    xp = d.xp
    B, T, _ = x.shape
    U = hs.shape[-1]
    m = mask[0] if mask else None
    da_all = xp.empty((T, B, U), dtype=x.dtype)
    dh_next = dh.copy()
    dprev_y = xp.zeros((B, U), dtype=x.dtype)
    order = list(_steps(T, go_backwards))
    for k in range(T - 1, -1, -1):
        step = order[k]
        mk = _mask_at(m, step)
        dprev_y, (dh_new,), (dh_carry,) = _split_step_grad(xp, mk, dy[:, step] + dprev_y,
                                                           dh_next)
        da = _act_grad(xp, act, acts[k], dh_new)
        da_all[k] = da
        dh_next = d.matmul(da, rkernel.T) + dh_carry
    dproj = xp.empty((B, T, U), dtype=x.dtype)
    for k, step in enumerate(order):
        dproj[:, step] = da_all[k]
    flat = dproj.reshape(B * T, U)
    dx = _input_grad(d, flat, kernel, x, need_dx)
    dk = d.matmul(x.reshape(B * T, -1).T, flat)
    drk = d.matmul(hs.reshape(T * B, U).T, da_all.reshape(T * B, U))
    return dx, dh_next, dk, drk, flat.sum(axis=0)


def simple_rnn(x, h0, kernel, recurrent_kernel, bias, mask=None, activation="tanh",
               go_backwards=False):
    """Runs a SimpleRNN over a sequence. Returns (outputs [B, T, U], final h)."""
    x, h0 = t(x), t(h0)
    kernel, recurrent_kernel = t(kernel), t(recurrent_kernel)
    units = recurrent_kernel._value.shape[0]
    _check("SimpleRNN", x, units, h0)
    if bias is None:
        from dlframe.ops.array import zeros
        bias = zeros([units], dtype=x.dtype)
    inputs = (x, h0, kernel, recurrent_kernel, t(bias))
    if mask is not None:
        inputs += (t(mask),)
    outs = call(simple_rnn_p, inputs, {"act": activation, "go_backwards": bool(go_backwards)})
    return outs[0], outs[1]


__all__ = []
