"""Row-gather gradients are tf.IndexedSlices, aggregated and densified as in TF 2.

Expected types and layouts were checked against TF 2.21 (see each test's comment).
"""

import numpy as np
import pytest

import dlframe as tf

TABLE = np.arange(12, dtype=np.float32).reshape(4, 3)


def _dense(g):
    return tf.convert_to_tensor(g).numpy()


def _scatter(values, indices, shape):
    out = np.zeros(shape, np.float64)
    np.add.at(out, np.asarray(indices).reshape(-1), np.asarray(values))
    return out


def test_gather_of_variable_gives_flattened_slices():
    # TF 2.21: values [4, 3], indices [0, 2, 2, 3] (ids' dtype), dense_shape int32 [4, 3]
    v = tf.Variable(TABLE)
    ids = tf.constant([[0, 2], [2, 3]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(v, ids) * 2.0)
    g = tape.gradient(y, v)
    assert isinstance(g, tf.IndexedSlices) and not isinstance(g, tf.Tensor)
    assert g.values.shape == (4, 3) and g.values.dtype == tf.float32
    assert g.indices.numpy().tolist() == [0, 2, 2, 3] and g.indices.dtype == tf.int32
    assert g.dense_shape.dtype == tf.int32 and g.dense_shape.numpy().tolist() == [4, 3]
    assert g.shape.as_list() == [4, 3] and g.dtype == tf.float32
    np.testing.assert_allclose(g.values.numpy(), np.full((4, 3), 2.0))
    np.testing.assert_allclose(_dense(g), _scatter(np.full((4, 3), 2.0), ids, (4, 3)))


def test_int64_ids_and_watched_tensor_params():
    c = tf.constant(TABLE)
    with tf.GradientTape() as tape:
        tape.watch(c)
        y = tf.reduce_sum(tf.gather(c, tf.constant([0, 3], tf.int64)))
    g = tape.gradient(y, c)   # TF: slices for a watched tensor too, int64 indices kept
    assert isinstance(g, tf.IndexedSlices) and g.indices.dtype == tf.int64
    with tf.GradientTape() as tape:   # through a dense op first: a dense gradient
        tape.watch(c)
        y = tf.reduce_sum(tf.gather(c * 2.0, [0, 1]))
    g = tape.gradient(y, c)
    assert isinstance(g, tf.Tensor)
    np.testing.assert_allclose(g.numpy(), _scatter(np.full((2, 3), 2.0), [0, 1], (4, 3)))


def test_embedding_lookup_and_layer():
    v = tf.Variable(TABLE)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.embedding_lookup(v, [[1, 1], [3, 0]]) ** 2)
    g = tape.gradient(y, v)
    assert isinstance(g, tf.IndexedSlices) and g.indices.numpy().tolist() == [1, 1, 3, 0]
    np.testing.assert_allclose(g.values.numpy(), 2 * TABLE[[1, 1, 3, 0]])
    layer = tf.keras.layers.Embedding(10, 4)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(tf.constant([[1, 2], [2, 5]])))
    (g,) = tape.gradient(y, layer.trainable_variables)
    assert isinstance(g, tf.IndexedSlices) and g.indices.numpy().tolist() == [1, 2, 2, 5]
    assert g.dense_shape.numpy().tolist() == [10, 4]


def test_aggregation_concatenates_or_densifies():
    v = tf.Variable(TABLE)
    with tf.GradientTape() as tape:   # TF: two gathers concatenate, in program order
        y = tf.reduce_sum(tf.gather(v, [0, 1])) + tf.reduce_sum(tf.gather(v, [1, 2]) * 3.)
    g = tape.gradient(y, v)
    assert isinstance(g, tf.IndexedSlices) and g.indices.numpy().tolist() == [0, 1, 1, 2]
    np.testing.assert_allclose(g.values.numpy()[:, 0], [1, 1, 3, 3])
    with tf.GradientTape() as tape:   # with a dense use of v: one dense sum
        y = tf.reduce_sum(tf.gather(v, [0, 0])) + tf.reduce_sum(v * 3.)
    g = tape.gradient(y, v)
    assert isinstance(g, tf.Tensor)
    np.testing.assert_allclose(g.numpy()[:, 0], [5, 3, 3, 3])
    with tf.GradientTape() as tape:   # mixed int32/int64 ids still concatenate
        y = tf.reduce_sum(tf.gather(v, [0])) + tf.reduce_sum(
            tf.gather(v, tf.constant([3], tf.int64)))
    g = tape.gradient(y, v)
    assert g.indices.dtype == tf.int64 and g.indices.numpy().tolist() == [0, 3]


def test_dense_gradients_where_tf_gives_them():
    v = tf.Variable(TABLE)
    b = tf.Variable(TABLE.reshape(2, 6))
    cases = [(v, lambda: tf.gather(v, [0, 2], axis=1)),
             (b, lambda: tf.gather(b, [[0, 1], [2, 3]], batch_dims=1)),
             (v, lambda: v[1:3])]
    for var, fn in cases:
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(fn())
        assert isinstance(tape.gradient(y, var), tf.Tensor)


def test_densify_conversion_and_ops():
    g = tf.IndexedSlices(tf.ones((2, 3)), tf.constant([0, 0]), tf.constant([4, 3]))
    np.testing.assert_allclose(tf.convert_to_tensor(g).numpy()[:, 0], [2, 0, 0, 0])
    np.testing.assert_allclose(tf.math.add(g, 1.0).numpy()[:, 0], [3, 1, 1, 1])
    np.testing.assert_allclose(tf.add_n([g, g]).numpy()[:, 0], [4, 0, 0, 0])
    assert tf.is_tensor(g) and isinstance(-g, tf.IndexedSlices)
    with pytest.raises(ValueError, match="dtype"):
        tf.convert_to_tensor(g, dtype=tf.int32)
    with pytest.raises(ValueError, match="dense_shape"):
        tf.convert_to_tensor(tf.IndexedSlices(tf.ones((1, 2)), [0]))


