"""Fused recurrent kernels vs step-by-step NumPy references of the Keras equations,
gradients vs float64 central differences (masks and go_backwards included)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import rnn
from tests.helpers import check_grad


def sig(x):
    return 1 / (1 + np.exp(-x))


ACTS = {"tanh": np.tanh, "sigmoid": sig, "relu": lambda v: np.maximum(v, 0),
        "linear": lambda v: v, "hard_sigmoid": lambda v: np.clip(v / 6 + 0.5, 0, 1)}


def ref_lstm(x, h, c, k, rk, b, mask=None, back=False, act="tanh", ract="sigmoid"):
    act, ract = ACTS[act], ACTS[ract]
    B, T, _ = x.shape
    U = h.shape[1]
    ys = np.zeros((B, T, U))
    prev = np.zeros((B, U))
    for s in (range(T - 1, -1, -1) if back else range(T)):
        z = x[:, s] @ k + h @ rk + b
        i, f, o = ract(z[:, :U]), ract(z[:, U:2 * U]), ract(z[:, 3 * U:])
        g = act(z[:, 2 * U:3 * U])
        cn = f * c + i * g
        hn = o * act(cn)
        if mask is not None:
            m = mask[:, s][:, None]
            hn, cn = np.where(m, hn, h), np.where(m, cn, c)
            y = np.where(m, hn, prev)
        else:
            y = hn
        ys[:, s], prev, h, c = y, y, hn, cn
    return ys, h, c


def ref_gru(x, h, k, rk, b, reset_after=True, mask=None, back=False, act="tanh",
            ract="sigmoid"):
    sig, tanh = ACTS[ract], ACTS[act]
    B, T, _ = x.shape
    U = h.shape[1]
    ys = np.zeros((B, T, U))
    prev = np.zeros((B, U))
    for s in (range(T - 1, -1, -1) if back else range(T)):
        if reset_after:
            xz = x[:, s] @ k + b[0]
            rh = h @ rk + b[1]
            z = sig(xz[:, :U] + rh[:, :U])
            r = sig(xz[:, U:2 * U] + rh[:, U:2 * U])
            hh = tanh(xz[:, 2 * U:] + r * rh[:, 2 * U:])
        else:
            xz = x[:, s] @ k + b
            z = sig(xz[:, :U] + h @ rk[:, :U])
            r = sig(xz[:, U:2 * U] + h @ rk[:, U:2 * U])
            hh = tanh(xz[:, 2 * U:] + (r * h) @ rk[:, 2 * U:])
        hn = z * h + (1 - z) * hh
        if mask is not None:
            m = mask[:, s][:, None]
            hn = np.where(m, hn, h)
            y = np.where(m, hn, prev)
        else:
            y = hn
        ys[:, s], prev, h = y, y, hn
    return ys, h


RNG = np.random.default_rng(0)
B, T, F, U = 3, 5, 4, 6
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)


def _w(*shape):
    return RNG.standard_normal(shape) * 0.5


@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("back", [False, True])
def test_lstm_forward_and_grad(mask, back):
    x, h0, c0 = _w(B, T, F), _w(B, U), _w(B, U)
    k, rk, b = _w(F, 4 * U), _w(U, 4 * U), _w(4 * U)
    m = None if mask is None else tf.constant(mask)

    def f(x, h0, c0, k, rk, b):
        return rnn.lstm(x, h0, c0, k, rk, b, mask=m, go_backwards=back)
    out = f(*[tf.constant(a) for a in (x, h0, c0, k, rk, b)])
    expect = ref_lstm(x, h0, c0, k, rk, b, mask, back)
    for o, e in zip(out, expect):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-10, atol=1e-12)
    check_grad(f, [x, h0, c0, k, rk, b], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("mask,back", [(None, False), (MASK, False), (None, True)])
def test_gru_forward_and_grad(reset_after, mask, back):
    x, h0 = _w(B, T, F), _w(B, U)
    k, rk = _w(F, 3 * U), _w(U, 3 * U)
    b = _w(2, 3 * U) if reset_after else _w(3 * U)
    m = None if mask is None else tf.constant(mask)

    def f(x, h0, k, rk, b):
        return rnn.gru(x, h0, k, rk, b, mask=m, go_backwards=back, reset_after=reset_after)
    out = f(*[tf.constant(a) for a in (x, h0, k, rk, b)])
    expect = ref_gru(x, h0, k, rk, b, reset_after, mask, back)
    for o, e in zip(out, expect):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-10, atol=1e-12)
    check_grad(f, [x, h0, k, rk, b], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mask", [None, MASK])
def test_simple_rnn_forward_and_grad(mask):
    x, h0, k, rk, b = _w(B, T, F), _w(B, U), _w(F, U), _w(U, U), _w(U)
    m = None if mask is None else tf.constant(mask)

    def f(x, h0, k, rk, b):
        return rnn.simple_rnn(x, h0, k, rk, b, mask=m)
    ys, h = f(*[tf.constant(a) for a in (x, h0, k, rk, b)])
    hh, prev = h0, np.zeros((B, U))
    ref = np.zeros((B, T, U))
    for s in range(T):
        hn = np.tanh(x[:, s] @ k + hh @ rk + b)
        if mask is not None:
            mm = mask[:, s][:, None]
            hn = np.where(mm, hn, hh)
            y = np.where(mm, hn, prev)
        else:
            y = hn
        ref[:, s], prev, hh = y, y, hn
    np.testing.assert_allclose(ys.numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(h.numpy(), hh, rtol=1e-10)
    check_grad(f, [x, h0, k, rk, b], rtol=1e-5, atol=1e-7)


OTHER_ACTS = [("relu", "hard_sigmoid"), ("linear", "tanh"), ("hard_sigmoid", "relu")]


@pytest.mark.parametrize("act,ract", OTHER_ACTS)
def test_lstm_other_activations(act, ract):
    x, h0, c0 = _w(B, T, F), _w(B, U), _w(B, U)
    k, rk, b = _w(F, 4 * U), _w(U, 4 * U), _w(4 * U)
    m = tf.constant(MASK)

    def f(x, h0, c0, k, rk, b):
        return rnn.lstm(x, h0, c0, k, rk, b, mask=m, activation=act,
                        recurrent_activation=ract)
    out = f(*[tf.constant(a) for a in (x, h0, c0, k, rk, b)])
    expect = ref_lstm(x, h0, c0, k, rk, b, MASK, act=act, ract=ract)
    for o, e in zip(out, expect):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-10, atol=1e-12)
    check_grad(f, [x, h0, c0, k, rk, b], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("act,ract", OTHER_ACTS)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_other_activations(act, ract, reset_after):
    x, h0 = _w(B, T, F), _w(B, U)
    k, rk = _w(F, 3 * U), _w(U, 3 * U)
    b = _w(2, 3 * U) if reset_after else _w(3 * U)

    def f(x, h0, k, rk, b):
        return rnn.gru(x, h0, k, rk, b, activation=act, recurrent_activation=ract,
                       go_backwards=True, reset_after=reset_after)
    out = f(*[tf.constant(a) for a in (x, h0, k, rk, b)])
    expect = ref_gru(x, h0, k, rk, b, reset_after, back=True, act=act, ract=ract)
    for o, e in zip(out, expect):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-10, atol=1e-12)
    check_grad(f, [x, h0, k, rk, b], rtol=1e-5, atol=1e-7)


def test_float32_kernels_match_float64():
    """The in-place float32 path (tanh-form sigmoid) agrees with the float64 reference."""
    x, h0, c0 = _w(B, T, F), _w(B, U), _w(B, U)
    k, rk, b = _w(F, 4 * U), _w(U, 4 * U), _w(4 * U)
    f32 = [tf.constant(a.astype(np.float32)) for a in (x, h0, c0, k, rk, b)]
    ys, h, c = rnn.lstm(*f32, mask=tf.constant(MASK), go_backwards=True)
    expect = ref_lstm(x, h0, c0, k, rk, b, MASK, back=True)
    for o, e in zip((ys, h, c), expect):
        assert o.dtype == tf.float32
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-5, atol=1e-6)


def test_compiled_equals_eager_and_is_one_node():
    x, h0, c0 = (tf.constant(a.astype(np.float32)) for a in (_w(B, T, F), _w(B, U), _w(B, U)))
    k, rk, b = (tf.Variable(a.astype(np.float32)) for a in (_w(F, 4 * U), _w(U, 4 * U), _w(4 * U)))

    def step(x):
        with tf.GradientTape() as tape:
            ys, h, c = rnn.lstm(x, h0, c0, k, rk, b)
            loss = tf.reduce_sum(ys * ys)
        return loss, tape.gradient(loss, [k, rk, b])
    compiled = tf.function(step)
    le, ge = step(x)
    compiled(x)
    lc, gc = compiled(x)
    np.testing.assert_allclose(lc.numpy(), le.numpy(), rtol=1e-6)
    for a, e in zip(gc, ge):
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)
    names = compiled.get_concrete_function(x).graph.node_names
    assert names.count("LSTMSequence") == 1 and names.count("LSTMSequenceGrad") == 1


def test_bad_shapes():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[batch, time, features\]"):
        rnn.lstm(tf.zeros([2, 3]), tf.zeros([2, 4]), tf.zeros([2, 4]), tf.zeros([3, 16]),
                 tf.zeros([4, 16]), None)
    with pytest.raises(tf.errors.InvalidArgumentError, match="initial state"):
        rnn.gru(tf.zeros([2, 3, 5]), tf.zeros([2, 7]), tf.zeros([5, 12]), tf.zeros([4, 12]),
                None)
