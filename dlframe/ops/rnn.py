"""Fused recurrent sequence kernels (portable: NumPy or CuPy) with BPTT gradients.

One primitive runs a whole sequence (DESIGN.md §11): the input projection of all
timesteps is one GEMM, each step is one GEMM plus a few in-place elementwise passes
into preallocated buffers, and the backward pass (its own primitive) accumulates the
weight gradients with one GEMM each after the loop. In a compiled function the
sequence is a single graph node, not a Python loop of ops.

Layouts follow Keras: x ``[batch, time, features]``; LSTM kernel ``(in, 4u)`` with
gates i, f, c, o; GRU kernel ``(in, 3u)`` with gates z, r, h and bias ``(2, 3u)``
when ``reset_after`` (input and recurrent biases) or ``(3u,)`` otherwise.
Masks (``[batch, time]`` bool) carry the previous state and output through
masked steps, as Keras does. ``outputs[:, s]`` is the output produced at input
step s (also with ``go_backwards``).

LSTM and GRU keep each gate in its own contiguous ``[B, units]`` block (GRU
``[gates, T, B, units]``; LSTM ``[T, gates, B, units]``, each step one GEMM
``[h | x_t | 1] @ [R; W; b]`` into its gates; see ``ops/rnn_gates.py``): every
elementwise pass runs over contiguous blocks, and with a sigmoid recurrent activation
the sigmoid gates' weights are halved on entry (exact) so their activation is one
tanh pass. The LSTM backward computes its per-step gate factors for all steps before
its loop and keeps its gate grads Keras-shaped (``[T, B, 4 * units]``: one GEMM per
step for dh). Internally everything is time-major in
processing order: buffer index k is the k-th step processed (input step ``T-1-k``
with ``go_backwards``), and state buffers hold T+1 entries (entry k is the state
before step k), so no step copies a state it has just written.
"""

from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops import rnn_gates as _gates
from dlframe.ops import rnn_steps as _steps
from dlframe.ops._util import t


# -------------------------------------------------------------- activations
def _sigmoid_into(xp, x, out):
    # 0.5 * tanh(x / 2) + 0.5: one transcendental pass (tanh is the fastest SIMD
    # one in NumPy), bounded in [0, 1] and accurate to ~1e-7 absolute - what gates
    # need (the public tf.sigmoid keeps relative accuracy for tiny values instead)
    xp.multiply(x, 0.5, out=out)
    xp.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _hard_sigmoid_into(xp, x, out):
    # Keras 3 definition: relu6(x + 3) / 6
    xp.multiply(x, 1 / 6, out=out)
    out += 0.5
    return xp.clip(out, 0, 1, out=out)


def _linear_into(xp, x, out):
    if out is not x:
        out[...] = x
    return out


# name -> fn(xp, x, out): writes activation(x) into out (which may be x)
_ACT_INTO = {
    "tanh": lambda xp, x, out: xp.tanh(x, out=out),
    "sigmoid": _sigmoid_into,
    "relu": lambda xp, x, out: xp.maximum(x, 0, out=out),
    "linear": _linear_into,
    "hard_sigmoid": _hard_sigmoid_into,
}


def _sigmoid_deriv(xp, y, out):
    xp.subtract(1, y, out=out)
    out *= y
    return out


def _tanh_deriv(xp, y, out):
    xp.multiply(y, y, out=out)
    return xp.subtract(1, out, out=out)


def _hard_sigmoid_deriv(xp, y, out):
    out[...] = ((y > 0) & (y < 1)) / 6
    return out


def _linear_deriv(xp, y, out):
    out[...] = 1
    return out


# name -> fn(xp, y, out): writes activation'(x) into out, given y = activation(x)
# (exact for these functions; out must not be y)
_DERIV_INTO = {
    "tanh": _tanh_deriv,
    "sigmoid": _sigmoid_deriv,
    "relu": lambda xp, y, out: xp.greater(y, 0, out=out),
    "linear": _linear_deriv,
    "hard_sigmoid": _hard_sigmoid_deriv,
}


def supported_activation(name):
    """True when the fused kernels implement activation ``name``."""
    return name in _ACT_INTO


def _scale_by_deriv(xp, name, y, grad, scratch):
    """grad *= activation'(x) in place, given the activation's output y."""
    grad *= _DERIV_INTO[name](xp, y, scratch)
    return grad