def test_clipping_keeps_slices():
    # TF 2.21: norms are taken over the values (a repeated row counts twice)
    g = tf.IndexedSlices(tf.ones((2, 3)), tf.constant([0, 1]), tf.constant([4, 3]))
    c = tf.clip_by_norm(g, 1.0)
    assert isinstance(c, tf.IndexedSlices) and c.indices.numpy().tolist() == [0, 1]
    np.testing.assert_allclose(c.values.numpy(), np.full((2, 3), 1 / np.sqrt(6)), rtol=1e-6)
    (cg, dense), norm = tf.clip_by_global_norm([g, tf.constant([3.0, 4.0])], 1.0)
    np.testing.assert_allclose(norm.numpy(), np.sqrt(31.0), rtol=1e-6)
    assert isinstance(cg, tf.IndexedSlices) and isinstance(dense, tf.Tensor)
    np.testing.assert_allclose(cg.values.numpy(), np.full((2, 3), 1 / np.sqrt(31)),
                               rtol=1e-6)
    dup = tf.IndexedSlices(tf.ones((2, 3)), tf.constant([1, 1]), tf.constant([4, 3]))
    np.testing.assert_allclose(tf.linalg.global_norm([dup]).numpy(), np.sqrt(6.0),
                               rtol=1e-6)
    cv = tf.clip_by_value(g, -0.5, 0.5)
    assert isinstance(cv, tf.IndexedSlices)
    np.testing.assert_allclose(cv.values.numpy(), np.full((2, 3), 0.5))


def test_output_gradients_persistent_and_jacobian():
    v = tf.Variable(TABLE)
    seed = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.GradientTape(persistent=True) as tape:
        y = tf.gather(v, [0, 2])
        z = tf.reduce_sum(y ** 2)
    g = tape.gradient(y, v, output_gradients=tf.constant(seed))
    np.testing.assert_allclose(g.values.numpy(), seed)
    for _ in range(2):   # a persistent tape answers twice with the same slices
        g = tape.gradient(z, v)
        assert isinstance(g, tf.IndexedSlices)
        np.testing.assert_allclose(_dense(g), _scatter(2 * TABLE[[0, 2]], [0, 2], (4, 3)))
    j = tape.jacobian(y, v)
    assert isinstance(j, tf.Tensor) and j.shape == (2, 3, 4, 3)
    expect = np.zeros((2, 3, 4, 3))
    for i, row in enumerate([0, 2]):
        for k in range(3):
            expect[i, k, row, k] = 1
    np.testing.assert_allclose(j.numpy(), expect)
    zero = tape.gradient(z, [v, tf.Variable(1.0)], unconnected_gradients="zero")
    assert isinstance(zero[0], tf.IndexedSlices) and float(zero[1]) == 0.0


def test_second_derivative_through_gather():
    # d/dv sum(values of d/dv sum(gather(v)^3)) = 6 * gather(v); TF: slices again
    v = tf.Variable(TABLE)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_sum(tf.gather(v, [0, 2]) ** 3)
        g = inner.gradient(y, v)
        s = tf.reduce_sum(g.values)
    h = outer.gradient(s, v)
    assert isinstance(h, tf.IndexedSlices)
    np.testing.assert_allclose(_dense(h), _scatter(6 * TABLE[[0, 2]], [0, 2], (4, 3)))


def test_gradient_vs_finite_differences():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((5, 2))
    ids = [[4, 1], [1, 0]]

    def loss(p):
        return tf.reduce_sum(tf.sin(tf.gather(p, ids)) * tf.constant([[1.0, -2.0]], tf.float64))

    p = tf.constant(base)
    with tf.GradientTape() as tape:
        tape.watch(p)
        y = loss(p)
    got = _dense(tape.gradient(y, p))
    eps, expect = 1e-6, np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        hi, lo = base.copy(), base.copy()
        hi[idx] += eps
        lo[idx] -= eps
        expect[idx] = (float(loss(tf.constant(hi))) - float(loss(tf.constant(lo)))) / (2 * eps)
    np.testing.assert_allclose(got, expect, rtol=1e-6, atol=1e-8)


def test_traced_step_returns_and_applies_slices():
    v = tf.Variable(TABLE)

    def grad(ids):
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(tf.gather(v, ids) ** 2)
        return tape.gradient(y, v)

    ids = tf.constant([1, 3, 1])
    eager, traced = grad(ids), tf.function(grad)(ids)
    assert isinstance(traced, tf.IndexedSlices)
    assert traced.indices.numpy().tolist() == [1, 3, 1]
    np.testing.assert_allclose(traced.values.numpy(), eager.values.numpy())
    np.testing.assert_allclose(_dense(traced), _dense(eager))
    assert traced.shape.as_list() == [4, 3]


def test_segment_sum_and_scatter_users():
    v = tf.Variable(TABLE)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(v, [0, 2, 0]) ** 2)
    g = tape.gradient(y, v)
    seg = tf.math.unsorted_segment_sum(g.values, g.indices, 4)
    nd = tf.scatter_nd(tf.expand_dims(g.indices, 1), g.values, [4, 3])
    expect = _scatter(2 * TABLE[[0, 2, 0]], [0, 2, 0], (4, 3))
    np.testing.assert_allclose(seg.numpy(), expect)
    np.testing.assert_allclose(nd.numpy(), expect)
