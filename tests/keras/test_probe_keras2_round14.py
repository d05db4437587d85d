"""Round-14 probe of Keras 2-era programs: ``tf.keras.backend`` gaps they hit."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_forward, check_function_matches_eager, check_grad

K = tf.keras.backend

X = np.array([[1.0, -2.0, 3.0], [0.5, 0.2, -0.1]], "float32")


def test_clip_with_none_bound_leaves_that_side_open():
    # The classic F1/log-loss code does K.log(K.clip(x, K.epsilon(), None)).
    check_forward(lambda x: K.clip(x, 1e-7, None), [X], lambda a: np.maximum(a, 1e-7))
    check_forward(lambda x: K.clip(x, None, 1.0), [X], lambda a: np.minimum(a, 1.0))
    out = K.log(K.clip(tf.constant(X), K.epsilon(), None)).numpy()
    np.testing.assert_allclose(out, np.log(np.maximum(X, 1e-7)), rtol=1e-6)


def test_clip_raises_a_max_below_min_to_min_and_is_differentiable():
    # Keras 2: numeric max_value < min_value becomes min_value.
    check_forward(lambda x: K.clip(x, 0.5, 0.0), [X], lambda a: np.full_like(a, 0.5))
    x = np.array([[0.3, -0.7, 0.9]], "float64")
    check_grad(lambda t: K.clip(t, -0.5, 0.5), [x])
    check_function_matches_eager(lambda t: K.clip(t, 0.0, None), [X])


def test_backend_hard_sigmoid_keeps_the_keras2_slope():
    # Values from TF 2.21's tf.keras.backend.hard_sigmoid (0.2 * x + 0.5, clipped).
    want = [[0.7, 0.1, 1.0], [0.6, 0.54, 0.48]]
    np.testing.assert_allclose(K.hard_sigmoid(tf.constant(X)).numpy(), want, rtol=1e-6)
    check_forward(K.hard_sigmoid, [X], lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0))


def _two_layer_model():
    inp = tf.keras.Input((4,))
    hidden = tf.keras.layers.Dense(3, name="h")(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(1)(hidden))


def test_function_with_a_lone_output_tensor_returns_an_array():
    model = _two_layer_model()
    x = np.random.default_rng(1).random((2, 4)).astype("float32")
    kernel, bias = model.get_layer("h").get_weights()
    single = K.function(model.input, model.get_layer("h").output)([x])
    assert isinstance(single, np.ndarray)
    np.testing.assert_allclose(single, x @ kernel + bias, rtol=1e-6)
    listed = K.function([model.input], [model.get_layer("h").output])([x])
    assert isinstance(listed, list) and len(listed) == 1
    with pytest.raises(ValueError, match="Session keyword arguments"):
        K.function([model.input], [model.output], fetches=[1])


def test_learning_phase_global_setting_and_scope():
    assert K.learning_phase() == 0
    with K.learning_phase_scope(1):
        assert K.learning_phase() == 1
        assert K.in_train_phase(lambda: "train", "test") == "train"
    assert K.learning_phase() == 0
    with pytest.raises(ValueError, match="0 or 1"):
        K.set_learning_phase(2)
    K.set_learning_phase(1)
    try:
        assert K.learning_phase() == 1
    finally:
        K.set_learning_phase(0)


def test_in_train_phase_and_in_test_phase_values():
    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    np.testing.assert_allclose(K.in_train_phase(a, b, training=True).numpy(), [1, 2])
    np.testing.assert_allclose(K.in_train_phase(a, b, training=0).numpy(), [3, 4])
    np.testing.assert_allclose(K.in_test_phase(a, b, training=False).numpy(), [1, 2])
    flag = tf.constant(True)
    np.testing.assert_allclose(K.in_train_phase(a, b, training=flag).numpy(), [1, 2])


def test_in_train_phase_in_a_lambda_follows_the_call_training_flag():
    inp = tf.keras.Input((3,))
    out = tf.keras.layers.Lambda(lambda x: K.in_train_phase(x * 0.0, x))(inp)
    model = tf.keras.Model(inp, out)
    ones = np.ones((2, 3), "float32")
    np.testing.assert_allclose(model.predict(ones, verbose=0), ones)
    np.testing.assert_allclose(model(ones, training=True).numpy(), np.zeros((2, 3)))
    np.testing.assert_allclose(model(ones, training=False).numpy(), ones)


def test_in_train_phase_noise_lambda_trains_and_predicts_cleanly():
    # Keras 2 idiom: training-only noise written with K.in_train_phase.
    tf.keras.utils.set_random_seed(0)
    noisy = tf.keras.layers.Lambda(
        lambda x: K.in_train_phase(x + K.random_normal(K.shape(x), stddev=0.1), x))
    model = tf.keras.Sequential([tf.keras.Input((2,)), noisy, tf.keras.layers.Dense(1)])
    model.compile(tf.keras.optimizers.SGD(learning_rate=0.1), "mse")
    x = np.random.default_rng(0).random((64, 2)).astype("float32")
    y = x @ np.array([[1.0], [-2.0]], "float32")
    hist = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    first = model.predict(x[:4], verbose=0)
    np.testing.assert_allclose(model.predict(x[:4], verbose=0), first)
