"""Probe-driven regression tests of ``keras.optimizers``: trajectories taken from
TF 2.21 (Keras 3), Nadam's float32 betas, PiecewiseConstantDecay's dtype, custom
schedules through ``deserialize``, Keras 2's ``decay``/``minimize(grad_loss=)`` and
the Keras 2 / 2.11 subclassing APIs (``_resource_apply_dense``, two-argument
``update_step``)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

W0 = np.array([[0.5, -1.0], [2.0, 0.1]], np.float32)
GRADS = [np.array([[0.3, -0.2], [1.5, 0.1]], np.float32),
         np.array([[-0.4, 0.6], [0.2, -1.0]], np.float32)]

# (optimizer, arguments, weights after 5 steps of GRADS alternating); the numbers
# came from TF 2.21 (Keras 3) running the same steps.
TF_TRAJECTORIES = [
    ('SGD', {'learning_rate': 0.1, 'momentum': 0.9, 'nesterov': True}, [[0.4714660048484802, -1.2078139781951904], [0.36020898818969727, 0.6802639961242676]]),
    ('Adam', {'learning_rate': 0.05, 'amsgrad': True, 'epsilon': 0.001}, [[0.4606040120124817, -1.026350975036621], [1.7917850017547607, 0.17560400068759918]]),
    ('AdamW', {'learning_rate': 0.05, 'weight_decay': 0.1}, [[0.44470998644828796, -0.9980810284614563], [1.740960955619812, 0.1642400026321411]]),
    ('Adamax', {'learning_rate': 0.05}, [[0.4559600055217743, -1.0021840333938599], [1.8271880149841309, 0.12806899845600128]]),
    ('Nadam', {'learning_rate': 0.05}, [[0.46807700395584106, -1.0113600492477417], [1.8432409763336182, 0.14059099555015564]]),
    ('RMSprop', {'learning_rate': 0.05, 'rho': 0.8, 'momentum': 0.5, 'centered': True}, [[0.3780840039253235, -1.009443998336792], [1.4001259803771973, 0.2064169943332672]]),
    ('Adagrad', {'learning_rate': 0.1, 'initial_accumulator_value': 0.5}, [[0.4856640100479126, -1.050747036933899], [1.7664799690246582, 0.21597200632095337]]),
    ('Adadelta', {'learning_rate': 1.0}, [[0.4991849958896637, -1.0008089542388916], [1.995182991027832, 0.10203900188207626]]),
    ('Ftrl', {'learning_rate': 0.1, 'l1_regularization_strength': 0.01, 'l2_regularization_strength': 0.02, 'beta': 0.1, 'learning_rate_power': -0.3}, [[0.05685700103640556, -0.13055400550365448], [0.8307200074195862, 0.13166199624538422]]),
    ('Lion', {'learning_rate': 0.01}, [[0.49000000953674316, -0.9900000095367432], [1.9500000476837158, 0.10999999940395355]]),
    ('Adafactor', {'learning_rate': 0.1}, [[0.47555598616600037, -0.919359028339386], [1.6238059997558594, 0.27805399894714355]]),
    ('SGD', {'learning_rate': 0.1, 'global_clipnorm': 0.5, 'use_ema': True, 'ema_momentum': 0.5}, [[0.502918004989624, -1.0286329984664917], [1.8384469747543335, 0.1703609973192215]]),
    ('Adam', {'learning_rate': 0.1, 'gradient_accumulation_steps': 2, 'clipvalue': 0.4}, [[0.6999880075454712, -1.199995994567871], [1.8000030517578125, 0.2999970018863678]]),
]


def _run(name, kwargs, compiled=False, steps=5):
    w = tf.Variable(W0)
    opt = getattr(keras.optimizers, name)(**kwargs)

    def step(g):
        opt.apply_gradients([(g, w)])
    if compiled:
        step = tf.function(step)
    for i in range(steps):
        step(tf.constant(GRADS[i % 2]))
    return w.numpy()


@pytest.mark.parametrize("name, kwargs, expected", TF_TRAJECTORIES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TF_TRAJECTORIES)])
def test_trajectory_matches_tf(name, kwargs, expected):
    np.testing.assert_allclose(_run(name, kwargs), expected, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", [("Nadam", {"learning_rate": 0.05}),
                                          ("Adam", {"learning_rate": 0.1,
                                                    "gradient_accumulation_steps": 2})])
def test_trajectory_compiled_equals_eager(name, kwargs):
    np.testing.assert_allclose(_run(name, kwargs, compiled=True), _run(name, kwargs),
                               rtol=1e-6)


def test_nadam_first_steps_use_float32_betas():
    # Keras casts beta_1/beta_2 to the variable dtype before ``1 - beta``; with a
    # float64 ``1 - beta_2`` the first step was off by 3.6e-7 relative.
    w = tf.Variable(np.array([1.0, -2.0], np.float32))
    opt = keras.optimizers.Nadam(0.05)
    got = []
    for _ in range(4):
        opt.apply_gradients([(tf.constant([0.3, -0.1]), w)])
        got.append(float(w.numpy()[0]))
    # from TF 2.21
    np.testing.assert_allclose(got, [0.9468606, 0.9081812, 0.8726143, 0.8375279],
                               rtol=3e-7)


def test_piecewise_constant_keeps_value_dtype():
    schedules = keras.optimizers.schedules
    ints = schedules.PiecewiseConstantDecay([5, 12], [3, 2, 1])
    assert ints(tf.constant(3)).dtype == tf.int32
    assert [int(ints(s)) for s in (0, 5, 6, 12, 13)] == [3, 3, 2, 2, 1]
    f64 = schedules.PiecewiseConstantDecay([2], [np.float64(0.3), np.float64(0.1)])
    assert f64(0).dtype == tf.float64
    floats = schedules.PiecewiseConstantDecay([2], [0.5, 0.1])
    assert floats(3).dtype == tf.float32 and np.isclose(float(floats(3)), 0.1)


class Warmup(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak, warm):
        self.peak = peak
        self.warm = warm

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        return self.peak * tf.minimum(1.0, (step + 1) / self.warm)

    def get_config(self):
        return {"peak": self.peak, "warm": self.warm}


def test_custom_schedule_round_trips_through_deserialize():
    opt = keras.optimizers.SGD(Warmup(0.1, 4))
    v = tf.Variable(1.0)
    for _ in range(2):
        opt.apply_gradients([(tf.constant(1.0), v)])
    np.testing.assert_allclose(float(v.numpy()), 1 - 0.025 - 0.05, rtol=1e-6)
    config = keras.optimizers.serialize(opt)
    with pytest.raises(ValueError, match="Warmup"):
        keras.optimizers.deserialize(config)
    clone = keras.optimizers.deserialize(config, custom_objects={"Warmup": Warmup})
    assert isinstance(clone._learning_rate, Warmup)
    np.testing.assert_allclose(float(clone.learning_rate), 0.025, rtol=1e-6)
    with keras.utils.custom_object_scope({"Warmup": Warmup}):
        lr = keras.optimizers.schedules.deserialize(config["config"]["learning_rate"])
    assert isinstance(lr, Warmup) and lr.warm == 4


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_keras2_decay_divides_the_rate(momentum):
    # Keras 2: each step uses lr / (1 + decay * iterations)
    opt = keras.optimizers.legacy.SGD(learning_rate=0.1, decay=0.5, momentum=momentum)
    w = tf.Variable(1.0)
    m, ref = 0.0, 1.0
    for t in range(3):
        opt.apply_gradients([(tf.constant(1.0), w)])
        m = momentum * m - 0.1 / (1 + 0.5 * t)
        ref += m
    np.testing.assert_allclose(float(w.numpy()), ref, rtol=1e-6)
    np.testing.assert_allclose(float(opt.learning_rate), 0.1, rtol=1e-6)
    assert opt.get_config()["decay"] == 0.5
    assert "decay" not in keras.optimizers.SGD().get_config()
    with pytest.raises(ValueError, match="decay=-1"):
        keras.optimizers.SGD(decay=-1.0)


def test_minimize_grad_loss():
    v = tf.Variable(2.0)
    opt = keras.optimizers.SGD(0.1)
    opt.minimize(lambda: v * v, [v], grad_loss=tf.constant(3.0))
    np.testing.assert_allclose(float(v.numpy()), 2.0 - 0.1 * 3.0 * 4.0, rtol=1e-6)


class Keras2Momentum(keras.optimizers.legacy.Optimizer):
    """A Keras 2 (OptimizerV2-style) custom optimizer."""

    def __init__(self, learning_rate=0.1, momentum=0.5, name="Keras2Momentum",
                 **kwargs):
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("momentum", momentum)

    def _create_slots(self, var_list):
        for var in var_list:
            self.add_slot(var, "velocity")

    def _resource_apply_dense(self, grad, var, apply_state=None):
        device, dtype = var.device, var.dtype.base_dtype
        coefficients = ((apply_state or {}).get((device, dtype))
                        or self._fallback_apply_state(device, dtype))
        velocity = self.get_slot(var, "velocity")
        velocity.assign(self._get_hyper("momentum", dtype) * velocity + grad)
        return var.assign_sub(coefficients["lr_t"] * velocity)

    def get_config(self):
        config = super().get_config()
        config.update(learning_rate=self._serialize_hyperparameter("learning_rate"),
                      momentum=self._serialize_hyperparameter("momentum"))
        return config


class Keras211Momentum(keras.optimizers.Optimizer):
    """A Keras 2.11+ custom optimizer: ``update_step(gradient, variable)``."""

    def __init__(self, learning_rate=0.1, name="Keras211Momentum", **kwargs):
        super().__init__(name=name, **kwargs)
        self._learning_rate = self._build_learning_rate(learning_rate)

    def build(self, var_list):
        super().build(var_list)
        self._velocities = [self.add_variable_from_reference(
            model_variable=v, variable_name="velocity") for v in var_list]

    def update_step(self, gradient, variable):
        lr = tf.cast(self.learning_rate, variable.dtype)
        velocity = self._velocities[self._index_dict[self._var_key(variable)]]
        velocity.assign(0.5 * velocity + gradient)
        variable.assign_sub(lr * velocity)


def _momentum_ref(lrs, grads, momentum=0.5, start=(1.0, -2.0)):
    w, vel = np.array(start, np.float64), 0.0
    for lr, g in zip(lrs, grads):
        vel = momentum * vel + g
        w = w - lr * vel
    return w


@pytest.mark.parametrize("cls", [Keras2Momentum, Keras211Momentum])
@pytest.mark.parametrize("compiled", [False, True])
def test_keras2_subclassing_apis(cls, compiled):
    w = tf.Variable([1.0, -2.0])
    opt = cls(learning_rate=0.1)
    g = np.array([0.5, 1.0], np.float32)

    def step(grad):
        opt.apply_gradients([(grad, w)])
    if compiled:
        step = tf.function(step)
    for _ in range(3):
        step(tf.constant(g))
    np.testing.assert_allclose(w.numpy(), _momentum_ref([0.1] * 3, [g] * 3), rtol=1e-6)
    assert int(opt.iterations.numpy()) == 3


def test_keras2_optimizer_hyperparameters_decay_and_fit():
    opt = Keras2Momentum(learning_rate=0.1, decay=0.5)
    w = tf.Variable([1.0, -2.0])
    g = np.array([1.0, 1.0], np.float32)
    for _ in range(2):
        opt.apply_gradients([(tf.constant(g), w)])
    np.testing.assert_allclose(w.numpy(), _momentum_ref([0.1, 0.1 / 1.5], [g, g]),
                               rtol=1e-6)
    assert opt.get_slot_names() == ["velocity"] and opt.name == "Keras2Momentum"
    config = opt.get_config()
    np.testing.assert_allclose(config["learning_rate"], 0.1, rtol=1e-6)
    assert config["momentum"] == 0.5 and config["decay"] == 0.5
    with pytest.raises(KeyError, match="missing"):
        opt.get_slot(w, "missing")
    # trains a model through compile/fit
    rs = np.random.RandomState(0)
    x = rs.randn(64, 3).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(Keras2Momentum(0.05), "mse")
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
