"""Higher-order derivatives through the fused RNN kernels (ops/rnn.py): while a tape
or a ForwardAccumulator records their backward pass, the gradient rules run the
differentiable per-step fallback of ops/rnn_steps.py, so gradient penalties and
JVPs are values (they were None), checked against float64 central differences of
the first-order gradient (or of the forward, for JVPs), eager and compiled, for
LSTM, GRU (reset_after both ways) and SimpleRNN with masks and go_backwards.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import rnn, rnn_steps
from tests.helpers import numeric_grad

B, T, F, U = 2, 4, 3, 2
# sample 1 is masked at its first step (output zeros) and sample 0 at its last
MASK = np.array([[1, 1, 0, 0], [0, 1, 1, 0]], bool)


def _shapes(kind):
    gates = {"lstm": 4, "gru": 3, "gru_ra0": 3, "rnn": 1}[kind]
    bias = (2, 3 * U) if kind == "gru" else (gates * U,)
    return [(F, gates * U), (U, gates * U), bias]


def _arrays(kind, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s) * 0.6 for s in _shapes(kind)]
    return [rng.standard_normal((B, T, F)), rng.standard_normal((B, U))] + weights


def _run(kind, x, h0, kernel, rkernel, bias, mask=None, go_backwards=False):
    """The fused op's outputs (sequence, final states)."""
    mask = None if mask is None else tf.constant(mask)
    if kind == "lstm":
        return rnn.lstm(x, h0, h0 * 0.5, kernel, rkernel, bias, mask=mask,
                        go_backwards=go_backwards)
    if kind == "rnn":
        return rnn.simple_rnn(x, h0, kernel, rkernel, bias, mask=mask,
                              go_backwards=go_backwards)
    return rnn.gru(x, h0, kernel, rkernel, bias, mask=mask, go_backwards=go_backwards,
                   reset_after=kind == "gru")


def _loss(outs, seed=1):
    """A weighted sum of every output, so each one's gradient path is exercised."""
    rng = np.random.default_rng(seed)
    return tf.add_n([tf.reduce_sum(o * tf.constant(rng.standard_normal(tuple(o.shape))))
                     for o in outs])


def _input_grad(kind, arrays, mask, back):
    """d loss / d (x, h0) with the fused kernels (no outer tape)."""
    xs = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        tape.watch(xs[:2])
        loss = _loss(_run(kind, *xs, mask=mask, go_backwards=back))
    return tape.gradient(loss, xs[:2])


def _penalty(grads):
    return tf.reduce_sum(grads[0] ** 2) + tf.reduce_sum(tf.sin(grads[1]))


def _penalty_and_grads(kind, xs, mask, back):
    """(penalty of the input grads, its grads w.r.t. every input), nested tapes."""
    with tf.GradientTape() as outer:
        outer.watch(xs)
        with tf.GradientTape() as inner:
            inner.watch(xs[:2])
            loss = _loss(_run(kind, *xs, mask=mask, go_backwards=back))
        p = _penalty(inner.gradient(loss, xs[:2]))
    return p, outer.gradient(p, xs)


CASES = [(kind, mask, back) for kind in ("lstm", "gru", "gru_ra0", "rnn")
         for mask, back in ((False, False), (True, True), (True, False))]


@pytest.mark.parametrize("kind,use_mask,back", CASES)
def test_second_order_matches_finite_differences(kind, use_mask, back):
    arrays = _arrays(kind)
    mask = MASK if use_mask else None

    def penalty(*arrs):
        return float(_penalty(_input_grad(kind, arrs, mask, back)).numpy())

    xs = [tf.constant(a) for a in arrays]
    p, grads = _penalty_and_grads(kind, xs, mask, back)
    # the fallback's first-order values are the fused kernel's
    np.testing.assert_allclose(p.numpy(), penalty(*arrays), rtol=1e-12)
    for i, g in enumerate(grads):
        assert g is not None, f"second-order gradient w.r.t. input {i} is None"
        expect = numeric_grad(penalty, [a.copy() for a in arrays], i, eps=1e-6)
        np.testing.assert_allclose(g.numpy(), expect, rtol=1e-5, atol=1e-7,
                                   err_msg=f"{kind}: input {i}")


