"""cond / case / switch_case / while_loop eagerly and in graphs, and AutoGraph."""

import numpy as np
import pytest

import dlframe as tf


@pytest.mark.parametrize("compiled", [False, True])
def test_cond_both_paths(compiled):
    def f(x):
        return tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: -x)
    g = tf.function(f) if compiled else f
    assert g(tf.constant([1., 2.])).numpy().tolist() == [2., 4.]
    assert g(tf.constant([-1., -2.])).numpy().tolist() == [1., 2.]
    if compiled:
        assert g.experimental_get_tracing_count() == 1


def test_cond_gradient_in_graph_matches_eager():
    v = tf.Variable(1.5)

    def grads(a):
        with tf.GradientTape() as tape:
            y = tf.cond(a > 0, lambda: v * v * a, lambda: tf.sin(v) * a)
        return tape.gradient(y, v)
    compiled = tf.function(grads)
    for a in (2.0, -2.0):
        np.testing.assert_allclose(compiled(tf.constant(a)).numpy(),
                                   grads(tf.constant(a)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(compiled(tf.constant(-2.0)).numpy(), np.cos(1.5) * -2.0,
                               rtol=1e-6)


def test_cond_structure_mismatch():
    @tf.function
    def f(x):
        return tf.cond(x > 0, lambda: (x, x), lambda: x)
    with pytest.raises(ValueError, match="same"):
        f(tf.constant(1.0))


def test_case_and_switch_case():
    def f(i):
        return tf.switch_case(i, [lambda: tf.constant(10), lambda: tf.constant(20),
                                  lambda: tf.constant(30)])
    g = tf.function(f)
    for i, expect in [(0, 10), (1, 20), (2, 30), (7, 30)]:
        assert f(tf.constant(i)).numpy() == expect
        assert g(tf.constant(i)).numpy() == expect
    x = tf.constant(3)
    r = tf.case([(x < 2, lambda: tf.constant(1)), (x < 5, lambda: tf.constant(2))],
                default=lambda: tf.constant(3))
    assert r.numpy() == 2


@pytest.mark.parametrize("compiled", [False, True])
def test_while_loop(compiled):
    def f(n):
        return tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i),
                             [tf.constant(0), tf.constant(0)])
    g = tf.function(f) if compiled else f
    i, s = g(tf.constant(5))
    assert (i.numpy(), s.numpy()) == (5, 10)
    i, s = g(tf.constant(10))
    assert s.numpy() == 45
    i, s = tf.while_loop(lambda i, s: True, lambda i, s: (i + 1, s),
                         [tf.constant(0), tf.constant(0)], maximum_iterations=3)
    assert i.numpy() == 3


def test_while_loop_shape_change_needs_invariants():
    # only a traced loop checks shapes: TF's eager while_loop lets them change
    with pytest.raises(ValueError, match="shape_invariants"):
        tf.function(lambda x: tf.while_loop(
            lambda x: tf.size(x) < 4, lambda x: tf.concat([x, x], 0), [x]))(
                tf.constant([1]))
    out = tf.while_loop(lambda x: tf.size(x) < 4, lambda x: tf.concat([x, x], 0),
                        [tf.constant([1])], shape_invariants=[tf.TensorShape([None])])
    assert out[0].numpy().tolist() == [1, 1, 1, 1]


def test_autograph_if_while_for_logic(capsys):
    @tf.function
    def f(x, n):
        if tf.reduce_sum(x) > 0:
            y = x * 2.0
        else:
            y = -x
        i = tf.constant(0)
        while i < n:
            y = y + 1.0
            i += 1
        total = tf.constant(0.0)
        for k in range(n):
            total += tf.cast(k, tf.float32)
        if total > 2.0 and not total > 100.0:
            total = total * 10.0
        return y, total

    y, tot = f(tf.constant([1., 2.]), tf.constant(3))
    assert y.numpy().tolist() == [5., 7.] and tot.numpy() == 30.0
    y, tot = f(tf.constant([-1., -2.]), tf.constant(1))
    assert y.numpy().tolist() == [2., 3.] and tot.numpy() == 0.0
    assert f.experimental_get_tracing_count() == 1


