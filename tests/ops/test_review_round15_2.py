"""Review of the gate-major LSTM/GRU kernels (ops/rnn.py, ops/rnn_gates.py): option
paths the kernel tests leave out (all-masked samples, no bias, non-default gate
activations, zero-length and empty batches), saturated and float16 gates, +0.0
outputs before a sample's first valid step, buffers that outlive later calls, and
replicas running the kernels in threads."""

import threading

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import rnn
from tests.helpers import check_grad
from tests.ops.test_rnn import ref_gru, ref_lstm

RNG = np.random.default_rng(152)
# sample 1 never has a valid step; sample 0 ends padded
MASK = np.array([[1, 1, 0], [0, 0, 0]], bool)


def _w(*shape, scale=0.6):
    return RNG.standard_normal(shape) * scale


def _args(kind, B=2, T=3, F=2, U=2, scale=0.6):
    if kind == "lstm":
        return [_w(B, T, F, scale=scale), _w(B, U, scale=scale), _w(B, U, scale=scale),
                _w(F, 4 * U, scale=scale), _w(U, 4 * U, scale=scale),
                _w(4 * U, scale=scale)]
    bias = (2, 3 * U) if kind == "gru_after" else (3 * U,)
    return [_w(B, T, F, scale=scale), _w(B, U, scale=scale), _w(F, 3 * U, scale=scale),
            _w(U, 3 * U, scale=scale), _w(*bias, scale=scale)]


def _run(kind, arrays, mask=None, **kw):
    ts = [tf.constant(a) for a in arrays]
    m = None if mask is None else tf.constant(mask)
    if kind == "lstm":
        return rnn.lstm(*ts, mask=m, **kw)
    return rnn.gru(*ts, mask=m, reset_after=kind == "gru_after", **kw)


def _ref(kind, arrays, mask=None, act="tanh", ract="sigmoid", go_backwards=False):
    with np.errstate(over="ignore"):   # the reference's exp(-x) of saturated gates
        if kind == "lstm":
            return ref_lstm(*arrays, mask=mask, back=go_backwards, act=act, ract=ract)
        return ref_gru(*arrays, reset_after=kind == "gru_after", mask=mask,
                       back=go_backwards, act=act, ract=ract)


KINDS = ["lstm", "gru_after", "gru_before"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("act,ract", [("relu", "sigmoid"), ("sigmoid", "tanh"),
                                      ("linear", "hard_sigmoid")])
def test_all_masked_sample_without_bias_backwards(kind, act, ract):
    """Forward vs the NumPy reference and grads vs finite differences, with a
    sample that is masked at every step, no bias and go_backwards."""
    arrays = _args(kind)
    arrays[-1] = np.zeros_like(arrays[-1])
    kw = {"activation": act, "recurrent_activation": ract, "go_backwards": True}

    def f(*a):
        m = tf.constant(MASK)
        if kind == "lstm":
            return rnn.lstm(*a, None, mask=m, **kw)
        return rnn.gru(*a, None, mask=m, reset_after=kind == "gru_after", **kw)
    outs = f(*[tf.constant(a) for a in arrays[:-1]])
    for o, e in zip(outs, _ref(kind, arrays, MASK, act, ract, True)):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-10, atol=1e-12)
    # the all-masked sample keeps its initial state and outputs zeros
    np.testing.assert_array_equal(outs[1].numpy()[1], arrays[1][1])
    assert not outs[0].numpy()[1].any()
    check_grad(f, arrays[:-1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_outputs_before_first_valid_step_are_positive_zero(kind):
    """Keras (TF 2.21) gives +0.0 for masked steps before a sample's first valid
    one; multiplying a negative output by False used to leave -0.0."""
    # positive inputs, negative weights and states: negative outputs
    arrays = [-np.abs(a) for a in _args(kind, B=1, T=3, F=1, U=2)]
    arrays[0] = -arrays[0]
    mask = np.array([[False, True, True]])
    ys = _run(kind, arrays, mask, recurrent_activation="hard_sigmoid")[0].numpy()
    assert (ys[0, 1:] < 0).any()                  # the first step's output was negative
    assert ys[0, 0].tolist() == [0.0, 0.0] and not np.signbit(ys[0, 0]).any()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype,scale,tol", [(np.float32, 30.0, 1e-5),
                                             (np.float16, 30.0, None),
                                             (np.float16, 0.6, 1e-2)])
