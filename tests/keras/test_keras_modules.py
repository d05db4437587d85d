"""activations, initializers, regularizers, constraints, backend and utils."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import activations, constraints, initializers, regularizers


def test_activations_values_and_lookup():
    x = np.linspace(-3, 3, 13).astype("float32")
    t = tf.constant(x)
    refs = {"relu": np.maximum(x, 0), "sigmoid": 1 / (1 + np.exp(-x)), "tanh": np.tanh(x),
            "softplus": np.log1p(np.exp(x)), "softsign": x / (1 + np.abs(x)),
            "elu": np.where(x > 0, x, np.exp(x) - 1), "linear": x,
            "swish": x / (1 + np.exp(-x)), "exponential": np.exp(x),
            "hard_sigmoid": np.clip(x / 6 + 0.5, 0, 1), "relu6": np.clip(x, 0, 6),
            "selu": 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (
                np.exp(x) - 1)),
            "mish": x * np.tanh(np.log1p(np.exp(x)))}
    for name, ref in refs.items():
        fn = activations.get(name)
        np.testing.assert_allclose(fn(t).numpy(), ref, rtol=1e-5, atol=1e-6,
                                   err_msg=name)
        assert activations.deserialize(activations.serialize(fn)) is fn
    sm = activations.softmax(tf.constant(x.reshape(1, -1))).numpy()
    np.testing.assert_allclose(sm.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(activations.relu(t, alpha=0.1, max_value=2.0).numpy(),
                               np.clip(np.where(x > 0, x, 0.1 * x), None, 2.0), rtol=1e-6)
    assert activations.get(None) is activations.linear
    assert activations.serialize(tf.nn.relu) == "relu"
    with pytest.raises(ValueError, match="Unknown activation function"):
        activations.get("nope")


def test_initializers_statistics_and_seeds():
    shape = (200, 300)
    g = initializers.get("glorot_uniform")(shape).numpy()
    limit = np.sqrt(6 / 500)
    assert g.max() <= limit and g.min() >= -limit and abs(g.std() - limit / np.sqrt(3)) < 0.003
    he = initializers.HeNormal(seed=1)(shape).numpy()
    assert abs(he.std() - np.sqrt(2 / 200)) < 0.01 and np.abs(he).max() <= 2 * np.sqrt(
        2 / 200) / 0.8796 + 1e-6
    np.testing.assert_array_equal(initializers.HeNormal(seed=1)(shape).numpy(), he)
    ln = initializers.lecun_normal(seed=2)((300, 100)).numpy()
    assert abs(ln.std() - np.sqrt(1 / 300)) < 0.005
    lu = initializers.LecunUniform()((300, 100)).numpy()
    assert np.abs(lu).max() <= np.sqrt(3 / 300)
    assert initializers.get("zeros")((2, 2)).numpy().sum() == 0
    np.testing.assert_array_equal(initializers.Constant(3)((2,)).numpy(), [3, 3])
    np.testing.assert_array_equal(initializers.Identity(2.0)((2, 3)).numpy(),
                                  2 * np.eye(2, 3))
    q = initializers.Orthogonal(seed=3)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    rn = initializers.RandomNormal(mean=1.0, stddev=0.5)((4000,)).numpy()
    assert abs(rn.mean() - 1) < 0.05 and abs(rn.std() - 0.5) < 0.05
    ru = initializers.RandomUniform(-1, 2)((4000,)).numpy()
    assert ru.min() >= -1 and ru.max() < 2
    tn = initializers.TruncatedNormal(stddev=1.0)((4000,)).numpy()
    assert np.abs(tn).max() <= 2.0
    vs = initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform")
    assert np.abs(vs((10, 50)).numpy()).max() <= np.sqrt(6 / 50)
    conf = initializers.serialize(initializers.HeNormal(seed=5))
    assert conf == {"class_name": "HeNormal", "config": {"seed": 5}}
    assert initializers.deserialize(conf).seed == 5
    with pytest.raises(ValueError, match="Unknown initializer"):
        initializers.get("glorot")


def test_regularizers_and_constraints():
    w = tf.constant(np.array([[1.0, -2.0], [3.0, -4.0]], "float32"))
    assert float(regularizers.l1(0.1)(w)) == pytest.approx(1.0)
    assert float(regularizers.L2(0.5)(w)) == pytest.approx(15.0)
    assert float(regularizers.l1_l2(l1=0.1, l2=0.5)(w)) == pytest.approx(16.0)
    assert regularizers.get("l2").l2 == pytest.approx(0.01)
    assert regularizers.deserialize(regularizers.serialize(regularizers.L1L2(0.2, 0.3))
                                    ).get_config() == {"l1": 0.2, "l2": 0.3}
    np.testing.assert_array_equal(constraints.NonNeg()(w).numpy(), [[1, 0], [3, 0]])
    un = constraints.unit_norm()(w).numpy()
    np.testing.assert_allclose(np.linalg.norm(un, axis=0), [1, 1], rtol=1e-5)
    mn = constraints.max_norm(2.0)(w).numpy()
    np.testing.assert_allclose(np.linalg.norm(mn, axis=0), [2, 2], rtol=1e-5)
    mm = constraints.MinMaxNorm(0.0, 1.0)(w).numpy()
    np.testing.assert_allclose(np.linalg.norm(mm, axis=0), [1, 1], rtol=1e-5)
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    d = keras.layers.Dense(2, kernel_constraint="non_neg")
    d.build((None, 3))
    assert isinstance(d.kernel.constraint, constraints.NonNeg)


def test_backend_and_utils():
    assert keras.backend.floatx() == "float32" and keras.backend.epsilon() == 1e-7
    assert keras.backend.image_data_format() == "channels_last"
    assert keras.backend.int_shape(tf.ones([2, 3])) == (2, 3)
    y = keras.utils.to_categorical([0, 2, 1], num_classes=3)
    np.testing.assert_array_equal(y, np.eye(3)[[0, 2, 1]])
    assert keras.utils.to_categorical([[1], [3]]).shape == (2, 4)
    n = keras.utils.normalize(np.array([[3.0, 4.0]]))
    np.testing.assert_allclose(n, [[0.6, 0.8]], rtol=1e-6)
    keras.utils.set_random_seed(7)
    a = tf.random.normal([3]).numpy()
    keras.utils.set_random_seed(7)
    np.testing.assert_array_equal(tf.random.normal([3]).numpy(), a)


def test_custom_objects_and_registration():
    @keras.utils.register_keras_serializable(package="Test")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    config = keras.layers.serialize(Scale(3.0))
    # Keras 3 (and Keras 2.13+) keep "package>name" in registered_name
    assert (config.get("registered_name") or config["class_name"]) == "Test>Scale"
    assert keras.layers.deserialize(config).factor == 3.0

    class Plain(Scale):
        pass
    cfg = {"class_name": "Plain", "config": Plain(4.0).get_config()}
    with pytest.raises(ValueError, match="Unknown layer: 'Plain'"):
        keras.layers.deserialize(cfg)
    with keras.utils.custom_object_scope({"Plain": Plain}):
        assert keras.layers.deserialize(cfg).factor == 4.0
    keras.utils.get_custom_objects()["Plain"] = Plain
    try:
        assert isinstance(keras.layers.deserialize(cfg), Plain)
    finally:
        del keras.utils.get_custom_objects()["Plain"]
