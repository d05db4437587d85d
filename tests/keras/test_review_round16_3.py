"""Review round 16 (3): positional arguments of Layer calls.

Keras 2 and 3 read an RNN's second positional argument as its initial state
(``lstm(x, [h, c])``); positional ``training`` (Keras 2) must not swallow extra
positional arguments that call() does not take.
"""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers
RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def _seq():
    return tf.constant(RNG.standard_normal((2, 5, 3)).astype(np.float32))


@pytest.mark.parametrize("make,n_states", [
    (lambda: layers.LSTM(4), 2),
    (lambda: layers.GRU(4), 1),
    (lambda: layers.SimpleRNN(4), 1),
    (lambda: layers.Bidirectional(layers.LSTM(4)), 4),
])
def test_second_positional_argument_is_the_initial_state(make, n_states):
    layer, x = make(), _seq()
    states = [tf.constant(RNG.standard_normal((2, 4)).astype(np.float32))
              for _ in range(n_states)]
    positional = layer(x, states).numpy()
    np.testing.assert_allclose(positional, layer(x, initial_state=states).numpy(),
                               rtol=1e-6, atol=1e-6)
    assert not np.allclose(positional, layer(x).numpy(), atol=1e-4)
    with pytest.raises(TypeError, match="initial_state"):
        layer(x, states, initial_state=states)


def test_symbolic_positional_initial_state_becomes_model_inputs():
    seq, h, c = keras.Input((5, 3)), keras.Input((4,)), keras.Input((4,))
    lstm = layers.LSTM(4)
    model = keras.Model([seq, h, c], lstm(seq, [h, c]))
    assert model.output.shape == (None, 4) and len(model.inputs) == 3
    x = _seq()
    hv, cv = (tf.constant(RNG.standard_normal((2, 4)).astype(np.float32))
              for _ in range(2))
    np.testing.assert_allclose(model([x, hv, cv]).numpy(),
                               lstm(x, initial_state=[hv, cv]).numpy(), rtol=1e-6)


class _Flag(layers.Layer):
    def call(self, inputs, training=None):
        return inputs * (2.0 if training else 1.0)


def test_positional_training_is_still_read_by_name():
    x = tf.ones((2, 3))
    np.testing.assert_array_equal(_Flag()(x, True).numpy(), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(_Flag()(x, False).numpy(), np.ones((2, 3)))


def test_more_positional_arguments_than_call_takes_raise():
    # they used to be dropped silently once training was moved to a keyword
    with pytest.raises(TypeError, match="positional"):
        _Flag()(tf.ones((2, 3)), True, 7)
