"""Keras 3 ``model.export`` artifacts: ``tf.saved_model.load(dir).serve`` and
``keras.layers.TFSMLayer``."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

L = keras.layers
X = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")


def _model():
    return keras.Sequential([keras.Input((4,)), L.Dense(3, activation="relu"),
                             L.Dense(2)])


@keras.saving.register_keras_serializable(package="export_tests")
class Residual(keras.Model):
    """A subclassed model (registered: the artifact stores its config)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = L.Dense(4)

    def call(self, x):
        return x + self.inner(x)


def test_export_then_serve(tmp_path, capsys):
    model = _model()
    path = str(tmp_path / "artifact")
    model.export(path)
    assert "Endpoint 'serve'" in capsys.readouterr().out
    assert os.path.isdir(os.path.join(path, "assets"))
    restored = tf.saved_model.load(path)
    np.testing.assert_allclose(restored.serve(X).numpy(), model.predict(X, verbose=0),
                               rtol=1e-6)
    outputs = restored.signatures["serving_default"](tf.constant(X))
    np.testing.assert_allclose(next(iter(outputs.values())).numpy(),
                               model.predict(X, verbose=0), rtol=1e-6)
    assert list(restored.signatures) == ["serve", "serving_default"]   # as TF 2.21
    with pytest.raises(ValueError, match=r"shape \[None, 4\]"):
        restored.serve(np.zeros((2, 5), "float32"))


def test_subclassed_model_export_keeps_its_weights(tmp_path):
    model = Residual()
    model(X)
    path = str(tmp_path / "sub")
    model.export(path, verbose=False)
    np.testing.assert_allclose(tf.saved_model.load(path).serve(X).numpy(),
                               model(X).numpy(), rtol=1e-6)


def test_tfsm_layer_in_a_model_and_training(tmp_path):
    model = _model()
    path = str(tmp_path / "artifact")
    model.export(path, verbose=False)
    layer = keras.layers.TFSMLayer(path, call_endpoint="serve")
    inp = keras.Input((4,))
    wrapper = keras.Model(inp, layer(inp))
    np.testing.assert_allclose(wrapper.predict(X, verbose=0),
                               model.predict(X, verbose=0), rtol=1e-6)
    assert len(layer.trainable_weights) == 4
    frozen = keras.layers.TFSMLayer(path, trainable=False)
    assert not frozen.trainable_weights and len(frozen.non_trainable_weights) == 4
    named = keras.layers.TFSMLayer(path, call_endpoint="serving_default")
    assert isinstance(named(tf.constant(X)), dict)
    wrapper.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    target = np.zeros((5, 2), "float32")
    before = wrapper.evaluate(X, target, verbose=0)
    wrapper.fit(X, target, epochs=10, verbose=0)
    assert wrapper.evaluate(X, target, verbose=0) < before
    assert layer.get_config()["call_endpoint"] == "serve"


def test_export_errors(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match="format='onnx'"):
        model.export(str(tmp_path / "a"), format="onnx")
    unbuilt = keras.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="must be built"):
        unbuilt.export(str(tmp_path / "b"))
    model.export(str(tmp_path / "c"), verbose=False)
    with pytest.raises(ValueError, match="endpoint 'predict'"):
        keras.layers.TFSMLayer(str(tmp_path / "c"), call_endpoint="predict")
    with pytest.raises(ValueError, match="filepath"):
        keras.layers.TFSMLayer(str(tmp_path / "missing"))
