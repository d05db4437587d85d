"""TF 2.x (Keras 2) names still found in the wild: mixed_precision.experimental,
CuDNNLSTM/CuDNNGRU, keras.experimental (schedules, premade models) and
utils.multi_gpu_model."""

import math

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.layers.cudnn_legacy import CuDNNGRU, CuDNNLSTM

mpe = tf.keras.mixed_precision.experimental
E = tf.keras.experimental


@pytest.fixture
def restore_policy():
    yield
    tf.keras.mixed_precision.set_global_policy(None)


# -- mixed_precision.experimental -------------------------------------------------
def test_experimental_policy_and_global_policy(restore_policy):
    p = mpe.Policy("mixed_float16")
    assert (p.name, p.compute_dtype, p.variable_dtype) == ("mixed_float16", "float16",
                                                           "float32")
    assert p.loss_scale == "dynamic" and mpe.Policy("float32").loss_scale is None
    assert mpe.Policy("float32", loss_scale=64).loss_scale == 64
    mpe.set_policy(p)
    assert mpe.global_policy().name == "mixed_float16"
    dense = tf.keras.layers.Dense(2)
    y = dense(np.ones((1, 3), "float32"))
    assert y.dtype == tf.float16 and dense.kernel.dtype == tf.float32
    assert mpe.get_layer_policy(dense).name == "mixed_float16"
    mpe.set_policy("float32")
    assert tf.keras.layers.Dense(2).dtype_policy.name == "float32"
    with pytest.raises(ValueError, match="loss_scale='big'"):
        mpe.Policy("float32", loss_scale="big")
    with pytest.raises(ValueError, match="get_policy"):
        mpe.get_layer_policy("dense")


def _scaled_step(opt, var):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(var * var)
        scaled = opt.get_scaled_loss(loss)
    grads = opt.get_unscaled_gradients(tape.gradient(scaled, [var]))
    opt.apply_gradients(zip(grads, [var]))


def test_experimental_loss_scale_optimizer():
    dyn = mpe.LossScaleOptimizer(tf.keras.optimizers.SGD(0.1), loss_scale="dynamic")
    assert isinstance(dyn, tf.keras.mixed_precision.LossScaleOptimizer)
    assert float(dyn.loss_scale) == 2.0 ** 15 and dyn.dynamic
    fixed = mpe.LossScaleOptimizer(tf.keras.optimizers.SGD(0.1), loss_scale=128)
    assert float(fixed.loss_scale) == 128.0 and not fixed.dynamic
    var = tf.Variable([1.0, 2.0])
    _scaled_step(fixed, var)                     # v - 0.1 * 2v
    np.testing.assert_allclose(var.numpy(), [0.8, 1.6], rtol=1e-6)
    for bad in ("x", -1, None, True):
        with pytest.raises(ValueError, match="loss_scale"):
            mpe.LossScaleOptimizer(tf.keras.optimizers.SGD(), loss_scale=bad)


# -- CuDNNLSTM / CuDNNGRU --------------------------------------------------------
@pytest.mark.parametrize("legacy, modern", [(CuDNNLSTM, tf.keras.layers.LSTM),
                                            (CuDNNGRU, tf.keras.layers.GRU)])
