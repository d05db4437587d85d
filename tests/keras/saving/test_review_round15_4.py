"""Review (round 15, R4) of the persistence probes: Lambda functions saved by name,
string TensorSpecs, TFSMLayer over an ExportArchive, keyword-only signatures."""

import functools
import sys
import types

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

L = keras.layers
X = np.random.default_rng(4).normal(size=(5, 3)).astype("float32")


def _lambda_model(fn):
    inp = keras.Input((3,))
    return keras.Model(inp, L.Lambda(fn)(inp))


# -- Lambda: by name only when the module holds that very function ---------------
def _scaled(t):
    return t * 100.0


def _nested_model():
    def _scaled(t):   # shadows the module-level function of the same name
        return t * 2.0
    return _lambda_model(_scaled)


def test_nested_function_named_like_a_module_function_keeps_its_code(tmp_path):
    path = str(tmp_path / "nested.keras")
    _nested_model().save(path)
    # stored as bytecode (not by name, which found the module's other function)
    with pytest.raises(ValueError, match="safe mode"):
        keras.models.load_model(path)
    restored = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(restored(X).numpy(), X * 2.0, rtol=1e-6)


def _times_three(t):
    return t * 3.0


@pytest.fixture
def user_module():
    """A user module defining ``triple``, dropped again after the test."""
    module = types.ModuleType("_review4_user_module")
    code = _times_three.__code__.replace(co_name="triple", co_qualname="triple")
    module.triple = types.FunctionType(code, module.__dict__, "triple")
    module.triple.__module__ = module.__name__
    sys.modules[module.__name__] = module
    yield module
    sys.modules.pop(module.__name__, None)


def test_named_function_missing_on_load_is_type_error(tmp_path, user_module):
    keras_path, h5_path = str(tmp_path / "m.keras"), str(tmp_path / "m.h5")
    model = _lambda_model(user_module.triple)
    model.save(keras_path)
    model.save(h5_path)
    del sys.modules[user_module.__name__]   # as in another process
    with pytest.raises(TypeError, match="Could not locate function 'triple'"):
        keras.models.load_model(keras_path)
    found = keras.models.load_model(keras_path,
                                    custom_objects={"triple": user_module.triple})
    np.testing.assert_allclose(found(X).numpy(), X * 3.0, rtol=1e-6)
    # Keras 2's HDF5 keeps a plain function's bytecode: it loads anywhere
    np.testing.assert_allclose(keras.models.load_model(h5_path)(X).numpy(), X * 3.0,
                               rtol=1e-6)


@tf.function
def _quadruple(t):
    return t * 4.0


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_lambda_of_tf_function_saves_its_python_function(tmp_path, ext):
    path = str(tmp_path / f"quad.{ext}")
    _lambda_model(_quadruple).save(path)
    restored = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(restored(X).numpy(), X * 4.0, rtol=1e-6)


def test_lambda_of_partial_is_a_clear_type_error(tmp_path):
    model = _lambda_model(functools.partial(tf.multiply, 2.0))
    np.testing.assert_allclose(model(X).numpy(), X * 2.0, rtol=1e-6)
    with pytest.raises(TypeError, match="Cannot serialize object functools.partial"):
        model.save(str(tmp_path / "partial.keras"))


# -- tf.function over a string TensorSpec traces a string placeholder -------------
def _lengths(s):
    return tf.strings.length(s)


def test_string_tensor_spec_traces_and_saves(tmp_path):
    spec = tf.TensorSpec([None], tf.string)
    fn = tf.function(_lengths, input_signature=[spec])
    words = tf.constant(["ab", "cde", ""])
    np.testing.assert_array_equal(fn(words).numpy(), _lengths(words).numpy())
    concrete = tf.function(_lengths).get_concrete_function(spec)
    np.testing.assert_array_equal(concrete(words).numpy(), [2, 3, 0])
    upper = tf.function(tf.strings.upper).get_concrete_function(
        tf.TensorSpec([], tf.string))
    assert upper(tf.constant("ab")).numpy() == b"AB"

    class Texts(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve(self, text):
            return {"len": tf.strings.length(text), "up": tf.strings.upper(text)}

    module = Texts()
    path = str(tmp_path / "texts")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
    out = tf.saved_model.load(path).signatures["serving_default"](
        text=tf.constant(["ab", "xyz"]))
    np.testing.assert_array_equal(out["len"].numpy(), [2, 3])
    np.testing.assert_array_equal(out["up"].numpy(), [b"AB", b"XYZ"])


# -- TFSMLayer opens an ExportArchive directory -----------------------------------
def _archive(tmp_path):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2), L.BatchNormalization()])
    spec = [tf.TensorSpec((None, 3), tf.float32)]
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.call, input_signature=spec)
    archive.add_endpoint("call_train", lambda x: model(x, training=True),
                         input_signature=spec)
    path = str(tmp_path / "archive")
    archive.write_out(path, verbose=False)
    return model, path


