"""Noise layers take Keras 3's default seed at construction (after set_random_seed), so
the layers built after them get TF 2.21's initial weights."""

import numpy as np

import dlframe as tf

# TF 2.21 / Keras 3.15, same program: tf.keras.utils.set_random_seed(7), then the model below
TF_FIRST_KERNEL = [-0.338074, 0.425637, 0.840488, -0.315642]
TF_LAST_KERNEL = [-0.637347, 0.71106, 0.759875, 0.445274, -0.211524, -0.988172, -0.645502,
                  0.641396]


def _model():
    layers = tf.keras.layers
    return tf.keras.Sequential([
        tf.keras.Input((3,)), layers.Dense(4), layers.Dropout(0.5), layers.GaussianNoise(0.1),
        layers.GaussianDropout(0.2), layers.AlphaDropout(0.1),
        layers.Dropout(0.0),   # rate 0: Keras 3 makes no seed state, takes no seed
        layers.Dense(2)])


def test_weights_after_noise_layers_equal_tf():
    tf.keras.utils.set_random_seed(7)
    model = _model()
    np.testing.assert_allclose(model.layers[0].kernel.numpy().ravel()[:4], TF_FIRST_KERNEL,
                               atol=1e-6)
    np.testing.assert_allclose(model.layers[-1].kernel.numpy().ravel(), TF_LAST_KERNEL,
                               atol=1e-6)


def test_a_seeded_noise_layer_takes_no_default_seed():
    tf.keras.utils.set_random_seed(7)
    with_seed = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dropout(0.5, seed=1),
                                     tf.keras.layers.Dense(2)])
    tf.keras.utils.set_random_seed(7)
    without_layer = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    np.testing.assert_array_equal(with_seed.layers[-1].kernel.numpy(),
                                  without_layer.layers[-1].kernel.numpy())
