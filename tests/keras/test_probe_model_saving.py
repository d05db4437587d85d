"""Model construction, configs and saving found by probe programs (helper G).

Functional models that slice KerasTensors or call ops on them save and reload in
every format; TF 2.21-written ``.h5`` files load; unknown custom objects raise an
error both Keras 2 (ValueError) and Keras 3 (TypeError) programs catch; Lambda
functions reload with their module's global names.
"""

import json

import h5py
import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras.layers.core import _getitem


@pytest.fixture(autouse=True)
def _fresh_names():
    """Layer names are numbered per session (as in TF): leave none behind."""
    yield
    keras.backend.clear_session()


def _sliced_model():
    inp = keras.Input((6,), name="x")
    first = inp[:, :1]
    last = inp[..., 0]
    even = inp[:, ::2]
    h = keras.layers.Dense(4, name="d")(even) * 2
    out = keras.layers.Concatenate(name="cat")([first, h, tf.expand_dims(last, -1)])
    return keras.Model(inp, out)


def _sliced_reference(model, x):
    kernel, bias = (w.numpy() for w in model.get_layer("d").weights)
    h = (x[:, ::2] @ kernel + bias) * 2
    return np.concatenate([x[:, :1], h, x[..., :1]], axis=-1)


X6 = (np.arange(12, dtype="float32").reshape(2, 6) / 10)


def _reloaders(tmp_path):
    return {
        "keras": lambda m: _save_load(m, tmp_path / "m.keras"),
        "h5": lambda m: _save_load(m, tmp_path / "m.h5"),
        "json": lambda m: _with_weights(
            keras.models.model_from_json(m.to_json()), m),
        "json_config": lambda m: _with_weights(keras.Model.from_config(
            json.loads(json.dumps(m.get_config()))), m),
        "model_from_config": lambda m: _with_weights(keras.models.model_from_config(
            {"class_name": "Functional", "config": m.get_config()}), m),
        "clone": lambda m: _with_weights(keras.models.clone_model(m), m),
        "clone_function": lambda m: _with_weights(keras.models.clone_model(
            m, clone_function=lambda lay: type(lay).from_config(lay.get_config())), m),
    }


def _save_load(model, path):
    model.save(path)
    return keras.models.load_model(path)


def _with_weights(clone, model):
    clone.set_weights(model.get_weights())
    return clone


@pytest.mark.parametrize("how", ["keras", "h5", "json", "json_config",
                                 "model_from_config", "clone", "clone_function"])
def test_sliced_functional_model_round_trips(tmp_path, how):
    model = _sliced_model()
    expected = _sliced_reference(model, X6)
    np.testing.assert_allclose(model.predict(X6, verbose=0), expected, rtol=1e-5)
    again = _reloaders(tmp_path)[how](model)
    np.testing.assert_allclose(again.predict(X6, verbose=0), expected, rtol=1e-5)
    assert again.output_shape == (None, 6)


def test_sliced_model_config_is_json_with_keras3_slices():
    config = _sliced_model().get_config()
    text = json.dumps(config)   # raised "Cannot serialize slice(...)" before
    # Keras 3 writes x[:, ::2]'s key as a list of these (seen in TF 2.21's config)
    assert '{"class_name": "__slice__", "config": {"start": null, "stop": null, ' \
           '"step": 2}}' in text
    assert '{"class_name": "__ellipsis__", "config": {}}' in text


def _ops_model():
    a = keras.Input((6,), name="a")
    b = keras.Input((3,), name="b")
    both = tf.concat([a, b], axis=1)
    mean = tf.reduce_mean(tf.reshape(both, (-1, 3, 3)), axis=1)
    left, right = tf.split(a, 2, axis=1)
    mixed = tf.cast(tf.cast(tf.nn.relu(left - right) * 2 + 1.5, tf.float16), "float32")
    feats = keras.layers.Concatenate()(
        [keras.layers.Flatten()(tf.expand_dims(mean, -1)), mixed,
         tf.math.square(b[:, 1:2])])
    return keras.Model([a, b], keras.layers.Dense(2, name="out")(feats))


def _ops_reference(model, xa, xb):
    mean = np.concatenate([xa, xb], 1).reshape(-1, 3, 3).mean(1)
    mixed = np.maximum(xa[:, :3] - xa[:, 3:], 0) * 2 + 1.5
    mixed = mixed.astype("float16").astype("float32")
    feats = np.concatenate([mean, mixed, xb[:, 1:2] ** 2], axis=1)
    kernel, bias = (w.numpy() for w in model.get_layer("out").weights)
    return feats @ kernel + bias


@pytest.mark.parametrize("how", ["keras", "h5", "json", "clone"])
def test_ops_on_keras_tensors_round_trip(tmp_path, how):
    rng = np.random.default_rng(0)
    xa, xb = rng.random((4, 6), "float32"), rng.random((4, 3), "float32")
    model = _ops_model()
    expected = _ops_reference(model, xa, xb)
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), expected,
                               rtol=1e-4, atol=1e-5)
    again = _reloaders(tmp_path)[how](model)
    np.testing.assert_allclose(again.predict([xa, xb], verbose=0), expected,
                               rtol=1e-4, atol=1e-5)