# -------------------------------------------------------------- shared plumbing
def _order(T, go_backwards):
    """Input step processed at each position k."""
    return list(range(T - 1, -1, -1)) if go_backwards else list(range(T))


def _time_major(xp, x, go_backwards):
    """x [B, T, F] as a contiguous [T, B, F] in processing order."""
    if go_backwards:
        x = x[:, ::-1]
    return xp.ascontiguousarray(x.transpose(1, 0, 2))


def _batch_major(xp, seq, go_backwards):
    """Inverse of _time_major: [T, B, ...] in processing order -> [B, T, ...] view."""
    seq = seq.transpose(1, 0, 2)
    return seq[:, ::-1] if go_backwards else seq


def _input_projection(d, x, kernel, bias, go_backwards):
    """All timesteps' input projections in one GEMM: [T, B, gates] in processing order."""
    B, T, F = x.shape
    proj = d.matmul(_time_major(d.xp, x, go_backwards).reshape(T * B, F), kernel)
    if bias is not None and bias.size:
        proj += bias
    return proj.reshape(T, B, -1)


def _step_masks(xp, mask, go_backwards):
    """Per-step masks [T, B, 1] in processing order (None without a mask)."""
    if mask is None:
        return None
    return _time_major(xp, mask[:, :, None], go_backwards)


def _apply_mask(xp, mk, new_states, old_states, ys, k):
    """Keras masking of step k, in place: masked samples keep their old states, and
    their output repeats the previous output (zeros before the first step)."""
    keep = ~mk
    for new, old in zip(new_states, old_states):
        xp.copyto(new, old, where=keep)
    # before the first step the output is +0.0 (``ys[k] *= mk`` would leave -0.0)
    xp.copyto(ys[k], ys[k - 1] if k else 0, where=keep)


def _step_grad_in(xp, mk, dy_k, dh_next, dprev_y, out):
    """Gradients at step k's new h.

    Returns (grad of the new h, written into ``out``; grad for the previous output;
    grad carried straight to the previous h). Unmasked: ``dy_k + dh_next`` and two
    Nones. Masked samples send their output gradient to the previous output and
    their state gradient straight to the previous state.
    """
    if mk is None:
        return xp.add(dy_k, dh_next, out=out), None, None
    total = dy_k + dprev_y
    xp.multiply(total + dh_next, mk, out=out)
    return out, total * ~mk, dh_next * ~mk


def _input_grad(d, dz_flat, kernel, shape, go_backwards, needed, gate_order=None):
    """dx = dZ @ kernel^T in [B, T, F], skipped (an empty placeholder) when no one needs
    it: for a model's first RNN layer that is a (B*T, gates) x (gates, F) GEMM saved.
    With ``gate_order``, dZ is gate-major ``[n, T*B, u]`` (see ``ops/rnn_gates.py``)."""
    xp = d.xp
    if not needed:
        return xp.zeros((0,), dtype=dz_flat.dtype)
    B, T, F = shape
    if gate_order is None:
        dx = d.matmul(dz_flat, kernel.T).reshape(T, B, F)
    else:
        dx = _gates.input_grad(d, dz_flat, kernel, gate_order).reshape(T, B, F)
    return xp.ascontiguousarray(_batch_major(xp, dx, go_backwards))


def _weight_grads(d, x, dz_all, go_backwards):
    """(kernel grad, input-bias grad) from the per-step pre-activation grads."""
    B, T, F = x.shape
    flat = dz_all.reshape(T * B, -1)
    xt = _time_major(d.xp, x, go_backwards).reshape(T * B, F)
    return d.matmul(xt.T, flat), flat.sum(axis=0)


# -------------------------------------------------------------- LSTM
# internal gate order (Keras: i, f, c, o): the three sigmoid gates adjacent
_LSTM_ORDER = (0, 1, 3, 2)
_GRU_ORDER = (0, 1, 2)   # z, r, h: already sigmoid gates first


def _ract_into(ract):
    """The in-place recurrent activation of gates whose weights had gate_scales."""
    if ract == _gates.HALVED_SIGMOID:
        return _gates.half_sigmoid_into
    return _ACT_INTO[ract]


