"""The seventeenth session's LSTM fast paths (ops/rnn.py, ops/rnn_gates.py): each step
as one GEMM ``[h | x_t | 1] @ [R; W; b]``, the backward's gate factors in bulk and one
GEMM for all weight grads, and the input projection with the bias as a GEMM row (GRU).

Checked against the independent NumPy oracles of ``backends/rnn_layout.py`` and
``tests/ops/test_rnn.py`` (float64, 1e-10), float32 against float64, gradients
against float64 central differences, eager against ``dlframe.function``, and a Keras
LSTM that trains.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.backends import rnn_layout
from dlframe.core.primitive import Primitive, call
from dlframe.ops import rnn, rnn_gates
from tests.helpers import check_function_matches_eager, check_grad, default_rnn_kernel
from tests.ops.test_rnn import ref_gru, ref_lstm

RNG = np.random.default_rng(17)
B, T, F, U = 3, 6, 4, 5
MASK = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [0, 1, 0, 1, 1, 0]], bool)


def _w(*shape, scale=0.5):
    return RNG.standard_normal(shape) * scale


def _lstm_args():
    return [_w(B, T, F), _w(B, U), _w(B, U), _w(F, 4 * U), _w(U, 4 * U), _w(4 * U)]


def test_state_input_buffer_layout():
    x = np.arange(B * T * F, dtype=np.float32).reshape(B, T, F)
    h0 = -np.arange(B * U, dtype=np.float32).reshape(B, U)
    hx = rnn_gates.state_input_buffer(np, x, h0)
    assert hx.shape == (T + 1, B, U + F + 1) and hx.dtype == np.float32
    np.testing.assert_array_equal(hx[0, :, :U], h0)
    for k in range(T):
        np.testing.assert_array_equal(hx[k, :, U:U + F], x[:, k])
    np.testing.assert_array_equal(hx[T, :, U:U + F], 0)
    np.testing.assert_array_equal(hx[:, :, -1], 1)


def test_stacked_weights_and_their_grads_match_separate_products():
    kernel, rkernel, bias = _w(F, 4 * U), _w(U, 4 * U), _w(4 * U)
    order = (0, 1, 3, 2)
    w = rnn_gates.stacked_weights(np, rkernel, kernel, bias, order, None)
    assert w.shape == (4, U + F + 1, U)
    h, x = _w(B, U), _w(B, F)
    row = np.concatenate([h, x, np.ones((B, 1))], axis=1)
    got = rnn_gates.merge_gates(np, np.matmul(row, w), order)
    np.testing.assert_allclose(got, h @ rkernel + x @ kernel + bias, rtol=1e-12)
    # grads: hx [T+1, B, U+F+1], dz [T*B, 4U] -> Keras-layout (drk, dk, db)
    x_seq, h0 = _w(B, T, F), _w(B, U)
    hx = rnn_gates.state_input_buffer(np, x_seq, h0)
    hx[1:, :, :U] = _w(T, B, U)
    dz_keras = _w(T * B, 4 * U)
    dev = tf.constant(1.0)._device  # the test's device: its kernel takes its arrays
    drk, dk, db = (dev.to_numpy(g) for g in rnn_gates.stacked_weight_grads(
        dev, dev.asarray(hx), dev.asarray(dz_keras), U))
    hs = hx[:T, :, :U].reshape(T * B, U)
    xt = x_seq.transpose(1, 0, 2).reshape(T * B, F)
    np.testing.assert_allclose(drk, hs.T @ dz_keras, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dk, xt.T @ dz_keras, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, dz_keras.sum(0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
def test_lstm_grad_factors_match_the_formulas(act, ract):
    acts = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0),
            "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
            "hard_sigmoid": lambda v: np.clip(v / 6 + 0.5, 0, 1)}
    pre = _w(T, 4, B, U, scale=2.0)
    gates = np.empty_like(pre)
    gates[:, :3] = acts[ract](pre[:, :3])
    gates[:, 3] = acts[act](pre[:, 3])
    cs, tcs = _w(T + 1, B, U), acts[act](_w(T, B, U))
    fac, p = rnn_gates.lstm_grad_factors(np, gates, cs, tcs, rnn._DERIV_INTO[act],
                                         rnn._DERIV_INTO[ract])
    i, f, o, g = (gates[:, j] for j in range(4))
    if ract == "sigmoid":
        dr = {"i": i * (1 - i), "f": f * (1 - f), "o": o * (1 - o)}
    else:   # hard sigmoid: 1/6 strictly inside (0, 1)
        dr = {n: ((v > 0) & (v < 1)) / 6 for n, v in (("i", i), ("f", f), ("o", o))}
    da = (lambda y: 1 - y * y) if act == "tanh" else (lambda y: (y > 0) * 1.0)
    np.testing.assert_allclose(fac[0], g * dr["i"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fac[1], cs[:T] * dr["f"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fac[2], i * da(g), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fac[3], tcs * dr["o"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p, o * da(tcs), rtol=1e-12, atol=1e-15)


def test_lstm_forward_and_grads_match_the_cudnn_equation_oracle():
    """Independent oracle: backends/rnn_layout's BPTT of the cuDNN equations."""
    x, h0, c0, k, rk, b = _lstm_args()
    dy, dhy, dcy = _w(B, T, U), _w(B, U), _w(B, U)
    y, hy, cy, cache = rnn_layout.reference_forward("lstm", x, h0, c0, k, rk, b)
    ts = [tf.constant(a) for a in (x, h0, c0, k, rk, b)]
    with tf.GradientTape() as tape:
        for v in ts:
            tape.watch(v)
        outs = rnn.lstm(*ts)
        loss = sum(tf.reduce_sum(o * w) for o, w in zip(outs, (dy, dhy, dcy)))
    for got, want in zip(outs, (y, hy, cy)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    grads = tape.gradient(loss, ts)
    want = rnn_layout.reference_backward(cache, dy, dhy, dcy)
    # reference order: dx, dh0, dc0, dkernel, drecurrent, dbias
    for got, ref in zip([grads[j] for j in (0, 1, 2, 3, 4, 5)], want):
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
def test_lstm_variants_forward_and_finite_differences(mask, back, act, ract):
    args = _lstm_args()
    m = None if mask is None else tf.constant(mask)

    def f(*a):
        return rnn.lstm(*a, mask=m, go_backwards=back, activation=act,
                        recurrent_activation=ract)
    outs = f(*[tf.constant(a) for a in args])
    for o, e in zip(outs, ref_lstm(*args, mask=mask, back=back, act=act, ract=ract)):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-10, atol=1e-12)
    check_grad(f, args, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mask,back", [(None, False), (MASK, True)])
def test_lstm_float32_within_float32_precision_of_float64(mask, back):
    args = _lstm_args()
    m = None if mask is None else tf.constant(mask)

    def run(dtype):
        ts = [tf.constant(a.astype(dtype)) for a in args]
        with tf.GradientTape() as tape:
            for v in ts:
                tape.watch(v)
            outs = rnn.lstm(*ts, mask=m, go_backwards=back)
            loss = sum(tf.reduce_sum(o * np.sin(np.arange(U)).astype(dtype))
                       for o in outs)
        return [o.numpy() for o in outs] + [g.numpy() for g in tape.gradient(loss, ts)]
    for a, e in zip(run(np.float32), run(np.float64)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=2e-6)


def test_lstm_function_matches_eager_and_skipped_dx_keeps_weight_grads():
    args = _lstm_args()
    check_function_matches_eager(lambda *a: rnn.lstm(*a, mask=tf.constant(MASK)), args,
                                 rtol=1e-12, atol=1e-12)
    x = tf.constant(args[0])
    weights = [tf.Variable(a) for a in args[1:]]

    def grads(watch_x):
        with tf.GradientTape() as tape:
            if watch_x:
                tape.watch(x)
            ys, h, c = rnn.lstm(x, *weights)
            loss = tf.reduce_sum(ys * 0.3) + tf.reduce_sum(h * c)
        return [g.numpy() for g in tape.gradient(loss, weights)]
    for a, e in zip(grads(False), grads(True)):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_input_projection_with_bias_row(reset_after):
    """gate_inputs folds the bias into its GEMM (a column of ones): GRU unchanged."""
    args = [_w(B, T, F), _w(B, U), _w(F, 3 * U), _w(U, 3 * U),
            _w(2, 3 * U) if reset_after else _w(3 * U)]
    outs = rnn.gru(*[tf.constant(a) for a in args], reset_after=reset_after)
    for o, e in zip(outs, ref_gru(*args, reset_after=reset_after)):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-10, atol=1e-12)
    xt, kernel, bias = _w(T * B, F), _w(F, 3 * U), _w(3 * U)
    dev = tf.constant(1.0)._device  # the test's device: its kernel takes its arrays
    got = dev.to_numpy(rnn_gates.gate_inputs(dev, *map(dev.asarray, (xt, kernel, bias)),
                                             (0, 1, 2), None, (T, B)))
    want = (xt @ kernel + bias).reshape(T, B, 3, U).transpose(2, 0, 1, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_keras_lstm_layer_matches_keras_equations_and_learns():
    tf.keras.utils.set_random_seed(17)
    x = RNG.standard_normal((16, 8, 3)).astype("float32")
    y = (x[:, :, 0].sum(1) > 0).astype("int64")
    layer = tf.keras.layers.LSTM(6, return_sequences=True, return_state=True)
    seq, h, c = layer(x)
    kernel, rkernel, bias = (v.numpy() for v in layer.weights)
    want = rnn_layout.keras_equations_forward("lstm", x, None, None, kernel, rkernel,
                                              bias)
    for got, ref in zip((seq, h, c), want):
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-6)
    assert layer.last_kernel == default_rnn_kernel("lstm")  # cuDNN's on a GPU
    model = tf.keras.Sequential([tf.keras.Input((8, 3)), tf.keras.layers.LSTM(8),
                                 tf.keras.layers.Dense(2)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_saved_buffer_outputs_get_no_zero_gradients():
    """Outputs past ``grad_outputs`` reach the rule as None (no zeros array per
    step for the kernels' saved buffers); the others are still zero-filled."""
    assert (rnn.lstm_p.grad_outputs, rnn.gru_p.grad_outputs,
            rnn.simple_rnn_p.grad_outputs) == (3, 2, 2)
    seen = []

    def forward(d, x):
        return x * 2, x * 3, x + 0
    # not registered: a private primitive of this test only
    two_p = Primitive("Round17TwoOutsAndBuffer", forward, n_out=3)
    two_p.grad_outputs = 2

    @two_p.defgrad
    def _grad(inputs, outs, dys):
        seen.append([None if g is None else g.numpy() for g in dys])
        return (dys[0] * 2 + dys[1] * 3,)
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        a, _, _ = call(two_p, (x,))
        loss = tf.reduce_sum(a)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [2.0, 2.0])
    (dys,) = seen
    np.testing.assert_array_equal(dys[1], [0.0, 0.0])   # zero-filled
    assert dys[2] is None                               # a saved buffer
