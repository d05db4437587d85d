"""Adafactor and Lamb against NumPy references (which agree with TF 2.21 to 3e-7),
the ``keras.optimizers.legacy`` names and the ``LossScaleOptimizer`` alias."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

RS = np.random.RandomState(0)
W0 = RS.randn(3, 4).astype("float32")
B0 = RS.randn(4).astype("float32")
GRADS = [(RS.randn(3, 4).astype("float32"), RS.randn(4).astype("float32"))
         for _ in range(3)]


def _run(opt, compiled=False):
    w, b = tf.Variable(W0), tf.Variable(B0)

    def step(gw, gb):
        opt.apply_gradients([(gw, w), (gb, b)])
    if compiled:
        step = tf.function(step)
    for gw, gb in GRADS:
        step(tf.constant(gw), tf.constant(gb))
    return w.numpy(), b.numpy()


def _rms(x):
    return np.sqrt(np.mean(x ** 2))


def adafactor_ref(lr=0.001, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    out = []
    for x0, k in ((W0, 0), (B0, 1)):
        x = x0.astype("float64")
        r = np.zeros(x.shape[:-1])
        c = np.zeros(x.shape[:-2] + x.shape[-1:])
        v = np.zeros_like(x)
        for t, gs in enumerate(GRADS, 1):
            g = gs[k].astype("float64")
            alpha = max(eps2, _rms(x)) * min(lr, 1 / np.sqrt(t))
            g2 = g ** 2 + eps1
            beta = 1 - t ** decay
            if x.ndim >= 2:
                r = beta * r + (1 - beta) * g2.mean(-1)
                c = beta * c + (1 - beta) * g2.mean(-2)
                v = (r / r.mean(-1, keepdims=True))[..., None] * c[..., None, :]
            else:
                v = beta * v + (1 - beta) * g2
            u = g / np.sqrt(v)
            x = x - alpha * u / max(1.0, _rms(u) / clip)
        out.append(x)
    return out


def lamb_ref(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    out = []
    for x0, k in ((W0, 0), (B0, 1)):
        x = x0.astype("float64")
        m = np.zeros_like(x)
        v = np.zeros_like(x)
        for t, gs in enumerate(GRADS, 1):
            g = gs[k]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            u = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
            ratio = np.linalg.norm(x) / np.linalg.norm(u)
            x = x - lr * ratio * u
        out.append(x)
    return out


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("lr", [0.001, 0.5])
def test_adafactor_matches_reference(lr, compiled):
    got = _run(keras.optimizers.Adafactor(learning_rate=lr), compiled)
    for g, e in zip(got, adafactor_ref(lr)):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_lamb_matches_reference(compiled):
    got = _run(keras.optimizers.Lamb(learning_rate=0.01), compiled)
    for g, e in zip(got, lamb_ref(0.01)):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_lamb_zero_variable_uses_unit_trust_ratio():
    v = tf.Variable(np.zeros(3, "float32"))
    keras.optimizers.Lamb(learning_rate=0.1).apply_gradients(
        [(tf.constant([1.0, -2.0, 0.5]), v)])
    # first step: u = sign(g) (up to epsilon); ||v|| = 0 gives ratio 1
    np.testing.assert_allclose(v.numpy(), [-0.1, 0.1, -0.1], rtol=1e-5)


def test_configs_and_get():
    # configs as TF 2.21 reports them
    config = keras.optimizers.Adafactor().get_config()
    for key, value in {"beta_2_decay": -0.8, "epsilon_1": 1e-30, "epsilon_2": 1e-3,
                       "clip_threshold": 1.0, "relative_step": True}.items():
        assert config[key] == value
    assert keras.optimizers.Lamb().get_config()["epsilon"] == 1e-7
    assert isinstance(keras.optimizers.get("adafactor"), keras.optimizers.Adafactor)
    lamb = keras.optimizers.deserialize(keras.optimizers.serialize(
        keras.optimizers.Lamb(0.02, beta_1=0.8)))
    assert isinstance(lamb, keras.optimizers.Lamb) and lamb.beta_1 == 0.8
    assert keras.optimizers.Lion and keras.optimizers.AdamW


@pytest.mark.parametrize("name", ["Adafactor", "Lamb"])
def test_fit_learns(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile(optimizer=getattr(keras.optimizers, name)(learning_rate=0.05),
                  loss="mse")
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_legacy_names_and_loss_scale_alias():
    legacy = keras.optimizers.legacy
    for name in ("Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Ftrl",
                 "Nadam", "Optimizer"):
        assert issubclass(getattr(legacy, name), getattr(keras.optimizers, name))
        assert getattr(legacy, name).__name__ == name
    opt = legacy.Adam(lr=0.1)  # Keras 2 spelling of learning_rate
    np.testing.assert_allclose(float(opt.learning_rate), 0.1, rtol=1e-6)
    from dlframe.keras.optimizers.legacy import SGD
    assert SGD is legacy.SGD
    lso = keras.optimizers.LossScaleOptimizer
    assert lso is keras.mixed_precision.LossScaleOptimizer
    assert isinstance(lso(keras.optimizers.SGD()), lso)
    with pytest.raises(AttributeError):
        keras.optimizers.NoSuchOptimizer  # noqa: B018
