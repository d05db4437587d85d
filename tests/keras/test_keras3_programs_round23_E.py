"""Keras 3-era programs (round 23, E): keras.ops dtype and loop semantics, keras.tree
ordering, and .keras files whose custom objects TF 2.21 / Keras 3.15 can read back.

Expected values are the ones TF 2.21 / Keras 3.15 printed for the same programs.
"""

import collections
import json
import zipfile

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
ops = keras.ops


# ---------------------------------------------------------------- loops
def test_fori_loop_python_index_adds_to_float_carry():
    # TF eager keeps the Python-int index, so a float carry plus the index works
    out = ops.fori_loop(0, 4, lambda i, v: v + i, 0.5)
    assert out.dtype == tf.float32
    assert float(out) == 6.5
    out = ops.fori_loop(0, 4, lambda i, v: v + i, 0)
    assert out.dtype == tf.int32 and int(out) == 6


def test_fori_loop_traced_matches_eager():
    fn = tf.function(lambda: ops.fori_loop(
        0, 4, lambda i, v: v + ops.cast(i, "float32"), 0.5))
    assert float(fn()) == 6.5


def test_while_loop_python_vars_mix_int_and_float():
    i, s = ops.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + 0.5 * i),
                          (0, 0.0))
    assert (int(i), float(s)) == (3, 1.5)
    assert i.dtype == tf.int32 and s.dtype == tf.float32
    assert int(ops.while_loop(lambda i: i < 50, lambda i: i + 1, 0,
                              maximum_iterations=7)) == 7


def test_fori_loop_gradient_through_python_loop():
    w = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        out = ops.fori_loop(0, 3, lambda i, v: v * w, 1.0)
    assert float(out) == 8.0
    np.testing.assert_allclose(float(tape.gradient(out, w)), 12.0)   # 3 w^2


# ---------------------------------------------------------------- dtypes
def test_int8_products_widen_to_int32():
    a = np.full((2, 3), 100, "int8")
    b = np.ones((3, 2), "int8")
    out = ops.matmul(a, b)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 300))
    e = ops.einsum("ij,jk->ik", a, b)
    assert e.dtype == tf.int32 and int(e[0, 0]) == 300
    assert ops.einsum("ij->i", a).dtype == tf.int32
    for dtype in ("uint8", "int16"):
        ones = np.ones((2, 2), dtype)
        assert ops.matmul(ones, ones).dtype == tf.as_dtype(dtype)
    assert ops.dot(np.ones((2, 2), "int8"), np.ones((2, 2), "int8")).dtype == tf.int8


def test_bool_matmul_is_logical():
    a = np.array([[True, False], [False, False]])
    b = np.array([[True, True], [True, False]])
    out = ops.matmul(a, b)
    assert out.dtype == tf.bool
    np.testing.assert_array_equal(out.numpy(), (a.astype(int) @ b.astype(int)) > 0)
    assert ops.dot(a, b).dtype == tf.bool


def test_bool_and_unsigned_inputs_follow_keras3():
    flags = np.array([True, False])
    assert ops.max(flags).dtype == tf.bool and bool(ops.max(flags)) is True
    assert bool(ops.min(flags)) is False
    np.testing.assert_array_equal(ops.max(np.array([[True, False], [False, False]]),
                                          axis=1).numpy(), [True, False])
    assert bool(ops.max(np.array([False]), initial=True)) is True
    out = ops.abs(flags)
    assert out.dtype == tf.bool and out.numpy().tolist() == [True, False]
    out = ops.square(flags)
    assert out.dtype == tf.int32 and out.numpy().tolist() == [1, 0]
    u = np.array([3, 0, 200], "uint8")
    assert ops.abs(u).dtype == tf.uint8 and ops.abs(u).numpy().tolist() == [3, 0, 200]
    out = ops.sign(u)
    assert out.dtype == tf.uint8 and out.numpy().tolist() == [1, 0, 1]
    out = ops.power(u, np.array([2, 2, 2], "uint8"))
    assert out.dtype == tf.uint8
    np.testing.assert_array_equal(out.numpy(),
                                  (u.astype(np.int64) ** 2).astype(np.uint8))


# ---------------------------------------------------------------- keras.tree
def test_tree_ordered_dict_keeps_insertion_order():
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    assert keras.tree.flatten(od) == [1, 2]
    assert keras.tree.flatten({"b": 1, "a": 2}) == [2, 1]
    assert keras.tree.flatten({"b": od, "a": [od]}) == [1, 2, 1, 2]
    assert keras.tree.flatten_with_path(od) == [(("b",), 1), (("a",), 2)]
    packed = keras.tree.pack_sequence_as(od, [5, 6])
    assert isinstance(packed, collections.OrderedDict)
    assert list(packed.items()) == [("b", 5), ("a", 6)]
    mapped = keras.tree.map_structure(lambda v: v * 10, od)
    assert list(mapped.items()) == [("b", 10), ("a", 20)]


