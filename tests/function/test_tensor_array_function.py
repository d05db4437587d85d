"""tf.TensorArray inside dlframe.function: the AutoGraph loop pattern
``ta = ta.write(i, x)`` under ``for i in tf.range(n)``, graph while_loop/cond
carrying arrays, and gradients through write->stack and unstack->read in graphs."""

import numpy as np
import pytest

import dlframe as tf


def _loop_attrs(fn, *args):
    """Attributes of the forward while loops (kept for a gradient) of ``fn``'s graph."""
    graph = fn.get_concrete_function(*args).graph
    return [step[4] for name, step in zip(graph.step_names, graph.program)
            if name == "WhileWithHistory"]


@tf.function
def _classic(x, n):
    ta = tf.TensorArray(tf.float32, size=n)
    for i in tf.range(n):
        ta = ta.write(i, x * tf.cast(i, tf.float32))
    return ta.stack()


@tf.function
def _dynamic(x, n):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i in tf.range(n):
        ta = ta.write(i, x * tf.cast(i, tf.float32))
    return ta.stack(), ta.size()


def test_classic_loop_pattern_matches_numpy():
    x = tf.constant([1.0, 2.0])
    for n in (3, 5, 0):     # one trace, run-time trip counts
        expect = np.arange(n, dtype=np.float32)[:, None] * x.numpy()
        got = _classic(x, tf.constant(n))
        np.testing.assert_array_equal(got.numpy(), expect.reshape(n, 2))
    assert _classic.experimental_get_tracing_count() == 1


def test_dynamic_size_loop():
    x = tf.constant([1.0, 2.0])
    for n in (3, 0, 6):
        stacked, size = _dynamic(x, tf.constant(n))
        assert size.numpy() == n
        np.testing.assert_array_equal(stacked.numpy(),
                                      np.arange(n, dtype=np.float32)[:, None] * [1, 2])


def test_graph_api_matches_eager():
    def fn(x, idx):
        ta = tf.TensorArray(tf.float32, size=4, clear_after_read=False)
        ta = ta.unstack(x)
        a = ta.read(idx)
        b = ta.gather(tf.constant([3, 1]))
        ta2 = tf.TensorArray(tf.float32, size=4).scatter([3, 0], x[:2] * 10.0)
        ta3 = tf.TensorArray(tf.float32, size=2).split(tf.reshape(x, [-1]), [4, 4])
        return a, b, ta2.stack(), ta3.concat(), ta.size(), ta3.read(1)
    x = tf.constant(np.arange(8, dtype=np.float32).reshape(4, 2))
    eager = fn(x, tf.constant(2))
    graph = tf.function(fn)(x, tf.constant(2))
    for e, g in zip(eager, graph):
        np.testing.assert_array_equal(g.numpy(), e.numpy())


def test_symbolic_size_and_known_element_shape():
    @tf.function
    def fn(n):
        ta = tf.TensorArray(tf.float32, size=n, element_shape=[2])
        ta = ta.write(1, [1.0, 2.0])
        return ta.stack(), ta.read(0), ta.size()
    stacked, first, size = fn(tf.constant(3))
    np.testing.assert_array_equal(stacked.numpy(), [[0, 0], [1, 2], [0, 0]])
    np.testing.assert_array_equal(first.numpy(), [0, 0])
    assert size.numpy() == 3
    assert fn(tf.constant(5))[0].shape == (5, 2)


def _grad_in_function(fn, x, *args):
    @tf.function
    def step(x, *args):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.square(fn(x, *args)))
        return tape.gradient(y, x)
    return step(x, *args)


def test_gradient_write_stack_in_graph_loop():
    x = tf.constant([1.0, 2.0])
    n = tf.constant(3)
    expect = 2 * x.numpy() * (0 + 1 + 4)       # d/dx sum((i x)^2)
    np.testing.assert_allclose(_grad_in_function(_classic, x, n).numpy(), expect)
    np.testing.assert_allclose(
        _grad_in_function(lambda x, n: _dynamic(x, n)[0], x, n).numpy(), expect)
    with tf.GradientTape() as tape:   # an outer tape runs the function eagerly
        tape.watch(x)
        y = tf.reduce_sum(tf.square(_classic(x, n)))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expect)


