"""Every optimizer's update equals a NumPy reference of its Keras 3 formula."""

import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import optimizers

RNG = np.random.default_rng(0)
W0 = RNG.normal(size=(3, 4)).astype(np.float32)
GRADS = [RNG.normal(size=(3, 4)).astype(np.float32) for _ in range(4)]


def _run(opt, steps=4):
    var = tf.Variable(W0.copy())
    out = []
    for g in GRADS[:steps]:
        opt.apply_gradients([(tf.constant(g), var)])
        out.append(var.numpy().copy())
    return out


def ref_sgd(lr=0.01, momentum=0.0, nesterov=False):
    w, m, out = W0.astype(np.float64), 0.0, []
    for g in GRADS:
        if momentum:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        else:
            w = w - lr * g
        out.append(w)
    return out


def ref_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    w, m, v, vh, out = W0.astype(np.float64), 0.0, 0.0, 0.0, []
    for t, g in enumerate(GRADS, 1):
        if wd:
            w = w - w * wd * lr
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vh = np.maximum(vh, v)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - m * alpha / (np.sqrt(vh if amsgrad else v) + eps)
        out.append(w)
    return out


def ref_rmsprop(lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    w, v, mg, mom, out = W0.astype(np.float64), 0.0, 0.0, 0.0, []
    for g in GRADS:
        v = rho * v + (1 - rho) * g * g
        if centered:
            mg = rho * mg + (1 - rho) * g
            den = v - mg * mg + eps
        else:
            den = v + eps
        inc = lr * g / np.sqrt(den)
        if momentum:
            mom = momentum * mom + inc
            w = w - mom
        else:
            w = w - inc
        out.append(w)
    return out


def ref_adamax(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    w, m, u, out = W0.astype(np.float64), 0.0, 0.0, []
    for t, g in enumerate(GRADS, 1):
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1 ** t) * (u + eps))
        out.append(w)
    return out


def ref_nadam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    w, m, v, up, out = W0.astype(np.float64), 0.0, 0.0, 1.0, []
    for t, g in enumerate(GRADS, 1):
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        up = up * u_t
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        mhat = u_t1 * m / (1 - up * u_t1) + (1 - u_t) * g / (1 - up)
        vhat = v / (1 - b2 ** t)
        w = w - mhat * lr / (np.sqrt(vhat) + eps)
        out.append(w)
    return out


def ref_adagrad(lr=0.001, init=0.1, eps=1e-7):
    w, acc, out = W0.astype(np.float64), init, []
    for g in GRADS:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
        out.append(w)
    return out


def ref_adadelta(lr=0.001, rho=0.95, eps=1e-7):
    w, ag, ad, out = W0.astype(np.float64), 0.0, 0.0, []
    for g in GRADS:
        ag = rho * ag + (1 - rho) * g * g
        delta = -np.sqrt(ad + eps) / np.sqrt(ag + eps) * g
        ad = rho * ad + (1 - rho) * delta * delta
        w = w + lr * delta
        out.append(w)
    return out


def ref_ftrl(lr=0.001, power=-0.5, init=0.1, l1=0.0, l2=0.0, l2s=0.0, beta=0.0):
    w, acc, lin, out = W0.astype(np.float64), init, 0.0, []
    for g in GRADS:
        l2r = l2 + beta / (2 * lr)
        gs = g + 2 * l2s * w
        new = acc + g * g
        lin = lin + gs - (new ** -power - acc ** -power) / lr * w
        quad = new ** -power / lr + 2 * l2r
        w = (np.clip(lin, -l1, l1) - lin) / quad
        acc = new
        out.append(w)
    return out


def ref_lion(lr=0.001, b1=0.9, b2=0.99):
    w, m, out = W0.astype(np.float64), 0.0, []
    for g in GRADS:
        w = w - lr * np.sign(m * b1 + g * (1 - b1))
        m = m * b2 + g * (1 - b2)
        out.append(w)
    return out


