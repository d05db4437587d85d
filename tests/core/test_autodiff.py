"""tf.autodiff.ForwardAccumulator: JVPs against finite differences, HVPs by nesting
with GradientTape (both orders), unconnected values, errors, eager == function."""

import numpy as np
import pytest

import dlframe as tf


def _fd_jvp(f, xs, vs, eps=1e-6):
    """Central-difference directional derivative of f(*xs) along vs (float64)."""
    up = f(*[tf.constant(x + eps * v) for x, v in zip(xs, vs)]).numpy()
    down = f(*[tf.constant(x - eps * v) for x, v in zip(xs, vs)]).numpy()
    return (up - down) / (2 * eps)


def _jvp(f, xs, vs):
    primals = [tf.constant(x) for x in xs]
    with tf.autodiff.ForwardAccumulator(primals, [tf.constant(v) for v in vs]) as acc:
        y = f(*primals)
    return acc.jvp(y).numpy()


CASES = [
    ("elementwise", lambda x: tf.sin(x) * tf.exp(x) / (1.0 + x * x), [(3, 4)]),
    ("matmul_softmax", lambda a, b: tf.nn.softmax(tf.matmul(a, b)), [(3, 4), (4, 5)]),
    ("reduce_broadcast", lambda x, y: tf.reduce_mean(x * y, axis=0) + tf.reduce_max(x),
     [(4, 3), (3,)]),
    ("conv", lambda x, k: tf.nn.relu(tf.nn.conv2d(x, k, 1, "SAME")),
     [(1, 5, 5, 2), (3, 3, 2, 3)]),
    ("gather_concat", lambda x: tf.concat([tf.gather(x, [2, 0, 2]), tf.tanh(x)], 0),
     [(3, 2)]),
]


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_finite_differences(name, f, shapes):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s) for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]
    np.testing.assert_allclose(_jvp(f, xs, vs), _fd_jvp(f, xs, vs), rtol=1e-5,
                               atol=1e-7)


def test_jvp_values_structure_and_unconnected():
    # values from TF 2.21: jvp of sin(x) * x along v = [1, 0, 2]
    x = tf.constant([1., 2., 3.])
    v = tf.constant([1., 0., 2.])
    with tf.autodiff.ForwardAccumulator(x, v) as acc:
        y = tf.sin(x) * x
        z = tf.constant(3.)
        n = tf.cast(x, tf.int32)
    np.testing.assert_allclose(acc.jvp(y).numpy(), [1.3817732, 0., -5.657715], rtol=1e-6)
    assert acc.jvp(z) is None and acc.jvp(n) is None
    assert float(acc.jvp(z, unconnected_gradients=tf.UnconnectedGradients.ZERO)) == 0.0
    assert float(acc.jvp(z, unconnected_gradients="zero")) == 0.0
    out = acc.jvp([y, {"a": x}])
    np.testing.assert_array_equal(out[1]["a"].numpy(), v.numpy())   # jvp(x) == v
    with pytest.raises(ValueError, match="unconnected_gradients"):
        acc.jvp(y, unconnected_gradients="zeros")


def test_only_ops_inside_the_block_and_on_primals_are_tracked():
    x = tf.constant([1., 2.])
    before = x * 2.0
    u = tf.Variable(3.0)   # a variable read is not a primal: constant for forward mode
    with tf.autodiff.ForwardAccumulator(x, tf.constant([1., 1.])) as acc:
        inside = before * x
        scaled = x * u
        jvp_inside = acc.jvp(scaled)   # jvp may be called while recording
    after = x * 5.0
    np.testing.assert_allclose(acc.jvp(inside).numpy(), before.numpy())
    np.testing.assert_allclose(jvp_inside.numpy(), [3.0, 3.0])
    assert acc.jvp(after) is None and acc.jvp(before) is None


