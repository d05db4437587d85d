"""Recurrent-layer gradients vs float64 central differences, and the cuDNN kernel
selection and op glue on CPU through a fake device kernel (the real cuDNN path is
covered by tests/gpu/test_recurrent_layers_gpu.py)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.ops import rnn
from tests.helpers import numeric_grad

L = keras.layers
RNG = np.random.default_rng(7)
B, T, F, U = 2, 4, 3, 3
X = RNG.standard_normal((B, T, F))
MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)


def _layer_grads(layer, x, mask=None, weights=None):
    """(loss, d loss / d weights, d loss / d x) for loss = sum(outputs * W)."""
    outw = None

    def loss_of(out):
        nonlocal outw
        outs = out if isinstance(out, (list, tuple)) else [out]
        if outw is None:
            outw = [np.random.default_rng(1).standard_normal(tuple(o.shape))
                    for o in outs]
        return tf.add_n([tf.reduce_sum(o * tf.constant(w)) for o, w in zip(outs, outw)])

    xt = tf.constant(x)
    m = None if mask is None else tf.constant(mask)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = loss_of(layer(xt, mask=m))
    grads = tape.gradient(loss, layer.trainable_weights + [xt])
    return loss_of, grads


@pytest.mark.parametrize("make", [
    lambda: L.LSTM(U, return_sequences=True, return_state=True),
    lambda: L.LSTM(U, go_backwards=True, return_state=True),
    lambda: L.GRU(U, return_sequences=True, go_backwards=True),
    lambda: L.GRU(U, reset_after=False, return_state=True),
    lambda: L.SimpleRNN(U, return_sequences=True),
    lambda: L.RNN(L.LSTMCell(U), return_sequences=True, go_backwards=True),
    lambda: L.Bidirectional(L.GRU(U, return_sequences=True)),
    lambda: L.LSTM(U, activation="softsign", return_sequences=True),
], ids=["lstm", "lstm_back", "gru_back", "gru_v1", "simple", "loop", "bidir", "loop_act"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_gradients_match_finite_differences(make, use_mask):
    layer = make()
    layer._dtype_policy = type(layer._dtype_policy)("float64")
    for sub in layer._flatten_layers(include_self=False):
        sub._dtype_policy = type(sub._dtype_policy)("float64")
    mask = MASK if use_mask else None
    loss_of, grads = _layer_grads(layer, X, mask)
    params = [w.numpy() for w in layer.trainable_weights]

    def scalar(*arrays):
        for w, a in zip(layer.trainable_weights, arrays[:-1]):
            w.assign(a)
        m = None if mask is None else tf.constant(mask)
        return float(loss_of(layer(tf.constant(arrays[-1]), mask=m)).numpy())

    arrays = params + [X.copy()]
    for i, g in enumerate(grads):
        expect = numeric_grad(scalar, [a.copy() for a in arrays], i, eps=1e-6)
        np.testing.assert_allclose(g.numpy(), expect, rtol=1e-5, atol=1e-7,
                                   err_msg=f"gradient {i} of {layer.name}")


# ---------------------------------------------------------------- fake cuDNN kernel
class FakeCudnnKernel:
    """The CudnnRNN interface (cuDNN conventions: outputs zero past each length, dy
    past a length ignored) computed with the portable kernels' forward/backward."""

    def __init__(self, kind, device):
        self.kind, self.device, self.calls = kind, device, []

    @staticmethod
    def supports(dtype, seq_lengths=None):
        return seq_lengths is None or min(seq_lengths) >= 1

    def forward(self, x, h0, c0, kernel, recurrent_kernel, bias, seq_lengths=None,
                training=False):
        self.calls.append(("forward", seq_lengths, training))
        d = self.device
        steps = x.shape[1]
        lengths = [steps] * x.shape[0] if seq_lengths is None else list(seq_lengths)
        # the validity mask lives on the kernel's device like the other arrays
        valid = d.asarray(np.arange(steps)[None, :] < np.array(lengths)[:, None])
        attrs = {"act": "tanh", "ract": "sigmoid", "go_backwards": False}
        if self.kind == "lstm":
            outs = rnn.lstm_p.forward(d, x, h0, c0, kernel, recurrent_kernel, bias, valid,
                                      **attrs)
            h, c = outs[1], outs[2]
        else:
            outs = rnn.gru_p.forward(d, x, h0, kernel, recurrent_kernel, bias, valid,
                                     reset_after=True, **attrs)
            h, c = outs[1], None
        y = outs[0] * valid[:, :, None]
        state = (x, kernel, recurrent_kernel, valid, outs) if training else None
        return y, h, c, state

    def backward(self, state, dy, dhy=None, dcy=None, retain=False):
        self.calls.append(("backward",))
        d = self.device
        x, kernel, rkernel, valid, outs = state
        dy = dy * valid[:, :, None]
        attrs = {"act": "tanh", "ract": "sigmoid", "go_backwards": False}
        if self.kind == "lstm":
            res = rnn.lstm_grad_p.forward(d, x, kernel, rkernel, *outs[3:], dy, dhy, dcy,
                                          valid, **attrs)
            return res
        dx, dh0, dk, drk, db = rnn.gru_grad_p.forward(d, x, kernel, rkernel, *outs[2:],
                                                      dy, dhy, valid, reset_after=True,
                                                      **attrs)
        return dx, dh0, None, dk, drk, db


