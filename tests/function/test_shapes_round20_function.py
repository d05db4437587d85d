"""Static shapes and stand-ins inside ``tf.function`` traces (round 20).

Expected static shapes come from TF 2.21 (run on the same programs); every program
is run at several real input sizes and compared with its eager result. dlframe may
also trace a signature again, quietly, at a call's concrete sizes: the shapes that
matter are those of the first (visible) trace, the ones ``print`` shows.
"""

import numpy as np
import pytest

import dlframe as tf


def _batches(n, batch):
    return tf.data.Dataset.from_tensor_slices(np.arange(n, dtype=np.float32)).batch(batch)


# -- 1. a loop over a dataset of batches writing a TensorArray -------------------------
@pytest.mark.parametrize("n, batch", [(8, 4), (12, 3), (5, 5)])
def test_dataset_enumerate_writes_batches_of_unknown_size(n, batch):
    seen = []

    @tf.function
    def collect(ds):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        for i, b in ds.enumerate():
            seen.append((b.shape.as_list(), i.shape.as_list()))
            ta = ta.write(tf.cast(i, tf.int32), b)
        return ta.concat(), ta.stack()

    flat, stacked = collect(_batches(n, batch))
    np.testing.assert_array_equal(flat.numpy(), np.arange(n))
    np.testing.assert_array_equal(stacked.numpy(), np.arange(n).reshape(-1, batch))
    assert seen and all(s == ([None], []) for s in seen)   # TF: (None,) and ()


def test_dataset_loop_reduces_each_batch():
    @tf.function
    def sums(ds):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
        for i, b in ds.enumerate():
            ta = ta.write(tf.cast(i, tf.int32), tf.reduce_sum(b))
        return ta.stack()

    for n, batch in [(10, 4), (7, 2)]:
        want = [np.arange(s, min(s + batch, n)).sum() for s in range(0, n, batch)]
        np.testing.assert_allclose(sums(_batches(n, batch)).numpy(), want)


def test_graph_tensor_array_element_shape_keeps_unknown_dims():
    shapes = []

    @tf.function(input_signature=[tf.TensorSpec([None, 2])])
    def rows(x):
        ta = tf.TensorArray(tf.float32, size=3)
        for i in tf.range(3):
            ta = ta.write(i, x * tf.cast(i, tf.float32))
        out = ta.stack()
        shapes.append(out.shape.as_list())
        return out

    for n in (1, 4):
        x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
        np.testing.assert_allclose(rows(tf.constant(x)).numpy(),
                                   np.stack([x * i for i in range(3)]))
    assert shapes[0] == [3, None, 2]   # TF 2.21: (3, None, 2)


def test_written_rows_of_unknown_size_get_gradients():
    @tf.function(input_signature=[tf.TensorSpec([None])])
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            for i in tf.range(3):
                ta = ta.write(i, x * tf.cast(i + 1, tf.float32))
            loss = tf.reduce_sum(ta.stack() ** 2)
        return tape.gradient(loss, x)

    for n in (2, 5):
        x = np.linspace(-1.0, 1.0, n).astype(np.float32)
        # d/dx sum_k (k x)^2 = 2 x (1 + 4 + 9)
        np.testing.assert_allclose(grad(tf.constant(x)).numpy(), 28.0 * x, rtol=1e-6)


def test_graph_writes_of_different_sizes_fail_at_run_time():
    @tf.function
    def ragged():
        ta = tf.TensorArray(tf.float32, size=2, infer_shape=False)
        return ta.write(0, [1.0]).write(1, [1.0, 2.0]).stack()

    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \[2\]"):
        ragged()   # TF 2.21: InvalidArgumentError too


# -- 2. a string TensorArray --------------------------------------------------------
def test_string_tensor_array_stack_holds_bytes():
    def suffixed(x):
        ta = tf.TensorArray(tf.string, size=0, dynamic_size=True)
        for i in tf.range(tf.size(x)):
            ta = ta.write(i, x[i] + b"!")
        return ta.stack()

    for words in ([b"a", b"bc"], [b"x", b"", b"yz"]):
        eager = suffixed(tf.constant(words)).numpy()
        graph = tf.function(suffixed)(tf.constant(words)).numpy()
        assert graph.tolist() == eager.tolist() == [w + b"!" for w in words]
        assert all(type(v) is bytes for v in graph)


