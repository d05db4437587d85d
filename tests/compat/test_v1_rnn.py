"""tf.compat.v1.nn's TF1 RNN API: rnn_cell cells and the dynamic/static/raw loops.

References are NumPy implementations of the TF1 cell equations; variable names and
a few numbers were taken from TF 2.21 (tensorflow.python.ops.rnn_cell_impl).
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.compat import v1_rnn_fused
from tests.helpers import numeric_grad

v1 = tf.compat.v1
rc = v1.nn.rnn_cell


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---------------------------------------------------------------- NumPy cells
def _np_basic_rnn(w, x, h, act=np.tanh):
    out = act(np.concatenate([x, h], 1) @ w["kernel"] + w["bias"])
    return out, out


def _np_basic_lstm(w, x, state, forget_bias=1.0):
    c, h = state
    i, j, f, o = np.split(np.concatenate([x, h], 1) @ w["kernel"] + w["bias"], 4, 1)
    c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * _sigmoid(o)
    return h, (c, h)


def _np_lstm_full(w, x, state, cell_clip, proj_clip):
    c_prev, m_prev = state
    i, j, f, o = np.split(np.concatenate([x, m_prev], 1) @ w["kernel"] + w["bias"], 4, 1)
    c = (_sigmoid(f + 1.0 + w["w_f_diag"] * c_prev) * c_prev
         + _sigmoid(i + w["w_i_diag"] * c_prev) * np.tanh(j))
    c = np.clip(c, -cell_clip, cell_clip)
    m = _sigmoid(o + w["w_o_diag"] * c) * np.tanh(c)
    m = np.clip(m @ w["projection/kernel"], -proj_clip, proj_clip)
    return m, (c, m)


def _np_gru(w, x, h):
    r, u = np.split(_sigmoid(np.concatenate([x, h], 1) @ w["gates/kernel"]
                             + w["gates/bias"]), 2, 1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ w["candidate/kernel"]
                + w["candidate/bias"])
    new = u * h + (1 - u) * c
    return new, new


def _np_dynamic_rnn(step, x, state, lengths=None):
    """Batch-major NumPy loop with TF1's sequence_length semantics."""
    outs = []
    for t in range(x.shape[1]):
        out, new = step(x[:, t], state)
        if lengths is not None:
            keep = (t < lengths)[:, None]
            out = np.where(keep, out, 0)
            new = tuple(np.where(keep, n, s) for n, s in zip(_tuple(new),
                                                            _tuple(state)))
            new = new if isinstance(state, tuple) else new[0]
        outs.append(out)
        state = new
    return np.stack(outs, 1), state


def _tuple(s):
    return s if isinstance(s, tuple) else (s,)


def _weights(cell, seed=0):
    """Random values assigned to the cell's variables; {short name: array}."""
    rng = np.random.default_rng(seed)
    out = {}
    for v in cell.variables:
        value = rng.uniform(-0.6, 0.6, tuple(v.shape)).astype(v.dtype.as_numpy_dtype)
        v.assign(value)
        out[v.name[:-2].split(cell._base_name + "/", 1)[1]] = value
    return out


X = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
LENGTHS = np.array([2, 4, 1], np.int32)

CASES = {
    "basic_rnn": (lambda: rc.BasicRNNCell(3),
                  lambda w, x, s: _np_basic_rnn(w, x, s),
                  ["rnn/basic_rnn_cell/kernel:0", "rnn/basic_rnn_cell/bias:0"]),
    "basic_rnn_relu": (lambda: rc.BasicRNNCell(3, activation=tf.nn.relu),
                       lambda w, x, s: _np_basic_rnn(w, x, s, lambda a: np.maximum(a, 0)),
                       ["rnn/basic_rnn_cell/kernel:0", "rnn/basic_rnn_cell/bias:0"]),
    "basic_lstm": (lambda: rc.BasicLSTMCell(3, forget_bias=0.5),
                   lambda w, x, s: _np_basic_lstm(w, x, s, 0.5),
                   ["rnn/basic_lstm_cell/kernel:0", "rnn/basic_lstm_cell/bias:0"]),
    "lstm_full": (lambda: rc.LSTMCell(3, use_peepholes=True, cell_clip=0.5, num_proj=2,
                                      proj_clip=0.3),
                  lambda w, x, s: _np_lstm_full(w, x, s, 0.5, 0.3),
                  ["rnn/lstm_cell/kernel:0", "rnn/lstm_cell/bias:0",
                   "rnn/lstm_cell/w_f_diag:0", "rnn/lstm_cell/w_i_diag:0",
                   "rnn/lstm_cell/w_o_diag:0", "rnn/lstm_cell/projection/kernel:0"]),
    "gru": (lambda: rc.GRUCell(3), lambda w, x, s: _np_gru(w, x, s),
            ["rnn/gru_cell/gates/kernel:0", "rnn/gru_cell/gates/bias:0",
             "rnn/gru_cell/candidate/kernel:0", "rnn/gru_cell/candidate/bias:0"]),
}


