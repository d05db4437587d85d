"""tf.function gaps closed in round 15: py_function bodies that tracing does not
run (an untaken branch, get_concrete_function), static shapes TF leaves unknown
(cond branches of different shapes, scan over a None dim, while_loop
shape_invariants), tape snapshots of variables written by a replayed graph, and
ensure_shape's rejection of -1. Expected counts and shapes came from TF 2.21."""

import numpy as np
import pytest

import dlframe as tf


def _counting(calls, scale=2.0):
    def body(x):
        calls.append(x.numpy().tolist())
        return x * scale
    return body


# -- py_function bodies run only when the graph runs them ---------------------------

def test_py_function_in_untaken_autograph_branch_does_not_run():
    calls = []
    body = _counting(calls)

    @tf.function
    def f(x):
        if x > 0:
            y = tf.py_function(body, [x], tf.float32)
        else:
            y = x - 1.0
        return y

    assert f(tf.constant(-1.0)).numpy() == -2.0
    assert calls == []            # TF 2.21: []
    assert f(tf.constant(3.0)).numpy() == 6.0
    assert calls == [3.0]         # TF 2.21: [3.0]


def test_py_function_in_untaken_cond_branch_does_not_run():
    calls = []
    body = _counting(calls)

    @tf.function
    def g(x):
        return tf.cond(x > 0, lambda: tf.py_function(body, [x], tf.float32),
                       lambda: x)

    assert g(tf.constant(-2.0)).numpy() == -2.0
    assert calls == []
    assert g(tf.constant(2.0)).numpy() == 4.0
    assert calls == [2.0]


def test_get_concrete_function_does_not_run_the_body():
    calls = []
    body = _counting(calls)

    @tf.function
    def h(x):
        return tf.py_function(body, [x], tf.float32) + 1

    cf = h.get_concrete_function(tf.TensorSpec([], tf.float32))
    assert calls == []
    assert cf(tf.constant(5.0)).numpy() == 11.0
    assert calls == [5.0]
    assert h(tf.constant(6.0)).numpy() == 13.0
    assert calls == [5.0, 6.0]
    assert h.experimental_get_tracing_count() == 1
    assert h.get_concrete_function(tf.TensorSpec([], tf.float32)) is cf


def test_function_creating_a_variable_runs_the_body_once():
    calls = []
    body = _counting(calls)
    holder = []

    @tf.function
    def f(x):
        if not holder:
            holder.append(tf.Variable(1.0))
        return tf.py_function(body, [x], tf.float32) + holder[0]

    assert f(tf.constant(2.0)).numpy() == 5.0
    assert calls == [2.0]


def test_placeholder_shaped_by_set_shape_computes_right_values():
    calls = []

    def body(x):
        calls.append(1)
        return tf.ones([2, 2]) * x

    @tf.function
    def n(x):
        def taken():
            r = tf.py_function(body, [x], tf.float32)
            r.set_shape([2, 2])
            return tf.matmul(r, r)
        return tf.cond(x > 0, taken, lambda: tf.zeros([2, 2]))

    np.testing.assert_allclose(n(tf.constant(-1.0)).numpy(), np.zeros([2, 2]))
    assert calls == []
    np.testing.assert_allclose(n(tf.constant(3.0)).numpy(), np.full([2, 2], 18.0))
    assert calls == [1]


def test_ops_on_an_unshaped_result_see_the_real_values():
    # no set_shape: the branch is traced with the body run, so reductions,
    # reshapes and gradients are built for the real shapes
    def body(x):
        return tf.range(tf.cast(x, tf.int32) + 1, dtype=tf.float32) * 1.5

    w = tf.Variable(2.0)

    @tf.function
    def f(x):
        def taken():
            r = tf.py_function(body, [x], tf.float32)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(w * r)
            return tf.stack([tf.reduce_sum(tf.reshape(r, [-1])), tf.reduce_mean(r),
                             tape.gradient(loss, w), tf.cast(tf.size(r), tf.float32)])
        return tf.cond(x > 0, taken, lambda: tf.zeros([4]))

    for n in (3, 5):
        r = np.arange(n + 1) * 1.5
        np.testing.assert_allclose(f(tf.constant(float(n))).numpy(),
                                   [r.sum(), r.mean(), r.mean(), n + 1], rtol=1e-6)