def test_write_only_buffers_are_replayed_from_their_final_value():
    x, n = tf.constant([1.0, 2.0]), tf.constant(3)

    def loss(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(_classic(x, n)) + tf.reduce_sum(_dynamic(x, n)[0])
        return tape.gradient(y, x)
    attrs = _loop_attrs(tf.function(loss), x, n)
    assert len(attrs) == 2
    # loop state: (counter, buffer); the buffer is only written: no history copies
    assert all(a["from_end"] == (1,) for a in attrs)
    assert [a["relaxed"] for a in attrs] == [(), (1,)]   # a dynamic buffer may grow


def test_gradient_unstack_read_in_graph_loop():
    @tf.function
    def weighted(x):
        ta = tf.TensorArray(tf.float32, size=3).unstack(x)
        total = tf.zeros([2])
        for i in tf.range(3):
            total += ta.read(i) * tf.cast(i + 1, tf.float32)
        return total
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    expect = 2 * (np.arange(1, 4)[:, None] * x.numpy()).sum(0) * np.arange(1, 4)[:, None]
    np.testing.assert_allclose(_grad_in_function(weighted, x).numpy(),
                               np.broadcast_to(expect, (3, 2)))


def test_gradient_of_a_recurrence_reading_and_writing():
    def rec(x):
        ta = tf.TensorArray(tf.float64, size=4, clear_after_read=False).write(0, x)
        for i in tf.range(1, 4):
            ta = ta.write(i, tf.sin(ta.read(i - 1)) * 2.0)
        return ta.stack()

    def reference(x):
        out = [x]
        for _ in range(3):
            out.append(np.sin(out[-1]) * 2.0)
        return np.stack(out)
    x0 = np.array([0.3, 0.7])
    np.testing.assert_allclose(tf.function(rec)(tf.constant(x0)).numpy(), reference(x0))
    got = _grad_in_function(tf.function(rec), tf.constant(x0)).numpy()
    eps = 1e-6
    num = [(np.sum(reference(x0 + eps * e) ** 2) - np.sum(reference(x0 - eps * e) ** 2))
           / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(got, num, rtol=1e-6)


def test_while_loop_and_cond_carry_tensor_arrays():
    @tf.function
    def fn(n, flag):
        ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        _, ta = tf.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, i * i)),
                              [tf.constant(0), ta])
        pair = tf.TensorArray(tf.int32, size=2).write(0, 7)
        if flag:
            pair = pair.write(1, 1)
        else:
            pair = pair.write(1, 2)
        return ta.stack(), pair.stack()
    squares, pair = fn(tf.constant(5), tf.constant(True))
    np.testing.assert_array_equal(squares.numpy(), [0, 1, 4, 9, 16])
    np.testing.assert_array_equal(pair.numpy(), [7, 1])
    np.testing.assert_array_equal(fn(tf.constant(2), tf.constant(False))[1].numpy(), [7, 2])


def test_nested_loops_build_a_matrix():
    @tf.function
    def table(n, m):
        rows = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            row = tf.TensorArray(tf.float32, size=m)
            for j in tf.range(m):
                row = row.write(j, tf.cast(i * 10 + j, tf.float32))
            rows = rows.write(i, row.stack())
        return rows.stack()
    expect = np.arange(3)[:, None] * 10 + np.arange(4)
    np.testing.assert_array_equal(table(tf.constant(3), tf.constant(4)).numpy(), expect)


def test_graph_errors():
    @tf.function
    def ragged():
        ta = tf.TensorArray(tf.float32, size=2, infer_shape=False)
        return ta.write(0, [1.0]).write(1, [1.0, 2.0]).stack()
    with pytest.raises(tf.errors.InvalidArgumentError, match="one shape"):  # as TF
        ragged()

    @tf.function
    def out_of_range(i):
        return tf.TensorArray(tf.float32, size=2).write(i, 1.0).stack()
    with pytest.raises(tf.errors.InvalidArgumentError,   # TF 2.21's graph error
                       match="Trying to modify element 4 in a list with 2 elements"):
        out_of_range(tf.constant(4))

    @tf.function
    def unknown():
        return tf.TensorArray(tf.float32, size=2).stack()
    with pytest.raises(tf.errors.InvalidArgumentError, match="uninitialized"):
        unknown()


