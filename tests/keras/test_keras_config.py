"""keras.config (Keras 3): one state shared with keras.backend and mixed_precision."""

import pytest

from dlframe import keras


@pytest.fixture(autouse=True)
def _restore():
    keras.mixed_precision.set_global_policy(None)   # the policy follows floatx
    yield
    keras.config.set_floatx("float32")
    keras.config.set_epsilon(1e-7)
    keras.config.set_image_data_format("channels_last")
    keras.mixed_precision.set_global_policy(None)
    keras.config.enable_traceback_filtering()
    keras.config.enable_interactive_logging()
    keras.config.set_max_epochs(None)
    keras.config.set_max_steps_per_epoch(None)


def test_settings_are_shared_with_keras_backend():
    assert keras.config.backend() == "tensorflow"
    keras.config.set_floatx("float64")
    assert keras.backend.floatx() == "float64"
    assert keras.layers.Dense(2).compute_dtype == "float64"
    keras.backend.set_epsilon(1e-5)
    assert keras.config.epsilon() == 1e-5
    keras.config.set_image_data_format("channels_first")
    assert keras.backend.image_data_format() == "channels_first"


def test_dtype_policy_is_the_mixed_precision_global_policy():
    keras.config.set_dtype_policy("mixed_float16")
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert keras.config.dtype_policy().name == "mixed_float16"
    layer = keras.layers.Dense(2)
    assert (layer.compute_dtype, layer.variable_dtype) == ("float16", "float32")
    with pytest.raises(ValueError, match="policy"):
        keras.config.set_dtype_policy(3)


def test_flags_and_caps():
    keras.config.disable_traceback_filtering()
    assert not keras.config.is_traceback_filtering_enabled()
    keras.config.disable_interactive_logging()
    assert not keras.config.is_interactive_logging_enabled()
    assert keras.config.max_epochs() is None
    keras.config.set_max_epochs(3)
    keras.config.set_max_steps_per_epoch(10)
    assert (keras.config.max_epochs(), keras.config.max_steps_per_epoch()) == (3, 10)
    with pytest.raises(ValueError, match="max_epochs=-1"):
        keras.config.set_max_epochs(-1)


def test_bad_values_name_the_argument():
    with pytest.raises(ValueError, match="floatx"):
        keras.config.set_floatx("int32")
    with pytest.raises(ValueError, match="data_format=NHWC"):
        keras.config.set_image_data_format("NHWC")
    with pytest.raises(ValueError, match="backend='jax'"):
        keras.config.set_backend("jax")
