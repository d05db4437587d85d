"""Values computed only from shapes and constants are known while tracing: they
can size new tensors inside a compiled function, and stay right for every call."""

import numpy as np

import dlframe as tf


def _noise_like_batch(x):
    n = tf.shape(x)[0]                        # the GAN example's spelling
    z = tf.zeros([n, 3]) + tf.ones((tf.shape(x)[0], 1))
    pos = tf.cast(tf.range(tf.shape(x)[-1]), x.dtype)
    flat = tf.reshape(x, [n * tf.shape(x)[1]])
    return z, x + pos, flat, tf.random.normal((n, 2)).shape[0]


def test_shape_derived_values_size_tensors_in_a_function():
    f = tf.function(_noise_like_batch)
    for batch in (4, 4, 7):
        x = tf.constant(np.arange(batch * 5, dtype="float32").reshape(batch, 5))
        z, shifted, flat, rows = f(x)
        np.testing.assert_array_equal(z.numpy(), np.ones((batch, 3)))
        np.testing.assert_array_equal(shifted.numpy(), x.numpy() + np.arange(5))
        np.testing.assert_array_equal(flat.numpy(), x.numpy().ravel())
        assert rows == batch
    assert f.experimental_get_tracing_count() == 2   # one trace per batch size


def test_tf_while_loop_with_a_known_trip_count_stays_one_graph_loop():
    @tf.function
    def f(x):
        n = tf.shape(x)[0]
        _, total = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + x[i]),
                                 (tf.constant(0), tf.zeros_like(x[0])))
        return total
    x = tf.constant(np.arange(12, dtype="float32").reshape(6, 2))
    f(x)
    np.testing.assert_allclose(f(x).numpy(), x.numpy().sum(axis=0))
    names = f.get_concrete_function(x).graph.node_names
    assert names.count("While") + names.count("WhileWithHistory") == 1
    assert names.count("AddV2") <= 1          # the body was not unrolled six times
