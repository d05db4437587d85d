"""Recurrent layers vs NumPy references of the Keras equations: forward, masks,
go_backwards, states, return_sequences/return_state, stateful, wrappers, config."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import default_rnn_kernel
from tests.ops.test_rnn import ref_gru, ref_lstm

L = keras.layers
RNG = np.random.default_rng(3)
B, T, F, U = 3, 5, 4, 6
X = RNG.standard_normal((B, T, F)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 1, 0, 1]], bool)


def _set_random(layer, scale=0.5):
    ws = [RNG.standard_normal(tuple(w.shape)).astype("float32") * scale
          for w in layer.weights]
    layer.set_weights(ws)
    return [w.astype(np.float64) for w in ws]


def ref_simple(x, h, k, rk, b, mask=None, back=False, act=np.tanh):
    ys, prev = np.zeros((x.shape[0], x.shape[1], h.shape[1])), np.zeros_like(h)
    for s in (range(x.shape[1] - 1, -1, -1) if back else range(x.shape[1])):
        hn = act(x[:, s] @ k + h @ rk + b)
        if mask is not None:
            m = mask[:, s][:, None]
            hn, y = np.where(m, hn, h), np.where(m, hn, prev)
        else:
            y = hn
        ys[:, s], prev, h = y, y, hn
    return ys, h


def _keras_order(ys, back):
    """Reference outputs are indexed by input step; Keras returns processing order."""
    return ys[:, ::-1] if back else ys


@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
def test_lstm_matches_reference(back, use_mask):
    layer = L.LSTM(U, return_sequences=True, return_state=True, go_backwards=back)
    layer.build((B, T, F))
    k, rk, b = _set_random(layer)
    h0, c0 = RNG.standard_normal((2, B, U)).astype("float32")
    mask = MASK if use_mask else None
    out, h, c = layer(tf.constant(X), mask=None if mask is None else tf.constant(mask),
                      initial_state=[tf.constant(h0), tf.constant(c0)])
    ys, eh, ec = ref_lstm(X.astype(np.float64), h0, c0, k, rk, b, mask, back)
    np.testing.assert_allclose(out.numpy(), _keras_order(ys, back), atol=1e-5)
    np.testing.assert_allclose(h.numpy(), eh, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), ec, atol=1e-5)
    # cuDNN's kernel on a GPU; MASK is not right-padded, which only the fused one takes
    assert layer.last_kernel == ("fused" if use_mask else default_rnn_kernel("lstm"))
    # the cell loop (RNN(LSTMCell)) gives the same numbers
    loop = L.RNN(L.LSTMCell(U), return_sequences=True, return_state=True,
                 go_backwards=back)
    loop.build((B, T, F))
    loop.set_weights(layer.get_weights())
    lo = loop(tf.constant(X), mask=None if mask is None else tf.constant(mask),
              initial_state=[tf.constant(h0), tf.constant(c0)])
    assert loop.last_kernel == "loop"
    for a, e in zip(lo, (out, h, c)):
        np.testing.assert_allclose(a.numpy(), e.numpy(), atol=1e-5)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("back,use_mask", [(False, False), (True, True), (False, True)])
def test_gru_matches_reference(reset_after, back, use_mask):
    layer = L.GRU(U, return_sequences=True, return_state=True, go_backwards=back,
                  reset_after=reset_after)
    layer.build((B, T, F))
    k, rk, b = _set_random(layer)
    assert b.shape == ((2, 3 * U) if reset_after else (3 * U,))
    mask = MASK if use_mask else None
    out, h = layer(tf.constant(X), mask=None if mask is None else tf.constant(mask))
    ys, eh = ref_gru(X.astype(np.float64), np.zeros((B, U)), k, rk, b, reset_after,
                     mask, back)
    np.testing.assert_allclose(out.numpy(), _keras_order(ys, back), atol=1e-5)
    np.testing.assert_allclose(h.numpy(), eh, atol=1e-5)
    loop = L.RNN(L.GRUCell(U, reset_after=reset_after), return_sequences=True,
                 go_backwards=back)
    loop.build((B, T, F))
    loop.set_weights(layer.get_weights())
    lo = loop(tf.constant(X), mask=None if mask is None else tf.constant(mask))
    np.testing.assert_allclose(lo.numpy(), out.numpy(), atol=1e-5)


@pytest.mark.parametrize("back", [False, True])
def test_simple_rnn_matches_reference(back):
    layer = L.SimpleRNN(U, activation="relu", go_backwards=back, return_sequences=True)
    layer.build((B, T, F))
    k, rk, b = _set_random(layer)
    out = layer(tf.constant(X), mask=tf.constant(MASK))
    ys, _ = ref_simple(X.astype(np.float64), np.zeros((B, U)), k, rk, b, MASK, back,
                       act=lambda v: np.maximum(v, 0))
    np.testing.assert_allclose(out.numpy(), _keras_order(ys, back), atol=1e-5)
    # last output only: the last processed step
    last = L.SimpleRNN(U, activation="relu", go_backwards=back)
    last.build((B, T, F))
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(tf.constant(X), mask=tf.constant(MASK)).numpy(),
                               out.numpy()[:, -1], atol=1e-6)


def test_loop_path_for_recurrent_dropout_and_custom_activation():
    lstm = L.LSTM(U, recurrent_dropout=0.5, return_sequences=True)
    lstm.build((B, T, F))
    ref = L.LSTM(U, return_sequences=True)
    ref.build((B, T, F))
    ref.set_weights(lstm.get_weights())
    # inference: recurrent dropout is off, so the loop equals the fused kernel
    np.testing.assert_allclose(lstm(tf.constant(X)).numpy(), ref(tf.constant(X)).numpy(),
                               atol=1e-5)
    assert lstm.last_kernel == "loop" and ref.last_kernel == default_rnn_kernel("lstm")
    gru = L.GRU(U, activation="softsign")
    gru(tf.constant(X))
    assert gru.last_kernel == "loop"
    trained = lstm(tf.constant(X), training=True)
    assert not np.allclose(trained.numpy(), ref(tf.constant(X)).numpy())


def test_input_dropout_mask_constant_over_time():
    cell = L.SimpleRNNCell(4, dropout=0.5, seed=1)
    layer = L.RNN(cell, return_sequences=True)
    x = np.ones((2, 6, 3), "float32")
    layer(tf.constant(x))
    cell.kernel.assign(np.eye(3, 4, dtype="float32"))
    cell.recurrent_kernel.assign(np.zeros((4, 4), "float32"))
    out = layer(tf.constant(x), training=True).numpy()
    # zero recurrence, linear identity kernel: each step shows the same dropped pattern
    np.testing.assert_allclose(out, np.repeat(out[:, :1], 6, axis=1))
    fused = L.SimpleRNN(4, dropout=0.5, return_sequences=True)
    fused(tf.constant(x))
    fused.cell.kernel.assign(np.eye(3, 4, dtype="float32"))
    fused.cell.recurrent_kernel.assign(np.zeros((4, 4), "float32"))
    out = fused(tf.constant(x), training=True).numpy()
    assert fused.last_kernel == "fused"
    np.testing.assert_allclose(out, np.repeat(out[:, :1], 6, axis=1))
    np.testing.assert_allclose(np.unique(out)[np.unique(out) != 0], np.tanh(2.0), rtol=1e-5)


def test_time_major_and_initial_state_as_list_input():
    layer = L.LSTM(U, return_sequences=True, time_major=True)
    xt = np.transpose(X, (1, 0, 2))
    out = layer(tf.constant(xt))
    ref = L.LSTM(U, return_sequences=True)
    ref.build((B, T, F))
    ref.set_weights(layer.get_weights())
    np.testing.assert_allclose(out.numpy(), np.transpose(ref(tf.constant(X)).numpy(),
                                                          (1, 0, 2)), atol=1e-6)
    h0 = tf.constant(RNG.standard_normal((B, U)).astype("float32"))
    g = L.GRU(U)
    a = g([tf.constant(X), h0])
    b = g(tf.constant(X), initial_state=[h0])
    np.testing.assert_allclose(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="state"):
        g(tf.constant(X), initial_state=[h0, h0])


def test_stacked_cells_and_custom_cell():
    class MinimalRNNCell(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
            self.recurrent_kernel = self.add_weight(name="recurrent_kernel",
                                                    shape=(self.units, self.units))

        def call(self, inputs, states):
            h = tf.matmul(inputs, self.kernel) + tf.matmul(states[0], self.recurrent_kernel)
            return h, [h]

    cell = MinimalRNNCell(3)
    layer = L.RNN(cell, return_sequences=True, return_state=True)
    out, state = layer(tf.constant(X), mask=tf.constant(MASK))
    k, rk = (w.numpy().astype(np.float64) for w in cell.weights)
    ys, h = ref_simple(X.astype(np.float64), np.zeros((B, 3)), k, rk, 0, MASK,
                       act=lambda v: v)
    np.testing.assert_allclose(out.numpy(), ys, atol=1e-5)
    np.testing.assert_allclose(state.numpy(), h, atol=1e-5)
    assert [w.name for w in layer.weights] == [f"{layer.name}/{cell.name}/kernel:0",
                                               f"{layer.name}/{cell.name}/recurrent_kernel:0"]
    stacked = L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True)
    out, s1, s2 = stacked(tf.constant(X))
    assert tuple(out.shape) == (B, 3) and len(s1) == 2 and tuple(s2.shape) == (B, 3)
    assert stacked.cell.state_size == [[4, 4], 3]
    np.testing.assert_allclose(out.numpy(), s2.numpy())


def test_stateful_and_reset_states():
    layer = L.LSTM(U, stateful=True)
    first = layer(tf.constant(X)).numpy()
    second = layer(tf.constant(X)).numpy()
    assert not np.allclose(first, second)
    assert len(layer.weights) == 3  # states are not weights
    layer.reset_states()
    np.testing.assert_allclose(layer(tf.constant(X)).numpy(), first, atol=1e-6)
    whole = L.LSTM(U, return_sequences=True)
    whole.build((B, 2 * T, F))
    whole.set_weights(layer.get_weights())
    x2 = np.concatenate([X, X], axis=1)
    layer.reset_states()
    layer(tf.constant(X))
    np.testing.assert_allclose(layer(tf.constant(X)).numpy(),
                               whole(tf.constant(x2)).numpy()[:, -1], atol=1e-5)
    with pytest.raises(ValueError, match="batch size"):
        layer(tf.constant(X[:2]))
    inp = keras.Input((T, F))
    with pytest.raises(ValueError, match="stateful"):
        L.GRU(3, stateful=True)(inp)
    with pytest.raises(AttributeError):
        L.GRU(3).reset_states()


def test_masking_from_embedding_and_masking_layer():
    ids = np.array([[5, 2, 7, 0, 0], [3, 0, 0, 0, 0]])
    emb = L.Embedding(10, 4, mask_zero=True)
    lstm = L.LSTM(U, return_sequences=True)
    out = lstm(emb(tf.constant(ids)))
    assert out._keras_mask is not None
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids != 0)
    vecs = emb(tf.constant(ids)).numpy()
    direct = lstm(tf.constant(vecs), mask=tf.constant(ids != 0)).numpy()
    np.testing.assert_allclose(out.numpy(), direct)
    # padded steps repeat the last valid output
    np.testing.assert_allclose(out.numpy()[1, 1:], np.repeat(out.numpy()[1, :1], 4, 0))
    masked = L.Masking(0.0)(tf.constant(np.where((ids != 0)[..., None], vecs, 0.0)))
    np.testing.assert_allclose(L.LSTM(U)(masked).shape, (2, U))


def test_bidirectional_merge_modes_and_states():
    fw = L.LSTM(U, return_sequences=True)
    fw.build((B, T, F))
    bw = L.LSTM(U, return_sequences=True, go_backwards=True)
    bw.build((B, T, F))
    for mode, merge in (("concat", lambda a, b: np.concatenate([a, b], -1)),
                        ("sum", np.add), ("mul", np.multiply),
                        ("ave", lambda a, b: (a + b) / 2)):
        bi = L.Bidirectional(L.LSTM(U, return_sequences=True), merge_mode=mode)
        bi(tf.constant(X[:1, :2]))
        bi.set_weights(fw.get_weights() + bw.get_weights())
        out = bi(tf.constant(X)).numpy()
        expect = merge(fw(tf.constant(X)).numpy(), bw(tf.constant(X)).numpy()[:, ::-1])
        np.testing.assert_allclose(out, expect, atol=1e-6)
    names = [w.name for w in bi.weights]
    assert names[0].startswith(f"{bi.name}/forward_") and "backward_" in names[3]
    both = L.Bidirectional(L.GRU(U, return_state=True), merge_mode=None)
    out = both(tf.constant(X))
    assert len(out) == 4
    custom = L.Bidirectional(L.LSTM(3), backward_layer=L.SimpleRNN(3, go_backwards=True))
    assert tuple(custom(tf.constant(X)).shape) == (B, 6)
    with pytest.raises(ValueError, match="go_backwards"):
        L.Bidirectional(L.LSTM(3), backward_layer=L.LSTM(3))
    with pytest.raises(ValueError, match="merge mode"):
        L.Bidirectional(L.LSTM(3), merge_mode="max")


def test_time_distributed():
    td = L.TimeDistributed(L.Dense(3))
    out = td(tf.constant(X))
    k, b = (w.numpy() for w in td.weights)
    np.testing.assert_allclose(out.numpy(), X @ k + b, atol=1e-5)
    assert td.weights[0].name == f"{td.name}/{td.layer.name}/kernel:0"


def test_conv_lstm2d_matches_cell_equations():
    x = RNG.standard_normal((2, 3, 5, 5, 2)).astype("float32")
    layer = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    out = layer(tf.constant(x))
    assert tuple(out.shape) == (2, 3, 5, 5, 3)
    assert [tuple(w.shape) for w in layer.weights] == [(3, 3, 2, 12), (3, 3, 3, 12),
                                                       (12,)]
    valid = L.ConvLSTM2D(2, (3, 3), return_state=True)
    o, h, c = valid(tf.constant(x))
    np.testing.assert_allclose(o.numpy(), h.numpy())
    assert tuple(o.shape) == (2, 3, 3, 2) and tuple(c.shape) == (2, 3, 3, 2)
    with pytest.raises(ValueError, match="ndim=5"):
        valid(tf.constant(X))


def test_weight_names_shapes_and_config_round_trip():
    lstm = L.LSTM(U, return_sequences=True)
    lstm(tf.constant(X))
    assert [w.name for w in lstm.weights] == [
        f"{lstm.name}/lstm_cell/kernel:0", f"{lstm.name}/lstm_cell/recurrent_kernel:0",
        f"{lstm.name}/lstm_cell/bias:0"]
    assert [tuple(w.shape) for w in lstm.weights] == [(F, 4 * U), (U, 4 * U), (4 * U,)]
    # unit_forget_bias: forget-gate bias starts at one
    np.testing.assert_array_equal(lstm.cell.bias.numpy()[U:2 * U], 1)
    config = lstm.get_config()
    for key in ("units", "return_sequences", "go_backwards", "stateful", "unroll",
                "recurrent_activation", "unit_forget_bias", "dropout", "seed",
                "zero_output_for_mask"):
        assert key in config
    assert "cell" not in config and config["units"] == U
    clone = L.LSTM.from_config(config)
    clone(tf.constant(X))
    clone.set_weights(lstm.get_weights())
    np.testing.assert_allclose(clone(tf.constant(X)).numpy(), lstm(tf.constant(X)).numpy())
    for layer in (L.GRU(3, reset_after=False), L.SimpleRNN(2),
                  L.RNN([L.LSTMCell(2), L.GRUCell(3)]),
                  L.Bidirectional(L.GRU(2)), L.TimeDistributed(L.Dense(2)),
                  L.ConvLSTM2D(2, 3)):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config() or isinstance(
            layer, (L.Bidirectional,))
        assert L.deserialize(L.serialize(layer)).__class__ is type(layer)


def test_regularizers_constraints_and_use_bias():
    layer = L.GRU(3, kernel_regularizer=keras.regularizers.l2(0.1),
                  recurrent_constraint=keras.constraints.NonNeg(), use_bias=False)
    layer(tf.constant(X))
    assert len(layer.weights) == 2 and len(layer.losses) == 1
    expect = 0.1 * np.sum(layer.cell.kernel.numpy() ** 2)
    np.testing.assert_allclose(layer.losses[0].numpy(), expect, rtol=1e-5)
    assert layer.cell.recurrent_kernel.constraint is not None
    assert layer.last_kernel == "fused"


def test_invalid_arguments():
    with pytest.raises(ValueError, match="units"):
        L.LSTM(0)
    with pytest.raises(TypeError, match="dropout"):
        L.GRU(3, dropout="half")
    assert L.GRU(3, dropout=1.5).dropout == 1.0   # Keras clips the rate
    with pytest.raises(ValueError, match="use_cudnn"):
        L.LSTM(3, use_cudnn="yes")
    with pytest.raises(ValueError, match="ndim=3"):
        L.LSTM(3)(tf.constant(X[0]))
    with pytest.raises(ValueError, match="state_size"):
        L.RNN(L.Dense(3))


def test_functional_model_and_compute_mask():
    inp = keras.Input((None, F))
    seq, h_state, c_state = L.LSTM(U, return_sequences=True, return_state=True)(inp)
    out = L.GRU(2)(seq, initial_state=None)
    model = keras.Model(inp, [out, h_state, c_state])
    res = model(tf.constant(X))
    assert [tuple(r.shape) for r in res] == [(B, 2), (B, U), (B, U)]
    layer = L.LSTM(U, return_sequences=True, return_state=True)
    m = tf.constant(MASK)
    assert layer.compute_mask(tf.constant(X), m)[0] is m
    assert L.LSTM(U).compute_mask(tf.constant(X), m) is None