@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_ra0", "rnn"])
def test_second_order_in_function_matches_eager(kind):
    xs = [tf.constant(a) for a in _arrays(kind, seed=3)]
    eager = _penalty_and_grads(kind, xs, MASK, True)
    graph = tf.function(lambda *a: _penalty_and_grads(kind, list(a), MASK, True))(*xs)
    np.testing.assert_allclose(graph[0].numpy(), eager[0].numpy(), rtol=1e-10)
    for g, e in zip(graph[1], eager[1]):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


def _jvps(kind, xs, tangents, mask, back):
    """(JVP of the outputs, JVP of the input grads: forward over reverse)."""
    with tf.autodiff.ForwardAccumulator(xs, tangents) as acc:
        with tf.GradientTape() as tape:
            tape.watch(xs[:2])
            outs = _run(kind, *xs, mask=mask, go_backwards=back)
            loss = _loss(outs)
        grads = tape.gradient(loss, xs[:2])
    return [acc.jvp(o) for o in outs], [acc.jvp(g) for g in grads]


@pytest.mark.parametrize("kind,use_mask,back", CASES)
def test_jvp_matches_finite_differences(kind, use_mask, back):
    arrays = _arrays(kind, seed=5)
    rng = np.random.default_rng(6)
    tangent_arrays = [rng.standard_normal(a.shape) for a in arrays]
    mask = MASK if use_mask else None
    xs = [tf.constant(a) for a in arrays]
    out_jvps, grad_jvps = _jvps(kind, xs, [tf.constant(v) for v in tangent_arrays],
                                mask, back)
    eps = 1e-6

    def shifted(sign):
        return [tf.constant(a + sign * eps * v) for a, v in zip(arrays, tangent_arrays)]

    ups, downs = _run(kind, *shifted(1), mask=mask, go_backwards=back), \
        _run(kind, *shifted(-1), mask=mask, go_backwards=back)
    for j, up, down in zip(out_jvps, ups, downs):
        assert j is not None
        expect = (up.numpy() - down.numpy()) / (2 * eps)
        np.testing.assert_allclose(j.numpy(), expect, rtol=1e-5, atol=1e-7)
    g_up = _input_grad(kind, [s.numpy() for s in shifted(1)], mask, back)
    g_down = _input_grad(kind, [s.numpy() for s in shifted(-1)], mask, back)
    for j, up, down in zip(grad_jvps, g_up, g_down):
        assert j is not None
        expect = (up.numpy() - down.numpy()) / (2 * eps)
        np.testing.assert_allclose(j.numpy(), expect, rtol=1e-5, atol=1e-7)


def test_jvp_in_function_matches_eager():
    xs = [tf.constant(a) for a in _arrays("lstm", seed=7)]
    tangents = [tf.ones_like(x) for x in xs]

    def f(*a):
        outs, grads = _jvps("lstm", list(a), tangents, MASK, False)
        return outs + grads

    eager, graph = f(*xs), tf.function(f)(*xs)
    for g, e in zip(graph, eager):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


def test_shared_initial_state_gets_both_gradients():
    # the same tensor as h0 and c0: the fallback must count each place once
    x, h0, kernel, rkernel, bias = [tf.constant(a) for a in _arrays("lstm")]

    def grad_wrt_state(outer_tape):
        with tf.GradientTape() as inner:
            inner.watch(h0)
            outs = rnn.lstm(x, h0, h0, kernel, rkernel, bias)
            loss = _loss(outs)
        if outer_tape is not None:
            outer_tape.watch(kernel)
        return inner.gradient(loss, h0)

    fused = grad_wrt_state(None)
    with tf.GradientTape() as outer:
        fallback = grad_wrt_state(outer)
        p = tf.reduce_sum(fallback ** 2)
    np.testing.assert_allclose(fallback.numpy(), fused.numpy(), rtol=1e-12)
    assert outer.gradient(p, kernel) is not None


def test_plain_training_keeps_the_fused_gradient(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("fallback used without a recording tape")

    monkeypatch.setattr(rnn_steps, "vjp", fail)
    layer = tf.keras.layers.LSTM(U)
    x = tf.constant(np.random.default_rng(0).standard_normal((B, T, F)), tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    assert all(g is not None for g in tape.gradient(loss, layer.trainable_variables))
    # an outer tape watching nothing the RNN reads does not switch paths either
    with tf.GradientTape(watch_accessed_variables=False) as outer:
        outer.watch(tf.constant(1.0))
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x) ** 2)
        tape.gradient(loss, layer.trainable_variables[0])
    del outer


