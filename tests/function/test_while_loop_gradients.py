"""Gradients through compiled while_loop (and cond) inside dlframe.function.

The backward pass re-runs the body only for its values: variable writes and prints
in the body happen once per forward iteration, never again in the backward pass.
The backward loop is itself made of differentiable ops, so nested tapes give second
(and higher) derivatives, and jacobians work, with run-time trip counts.
"""

import sys

import numpy as np
import pytest

import dlframe as tf


def _f64(x):
    return tf.constant(x, tf.float64)


# ------------------------------------------------------------ effects run once
def test_while_gradient_runs_body_effects_once(capfd):
    counter = tf.Variable(0.0, dtype=tf.float64)
    w = tf.Variable(1.3, dtype=tf.float64)

    def grads(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)

            def body(i, y):
                counter.assign_add(1.0)
                tf.print("step", i, output_stream=sys.stdout)
                return i + 1, tf.sin(y) * w + 0.5 * y

            _, y = tf.while_loop(lambda i, y: i < n, body, [tf.constant(0), x])
            loss = y * y
        return (loss,) + tuple(tape.gradient(loss, [x, w]))

    def loss_value(x0, w0, n):
        y = x0
        for _ in range(n):
            y = np.sin(y) * w0 + 0.5 * y
        return y * y

    compiled = tf.function(grads)
    for n in (3, 0, 1, 5):
        before = counter.numpy()
        loss, gx, gw = compiled(_f64(0.7), tf.constant(n))
        assert counter.numpy() - before == n
        assert capfd.readouterr().out.splitlines() == [f"step {k}" for k in range(n)]
        counter.assign(before)
        eager = grads(_f64(0.7), tf.constant(n))
        capfd.readouterr()
        for a, b in zip((loss, gx, gw), eager):  # eager: None if w was never read
            np.testing.assert_allclose(a.numpy(), 0.0 if b is None else b.numpy(),
                                       rtol=1e-12)
        fd_x = (loss_value(0.7 + 1e-6, 1.3, n) - loss_value(0.7 - 1e-6, 1.3, n)) / 2e-6
        fd_w = (loss_value(0.7, 1.3 + 1e-6, n) - loss_value(0.7, 1.3 - 1e-6, n)) / 2e-6
        np.testing.assert_allclose([gx.numpy(), gw.numpy()], [fd_x, fd_w], rtol=1e-6,
                                   atol=1e-12)
    assert compiled.experimental_get_tracing_count() == 1


def test_autograph_while_gradient_with_nested_effects_once(capfd):
    """A Python while on a tensor, with an `if` that prints and an inner loop that
    counts: both effects run once per forward iteration."""
    counter = tf.Variable(0.0)

    @tf.function
    def f(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            i = tf.constant(0)
            y = x
            while i < n:
                if i % 2 == 0:
                    tf.print("even", i, output_stream=sys.stdout)
                j = tf.constant(0)
                while j < 2:
                    counter.assign_add(1.0)
                    j += 1
                y = y * x
                i += 1
        return tape.gradient(y, x)

    for n in (4, 1, 3):
        counter.assign(0.0)
        g = f(tf.constant(1.5), tf.constant(n))
        np.testing.assert_allclose(g.numpy(), (n + 1) * 1.5 ** n, rtol=1e-6)
        assert counter.numpy() == 2 * n
        assert capfd.readouterr().out.splitlines() == [f"even {k}"
                                                       for k in range(0, n, 2)]


def test_cond_gradient_runs_branch_effects_once(capfd):
    counter = tf.Variable(0.0, dtype=tf.float64)

    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)

            def positive():
                counter.assign_add(1.0)
                tf.print("positive", output_stream=sys.stdout)
                return x * x * x

            y = tf.cond(x > 0, positive, lambda: tf.sin(x))
        return tape.gradient(y, x)

    for x, expected, runs in ((2.0, 12.0, 1), (-1.0, np.cos(-1.0), 0), (0.5, 0.75, 1)):
        before = counter.numpy()
        np.testing.assert_allclose(f(_f64(x)).numpy(), expected, rtol=1e-12)
        assert counter.numpy() - before == runs
        assert capfd.readouterr().out.splitlines() == ["positive"] * runs


def test_second_order_gradient_runs_effects_once():
    counter = tf.Variable(0.0, dtype=tf.float64)

    @tf.function
    def f(x, n):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)

                def body(i, y):
                    counter.assign_add(1.0)
                    return i + 1, y * x

                _, y = tf.while_loop(lambda i, y: i < n, body, [tf.constant(0), x])
            g = inner.gradient(y, x)
        return g, outer.gradient(g, x)

    for n in (3, 2):
        before = counter.numpy()
        g, h = f(_f64(1.5), tf.constant(n))
        assert counter.numpy() - before == n
        p = n + 1  # y = x ** (n + 1)
        np.testing.assert_allclose([g.numpy(), h.numpy()],
                                   [p * 1.5 ** (p - 1), p * (p - 1) * 1.5 ** (p - 2)])


