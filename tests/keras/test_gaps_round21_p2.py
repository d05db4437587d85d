"""Keras gaps found against TF 2.21 (round 21, P2): a Sequential refuses layers whose
``call`` needs more than the input; KerasTensor operators broadcast static shapes
as TF's (None against 2 gives 2); metric auto-names as Keras 3's."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
_SINGLE_INPUT = "can only have a single required positional argument"


class _NeedsTraining(keras.layers.Layer):
    def call(self, x, training):
        return x * 2.0 if training else x


class _TwoInputs(keras.layers.Layer):
    def call(self, x, y):
        return x + y


class _KeywordTraining(keras.layers.Layer):
    def call(self, x, *, training):
        return x


class _Optional(keras.layers.Layer):
    def call(self, x, training=None, mask=None):
        return x * 3.0


# -- 1. layers whose call needs a second positional argument --------------------------
@pytest.mark.parametrize("layer_cls", [_NeedsTraining, _TwoInputs])
def test_sequential_refuses_second_required_positional(layer_cls):
    with pytest.raises(ValueError, match=_SINGLE_INPUT) as info:
        keras.Sequential([keras.Input((3,)), layer_cls()])
    assert "[<Parameter \"x\">, <Parameter " in str(info.value)
    model = keras.Sequential([keras.Input((3,))])
    with pytest.raises(ValueError, match=_SINGLE_INPUT):
        model.add(layer_cls())
    assert model.layers == []   # the refused layer is not kept


@pytest.mark.parametrize("how", ["call", "build", "fit"])
def test_deferred_sequential_refuses_when_built(how):
    model = keras.Sequential([_NeedsTraining()])   # no input yet: accepted, as TF
    x = np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match=_SINGLE_INPUT):
        if how == "call":
            model(x)
        elif how == "build":
            model.build((None, 3))
        else:
            model.compile("sgd", "mse")
            model.fit(x, x, verbose=0)


def test_keyword_only_and_optional_arguments(device):
    with pytest.raises(TypeError, match="training"):   # TF: TypeError too
        keras.Sequential([keras.Input((3,)), _KeywordTraining()])
    model = keras.Sequential([keras.Input((3,)), _Optional()])
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(model(x).numpy(), x * 3.0)
    # called directly, the missing argument is Python's TypeError (as TF)
    with pytest.raises(TypeError, match="training"):
        _NeedsTraining()(x)
    np.testing.assert_allclose(_NeedsTraining()(x, training=True).numpy(), x * 2.0)


# -- 2. operators on KerasTensors broadcast static shapes -----------------------------
@pytest.mark.parametrize("shape,const_shape,want,batch", [
    ((3,), (2, 3), (2, 3), 2),
    ((3,), (2, 1), (2, 3), 2),
    ((3,), (1, 1, 3), (1, None, 3), 4),
    ((None, 3), (2, 1, 3), (2, None, 3), 2),
    ((None, 3), (5, 1, 1), (5, None, 3), 5),
])
def test_keras_tensor_broadcasts_like_tf(device, shape, const_shape, want, batch):
    rng = np.random.default_rng(0)
    const = rng.normal(size=const_shape).astype("float32")
    data = rng.normal(size=(batch,) + tuple(d or 4 for d in shape)).astype("float32")
    for op, ref in [(lambda a: a + tf.constant(const), data + const),
                    (lambda a: tf.constant(const) * a, const * data),
                    (lambda a: a < const, data < const)]:
        inp = keras.Input(shape)
        out = op(inp)
        assert tuple(out.shape) == want
        got = keras.Model(inp, out)(data).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-6)
        assert got.dtype == ref.dtype


def test_keras_tensor_constant_batch_in_fit(device):
    inp = keras.Input((3,))
    offset = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    model = keras.Model(inp, keras.layers.Dense(3)(inp + offset))
    x = np.ones((2, 3), "float32")
    ref = (x + offset.numpy()) @ model.layers[-1].kernel.numpy()
    np.testing.assert_allclose(model(x).numpy(), ref, rtol=1e-5)
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((2, 3), "float32"), batch_size=2, epochs=1, verbose=0)


def test_keras_tensor_incompatible_shapes_raise_value_error():
    inp = keras.Input((3,))
    with pytest.raises(ValueError, match="Cannot broadcast shape, the failure dim has "
                                         r"value 3, which cannot be broadcasted to 4\. "
                                         r"Input shapes are: \[None, 3\] and \[4\]\."):
        inp + np.ones((4,), "float32")


# -- 3. metric names ---------------------------------------------------------------
def test_metric_auto_names_follow_keras3():
    keras.backend.clear_session()
    assert [keras.metrics.Mean().name, keras.metrics.Mean().name] == ["mean", "mean"]
    assert [keras.metrics.AUC().name, keras.metrics.AUC().name] == ["auc", "auc_1"]

    def my_fn(y_true, y_pred):
        return y_true

    wrappers = [keras.metrics.MeanMetricWrapper(my_fn),
                keras.metrics.MeanMetricWrapper(fn=lambda a, b: a)]
    assert [m.name for m in wrappers] == ["mean_metric_wrapper",
                                          "mean_metric_wrapper_1"]
    assert keras.metrics.MeanMetricWrapper(my_fn, name="x").name == "x"
    keras.backend.clear_session()
    assert keras.metrics.AUC().name == "auc"
    assert keras.metrics.MeanMetricWrapper(my_fn).name == "mean_metric_wrapper"


def test_compiled_metric_names_after_clear_session(device):
    keras.backend.clear_session()
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae", keras.metrics.AUC(),
                                         keras.metrics.MeanSquaredError()])
    history = model.fit(x, y, verbose=0)
    assert sorted(history.history) == ["auc", "loss", "mae", "mean_squared_error"]
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    other.compile("sgd", "mse", metrics=[keras.metrics.AUC(), keras.metrics.AUC()])
    assert sorted(other.fit(x, y, verbose=0).history) == ["auc_1", "auc_2", "loss"]