@primitive("LSTMSequence", n_out=-1)
def lstm_p(d, x, h0, c0, kernel, rkernel, bias, *mask, act, ract, go_backwards):
    xp = d.xp
    B, T, F = x.shape
    U = h0.shape[-1]
    masks = _step_masks(xp, mask[0] if mask else None, go_backwards)
    # each step is one GEMM [h | x_t | 1] @ [R; W; b] straight into its gates (see
    # ops/rnn_gates.py): no input projection pass, no bias or recurrent-part add
    w = _gates.stacked_weights(xp, rkernel, kernel, bias, _LSTM_ORDER,
                               _gates.gate_scales(ract, 4, 3))
    hx = _gates.state_input_buffer(xp, x[:, ::-1] if go_backwards else x, h0)
    hs = hx[:, :, :U]                               # h before step k; hs[T] final
    gates = xp.empty((T, 4, B, U), dtype=x.dtype)   # i, f, o, c; activated in place
    cs = xp.empty((T + 1, B, U), dtype=x.dtype)
    tcs = xp.empty((T, B, U), dtype=x.dtype)        # act(new c), before masking
    ys = xp.empty((T, B, U), dtype=x.dtype) if masks is not None else None
    tmp = xp.empty((B, U), dtype=x.dtype)
    cs[0] = c0
    act_into, ract_into = _ACT_INTO[act], _ract_into(ract)
    with d.gemm_loop(2.0 * B * (U + F) * 4 * U):
        for k in range(T):
            z = d.matmul(hx[k], w, out=gates[k])
            ract_into(xp, z[:3], z[:3])
            i, f, o, g = z
            act_into(xp, g, g)
            c_new, h_new = cs[k + 1], hs[k + 1]
            xp.multiply(f, cs[k], out=c_new)
            c_new += xp.multiply(i, g, out=tmp)
            xp.multiply(o, act_into(xp, c_new, tcs[k]), out=h_new)
            if masks is not None:
                ys[k] = h_new
                _apply_mask(xp, masks[k], (h_new, c_new), (hs[k], cs[k]), ys, k)
    ys = _batch_major(xp, hs[1:] if ys is None else ys, go_backwards)
    return ys, hs[T], cs[T], hx, cs, gates, tcs


@lstm_p.defgrad
def _lstm_grad(inputs, outs, dys, *, act, ract, go_backwards, needs=None):
    if _steps.records(inputs, dys):   # a tape records the backward: ops (see there)
        return _steps.vjp(_steps.lstm, inputs, 6, dys[:3], needs, act=act, ract=ract,
                          go_backwards=go_backwards)
    x, kernel, rkernel = inputs[0], inputs[3], inputs[4]
    extra = tuple(inputs[6:])
    need_dx = needs is None or needs[0]
    res = call(lstm_grad_p, (x, kernel, rkernel) + tuple(outs[3:]) + tuple(dys[:3])
               + extra,
               {"act": act, "ract": ract, "go_backwards": go_backwards, "need_dx": need_dx})
    dx, dh0, dc0, dk, drk, db = res
    return (dx if need_dx else None, dh0, dc0, dk, drk, db) + (None,) * len(extra)


lstm_p.wants_needs = True
lstm_p.grad_outputs = 3   # the rest are saved buffers


