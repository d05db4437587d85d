"""Review of round 17's tf.function changes: a user's own ``len`` inside converted
code, the single Keras ``call`` trace limited to layers Keras builds by running
``call``, and ``tf.gradients`` in a function called under an eager tape (variable
writes, second derivatives). Expected values came from TF 2.21 or by hand."""

import numpy as np
import pytest

import dlframe as tf


def test_local_len_shadowing_the_builtin_is_called():
    @tf.function
    def f(x):
        len = lambda v: 42   # a user's own len
        return len(x)

    assert int(f(tf.ones([4]))) == 42   # TF 2.21: 42

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def g(x):
        return len(x) + len([1, 2]) + len("abc")

    assert int(g(tf.ones([6]))) == 11


class _LazyVariable(tf.keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.w = None

    @tf.function
    def call(self, x):
        if self.w is None:
            self.w = tf.Variable(tf.ones([x.shape[-1]]) * 2.0)
        return x * self.w


class _VariableEveryTrace(tf.keras.layers.Layer):
    @tf.function
    def call(self, x):
        return x * tf.Variable(1.0)


class _Unbuilt(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = tf.keras.layers.Dense(2, kernel_initializer="ones")

    @tf.function
    def call(self, x):
        return self.dense(x)


def test_layer_creating_its_variable_in_call_traces_twice():
    layer = _LazyVariable()
    np.testing.assert_allclose(layer(tf.ones([2, 3])).numpy(), np.full((2, 3), 2.0))
    assert layer.call.experimental_get_tracing_count() == 2   # TF 2.21: 2


def test_layer_creating_a_variable_at_every_trace_fails_at_first_call():
    with pytest.raises(ValueError, match="singleton"):   # TF 2.21: ValueError
        _VariableEveryTrace()(tf.ones([2]))


def test_call_method_of_unbuilt_model_called_directly_traces_twice():
    model = _Unbuilt()
    np.testing.assert_allclose(model.call(tf.ones([1, 3])).numpy(), [[3.0, 3.0]])
    assert model.call.experimental_get_tracing_count() == 2   # TF 2.21: 2
    built = _Unbuilt()
    built(tf.ones([1, 3]))
    assert built.call.experimental_get_tracing_count() == 1   # TF 2.21: 1


def test_gradients_under_tape_use_the_value_read_before_an_assign():
    v = tf.Variable(2.0)

    @tf.function
    def f():
        y = v * v
        v.assign(5.0)
        return tf.gradients(y, v)[0]

    with tf.GradientTape():
        g = f()
    assert float(g) == 4.0   # 2 v at the value read (TF 2.21: 4.0)
    assert float(v) == 5.0


def test_second_order_gradients_under_tape():
    @tf.function
    def second(x):
        first = tf.gradients(x ** 3, x)[0]
        return tf.gradients(first, x)[0]

    x = tf.constant(1.5)
    expected = 6.0 * 1.5   # d2/dx2 x^3 = 6 x
    assert float(second(x)) == pytest.approx(expected)
    with tf.GradientTape():
        assert float(second(x)) == pytest.approx(expected)
