"""Keras 3 model attributes, build configs, normalization input specs, augmentation
factor checks and compile-in-a-foreign-strategy errors (expected behaviour probed on
TF 2.21 / Keras 3)."""

import json
import zipfile

import numpy as np
import pytest

import dlframe as tf
from dlframe import config

keras = tf.keras
L = keras.layers


def _mlp():
    return keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(1)])


# -- 1. compiled / compile config ----------------------------------------------------
def test_compiled_flag_and_compile_config_round_trip():
    model = _mlp()
    assert model.compiled is False
    assert model.get_compile_config() == {}   # TF 2.21: {} before compile
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert model.compiled is True
    assert model.compiled_loss is not None and model.compiled_metrics is not None
    cc = model.get_compile_config()
    assert cc["loss"] == "mse" and cc["metrics"] == ["mae"]
    assert {"class_name", "config"} <= set(cc["optimizer"])

    other = _mlp()
    other.compile_from_config(cc)
    assert other.compiled and type(other.optimizer).__name__ == "Adam"
    x = np.linspace(-1, 1, 32, dtype="float32").reshape(8, 4)
    y = x.sum(axis=1, keepdims=True)
    hist = other.fit(x, y, epochs=3, verbose=0)
    assert sorted(hist.history) == ["loss", "mae"]


def test_compute_output_spec_of_a_model():
    spec = _mlp().compute_output_spec(keras.KerasTensor((None, 4)))
    assert tuple(spec.shape) == (None, 1)
    assert getattr(spec.dtype, "name", spec.dtype) == "float32"


# -- 2. build configs -----------------------------------------------------------------
def test_functional_build_config_is_keras3s(tmp_path):
    inp = keras.Input((5, 3))
    model = keras.Model(inp, L.Dense(1)(L.LSTM(4)(inp)))
    assert model.get_build_config() == {"input_shape": None}   # as TF 2.21
    assert _mlp().get_build_config() == {"input_shape": (None, 4)}
    path = str(tmp_path / "f.keras")
    model.save(path)
    with zipfile.ZipFile(path) as z:
        assert json.loads(z.read("config.json"))["build_config"] == {
            "input_shape": None}
    x = np.linspace(-1, 1, 30, dtype="float32").reshape(2, 5, 3)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), rtol=1e-6)


# -- 3. normalization input specs -----------------------------------------------------
@pytest.mark.parametrize("make, axes", [
    (lambda: L.BatchNormalization(), {-1: 4}),
    (lambda: L.BatchNormalization(axis=1), {1: 3}),
    (lambda: L.BatchNormalization(axis=-2), {-2: 3}),
    (lambda: L.GroupNormalization(groups=2), {-1: 4}),
])
def test_normalization_input_spec_keeps_written_axis(make, axes):
    layer = make()
    assert layer.input_spec is None
    layer.build((2, 3, 4))
    assert layer.input_spec.ndim == 3 and layer.input_spec.axes == axes


def test_group_normalization_rejects_other_channel_count():
    layer = L.GroupNormalization(groups=2)
    layer(tf.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="axis -1"):
        layer(tf.zeros((2, 3, 6)))


# -- 4. augmentation factors (accept/raise as TF 2.21) ---------------------------------
OK, BAD = "ok", ValueError


@pytest.mark.parametrize("make, factor, expect", [
    (L.RandomRotation, 0.5, OK), (L.RandomRotation, 1.5, BAD),
    (L.RandomRotation, (-1.5, 0.2), OK), (L.RandomRotation, (1.2, 1.5), BAD),
    (L.RandomRotation, (-2, -1.5), BAD), (L.RandomRotation, -1.0, OK),
    (L.RandomZoom, (0.2, 1.5), BAD), (L.RandomZoom, 1.5, BAD),
    (L.RandomZoom, (-1.5, 0.2), BAD), (L.RandomZoom, (-0.5, 0.5), OK),
    (L.RandomContrast, 1.5, BAD), (L.RandomContrast, -0.2, BAD),
    (L.RandomContrast, 1.0, OK), (L.RandomContrast, (-0.5, 0.5), OK),
    (L.RandomContrast, (0.5, -0.5), BAD), (L.RandomContrast, (0.5, 1.5), OK),
    (L.RandomContrast, (1.2, 1.5), BAD),
    (L.RandomBrightness, 1.5, BAD), (L.RandomBrightness, -0.2, OK),
    (L.RandomBrightness, (0.2, 1.5), OK), (L.RandomBrightness, (-1.5, 0.2), OK),
    (L.RandomBrightness, (1.2, 1.5), BAD), (L.RandomBrightness, (-2, -1.5), BAD),
])
def test_augmentation_factor_validation(make, factor, expect):
    if expect is OK:
        make(factor)
    else:
        with pytest.raises(expect, match=r"factor.*range.*Received"):
            make(factor)


def test_zoom_width_factor_checked_and_valid_layers_still_run():
    with pytest.raises(ValueError, match="width_factor=1.5"):
        L.RandomZoom(0.1, 1.5)
    images = tf.constant(np.random.RandomState(0).uniform(0, 255, (2, 8, 8, 3)),
                         dtype="float32")
    for layer in (L.RandomContrast((0.5, 1.5), seed=1),
                  L.RandomBrightness((-0.5, 0.2), seed=1),
                  L.RandomRotation((-1.5, 0.2), seed=1)):
        out = layer(images, training=True).numpy()
        assert out.shape == (2, 8, 8, 3) and np.isfinite(out).all()
        assert out.min() >= 0 and out.max() <= 255 + 1e-3


# -- 5. compile inside a strategy scope for a model built outside -----------------------
@pytest.fixture
def strategy():
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        yield tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    finally:
        config._logical_cpu_count = before


DATA = (np.ones((8, 4), "float32"), np.ones((8, 1), "float32"))


def test_training_a_model_built_outside_the_compile_scope_raises(strategy):
    model = _mlp()
    with strategy.scope():
        model.compile(optimizer="adam", loss="mse")   # TF accepts the compile
    assert np.isfinite(model.evaluate(*DATA, verbose=0))   # and evaluate
    assert model.predict(DATA[0], verbose=0).shape == (8, 1)
    with pytest.raises(RuntimeError, match='inside "with strategy.scope\\(\\)"'):
        model.fit(*DATA, verbose=0)
    with pytest.raises(RuntimeError, match="weights were created outside"):
        model.train_on_batch(*DATA)


def test_unbuilt_model_compiled_in_scope_then_fit_outside_raises(strategy):
    model = keras.Sequential([L.Dense(1)])
    with strategy.scope():
        model.compile(optimizer="adam", loss="mse")
    with pytest.raises(RuntimeError, match="strategy.scope"):
        model.fit(*DATA, verbose=0)


def test_optimizer_made_outside_the_models_scope_raises(strategy):
    with strategy.scope():
        model = _mlp()
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    with pytest.raises(RuntimeError, match="Mixing different tf.distribute.Strategy"):
        model.fit(*DATA, verbose=0)


def test_model_and_compile_in_scope_trains(strategy):
    with strategy.scope():
        model = _mlp()
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x = np.linspace(-1, 1, 64, dtype="float32").reshape(16, 4)
    y = x.sum(axis=1, keepdims=True)
    hist = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