def test_cudnn_layers_match_lstm_gru(legacy, modern):
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    layer = legacy(3, return_sequences=True, return_state=True)
    out = layer(x)
    ref = modern(3, return_sequences=True, return_state=True)
    ref(x)
    ref.set_weights(layer.get_weights())
    for a, b in zip(out, ref(x)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    assert layer.cell.activation.__name__ == "tanh"
    assert layer.cell.recurrent_activation.__name__ == "sigmoid"
    config = layer.get_config()
    assert "activation" not in config and "dropout" not in config
    clone = legacy.from_config(config)
    assert type(clone) is legacy and clone.units == 3 and clone.return_state
    with pytest.raises(TypeError, match="activation='relu'"):
        legacy(3, activation="relu")
    with pytest.raises(TypeError, match="recurrent_dropout"):
        legacy(3, recurrent_dropout=0.1)


def test_cudnn_gru_is_reset_after_and_trains():
    layer = CuDNNGRU(4)
    model = tf.keras.Sequential([tf.keras.Input((6, 2)), layer, tf.keras.layers.Dense(1)])
    assert layer.cell.reset_after and layer.cell.bias.shape == (2, 12)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 6, 2)).astype("float32")
    y = x[:, :, 0].sum(axis=1, keepdims=True)
    model.compile(tf.keras.optimizers.Adam(0.05), "mse")
    hist = model.fit(x, y, epochs=15, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


# -- keras.experimental schedules --------------------------------------------------
def _linear_cosine(step, lr, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001):
    t = min(step, decay_steps)
    linear = (decay_steps - t) / decay_steps
    cosine = 0.5 * (1 + math.cos(2 * math.pi * num_periods * t / decay_steps))
    return lr * ((alpha + linear) * cosine + beta)


def test_linear_cosine_decay_values_and_config():
    sched = E.LinearCosineDecay(0.1, 100)
    for step in (0, 25, 50, 100, 150):
        assert float(sched(step)) == pytest.approx(_linear_cosine(step, 0.1, 100),
                                                   rel=1e-5, abs=1e-8)
    # 0.0251 at step 50 (TF 2.x gave the same: 0.1 * (0.5 * 0.5 + 0.001))
    other = E.LinearCosineDecay(0.1, 100, num_periods=2, alpha=0.1, beta=0.01)
    assert float(other(30)) == pytest.approx(
        _linear_cosine(30, 0.1, 100, 2, 0.1, 0.01), rel=1e-5)
    again = E.LinearCosineDecay.from_config(other.get_config())
    assert float(again(30)) == pytest.approx(float(other(30)))
    compiled = tf.function(lambda s: other(s))
    assert float(compiled(tf.constant(30))) == pytest.approx(float(other(30)), rel=1e-6)
    with pytest.raises(ValueError, match="decay_steps=0"):
        E.LinearCosineDecay(0.1, 0)
    assert E.CosineDecay is tf.keras.optimizers.schedules.CosineDecay
    assert E.CosineDecayRestarts is tf.keras.optimizers.schedules.CosineDecayRestarts


def test_noisy_linear_cosine_decay_noise_shrinks():
    sched = E.NoisyLinearCosineDecay(1.0, 1000, initial_variance=1.0,
                                     variance_decay=0.55, beta=0.0)
    early = np.array([float(sched(0)) for _ in range(200)])
    # step 0: cosine = 1, linear = 1 + N(0, 1) -> mean 1, std 1
    assert abs(early.mean() - 1.0) < 0.25 and 0.7 < early.std() < 1.3
    late = np.array([float(sched(999)) for _ in range(50)])
    assert late.std() < 1e-4                     # cosine ~ 0 at the end
    assert sched.get_config()["variance_decay"] == 0.55


# -- premade models -----------------------------------------------------------------
def _regression_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3
    return x, y


def test_linear_model_learns_exact_weights():
    x, y = _regression_data()
    model = E.LinearModel()
    model.compile(tf.keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, epochs=30, verbose=0)
    np.testing.assert_allclose(model.dense_layers[0].kernel.numpy().ravel(),
                               [1.0, -2.0, 0.5], atol=1e-3)
    np.testing.assert_allclose(model.bias.numpy(), [0.3], atol=1e-3)
    clone = E.LinearModel.from_config(model.get_config())
    assert clone.units == 1 and clone.use_bias


def test_linear_model_dict_and_list_inputs():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 2)).astype("float32")
    b = rng.normal(size=(5, 3)).astype("float32")
    model = E.LinearModel(units=2, activation="relu",
                          kernel_initializer="glorot_uniform", bias_initializer="ones")
    out = model({"b": b, "a": a}).numpy()
    assert [layer.name for layer in model.dense_layers] == ["a", "b"]
    ka, kb = (layer.kernel.numpy() for layer in model.dense_layers)
    np.testing.assert_allclose(out, np.maximum(a @ ka + b @ kb + 1.0, 0), rtol=1e-5)
    listed = E.LinearModel(units=1, kernel_initializer="ones", use_bias=False)
    np.testing.assert_allclose(listed([a, b]).numpy(),
                               a.sum(1, keepdims=True) + b.sum(1, keepdims=True),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="units=0"):
        E.LinearModel(units=0)


def test_wide_deep_two_optimizers_and_output_formula():
    x, y = _regression_data()
    linear = E.LinearModel()
    dnn = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu"),
                               tf.keras.layers.Dense(1)])
    model = E.WideDeepModel(linear, dnn)
    model.compile(optimizer=["sgd", "adam"], loss="mse", metrics=["mse"])
    hist = model.fit([x, x], y, epochs=10, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    lin_opt, dnn_opt = model.optimizer
    assert type(lin_opt).__name__ == "SGD" and type(dnn_opt).__name__ == "Adam"
    assert int(lin_opt.iterations) == int(dnn_opt.iterations) == 80
    pred = model.predict([x[:4], x[:4]], verbose=0)
    np.testing.assert_allclose(pred, 0.5 * (linear(x[:4]).numpy() + dnn(x[:4]).numpy()),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="two"):
        model.compile(optimizer=["sgd"], loss="mse")


def test_wide_deep_single_optimizer_shared_input_activation():
    x, y = _regression_data()
    labels = (y > 0).astype("float32")
    model = E.WideDeepModel(E.LinearModel(), tf.keras.Sequential([
        tf.keras.layers.Dense(1)]), activation="sigmoid")
    model.compile(tf.keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, labels, epochs=10, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9
    out = model.predict(x[:3], verbose=0)
    logits = 0.5 * (model.linear_model(x[:3]).numpy() + model.dnn_model(x[:3]).numpy())
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-logits)), rtol=1e-5)


# -- multi_gpu_model ------------------------------------------------------------------
def test_multi_gpu_model_points_at_mirrored_strategy():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    with pytest.raises(NotImplementedError, match="MirroredStrategy"):
        tf.keras.utils.multi_gpu_model(model, gpus=2)
    with pytest.raises(ValueError, match="gpus >= 2"):
        tf.keras.utils.multi_gpu_model(model, gpus=1)