def test_numpy_function_in_loop_runs_once_per_iteration():
    count = []

    def nb(x):
        count.append(1)
        return (x * 3).astype(np.float32)

    @tf.function
    def k(x):
        i = tf.constant(0)
        s = tf.zeros([3])
        while i < 3:
            r = tf.numpy_function(nb, [x], tf.float32)
            r.set_shape([3])
            s += r
            i += 1
        return s

    np.testing.assert_allclose(k(tf.constant([1.0, 2, 3])).numpy(), [9, 18, 27])
    assert len(count) == 3
    k(tf.constant([1.0, 2, 3]))
    assert len(count) == 6


def test_tf_shape_of_a_py_function_result_follows_each_call():
    @tf.function
    def sh(n):
        r = tf.py_function(lambda m: tf.range(m), [n], tf.int32)
        return tf.shape(r)[0]

    assert sh(tf.constant(3)).numpy() == 3
    assert sh(tf.constant(5)).numpy() == 5


def test_ensure_shape_in_a_branch_sets_the_static_shape():
    seen = []

    @tf.function
    def es(x):
        def taken():
            r = tf.py_function(lambda a: a * 2, [x], tf.float32)
            r = tf.ensure_shape(r, [None, 2])
            seen.append(r.shape.as_list())
            return tf.matmul(r, r, transpose_b=True)
        return tf.cond(tf.reduce_sum(x) > 0, taken, lambda: tf.zeros([2, 2]))

    np.testing.assert_allclose(es(tf.ones([2, 2])).numpy(), np.full([2, 2], 8.0))
    # (a None dim leaves sizes unknown: the branch is traced again with the body run)
    assert seen[-1] == [None, 2]


# -- static shapes TF leaves unknown ---------------------------------------------

def test_cond_of_branches_with_different_shapes():
    shapes = {}

    @tf.function
    def c(x):
        y = tf.cond(x[0] > 0, lambda: x[:1], lambda: x)
        z = tf.cond(x[0] > 0, lambda: tf.reshape(x, [2, 1]), lambda: x)
        same = tf.cond(x[0] > 0, lambda: x * 2, lambda: x)
        shapes.update(y=y.shape, z=z.shape, same=same.shape)
        return tf.shape(y), tf.shape(z)

    y_shape, z_shape = c(tf.constant([1.0, 2.0]))
    assert y_shape.numpy().tolist() == [1] and z_shape.numpy().tolist() == [2, 1]
    assert shapes["y"].as_list() == [None]
    assert shapes["z"].rank is None
    assert shapes["same"].as_list() == [2]
    # tf.shape of the result runs with the graph: the other branch's shape
    y_shape, z_shape = c(tf.constant([-1.0, 2.0]))
    assert y_shape.numpy().tolist() == [2] and z_shape.numpy().tolist() == [2]


def test_scan_and_map_fn_over_a_none_dim():
    shapes = []

    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def f(x):
        a = tf.scan(lambda acc, r: acc + r, x)
        b = tf.map_fn(lambda r: r * 2, x)
        shapes.extend([a.shape.as_list(), b.shape.as_list()])
        return a

    np.testing.assert_allclose(f(tf.ones([4, 3])).numpy(),
                               np.cumsum(np.ones([4, 3]), 0))
    assert shapes == [[None, 3], [None, 3]]


def test_while_loop_outputs_take_their_shape_invariants():
    shapes = []

    @tf.function
    def f(x):
        i = tf.constant(0)
        _, grown = tf.while_loop(
            lambda i, r: i < 3, lambda i, r: (i + 1, tf.concat([r, r], 0)), [i, x],
            shape_invariants=[i.shape, tf.TensorShape([None])])
        _, kept = tf.while_loop(lambda i, r: i < 3, lambda i, r: (i + 1, r * 2), [i, x])
        shapes.extend([grown.shape.as_list(), kept.shape.as_list()])
        return grown

    assert f(tf.constant([1.0, 2.0])).numpy().tolist() == [1.0, 2.0] * 8
    assert shapes == [[None], [2]]