def test_variables_as_primals():
    layer = tf.keras.layers.Dense(3, activation="tanh")
    x = tf.constant(np.random.default_rng(1).standard_normal((2, 4)), tf.float32)
    layer.build((2, 4))
    kernel_t = tf.ones_like(layer.kernel)
    bias_t = tf.zeros_like(layer.bias)
    with tf.autodiff.ForwardAccumulator([layer.kernel, layer.bias],
                                        [kernel_t, bias_t]) as acc:
        y = layer(x)
    pre = tf.matmul(x, layer.kernel) + layer.bias
    expect = (1 - np.tanh(pre.numpy()) ** 2) * np.sum(x.numpy(), 1, keepdims=True)
    np.testing.assert_allclose(acc.jvp(y).numpy(), expect, rtol=1e-5, atol=1e-6)


def _cubic_hessian(w):
    # f(w) = sum(w^3) + w0 * w1  ->  H = diag(6 w) + [[0, 1], [1, 0]]
    return np.diag(6 * w) + np.array([[0., 1.], [1., 0.]])


def _f(w):
    return tf.reduce_sum(w ** 3) + w[0] * w[1]


def test_hvp_forward_over_backward():
    w_np = np.array([1., 2.])
    v_np = np.array([0.5, -1.])
    w = tf.Variable(w_np)
    with tf.autodiff.ForwardAccumulator(w, tf.constant(v_np)) as acc:
        with tf.GradientTape() as tape:
            loss = _f(w)
        grad = tape.gradient(loss, w)
    np.testing.assert_allclose(acc.jvp(grad).numpy(), _cubic_hessian(w_np) @ v_np)


def test_hvp_backward_over_forward():
    w_np = np.array([1., 2.])
    v_np = np.array([0.5, -1.])
    w = tf.Variable(w_np)
    with tf.GradientTape() as tape:
        with tf.autodiff.ForwardAccumulator(w, tf.constant(v_np)) as acc:
            loss = _f(w)
        jvp = acc.jvp(loss)
    np.testing.assert_allclose(tape.gradient(jvp, w).numpy(), _cubic_hessian(w_np) @ v_np)


def test_forward_over_forward_second_directional_derivative():
    x = tf.constant(0.7, tf.float64)
    with tf.autodiff.ForwardAccumulator(x, tf.constant(1., tf.float64)) as outer:
        with tf.autodiff.ForwardAccumulator(x, tf.constant(1., tf.float64)) as inner:
            y = tf.sin(x) * x
        dy = inner.jvp(y)
    # d2/dx2 (x sin x) = 2 cos x - x sin x
    np.testing.assert_allclose(outer.jvp(dy).numpy(), 2 * np.cos(0.7) - 0.7 * np.sin(0.7))


def test_function_matches_eager():
    rng = np.random.default_rng(2)
    a, b, v = (tf.constant(rng.standard_normal(s)) for s in [(3, 4), (4, 2), (3, 4)])

    def jvp(a, b, v):
        with tf.autodiff.ForwardAccumulator(a, v) as acc:
            y = tf.tanh(tf.matmul(a, b))
        return acc.jvp(y)

    np.testing.assert_allclose(tf.function(jvp)(a, b, v).numpy(), jvp(a, b, v).numpy(),
                               rtol=1e-12)


def test_errors_and_alias():
    x = tf.constant([1., 2., 3.])
    with pytest.raises(ValueError, match="shape"):
        tf.autodiff.ForwardAccumulator(x, tf.constant([1., 2.]))
    with pytest.raises(ValueError, match="dtype"):
        tf.autodiff.ForwardAccumulator(x, tf.constant([1, 2, 3]))
    with pytest.raises(ValueError, match="structure"):
        tf.autodiff.ForwardAccumulator([x], [x, x])
    with pytest.raises(TypeError, match="primals"):
        tf.autodiff.ForwardAccumulator([1.0], [1.0])
    assert tf.autodiff.GradientTape is tf.GradientTape
    # integer primals are accepted and carry no tangent (as in TF)
    i = tf.constant([1, 2])
    with tf.autodiff.ForwardAccumulator(i, tf.constant([1, 1])) as acc:
        j = i * 2
    assert acc.jvp(j) is None