# ------------------------------------------------------- higher-order gradients
def _power_loop_derivatives(x, n, order):
    """Derivatives 1..order of x ** n computed by a loop multiplying by x."""
    tapes = [tf.GradientTape() for _ in range(order)]
    for tape in tapes:
        tape.__enter__()
        tape.watch(x)
    _, y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x),
                         [tf.constant(0), tf.ones_like(x)])
    out = []
    for tape in reversed(tapes):
        tape.__exit__(None, None, None)
        y = tape.gradient(y, x)
        out.append(y)
    return out


def test_second_and_third_derivative_of_power_loop():
    compiled = tf.function(_power_loop_derivatives)
    for n in (0, 4, 1, 2, 3, 6):  # traced with zero iterations first
        x = 1.3
        got = compiled(_f64(x), tf.constant(n), 3)
        eager = _power_loop_derivatives(_f64(x), tf.constant(n), 3)
        analytic = [n * x ** (n - 1) if n >= 1 else 0.0,
                    n * (n - 1) * x ** (n - 2) if n >= 2 else 0.0,
                    n * (n - 1) * (n - 2) * x ** (n - 3) if n >= 3 else 0.0]
        for g, e, a in zip(got, eager, analytic):
            np.testing.assert_allclose(g.numpy(), a, rtol=1e-12, atol=1e-12)
            if e is not None:  # eager: None where x never met a loop op
                np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)
    assert compiled.experimental_get_tracing_count() == 1


def test_second_derivative_of_sin_loop_matches_eager_and_differences():
    def first_and_second(x, n):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, tf.sin(y)),
                                  (tf.constant(0), x))[1]
            g = inner.gradient(y, x)
        return g, outer.gradient(g, x)

    def first(x0, n):
        y, d = x0, 1.0
        for _ in range(n):
            y, d = np.sin(y), d * np.cos(y)
        return d

    compiled = tf.function(first_and_second)
    x = _f64([0.3, -1.2, 2.0])
    for n in (1, 3, 5):
        g, h = compiled(x, tf.constant(n))
        ge, he = first_and_second(x, tf.constant(n))
        np.testing.assert_allclose(g.numpy(), ge.numpy(), rtol=1e-12)
        np.testing.assert_allclose(h.numpy(), he.numpy(), rtol=1e-12)
        x0 = x.numpy()
        fd = (first(x0 + 1e-6, n) - first(x0 - 1e-6, n)) / 2e-6
        np.testing.assert_allclose(h.numpy(), fd, rtol=1e-6, atol=1e-9)
    assert compiled.experimental_get_tracing_count() == 1


def test_mixed_second_derivative_with_variable_in_body():
    w = tf.Variable(0.8, dtype=tf.float64)

    def mixed(x, n):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                _, y = tf.while_loop(lambda i, y: i < n,
                                     lambda i, y: (i + 1, tf.tanh(y * w) + x),
                                     [tf.constant(0), x])
                loss = tf.reduce_sum(y * y)
            gx = inner.gradient(loss, x)
            s = tf.reduce_sum(gx)
        return gx, outer.gradient(s, w)

    compiled = tf.function(mixed)
    x = _f64([0.5, -0.3])
    for n in (2, 4):
        for a, b in zip(compiled(x, tf.constant(n)), mixed(x, tf.constant(n))):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-11)
        # d/dw of sum(dloss/dx) by central differences
        def s(w0, n=n):
            w.assign(w0)
            return np.sum(mixed(x, tf.constant(n))[0].numpy())
        fd = (s(0.8 + 1e-6) - s(0.8 - 1e-6)) / 2e-6
        w.assign(0.8)
        np.testing.assert_allclose(compiled(x, tf.constant(n))[1].numpy(), fd,
                                   rtol=1e-6)


def test_jacobian_and_batch_jacobian_through_while_loop():
    def jacobians(x, n):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            _, y = tf.while_loop(lambda i, y: i < n,
                                 lambda i, y: (i + 1, tf.sin(y) * x + 0.1 * y),
                                 [tf.constant(0), x])
        return tape.jacobian(y, x), tape.batch_jacobian(y, x)

    compiled = tf.function(jacobians)
    x = _f64([[0.2, -0.4, 1.0], [0.7, 0.1, -1.5]])
    for n in (2, 3):
        jc, bc = compiled(x, tf.constant(n))
        je, be = jacobians(x, tf.constant(n))
        assert jc.shape == (2, 3, 2, 3) and bc.shape == (2, 3, 3)
        np.testing.assert_allclose(jc.numpy(), je.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bc.numpy(), be.numpy(), rtol=1e-12)


