"""tf.function gaps closed in round 16: tensors leaked out of a trace are out of
scope, ``tf.gradients`` on the traced graph, the tracing count of a function
called from another one, and the module splits of core.function and
ops.control_flow. Expected values and counts came from TF 2.21 unless derived by
hand or by finite differences."""

import importlib

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad

# -- 1. tensors leaked out of a trace ---------------------------------------------


def _leaky():
    leak = []

    @tf.function
    def f(x):
        y = x * 2.0
        leak.append(y)
        return y + 1.0
    return f, leak


def test_leaked_tensor_used_eagerly_is_out_of_scope():
    f, leak = _leaky()
    assert f(tf.constant(3.0)).numpy() == 7.0   # the return value is fine
    with pytest.raises(TypeError, match=r"'mul:0' shape=\(\) dtype=float32> is out "
                                        "of scope and cannot be used here"):
        leak[0] + 1.0
    with pytest.raises(TypeError, match="out of scope"):
        tf.reduce_sum(leak[0])
    with pytest.raises(AttributeError, match="out of scope"):   # TF: no .numpy
        leak[0].numpy()
    # as TF's symbolic tensors, its static description stays readable
    assert leak[0].shape == () and leak[0].dtype == tf.float32
    assert "mul:0" in repr(leak[0])


def test_leaked_tensor_used_in_another_function_is_out_of_scope():
    f, leak = _leaky()
    f(tf.constant(3.0))

    @tf.function
    def g(x):
        return x + leak[0]
    with pytest.raises(TypeError, match="'mul:0'.* is out of scope"):
        g(tf.constant(1.0))


def test_leaked_tensor_stored_on_module_is_out_of_scope():
    class Cache(tf.Module):
        def __init__(self):
            self.last = None

        @tf.function
        def __call__(self, x):
            self.last = tf.square(x)
            return self.last

    m = Cache()
    np.testing.assert_allclose(m(tf.constant([1.0, 2.0])).numpy(), [1.0, 4.0])
    with pytest.raises(TypeError, match="out of scope"):
        m.last.numpy()


def test_legit_uses_across_traces_keep_working():
    captured = tf.constant(5.0)

    class M(tf.Module):
        def __init__(self):
            self.v = None

        @tf.function
        def __call__(self, x):
            if self.v is None:
                self.v = tf.Variable(1.0)   # created on the first trace
            return x * self.v + captured

    m = M()
    out = m(tf.constant(2.0))
    assert out.numpy() == 7.0 and (out + 1.0).numpy() == 8.0
    assert (m.v + 1.0).numpy() == 2.0 and (captured * 2.0).numpy() == 10.0
    m.v.assign(3.0)
    assert m(tf.constant(2.0)).numpy() == 11.0
    # a returned input and a returned captured tensor are usable too
    ident = tf.function(lambda x: (x, captured))
    a, b = ident(tf.constant(4.0))
    assert (a + b).numpy() == 9.0


def test_static_tensors_of_a_trace_stay_usable():
    # made from constants only (dlframe's own lazy constants can be such)
    kept = []

    @tf.function
    def f(x):
        kept.append(tf.zeros([2]) + 1.0)
        return x
    f(tf.constant(1.0))
    np.testing.assert_allclose((kept[0] * 2.0).numpy(), [2.0, 2.0])


def test_numpy_of_a_traced_tensor_is_an_attribute_error_as_tf():
    @tf.function
    def f(x):
        return x.numpy() * 2

    with pytest.raises(AttributeError):   # TF 2.21: SymbolicTensor has no numpy
        f(tf.constant(3))
    with pytest.raises(TypeError):   # and dlframe's graph error is still a TypeError
        f(tf.constant(3))


# -- 2. tf.gradients inside a function ----------------------------------------------

def test_gradients_eagerly_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="tf.gradients is not supported when eager"):
        tf.gradients(tf.constant(1.0) * 2.0, tf.constant(1.0))