@pytest.mark.parametrize("shape", [[-1], [None, -1], [2, -1]])
def test_ensure_shape_rejects_minus_one(shape):
    with pytest.raises(ValueError, match="Dimension -1 must be >= 0"):
        tf.ensure_shape(tf.ones([2, 3]), shape)

    @tf.function
    def f(x):
        return tf.ensure_shape(x, shape)

    with pytest.raises(ValueError, match="Dimension -1 must be >= 0"):
        f(tf.ones([2, 3]))
    assert tf.ensure_shape(tf.ones([2, 3]), [None, 3]).shape.as_list() == [2, 3]


# -- tapes keep the value a replayed graph overwrites -----------------------------

def test_tape_keeps_variable_value_written_in_graph_loop_and_branch():
    v = tf.Variable(3.0)

    @tf.function
    def bump_loop():
        for _ in tf.range(2):
            v.assign_add(1.0)

    @tf.function
    def bump_branch(p):
        if p > 0:
            v.assign(10.0)
        return p

    @tf.function
    def bump_plain():
        v.assign_add(1.0)

    bump_loop()
    bump_branch(tf.constant(0))
    bump_plain()   # each traced once already: the writes below replay graphs
    for write in (bump_loop, lambda: bump_branch(tf.constant(1)), bump_plain):
        old = float(v.numpy())
        with tf.GradientTape(persistent=True) as tape:
            y = v * v
        write()
        assert float(v.numpy()) != old
        assert tape.gradient(y, v).numpy() == pytest.approx(2 * old)


def test_tensor_array_stack_shapes_in_a_function():
    shapes = []

    @tf.function
    def f(n):
        fixed = tf.TensorArray(tf.float32, size=3)
        grown = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        sized = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            fixed = fixed.write(i, tf.ones([2]))
            grown = grown.write(i, tf.cast(i, tf.float32) ** 2)
            sized = sized.write(i, tf.ones([2]))
        out = sized.stack()
        shapes.extend([fixed.stack().shape.as_list(), grown.stack().shape.as_list(),
                       out.shape.as_list()])
        return grown.stack(), tf.shape(out)

    squares, sized_shape = f(tf.constant(3))
    assert squares.numpy().tolist() == [0.0, 1.0, 4.0]
    assert sized_shape.numpy().tolist() == [3, 2]
    assert shapes == [[3, 2], [None], [None, 2]]   # TF 2.21
    squares, sized_shape = f(tf.constant(2))
    assert squares.numpy().tolist() == [0.0, 1.0]
    assert sized_shape.numpy().tolist() == [2, 2]


def test_output_free_py_function_in_loop_branch_and_concrete_function():
    log = []

    def side(i):
        log.append(int(i))
        return []

    @tf.function
    def f(n):
        for i in tf.range(n):
            if i % 2 == 0:
                tf.py_function(side, [i], [])
        return n

    f(tf.constant(5))
    assert log == [0, 2, 4]        # TF 2.21
    log.clear()
    cf = f.get_concrete_function(tf.TensorSpec([], tf.int32))
    assert log == []
    cf(tf.constant(3))
    assert log == [0, 2]


def test_stateless_numpy_function_in_untaken_branch_does_not_run():
    calls = []

    def twice(x):
        calls.append(1)
        return x * 2

    @tf.function
    def g(x):
        return tf.cond(x > 0, lambda: tf.numpy_function(twice, [x], tf.float32,
                                                        stateful=False),
                       lambda: x)

    assert g(tf.constant(-1.0)).numpy() == -1.0
    assert calls == []
    assert g(tf.constant(2.0)).numpy() == 4.0
    assert calls == [1]