def test_ops_model_through_saved_model(tmp_path):
    rng = np.random.default_rng(1)
    xa, xb = rng.random((4, 6), "float32"), rng.random((4, 3), "float32")
    model = _ops_model()
    tf.saved_model.save(model, str(tmp_path / "sm"))
    serve = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    out = serve(a=tf.constant(xa), b=tf.constant(xb))
    np.testing.assert_allclose(next(iter(out.values())).numpy(),
                               _ops_reference(model, xa, xb), rtol=1e-4, atol=1e-5)


def test_getitem_reads_list_keys_as_tuples_and_keras2_slice_specs():
    x = tf.constant(np.arange(24.0).reshape(2, 3, 4))
    ref = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(
        _getitem(x, [slice(None), slice(1, None), 0]).numpy(), ref[:, 1:, 0])
    spec = [{"start": None, "stop": None, "step": None},
            {"start": 0, "stop": 2, "step": None}]
    np.testing.assert_array_equal(_getitem(x, slice_spec=spec).numpy(), ref[:, 0:2])


# TF 2.21 (Keras 3.15) wrote this model_config for Input((4,), name="a") -> Dense(2)
_KERAS3_H5_CONFIG = (
    '{"class_name": "Functional", "config": {"name": "functional_1", "trainable": '
    'true, "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, '
    '4], "dtype": "float32", "sparse": false, "ragged": false, "name": "a", '
    '"optional": false}, "name": "a", "inbound_nodes": []}, {"class_name": "Dense", '
    '"config": {"name": "dd", "trainable": true, "dtype": {"module": "keras", '
    '"class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": '
    'null}, "units": 2, "activation": "linear", "use_bias": true, '
    '"kernel_initializer": {"module": "keras.initializers", "class_name": '
    '"GlorotUniform", "config": {"seed": null, "input_axes": null, "output_axes": '
    'null}, "registered_name": null}, "bias_initializer": {"module": '
    '"keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": '
    'null}, "kernel_regularizer": null, "bias_regularizer": null, '
    '"kernel_constraint": null, "bias_constraint": null, "quantization_config": '
    'null}, "name": "dd", "inbound_nodes": [{"args": [{"class_name": '
    '"__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", '
    '"keras_history": ["a", 0, 0]}}], "kwargs": {}}]}], "input_layers": ["a", 0, '
    '0], "output_layers": ["dd", 0, 0]}}')


def test_loads_h5_written_by_keras3(tmp_path):
    inp = keras.Input((4,), name="a")
    model = keras.Model(inp, keras.layers.Dense(2, name="dd")(inp))
    path = tmp_path / "k3.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:   # the same weights layout, Keras 3's config
        f.attrs["model_config"] = _KERAS3_H5_CONFIG
        f.attrs["keras_version"] = "3.15.1"
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(2).random((3, 4), "float32")
    kernel, bias = (w.numpy() for w in model.weights)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x @ kernel + bias,
                               rtol=1e-5)
    assert loaded.get_layer("dd").units == 2


class _Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_unknown_custom_layer_error_is_value_and_type_error(tmp_path, suffix):
    inp = keras.Input((3,))
    model = keras.Model(inp, _Scale(3.0, name="scale")(inp))
    path = tmp_path / f"m.{suffix}"
    model.save(path)
    with pytest.raises(ValueError, match="_Scale") as info:
        keras.models.load_model(path)
    assert isinstance(info.value, TypeError)   # Keras 3 raises TypeError
    with keras.utils.custom_object_scope({"_Scale": _Scale}):
        again = keras.models.load_model(path)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), 3 * x)
    with pytest.raises(TypeError, match="Foo"):
        keras.layers.deserialize({"class_name": "Foo", "config": {}})


def _abs_lambda_model():
    inp = keras.Input((3,))
    # ``tf`` is a global of this test module: the reloaded lambda must find it
    out = keras.layers.Lambda(lambda t: tf.abs(t) + 1.0, name="absl")(inp)
    return keras.Model(inp, keras.layers.Dense(1, name="d")(out))


@pytest.mark.parametrize("how", ["keras", "h5", "clone"])
def test_lambda_reloads_with_its_module_globals(tmp_path, how):
    model = _abs_lambda_model()
    x = np.array([[-1.0, 2.0, -3.0], [0.5, -0.5, 0.0]], "float32")
    kernel, bias = (w.numpy() for w in model.weights)
    expected = (np.abs(x) + 1.0) @ kernel + bias
    if how == "keras":
        model.save(tmp_path / "m.keras")
        again = keras.models.load_model(tmp_path / "m.keras", safe_mode=False)
    else:
        again = _reloaders(tmp_path)[how](model)
    np.testing.assert_allclose(again.predict(x, verbose=0), expected, rtol=1e-5)


# -- functional configs TF 2.21 writes for slicing and keras.ops (Keras 3 operations)
def _k3_tensor(layer, shape):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32",
                       "keras_history": [layer, 0, 0]}}