def test_gradients_in_function_match_finite_differences():
    x0 = np.array([1.0, 2.0, -0.5])
    w0 = np.array([0.5, -1.0, 2.0])

    def loss(x, w):
        return tf.reduce_sum(tf.sin(x) * w) + tf.reduce_sum(x ** 2)

    @tf.function
    def grads(x, w):
        return tf.gradients(loss(x, w), [x, w])

    gx, gw = grads(tf.constant(x0), tf.constant(w0))

    def f(x, w):
        return float(loss(tf.constant(x), tf.constant(w)).numpy())
    np.testing.assert_allclose(gx.numpy(), numeric_grad(f, [x0.copy(), w0], 0),
                               rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), numeric_grad(f, [x0, w0.copy()], 1),
                               rtol=1e-6)
    # replayed graph (new values, same signature) gives the new gradients
    gx2, _ = grads(tf.constant(2 * x0), tf.constant(w0))
    np.testing.assert_allclose(gx2.numpy(), np.cos(2 * x0) * w0 + 4 * x0, rtol=1e-10)
    assert grads.experimental_get_tracing_count() == 1


def test_gradients_options_grad_ys_unconnected_stop_and_variables():
    x = tf.constant([1.0, 2.0])
    w = tf.constant([0.5, -1.0])
    v = tf.Variable([1.0, 3.0])

    @tf.function
    def f(x, w):
        y = x * 3.0
        seeded = tf.gradients(y * y, x, grad_ys=tf.constant([2.0, 1.0]))[0]
        none, = tf.gradients(y, [w])[0:1]
        zero = tf.gradients(y, [x, w], unconnected_gradients="zero")[1]
        a = x * 2.0
        stopped = tf.gradients(a + x, x, stop_gradients=[a])[0]
        gv = tf.gradients(tf.reduce_sum(v * v), v)[0]
        return seeded, none is None, zero, stopped, gv

    seeded, was_none, zero, stopped, gv = f(x, w)
    np.testing.assert_allclose(seeded.numpy(), [36.0, 36.0])   # TF 2.21
    assert bool(was_none.numpy()) if hasattr(was_none, "numpy") else was_none
    np.testing.assert_allclose(zero.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(stopped.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(gv.numpy(), [2.0, 6.0])


def test_gradients_through_control_flow_and_second_order():
    x = tf.constant([1.0, 2.0])

    @tf.function
    def f(x):
        c = tf.cond(tf.reduce_sum(x) > 0, lambda: x * x, lambda: -x)
        loop = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x),
                             [0, tf.ones_like(x)])[1]
        g = tf.gradients(tf.reduce_sum(x ** 3), x)[0]
        h = tf.gradients(tf.reduce_sum(g), x)[0]
        return tf.gradients(c, x)[0], tf.gradients(loop, x)[0], h

    gc, gl, h = f(x)
    np.testing.assert_allclose(gc.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(gl.numpy(), [3.0, 12.0])   # d x^3
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])
    gc, gl, h = f(tf.constant([-3.0, 1.0]))   # replay takes the other branch
    np.testing.assert_allclose(gc.numpy(), [-1.0, -1.0])
    np.testing.assert_allclose(gl.numpy(), [27.0, 3.0])


def test_gradients_of_integer_source_and_bad_arguments():
    @tf.function
    def f(x):
        return tf.gradients(x * 2.0, tf.cast(x, tf.int32))
    assert f(tf.constant(1.0)) == [None]   # TF 2.21

    @tf.function
    def bad(x):
        return tf.gradients(x * 2.0, x, unconnected_gradients="sometimes")
    with pytest.raises(ValueError, match="sometimes"):
        bad(tf.constant(1.0))


# -- 3. tracing counts of a function called from another ----------------------------

def test_inner_function_counts_its_traces_as_tf(capsys):
    @tf.function
    def inner(x):
        print("trace inner", tuple(x.shape))
        return x * 2.0

    @tf.function
    def outer(x):
        return inner(x) + 1.0

    outer(tf.constant([1.0, 2.0]))
    assert inner.experimental_get_tracing_count() == 1   # TF 2.21
    outer(tf.constant([1.0, 2.0, 3.0]))
    assert inner.experimental_get_tracing_count() == 2
    inner(tf.constant([1.0, 2.0]))   # a signature already traced inside outer
    assert inner.experimental_get_tracing_count() == 2
    inner(tf.constant([[1.0]]))
    outer(tf.constant([[1.0]]))
    assert inner.experimental_get_tracing_count() == 3
    # trace-time print only for new signatures, as TF
    assert capsys.readouterr().out.split("\n") == [
        "trace inner (2,)", "trace inner (3,)", "trace inner (1, 1)", ""]