CASES = [
    (lambda: optimizers.SGD(), ref_sgd),
    (lambda: optimizers.SGD(0.1, momentum=0.9), lambda: ref_sgd(0.1, 0.9)),
    (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
     lambda: ref_sgd(0.1, 0.9, True)),
    (lambda: optimizers.Adam(), ref_adam),
    (lambda: optimizers.Adam(0.1, amsgrad=True), lambda: ref_adam(0.1, amsgrad=True)),
    (lambda: optimizers.AdamW(0.1), lambda: ref_adam(0.1, wd=0.004)),
    (lambda: optimizers.RMSprop(), ref_rmsprop),
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
     lambda: ref_rmsprop(0.01, momentum=0.5, centered=True)),
    (lambda: optimizers.Adamax(0.1), lambda: ref_adamax(0.1)),
    (lambda: optimizers.Nadam(0.1), lambda: ref_nadam(0.1)),
    (lambda: optimizers.Adagrad(0.1), lambda: ref_adagrad(0.1)),
    (lambda: optimizers.Adadelta(1.0), lambda: ref_adadelta(1.0)),
    (lambda: optimizers.Ftrl(0.1, l1_regularization_strength=0.01,
                             l2_regularization_strength=0.02, beta=0.1,
                             l2_shrinkage_regularization_strength=0.01),
     lambda: ref_ftrl(0.1, l1=0.01, l2=0.02, beta=0.1, l2s=0.01)),
    (lambda: optimizers.Lion(0.1), lambda: ref_lion(0.1)),
]


@pytest.mark.parametrize("make,ref", CASES)
def test_update_matches_numpy_reference(make, ref):
    got = _run(make())
    for step, (g, r) in enumerate(zip(got, ref())):
        np.testing.assert_allclose(g, r, rtol=2e-5, atol=2e-6, err_msg=f"step {step}")


def test_defaults_match_keras3():
    a = optimizers.Adam()
    assert a.get_config()["epsilon"] == 1e-7
    assert abs(float(a.learning_rate.numpy()) - 0.001) < 1e-9
    assert abs(float(optimizers.SGD().learning_rate.numpy()) - 0.01) < 1e-9
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.RMSprop().rho == 0.9
    assert optimizers.Lion().beta_2 == 0.99


def test_learning_rate_settable_and_lr_alias():
    opt = optimizers.SGD(0.1)
    var = tf.Variable([1.0])
    opt.apply_gradients([(tf.constant([1.0]), var)])
    opt.learning_rate = 0.3
    opt.apply_gradients([(tf.constant([1.0]), var)])
    np.testing.assert_allclose(var.numpy(), [1 - 0.1 - 0.3], rtol=1e-6)
    opt.lr = 0.5
    assert abs(float(opt.learning_rate.numpy()) - 0.5) < 1e-7
    assert abs(float(opt.lr.numpy()) - 0.5) < 1e-7


def test_iterations_int64_and_variables():
    opt = optimizers.Adam()
    var = tf.Variable(W0)
    opt.apply_gradients([(tf.constant(GRADS[0]), var)])
    assert opt.iterations.dtype == tf.int64 and int(opt.iterations.numpy()) == 1
    names = [v.name for v in opt.variables]
    assert len(opt.variables) == 4 and "iteration" in names[0]
    assert all(not v.trainable for v in opt.variables)


def test_schedule_learning_rate():
    sched = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(sched)
    var = tf.Variable([0.0])
    for _ in range(3):
        opt.apply_gradients([(tf.constant([1.0]), var)])
    np.testing.assert_allclose(var.numpy(), [-(0.1 + 0.05 + 0.025)], rtol=1e-6)
    conf = opt.get_config()
    again = optimizers.SGD.from_config(conf)
    assert isinstance(again._learning_rate, optimizers.schedules.ExponentialDecay)


@pytest.mark.parametrize("sched,ref", [
    (optimizers.schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
     lambda s: 0.1 * 0.5 ** np.floor(s / 10)),
    (optimizers.schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]),
     lambda s: 1.0 if s <= 5 else (0.5 if s <= 10 else 0.1)),
    (optimizers.schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0),
     lambda s: (0.1 - 0.01) * (1 - min(s, 10) / 10) ** 2 + 0.01),
    (optimizers.schedules.InverseTimeDecay(0.1, 5, 0.5),
     lambda s: 0.1 / (1 + 0.5 * s / 5)),
    (optimizers.schedules.CosineDecay(0.1, 10, alpha=0.1),
     lambda s: 0.1 * (0.9 * 0.5 * (1 + np.cos(np.pi * min(s, 10) / 10)) + 0.1)),
    (optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=4),
     lambda s: 0.2 * s / 4 if s < 4 else
     0.2 * 0.5 * (1 + np.cos(np.pi * min(s - 4, 10) / 10))),
    (optimizers.schedules.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5),
     None),
])
def test_schedules(sched, ref):
    if ref is None:  # SGDR: periods 4, 8, 16 with peaks 0.1, 0.05, 0.025
        vals = [float(sched(s).numpy()) for s in (0, 4, 12)]
        np.testing.assert_allclose(vals, [0.1, 0.05, 0.025], rtol=1e-5)
        mid = float(sched(2).numpy())
        np.testing.assert_allclose(mid, 0.1 * 0.5 * (1 + np.cos(np.pi * 0.5)), rtol=1e-5)
        return
    for s in (0, 1, 3, 5, 7, 10, 15):
        np.testing.assert_allclose(float(sched(s).numpy()), ref(s), rtol=1e-5, atol=1e-8)