# Sums of the gradient penalty's grads per weight, and of the JVP along v, for Keras
# layers with the weights below: from TensorFlow 2.21 (Keras 3).
TF_ORACLE = {
    "lstm": ([0.037011, 0.038973, 0.621746], 0.063143),
    "gru": ([-1.733006, 0.109254, 0.162933], 1.201083),
    "gru_ra0": ([-1.184278, 1.655662, -2.343599], -0.728052),
    "rnn": ([-6.369816, -0.58613, 1.071513], 0.297479),
}


def test_keras_layers_match_tensorflow():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((2, 4, 3)))
    makers = {
        "lstm": lambda: tf.keras.layers.LSTM(3, dtype="float64"),
        "gru": lambda: tf.keras.layers.GRU(3, dtype="float64"),
        "gru_ra0": lambda: tf.keras.layers.GRU(3, reset_after=False, dtype="float64"),
        "rnn": lambda: tf.keras.layers.SimpleRNN(3, dtype="float64"),
    }
    for name, make in makers.items():   # one RNG stream, in this order (as in TF)
        layer = make()
        layer.build((2, 4, 3))
        for w in layer.weights:
            w.assign(rng.standard_normal(tuple(w.shape)) * 0.5)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = layer(x)
            p = tf.reduce_sum(inner.gradient(y, x) ** 2)
        sums = [float(tf.reduce_sum(g)) for g in
                outer.gradient(p, layer.trainable_variables)]
        v = tf.constant(rng.standard_normal((2, 4, 3)))
        with tf.autodiff.ForwardAccumulator(x, v) as acc:
            y = layer(x)
        expect_sums, expect_jvp = TF_ORACLE[name]
        np.testing.assert_allclose(sums, expect_sums, rtol=1e-5, atol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(float(tf.reduce_sum(acc.jvp(y))), expect_jvp,
                                   rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("cell_kind,back", [("lstm", False), ("lstm", True),
                                            ("gru", False), ("gru", True)])
def test_cudnn_gradient_rule_falls_back_to_ops_under_a_tape(cell_kind, back):
    # the GPU primitive's rule (ops/rnn_cudnn.py) takes the same fallback; run on
    # CPU tensors with a recording tape it never reaches cuDNN, and its gradients
    # are the fused kernel's (cuDNN's right-padded masks as Keras masking)
    from dlframe.ops import rnn_cudnn

    kind = "lstm" if cell_kind == "lstm" else "gru"
    arrays = _arrays(kind, seed=9)
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    x, h0, kernel, rkernel, bias = [tf.constant(a) for a in arrays]
    c0 = h0 * 0.5
    outs = _run(kind, x, h0, kernel, rkernel, bias, mask=mask, go_backwards=back)
    rng = np.random.default_rng(2)
    dys = [tf.constant(rng.standard_normal(tuple(o.shape))) for o in outs]
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        vjp_inputs = (x, h0, c0, kernel, rkernel, bias, tf.constant(mask))
        fallback = rnn_cudnn._cudnn_rnn_grad(vjp_inputs, None, dys, cell_kind=cell_kind,
                                             go_backwards=back, training=True)
        p = tf.reduce_sum(fallback[0] ** 2)
    assert tape.gradient(p, kernel) is not None
    with tf.GradientTape() as plain:
        plain.watch([x, h0, c0, kernel, rkernel, bias])
        if kind == "lstm":
            outs = rnn.lstm(x, h0, c0, kernel, rkernel, bias, mask=tf.constant(mask),
                            go_backwards=back)
        else:
            outs = _run(kind, x, h0, kernel, rkernel, bias, mask=mask, go_backwards=back)
        loss = tf.add_n([tf.reduce_sum(o * d) for o, d in zip(outs, dys)])
    fused = plain.gradient(loss, [x, h0, c0, kernel, rkernel, bias],
                           unconnected_gradients="zero")
    for k, (got, expect) in enumerate(zip(fallback, fused)):
        np.testing.assert_allclose(got.numpy(), expect.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=f"input {k}")
