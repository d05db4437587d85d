"""tf.nn.RNNCellDropoutWrapper / RNNCellResidualWrapper / RNNCellDeviceWrapper."""

import numpy as np
import pytest

import dlframe as tf


def _inputs(batch=4, steps=5, features=3, seed=0):
    return np.random.RandomState(seed).rand(batch, steps, features).astype("float32")


def test_dropout_wrapper_sizes_config_and_identity_at_keep_one():
    cell = tf.keras.layers.SimpleRNNCell(4)
    wrapper = tf.nn.RNNCellDropoutWrapper(cell)
    assert wrapper.state_size == 4 and wrapper.output_size == 4
    x, state = tf.ones([2, 3]), [tf.ones([2, 4])]
    out, new = wrapper(x, state)
    ref_out, ref_new = cell(x, state)
    np.testing.assert_allclose(out.numpy(), ref_out.numpy())
    np.testing.assert_allclose(new[0].numpy(), ref_new[0].numpy())
    config = tf.nn.RNNCellDropoutWrapper(cell, input_keep_prob=0.5,
                                         state_keep_prob=0.7, seed=3).get_config()
    assert config["input_keep_prob"] == 0.5 and config["state_keep_prob"] == 0.7
    assert config["variational_recurrent"] is False and config["seed"] == 3
    assert config["cell"]["class_name"] == "SimpleRNNCell"
    clone = tf.nn.RNNCellDropoutWrapper.from_config(config)
    assert clone.input_keep_prob == 0.5 and clone.cell.units == 4


def test_output_dropout_zeroes_and_rescales():
    cell = tf.keras.layers.Dense(1000, kernel_initializer="ones",
                                 use_bias=False)

    class _Cell(tf.keras.layers.Layer):
        state_size = 1000

        def call(self, inputs, states):
            return cell(inputs), states

    wrapper = tf.nn.RNNCellDropoutWrapper(_Cell(), output_keep_prob=0.25, seed=1)
    out, _ = wrapper(tf.ones([2, 1]), [tf.zeros([2, 1000])])
    values = out.numpy()
    assert set(np.unique(values)) <= {0.0, 4.0}
    assert abs((values > 0).mean() - 0.25) < 0.05


def test_variational_masks_repeat_across_steps():
    class _Echo(tf.keras.layers.Layer):
        state_size = 50

        def call(self, inputs, states):
            return inputs, states

    wrapper = tf.nn.RNNCellDropoutWrapper(_Echo(), input_keep_prob=0.5,
                                          variational_recurrent=True, seed=2)
    x = tf.ones([3, 50])
    first, _ = wrapper(x, [tf.zeros([3, 50])])
    second, _ = wrapper(x, [tf.zeros([3, 50])])
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    wrapper.reset_dropout_masks()
    third, _ = wrapper(x, [tf.zeros([3, 50])])
    assert not np.array_equal(first.numpy(), third.numpy())


def test_residual_wrapper_adds_inputs_and_custom_fn():
    cell = tf.keras.layers.SimpleRNNCell(3)
    wrapper = tf.nn.RNNCellResidualWrapper(cell)
    x = tf.constant(np.random.RandomState(1).rand(2, 3).astype("float32"))
    state = [tf.zeros([2, 3])]
    out, new = wrapper(x, state)
    ref, ref_state = cell(x, state)
    np.testing.assert_allclose(out.numpy(), x.numpy() + ref.numpy(), rtol=1e-6)
    np.testing.assert_allclose(new[0].numpy(), ref_state[0].numpy())
    scaled = tf.nn.RNNCellResidualWrapper(cell, residual_fn=lambda i, o: i * 2 + o)
    out2, _ = scaled(x, state)
    np.testing.assert_allclose(out2.numpy(), 2 * x.numpy() + ref.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="does not match"):
        tf.nn.RNNCellResidualWrapper(tf.keras.layers.SimpleRNNCell(5))(
            x, [tf.zeros([2, 5])])


def test_device_wrapper_runs_cell_and_validates():
    cell = tf.keras.layers.LSTMCell(3)
    wrapper = tf.nn.RNNCellDeviceWrapper(cell, "/cpu:0")
    assert wrapper.state_size == cell.state_size
    assert wrapper.get_config()["device"] == "/cpu:0"
    x = tf.ones([2, 4])
    out, new = wrapper(x, wrapper.get_initial_state(batch_size=2, dtype="float32"))
    assert out.shape == (2, 3) and len(new) == 2
    with pytest.raises(TypeError, match="device"):
        tf.nn.RNNCellDeviceWrapper(cell, 3)
    with pytest.raises(TypeError, match="RNN cell"):
        tf.nn.RNNCellDeviceWrapper(object(), "/cpu:0")
    with pytest.raises(ValueError, match="input_keep_prob"):
        tf.nn.RNNCellDropoutWrapper(cell, input_keep_prob=0.0)


@pytest.mark.parametrize("make", [
    lambda: tf.nn.RNNCellResidualWrapper(tf.keras.layers.LSTMCell(3)),
    lambda: tf.nn.RNNCellDropoutWrapper(tf.keras.layers.GRUCell(4),
                                        output_keep_prob=0.9, seed=1),
    lambda: tf.nn.RNNCellDeviceWrapper(tf.keras.layers.SimpleRNNCell(4), "/cpu:0"),
])
def test_wrapped_cell_trains_in_rnn_and_reloads(make):
    x = _inputs()
    y = x.sum(axis=(1, 2))[:, None].astype("float32") / 5.0
    model = tf.keras.Sequential([tf.keras.Input((5, 3)), tf.keras.layers.RNN(make()),
                                 tf.keras.layers.Dense(1)])
    model.compile(tf.keras.optimizers.Adam(0.05), "mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=15, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    clone = tf.keras.models.model_from_json(model.to_json())
    assert type(clone.layers[0].cell) is type(model.layers[0].cell)
    clone.set_weights(model.get_weights())
    if not isinstance(model.layers[0].cell, tf.nn.RNNCellDropoutWrapper):
        np.testing.assert_allclose(clone.predict(x, verbose=0),
                                   model.predict(x, verbose=0), rtol=1e-5)
