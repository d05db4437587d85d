"""Review of round 14 (serialization and dtype rules): user functions travel by
value in SavedModel directories, the user's own cloudpickle registrations survive a
save, layer ``dtype`` arguments take Python/NumPy types, and float floor division
keeps TF's results."""

import importlib
import sys

import cloudpickle
import numpy as np

import dlframe as tf

keras = tf.keras

_ACTS = '''
def doubled(x):
    return x * 2.0
'''

_LAYERS = '''
import dlframe as tf


class Tripled(tf.keras.layers.Layer):
    def call(self, x):
        return x * 3.0
'''


def _user_modules(tmp_path, monkeypatch, **sources):
    for name, text in sources.items():
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return [importlib.import_module(name) for name in sources]


def _forget(*names):
    for name in names:
        sys.modules.pop(name, None)


def test_saved_model_stores_user_functions_of_class_free_modules(tmp_path, monkeypatch):
    acts, lays = _user_modules(tmp_path, monkeypatch, acts_r14r2=_ACTS,
                               layers_r14r2=_LAYERS)
    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Dense(2, activation=acts.doubled)(
        lays.Tripled()(inp)))
    x = np.arange(6, dtype="float32").reshape(2, 3)
    want = model(x).numpy()
    model.save(tmp_path / "saved")
    # the loading process has neither module (nor can it import them)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    _forget("acts_r14r2", "layers_r14r2")
    try:
        loaded = keras.models.load_model(tmp_path / "saved")
        np.testing.assert_allclose(loaded(x).numpy(), want, rtol=1e-6)
        assert "acts_r14r2" not in sys.modules
    finally:
        _forget("acts_r14r2", "layers_r14r2")


def test_saving_keeps_the_users_own_by_value_registration(tmp_path, monkeypatch):
    (lays,) = _user_modules(tmp_path, monkeypatch, layers_r14r2b=_LAYERS)
    cloudpickle.register_pickle_by_value(lays)
    try:
        inp = keras.Input((3,))
        keras.Model(inp, lays.Tripled()(inp)).save(tmp_path / "saved")
        assert "layers_r14r2b" in cloudpickle.list_registry_pickle_by_value()
    finally:
        cloudpickle.unregister_pickle_by_value(lays)
        _forget("layers_r14r2b")
    # a module the save registered itself is given back afterwards
    assert "layers_r14r2b" not in cloudpickle.list_registry_pickle_by_value()


def test_layer_dtype_takes_python_and_numpy_types():
    # Keras 3 (TF 2.21): float is floatx, int is int64, NumPy types by name
    assert keras.layers.Dense(2, dtype=float).dtype == "float32"
    assert keras.layers.Dense(2, dtype=np.float64).dtype == "float64"
    assert keras.layers.Dense(2, dtype=int).dtype == "int64"
    assert keras.Input((2,), dtype=float).dtype == "float32"
    layer = keras.layers.Dense(2, dtype=np.float64)
    assert layer(np.ones((1, 3))).dtype == tf.float64


def test_float_floor_division_matches_tf():
    # values from TF 2.21
    x = tf.constant([1.0, -7.0, np.inf, 5.0, -5.0, 7.5])
    y = tf.constant([0.1, 2.0, 2.0, 0.0, 0.0, -2.0])
    want = [10.0, -4.0, np.inf, np.inf, -np.inf, -4.0]
    np.testing.assert_array_equal((x // y).numpy(), want)
    np.testing.assert_array_equal(tf.function(lambda a, b: a // b)(x, y).numpy(), want)
    ints = tf.constant([7, -7]) // tf.constant([2, 2])
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [3, -4]
