"""Helpers factored out of repeated code: optimizer gradient clipping, the Inception
conv-BN unit, the pass-through ``preprocess_input``, the depthwise convolutions' shared
constructor, the normalization layers' gamma/beta options and GroupNormalization."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras.applications import (
    builder,
    convnext,
    efficientnet,
    inception_resnet_v2,
    inception_v3,
    mobilenet_v3,
)
from dlframe.keras.optimizers.clipping import clip_gradients

GRADS = [np.array([3.0, 4.0], "float32"), np.array([[-12.0], [0.5]], "float32")]


def _clip(**kw):
    return [g.numpy() for g in clip_gradients([tf.constant(g) for g in GRADS], **kw)]


def test_clip_gradients_by_norm_matches_numpy():
    out = _clip(clipnorm=1.0)
    for o, g in zip(out, GRADS):
        np.testing.assert_allclose(o, g / max(np.linalg.norm(g), 1.0), rtol=1e-6)


def test_clip_gradients_by_global_norm_matches_numpy():
    total = np.sqrt(sum(float((g ** 2).sum()) for g in GRADS))
    for o, g in zip(_clip(global_clipnorm=2.0), GRADS):
        np.testing.assert_allclose(o, g * 2.0 / total, rtol=1e-6)


def test_clip_gradients_by_value_and_unset():
    for o, g in zip(_clip(clipvalue=1.0), GRADS):
        np.testing.assert_allclose(o, np.clip(g, -1.0, 1.0))
    for o, g in zip(_clip(clipnorm=0, clipvalue=None), GRADS):
        np.testing.assert_allclose(o, g)


def test_optimizer_clipnorm_uses_the_shared_clipping():
    v = tf.Variable([3.0, 4.0])
    grad = tf.constant([3.0, 4.0])
    keras.optimizers.SGD(1.0, clipnorm=1.0).apply_gradients([(grad, v)])
    np.testing.assert_allclose(v.numpy(), [2.4, 3.2], rtol=1e-6)


def test_conv_bn_names_and_layers():
    x = keras.Input((8, 8, 3))
    names = [layer.name for layer in keras.Model(
        x, inception_v3.conv2d_bn(x, 4, 3, 3, name="a")).layers[1:]]
    assert names == ["a_conv", "a_bn", "a"]
    names = [layer.name for layer in keras.Model(
        x, inception_resnet_v2.conv2d_bn(x, 4, 3, name="b")).layers[1:]]
    assert names == ["b", "b_bn", "b_ac"]
    y = builder.conv_bn(x, 4, 1, (None, None, None), use_bias=True, activation=None)
    layers = keras.Model(x, y).layers[1:]
    assert [type(layer).__name__ for layer in layers] == ["Conv2D"]
    assert layers[0].use_bias
    bn = keras.Model(x, builder.conv_bn(x, 4, 1, ("c", "d", "e"))).get_layer("d")
    assert bn.scale is False and len(bn.weights) == 3   # beta + moving stats


@pytest.mark.parametrize("module", [convnext, efficientnet, mobilenet_v3])
def test_passthrough_preprocess_input(module):
    x = np.arange(6.0).reshape(1, 2, 3)
    assert module.preprocess_input(x) is x
    assert module.preprocess_input.__module__ == module.__name__
    assert "unchanged" in module.preprocess_input.__doc__ or \
        "returns ``x``" in module.preprocess_input.__doc__


@pytest.mark.parametrize("cls, kwargs, weights", [
    (keras.layers.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2},
     [(3, 3, 3, 2), (6,)]),
    (keras.layers.SeparableConv2D, {"filters": 4, "kernel_size": 3,
                                    "depthwise_regularizer": "l2"},
     [(3, 3, 3, 1), (1, 1, 3, 4), (4,)]),
])
def test_depthwise_constructors(cls, kwargs, weights):
    layer = cls(**kwargs)
    x = np.random.RandomState(0).rand(2, 5, 5, 3).astype("float32")
    assert layer(x).shape[:3] == (2, 3, 3)
    assert [tuple(w.shape) for w in layer.weights] == weights
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="depth_multiplier=0"):
        cls(**{**kwargs, "depth_multiplier": 0})


def test_group_normalization_matches_numpy_and_reloads(tmp_path):
    x = np.random.RandomState(1).rand(2, 3, 4).astype("float32")
    layer = keras.layers.GroupNormalization(groups=2, epsilon=1e-3,
                                            gamma_regularizer="l2")
    out = layer(x).numpy()
    g = x.reshape(2, 3, 2, 2)
    mean, var = g.mean(axis=(1, 3), keepdims=True), g.var(axis=(1, 3), keepdims=True)
    np.testing.assert_allclose(out, ((g - mean) / np.sqrt(var + 1e-3)).reshape(x.shape),
                               rtol=1e-4, atol=1e-5)
    names = [w.name.split("/")[-1].split(":")[0] for w in layer.weights]
    assert names == ["gamma", "beta"]
    assert layer.get_config()["gamma_regularizer"] is not None
    model = keras.Sequential([keras.Input((3, 4)), keras.layers.GroupNormalization(2)])
    path = str(tmp_path / "g.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded(x).numpy(), model(x).numpy())
