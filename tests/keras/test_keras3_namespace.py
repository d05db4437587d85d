"""Keras 3 top-level names: Variable, base classes, dtype policies, keras.tree,
name_scope/device, interactive logging, STFT/Identity/Orthogonal initializers and
Keras 2's backend focal losses."""

import collections
import logging

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


def test_base_class_aliases_are_the_framework_classes():
    assert keras.Loss is keras.losses.Loss
    assert keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer
    assert keras.Initializer is keras.initializers.Initializer
    assert keras.Regularizer is keras.regularizers.Regularizer
    assert keras.Layer is keras.layers.Layer and keras.Model is keras.models.Model


def test_variable_from_value_and_from_initializer():
    v = keras.Variable(1.0, name="v")
    assert v.dtype == "float32" and v.path == "v" and v.trainable
    assert keras.Variable(1).dtype == "int32"
    assert keras.Variable([1.0, 2.0], dtype="float16").dtype == "float16"
    w = keras.Variable("ones", shape=(2, 3), name="w")
    np.testing.assert_array_equal(w.numpy(), np.ones((2, 3), np.float32))
    u = keras.Variable(keras.initializers.Constant(2.0), shape=(2,), trainable=False)
    assert not u.trainable and u.numpy().tolist() == [2.0, 2.0]
    u.assign([3.0, 4.0])
    np.testing.assert_array_equal((u + 1).numpy(), [4.0, 5.0])
    with pytest.raises(ValueError, match="shape"):
        keras.Variable("zeros")
    with pytest.raises(ValueError, match="shape=\\(3,\\)"):
        keras.Variable([1.0, 2.0], shape=(3,))
    with pytest.raises(ValueError, match="aggregation=foo"):
        keras.Variable(1.0, aggregation="foo")


def test_every_variable_is_a_keras_variable_and_is_differentiable():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    assert isinstance(layer.kernel, keras.Variable)
    assert isinstance(tf.Variable(1.0), keras.Variable)
    assert not isinstance(tf.constant(1.0), keras.Variable)
    v = keras.Variable(3.0)
    with tf.GradientTape() as tape:
        y = v * v
    assert float(tape.gradient(y, v)) == pytest.approx(6.0)


def test_name_scope_prefixes_paths_and_device_places():
    with keras.name_scope("block"):
        v = keras.Variable("zeros", shape=(2,), name="bias")
    assert v.path == "block/bias"
    with keras.device("cpu:0"):
        t = tf.constant([1.0])
    assert "CPU" in t.device.upper()


def test_dtype_policies():
    p = keras.DTypePolicy("mixed_float16")
    assert (p.compute_dtype, p.variable_dtype, p.quantization_mode) == (
        "float16", "float32", None)
    assert keras.mixed_precision.Policy is keras.DTypePolicy
    assert isinstance(keras.FloatDTypePolicy("float16"), keras.DTypePolicy)
    pol = keras.dtype_policies
    assert pol.get("bfloat16").name == "bfloat16"
    assert pol.get(None).name == "float32"
    assert pol.get(p) is p
    config = pol.serialize(p)
    assert config["class_name"] == "DTypePolicy" and config["config"] == {
        "name": "mixed_float16"}
    assert pol.deserialize(config) == p and pol.get(config) == p
    with pytest.raises(ValueError, match="dtype=3"):
        pol.get(3)
    layer = keras.layers.Dense(2, dtype=pol.get("mixed_float16"))
    assert layer.compute_dtype == "float16"


def test_tree_flatten_pack_and_paths():
    tree = keras.tree
    s = {"b": [1, (2, 3)], "a": None, "c": {"z": 4, "y": [5]}}
    assert tree.flatten(s) == [None, 1, 2, 3, 5, 4]
    assert tree.flatten_with_path(s)[:3] == [(("a",), None), (("b", 0), 1),
                                              (("b", 1, 0), 2)]
    assert tree.pack_sequence_as({"b": 1, "a": [2, 3]}, [7, 8, 9]) == {
        "b": 9, "a": [7, 8]}
    assert tree.flatten(1) == [1] and tree.flatten([]) == []
    assert not tree.is_nested(None) and not tree.is_nested("ab")
    assert tree.is_nested(collections.OrderedDict())
    with pytest.raises(ValueError):
        tree.pack_sequence_as([1, 2], [1])