@pytest.fixture
def fake_cudnn(monkeypatch):
    device = tf.constant(1.0)._device
    kernels = {k: FakeCudnnKernel(k, device) for k in ("lstm", "gru")}
    monkeypatch.setattr(type(device), "rnn_kernel", lambda self, kind: kernels.get(kind))
    return kernels


def _pair(cls, **kw):
    fast = cls(U, use_cudnn="auto", **kw)
    ref = cls(U, use_cudnn=False, **kw)
    fast.build((B, T, F))
    ref.build((B, T, F))
    ws = [RNG.standard_normal(tuple(w.shape)) * 0.5 for w in fast.weights]
    fast.set_weights(ws)
    ref.set_weights(ws)
    return fast, ref


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU])
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
def test_cudnn_glue_matches_fused_kernel(fake_cudnn, cls, back, use_mask):
    fast, ref = _pair(cls, return_sequences=True, return_state=True, go_backwards=back,
                      dtype="float64")
    mask = MASK if use_mask else None
    _, g_fast = _layer_grads(fast, X, mask)
    _, g_ref = _layer_grads(ref, X, mask)
    assert fast.last_kernel == "cudnn" and ref.last_kernel == "fused"
    for a, b in zip(fast(tf.constant(X), mask=None if mask is None else tf.constant(mask)),
                    ref(tf.constant(X), mask=None if mask is None else tf.constant(mask))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)
    for a, b in zip(g_fast, g_ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-10)
    kind = "lstm" if cls is L.LSTM else "gru"
    calls = fake_cudnn[kind].calls
    assert ("backward",) in calls
    lengths = [c[1] for c in calls if c[0] == "forward"]
    assert lengths[0] == (None if mask is None else (4, 2))


def test_cudnn_state_reused_or_recomputed(fake_cudnn):
    fast, _ = _pair(L.LSTM, dtype="float64")
    xt = tf.constant(X)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(fast(xt))
    g1 = tape.gradient(loss, xt)
    g2 = tape.gradient(loss, xt)  # reserve consumed: the glue re-runs the forward
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    forwards = [c for c in fake_cudnn["lstm"].calls if c[0] == "forward"]
    assert [c[2] for c in forwards] == [True, True]
    fast(xt)  # no tape: inference forward, no reserve kept
    assert fake_cudnn["lstm"].calls[-1] == ("forward", None, False)


def test_cudnn_selection_rules(fake_cudnn):
    x = tf.constant(X.astype("float32"))
    not_right_padded = tf.constant(np.array([[1, 0, 1, 1], [1, 1, 0, 0]], bool))
    empty_row = tf.constant(np.array([[1, 1, 1, 1], [0, 0, 0, 0]], bool))
    for layer, mask in ((L.LSTM(U, activation="relu"), None),
                        (L.LSTM(U, recurrent_activation="tanh"), None),
                        (L.LSTM(U, unroll=True), None), (L.LSTM(U, use_bias=False), None),
                        (L.GRU(U, reset_after=False), None), (L.LSTM(U), not_right_padded),
                        (L.GRU(U), empty_row), (L.LSTM(U, use_cudnn=False), None)):
        layer(x, mask=mask)
        assert layer.last_kernel == "fused", layer.get_config()
    gru = L.GRU(U, recurrent_dropout=0.1)
    gru(x)
    assert gru.last_kernel == "loop"
    ok = L.GRU(U, use_cudnn=True)
    ok(x, mask=tf.constant(MASK))
    assert ok.last_kernel == "cudnn"
    for layer, mask, reason in (
            (L.LSTM(U, use_cudnn=True, activation="relu"), None, "activation='relu'"),
            (L.GRU(U, use_cudnn=True, reset_after=False), None, "reset_after=False"),
            (L.LSTM(U, use_cudnn=True, unroll=True), None, "unroll=True"),
            (L.LSTM(U, use_cudnn=True), not_right_padded, "right-padded"),
            (L.LSTM(U, use_cudnn=True, recurrent_dropout=0.2), None,
             "recurrent_dropout")):
        with pytest.raises(ValueError, match="use_cudnn=True") as err:
            layer(x, mask=mask)
        assert reason in str(err.value)


def test_use_cudnn_true_without_cudnn_is_a_clear_error():
    # pinned to the CPU, which offers no cuDNN kernel (a GPU's does: tests/gpu)
    with tf.device("/CPU:0"):
        layer = L.LSTM(U, use_cudnn=True)
        with pytest.raises(ValueError, match="offers no cuDNN kernel"):
            layer(tf.constant(X.astype("float32")))
        auto = L.LSTM(U)
        auto(tf.constant(X.astype("float32")))
        assert auto.last_kernel == "fused"