def test_array_written_in_one_branch_only():
    @tf.function
    def fn(flag, x):
        ta = tf.TensorArray(tf.float32, size=2)
        if flag:
            ta = ta.write(1, x)
        return ta.stack()
    np.testing.assert_array_equal(fn(tf.constant(True), tf.constant([1.0, 2.0])).numpy(),
                                  [[0, 0], [1, 2]])
    np.testing.assert_array_equal(fn(tf.constant(False), tf.constant([1.0, 2.0])).numpy(),
                                  [[0, 0], [0, 0]])


def test_rnn_over_tensor_arrays_matches_eager_gradients():
    rng = np.random.default_rng(0)
    kernel = tf.Variable(rng.standard_normal((3, 4)) * 0.5)
    recurrent = tf.Variable(rng.standard_normal((4, 4)) * 0.5)

    def step(xs):
        with tf.GradientTape() as tape:
            inputs = tf.TensorArray(tf.float64, size=xs.shape[0]).unstack(xs)
            outs = tf.TensorArray(tf.float64, size=xs.shape[0])
            h = tf.zeros([2, 4], tf.float64)
            for t in tf.range(xs.shape[0]):
                h = tf.tanh(tf.matmul(inputs.read(t), kernel) + tf.matmul(h, recurrent))
                outs = outs.write(t, h)
            loss = tf.reduce_sum(outs.stack() ** 2)
        return [loss] + tape.gradient(loss, [kernel, recurrent])
    xs = tf.constant(rng.standard_normal((5, 2, 3)))
    for e, g in zip(step(xs), tf.function(step)(xs)):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)


def test_second_derivative_through_graph_loop_writes():
    def second(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                ta = tf.TensorArray(tf.float64, size=3)
                for i in tf.range(3):
                    ta = ta.write(i, x ** 3 * tf.cast(i + 1, tf.float64))
                y = tf.reduce_sum(ta.stack())
            g = inner.gradient(y, x)
        return g, outer.gradient(g, x)
    g, gg = tf.function(second)(tf.constant(1.5, tf.float64))
    np.testing.assert_allclose([g.numpy(), gg.numpy()], [18 * 1.5 ** 2, 36 * 1.5])


def test_gradient_of_conditional_writes_into_a_growing_array():
    @tf.function
    def fn(xs):
        with tf.GradientTape() as tape:
            tape.watch(xs)
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            i = 0
            for x in xs:
                if tf.reduce_sum(x) > 2.0:      # a cond whose branches write or pass
                    ta = ta.write(i, x * x)
                    i += 1
            y = tf.reduce_sum(ta.stack())
        return ta.stack(), tape.gradient(y, xs)
    xs = tf.constant([[1.0, 0.0], [3.0, 4.0], [5.0, 0.0]])
    kept, grad = fn(xs)
    np.testing.assert_array_equal(kept.numpy(), [[9, 16], [25, 0]])
    np.testing.assert_array_equal(grad.numpy(), [[0, 0], [6, 8], [10, 0]])


def test_graph_gradients_of_the_array_api_match_eager():
    def fn(x):
        ta = tf.TensorArray(tf.float64, size=4, clear_after_read=False).unstack(x)
        picked = ta.gather(tf.constant([3, 1, 3])) * 2.0
        scattered = tf.TensorArray(tf.float64, size=4).scatter([2, 0], x[:2] ** 2)
        parts = tf.TensorArray(tf.float64, size=2).split(tf.reshape(x, [-1]), [4, 4])
        return (tf.reduce_sum(picked * picked) + tf.reduce_sum(scattered.stack() * x)
                + tf.reduce_sum(parts.concat() ** 3) + tf.reduce_sum(ta.read(2)))

    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return tape.gradient(y, x)
    x = tf.constant(np.arange(8.0).reshape(4, 2) / 7)
    np.testing.assert_allclose(tf.function(grad)(x).numpy(), grad(x).numpy(), rtol=1e-12)


def test_a_returned_tensor_array_holds_each_calls_values():
    # TF hands back an opaque variant tensor here; dlframe a TensorArray of this call
    @tf.function
    def f(n):
        ta = tf.TensorArray(tf.float32, size=3)
        for i in tf.range(3):
            ta = ta.write(i, tf.cast(i, tf.float32) * n)
        return ta
    for n in (1.0, 2.0, 3.0):
        ta = f(tf.constant(n))
        np.testing.assert_allclose(ta.stack().numpy(), [0.0, n, 2 * n])
        assert float(ta.read(2)) == 2 * n
