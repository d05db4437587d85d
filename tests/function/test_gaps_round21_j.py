"""tf.function gaps of round 21 (helper J), each checked against TF 2.21's output.

Trace counts and trace-time prints of relaxed (``reduce_retracing``) and nested
functions, static shapes of reshapes to ``tf.shape`` of data-dependent tensors,
and ops that leave a Variable's value unchanged returning a Tensor, not the
variable.
"""

import numpy as np
import pytest

import dlframe as tf


def test_reduce_retracing_reuses_relaxed_trace(device, capsys):
    @tf.function(reduce_retracing=True)
    def f(x, y):
        print("trace", x.shape, y.shape)
        return tf.reduce_sum(x) + tf.reduce_sum(y)

    counts = []
    for rows, cols in [(2, 3), (2, 4), (2, 5), (3, 5), (4, 6), (5, 7)]:
        out = f(tf.ones([rows, cols]), tf.ones([cols]))
        assert float(out) == rows * cols + cols
        counts.append(f.experimental_get_tracing_count())
    # TF 2.21: (2, 3) exact, then (2, None), then (None, None): three traces
    assert counts == [1, 2, 2, 3, 3, 3]
    assert capsys.readouterr().out.splitlines() == [
        "trace (2, 3) (3,)", "trace (2, None) (None,)", "trace (None, None) (None,)"]


def test_inner_function_traced_once_per_signature(device, capsys):
    @tf.function
    def inner(x):
        print("inner", x.shape)
        return x * 2.0

    @tf.function
    def outer(x):
        a = inner(x)
        b = inner(x + 1.0)
        c = inner(tf.ones([5]))
        return tf.reduce_sum(a) + tf.reduce_sum(b) + tf.reduce_sum(c)

    assert float(outer(tf.ones([3]))) == 28.0
    assert float(outer(tf.ones([3]))) == 28.0
    assert inner.experimental_get_tracing_count() == 2
    assert float(outer(tf.ones([4]))) == 34.0
    assert inner.experimental_get_tracing_count() == 3
    assert capsys.readouterr().out.splitlines() == [
        "inner (3,)", "inner (5,)", "inner (4,)"]


def _masked_reshape_fn():
    static = []

    @tf.function
    def f(x, m):
        y = tf.boolean_mask(x, m)
        z = tf.reshape(tf.range(tf.size(y), dtype=tf.float32) * 2.0, tf.shape(y))
        static.append((z.shape.as_list(), tf.shape(y).shape.as_list()))
        return z + y

    return f, static


def test_reshape_to_shape_of_masked_tensor(device):
    f, static = _masked_reshape_fn()
    x = np.array([[1., 2.], [3., 4.], [5., 6.]], np.float32)
    for mask in ([True, False, True], [True, True, True], [False, True, False]):
        picked = x[np.array(mask)]
        want = picked + 2.0 * np.arange(picked.size, dtype=np.float32).reshape(
            picked.shape)
        np.testing.assert_array_equal(f(tf.constant(x), tf.constant(mask)).numpy(),
                                      want)
    # TF's graph knows only the masked tensor's trailing dim
    assert static == [([None, 2], [2])]


def test_static_dims_of_reshape_follow_run_time_count(device):
    @tf.function
    def f(x, m):
        y = tf.boolean_mask(x, m)
        flat = tf.reshape(y, [-1])
        z = tf.reshape(flat, tf.shape(y))
        assert z.shape.as_list() == [None]
        return tf.size(z), tf.reduce_sum(z)

    for mask, total in (([True, False, True, False], 4.0), ([True] * 4, 10.0)):
        size, s = f(tf.constant([1., 2., 3., 4.]), tf.constant(mask))
        assert int(size) == sum(mask) and float(s) == total


_ROW = [[1., 2., 3.]]
_UNCHANGED = {   # name: (the variable's value, the op)
    "broadcast_to": (_ROW, lambda v: tf.broadcast_to(v, [1, 3])),
    "broadcast_to_tensor_shape": (_ROW, lambda v: tf.broadcast_to(
        v, tf.constant([1, 3]))),
    "reshape": (_ROW, lambda v: tf.reshape(v, [1, 3])),
    "reshape_minus_one": (_ROW, lambda v: tf.reshape(v, [-1, 3])),
    "squeeze_empty_axis": (_ROW, lambda v: tf.squeeze(v, axis=[])),
    "squeeze_nothing": ([1., 2., 3.], tf.squeeze),
    "transpose": (_ROW, lambda v: tf.transpose(v, [0, 1])),
    "tile": (_ROW, lambda v: tf.tile(v, [1, 1])),
    "pad": (_ROW, lambda v: tf.pad(v, [[0, 0], [0, 0]])),
    "reverse": (_ROW, lambda v: tf.reverse(v, [])),
    "concat": (_ROW, lambda v: tf.concat([v], 0)),
    "split": (_ROW, lambda v: tf.split(v, 1)[0]),
    "add_n": (_ROW, lambda v: tf.add_n([v])),
    "real": (_ROW, tf.math.real),
    "conj": (_ROW, tf.math.conj),
}


@pytest.mark.parametrize("name", sorted(_UNCHANGED))
def test_unchanged_variable_value_is_a_tensor(device, name):
    init, op = _UNCHANGED[name]
    v = tf.Variable(init)
    out = op(v)
    assert isinstance(out, tf.Tensor)
    assert not isinstance(out, tf.Variable) and not hasattr(out, "assign")
    before = out.numpy().copy()
    np.testing.assert_array_equal(before, np.squeeze(init) if "squeeze" in name
                                  else init)
    v.assign(np.asarray(init) + 6.0)   # a snapshot: later assigns leave it alone
    np.testing.assert_array_equal(out.numpy(), before)


def test_broadcast_to_variable_gradient_and_function(device):
    v = tf.Variable([1., 2., 3.])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.broadcast_to(v, [3]) * tf.constant([1., 2., 3.]))
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [1., 2., 3.])

    @tf.function
    def f():
        b = tf.broadcast_to(v, [3])
        return b, isinstance(b, tf.Variable)

    b, is_var = f()
    assert not is_var
    np.testing.assert_array_equal(b.numpy(), [1., 2., 3.])
    v.assign([4., 5., 6.])
    np.testing.assert_array_equal(f()[0].numpy(), [4., 5., 6.])