def test_tree_map_structure_pairs_dicts_by_key():
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    out = keras.tree.map_structure(lambda x, y: (x, y), od, {"a": 10, "b": 20})
    assert list(out.items()) == [("b", (1, 20)), ("a", (2, 10))]
    out = keras.tree.map_structure(lambda x, y: (x, y), {"a": 10, "b": 20}, od)
    assert out == {"a": (10, 2), "b": (20, 1)}


def test_tree_defaultdict_rebuilds():
    dd = collections.defaultdict(int, {"b": 1, "a": 2})
    out = keras.tree.map_structure(lambda v: v + 1, dd)
    assert isinstance(out, collections.defaultdict) and out.default_factory is int
    assert dict(out) == {"a": 3, "b": 2}


# ---------------------------------------------------------------- serialization
class _MaxErr(keras.metrics.Metric):
    def __init__(self, name="max_err", **kwargs):
        super().__init__(name=name, **kwargs)
        self.m = self.add_variable(shape=(), initializer="zeros", name="m")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.m.assign(ops.maximum(self.m, ops.max(ops.abs(y_true - y_pred))))

    def result(self):
        return self.m

    def reset_state(self):
        self.m.assign(0.0)


class _HuberLike(keras.losses.Loss):
    def __init__(self, delta=1.0, name="huber_like", **kwargs):
        super().__init__(name=name, **kwargs)
        self.delta = delta

    def call(self, y_true, y_pred):
        e = ops.abs(y_true - y_pred)
        return ops.mean(ops.where(e < self.delta, 0.5 * e ** 2,
                                  self.delta * (e - 0.5 * self.delta)), axis=-1)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


def _gelu2(x):
    return ops.gelu(x) * 2


def test_serialize_builtin_metric_is_filed_under_metrics():
    out = keras.saving.serialize_keras_object(keras.metrics.MeanAbsoluteError())
    assert out["module"] == "keras.metrics"
    assert out["class_name"] == "MeanAbsoluteError" and out["registered_name"] is None
    out = keras.saving.serialize_keras_object(keras.losses.MeanAbsoluteError())
    assert out["module"] == "keras.losses"


def test_functions_serialize_under_builtins():
    for fn, name in ((_gelu2, "_gelu2"), (keras.activations.relu, "relu"),
                     (keras.losses.mean_squared_error, "mean_squared_error")):
        out = keras.saving.serialize_keras_object(fn)
        assert out == {"module": "builtins", "class_name": "function", "config": name,
                       "registered_name": "function"}
    back = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(keras.activations.relu))
    assert back is keras.activations.relu
    out = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(keras.losses.mean_squared_error))
    loss = out(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(loss.numpy(), [2.5])


def test_custom_loss_and_metric_configs_have_no_module():
    out = keras.saving.serialize_keras_object(_MaxErr())
    assert (out["module"], out["registered_name"]) == (None, "_MaxErr")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", loss=_HuberLike(0.5), metrics=[_MaxErr(), "mae"])
    cc = model.get_compile_config()
    assert cc["metrics"][0]["module"] is None
    assert cc["metrics"][0]["registered_name"] == "_MaxErr"
    assert cc["metrics"][1] == "mae"
    assert cc["loss"]["module"] is None and cc["loss"]["config"]["delta"] == 0.5


def test_keras_file_custom_objects_in_keras3_form(tmp_path):
    rs = np.random.RandomState(0)
    x = rs.rand(32, 4).astype("float32")
    y = (x @ rs.rand(4, 1)).astype("float32")
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(8, activation=_gelu2),
                              keras.layers.Dense(1, activation="linear")])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss=_HuberLike(0.5), metrics=[_MaxErr(), "mae"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    layers = config["config"]["layers"]
    dense = [entry for entry in layers if entry["class_name"] == "Dense"]
    # Keras 3 reads a bare name only for its own activations
    assert dense[0]["config"]["activation"] == {
        "module": "builtins", "class_name": "function", "config": "_gelu2",
        "registered_name": "function"}
    assert dense[1]["config"]["activation"] == "linear"
    compiled = config["compile_config"]
    assert compiled["loss"]["module"] is None
    assert compiled["loss"]["registered_name"] == "_HuberLike"
    assert compiled["metrics"][0]["module"] is None

    custom = {"_HuberLike": _HuberLike, "_MaxErr": _MaxErr, "_gelu2": _gelu2}
    loaded = keras.saving.load_model(path, custom_objects=custom)
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)
    assert isinstance(loaded.loss, _HuberLike) and loaded.loss.delta == 0.5
    assert int(loaded.optimizer.iterations.numpy()) == 8
    history = loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert sorted(history.history) == ["loss", "mae", "max_err"]
    assert int(loaded.optimizer.iterations.numpy()) == 12