def _np_state(state):
    if isinstance(state, tuple):
        return tuple(s.numpy() for s in state)
    return state.numpy()


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_dynamic_rnn_matches_numpy_cell(case, lengths):
    make, step, names = CASES[case]
    cell = make()
    _, zero = v1.nn.dynamic_rnn(cell, X, dtype=tf.float32)   # builds the variables
    assert [v.name for v in cell.variables] == names           # as TF 2.21 names them
    w = _weights(cell)
    out, state = v1.nn.dynamic_rnn(cell, X, sequence_length=lengths, dtype=tf.float32)
    init = tuple(np.zeros(tuple(s.shape), np.float32) for s in _tuple(zero))
    init = init if isinstance(zero, tuple) else init[0]
    ref_out, ref_state = _np_dynamic_rnn(lambda x, s: step(w, x, s), X, init, lengths)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-5, atol=1e-6)
    for got, ref in zip(_tuple(_np_state(state)), _tuple(ref_state)):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    # static_rnn runs the same loop over a list of timesteps
    outs, _sstate = v1.nn.static_rnn(cell, [X[:, t] for t in range(4)],
                                    sequence_length=lengths, dtype=tf.float32)
    np.testing.assert_allclose(np.stack([o.numpy() for o in outs], 1), ref_out,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["basic_rnn", "basic_lstm", "gru"])
