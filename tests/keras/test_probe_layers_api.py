"""Regressions found by probing Keras layer APIs against TensorFlow 2.21 (helper J):
MultiHeadAttention ``output_shape`` tuples and argument checks, LayerNormalization
``rms_scaling``, BatchNormalization config keys, ``activations.relu(negative_slope=)``,
rank-1 softmax, and early errors of noise/masking/attention/Bidirectional layers."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.keras.layer_test_utils import run_layer_test

L = keras.layers
RNG = np.random.default_rng(0)
QUERY = RNG.standard_normal((2, 4, 6)).astype("float32")
VALUE = RNG.standard_normal((2, 5, 6)).astype("float32")


def _copy_reshaped(src, dst):
    """Gives ``dst`` the weights of ``src`` reshaped to ``dst``'s shapes."""
    dst.set_weights([w.reshape(d.shape) for w, d in zip(src.get_weights(),
                                                         dst.get_weights())])


def test_mha_output_shape_tuple_gives_multi_dim_output():
    flat = L.MultiHeadAttention(num_heads=2, key_dim=3, output_shape=8)
    multi = L.MultiHeadAttention(num_heads=2, key_dim=3, output_shape=(2, 4))
    flat(QUERY, VALUE)
    multi(QUERY, VALUE)
    assert [tuple(w.shape) for w in multi.weights][-2:] == [(2, 3, 2, 4), (2, 4)]
    _copy_reshaped(flat, multi)
    out, scores = multi(QUERY, VALUE, return_attention_scores=True)
    assert tuple(out.shape) == (2, 4, 2, 4)
    assert tuple(scores.shape) == (2, 2, 4, 5)
    # the (2, 4) output is the flat output's last axis split in two
    np.testing.assert_allclose(np.asarray(out).reshape(2, 4, 8),
                               np.asarray(flat(QUERY, VALUE)), rtol=1e-5, atol=1e-6)
    assert tuple(multi.compute_output_shape((2, 4, 6), (2, 5, 6))) == (2, 4, 2, 4)
    compiled = tf.function(lambda q, v: multi(q, v))
    np.testing.assert_allclose(np.asarray(compiled(QUERY, VALUE)), np.asarray(out),
                               rtol=1e-5, atol=1e-6)


def test_mha_output_shape_tuple_functional_and_config_round_trip():
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3, output_shape=(2, 4))
    query, value = keras.Input((4, 6)), keras.Input((5, 6))
    model = keras.Model([query, value], layer(query, value))
    assert tuple(model.output_shape) == (None, 4, 2, 4)
    clone = L.MultiHeadAttention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("kwargs, arg", [
    ({"num_heads": 0, "key_dim": 2}, "num_heads"),
    ({"num_heads": 2, "key_dim": 0}, "key_dim"),
    ({"num_heads": 2.5, "key_dim": 2}, "num_heads"),
])
def test_mha_rejects_non_positive_sizes(kwargs, arg):
    with pytest.raises(ValueError, match=f"`{arg}`.*Received: {arg}="):
        L.MultiHeadAttention(**kwargs)


def test_layer_normalization_rms_scaling_matches_variance_formula():
    x = np.array([[1.0, 2.0, 3.0, 6.0], [-1.0, 0.5, 2.0, 0.0]], "float32")
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = L.LayerNormalization(rms_scaling=True, epsilon=1e-3)
    out = np.asarray(layer(x))
    assert [w.name.split("/")[-1].split(":")[0] for w in layer.weights] == ["gamma"]
    expected = x / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    # first row from TF 2.21 (Keras 3.13): it divides by the variance, not the RMS
    np.testing.assert_allclose(out[0], [0.5344462, 1.0688924, 1.6033385, 3.206677],
                               rtol=1e-5)
    config = layer.get_config()
    assert config["rms_scaling"] is True
    with pytest.warns(UserWarning):
        assert L.LayerNormalization.from_config(config).rms_scaling
    assert L.LayerNormalization().get_config()["rms_scaling"] is False


def test_layer_normalization_rms_scaling_layer_checks():
    with pytest.warns(UserWarning):
        run_layer_test(L.LayerNormalization, {"rms_scaling": True, "axis": [1, 2]},
                       input_shape=(3, 4, 5), expected_output_shape=(3, 4, 5),
                       expected_num_trainable_weights=1)


def test_batch_normalization_config_has_keras3_keys_and_round_trips():
    layer = L.BatchNormalization(momentum=0.9, renorm_momentum=0.5)
    config = layer.get_config()
    for key, value in (("renorm", False), ("renorm_clipping", None),
                       ("renorm_momentum", 0.5), ("synchronized", False)):
        assert config[key] == value
    assert L.BatchNormalization.from_config(config).get_config() == config


def test_relu_accepts_keras3_negative_slope():
    x = tf.constant([-3.0, -1.0, 0.0, 0.5, 2.0, 8.0])
    # expected values from TF 2.21: relu(x, negative_slope=0.1, max_value=4, threshold=.5)
    expected = [-0.35, -0.15, -0.05, 0.0, 2.0, 4.0]
    kwargs = {"max_value": 4.0, "threshold": 0.5}
    got = keras.activations.relu(x, negative_slope=0.1, **kwargs)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(keras.activations.relu(x, 0.1, **kwargs)),
                               expected, rtol=1e-6)
    with pytest.raises(ValueError, match="negative_slope"):
        keras.activations.relu(x, alpha=0.1, negative_slope=0.2)


def test_softmax_activation_on_rank_one_tensor():
    logits = np.array([1.0, 2.0, 0.5], "float32")
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(np.asarray(keras.activations.softmax(tf.constant(logits))),
                               expected, rtol=1e-6)
    with pytest.raises(ValueError, match="scalar"):
        keras.activations.softmax(tf.constant(1.0))


@pytest.mark.parametrize("make, arg", [
    (lambda: L.GaussianNoise(-1.0), "stddev"),
    (lambda: L.GaussianNoise("0.1"), "stddev"),
    (lambda: L.Dropout(True), "rate"),
    (lambda: L.Masking(mask_value=None), "mask_value"),
])
def test_bad_arguments_fail_early_naming_the_argument(make, arg):
    with pytest.raises(ValueError, match=f"`{arg}`.*Received: {arg}="):
        make()


def test_gaussian_noise_valid_stddev_still_adds_noise():
    layer = L.GaussianNoise(0.5, seed=1)
    out = np.asarray(layer(np.zeros((2000, 4), "float32"), training=True))
    assert abs(out.std() - 0.5) < 0.03
    assert np.all(np.asarray(layer(np.ones((2, 2), "float32"), training=False)) == 1)


@pytest.mark.parametrize("cls", [L.Attention, L.AdditiveAttention])
def test_attention_layers_require_a_list_of_two_or_three_inputs(cls):
    with pytest.raises(ValueError, match="list of inputs"):
        cls()(QUERY)
    with pytest.raises(ValueError, match="length 2 or 3"):
        cls()([QUERY])
    out = cls()([QUERY, VALUE])
    assert tuple(out.shape) == (2, 4, 6)


def test_bidirectional_rejects_a_non_recurrent_layer():
    with pytest.raises(TypeError, match="Dense"):
        L.Bidirectional(L.Dense(3))
    with pytest.raises(ValueError, match="Layer"):
        L.Bidirectional("lstm")
