"""The fused LayerNorm primitive (dlframe/ops/layer_norm.py) and the Keras
LayerNormalization layer built on it: forward vs NumPy, gradients vs finite
differences, second order vs the composite, eager == function, mixed precision and
training."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops.layer_norm import layer_norm
from tests.helpers import check_function_matches_eager, check_grad, numeric_grad

CASES = [((4, 5, 8), -1), ((4, 5, 8), [1, 2]), ((4, 5, 8), 1), ((3, 4, 5, 6), [1, 3]),
         ((2, 7), [0, 1]), ((6, 3), [-1])]


def _axes(shape, axis):
    axis = [axis] if isinstance(axis, int) else axis
    return sorted(a % len(shape) for a in axis)


def _ref(x, gamma, beta, axis, epsilon, rms=False):
    axes = tuple(_axes(x.shape, axis))
    bshape = [n if a in axes else 1 for a, n in enumerate(x.shape)]
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x if rms else x - mean) / np.sqrt(var + epsilon)
    if gamma is not None:
        y = y * gamma.reshape(bshape)
    if beta is not None and not rms:
        y = y + beta.reshape(bshape)
    return y


def _data(shape, axis, seed=0):
    rng = np.random.default_rng(seed)
    pshape = [shape[a] for a in _axes(shape, axis)]
    return (rng.standard_normal(shape) * 2 + 0.5, rng.standard_normal(pshape),
            rng.standard_normal(pshape))


@pytest.mark.parametrize("shape,axis", CASES)
@pytest.mark.parametrize("rms", [False, True])
def test_forward_matches_numpy(shape, axis, rms):
    x, g, b = _data(shape, axis)
    for dtype, tol in (("float64", 1e-12), ("float32", 2e-5)):
        got = layer_norm(tf.constant(x.astype(dtype)), tf.constant(g.astype(dtype)),
                         tf.constant(b.astype(dtype)), axis, 1e-3, rms)
        assert got.dtype == dtype and tuple(got.shape) == shape
        np.testing.assert_allclose(got.numpy(), _ref(x, g, b, axis, 1e-3, rms),
                                   rtol=tol, atol=tol)


@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_forward_without_gamma_or_beta(center, scale):
    x, g, b = _data((3, 4, 6), -1)
    gamma, beta = (g if scale else None), (b if center else None)
    got = layer_norm(tf.constant(x), None if gamma is None else tf.constant(gamma),
                     None if beta is None else tf.constant(beta), -1, 1e-5)
    np.testing.assert_allclose(got.numpy(), _ref(x, gamma, beta, -1, 1e-5), atol=1e-12)


@pytest.mark.parametrize("shape,axis", CASES[:4])
@pytest.mark.parametrize("rms", [False, True])
def test_gradients_match_finite_differences(shape, axis, rms):
    x, g, b = _data(shape, axis, seed=1)
    if rms:
        check_grad(lambda x, g: layer_norm(x, g, None, axis, 1e-3, True), [x, g],
                   rtol=1e-5, atol=1e-7)
    else:
        check_grad(lambda x, g, b: layer_norm(x, g, b, axis, 1e-3), [x, g, b],
                   rtol=1e-5, atol=1e-7)


def test_gradient_without_gamma_and_float32():
    x, _, b = _data((5, 16), -1, seed=2)
    check_grad(lambda x, b: layer_norm(x, None, b, -1, 1e-3), [x, b])
    xf = tf.constant(x.astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(xf)
        y = tf.reduce_sum(layer_norm(xf, None, None, -1, 1e-3) * np.arange(16.0))
    dx = tape.gradient(y, xf)
    assert dx.dtype == "float32"
    expect = numeric_grad(lambda a: float(np.sum(_ref(a, None, None, -1, 1e-3)
                                                 * np.arange(16.0))), [x.copy()], 0)
    np.testing.assert_allclose(dx.numpy(), expect, rtol=1e-3, atol=1e-4)


def _composite(x, g, b, axis, eps, rms=False):
    """The layer's former composite: moments, then batch_normalization."""
    axes = _axes(x.shape, axis)
    bshape = [n if a in axes else 1 for a, n in enumerate(x.shape)]
    mean, var = tf.nn.moments(x, axes, keepdims=True)
    g = tf.reshape(g, bshape)
    if rms:
        return x * tf.math.rsqrt(var + eps) * g
    return tf.nn.batch_normalization(x, mean, var, tf.reshape(b, bshape), g, eps)


@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((3, 4, 5), [1, 2]), ((3, 4, 5), 1)])
@pytest.mark.parametrize("rms", [False, True])
def test_gradient_penalty_second_order_matches_composite(shape, axis, rms):
    x0, g0, b0 = _data(shape, axis, seed=3)
    w = np.random.default_rng(4).standard_normal(shape)

    def penalty(norm):
        x, g, b = tf.constant(x0), tf.Variable(g0), tf.Variable(b0)
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(tf.square(norm(x, g, b, axis, 1e-3, rms)) * w)
            dx = inner.gradient(y, x)
            loss = tf.reduce_sum(tf.square(dx))
        return [v.numpy() for v in outer.gradient(loss, [x, g, b])
                if v is not None]

    got = penalty(layer_norm)
    expect = penalty(_composite)
    assert len(got) == len(expect) == (2 if rms else 3)
    for a, e in zip(got, expect):
        np.testing.assert_allclose(a, e, rtol=1e-8, atol=1e-10)


