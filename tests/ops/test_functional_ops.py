"""map_fn, scan, foldl, foldr, vectorized_map: values against NumPy, gradients against
finite differences, and eager == dlframe.function (where they run as a graph loop)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad

X = np.arange(1.0, 7.0).reshape(3, 2)


def _both(fn, *args):
    """fn's eager and compiled results (flat lists of numpy arrays)."""
    eager = tf.nest.flatten(fn(*args))
    graph = tf.nest.flatten(tf.function(fn)(*args))
    assert len(eager) == len(graph)
    for e, g in zip(eager, graph):
        assert e.dtype == g.dtype and e.shape == g.shape
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)
    return [e.numpy() for e in eager]


def _graph_grad(fn, x):
    """Gradient of sum(fn(x) * w) computed inside a dlframe.function."""
    w = tf.constant(np.random.default_rng(1).standard_normal(np.shape(fn(x))))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(fn(x) * w)
        return tape.gradient(y, x)

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(fn(x) * w)
    np.testing.assert_allclose(step(x).numpy(), tape.gradient(y, x).numpy(), rtol=1e-10)


def test_map_fn_values_structures_and_signatures():
    x = tf.constant(X)
    (out,) = _both(lambda x: tf.map_fn(lambda r: r * r + 1.0, x), x)
    np.testing.assert_allclose(out, X * X + 1)
    out = _both(lambda x: tf.map_fn(lambda r: (tf.reduce_sum(r["a"]), tf.cast(r["b"], tf.int32)),
                                    {"a": x, "b": x[:, 0]},
                                    fn_output_signature=(tf.float64, tf.TensorSpec([], tf.int32))),
                x)
    np.testing.assert_allclose(out[0], X.sum(1))
    np.testing.assert_array_equal(out[1], [1, 3, 5])
    (out,) = _both(lambda x: tf.map_fn(lambda r: tf.cast(r, tf.int32), x, dtype=tf.int32), x)
    assert out.dtype == np.int32


def test_map_fn_zero_rows():
    empty = tf.zeros([0, 3])
    assert tf.map_fn(lambda r: r * 2, empty).shape == (0,)          # TF eager
    assert tf.function(lambda e: tf.map_fn(lambda r: r * 2, e))(empty).shape == (0, 3)


def test_map_fn_errors():
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        tf.map_fn(lambda r: r, tf.constant(1.0))
    with pytest.raises(ValueError, match="not compatible"):
        tf.map_fn(lambda r: r[0], (tf.ones([2]), tf.ones([3])), fn_output_signature=tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="trying to write dtype int32"):
        tf.map_fn(lambda r: tf.cast(r, tf.int32), tf.ones([2]))
    with pytest.raises(ValueError, match="same nested structure"):
        tf.map_fn(lambda r: (r, r), tf.ones([2]))
    with pytest.raises(ValueError, match="Incompatible shape"):
        tf.map_fn(lambda r: tf.range(r), tf.constant([1, 2]))


def test_map_fn_gradients():
    w = tf.constant([[0.5, -1.0], [2.0, 0.25]], tf.float64)

    def fn(x):
        return tf.map_fn(lambda r: tf.tanh(tf.linalg.matvec(w, r)) * r, x)
    check_grad(fn, [X / 4])
    _graph_grad(fn, tf.constant(X / 4))


def test_scan_values():
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    (out,) = _both(lambda x: tf.scan(lambda a, v: a + v, x), x)
    np.testing.assert_allclose(out, [1, 3, 6, 10])
    (out,) = _both(lambda x: tf.scan(lambda a, v: a * 10 + v, x, initializer=0.0), x)
    np.testing.assert_allclose(out, [1, 12, 123, 1234])
    (out,) = _both(lambda x: tf.scan(lambda a, v: a + v, x, reverse=True), x)
    np.testing.assert_allclose(out, [10, 9, 7, 4])
    out = _both(lambda x: tf.scan(lambda a, v: (a[0] + v, a[1] * v), x,
                                  initializer=(tf.constant(0.0), tf.constant(1.0))), x)
    np.testing.assert_allclose(out, [[1, 3, 6, 10], [1, 2, 6, 24]])
    out = _both(lambda x: tf.scan(lambda a, v: (a[0] + v[0], a[1] + v[1]),
                                  (x, tf.cast(x, tf.int32))), x)
    np.testing.assert_array_equal(out[1], [1, 3, 6, 10])
    assert tf.scan(lambda a, v: a + v, tf.zeros([0]), initializer=0.0).shape == (0,)
    with pytest.raises(tf.errors.OutOfRangeError):
        tf.scan(lambda a, v: a + v, tf.zeros([0]))


def test_scan_gradients():
    def fn(x):
        return tf.scan(lambda a, v: tf.sin(a) * v + v, x, initializer=tf.ones([2], tf.float64))
    check_grad(fn, [X / 3])
    _graph_grad(fn, tf.constant(X / 3))

    def rev(x):
        return tf.scan(lambda a, v: a * v, x, reverse=True)
    check_grad(rev, [X / 3])
    _graph_grad(rev, tf.constant(X / 3))


def test_folds():
    x = tf.constant([1.0, 2.0, 3.0])
    assert _both(lambda x: tf.foldl(lambda a, v: a + v, x), x) == [6.0]
    assert _both(lambda x: tf.foldl(lambda a, v: a * 10 + v, x, initializer=0.0), x) == [123]
    assert _both(lambda x: tf.foldr(lambda a, v: a * 10 + v, x, initializer=0.0), x) == [321]
    assert _both(lambda x: tf.foldr(lambda a, v: a * 10 + v, x), x) == [321]
    assert tf.foldl(lambda a, v: a + v, tf.zeros([0]), initializer=5.0).numpy() == 5.0
    out = _both(lambda x: tf.foldl(lambda a, v: (a[0] + v, a[1] * v), x,
                                   initializer=(tf.constant(0.0), tf.constant(1.0))), x)
    assert out == [6.0, 6.0]
    with pytest.raises(tf.errors.OutOfRangeError):
        tf.foldl(lambda a, v: a + v, tf.zeros([0]))


def test_fold_gradients():
    def fn(x):
        return tf.foldl(lambda a, v: tf.tanh(a * v + v), x)
    check_grad(fn, [X / 5])
    _graph_grad(fn, tf.constant(X / 5))

    def right(x):
        return tf.foldr(lambda a, v: a * a + v, x, initializer=tf.zeros([2], tf.float64))
    check_grad(right, [X / 5])
    _graph_grad(right, tf.constant(X / 5))


def test_vectorized_map():
    x = tf.constant(X)
    (out,) = _both(lambda x: tf.vectorized_map(lambda r: tf.reduce_sum(r) * r, x), x)
    np.testing.assert_allclose(out, X.sum(1, keepdims=True) * X)
    out = _both(lambda x: tf.vectorized_map(lambda r: (r[0] + r[1], r[0]), (x, x * 2)), x)
    np.testing.assert_allclose(out[0], 3 * X)
    assert tf.vectorized_map(lambda r: r * 2, tf.zeros([0, 3])).shape == (0, 3)
    check_grad(lambda x: tf.vectorized_map(lambda r: r * tf.reduce_max(r), x), [X])


def test_compiled_map_fn_is_one_loop():
    @tf.function
    def fn(x):
        return tf.map_fn(lambda r: r * 2.0, x)
    graph = fn.get_concrete_function(tf.constant(X)).graph
    assert "While" in graph.node_names and len(graph.node_names) < 10
