"""The gate-major LSTM/GRU kernels (ops/rnn_gates.py): layout helpers, the halved
sigmoid, and float32 forward/gradients against the float64 path, for every variant
(masks, go_backwards, reset_after both ways, non-sigmoid gates, skipped dx)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import rnn, rnn_gates
from tests.helpers import check_function_matches_eager, check_grad
from tests.ops.test_rnn import ref_gru, ref_lstm

RNG = np.random.default_rng(15)
B, T, F, U = 4, 7, 5, 3
MASK = np.array([[1] * 7, [1, 1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0],
                 [0, 1, 1, 0, 1, 1, 0]], bool)


def _w(*shape):
    return RNG.standard_normal(shape) * 0.5


def test_split_merge_round_trip_and_transpose():
    w = np.arange(24, dtype=np.float32).reshape(2, 12)   # 4 gates of 3 units
    order = (0, 1, 3, 2)
    blocks = rnn_gates.split_gates(np, w, order)
    assert blocks.shape == (4, 2, 3) and blocks.flags.c_contiguous
    np.testing.assert_array_equal(blocks[2], w[:, 9:12])     # Keras gate 3 at slot 2
    np.testing.assert_array_equal(rnn_gates.merge_gates(np, blocks, order), w)
    t_blocks = rnn_gates.split_gates(np, w, order, transpose=True)
    np.testing.assert_array_equal(t_blocks[3], w[:, 6:9].T)
    bias = np.arange(12.0)
    scales = rnn_gates.gate_scales("sigmoid", 4, 3)
    scaled = rnn_gates.split_gates(np, bias, order, scales)
    np.testing.assert_array_equal(scaled[:3], bias.reshape(4, 3)[[0, 1, 3]] * 0.5)
    np.testing.assert_array_equal(scaled[3], bias[6:9])
    assert rnn_gates.gate_scales("hard_sigmoid", 4, 3) is None


def test_half_sigmoid_is_sigmoid_of_double():
    z = np.linspace(-30, 30, 1001)
    out = rnn_gates.half_sigmoid_into(np, z / 2, np.empty_like(z))
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)


def _lstm_args():
    return [_w(B, T, F), _w(B, U), _w(B, U), _w(F, 4 * U), _w(U, 4 * U), _w(4 * U)]


def _gru_args(reset_after):
    return [_w(B, T, F), _w(B, U), _w(F, 3 * U), _w(U, 3 * U),
            _w(2, 3 * U) if reset_after else _w(3 * U)]


def _grads(fn, arrays, dtype):
    ts = [tf.constant(a.astype(dtype)) for a in arrays]
    with tf.GradientTape() as tape:
        for v in ts:
            tape.watch(v)
        outs = fn(*ts)
        # a weighted sum over all outputs so every output's gradient path is used
        loss = sum(tf.reduce_sum(o * np.cos(np.arange(o.shape[-1])).astype(dtype))
                   for o in outs)
    return [o.numpy() for o in outs], [g.numpy() for g in tape.gradient(loss, ts)]


@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("ract", ["sigmoid", "hard_sigmoid"])
def test_lstm_float32_matches_float64(mask, back, ract):
    args = _lstm_args()
    m = None if mask is None else tf.constant(mask)

    def f(*a):
        return rnn.lstm(*a, mask=m, go_backwards=back, recurrent_activation=ract)
    out32, g32 = _grads(f, args, np.float32)
    out64, g64 = _grads(f, args, np.float64)
    for o, e in zip(out64, ref_lstm(*args, mask=mask, back=back, ract=ract)):
        np.testing.assert_allclose(o, e, rtol=1e-10, atol=1e-12)
    for a, e in zip(out32 + g32, out64 + g64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("mask,back", [(None, False), (MASK, True)])
@pytest.mark.parametrize("ract", ["sigmoid", "hard_sigmoid"])
def test_gru_float32_matches_float64(reset_after, mask, back, ract):
    args = _gru_args(reset_after)
    m = None if mask is None else tf.constant(mask)

    def f(*a):
        return rnn.gru(*a, mask=m, go_backwards=back, reset_after=reset_after,
                       recurrent_activation=ract)
    out32, g32 = _grads(f, args, np.float32)
    out64, g64 = _grads(f, args, np.float64)
    expect = ref_gru(*args, reset_after=reset_after, mask=mask, back=back, ract=ract)
    for o, e in zip(out64, expect):
        np.testing.assert_allclose(o, e, rtol=1e-10, atol=1e-12)
    for a, e in zip(out32 + g32, out64 + g64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_grads_vs_finite_differences_without_mask(reset_after):
    def f(*a):
        return rnn.gru(*a, reset_after=reset_after)
    check_grad(f, _gru_args(reset_after), rtol=1e-5, atol=1e-7)


def test_weight_grads_without_input_grad():
    """A first layer skips dx: the weight grads are the same as with it."""
    args = _lstm_args()
    x = tf.constant(args[0])
    weights = [tf.Variable(a) for a in args[1:]]

    def run(watch_x):
        with tf.GradientTape() as tape:
            if watch_x:
                tape.watch(x)
            ys, _, _ = rnn.lstm(x, *weights)
            loss = tf.reduce_sum(ys * ys)
        return tape.gradient(loss, weights + ([x] if watch_x else []))
    with_dx, without = run(True), run(False)
    for a, e in zip(without, with_dx[:-1]):
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-12, atol=1e-14)
    assert with_dx[-1].shape == x.shape


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_eager_equals_function(kind):
    args = [a.astype(np.float32) for a in (_lstm_args() if kind == "lstm"
                                           else _gru_args(False))]

    def f(*a):
        if kind == "lstm":
            return rnn.lstm(*a, mask=tf.constant(MASK))[0]
        return rnn.gru(*a, mask=tf.constant(MASK), reset_after=False)[0]
    check_function_matches_eager(f, args, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("layer", ["LSTM", "GRU"])
def test_layer_training_step_learns(layer):
    """The keras layers on the fused kernel still learn a simple sequence task."""
    tf.keras.utils.set_random_seed(0)
    x = RNG.standard_normal((64, 6, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64)
    # use_cudnn=False: the fused kernel on every device (a GPU would pick cuDNN's)
    model = tf.keras.Sequential([getattr(tf.keras.layers, layer)(8, use_cudnn=False),
                                 tf.keras.layers.Dense(2)])
    model.compile(tf.keras.optimizers.Adam(0.05),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert model.layers[0].last_kernel == "fused"
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
