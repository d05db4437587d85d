"""Round-16 Keras API parity: RNN attributes (state_size, implementation), layer
autocast/quantization_mode/supports_jit, Functional.operations, InputSpec optional,
callback modes and Loss.dtype. Expected values were checked against TF 2.21."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
L = keras.layers


@pytest.mark.parametrize("cls, want", [(L.LSTM, [3, 3]), (L.GRU, [3]),
                                       (L.SimpleRNN, [3])])
def test_rnn_state_size_before_and_after_build(cls, want):
    layer = cls(3)
    assert layer.state_size == want
    out = layer(np.zeros((2, 4, 5), "float32"))
    assert layer.state_size == want
    assert tuple(out.shape) == (2, 3)


def test_stacked_rnn_state_size():
    layer = L.RNN([L.LSTMCell(2), L.GRUCell(3)])
    assert layer.state_size == [[2, 2], 3]


def test_rnn_state_size_matches_returned_states():
    layer = L.LSTM(4, return_state=True)
    _, h, c = layer(np.random.rand(2, 3, 5).astype("float32"))
    assert [int(h.shape[-1]), int(c.shape[-1])] == layer.state_size


def test_rnn_layer_attributes_forwarded_from_cell():
    layer = L.GRU(2, reset_after=False, dropout=0.2, recurrent_dropout=0.1,
                  use_bias=False, activation="relu")
    assert layer.units == 2 and layer.reset_after is False
    assert layer.dropout == 0.2 and layer.recurrent_dropout == 0.1
    assert layer.use_bias is False and layer.activation is keras.activations.relu
    assert layer.recurrent_activation is keras.activations.sigmoid
    lstm = L.LSTM(2, unit_forget_bias=False)
    assert lstm.unit_forget_bias is False
    assert type(lstm.kernel_initializer).__name__ == "GlorotUniform"
    assert type(lstm.recurrent_initializer).__name__ == "Orthogonal"


def test_cell_implementation_attribute():
    # TF 2.21: LSTMCell/GRUCell carry implementation (default 2); the layers and
    # SimpleRNNCell do not
    assert L.LSTMCell(2).implementation == 2
    assert L.GRUCell(2, implementation=1).implementation == 1
    for obj in (L.LSTM(2), L.GRU(2), L.SimpleRNN(2), L.SimpleRNNCell(2)):
        with pytest.raises(AttributeError):
            obj.implementation  # noqa: B018
    assert "implementation" not in L.LSTMCell(2).get_config()


def test_bidirectional_states_none():
    assert L.Bidirectional(L.LSTM(2)).states is None


def test_layer_autocast_property():
    assert L.Dense(2).autocast is True
    assert L.Dense(2, autocast=False).autocast is False
    inp = keras.Input((3,))
    model = keras.Model(inp, L.Dense(2)(inp))
    assert model.autocast is True


def test_autocast_false_keeps_input_dtype():
    layer = L.Lambda(lambda x: x, autocast=False)
    out = layer(np.ones((1, 2), "float64"))
    assert out.dtype == tf.float64
    assert L.Lambda(lambda x: x)(np.ones((1, 2), "float64")).dtype == tf.float32


def test_layer_quantization_mode_and_supports_jit():
    d = L.Dense(2)
    assert d.quantization_mode is None
    assert d.supports_jit is True


def test_functional_operations_alias_of_layers():
    inp = keras.Input((3,), name="x")
    model = keras.Model(inp, L.Dense(2, name="d")(inp))
    assert [op.name for op in model.operations] == ["x", "d"]
    assert model.operations == model.layers


def test_input_spec_config_has_optional():
    spec = L.InputSpec(ndim=3, optional=True)
    config = spec.get_config()
    assert config["optional"] is True
    assert L.InputSpec.from_config(config).optional is True
    assert L.InputSpec(ndim=2).get_config()["optional"] is False


def test_early_stopping_mode_and_values_after_stop():
    keras.utils.set_random_seed(0)
    x = np.random.rand(32, 3).astype("float32")
    y = np.random.rand(32, 1).astype("float32")
    model = keras.Sequential([keras.Input((3,)), L.Dense(1)])
    model.compile(keras.optimizers.SGD(0.0), "mse")   # lr 0: the loss never improves
    es = keras.callbacks.EarlyStopping(patience=1, monitor="loss")
    assert (es.best, es.wait, es.stopped_epoch, es.mode) == (None, 0, 0, "auto")
    # (shuffle=False: with lr 0 a shuffled epoch's mean loss may differ in its last bit)
    history = model.fit(x, y, epochs=10, batch_size=8, verbose=0, callbacks=[es],
                        shuffle=False)
    assert es.stopped_epoch == 1 and es.wait == 1
    assert history.epoch == [0, 1]
    assert history.params == {"verbose": 0, "epochs": 10, "steps": 4}
    assert history.model is model


@pytest.mark.parametrize("mode, want", [("min", "min"), ("max", "max"),
                                        ("bogus", "auto")])
def test_callback_mode_attribute(mode, want, tmp_path):
    with pytest.warns(UserWarning) if mode == "bogus" else _nullcontext():
        es = keras.callbacks.EarlyStopping(mode=mode)
    assert es.mode == want
    with pytest.warns(UserWarning) if mode == "bogus" else _nullcontext():
        mc = keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), mode=mode)
    assert mc.mode == want


def _nullcontext():
    import contextlib
    return contextlib.nullcontext()


def test_loss_dtype_resolved_at_init():
    assert keras.losses.MeanSquaredError().dtype == "float32"
    assert keras.losses.MeanSquaredError(dtype="float16").dtype == "float16"
    assert keras.losses.MeanSquaredError(dtype=tf.float64).dtype == "float64"
    loss = keras.losses.MeanSquaredError(dtype="float64")
    value = loss(np.array([[1.0]], "float32"), np.array([[3.0]], "float32"))
    assert value.dtype == tf.float64 and float(value) == 4.0
    assert "dtype" not in keras.losses.MeanSquaredError().get_config()


@pytest.mark.parametrize("cls, ndim", [(L.ConvLSTM1D, 4), (L.ConvLSTM2D, 5),
                                       (L.ConvLSTM3D, 6)])
def test_conv_lstm_input_spec(cls, ndim):
    layer = cls(2, 3)
    assert layer.input_spec.ndim == ndim
    with pytest.raises(ValueError, match=f"expected ndim={ndim}"):
        layer(np.zeros((1,) * (ndim - 1), "float32"))


def test_conv_lstm_state_size_and_call():
    layer = L.ConvLSTM2D(2, 3, return_state=True)
    out, h, c = layer(np.random.rand(1, 2, 5, 5, 1).astype("float32"))
    assert tuple(out.shape) == (1, 3, 3, 2) == tuple(h.shape) == tuple(c.shape)
    assert len(layer.state_size) == 2


def test_add_optimizer_variables_shapes_names_initializers():
    opt = keras.optimizers.SGD()
    vs = [tf.Variable(np.ones((2,), "float32"), name="a"),
          tf.Variable(np.ones((3, 1), "float32"), name="b")]
    opt.build(vs)
    mom = opt.add_optimizer_variables(vs, "mom")
    assert [tuple(m.shape) for m in mom] == [(2,), (3, 1)]
    assert all(float(tf.reduce_sum(m)) == 0.0 for m in mom)
    assert "a_mom" in mom[0].name and "b_mom" in mom[1].name
    p, q = opt.add_optimizer_variables(vs, ["p", "q"], initializer=["ones", "zeros"])
    assert [float(tf.reduce_sum(x)) for x in p] == [2.0, 3.0]
    assert [float(tf.reduce_sum(x)) for x in q] == [0.0, 0.0]
    with pytest.raises(ValueError, match="number of provided names"):
        opt.add_optimizer_variables(vs, ["p", "q"], initializer=["ones"])


class _Momentum(keras.optimizers.Optimizer):
    """A Keras 3 style custom optimizer built on add_optimizer_variables."""

    def __init__(self, learning_rate=0.1, name="momentum_test", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = self.add_optimizer_variables(variables, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        v = self.velocities[self._get_variable_index(variable)]
        v.assign(0.9 * v - learning_rate * gradient)
        variable.assign_add(v)


def test_custom_optimizer_with_add_optimizer_variables_learns():
    keras.utils.set_random_seed(1)
    x = np.random.rand(64, 2).astype("float32")
    y = x @ np.array([[2.0], [-1.0]], "float32") + 0.5
    model = keras.Sequential([keras.Input((2,)), L.Dense(1)])
    model.compile(_Momentum(0.05), "mse")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.1 * first


def test_callback_params_none_until_set():
    cb = keras.callbacks.Callback()
    assert cb.params is None and cb.model is None
    model = keras.Sequential([keras.Input((2,)), L.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0, callbacks=[cb])
    assert cb.params == {"verbose": 0, "epochs": 1, "steps": 1}
