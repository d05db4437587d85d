"""Keras 3 Layer/Model methods: build configs, own-variable stores, path, metrics,
supports_masking, input_dtype, compute_output_spec, compile configs; and the Keras 2
``Bidirectional`` wrapper API."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers as L


def test_build_config_round_trip():
    dense = L.Dense(3)
    assert dense.get_build_config() is None
    dense.build((None, 4))  # an explicit build is recorded too
    assert dense.get_build_config() == {"input_shape": (None, 4)}
    other = L.Dense(3)
    other.build_from_config(dense.get_build_config())
    assert other.built and [tuple(w.shape) for w in other.weights] == [(4, 3), (3,)]
    called = L.Dense(2)
    called(tf.zeros((5, 7)))
    assert called.get_build_config() == {"input_shape": (5, 7)}
    lazy = L.Dense(2)
    lazy.build_from_config(None)
    assert not lazy.built
    with pytest.raises(ValueError, match="input_shape"):
        L.Dense(2).build_from_config({"bad": 1})


def test_own_variables_store():
    src = L.Dense(3)
    src.build((None, 4))
    store = {}
    src.save_own_variables(store)
    assert sorted(store) == ["0", "1"] and store["0"].shape == (4, 3)
    dst = L.Dense(3)
    dst.build((None, 4))
    dst.load_own_variables(store)
    np.testing.assert_array_equal(dst.kernel.numpy(), src.kernel.numpy())
    np.testing.assert_array_equal(dst.bias.numpy(), src.bias.numpy())
    with pytest.raises(ValueError, match="expected 2 variables, but received 1"):
        dst.load_own_variables({"0": store["0"]})
    with pytest.raises(ValueError, match="never built"):
        L.Dense(3).load_own_variables(store)
    bn = L.BatchNormalization()
    bn.build((None, 3))
    bn_store = {}
    bn.save_own_variables(bn_store)
    assert list(bn_store) == ["0", "1", "2", "3"]  # gamma, beta, moving mean/var
    # a model has no own variables: its layers hold them
    inp = keras.Input((4,))
    model = keras.Model(inp, L.Dense(2)(inp))
    model_store = {}
    model.save_own_variables(model_store)
    assert model_store == {}


def test_path_metrics_masking_input_dtype():
    class Outer(L.Layer):
        def __init__(self):
            super().__init__()
            self.inner = L.Dense(2)
            self.tracker = keras.metrics.Mean()

        def call(self, x):
            return self.inner(x)

    outer = Outer()
    assert outer.path is None
    outer(np.zeros((1, 3), "float32"))
    assert outer.path == outer.name
    assert outer.inner.path == f"{outer.name}/{outer.inner.name}"
    assert outer.metrics == [outer.tracker]
    assert len(outer.metrics_variables) == len(outer.tracker.variables)

    dense = L.Dense(2)
    assert dense.supports_masking is True
    dense.supports_masking = False
    assert dense.supports_masking is False
    assert L.Layer().supports_masking is False
    assert dense.input_dtype == "float32"
    assert L.Dense(2, dtype="mixed_float16").input_dtype == "float16"


def test_compute_output_spec():
    spec = L.Dense(3).compute_output_spec(keras.Input((4,)))
    assert spec.shape.as_list() == [None, 3] and spec.dtype == tf.float32
    lstm = L.LSTM(5, return_state=True)
    out, _, c = lstm.compute_output_spec(keras.Input((7, 2)))
    assert out.shape.as_list() == [None, 5] and c.shape.as_list() == [None, 5]


def test_compile_config_round_trip_and_training():
    def build():
        inp = keras.Input((4,))
        return keras.Model(inp, L.Dense(1)(inp))

    model = build()
    assert model.get_compile_config() == {}
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    config = model.get_compile_config()
    assert config["loss"] == "mse" and config["metrics"] == ["mae"]
    assert config["optimizer"]["class_name"] == "Adam"
    assert config["steps_per_execution"] == 1 and config["run_eagerly"] is False
    other = build()
    other.compile_from_config(config)
    assert isinstance(other.optimizer, keras.optimizers.Adam)
    assert other.optimizer.built  # the model was built: optimizer variables exist
    np.testing.assert_allclose(float(other.optimizer.learning_rate), 0.01, rtol=1e-6)
    x = np.random.default_rng(0).standard_normal((64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    hist = other.fit(x, y, epochs=5, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert "mae" in hist.history
    # Loss/metric objects serialize to configs and come back as objects
    obj = build()
    obj.compile(optimizer="sgd", loss=keras.losses.Huber(delta=2.0),
                metrics=[keras.metrics.MeanAbsoluteError()])
    again = build()
    again.compile_from_config(obj.get_compile_config())
    assert isinstance(again.loss, keras.losses.Huber)
    with pytest.raises(TypeError, match="expects a dict"):
        again.compile_from_config(["mse"])


def test_bidirectional_is_a_wrapper_with_layer():
    lstm = L.LSTM(3)
    bi = L.Bidirectional(lstm)
    assert isinstance(bi, L.Wrapper)
    assert bi.layer is lstm and not lstm.built
    out = bi(np.zeros((2, 4, 5), "float32"))
    assert tuple(out.shape) == (2, 6)
    assert bi.forward_layer.name == f"forward_{lstm.name}"
    assert bi.backward_layer.go_backwards
    assert len(bi.weights) == 6 and not lstm.weights  # the original is not tracked
    clone = L.Bidirectional.from_config(bi.get_config())
    assert clone.layer.name == lstm.name
    assert clone.forward_layer.name == f"forward_{lstm.name}"
