"""Keras 2's ``tf.keras.layers.experimental`` path: the preprocessing submodule,
SyncBatchNormalization and RandomFourierFeatures."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.layers.experimental import preprocessing


def test_preprocessing_path_gives_the_same_classes():
    layers = tf.keras.layers
    for name in preprocessing.__all__:
        if name != "PreprocessingLayer":
            assert getattr(preprocessing, name) is getattr(layers, name), name
    assert layers.experimental.preprocessing is preprocessing
    norm = preprocessing.Normalization()
    norm.adapt(np.array([[1.0], [3.0]], "float32"))
    np.testing.assert_allclose(norm(np.array([[3.0]], "float32")).numpy(), [[1.0]],
                               rtol=1e-3)


def test_sync_batch_normalization_is_synchronized_batch_norm():
    layer = tf.keras.layers.experimental.SyncBatchNormalization(momentum=0.5)
    assert isinstance(layer, tf.keras.layers.BatchNormalization)
    assert layer.synchronized and layer.momentum == 0.5
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(64, 4)).astype("float32")
    out = layer(x, training=True).numpy()
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-4)


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
def test_random_fourier_features_approximate_their_kernel(kernel):
    tf.random.set_seed(3)
    layer = tf.keras.layers.experimental.RandomFourierFeatures(
        20000, kernel_initializer=kernel, scale=1.5)
    x = np.random.default_rng(1).normal(size=(4, 3)).astype("float32") * 0.7
    feats = layer(x).numpy()
    assert feats.shape == (4, 20000)
    approx = feats @ feats.T
    dist = x[:, None] - x[None]
    if kernel == "gaussian":
        exact = np.exp(-(dist ** 2).sum(-1) / (2 * 1.5 ** 2))
    else:
        exact = np.exp(-np.abs(dist).sum(-1) / 1.5)
    np.testing.assert_allclose(approx, exact, atol=0.05)
    assert layer.trainable_weights == []   # trainable=False by default


def test_random_fourier_features_config_training_and_errors():
    layer = tf.keras.layers.experimental.RandomFourierFeatures(8, trainable=True)
    layer.build((None, 6))
    np.testing.assert_allclose(layer.kernel_scale.numpy(), [np.sqrt(3.0)])
    assert [w.name.split("/")[-1] for w in layer.trainable_weights] == ["kernel_scale:0"]
    clone = type(layer).from_config(layer.get_config())
    assert clone.output_dim == 8 and clone.kernel_initializer == "gaussian"
    model = tf.keras.Sequential([tf.keras.Input((6,)), layer, tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    before = layer.kernel_scale.numpy().copy()
    model.fit(np.ones((8, 6), "float32"), np.zeros((8, 1), "float32"), verbose=0)
    assert not np.allclose(before, layer.kernel_scale.numpy())
    with pytest.raises(ValueError, match="output_dim"):
        tf.keras.layers.experimental.RandomFourierFeatures(0)
    with pytest.raises(ValueError, match="kernel_initializer"):
        tf.keras.layers.experimental.RandomFourierFeatures(4, kernel_initializer="rbf")
    with pytest.raises(ValueError, match="scale"):
        tf.keras.layers.experimental.RandomFourierFeatures(4, scale=-1.0)