def test_clipping():
    g = np.array([3.0, 4.0], np.float32)
    for kw, expect in [({"clipnorm": 1.0}, g / 5), ({"clipvalue": 3.5}, [3.0, 3.5]),
                       ({"global_clipnorm": 2.5}, g / 2)]:
        var = tf.Variable([0.0, 0.0])
        optimizers.SGD(1.0, **kw).apply_gradients([(tf.constant(g), var)])
        np.testing.assert_allclose(-var.numpy(), expect, rtol=1e-6)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_and_exclusion():
    a, b = tf.Variable([1.0]), tf.Variable([1.0])
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[b])
    opt.apply_gradients([(tf.constant([0.0]), a), (tf.constant([0.0]), b)])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [1 - 0.05, 1.0], rtol=1e-6)


def test_ema():
    var = tf.Variable([0.0])
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    ref_w, avg = 0.0, None
    for _ in range(3):
        opt.apply_gradients([(tf.constant([-1.0]), var)])
        ref_w += 1.0
        avg = ref_w if avg is None else 0.5 * avg + 0.5 * ref_w
    opt.finalize_variable_values([var])
    np.testing.assert_allclose(var.numpy(), [avg])


def test_none_gradient_skipped_with_warning():
    a, b = tf.Variable([1.0]), tf.Variable([1.0])
    opt = optimizers.SGD(0.5)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(tf.constant([1.0]), a), (None, b)])
    assert a.numpy()[0] == 0.5 and b.numpy()[0] == 1.0


def test_minimize_callable_and_tape():
    var = tf.Variable(2.0)
    opt = optimizers.SGD(0.1)
    opt.minimize(lambda: var * var, [var])          # Keras 2: callable loss
    np.testing.assert_allclose(var.numpy(), 2.0 - 0.4, rtol=1e-6)
    with tf.GradientTape() as tape:
        loss = var * var
    opt.minimize(loss, [var], tape=tape)            # Keras 3: tensor + tape
    np.testing.assert_allclose(var.numpy(), 1.6 - 0.32, rtol=1e-6)
    with pytest.raises(ValueError, match="tape"):
        opt.minimize(var * var, [var])


def test_get_and_config_round_trip():
    for name in ["adam", "sgd", "rmsprop", "adamw", "adamax", "nadam", "adagrad",
                 "adadelta", "ftrl", "lion", "Adam"]:
        opt = optimizers.get(name)
        again = type(opt).from_config(opt.get_config())
        assert again.get_config() == opt.get_config()
        ser = optimizers.deserialize(optimizers.serialize(opt))
        assert type(ser) is type(opt)
    with pytest.raises(ValueError, match="Could not interpret optimizer"):
        optimizers.get("nope")


def test_gradient_accumulation():
    var = tf.Variable([0.0])
    opt = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    opt.apply_gradients([(tf.constant([1.0]), var)])
    assert var.numpy()[0] == 0.0
    opt.apply_gradients([(tf.constant([3.0]), var)])
    np.testing.assert_allclose(var.numpy(), [-2.0])


def test_custom_optimizer_keras3_api():
    class MySGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, **kw):
            super().__init__(learning_rate=learning_rate, name="mysgd", **kw)

        def build(self, variables):
            super().build(variables)
            self.m = [self.add_variable_from_reference(v, "m") for v in variables]

        def update_step(self, gradient, variable, learning_rate):
            m = self.m[self._get_variable_index(variable)]
            self.assign(m, m * 0.5 + gradient)
            self.assign_sub(variable, tf.cast(learning_rate, variable.dtype) * m)

    var = tf.Variable([1.0])
    opt = MySGD()
    for _ in range(2):
        opt.apply_gradients([(tf.constant([1.0]), var)])
    np.testing.assert_allclose(var.numpy(), [1 - 0.1 - 0.15], rtol=1e-6)


def test_float64_variables():
    var = tf.Variable(W0.astype(np.float64))
    opt = optimizers.Adam(0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.apply_gradients([(tf.constant(GRADS[0].astype(np.float64)), var)])
    assert var.dtype == tf.float64
    np.testing.assert_allclose(var.numpy(), ref_adam(0.1)[0], rtol=1e-6)