@primitive("LSTMSequenceGrad", n_out=-1)
def lstm_grad_p(d, x, kernel, rkernel, hx, cs, gates, tcs, dy, dh, dc, *mask, act,
                ract, go_backwards, need_dx=True):
    xp = d.xp
    B, T = x.shape[:2]
    U = cs.shape[-1]
    masks = _step_masks(xp, mask[0] if mask else None, go_backwards)
    order = _order(T, go_backwards)
    fac, p_all = _gates.lstm_grad_factors(xp, gates, cs, tcs, _DERIV_INTO[act],
                                          _DERIV_INTO[ract])
    # the gates' pre-activation grads [T, B, 4U] (Keras layout): each step's dh is
    # one GEMM with R^T that sums over the gates itself (per-gate products plus three
    # adds took ~20% longer on two BLAS threads), and the weight grads come out in
    # Keras layout
    dz_all = xp.empty((T, B, 4, U), dtype=x.dtype)
    rk_t = xp.ascontiguousarray(rkernel.T)
    dh_new, dcn = xp.empty((B, U), dtype=x.dtype), xp.empty((B, U), dtype=x.dtype)
    dh_buf, dc_buf = xp.empty((B, U), dtype=x.dtype), xp.empty((B, U), dtype=x.dtype)
    dh_next, dc_next = dh, dc
    dprev_y = 0
    with d.gemm_loop(2.0 * B * U * 4 * U):
        for k in range(T - 1, -1, -1):
            mk = None if masks is None else masks[k]
            _, dprev_y, dh_carry = _step_grad_in(xp, mk, dy[:, order[k]], dh_next, dprev_y,
                                                 dh_new)
            if mk is not None:
                dc_next, dc_carry = dc_next * mk, dc_next * ~mk
            dz = dz_all[k]
            xp.multiply(dh_new, fac[3, k], out=dz[:, 3])
            xp.multiply(dh_new, p_all[k], out=dcn)
            dcn += dc_next
            xp.multiply(dcn, fac[:3, k], out=dz[:, :3].transpose(1, 0, 2))
            dh_next = d.matmul(dz.reshape(B, 4 * U), rk_t, out=dh_buf)
            dc_next = xp.multiply(dcn, gates[k, 1], out=dc_buf)
            if mk is not None:
                dh_next += dh_carry
                dc_next += dc_carry
    dz_flat = dz_all.reshape(T * B, 4 * U)
    # one GEMM over all timesteps for the recurrent kernel, kernel and bias grads
    drk, dk, db = _gates.stacked_weight_grads(d, hx, dz_flat, U)
    dx = _input_grad(d, dz_flat, kernel, x.shape, go_backwards, need_dx)
    return dx, dh_next, dc_next, dk, drk, db


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
    B, T, F = x.shape
    U = h0.shape[-1]
    masks = _step_masks(xp, mask[0] if mask else None, go_backwards)
    scales = _gates.gate_scales(ract, 3, 2)
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, None)
    xt = _time_major(xp, x, go_backwards).reshape(T * B, F)
    # [3, T, B, U] (z, r, hh), activated in place
    gates = _gates.gate_inputs(d, xt, kernel, b_in, _GRU_ORDER, scales, (T, B))
    rk = _gates.split_gates(xp, rkernel, _GRU_ORDER, scales)
    if reset_after:
        b_rec = _gates.split_gates(xp, b_rec, _GRU_ORDER, scales)[:, None, :]
    # reset_after: h @ R + b_rec per gate; else [h @ R_z, h @ R_r, r * h]; step-major
    # so each step's GEMM writes one contiguous block (CuPy's matmul out= needs it)
    rec = xp.empty((T, 3, B, U), dtype=x.dtype)
    hs = xp.empty((T + 1, B, U), dtype=x.dtype)
    ys = xp.empty((T, B, U), dtype=x.dtype) if masks is not None else None
    tmp = xp.empty((B, U), dtype=x.dtype)
    hs[0] = h0
    act_into, ract_into = _ACT_INTO[act], _ract_into(ract)
    with d.gemm_loop(2.0 * B * U * 3 * U):
        for k in range(T):
            g, rh, h = gates[:, k], rec[k], hs[k]
            zr, hh = g[:2], g[2]
            if reset_after:
                d.matmul(h, rk, out=rh)
                rh += b_rec
                zr += rh[:2]
                ract_into(xp, zr, zr)
                hh += xp.multiply(g[1], rh[2], out=tmp)
            else:
                zr += d.matmul(h, rk[:2], out=rh[:2])
                ract_into(xp, zr, zr)
                rh_h = xp.multiply(g[1], h, out=rh[2])
                hh += d.matmul(rh_h, rk[2], out=tmp)
            act_into(xp, hh, hh)
            h_new = hs[k + 1]   # z * h + (1 - z) * hh
            xp.subtract(h, hh, out=h_new)
            h_new *= g[0]
            h_new += hh
            if masks is not None:
                ys[k] = h_new
                _apply_mask(xp, masks[k], (h_new,), (h,), ys, k)
    ys = _batch_major(xp, hs[1:] if ys is None else ys, go_backwards)
    return ys, hs[T], hs, gates, rec