def test_hessian_via_jacobian_of_loop_gradient():
    def hessian(x, n):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                _, y = tf.while_loop(lambda i, y: i < n,
                                     lambda i, y: (i + 1, y * tf.reduce_sum(x * x)),
                                     [tf.constant(0), tf.constant(1.0, tf.float64)])
            g = inner.gradient(y, x)
        return outer.jacobian(g, x)

    x = _f64([0.5, 1.2])
    n = 3  # y = (x.x) ** 3: H = 6 (x.x)^2 I + 24 (x.x) x x^T
    r = float(np.dot(x.numpy(), x.numpy()))
    expected = 6 * r ** 2 * np.eye(2) + 24 * r * np.outer(x.numpy(), x.numpy())
    got = tf.function(hessian)(x, tf.constant(n))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_while_loop_gradient_shape_change_is_a_clear_error():
    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            _, y = tf.while_loop(
                lambda i, y: i < 2, lambda i, y: (i + 1, tf.concat([y, y], 0)),
                [tf.constant(0), x],
                shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
            loss = tf.reduce_sum(y)
        return tape.gradient(loss, x)

    with pytest.raises(tf.errors.InvalidArgumentError, match="changes shape"):
        f(tf.constant([1.0]))


def test_second_derivative_through_compiled_cond():
    def grads(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.cond(x > 0, lambda: x * x * x, lambda: tf.sin(x))
            g = inner.gradient(y, x)
        return g, outer.gradient(g, x)

    compiled = tf.function(grads)
    for x, expected in ((2.0, [12.0, 12.0]), (-1.0, [np.cos(-1.0), -np.sin(-1.0)])):
        got = compiled(_f64(x))
        np.testing.assert_allclose([g.numpy() for g in got], expected, rtol=1e-12)
        np.testing.assert_allclose([g.numpy() for g in got],
                                   [g.numpy() for g in grads(_f64(x))], rtol=1e-12)
    assert compiled.experimental_get_tracing_count() == 1


# ------------------------------------------- recompute from the trace, not Python
def test_cond_gradient_ignores_later_rebinding_of_closure_names():
    """``y = cond(p, lambda: y * x, ...)`` rebinds the name the branch reads: the
    gradient uses the traced branch, not a fresh call of the lambda."""
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * 1.0
            y = tf.cond(x > 0, lambda: y * x, lambda: y)
        return tape.gradient(y, x)

    for x in (3.0, -2.0):
        np.testing.assert_allclose(tf.function(grad)(_f64(x)).numpy(),
                                   grad(_f64(x)).numpy())
    assert tf.function(grad)(_f64(3.0)).numpy() == 6.0


def test_nested_loop_and_cond_in_loop_body_second_order():
    def grads(x, n):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)

                def body(i, y):
                    _, z = tf.while_loop(lambda j, z: j < i,
                                         lambda j, z: (j + 1, tf.sin(z) * x),
                                         [tf.constant(0), y])
                    z = tf.cond(tf.reduce_sum(z) > 0, lambda: z * x, lambda: z - x)
                    return i + 1, z

                _, y = tf.while_loop(lambda i, y: i < n, body, [tf.constant(0), x])
                loss = tf.reduce_sum(y)
            g = inner.gradient(loss, x)
        return g, outer.gradient(g, x)

    compiled = tf.function(grads)
    x = _f64([0.4, -0.9])
    for n in (3, 4):
        for a, b in zip(compiled(x, tf.constant(n)), grads(x, tf.constant(n))):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-14)
    assert compiled.experimental_get_tracing_count() == 1


def test_custom_gradient_inside_loop_body_and_cond_branch():
    """Such bodies are recomputed by calling them again (to get the rule back),
    still without repeating their effects."""
    counter = tf.Variable(0.0)

    @tf.custom_gradient
    def clip_grad(x):
        return tf.identity(x), lambda dy: tf.clip_by_value(dy, -0.1, 0.1)

    def body(i, y):
        counter.assign_add(1.0)
        return i + 1, clip_grad(y * 3.0)

    def grads(x, n):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            _, y = tf.while_loop(lambda i, y: i < n, body, [tf.constant(0), x])
            z = tf.cond(x > 0, lambda: clip_grad(x * 5.0), lambda: x)
        return tape.gradient(y, x), tape.gradient(z, x)

    for x in (1.0, -1.0):
        got = tf.function(grads)(_f64(x), tf.constant(2))
        assert counter.numpy() == 2.0
        counter.assign(0.0)
        np.testing.assert_allclose([g.numpy() for g in got],
                                   [g.numpy() for g in grads(_f64(x), tf.constant(2))])
        counter.assign(0.0)
    np.testing.assert_allclose(got[0].numpy(), 0.3)