def test_inner_function_counts_with_input_signature_python_args_and_tape():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def inner(x):
        return x * 2.0

    @tf.function
    def outer(x):
        return inner(x) + inner(x * 2)
    outer(tf.constant([1.0, 2.0]))
    outer(tf.constant([1.0, 2.0, 4.0]))
    inner(tf.constant([1.0]))
    assert inner.experimental_get_tracing_count() == 1

    @tf.function
    def scaled(x, n):
        return x * n

    @tf.function
    def outer2(x):
        return scaled(x, 2) + scaled(x, 3) + scaled(x, 2)
    assert outer2(tf.constant(1.0)).numpy() == 7.0
    assert scaled.experimental_get_tracing_count() == 2
    with tf.GradientTape() as tape:
        x = tf.constant(3.0)
        tape.watch(x)
        y = scaled(x, 5)
    assert tape.gradient(y, x).numpy() == 5.0
    assert scaled.experimental_get_tracing_count() == 3
    scaled(tf.constant(3.0), 5)
    assert scaled.experimental_get_tracing_count() == 3


# -- 4. Keras symbolic builds run no py_function bodies and no effects ---------------

class _NumpyDouble(tf.keras.layers.Layer):
    def __init__(self, calls, **kwargs):
        super().__init__(**kwargs)
        self.calls = calls

    def call(self, x):
        def body(a):
            self.calls.append(a.shape)
            return (a * 2).astype(np.float32)
        y = tf.numpy_function(body, [x], tf.float32)
        y.set_shape(x.shape)
        return y


def test_sequential_with_numpy_function_layer_runs_body_as_tf():
    calls = []
    model = tf.keras.Sequential([tf.keras.Input((3,)), _NumpyDouble(calls),
                                 tf.keras.layers.Dense(2)])
    assert len(calls) == 0 and model.output_shape == (None, 2)   # TF 2.21: 0 runs
    assert model(tf.ones((2, 3))).shape == (2, 2) and len(calls) == 1
    lazy = tf.keras.Sequential([_NumpyDouble(calls), tf.keras.layers.Dense(2)])
    assert lazy(tf.ones((2, 3))).shape == (2, 2) and len(calls) == 2
    built = tf.keras.Sequential([_NumpyDouble(calls), tf.keras.layers.Dense(2)])
    built.build((None, 3))
    assert len(calls) == 2
    built.compile("sgd", "mse")
    built.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), epochs=1,
              batch_size=4, verbose=0)
    assert len(calls) == 3
    # the body really runs in the compiled step: doubled inputs reach the Dense
    kernel, bias = (w.numpy() for w in built.layers[1].weights)
    np.testing.assert_allclose(built.predict(np.ones((1, 3), np.float32), verbose=0),
                               2.0 * kernel.sum(0, keepdims=True) + bias, rtol=1e-5)


def test_symbolic_build_does_not_write_variables():
    class Counting(tf.keras.layers.Layer):
        def build(self, shape):
            self.n = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="n")

        def call(self, x):
            self.n.assign_add(1.0)
            return x * 2.0

    layer = Counting()
    model = tf.keras.Sequential([tf.keras.Input((3,)), layer])
    assert layer.n.numpy() == 0.0   # TF 2.21: the symbolic call runs nothing
    model(tf.ones((2, 3)))
    assert layer.n.numpy() == 1.0


# -- 5. module splits keep names where they were ------------------------------------

@pytest.mark.parametrize("old, new, names", [
    ("dlframe.core.function", "dlframe.core.function_keys",
     ["_Signature", "_CallPlan", "_cache_key", "_flatten_call", "_spec_to_tensor",
      "_variable_keys"]),
    ("dlframe.ops.control_flow", "dlframe.ops.control_flow_while",
     ["_while_p", "_while_hist_p", "_while_fx_p", "_while_hist_fx_p", "_effectful",
      "_while_hist_grad", "_zero_filled"]),
])
def test_split_names_importable_from_old_module(old, new, names):
    old_mod, new_mod = importlib.import_module(old), importlib.import_module(new)
    for name in names:
        assert getattr(old_mod, name) is getattr(new_mod, name), name
