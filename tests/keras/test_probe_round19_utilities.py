"""Round-19 probes of the utility APIs around a model (keras.backend, tf.config,
tf.debugging switches): regressions for the differences found against TF 2.21."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

keras = tf.keras
K = keras.backend


def test_enable_check_numerics_raises_on_nan_output(check_numerics_on):
    with pytest.raises(InvalidArgumentError) as err:
        tf.math.log(tf.constant([-1.0, 2.0]))
    text = str(err.value)
    # message shape from TF 2.21: op name, output index, element counts, verdict
    assert 'op "Log"' in text and "output 0" in text
    assert "# of +NaN elements: 1" in text and "Tensor had NaN values" in text


def test_enable_check_numerics_flags_inf_and_passes_finite(check_numerics_on):
    with pytest.raises(InvalidArgumentError, match="Inf"):
        tf.constant([1.0]) / tf.constant([0.0])
    out = tf.math.log(tf.constant([1.0, np.e]))
    np.testing.assert_allclose(out.numpy(), [0.0, 1.0], rtol=1e-6)
    # integer and boolean outputs are never checked
    assert tf.math.is_nan(tf.constant([np.nan])).numpy().tolist() == [True]
    assert (tf.constant([1, 2]) + 1).numpy().tolist() == [2, 3]


def test_check_numerics_error_stops_training_step(check_numerics_on):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", run_eagerly=True)
    x = np.array([[np.nan, 1.0]], "float32")
    with pytest.raises(InvalidArgumentError):
        model.fit(x, np.ones((1, 1), "float32"), epochs=1, verbose=0)


def test_disable_check_numerics_restores_silent_nan():
    tf.debugging.enable_check_numerics()
    tf.debugging.disable_check_numerics()
    assert np.isnan(tf.math.log(tf.constant([-1.0])).numpy()[0])


def test_check_numerics_rejects_integer_tensor():
    # TF 2.21 eager: InvalidArgumentError "Value for attr 'T' of int32 ..."
    with pytest.raises(InvalidArgumentError, match="int32"):
        tf.debugging.check_numerics(tf.constant([1, 2]), "ints")
    with pytest.raises(InvalidArgumentError):
        tf.debugging.assert_all_finite(tf.constant([1, 2]), "ints")
    out = tf.debugging.check_numerics(tf.constant([1.0, 2.0], tf.float64), "ok")
    assert out.dtype == tf.float64


def test_set_memory_growth_rejects_cpu_device():
    cpu = tf.config.list_physical_devices("CPU")[0]
    with pytest.raises(ValueError, match="non-GPU"):
        tf.config.experimental.set_memory_growth(cpu, True)
    for gpu in tf.config.list_physical_devices("GPU"):   # the usual loop: fine
        tf.config.experimental.set_memory_growth(gpu, True)


def test_get_uid_shares_counter_with_layer_names():
    K.clear_session()
    layer = keras.layers.Dense(2)
    assert layer.name == "dense"
    # TF 2.21 (and Keras 2): the next uid for "dense" is 2, then 3
    assert K.get_uid("dense") == 2
    assert K.get_uid("dense") == 3
    assert keras.layers.Dense(2).name == "dense_3"
    K.clear_session()
    assert K.get_uid("dense") == 1
    assert K.get_uid("my_prefix") == 1
    K.clear_session()


def test_optimizer_set_jit_round_trip():
    # TF 2.21: '' by default, 'autoclustering' after set_jit(True), '' after False
    try:
        assert tf.config.optimizer.get_jit() == ""
        tf.config.optimizer.set_jit(True)
        assert tf.config.optimizer.get_jit() == "autoclustering"
        tf.config.optimizer.set_jit(False)
        assert tf.config.optimizer.get_jit() == ""
        tf.config.optimizer.set_jit("autoclustering")
        assert tf.config.optimizer.get_jit() == "autoclustering"
    finally:
        tf.config.optimizer.set_jit(False)


@pytest.mark.parametrize("name", ["/TPU:0", "TPU:1", "/device:TPU:0",
                                  "/job:localhost/replica:0/task:0/device:TPU:0"])
def test_tpu_device_scope_soft_places(name):
    with tf.device(name):
        out = tf.ones((2,)) + 1
    np.testing.assert_array_equal(out.numpy(), [2.0, 2.0])


def test_malformed_device_scope_still_raises():
    with pytest.raises(ValueError, match="nonsense"), tf.device("nonsense:spec"):
        pass
    tf.config.set_soft_device_placement(False)
    try:
        with pytest.raises(ValueError), tf.device("/TPU:0"):
            pass
    finally:
        tf.config.set_soft_device_placement(True)


def test_check_numerics_inside_function_every_call(check_numerics_on):
    @tf.function
    def log_twice(x):
        return tf.math.log(x) * 2.0

    np.testing.assert_allclose(log_twice(tf.constant([1.0, np.e])).numpy(), [0.0, 2.0],
                               rtol=1e-6)
    for bad in ([-1.0, 2.0], [-3.0, 2.0]):   # replays of the traced graph
        with pytest.raises(InvalidArgumentError, match='graph op "Log"|op "Log"'):
            log_twice(tf.constant(bad))

    @tf.function
    def mean(x):
        return tf.reduce_sum(x) / tf.cast(tf.size(x), tf.float32)

    with pytest.raises(InvalidArgumentError):   # the tracing call is checked too
        mean(tf.zeros((0,)))
    assert mean(tf.constant([2.0, 4.0])).numpy() == 3.0


def test_check_numerics_ignores_untaken_branches(check_numerics_on):
    @tf.function
    def branchy(x):
        if tf.reduce_sum(x) > 0:
            y = tf.math.log(x)
        else:
            y = x * 2.0
        return y

    # TF 2.21 gives the same values: the log branch is not run for negatives
    np.testing.assert_allclose(branchy(tf.constant([-1.0, -2.0])).numpy(), [-2.0, -4.0])
    np.testing.assert_allclose(branchy(tf.constant([1.0, 2.0])).numpy(),
                               [0.0, np.log(2.0)], rtol=1e-6)
    out = tf.function(lambda x: tf.cond(x[0] > 0, lambda: tf.sqrt(x), lambda: -x))(
        tf.constant([-4.0, 1.0]))
    np.testing.assert_allclose(out.numpy(), [4.0, -1.0])


def test_check_numerics_compiled_fit_raises(check_numerics_on):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    ones = np.ones((4, 1), "float32")
    assert len(model.fit(np.ones((4, 2), "float32"), ones, verbose=0)
               .history["loss"]) == 1
    with pytest.raises(InvalidArgumentError):
        model.fit(np.array([[np.nan, 1.0]] * 4, "float32"), ones, verbose=0)


class _Scaled(keras.Model):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units)

    def call(self, x):
        return self.dense(x) * 2.0


def test_clone_subclassed_model_through_config():
    model = _Scaled(3)
    x = np.random.default_rng(0).random((2, 4)).astype("float32")
    model(x)
    clone = keras.models.clone_model(model)
    # Keras 3 (TF 2.21) clones a subclassed model from its config, built and fresh
    assert type(clone) is _Scaled and clone.units == 3 and clone.built
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="clone_function"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)


def test_clone_subclassed_model_without_config_raises_value_and_type_error():
    class NoKwargs(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = NoKwargs()
    model(np.ones((1, 3), "float32"))
    with pytest.raises(TypeError, match="NoKwargs"):   # Keras 3: TypeError
        keras.models.clone_model(model)
    with pytest.raises(ValueError):                    # Keras 2: ValueError
        keras.models.clone_model(model)


def test_normalize_numpy_vector_comes_back_2d():
    # TF 2.21 (and Keras 2): a NumPy vector is divided by a (1, 1) norm
    out = keras.utils.normalize(np.array([3.0, 4.0]))
    assert out.shape == (1, 2)
    np.testing.assert_allclose(out, [[0.6, 0.8]])
    ints = keras.utils.normalize(np.array([[3, 4]]))
    assert ints.dtype == np.float64
    np.testing.assert_allclose(ints, [[0.6, 0.8]])
    assert keras.utils.normalize(np.array([3.0, 4.0], "float32")).dtype == np.float32
    # a list or tensor keeps its shape (TF 2.21 returns a tensor of shape (2,))
    np.testing.assert_allclose(np.asarray(keras.utils.normalize([3.0, 4.0])), [0.6, 0.8],
                               rtol=1e-6)
    np.testing.assert_allclose(keras.utils.normalize(np.array([[1.0, 1.0], [2.0, 0.0]]),
                                                     axis=0, order=1),
                               [[1 / 3, 1.0], [2 / 3, 0.0]], rtol=1e-6)