@gru_p.defgrad
def _gru_grad(inputs, outs, dys, *, act, ract, go_backwards, reset_after, needs=None):
    if _steps.records(inputs, dys):   # a tape records the backward: ops (see there)
        return _steps.vjp(_steps.gru, inputs, 5, dys[:2], needs, act=act, ract=ract,
                          go_backwards=go_backwards, reset_after=reset_after)
    x, kernel, rkernel = inputs[0], inputs[2], inputs[3]
    extra = tuple(inputs[5:])
    need_dx = needs is None or needs[0]
    res = call(gru_grad_p, (x, kernel, rkernel) + tuple(outs[2:]) + tuple(dys[:2])
               + extra,
               {"act": act, "ract": ract, "go_backwards": go_backwards,
                "reset_after": reset_after, "need_dx": need_dx})
    dx, dh0, dk, drk, db = res
    return (dx if need_dx else None, dh0, dk, drk, db) + (None,) * len(extra)


gru_p.wants_needs = True
gru_p.grad_outputs = 2   # the rest are saved buffers


@primitive("GRUSequenceGrad", n_out=-1)
def gru_grad_p(d, x, kernel, rkernel, hs, gates, rec, dy, dh, *mask, act, ract,
               go_backwards, reset_after, need_dx=True):
    xp = d.xp
    B, T, F = x.shape
    U = hs.shape[-1]
    masks = _step_masks(xp, mask[0] if mask else None, go_backwards)
    order = _order(T, go_backwards)
    # per-gate pre-activation grads; with reset_after the recurrent projection's
    # grads are dxz[0], dxz[1] and drh_h (the h gate's, through r)
    dxz_all = xp.empty((3, T, B, U), dtype=x.dtype)
    drh_h = xp.empty((T, B, U), dtype=x.dtype) if reset_after else None
    rk_t = _gates.split_gates(xp, rkernel, _GRU_ORDER, transpose=True)
    part = xp.empty((3, B, U), dtype=x.dtype)
    dh_new = xp.empty((B, U), dtype=x.dtype)
    scratch = xp.empty((2, B, U), dtype=x.dtype)
    dh_next, dprev_y = dh, 0
    dh_bufs = (xp.empty((B, U), dtype=x.dtype), xp.empty((B, U), dtype=x.dtype))
    with d.gemm_loop(2.0 * B * U * 3 * U):
        for k in range(T - 1, -1, -1):
            mk = None if masks is None else masks[k]
            _, dprev_y, dh_carry = _step_grad_in(xp, mk, dy[:, order[k]], dh_next, dprev_y,
                                                 dh_new)
            h, g, dxz = hs[k], gates[:, k], dxz_all[:, k]
            z, r, hh = g
            dz, dr, da_h = dxz
            xp.subtract(1, z, out=da_h)            # dhh = dh_new * (1 - z), through act
            da_h *= dh_new
            _scale_by_deriv(xp, act, hh, da_h, scratch[0])
            xp.subtract(h, hh, out=dz)             # dz = dh_new * (h - hh), through ract
            dz *= dh_new
            dh_prev = xp.multiply(dh_new, z, out=dh_bufs[k % 2])
            if reset_after:
                xp.multiply(da_h, rec[k, 2], out=dr)
                _scale_by_deriv(xp, ract, g[:2], dxz[:2], scratch)
                d.matmul(dxz[:2], rk_t[:2], out=part[:2])
                d.matmul(xp.multiply(da_h, r, out=drh_h[k]), rk_t[2], out=part[2])
            else:
                # hh = act(xz_h + (r * h) @ R_h)
                d_rh = d.matmul(da_h, rk_t[2], out=part[2])
                xp.multiply(d_rh, h, out=dr)
                _scale_by_deriv(xp, ract, g[:2], dxz[:2], scratch)
                d_rh *= r
                d.matmul(dxz[:2], rk_t[:2], out=part[:2])
            dh_prev += _gates.sum_gates(xp, part, dh_new)
            if mk is not None:
                dh_prev += dh_carry
            dh_next = dh_prev
    xt = _time_major(xp, x, go_backwards).reshape(T * B, F)
    hs_flat, dxz_flat = hs[:T].reshape(T * B, U), dxz_all.reshape(3, T * B, U)
    dk = _gates.weight_grad(d, xt, dxz_flat, _GRU_ORDER)
    db_in = _gates.merge_gates(xp, dxz_flat.sum(axis=1), _GRU_ORDER)
    dx = _input_grad(d, dxz_flat, kernel, x.shape, go_backwards, need_dx, _GRU_ORDER)
    # recurrent kernel grads: z and r as the gates; h's from h (reset_after: through
    # r) or from r * h (reset_after=False)
    drk = xp.empty((3, U, U), dtype=x.dtype)
    drk[:2] = d.matmul(hs_flat.T, dxz_flat[:2])
    if reset_after:
        drk[2] = d.matmul(hs_flat.T, drh_h.reshape(T * B, U))
    else:
        drk[2] = d.matmul(rec[:, 2].reshape(T * B, U).T, dxz_flat[2])
    drk = _gates.merge_gates(xp, drk, _GRU_ORDER)
    if reset_after:
        db_rec = xp.concatenate([db_in[:2 * U], drh_h.reshape(T * B, U).sum(axis=0)])
        return dx, dh_next, dk, drk, xp.stack([db_in, db_rec])
    return dx, dh_next, dk, drk, db_in


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
    masks = _step_masks(xp, mask[0] if mask else None, go_backwards)
    acts = _input_projection(d, x, kernel, bias, go_backwards)  # activated in place
    hs = xp.empty((T + 1, B, U), dtype=x.dtype)
    ys = xp.empty((T, B, U), dtype=x.dtype) if masks is not None else None
    hs[0] = h0
    act_into = _ACT_INTO[act]
    with d.gemm_loop(2.0 * B * U * U):
        for k in range(T):
            a = acts[k]
            a += d.matmul(hs[k], rkernel)
            hs[k + 1] = act_into(xp, a, a)
            if masks is not None:
                ys[k] = a
                _apply_mask(xp, masks[k], (hs[k + 1],), (hs[k],), ys, k)
    ys = _batch_major(xp, hs[1:] if ys is None else ys, go_backwards)
    return ys, hs[T], hs, acts