def test_tree_map_and_structure_checks():
    tree = keras.tree
    assert tree.map_structure(lambda a, b: a + b, [1, (2,)], [10, (20,)]) == [11, (22,)]
    Point = collections.namedtuple("Point", "x y")
    assert tree.map_structure(lambda a: a * 2, Point(1, 2)) == Point(2, 4)
    with pytest.raises(ValueError, match="arity"):
        tree.map_structure(lambda a, b: a, [1, 2], [1])
    with pytest.raises(ValueError, match="list"):   # Keras 3 checks container types
        tree.assert_same_structure([1, 2], (1, 2))
    tree.assert_same_structure({"a": [1]}, {"a": [5]})
    tree.assert_same_paths([[1], (2,)], ([3], [4]))   # types may differ
    with pytest.raises(ValueError, match="same paths"):
        tree.assert_same_paths([1, [2]], [1, 2])
    assert tree.map_structure_up_to({"a": 0}, lambda x, y: (x, y), {"a": [1, 2]},
                                    {"a": 3}) == {"a": ([1, 2], 3)}
    assert tree.map_structure_up_to([0, 0], str, [[1, 2], {"q": 3}]) == [
        "[1, 2]", "{'q': 3}"]


def test_tree_traverse_lists_to_tuples_and_shapes():
    tree = keras.tree
    s = {"b": [1, (2, 3)], "a": None}
    assert tree.traverse(lambda x: x * 10 if isinstance(x, int) else None, s) == {
        "b": [10, (20, 30)], "a": None}
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 2 else None,
                         [1, [2]]) == [1, [None]]
    seen = []
    tree.traverse(lambda x: seen.append(x), [1, [2]], top_down=False)
    assert seen == [1, 2, [2], [1, [2]]]
    assert tree.traverse(lambda x: x * 10 if isinstance(x, int) else (
        tuple(x) if isinstance(x, list) else None), [1, [2]], top_down=False) == (
        10, (20,))
    assert tree.lists_to_tuples({"a": [1, [2]]}) == {"a": (1, (2,))}
    shapes = tree.map_shape_structure(lambda s: tuple(s) + (1,),
                                      {"a": (None, 3), "b": [(2,), [4, 5]]})
    assert shapes == {"a": (None, 3, 1), "b": [(2, 1), (4, 5, 1)]}


class _MeanSquare(keras.Loss):
    def call(self, y_true, y_pred):
        return tf.reduce_mean(tf.square(y_true - y_pred), axis=-1)


class _MaxError(keras.Metric):
    def __init__(self, name="max_err", **kwargs):
        super().__init__(name=name, **kwargs)
        self.worst = self.add_variable(shape=(), initializer="zeros", name="worst")

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = tf.reduce_max(tf.abs(y_true - y_pred))
        self.worst.assign(tf.maximum(self.worst, error))

    def result(self):
        return self.worst

    def reset_state(self):
        self.worst.assign(0.0)


def test_custom_loss_and_metric_subclasses_train_in_fit():
    rng = np.random.RandomState(0)
    x = rng.randn(64, 3).astype("float32")
    y = x @ np.array([[1.0], [2.0], [-1.0]], "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=_MeanSquare(),
                  metrics=[_MaxError()])
    history = model.fit(x, y, epochs=20, verbose=0).history
    assert history["loss"][-1] < 1e-3 < history["loss"][0]
    assert 0 < history["max_err"][-1] < 0.1
    # the loss object gives the same number as NumPy
    pred = model.predict(x, verbose=0)
    assert float(_MeanSquare()(y, pred)) == pytest.approx(np.mean((y - pred) ** 2),
                                                          rel=1e-5)


def test_interactive_logging_routes_progress_bars(capsys, caplog):
    utils = keras.utils
    x = np.ones((8, 2), "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert utils.is_interactive_logging_enabled()
    model.fit(x, x[:, :1], epochs=2, verbose=2)
    printed = capsys.readouterr().out
    assert "Epoch 1/2" in printed and "loss" in printed
    utils.disable_interactive_logging()
    try:
        assert not utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="dlframe"):
            model.fit(x, x[:, :1], epochs=2, verbose=1)
            model.predict(x, verbose=1)
        assert capsys.readouterr().out == ""
        logged = [r.getMessage() for r in caplog.records]
        assert "Epoch 2/2" in logged and any("loss" in m for m in logged)
    finally:
        utils.enable_interactive_logging()
    assert utils.is_interactive_logging_enabled()