def test_forward_accumulator_jvp():
    x0, g0, b0 = _data((3, 8), -1, seed=5)
    tangent = np.random.default_rng(6).standard_normal((3, 8))
    x = tf.constant(x0)
    with tf.autodiff.ForwardAccumulator(x, tf.constant(tangent)) as acc:
        y = layer_norm(x, tf.constant(g0), tf.constant(b0), -1, 1e-3)
    eps = 1e-6
    expect = (_ref(x0 + eps * tangent, g0, b0, -1, 1e-3)
              - _ref(x0 - eps * tangent, g0, b0, -1, 1e-3)) / (2 * eps)
    np.testing.assert_allclose(acc.jvp(y).numpy(), expect, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape,axis", [((4, 5, 8), -1), ((3, 4, 5, 6), [1, 3])])
def test_function_matches_eager_forward_and_gradient(shape, axis):
    x, g, b = _data(shape, axis, seed=7)
    args = [x.astype("float32"), g.astype("float32"), b.astype("float32")]

    def step(x, g, b):
        with tf.GradientTape() as tape:
            tape.watch([x, g, b])
            y = layer_norm(x, g, b, axis, 1e-6)
            loss = tf.reduce_sum(y * y * tf.range(shape[-1], dtype="float32"))
        return [y] + tape.gradient(loss, [x, g, b])

    check_function_matches_eager(step, args, rtol=1e-5, atol=1e-5)


def test_bad_gamma_shape_names_the_argument():
    x = tf.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"gamma.*Received: gamma.shape=\[3\]"):
        layer_norm(x, tf.ones(3), None, -1)


def test_layer_matches_numpy_for_axes_and_options():
    x, _, _ = _data((4, 5, 6), -1, seed=8)
    x = x.astype("float32")
    for kwargs in ({}, {"axis": [1, 2]}, {"axis": 1, "epsilon": 1e-5},
                   {"center": False}, {"scale": False, "center": False}):
        layer = tf.keras.layers.LayerNormalization(
            gamma_initializer="random_normal", beta_initializer="random_normal", **kwargs)
        y = layer(x)
        g = None if layer.gamma is None else layer.gamma.numpy()
        b = None if layer.beta is None else layer.beta.numpy()
        ref = _ref(x.astype("float64"), g, b, kwargs.get("axis", -1),
                   kwargs.get("epsilon", 1e-3))
        np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)
        assert len(layer.weights) == int(layer.gamma is not None) + int(
            layer.beta is not None)


def test_layer_rms_scaling():
    x, _, _ = _data((3, 7), -1, seed=9)
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = tf.keras.layers.LayerNormalization(
            rms_scaling=True, gamma_initializer="random_normal")
    y = layer(x.astype("float32"))
    assert [w.name.split("/")[-1].split(":")[0] for w in layer.weights] == ["gamma"]
    np.testing.assert_allclose(y.numpy(), _ref(x, layer.gamma.numpy(), None, -1, 1e-3,
                                               rms=True), rtol=1e-5, atol=1e-5)


def test_layer_mixed_precision_half_inputs():
    x, _, _ = _data((4, 16), -1, seed=10)
    x = (x * 30 + 200).astype("float16")   # float16 moments would lose the spread
    try:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
        layer = tf.keras.layers.LayerNormalization()
        with tf.GradientTape() as tape:
            xt = tf.constant(x)
            tape.watch(xt)
            y = layer(xt)
            loss = tf.reduce_sum(tf.cast(y, "float32") * np.arange(16.0, dtype="float32"))
        dx, dgamma = tape.gradient(loss, [xt, layer.gamma])
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    assert y.dtype == "float16" and layer.gamma.dtype == "float32"
    assert dx.dtype == "float16" and dgamma.dtype == "float32"
    ref = _ref(x.astype("float64"), None, None, -1, 1e-3)
    np.testing.assert_allclose(y.numpy().astype("float64"), ref, atol=5e-3)
    for dtype in ("bfloat16",):
        y16 = layer_norm(tf.cast(tf.constant(x), dtype), None, None, -1)
        assert y16.dtype == dtype
        np.testing.assert_allclose(tf.cast(y16, "float64").numpy(), ref, atol=3e-2)


def test_small_transformer_block_learns():
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 8, 16)).astype("float32")
    y = (x[:, :, :8].mean(axis=(1, 2)) > 0).astype("int64")
    inputs = tf.keras.Input((8, 16))
    h = tf.keras.layers.Dense(16)(inputs)
    h = tf.keras.layers.LayerNormalization(epsilon=1e-6)(h + inputs)
    h = tf.keras.layers.LayerNormalization(axis=[1, 2])(tf.keras.layers.Dense(16)(h))
    h = tf.keras.layers.GlobalAveragePooling1D()(h)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(h))
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0)[0]
    hist = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    after, acc = model.evaluate(x, y, verbose=0)
    assert after < 0.5 * before and acc > 0.9, (before, after, acc, hist.history)


def test_plain_gradient_runs_the_fused_backward(monkeypatch):
    from dlframe.ops import layer_norm as ln
    calls = []
    forward = ln.layer_norm_grad_p.forward
    monkeypatch.setattr(ln.layer_norm_grad_p, "forward",
                        lambda *a, **k: calls.append(k) or forward(*a, **k))
    x = tf.constant(np.ones((2, 3)) * [[1.0, 2.0, 4.0]])
    gamma = tf.Variable(np.ones(3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer_norm(x, gamma, None, -1) * [1.0, 0.0, 2.0])
    tape.gradient(y, [x, gamma])
    assert len(calls) == 1 and calls[0]["need_dx"] and calls[0]["need_dgamma"]
    assert not calls[0]["need_dbeta"]