@simple_rnn_p.defgrad
def _simple_rnn_grad(inputs, outs, dys, *, act, go_backwards, needs=None):
    if _steps.records(inputs, dys):   # a tape records the backward: ops (see there)
        return _steps.vjp(_steps.simple_rnn, inputs, 5, dys[:2], needs, act=act,
                          go_backwards=go_backwards)
    x, kernel, rkernel = inputs[0], inputs[2], inputs[3]
    extra = tuple(inputs[5:])
    need_dx = needs is None or needs[0]
    res = call(simple_rnn_grad_p, (x, kernel, rkernel, outs[2], outs[3], dys[0], dys[1])
               + extra, {"act": act, "go_backwards": go_backwards, "need_dx": need_dx})
    return (res[0] if need_dx else None,) + tuple(res[1:]) + (None,) * len(extra)


simple_rnn_p.wants_needs = True
simple_rnn_p.grad_outputs = 2   # the rest are saved buffers


@primitive("SimpleRNNSequenceGrad", n_out=-1)
def simple_rnn_grad_p(d, x, kernel, rkernel, hs, acts, dy, dh, *mask, act, go_backwards,
                      need_dx=True):
    xp = d.xp
    B, T, _ = x.shape
    U = hs.shape[-1]
    masks = _step_masks(xp, mask[0] if mask else None, go_backwards)
    order = _order(T, go_backwards)
    da_all = xp.empty((T, B, U), dtype=x.dtype)
    scratch = xp.empty((B, U), dtype=x.dtype)
    dh_next, dprev_y = dh, 0
    with d.gemm_loop(2.0 * B * U * U):
        for k in range(T - 1, -1, -1):
            mk = None if masks is None else masks[k]
            da, dprev_y, dh_carry = _step_grad_in(xp, mk, dy[:, order[k]], dh_next, dprev_y,
                                                  da_all[k])
            _scale_by_deriv(xp, act, acts[k], da, scratch)
            dh_next = d.matmul(da, rkernel.T)
            if mk is not None:
                dh_next += dh_carry
    dk, db = _weight_grads(d, x, da_all, go_backwards)
    dx = _input_grad(d, da_all.reshape(T * B, U), kernel, x.shape, go_backwards, need_dx)
    drk = d.matmul(hs[:T].reshape(T * B, U).T, da_all.reshape(T * B, U))
    return dx, dh_next, dk, drk, db


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