# -- 3. captured tensors keep their None dims inside branches -------------------------
def test_cond_branches_keep_captured_unknown_dims():
    shapes = {}

    def pick(y, p):
        def doubled():
            z = tf.concat([y, y], 0)
            shapes.setdefault("concat", z.shape.as_list())
            return z

        def scaled():
            z = y * 1.0
            z.set_shape([None, 3])
            shapes.setdefault("set_shape", z.shape.as_list())
            return tf.concat([z, z * 2], 0)

        out = tf.cond(p, doubled, scaled)
        shapes.setdefault("out", out.shape.as_list())
        return out

    traced = tf.function(pick, input_signature=[tf.TensorSpec([None, 3]),
                                                tf.TensorSpec([], tf.bool)])
    for n, flag in [(2, True), (5, False), (1, True)]:
        y = tf.constant(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
        np.testing.assert_allclose(traced(y, tf.constant(flag)).numpy(),
                                   pick(y, tf.constant(flag)).numpy())
    # TF 2.21 prints (None, 3) for all three
    assert shapes == {"concat": [None, 3], "set_shape": [None, 3], "out": [None, 3]}


def test_set_shape_in_branch_refines_an_unknown_dim():
    shapes = []

    @tf.function(input_signature=[tf.TensorSpec([None, 3]), tf.TensorSpec([], tf.bool)])
    def f(y, p):
        def refined():
            z = y * 1.0
            z.set_shape([4, 3])   # TF: allowed, the batch size is unknown
            shapes.append(z.shape.as_list())
            return z
        out = tf.cond(p, refined, lambda: y + 1)
        shapes.append(out.shape.as_list())
        return out

    assert f(tf.ones([4, 3]), tf.constant(True)).numpy().sum() == 12.0
    assert f(tf.ones([2, 3]), tf.constant(False)).numpy().sum() == 12.0
    assert shapes[:2] == [[4, 3], [None, 3]]


def test_autograph_if_keeps_unknown_dims():
    shapes = []

    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def f(y):
        if tf.reduce_sum(y) > 0:
            z = y * 1.0
            z.set_shape([None, 3])
            z = tf.concat([z, y], axis=0)
        else:
            z = tf.concat([y, y], axis=0)
        shapes.append(z.shape.as_list())
        return z

    for n in (4, 1):
        assert f(tf.ones([n, 3])).shape == (2 * n, 3)
    assert shapes[0] == [None, 3]


# -- 4. a Variable of shape [None] -------------------------------------------------------
def test_variable_of_unknown_length_reads_unknown_in_traces():
    w = tf.Variable([1.0, 2.0], shape=[None])
    v = tf.Variable([1.0, 2.0], shape=tf.TensorShape(None))
    shapes = []

    @tf.function
    def total():
        shapes.append([tf.identity(w).shape.as_list(), w.read_value().shape.as_list(),
                       (w * 2).shape.as_list(), (v + 1).shape.rank])
        return tf.reduce_sum(w) + tf.reduce_sum(v)

    assert total().numpy() == 6.0
    w.assign([1.0, 2.0, 3.0])
    v.assign([[1.0], [2.0]])
    assert total().numpy() == 9.0   # no retrace needed: same graph, new lengths
    assert shapes[0] == [[None], [None], [None], None]

    @tf.function
    def refill(n):
        w.assign(tf.range(n, dtype=tf.float32))
        return w.read_value()

    for n in (3, 5, 1):   # the first is the traced length: later ones resize too
        np.testing.assert_array_equal(refill(tf.constant(n)).numpy(), np.arange(n))
        np.testing.assert_array_equal(w.numpy(), np.arange(n))
        assert w.shape.as_list() == [None]


# -- 5. data-dependent sizes in a concrete trace -------------------------------------------
def _sparse_parts(x):
    idx = tf.where(x > 0)
    return tf.sparse.from_dense(x), tf.gather_nd(x, idx), tf.boolean_mask(x, x > 0)


def test_value_sized_results_have_unknown_static_sizes():
    cf = tf.function(_sparse_parts).get_concrete_function(
        tf.TensorSpec([None, 3], tf.float32))
    sparse, gathered, masked = cf.structured_outputs
    assert isinstance(sparse, tf.SparseTensor)
    assert sparse.indices.shape.as_list() == [None, 2]
    assert sparse.values.shape.as_list() == [None]
    assert gathered.shape.as_list() == masked.shape.as_list() == [None]
    for x in ([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]], [[0.0, 0.0, 5.0]]):
        got = cf(tf.constant(x))
        want = _sparse_parts(tf.constant(x))
        assert isinstance(got[0], tf.SparseTensor)
        np.testing.assert_array_equal(got[0].indices.numpy(), want[0].indices.numpy())
        np.testing.assert_array_equal(got[0].values.numpy(), want[0].values.numpy())
        np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())
        np.testing.assert_array_equal(got[2].numpy(), want[2].numpy())


def test_gather_nd_static_shape_follows_the_indices():
    def gather(x, i):
        return tf.gather_nd(x, i)

    f = tf.function(gather)
    cf = f.get_concrete_function(tf.TensorSpec([4, 3]), tf.TensorSpec([None, 2], tf.int32))
    assert cf.structured_outputs.shape.as_list() == [None]
    cf = f.get_concrete_function(tf.TensorSpec([4, 3]), tf.TensorSpec([5, 1], tf.int32))
    assert cf.structured_outputs.shape.as_list() == [5, 3]
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3))
    for i in ([[0, 1], [3, 2]], [[1, 1]]):
        np.testing.assert_array_equal(f(x, tf.constant(i)).numpy(),
                                      gather(x, tf.constant(i)).numpy())


# -- 6. tf.image.extract_patches with an unknown batch ----------------------------------
def test_extract_patches_keeps_an_unknown_batch():
    shapes = []

    def patches(x):
        out = tf.image.extract_patches(x, sizes=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                       rates=[1, 1, 1, 1], padding="VALID")
        shapes.append(out.shape.as_list())
        return out

    cf = tf.function(patches).get_concrete_function(tf.TensorSpec([None, 4, 4, 1]))
    assert shapes == [[None, 2, 2, 4]]   # TF 2.21
    for b in (1, 3):
        x = tf.reshape(tf.range(b * 16, dtype=tf.float32), [b, 4, 4, 1])
        np.testing.assert_array_equal(cf(x).numpy(), patches(x).numpy())

    relaxed = tf.function(patches, reduce_retracing=True)
    shapes.clear()
    for b in (1, 2, 3):
        assert relaxed(tf.ones([b, 4, 4, 1])).shape == (b, 2, 2, 4)
    assert shapes[-1] == [None, 2, 2, 4]