def test_identity_orthogonal_keras3_names():
    init = keras.initializers
    assert init.IdentityInitializer is init.Identity
    assert init.OrthogonalInitializer is init.Orthogonal
    np.testing.assert_allclose(init.IdentityInitializer(2.0)((2, 3)).numpy(),
                               2 * np.eye(2, 3))
    q = init.OrthogonalInitializer(seed=1)((5, 3)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-5)
    assert isinstance(init.get("OrthogonalInitializer"), init.Orthogonal)


def _dft_kernel(n, bins, window, side):
    length = 2 * (bins - 1)
    k = np.arange(bins)[None, :] * np.arange(n)[:, None] * 2 * np.pi / length
    base = np.cos(k) if side == "real" else -np.sin(k)
    return (base * window[:, None])[:, None, :]


@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
@pytest.mark.parametrize("side", ["real", "imag"])
def test_stft_initializer_against_numpy(side, scaling):
    window = np.array([1.0, 2.0, 3.0, 4.0])
    got = keras.initializers.STFT(side=side, window=list(window), scaling=scaling)(
        (4, 1, 3)).numpy()
    scaled = {"density": window / np.sqrt((window ** 2).sum()),
              "spectrum": window / window.sum(), None: window}[scaling]
    np.testing.assert_allclose(got, _dft_kernel(4, 3, scaled, side), atol=1e-6)
    # from TF 2.21 / Keras 3.15: real, density, window [1, 2, 3, 4], bin 0
    if side == "real" and scaling == "density":
        np.testing.assert_allclose(got[:, 0, 0], [0.18257, 0.36515, 0.54772, 0.7303],
                                   atol=1e-5)


def test_stft_initializer_named_windows_and_errors():
    init = keras.initializers
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(5) / 4)          # symmetric
    np.testing.assert_allclose(init.STFT(scaling=None)((5, 1, 3)).numpy(),
                               _dft_kernel(5, 3, hann, "real"), atol=1e-6)
    hamming = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(5) / 5)     # periodic
    np.testing.assert_allclose(
        init.STFTInitializer(window="hamming", periodic=True, scaling=None)(
            (5, 1, 3)).numpy(), _dft_kernel(5, 3, hamming, "real"), atol=1e-6)
    np.testing.assert_allclose(init.STFT(window=None)((4, 1, 5)).numpy(),
                               _dft_kernel(4, 5, np.ones(4), "real"), atol=1e-6)
    config = init.STFT(window=[1.0, 2.0]).get_config()
    assert config == {"side": "real", "window": [1.0, 2.0], "periodic": False,
                      "scaling": "density"}
    assert isinstance(init.deserialize(init.serialize(init.STFT())), init.STFT)
    with pytest.raises(ValueError, match="side"):
        init.STFT(side="x")
    with pytest.raises(ValueError, match="window='kaiser'"):
        init.STFT(window="kaiser")
    with pytest.raises(ValueError, match="scaling='x'"):
        init.STFT(scaling="x")


def test_backend_focal_crossentropies():
    target = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    output = np.array([[0.8, 0.3], [0.1, 0.6]], "float32")
    backend = keras.backend
    p = np.clip(output, 1e-7, 1 - 1e-7)
    bce = -(target * np.log(p) + (1 - target) * np.log(1 - p))
    p_t = target * output + (1 - target) * (1 - output)
    np.testing.assert_allclose(
        backend.binary_focal_crossentropy(target, output).numpy(),
        (1 - p_t) ** 2 * bce, rtol=1e-5)
    # from TF 2.21 / Keras 3.15 (per element, class balancing, logits, gamma 1.5)
    np.testing.assert_allclose(
        backend.binary_focal_crossentropy(target, output, apply_class_balancing=True,
                                          from_logits=True, gamma=1.5).numpy(),
        [[0.01601504, 0.27897784], [0.21236297, 0.02306976]], rtol=1e-5)
    np.testing.assert_allclose(
        backend.categorical_focal_crossentropy(target, output).numpy(),
        [0.00592166, 0.00078648], rtol=1e-5)
    np.testing.assert_allclose(
        backend.categorical_focal_crossentropy(target, output, alpha=0.5,
                                               from_logits=True).numpy(),
        [0.03378674, 0.03378674], rtol=1e-5)
