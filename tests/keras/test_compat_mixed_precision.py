"""The "Mixed precision" guide on CPU: set_global_policy('mixed_float16'), a float32
output activation, compile wrapping the optimizer in a LossScaleOptimizer, and loss
scaling in custom loops (Keras 2's and Keras 3's spellings)."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers
mixed_precision = keras.mixed_precision
RNG = np.random.default_rng(8)
X = RNG.normal(size=(256, 20)).astype("float32")
Y = np.argmax(X @ RNG.normal(size=(20, 5)), 1)


@pytest.fixture
def mixed():
    mixed_precision.set_global_policy("mixed_float16")
    yield
    mixed_precision.set_global_policy("float32")


def guide_model():
    inputs = keras.Input(shape=(20,))
    h = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    h = layers.Dense(5, name="dense_logits")(layers.BatchNormalization()(h))
    outputs = layers.Activation("softmax", dtype="float32", name="predictions")(h)
    return keras.Model(inputs, outputs)


def test_policy_dtypes(mixed):
    policy = mixed_precision.global_policy()
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
        "mixed_float16", "float16", "float32")
    model = guide_model()
    dense = model.get_layer("dense_1")
    assert (dense.compute_dtype, dense.kernel.dtype.name) == ("float16", "float32")
    assert dense(tf.constant(X[:2])).dtype.name == "float16"
    assert model.layers[2].gamma.dtype.name == "float32"
    assert model.predict(X[:3], verbose=0).dtype == np.float32


@pytest.mark.parametrize("eager", [True, False])
def test_fit_wraps_optimizer_and_learns(mixed, eager):
    keras.utils.set_random_seed(1)
    model = guide_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=eager)
    opt = model.optimizer
    assert isinstance(opt, mixed_precision.LossScaleOptimizer)
    assert type(opt.inner_optimizer).__name__ == "Adam"
    hist = model.fit(X, Y, batch_size=32, epochs=4, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert int(opt.iterations.numpy()) == 32
    assert float(opt.loss_scale.numpy()) == 2.0 ** 15
    assert int(opt.dynamic_counter.numpy()) == 32
    no_scaling = guide_model()
    no_scaling.compile("adam", "sparse_categorical_crossentropy", auto_scale_loss=False)
    assert type(no_scaling.optimizer).__name__ == "Adam"


def test_eager_and_compiled_steps_agree(mixed):
    losses = []
    for eager in (True, False):
        keras.utils.set_random_seed(3)
        model = guide_model()
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                      run_eagerly=eager)
        losses.append(model.fit(X, Y, epochs=2, shuffle=False, verbose=0)
                      .history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-3)


def test_custom_loop_loss_scaling_keras2_and_keras3():
    for keras3 in (False, True):
        opt = mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(0.1),
                                                 initial_scale=1024)
        var = tf.Variable([1.0, 2.0])
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(var ** 2)
            scaled = opt.scale_loss(loss) if keras3 else opt.get_scaled_loss(loss)
        np.testing.assert_allclose(scaled.numpy(), 5.0 * 1024)
        grads = tape.gradient(scaled, [var])
        if not keras3:
            grads = opt.get_unscaled_gradients(grads)
        opt.apply_gradients(zip(grads, [var]))
        np.testing.assert_allclose(var.numpy(), [0.8, 1.6], rtol=1e-6)


def test_non_finite_gradients_skip_the_step_and_halve_the_scale():
    opt = mixed_precision.LossScaleOptimizer(keras.optimizers.Adam(0.1),
                                             initial_scale=8.0, dynamic_growth_steps=2)
    var = tf.Variable([1.0, 2.0])
    opt.apply_gradients([(tf.constant([np.inf, 1.0]), var)])
    np.testing.assert_array_equal(var.numpy(), [1.0, 2.0])
    assert float(opt.loss_scale.numpy()) == 4.0 and int(opt.iterations.numpy()) == 1
    for _ in range(2):
        opt.apply_gradients([(tf.constant([1.0, 1.0]), var)])
    assert float(opt.loss_scale.numpy()) == 8.0        # doubled after 2 good steps
    assert var.numpy()[0] < 1.0
    fixed = mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False,
                                               initial_scale=16)
    fixed.apply_gradients([(tf.constant([1.0, 1.0]), var)])
    assert float(fixed.loss_scale.numpy()) == 16.0
    with pytest.raises(ValueError, match="initial_scale"):
        mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False)
    with pytest.raises(TypeError, match="inner_optimizer"):
        mixed_precision.LossScaleOptimizer("sgd")


def test_loss_scale_optimizer_round_trips_through_model_files(mixed, tmp_path):
    model = guide_model()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)
    path = str(tmp_path / "mixed.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.optimizer, mixed_precision.LossScaleOptimizer)
    np.testing.assert_array_equal(loaded.predict(X[:4], verbose=0),
                                  model.predict(X[:4], verbose=0))
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_loss_scale_factor_scales_the_fit_loss():
    """Keras 3's ``loss_scale_factor``: fit multiplies the loss, apply divides the
    gradients, so training matches the unscaled optimizer."""
    losses = []
    for factor in (None, 128.0):
        keras.utils.set_random_seed(5)
        model = keras.Sequential([keras.Input((20,)), layers.Dense(5)])
        model.compile(keras.optimizers.SGD(0.05, loss_scale_factor=factor),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        losses.append(model.fit(X, Y, epochs=2, shuffle=False, verbose=0)
                      .history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