def test_saturated_gates_stay_finite_and_match_reference(kind, dtype, scale, tol):
    """|pre-activations| in the hundreds: the tanh-form sigmoid rounds the gates to
    exactly 0/1; outputs and gradients stay finite and agree with float64 (float16
    only at a moderate scale: sums of terms in the thousands cancel there)."""
    arrays = _args(kind, B=3, T=4, F=3, U=3, scale=scale)
    ts = [tf.constant(a.astype(dtype)) for a in arrays]
    with tf.GradientTape() as tape:
        tape.watch(ts)
        outs = rnn.lstm(*ts) if kind == "lstm" else rnn.gru(
            *ts, reset_after=kind == "gru_after")
        loss = sum(tf.reduce_sum(tf.cast(o, tf.float32)) for o in outs)
    grads = tape.gradient(loss, ts)
    expect = _ref(kind, [t.numpy().astype(np.float64) for t in ts])
    for o, e in zip(outs, expect):
        assert o.dtype == dtype and np.isfinite(o.numpy()).all()
        if tol is not None:
            np.testing.assert_allclose(o.numpy().astype(np.float64), e, rtol=tol,
                                       atol=tol)
    for g, t in zip(grads, ts):
        assert g.dtype == dtype and g.shape == t.shape
        assert np.isfinite(g.numpy()).all()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("B,T", [(2, 0), (0, 3), (1, 1)])
def test_empty_sequences_and_batches(kind, B, T):
    arrays = _args(kind, B=B, T=T, U=1)
    ts = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        tape.watch(ts)
        outs = rnn.lstm(*ts) if kind == "lstm" else rnn.gru(
            *ts, reset_after=kind == "gru_after")
        loss = sum(tf.reduce_sum(o * 2.0) for o in outs)
    grads = tape.gradient(loss, ts)
    assert outs[0].shape == (B, T, 1)
    for o, e in zip(outs, _ref(kind, arrays)):
        np.testing.assert_allclose(o.numpy(), np.asarray(e).reshape(o.shape),
                                   rtol=1e-10, atol=1e-12)
    for g, t in zip(grads, ts):
        assert g.shape == t.shape
    if T == 0:   # the final state is the initial one: its gradient is the seed
        np.testing.assert_array_equal(grads[1].numpy(), np.full((B, 1), 2.0))


@pytest.mark.parametrize("kind", KINDS)
def test_results_survive_later_calls_and_backward(kind):
    """Outputs (views of the kernels' state buffers) are not overwritten by a
    later forward or backward pass."""
    a1, a2 = _args(kind), _args(kind)
    ts = [tf.constant(a) for a in a1]
    with tf.GradientTape() as tape:
        tape.watch(ts)
        outs = rnn.lstm(*ts, mask=tf.constant(MASK)) if kind == "lstm" else rnn.gru(
            *ts, mask=tf.constant(MASK), reset_after=kind == "gru_after")
        loss = sum(tf.reduce_sum(o * o) for o in outs)
    kept = [o.numpy().copy() for o in outs]
    tape.gradient(loss, ts)
    _run(kind, a2, MASK)
    for o, k in zip(outs, kept):
        np.testing.assert_array_equal(o.numpy(), k)


@pytest.mark.parametrize("kind", KINDS)
def test_threads_running_the_kernels_agree_with_serial(kind):
    """MirroredStrategy runs replicas in threads: the kernels keep no shared
    buffers, so concurrent calls give the serial results."""
    inputs = [_args(kind, B=4, T=6, F=3, U=5) for _ in range(4)]

    def job(arrays):
        ts = [tf.constant(a.astype(np.float32)) for a in arrays]
        with tf.GradientTape() as tape:
            tape.watch(ts)
            outs = rnn.lstm(*ts) if kind == "lstm" else rnn.gru(
                *ts, reset_after=kind == "gru_after")
            loss = tf.reduce_sum(outs[0])
        return [o.numpy() for o in outs] + [g.numpy() for g in tape.gradient(loss, ts)]
    serial = [job(a) for a in inputs]
    results = [None] * len(inputs)

    def worker(i):
        for _ in range(5):
            results[i] = job(inputs[i])
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(inputs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for got, want in zip(results, serial):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
