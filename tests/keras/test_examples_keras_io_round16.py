"""keras.io generative / vision examples (round 16) on tiny synthetic data: VQ-VAE's
quantizer and PixelCNN prior, WGAN-GP's gradient penalty, the DDIM EMA network."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


class _OneHot(layers.Layer):
    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth
        self.seen = []

    def call(self, codes):
        self.seen.append(codes.dtype)
        return tf.one_hot(codes, self.depth)


def test_float_input_into_int_model_is_cast_in_the_symbolic_call():
    # keras.io "VQ-VAE": the PixelCNN prior takes Input(dtype=tf.int32) codes and the
    # sampler wraps it as ``pixel_cnn(layers.Input(shape=...))`` (float32 Input).
    # Keras 2 and 3 cast the float Input to the declared int32 before the inner
    # layers run, symbolically as eagerly.
    codes = keras.Input(shape=(3, 3), dtype=tf.int32)
    one_hot = _OneHot(4)
    logits = layers.Conv2D(4, 1, kernel_initializer="ones")(one_hot(codes))
    pixel_cnn = keras.Model(codes, logits)
    float_input = layers.Input(shape=pixel_cnn.input_shape[1:])
    assert float_input.dtype == tf.float32
    outputs = pixel_cnn(float_input, training=False)
    assert tuple(outputs.shape) == (None, 3, 3, 4)
    assert outputs.dtype == tf.float32
    assert set(one_hot.seen) == {tf.int32}
    sampler = keras.Model(float_input, outputs)
    priors = np.array([[[0.0, 1.0, 2.0], [3.0, 0.0, 1.0], [2.0, 2.0, 3.0]]])
    got = sampler.predict(priors, verbose=0)
    ref = np.eye(4, dtype="float32")[priors.astype(int)].sum(-1, keepdims=True)
    np.testing.assert_allclose(got, np.broadcast_to(ref, (1, 3, 3, 4)))
    assert set(one_hot.seen) == {tf.int32}


class _AdaptiveAugmenter(keras.Model):
    """keras.io "Data-efficient GANs with ADA" (Keras 2 version): the inner
    augmenter gets ``training`` positionally."""

    def __init__(self):
        super().__init__()
        self.probability = tf.Variable(1.0)
        self.augmenter = keras.Sequential([
            layers.InputLayer(input_shape=(8, 8, 1)),
            layers.Lambda(lambda x: x + 1.0),
            layers.Dropout(0.999, seed=1),
        ])

    def call(self, images, training):
        if training:
            augmented = self.augmenter(images, training)
            draws = tf.random.uniform((tf.shape(images)[0], 1, 1, 1))
            images = tf.where(tf.math.less(draws, self.probability), augmented, images)
        return images


def test_training_flag_passed_positionally_reaches_inner_layers():
    images = tf.ones((2, 8, 8, 1))
    augmenter = _AdaptiveAugmenter()
    # Keras 2 binds call(x, True) to ``training``; Dropout then drops (almost) all.
    out = augmenter(images, True).numpy()
    assert (out == 0).mean() > 0.9
    np.testing.assert_array_equal(augmenter(images, False).numpy(), 1.0)
    np.testing.assert_array_equal(augmenter.augmenter(images, False).numpy(), 2.0)
    assert (augmenter.augmenter(images, True).numpy() == 0).mean() > 0.9
    # ``mask`` too: call(inputs, mask) given positionally
    seen = []

    class Masked(layers.Layer):
        def call(self, inputs, mask=None):
            seen.append(mask)
            return inputs

    Masked()(images, tf.constant([True, False]))
    assert seen[-1].numpy().tolist() == [True, False]
    with pytest.raises(TypeError, match="training"):
        augmenter.augmenter(images, True, training=False)


def test_keras_activations_on_functional_tensors_insert_op_layers(tmp_path):
    # keras.io "DDPM": ResidualBlock applies ``keras.activations.swish`` to the time
    # embedding KerasTensor; Keras 2 and 3 both build an op layer for it.
    inputs = keras.Input((4,))
    hidden = keras.activations.swish(inputs)
    outputs = keras.activations.relu(layers.Dense(3, kernel_initializer="ones")(hidden),
                                     max_value=2.0)
    model = keras.Model(inputs, [hidden, outputs,
                                 keras.activations.softmax(inputs, axis=-1)])
    x = np.array([[-1.0, 0.0, 0.5, 2.0]], "float32")
    swish = x / (1 + np.exp(-x))
    got = model.predict(x, verbose=0)
    np.testing.assert_allclose(got[0], swish, rtol=1e-5)
    np.testing.assert_allclose(got[1], np.minimum(np.maximum(swish.sum(1, keepdims=True)
                                                             * np.ones((1, 3)), 0), 2.0),
                               rtol=1e-5)
    np.testing.assert_allclose(got[2], np.exp(x) / np.exp(x).sum(), rtol=1e-5)
    path = str(tmp_path / "act.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    for a, b in zip(reloaded.predict(x, verbose=0), got):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # the activations stay the objects ``get`` returns and configs name
    assert keras.activations.get("swish") is keras.activations.swish
    assert keras.activations.serialize(keras.activations.silu) == "swish"
    assert layers.LSTM(2).cell.activation is keras.activations.tanh