def test_registered_activation_keeps_its_registered_name(tmp_path):
    @keras.saving.register_keras_serializable(package="r23e")
    def triple(x):
        return x * 3

    model = keras.Sequential([keras.Input((2,)),
                              keras.layers.Dense(2, activation=triple)])
    path = str(tmp_path / "r.keras")
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    act = config["config"]["layers"][-1]["config"]["activation"]
    assert act["config"] == "r23e>triple" and act["class_name"] == "function"
    loaded = keras.saving.load_model(path)
    x = np.ones((1, 2), "float32")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


if __name__ == "__main__":
    pytest.main([__file__, "-q"])


# ------------------------------------------------------------ ops in functional models
def _ops_body(inp):
    h = keras.layers.Dense(6, name="dd")(inp)
    a = ops.tanh(h) - inp / 3.0
    b = ops.where(a > 0.1, a, ops.zeros_like(a))
    c = ops.clip(b, -0.5, 0.5) ** 2
    f = ops.concatenate([ops.expand_dims(c, -1), ops.expand_dims(inp, -1)], axis=-1)
    g = ops.squeeze(ops.max(f, axis=-1, keepdims=True), axis=-1)
    k = g @ np.eye(6, dtype="float32")
    t = ops.take(ops.stack([k, -k], axis=1), 0, axis=1) + ops.log_softmax(k) * 0.1
    u = ops.maximum(t, 0.05) + ops.cumsum(t, axis=-1) * 0.01
    return ops.sum(u[:, 1:4], axis=-1, keepdims=True)


def test_ops_model_written_as_keras3_operations(tmp_path):
    x = np.random.RandomState(0).rand(4, 6).astype("float32")
    inp = keras.Input((6,))
    model = keras.Model(inp, _ops_body(inp))
    path = str(tmp_path / "ops.keras")
    model.save(path)
    layers = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]["layers"]
    by_class = {entry["class_name"]: entry for entry in layers}
    # the TF 2.21 / Keras 3.15 file form of the same program
    assert by_class["Sum"]["module"] == "keras.src.ops.numpy"
    assert by_class["Sum"]["config"]["axis"] == -1
    assert by_class["Sum"]["config"]["keepdims"] is True
    assert by_class["Clip"]["config"]["x_min"] == -0.5
    assert by_class["ExpandDims"]["config"]["axis"] == -1
    assert by_class["LogSoftmax"]["module"] == "keras.src.ops.nn"
    assert "ZerosLike" in by_class and "Maximum" in by_class and "Max" in by_class
    assert "TFOpLambda" not in by_class
    matmul_args = by_class["Matmul"]["inbound_nodes"][0]["args"]
    assert matmul_args[1]["class_name"] == "__numpy__"
    assert matmul_args[1]["config"]["dtype"] == "float32"
    take = by_class["Take"]
    assert take["config"]["axis"] == 1 and take["inbound_nodes"][0]["args"][1] == 0
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)


def test_loads_keras3_operation_with_numpy_constant(tmp_path):
    x = np.random.RandomState(1).rand(3, 2).astype("float32")
    inp = keras.Input((2,))
    model = keras.Model(inp, inp @ np.array([[1.0, 2.0], [3.0, 4.0]], "float32"))
    path = str(tmp_path / "np.keras")
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    entry = config["config"]["layers"][-1]
    assert entry["inbound_nodes"][0]["args"][1] == {
        "class_name": "__numpy__",
        "config": {"value": [[1.0, 2.0], [3.0, 4.0]], "dtype": "float32"}}
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(x).numpy(), x @ np.array([[1, 2], [3, 4]]),
                               rtol=1e-6)


def test_builtin_loss_name_survives_reload_and_fit_resumes(tmp_path):
    x = np.random.RandomState(2).rand(16, 3).astype("float32")
    y = x.sum(1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse", metrics=["mae"])
    model.fit(x, y, epochs=3, verbose=0)
    path = str(tmp_path / "l.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.loss == "mse"   # what TF 2.21 reloads
    assert loaded.get_compile_config()["loss"] == "mse"
    before = loaded.evaluate(x, y, verbose=0)[0]
    np.testing.assert_allclose(before, model.evaluate(x, y, verbose=0)[0], rtol=1e-6)
    loaded.fit(x, y, epochs=5, verbose=0)
    assert loaded.evaluate(x, y, verbose=0)[0] < before
