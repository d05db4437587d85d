"""Lead's final-read mends (sixteenth session): state variables of metrics and
optimizers take any initializer, and one unconnected_gradients check serves all."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


class _Filled(keras.metrics.Metric):
    def __init__(self, initializer):
        super().__init__(name="filled")
        self.total = self.add_weight(name="total", shape=(3,), initializer=initializer)

    def update_state(self, x):
        self.total.assign_add(x)

    def result(self):
        return self.total


@pytest.mark.parametrize("init, expected", [
    ("zeros", [0, 0, 0]), ("ones", [1, 1, 1]),
    (keras.initializers.Constant(2.5), [2.5, 2.5, 2.5]),
    ("constant", [0, 0, 0])])   # Keras' Constant() defaults to 0
def test_metric_weight_initializers(init, expected):
    np.testing.assert_allclose(_Filled(init).result().numpy(), expected)


def test_named_random_initializer_is_used_not_zeros():
    keras.utils.set_random_seed(3)
    opt = keras.optimizers.SGD()
    v = opt.add_variable((64,), initializer="random_normal", name="noise")
    values = v.numpy()
    assert values.std() > 0.01 and v.dtype == tf.float32
    assert not np.allclose(_Filled("random_uniform").result().numpy(), 0)


@pytest.mark.parametrize("call", ["tape", "jacobian", "forward"])
def test_bad_unconnected_gradients_names_the_argument(call):
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = x * 2.0
    with pytest.raises(ValueError, match="unconnected_gradients"):
        if call == "tape":
            tape.gradient(y, x, unconnected_gradients="some")
        elif call == "jacobian":
            tape.jacobian(y, x, unconnected_gradients="some")
        else:
            with tf.autodiff.ForwardAccumulator(x, tf.ones(2)) as acc:
                z = x * 3.0
            acc.jvp(z, unconnected_gradients="some")


def test_tf_gradients_in_function_checks_unconnected_gradients():
    @tf.function
    def f(x):
        return tf.gradients(x * x, [x], unconnected_gradients="bad")

    with pytest.raises(ValueError, match="unconnected_gradients"):
        f(tf.constant(1.0))