def test_autograph_early_return_and_tensor_iteration():
    @tf.function
    def g(x):
        if tf.reduce_max(x) < 10:
            return x + 1.0
        return x - 1.0

    assert g(tf.constant([1.])).numpy().tolist() == [2.]
    assert g(tf.constant([20.])).numpy().tolist() == [19.]

    @tf.function
    def rows(m):
        acc = tf.zeros([2])
        for row in m:
            acc = acc + row
        return acc
    assert rows(tf.constant([[1., 2.], [3., 4.]])).numpy().tolist() == [4., 6.]
    assert g.experimental_get_tracing_count() == 1


def test_autograph_converts_called_user_functions():
    def helper(x):
        if x > 0:
            return x
        return -x

    @tf.function
    def f(x):
        return helper(x) * 2.0
    assert f(tf.constant(-3.0)).numpy() == 6.0
    assert f(tf.constant(4.0)).numpy() == 8.0


def test_to_code_and_do_not_convert():
    def f(x):
        if x > 0:
            x = x + 1
        return x
    code = tf.autograph.to_code(f)
    assert "if_stmt" in code

    @tf.autograph.experimental.do_not_convert
    def raw(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(TypeError):
        tf.function(lambda x: raw(x))(tf.constant(1.0))


def _py_first_over(xs, limit):
    total, i = 0.0, 0
    while i < len(xs):
        v = xs[i]
        i += 1
        if v < 0:
            continue
        total += v
        if total > limit:
            break
    return total, i


def test_autograph_break_and_continue_in_while():
    @tf.function
    def first_over(x, limit):
        total = tf.constant(0.0)
        i = tf.constant(0)
        while i < tf.size(x):
            v = x[i]                 # a per-iteration temporary, not loop state
            i += 1
            if v < 0:
                continue
            total += v
            if total > limit:
                break
        return total, i

    for xs, lim in (([1., -2., 3., 4., 5.], 3.5), ([1., 2., 7., 8., 9.], 100.),
                    ([-1., -1., 9., 1., 1.], 0.)):
        total, i = first_over(tf.constant(xs), tf.constant(lim))
        assert (total.numpy().item(), int(i)) == _py_first_over(xs, lim)
    assert first_over.experimental_get_tracing_count() == 1


def test_autograph_break_and_continue_in_for_over_tf_range():
    @tf.function
    def evens_until(n, stop):
        s = tf.constant(0)
        for k in tf.range(n):
            if k % 2 == 1:
                continue
            if k > stop:
                break
            s += k
        return s

    for n, stop in ((20, 6), (5, 100), (20, 0)):
        expect = sum(k for k in range(n) if k % 2 == 0 and k <= stop)
        assert evens_until(tf.constant(n), tf.constant(stop)).numpy() == expect
    assert evens_until.experimental_get_tracing_count() == 1


def test_autograph_break_in_python_loops_stays_python():
    @tf.function
    def f(x):
        for k in range(10):
            if k == 3:
                break
            x = x + 1.0
        return x
    assert f(tf.constant(0.0)).numpy() == 3.0


def test_gradient_through_data_dependent_while_loop_in_graph():
    """The loop runs a number of iterations known only at run time; gradients of the
    loop input and of a Variable read in the body equal eager ones, and finite
    differences, for several counts with one trace."""
    w = tf.Variable(1.1, dtype=tf.float64)

    def grads(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            _, y = tf.while_loop(lambda i, y: i < n,
                                 lambda i, y: (i + 1, tf.sin(y) * w + y * 0.5),
                                 [tf.constant(0), x])
            loss = y * y
        return tape.gradient(loss, [x, w])

    def loss_value(x0, n):
        y = x0
        for _ in range(n):
            y = np.sin(y) * 1.1 + y * 0.5
        return y * y

    compiled = tf.function(grads)
    for n in (1, 3, 5):
        ge = grads(tf.constant(0.7, tf.float64), tf.constant(n))
        gc = compiled(tf.constant(0.7, tf.float64), tf.constant(n))
        for a, b in zip(gc, ge):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
        fd = (loss_value(0.7 + 1e-6, n) - loss_value(0.7 - 1e-6, n)) / 2e-6
        np.testing.assert_allclose(gc[0].numpy(), fd, rtol=1e-6)
    assert compiled.experimental_get_tracing_count() == 1