def _k3_slice(start, stop, step):
    return {"class_name": "__slice__",
            "config": {"start": start, "stop": stop, "step": step}}


def _k3_op(class_name, name, args, module, **config):
    entry = {"class_name": class_name, "config": {"name": name, **config},
             "name": name, "inbound_nodes": [{"args": args, "kwargs": {}}]}
    if module:   # .keras files name the module, .h5 files do not
        entry.update(module="keras.src.ops.numpy", registered_name=class_name)
    return entry


def _keras3_ops_config(module):
    """The shape of TF 2.21's config of: x = Input((6,), name='x');
    d = Dense(4, name='d')(x[:, ::2]) * 2; r = ops.mean(ops.reshape(x, (-1, 2, 3)), 1);
    Concatenate()([x[:, :1], d, ops.expand_dims(x[..., 0], -1), r])."""
    dense = {"class_name": "Dense", "config": {
        "name": "d", "trainable": True, "units": 4, "activation": "linear",
        "dtype": {"module": "keras", "class_name": "DTypePolicy",
                  "config": {"name": "float32"}, "registered_name": None},
        "quantization_config": None},
        "name": "d", "inbound_nodes": [{"args": [_k3_tensor("get_item_2", [None, 3])],
                                        "kwargs": {}}]}
    concat = {"class_name": "Concatenate", "config": {
        "name": "concatenate", "trainable": True, "axis": -1},
        "name": "concatenate", "inbound_nodes": [{"args": [[
            _k3_tensor("get_item", [None, 1]), _k3_tensor("multiply", [None, 4]),
            _k3_tensor("expand_dims", [None, 1]), _k3_tensor("mean", [None, 3])]],
            "kwargs": {}}]}
    if module:
        dense.update(module="keras.layers", registered_name=None)
        concat.update(module="keras.layers", registered_name=None)
    x = _k3_tensor("x", [None, 6])
    layers = [
        {"class_name": "InputLayer", "config": {
            "batch_shape": [None, 6], "dtype": "float32", "sparse": False,
            "ragged": False, "name": "x", "optional": False},
         "name": "x", "inbound_nodes": []},
        _k3_op("GetItem", "get_item_2", [x, [_k3_slice(None, None, None),
                                             _k3_slice(None, None, 2)]], module),
        dense,
        _k3_op("GetItem", "get_item_1",
               [x, [{"class_name": "__ellipsis__", "config": {}}, 0]], module),
        _k3_op("Reshape", "reshape", [x], module, newshape=[-1, 2, 3]),
        _k3_op("GetItem", "get_item", [x, [_k3_slice(None, None, None),
                                           _k3_slice(None, 1, None)]], module),
        _k3_op("Multiply", "multiply", [_k3_tensor("d", [None, 4]), 2], module),
        _k3_op("ExpandDims", "expand_dims", [_k3_tensor("get_item_1", [None])],
               module, axis=-1),
        _k3_op("Mean", "mean", [_k3_tensor("reshape", [None, 2, 3])], module,
               axis=1, keepdims=False),
        concat]
    return {"class_name": "Functional", "config": {
        "name": "functional", "trainable": True, "layers": layers,
        "input_layers": ["x", 0, 0], "output_layers": ["concatenate", 0, 0]}}


def _keras3_ops_reference(kernel, bias, x):
    d = (x[:, ::2] @ kernel + bias) * 2
    return np.concatenate([x[:, :1], d, x[:, :1], x.reshape(-1, 2, 3).mean(1)], 1)


def test_keras3_operations_in_keras_archive_config():
    from dlframe.keras.saving import keras3_config
    config = keras3_config.from_keras3(_keras3_ops_config(module=True))
    model = keras.models.model_from_config(config)
    assert [type(lay).__name__ for lay in model.layers].count("TFOpLambda") == 7
    kernel, bias = (w.numpy() for w in model.get_layer("d").weights)
    np.testing.assert_allclose(model.predict(X6, verbose=0),
                               _keras3_ops_reference(kernel, bias, X6), rtol=1e-5)
    again = keras.Model.from_config(json.loads(json.dumps(model.get_config())))
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(X6, verbose=0),
                               _keras3_ops_reference(kernel, bias, X6), rtol=1e-5)


def test_keras3_operations_in_h5_file(tmp_path):
    inp = keras.Input((6,), name="x")
    writer = keras.Model(inp, keras.layers.Dense(4, name="d")(inp[:, ::2]))
    path = tmp_path / "k3ops.h5"
    writer.save(path)
    with h5py.File(path, "r+") as f:   # the weights of 'd', Keras 3's ops config
        f.attrs["model_config"] = json.dumps(_keras3_ops_config(module=False))
        f.attrs["keras_version"] = "3.15.1"
    model = keras.models.load_model(path)
    kernel, bias = (w.numpy() for w in writer.weights)
    np.testing.assert_allclose(model.predict(X6, verbose=0),
                               _keras3_ops_reference(kernel, bias, X6), rtol=1e-5)
    assert type(model.get_layer("reshape")).__name__ == "TFOpLambda"
