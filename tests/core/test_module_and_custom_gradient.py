"""tf.Module, tf.custom_gradient and tf.executing_eagerly."""

import numpy as np
import pytest

import dlframe as tf


class Dense(tf.Module):
    def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        with self.name_scope:
            self.w = tf.Variable(tf.ones([in_features, out_features]), name="w")
            self.b = tf.Variable(tf.zeros([out_features]), name="b", trainable=False)

    def __call__(self, x):
        return tf.nn.relu(x @ self.w + self.b)


class Sequential(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.layers = [Dense(3, 2), Dense(2, 1, name="out")]
        self.extra = {"keras": tf.keras.layers.Dense(1)}
        self.extra["keras"].build((None, 4))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def test_module_collects_variables_and_submodules():
    model = Sequential(name="seq")
    assert model.name == "seq"
    names = [v.name for v in model.variables]
    assert "dense/w:0" in names and "out/b:0" in names
    assert len(model.variables) == 6  # 4 in the two Dense modules + keras kernel/bias
    assert all(v.trainable for v in model.trainable_variables)
    assert len(model.non_trainable_variables) == 2
    assert [m.name for m in model.submodules] == ["dense", "out"]
    out = model(tf.constant([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out.numpy(), [[12.0]])


def test_module_name_validation_and_scope_decorator():
    with pytest.raises(ValueError, match="valid module name"):
        tf.Module(name="bad name")

    class M(tf.Module):
        @tf.Module.with_name_scope
        def make(self):
            return tf.Variable(1.0, name="v")
    assert M(name="m").make().name == "m/v:0"


@tf.custom_gradient
def log1pexp(x):
    e = tf.exp(x)

    def grad(upstream):
        return upstream * (1 - 1 / (1 + e))
    return tf.math.log(1 + e), grad


def test_custom_gradient_replaces_the_rule_eager_and_compiled():
    x = tf.constant(100.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = log1pexp(x)
    assert tape.gradient(y, x).numpy() == 1.0  # the naive gradient would be NaN

    @tf.function
    def grad_at(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            out = log1pexp(v)
        return tape.gradient(out, v)
    assert grad_at(tf.constant(100.0)).numpy() == 1.0
    np.testing.assert_allclose(grad_at(tf.constant(0.0)).numpy(), 0.5)


def test_custom_gradient_with_variables():
    w = tf.Variable(3.0)

    @tf.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            return dy * 10.0, [dy * 100.0]
        return x * w, grad

    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    gx, gw = tape.gradient(y, [x, w])
    assert gx.numpy() == 10.0 and gw.numpy() == 100.0


def test_executing_eagerly():
    seen = []

    @tf.function
    def f(x):
        seen.append(tf.executing_eagerly())
        return x
    assert tf.executing_eagerly()
    f(tf.constant(1))
    assert seen == [False]


def test_custom_gradient_of_a_variable_passed_as_argument_needs_no_variables_kwarg():
    x = tf.Variable([1.0, -2.0])

    @tf.custom_gradient
    def clip_grad(v):
        def grad(dy):
            return tf.clip_by_value(dy, -0.1, 0.1)
        return tf.identity(v), grad

    with tf.GradientTape() as tape:
        out = tf.reduce_sum(clip_grad(x) * 5.0)
    assert tape.gradient(out, x).numpy().tolist() == pytest.approx([0.1, 0.1])


@pytest.mark.parametrize("compiled", [False, True])
def test_custom_gradient_returning_its_input_uses_only_grad_fn(compiled):
    """The autodiff guide's clip_gradients: ``return y, backward`` with y the input."""
    @tf.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            return tf.clip_by_norm(dy, 0.5)
        return y, backward

    v = tf.Variable(2.0)

    def grad():
        with tf.GradientTape() as tape:
            out = clip_gradients(v * v)
        return out, tape.gradient(out, v)
    out, g = (tf.function(grad) if compiled else grad)()
    assert float(out) == 4.0
    assert float(g) == pytest.approx(2.0)   # 2v * clip(1, 0.5), not 2v * (1 + 0.5)