def test_tfsm_layer_runs_export_archive_endpoints(tmp_path):
    model, path = _archive(tmp_path)
    expected = model(X).numpy()
    layer = L.TFSMLayer(path)
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-5)
    # counts as TF 2.21 reports them: Dense 2 + BatchNormalization 2 trainable, 2 not
    assert (len(layer.weights), len(layer.trainable_weights),
            len(layer.non_trainable_weights)) == (6, 4, 2)
    frozen = L.TFSMLayer(path, trainable=False)
    assert (len(frozen.trainable_weights), len(frozen.non_trainable_weights)) == (0, 6)
    outputs = L.TFSMLayer(path, call_endpoint="serving_default")(X)
    assert sorted(outputs) == ["output_0"]
    np.testing.assert_allclose(outputs["output_0"].numpy(), expected, rtol=1e-5)
    both = L.TFSMLayer(path, call_training_endpoint="call_train")
    np.testing.assert_allclose(both(X, training=True).numpy(),
                               model(X, training=True).numpy(), rtol=1e-5, atol=1e-6)
    inp = keras.Input((3,))
    wrapped = keras.Model(inp, L.TFSMLayer(path)(inp))
    assert tuple(wrapped.output_shape) == (None, 2)
    np.testing.assert_allclose(wrapped.predict(X, verbose=0), expected, rtol=1e-5)


def test_tfsm_layer_unknown_archive_endpoint(tmp_path):
    _, path = _archive(tmp_path)
    with pytest.raises(ValueError, match="'nope' is neither an attribute"):
        L.TFSMLayer(path, call_endpoint="nope")


# -- signatures with several inputs take keywords only, as in TF -------------------
class _TwoInputs(tf.Module):
    def __init__(self):
        super().__init__()
        self.scale = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="a"),
                                  tf.TensorSpec([None], tf.float32, name="b")])
    def two(self, a, b):
        return {"s": a + b * self.scale}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def one(self, x):
        return x * self.scale


def test_signature_positional_only_with_one_input(tmp_path):
    module = _TwoInputs()
    path = str(tmp_path / "sig")
    tf.saved_model.save(module, path, signatures={"two": module.two, "one": module.one})
    loaded = tf.saved_model.load(path)
    a, b = tf.constant([1.0]), tf.constant([2.0])
    np.testing.assert_allclose(loaded.signatures["two"](a=a, b=b)["s"].numpy(), [5.0])
    for args, kwargs in (((a, b), {}), ((a,), {"b": b})):
        with pytest.raises(TypeError, match="too many positional arguments"):
            loaded.signatures["two"](*args, **kwargs)
    np.testing.assert_allclose(loaded.signatures["one"](a)["output_0"].numpy(), [2.0])
    np.testing.assert_allclose(loaded.signatures["one"](x=a)["output_0"].numpy(), [2.0])


def test_exported_two_input_model_signature_keywords_only(tmp_path):
    first, second = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    model = keras.Model([first, second], L.Add()([first, second]))
    path = str(tmp_path / "two")
    model.export(path, verbose=False)
    signature = tf.saved_model.load(path).signatures["serving_default"]
    x, y = np.ones((1, 2), "float32"), np.full((1, 2), 2.0, "float32")
    np.testing.assert_allclose(signature(a=x, b=y)["output_0"].numpy(), x + y)
    with pytest.raises(TypeError, match="too many positional arguments"):
        signature(x, y)
    # TFSMLayer still feeds the signature (by name) from a list of inputs
    layer = L.TFSMLayer(path, call_endpoint="serving_default")
    np.testing.assert_allclose(layer([x, y])["output_0"].numpy(), x + y)


# -- Checkpoint: a device array is as untrackable as a NumPy one ------------------
def test_checkpoint_refuses_device_array():
    class DeviceArray:   # what CuPy arrays expose instead of __array_interface__
        @property
        def __cuda_array_interface__(self):
            return {"shape": (2,), "typestr": "<f4", "version": 3}

    with pytest.raises(ValueError, match="was expecting x to be a trackable"):
        tf.train.Checkpoint(x=DeviceArray())
