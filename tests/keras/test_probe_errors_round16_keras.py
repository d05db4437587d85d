"""Keras bad-input errors found by the round-16 probes (types from TF 2.21 / Keras 3)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import errors

keras = tf.keras


@pytest.mark.parametrize("cls", [keras.optimizers.Adam, keras.optimizers.SGD,
                                 keras.optimizers.RMSprop])
@pytest.mark.parametrize("value", ["x", None, [0.1]])
def test_bad_learning_rate_is_value_error_naming_it(cls, value):
    with pytest.raises(ValueError, match=r"`learning_rate`.*learning_rate="):
        cls(learning_rate=value)


def test_keras2_subclass_passing_name_positionally_still_works():
    class MySGD(keras.optimizers.SGD):
        def __init__(self, name="MySGD", **kwargs):
            keras.optimizers.Optimizer.__init__(self, name, **kwargs)

    opt = MySGD()
    assert opt.name == "MySGD"
    assert float(opt.learning_rate) == pytest.approx(0.001)


def test_apply_gradients_of_wrong_shape_names_both_shapes():
    var = tf.Variable([1.0, 2.0], name="w")
    opt = keras.optimizers.SGD(0.1)
    # TF 2.21: InvalidArgumentError "Cannot update variable with shape [2] using a
    # Tensor with shape [3], shapes must be equal."
    with pytest.raises(errors.InvalidArgumentError, match=r"\[2\].*\[3\]") as info:
        opt.apply_gradients([(tf.ones([3]), var)])
    assert isinstance(info.value, ValueError)   # graph-mode TF raises ValueError
    np.testing.assert_array_equal(var.numpy(), [1.0, 2.0])
    opt.apply_gradients([(tf.ones([2]), var)])   # a right gradient still applies
    np.testing.assert_allclose(var.numpy(), [0.9, 1.9])


def test_fit_still_trains_after_shape_check():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.1 * hist.history["loss"][0]


def test_dense_on_wrong_last_dim_in_traced_call_is_value_error():
    dense = keras.layers.Dense(2)
    dense(tf.ones([1, 4]))
    with pytest.raises(ValueError):
        tf.function(lambda: dense(tf.ones([1, 5])))()