def test_fused_path_equals_step_loop(case, monkeypatch):
    cell = CASES[case][0]()
    v1.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    _weights(cell, seed=3)
    assert v1_rnn_fused._kind(cell) is not None
    fused = v1.nn.dynamic_rnn(cell, X, sequence_length=LENGTHS, dtype=tf.float32)
    monkeypatch.setattr(v1_rnn_fused, "_kind", lambda cell: None)
    looped = v1.nn.dynamic_rnn(cell, X, sequence_length=LENGTHS, dtype=tf.float32)
    for a, b in zip(tf.nest.flatten(fused), tf.nest.flatten(looped)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_values_match_tf():
    x = (np.arange(12).reshape(2, 3, 2) / 6.0 - 0.5).astype(np.float32)
    expected = {   # TF 2.21, variables set to linspace(-0.5, 0.7)
        rc.BasicLSTMCell: ([[0.02724, 0.0758303], [0.0099006, 0.1001041],
                            [-0.0398297, 0.0743756]],
                           [[-0.0736003, -0.0496969], [-0.1268157, -0.1071699], [0, 0]],
                           [[-0.0624896, 0.1095023], [-0.2255861, -0.1721675]]),
        rc.GRUCell: ([[-0.0747257, 0.2142956], [-0.1802597, 0.3510183],
                      [-0.3111654, 0.4350391]],
                     [[-0.3265688, 0.1749532], [-0.5543506, 0.2675749], [0, 0]],
                     [[-0.3111654, 0.4350391], [-0.5543506, 0.2675749]]),
    }
    for cls, (out0, out1, first_state) in expected.items():
        cell = cls(2)
        v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        for v in cell.variables:
            n = int(np.prod(v.shape))
            v.assign(np.linspace(-0.5, 0.7, n).reshape(tuple(v.shape)))
        out, state = v1.nn.dynamic_rnn(cell, x, sequence_length=[3, 2],
                                       dtype=tf.float32)
        np.testing.assert_allclose(out.numpy(), [out0, out1], atol=2e-7)
        np.testing.assert_allclose(tf.nest.flatten(state)[0].numpy(), first_state,
                                   atol=2e-7)


def test_state_layouts_time_major_and_initial_state():
    cell = rc.BasicLSTMCell(3, state_is_tuple=False)
    assert cell.state_size == 6 and cell.output_size == 3
    out, state = v1.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    assert tuple(state.shape) == (3, 6)
    np.testing.assert_allclose(state.numpy()[:, 3:], out.numpy()[:, -1], rtol=1e-6)
    cell = rc.LSTMCell(4, num_proj=2)
    assert cell.state_size == rc.LSTMStateTuple(4, 2) and cell.output_size == 2
    zero = cell.zero_state(3, tf.float32)
    assert isinstance(zero, rc.LSTMStateTuple) and tuple(zero.h.shape) == (3, 2)
    # time-major input gives the transposed outputs; initial_state is used
    gru = rc.GRUCell(2)
    init = tf.constant(np.full((3, 2), 0.3, np.float32))
    bm, _bm_state = v1.nn.dynamic_rnn(gru, X, initial_state=init)
    tm, _tm_state = v1.nn.dynamic_rnn(gru, np.transpose(X, (1, 0, 2)),
                                     initial_state=init, time_major=True)
    assert tuple(tm.shape) == (4, 3, 2)
    np.testing.assert_allclose(np.transpose(tm.numpy(), (1, 0, 2)), bm.numpy(),
                               rtol=1e-6)
    w = {v.name[:-2].split("gru_cell/")[1]: v.numpy() for v in gru.variables}
    ref, _ = _np_dynamic_rnn(lambda x, s: _np_gru(w, x, s), X, init.numpy())
    np.testing.assert_allclose(bm.numpy(), ref, rtol=1e-5, atol=1e-6)


def test_multi_rnn_cell_and_scopes():
    cell = rc.MultiRNNCell([rc.BasicLSTMCell(3), rc.GRUCell(2)])
    assert cell.state_size == (rc.LSTMStateTuple(3, 3), 2) and cell.output_size == 2
    with v1.variable_scope("enc"):
        out, state = v1.nn.dynamic_rnn(cell, X, dtype=tf.float32, scope="layer")
    assert [v.name for v in cell.variables] == [   # TF 2.21's names
        "enc/layer/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0",
        "enc/layer/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0",
        "enc/layer/multi_rnn_cell/cell_1/gru_cell/gates/kernel:0",
        "enc/layer/multi_rnn_cell/cell_1/gru_cell/gates/bias:0",
        "enc/layer/multi_rnn_cell/cell_1/gru_cell/candidate/kernel:0",
        "enc/layer/multi_rnn_cell/cell_1/gru_cell/candidate/bias:0"]
    assert tuple(out.shape) == (3, 4, 2) and isinstance(state[0], rc.LSTMStateTuple)
    flat = rc.MultiRNNCell([rc.GRUCell(2), rc.GRUCell(2)], state_is_tuple=False)
    _, fstate = v1.nn.dynamic_rnn(flat, X, dtype=tf.float32)
    assert flat.state_size == 4 and tuple(fstate.shape) == (3, 4)
    named = rc.BasicRNNCell(3, name="foo")
    v1.nn.dynamic_rnn(named, X, dtype=tf.float32)
    assert [v.name for v in named.variables] == ["rnn/foo/kernel:0", "rnn/foo/bias:0"]


def test_gradient_matches_finite_differences():
    x = X[:2, :3].astype(np.float64)
    cell = rc.BasicLSTMCell(2, dtype=tf.float64)
    v1.nn.dynamic_rnn(cell, x, dtype=tf.float64)
    kernel, _bias = cell.variables
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((2, 3, 2))

    def loss(kernel_value):
        kernel.assign(kernel_value)
        out, _ = v1.nn.dynamic_rnn(cell, x, sequence_length=[3, 2], dtype=tf.float64)
        return float(np.sum(out.numpy() * weight))

    k0 = rng.uniform(-0.5, 0.5, tuple(kernel.shape))
    expect = numeric_grad(loss, [k0.copy()], 0)
    kernel.assign(k0)
    with tf.GradientTape() as tape:
        out, _ = v1.nn.dynamic_rnn(cell, x, sequence_length=[3, 2], dtype=tf.float64)
        total = tf.reduce_sum(out * weight)
    grads = tape.gradient(total, cell.trainable_variables)
    np.testing.assert_allclose(grads[0].numpy(), expect, rtol=1e-6, atol=1e-9)
    assert grads[1] is not None


def test_eager_equals_function():
    cell = rc.MultiRNNCell([rc.BasicLSTMCell(3), rc.LSTMCell(2, use_peepholes=True)])
    v1.nn.dynamic_rnn(cell, X, dtype=tf.float32)

    @tf.function
    def run(x, lengths):
        out, state = v1.nn.dynamic_rnn(cell, x, sequence_length=lengths,
                                       dtype=tf.float32)
        return out, state[1].h

    eager = v1.nn.dynamic_rnn(cell, X, sequence_length=LENGTHS, dtype=tf.float32)
    traced = run(tf.constant(X), tf.constant(LENGTHS))
    np.testing.assert_allclose(traced[0].numpy(), eager[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(traced[1].numpy(), eager[1][1].h.numpy(), rtol=1e-6)


def test_training_loop_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6, 1)).astype(np.float32)
    y = x.sum(axis=(1, 2))[:, None].astype(np.float32)    # running sum of the inputs
    cell = rc.BasicLSTMCell(8)
    readout = tf.Variable(rng.standard_normal((8, 1)).astype(np.float32) * 0.1)
    opt = tf.keras.optimizers.Adam(0.05)

    def loss_value():
        _out, state = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        return tf.reduce_mean(tf.square(tf.matmul(state.h, readout) - y))

    first = float(loss_value())
    for _ in range(60):
        with tf.GradientTape() as tape:
            loss = loss_value()
        variables = cell.trainable_variables + [readout]
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
    assert float(loss_value()) < 0.3 * first


def test_keras_model_tracks_cell_variables():
    class Model(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.cell = rc.GRUCell(4)

        def call(self, x):
            return v1.nn.dynamic_rnn(self.cell, x, dtype=tf.float32)[1]

    model = Model()
    assert tuple(model(X).shape) == (3, 4)
    assert len(model.trainable_variables) == 4


def test_bidirectional_rnns():
    fw, bw = rc.GRUCell(3), rc.BasicLSTMCell(2)
    v1.nn.bidirectional_dynamic_rnn(fw, bw, X, dtype=tf.float32)
    assert [v.name for v in fw.variables + bw.variables] == [   # TF 2.21's names
        "bidirectional_rnn/fw/gru_cell/gates/kernel:0",
        "bidirectional_rnn/fw/gru_cell/gates/bias:0",
        "bidirectional_rnn/fw/gru_cell/candidate/kernel:0",
        "bidirectional_rnn/fw/gru_cell/candidate/bias:0",
        "bidirectional_rnn/bw/basic_lstm_cell/kernel:0",
        "bidirectional_rnn/bw/basic_lstm_cell/bias:0"]
    wf, wb = _weights(fw, 5), _weights(bw, 6)
    (out_fw, out_bw), (state_fw, state_bw) = v1.nn.bidirectional_dynamic_rnn(
        fw, bw, X, sequence_length=LENGTHS, dtype=tf.float32)
    ref_fw, ref_sfw = _np_dynamic_rnn(lambda x, s: _np_gru(wf, x, s), X,
                                      np.zeros((3, 3), np.float32), LENGTHS)
    reverse = np.stack([np.concatenate([X[b, :n][::-1], X[b, n:]])
                        for b, n in enumerate(LENGTHS)])
    zeros = (np.zeros((3, 2), np.float32),) * 2
    ref_bw, ref_sbw = _np_dynamic_rnn(lambda x, s: _np_basic_lstm(wb, x, s), reverse,
                                      zeros, LENGTHS)
    ref_bw = np.stack([np.concatenate([ref_bw[b, :n][::-1], ref_bw[b, n:]])
                       for b, n in enumerate(LENGTHS)])
    for got, ref in [(out_fw, ref_fw), (state_fw, ref_sfw), (out_bw, ref_bw),
                     (state_bw.c, ref_sbw[0]), (state_bw.h, ref_sbw[1])]:
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-6)
    # the static form, with the same cells, concatenates both directions per step
    outs, _sfw, sbw = v1.nn.static_bidirectional_rnn(
        fw, bw, [X[:, t] for t in range(4)], sequence_length=LENGTHS, dtype=tf.float32)
    np.testing.assert_allclose(np.stack([o.numpy() for o in outs], 1),
                               np.concatenate([ref_fw, ref_bw], 2), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(sbw.h.numpy(), ref_sbw[1], rtol=1e-5, atol=1e-6)


def test_raw_rnn_equals_dynamic_rnn():
    cell = rc.BasicLSTMCell(3)
    time_major = np.transpose(X, (1, 0, 2))
    lengths = tf.constant(LENGTHS)

    def loop_fn(time, cell_output, cell_state, loop_state):
        state = cell.zero_state(3, tf.float32) if cell_output is None else cell_state
        finished = time >= lengths
        next_input = tf.zeros([3, 5]) if time >= 4 else tf.constant(time_major[time])
        return finished, next_input, state, cell_output, loop_state

    emit_ta, final_state, loop_state = v1.nn.raw_rnn(cell, loop_fn)
    out, state = v1.nn.dynamic_rnn(cell, time_major, sequence_length=LENGTHS,
                                   dtype=tf.float32, time_major=True)
    np.testing.assert_allclose(emit_ta.stack().numpy(), out.numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(final_state.h.numpy(), state.h.numpy(), rtol=1e-5,
                               atol=1e-6)
    assert loop_state is None


def test_static_state_saving_rnn():
    class Saver:
        def __init__(self):
            self.saved = {"c": tf.zeros([3, 2]), "h": tf.ones([3, 2])}

        def state(self, name):
            return self.saved[name]

        def save_state(self, name, value):
            self.saved[name] = value

    saver, cell = Saver(), rc.BasicLSTMCell(2)
    steps = [X[:, t] for t in range(4)]
    outs, _state = v1.nn.static_state_saving_rnn(cell, steps, saver, ("c", "h"))
    ref, ref_state = v1.nn.static_rnn(
        cell, steps, initial_state=rc.LSTMStateTuple(tf.zeros([3, 2]), tf.ones([3, 2])))
    np.testing.assert_allclose(outs[-1].numpy(), ref[-1].numpy(), rtol=1e-6)
    np.testing.assert_allclose(saver.saved["h"].numpy(), ref_state.h.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="state_name"):
        v1.nn.static_state_saving_rnn(cell, steps, saver, "c")
    with pytest.raises(TypeError, match="state_saver must have"):
        v1.nn.static_state_saving_rnn(cell, steps, object(), ("c", "h"))


def test_wrappers():
    inner = rc.BasicLSTMCell(3)
    wrapped = rc.DropoutWrapper(inner, output_keep_prob=1.0)
    out, _state = v1.nn.dynamic_rnn(wrapped, X, dtype=tf.float32)
    assert [v.name for v in inner.variables] == ["rnn/basic_lstm_cell/kernel:0",
                                                 "rnn/basic_lstm_cell/bias:0"]
    ref, _ref_state = v1.nn.dynamic_rnn(inner, X, dtype=tf.float32)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    # TF1's default state filter: dropout reaches h, never an LSTM's c
    cell = rc.DropoutWrapper(inner, state_keep_prob=0.5, seed=1)
    zero = inner.zero_state(3, tf.float32)
    _, new = cell(tf.constant(X[:, 0]), zero)
    _, plain = inner(tf.constant(X[:, 0]), zero)
    np.testing.assert_allclose(new.c.numpy(), plain.c.numpy(), rtol=1e-6)
    h, ph = new.h.numpy(), plain.h.numpy()
    assert np.all((h == 0) | np.isclose(h, 2 * ph))
    res = rc.ResidualWrapper(rc.BasicRNNCell(5))
    out, _ = v1.nn.dynamic_rnn(res, X, dtype=tf.float32)
    ref, _ = v1.nn.dynamic_rnn(res.cell, X, dtype=tf.float32)
    np.testing.assert_allclose(out.numpy(), ref.numpy() + X, rtol=1e-5, atol=1e-6)
    dev = rc.DeviceWrapper(rc.GRUCell(2), "/cpu:0")
    assert tuple(v1.nn.dynamic_rnn(dev, X, dtype=tf.float32)[0].shape) == (3, 4, 2)
    with pytest.raises(ValueError, match="input_keep_prob"):
        rc.DropoutWrapper(inner, input_keep_prob=1.5)


def test_errors():
    with pytest.raises(ValueError, match="dtype"):
        v1.nn.dynamic_rnn(rc.BasicRNNCell(3), X)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        v1.nn.dynamic_rnn(lambda a, b: a, X, dtype=tf.float32)
    with pytest.raises(ValueError, match="at least one cell"):
        rc.MultiRNNCell([])
    with pytest.raises(ValueError, match="num_units"):
        rc.BasicLSTMCell(0)
    with pytest.raises(ValueError, match="sequence_length"):
        v1.nn.dynamic_rnn(rc.BasicRNNCell(3), X, sequence_length=[[1, 2, 3]],
                          dtype=tf.float32)
    with pytest.raises(ValueError, match="must not be empty"):
        v1.nn.static_rnn(rc.BasicRNNCell(3), [], dtype=tf.float32)
    with pytest.raises(TypeError, match="loop_fn"):
        v1.nn.raw_rnn(rc.BasicRNNCell(3), None)


def test_cells_run_inside_keras_rnn_layer():
    for cell in (rc.GRUCell(4), rc.BasicLSTMCell(4)):
        layer = tf.keras.layers.RNN(cell)
        out = layer(X)
        ref, _ = v1.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        np.testing.assert_allclose(out.numpy(), ref.numpy()[:, -1], rtol=1e-5,
                                   atol=1e-6)
        assert len(layer.trainable_variables) == len(cell.variables)
