"""Round-14 leftovers checked against TF 2.21 / Keras 3.15: Keras 3 serialization
dicts of layers, recurrent layers' ``input_spec``, factor ranges of
RandomColorDegeneration, the candidate samplers' int64 ``true_classes`` and
gradients through ``stateless_call``."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


# ---------------------------------------------------------------- serialization
def test_layers_serialize_has_keras3_keys_and_build_config():
    dense = layers.Dense(3, activation="relu")
    config = layers.serialize(dense)
    assert sorted(config) == ["class_name", "config", "module", "registered_name"]
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        "keras.layers", "Dense", None)
    # nested objects are Keras 3 dicts too (as TF 2.21 prints them)
    assert config["config"]["kernel_initializer"]["module"] == "keras.initializers"
    dense.build((None, 4))
    config = layers.serialize(dense)
    assert config["build_config"] == {"input_shape": (None, 4)}
    again = layers.deserialize(config)
    assert again.built and [tuple(w.shape) for w in again.weights] == [(4, 3), (3,)]
    assert again.units == 3 and again.activation is keras.activations.relu
    assert keras.saving.serialize_keras_object(dense) == config


def test_layers_deserialize_reads_keras2_and_keras3_forms():
    keras2 = layers.deserialize({"class_name": "Dense", "config": {"units": 5}})
    assert type(keras2).__name__ == "Dense" and keras2.units == 5
    lstm = layers.LSTM(3)
    lstm.build((None, 5, 2))
    rebuilt = layers.deserialize(layers.serialize(lstm))
    assert rebuilt.built
    assert [tuple(w.shape) for w in rebuilt.weights] == [(2, 12), (3, 12), (12,)]


def test_registered_custom_layer_round_trips():
    @keras.saving.register_keras_serializable(package="round14")
    class Scale14(layers.Layer):
        def __init__(self, k=2.0, **kwargs):
            super().__init__(**kwargs)
            self.k = k

        def call(self, x):
            return x * self.k

        def get_config(self):
            return {**super().get_config(), "k": self.k}

    config = layers.serialize(Scale14(k=4.0))
    # Keras 3: the bare class name plus "package>name" as registered_name
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        None, "Scale14", "round14>Scale14")
    assert layers.deserialize(config).k == 4.0
    assert keras.saving.deserialize_keras_object(config).k == 4.0
    # Keras 2 spelling of the same object
    assert layers.deserialize({"class_name": "round14>Scale14",
                               "config": {"k": 7.0}}).k == 7.0


def test_unregistered_custom_layer_files_its_class_name():
    class Mine14(layers.Layer):
        def call(self, x):
            return x

    config = layers.serialize(Mine14(name="m"))
    # TF 2.21: module None, registered_name the bare class name
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        None, "Mine14", "Mine14")
    with pytest.raises(TypeError, match="Mine14"):
        layers.deserialize(config)
    again = layers.deserialize(config, custom_objects={"Mine14": Mine14})
    assert type(again) is Mine14 and again.name == "m"


def test_serialized_model_keeps_compile_config():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    assert keras.saving.serialize_keras_object(model)["compile_config"] == {}
    model.compile("adam", "mse", metrics=["mae"])
    config = layers.serialize(model)
    assert sorted(config) == ["build_config", "class_name", "compile_config", "config",
                              "module", "registered_name"]
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["loss"] == "mse"
    again = layers.deserialize(config)
    assert type(again).__name__ == "Sequential" and again.built
    assert type(again.optimizer).__name__ == "Adam"
    x = np.ones((3, 4), "float32")
    again.fit(x, np.zeros((3, 2), "float32"), epochs=1, verbose=0)


# ---------------------------------------------------------------- input_spec
@pytest.mark.parametrize("cls, listed", [(layers.LSTM, False), (layers.GRU, False),
                                         (layers.SimpleRNN, True)])
def test_recurrent_input_spec(cls, listed):
    layer = cls(3)
    spec = layer.input_spec
    # Keras 3.15: SimpleRNN keeps [InputSpec(ndim=3)], LSTM/GRU InputSpec(ndim=3)
    assert isinstance(spec, list) == listed
    assert (spec[0] if listed else spec).ndim == 3
    layer.build((None, 5, 2))
    assert (layer.input_spec[0] if listed else layer.input_spec).ndim == 3
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        cls(3)(np.zeros((2, 4), "float32"))
    assert layers.Bidirectional(cls(3)).input_spec is not None
    assert layers.RNN(layers.LSTMCell(3)).input_spec is None


def test_recurrent_list_inputs_with_states_still_work():
    x = np.random.RandomState(0).rand(2, 5, 2).astype("float32")
    h = np.ones((2, 3), "float32")
    lstm = layers.LSTM(3)
    by_list = lstm([x, h, h])
    by_kwarg = lstm(x, initial_state=[h, h])
    np.testing.assert_allclose(by_list.numpy(), by_kwarg.numpy(), rtol=1e-6)
    assert lstm.input_spec.ndim == 3
    bi = layers.Bidirectional(layers.GRU(3))
    assert tuple(bi([x, h, h]).shape) == (2, 6)


def test_recurrent_feature_mismatch_is_invalid_argument():
    lstm = layers.LSTM(3)
    lstm(np.zeros((2, 5, 2), "float32"))
    # TF 2.21 raises InvalidArgumentError from LSTMCell's matmul
    with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible"):
        lstm(np.zeros((2, 5, 3), "float32"))


def test_bidirectional_round_trip_keeps_weight_order():
    layer = layers.Bidirectional(layers.LSTM(3))
    layer.build((None, 5, 4))
    x = np.random.RandomState(0).rand(2, 5, 4).astype("float32")
    for config in (layers.serialize(layer),
                   {"class_name": "Bidirectional", "config": layer.get_config()}):
        again = layers.deserialize(config)
        again.build((None, 5, 4))
        assert ["forward" in w.name for w in again.weights] == [True] * 3 + [False] * 3
        again.set_weights(layer.get_weights())
        np.testing.assert_allclose(again(x).numpy(), layer(x).numpy(), rtol=1e-6)


# ---------------------------------------------------------------- augmentation
@pytest.mark.parametrize("factor, stored", [
    ((0.8, 0.2), (0.2, 0.8)), (0.5, (-0.5, 0.5)), (-0.3, (-0.3, 0.3)),
    ((-0.1, 0.5), (-0.1, 0.5)), ((0.2, 1.5), (0.2, 1.5))])
def test_random_color_degeneration_factor(factor, stored):
    # the stored ranges are what Keras 3.15 (TF 2.21) keeps
    layer = layers.RandomColorDegeneration(factor=factor, seed=1)
    np.testing.assert_allclose(layer.factor, stored)
    images = np.random.RandomState(0).rand(2, 4, 4, 3).astype("float32") * 255
    out = layer(images, training=True)
    assert tuple(out.shape) == (2, 4, 4, 3) and out.dtype == tf.float32
    assert float(tf.reduce_min(out)) >= 0 and float(tf.reduce_max(out)) <= 255


def test_random_color_degeneration_bad_factor():
    with pytest.raises(ValueError, match=r"range \[-1.0, 1.0\]"):
        layers.RandomColorDegeneration(factor=1.5)
    with pytest.raises(ValueError, match="factor="):
        layers.RandomColorDegeneration(factor=(1.5, 2.0))


def test_color_degeneration_full_factor_gives_gray():
    images = np.random.RandomState(0).rand(1, 3, 3, 3).astype("float32")
    out = layers.RandomColorDegeneration(factor=(1.0, 1.0), value_range=(0, 1))(
        images, training=True).numpy()
    gray = images @ np.array([0.2989, 0.587, 0.114], "float32")
    np.testing.assert_allclose(out, np.repeat(gray[..., None], 3, -1), atol=1e-3)


# ---------------------------------------------------------------- candidate samplers
_SAMPLERS = [
    ("UniformCandidateSampler", lambda c: tf.random.uniform_candidate_sampler(
        c, 1, 3, True, 5, seed=1)),
    ("LogUniformCandidateSampler", lambda c: tf.random.log_uniform_candidate_sampler(
        c, 1, 3, True, 5, seed=1)),
    ("FixedUnigramCandidateSampler", lambda c: tf.random.fixed_unigram_candidate_sampler(
        c, 1, 3, True, 5, unigrams=[1.0] * 5, seed=1)),
    ("LearnedUnigramCandidateSampler",
     lambda c: tf.random.learned_unigram_candidate_sampler(c, 1, 3, True, 5, seed=1)),
    ("AllCandidateSampler", lambda c: tf.random.all_candidate_sampler(c, 1, 3, True)),
    ("ComputeAccidentalHits", lambda c: tf.nn.compute_accidental_hits(
        c, tf.constant([1, 3], tf.int64), 1)),
]


@pytest.mark.parametrize("op, fn", _SAMPLERS)
def test_candidate_samplers_need_int64_tensors(op, fn):
    for dtype in (tf.int32, tf.float32):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"{op} as input #0.*expected to be a int64 tensor"):
            fn(tf.constant([[1], [2]], dtype))
    # as TF, Python lists and NumPy arrays of any int type are converted
    for value in ([[1], [2]], np.array([[1], [2]], np.int32),
                  tf.constant([[1], [2]], tf.int64)):
        assert fn(value)[0].dtype in (tf.int64, tf.int32)


def test_sampled_losses_still_take_int32_labels():
    labels = tf.constant([[1], [2]], tf.int32)
    weights, biases, inputs = tf.ones([5, 3]), tf.zeros([5]), tf.ones([2, 3])
    assert tuple(tf.nn.nce_loss(weights, biases, labels, inputs, 2, 5).shape) == (2,)
    assert tuple(tf.nn.sampled_softmax_loss(weights, biases, labels, inputs, 2,
                                            5).shape) == (2,)


# ---------------------------------------------------------------- stateless_call
def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                             layers.BatchNormalization(), layers.GlobalAveragePooling1D(),
                             layers.Dense(1)])


def _grads(model, tv, ntv, x, y):
    with tf.GradientTape() as tape:
        tape.watch(tv)
        out, new_ntv = model.stateless_call(tv, ntv, x, training=True)
        loss = tf.reduce_mean((out - y) ** 2)
    return loss, tape.gradient(loss, tv), new_ntv


def test_stateless_call_gradients_reach_the_given_values():
    model = _model()
    rng = np.random.RandomState(0)
    x, y = rng.rand(4, 5, 3).astype("float32"), rng.rand(4, 1).astype("float32")
    tv = [tf.constant(v.numpy() + 0.1) for v in model.trainable_variables]
    ntv = [tf.constant(v.numpy()) for v in model.non_trainable_variables]
    before = [v.numpy() for v in model.variables]
    loss, grads, _ = _grads(model, tv, ntv, x, y)
    assert all(g is not None for g in grads)
    # the model's own variables are untouched
    for v, old in zip(model.variables, before):
        np.testing.assert_array_equal(v.numpy(), old)
    # the same gradients as a model holding the given values
    for v, value in zip(model.trainable_variables, tv):
        v.assign(value)
    with tf.GradientTape() as tape:
        direct = tf.reduce_mean((model(x, training=True) - y) ** 2)
    expected = tape.gradient(direct, model.trainable_variables)
    np.testing.assert_allclose(float(loss), float(direct), rtol=1e-6)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-4, atol=1e-6)
    # a finite difference on one bias entry agrees
    eps = 1e-3
    bumped = [t.numpy().copy() for t in tv]
    bumped[-1][0] += eps
    up = _grads(model, [tf.constant(b) for b in bumped], ntv, x, y)[0]
    bumped[-1][0] -= 2 * eps
    down = _grads(model, [tf.constant(b) for b in bumped], ntv, x, y)[0]
    np.testing.assert_allclose(grads[-1].numpy()[0], (float(up) - float(down)) / (2 * eps),
                               rtol=2e-2)


def test_stateless_training_loop_in_function_learns():
    model = _model()
    rng = np.random.RandomState(1)
    x, y = rng.rand(16, 5, 3).astype("float32"), rng.rand(16, 1).astype("float32")

    @tf.function
    def step(tv, ntv):
        loss, grads, ntv = _grads(model, tv, ntv, x, y)
        return loss, [v - 0.2 * g for v, g in zip(tv, grads)], ntv

    tv = [tf.constant(v.numpy()) for v in model.trainable_variables]
    ntv = [tf.constant(v.numpy()) for v in model.non_trainable_variables]
    eager_loss, eager_grads, _ = _grads(model, tv, ntv, x, y)
    first, new_tv, _ = step(tv, ntv)
    np.testing.assert_allclose(float(first), float(eager_loss), rtol=1e-5)
    for a, g, t in zip(new_tv, eager_grads, tv):
        np.testing.assert_allclose(a.numpy(), t.numpy() - 0.2 * g.numpy(), rtol=1e-4,
                                   atol=1e-6)
    tv, losses = new_tv, [float(first)]
    for _ in range(30):
        loss, tv, ntv = step(tv, ntv)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


# ---------------------------------------------------------------- SavedModel revival
_LAYERS_MODULE = '''
import dlframe as tf
keras = tf.keras


def _scaled(x, k):
    return x * k


class Scale14(keras.layers.Layer):
    def __init__(self, k=2.0, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def build(self, shape):
        self.w = self.add_weight(name="w", shape=(shape[-1],), initializer="ones")

    def call(self, x):
        return _scaled(x * self.w, self.k)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class Head14(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2)
        self.scale = Scale14(0.5)

    def call(self, x):
        return self.scale(self.dense(x))


class Counter14(tf.Module):
    def __init__(self):
        super().__init__()
        self.v = tf.Variable(3.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def __call__(self, x):
        return _scaled(x, self.v)
'''

_SAVE = '''
import numpy as np
import dlframe as tf
from layers14 import Counter14, Head14, Scale14
keras = tf.keras
keras.utils.set_random_seed(0)
inp = keras.Input((3,))
functional = keras.Model(inp, keras.layers.Dense(2)(Scale14(3.0)(inp)))
functional.compile("adam", "mse")
head = Head14()
x = np.arange(6, dtype="float32").reshape(2, 3)
np.save("../run/x.npy", x)
for name, model in (("functional", functional), ("head", head)):
    np.save(f"../run/{name}.npy", model(x).numpy())
    model.save(f"../run/{name}_keras2")
    tf.saved_model.save(model, f"../run/{name}_tf")
tf.saved_model.save(Counter14(), "../run/counter_tf")
'''

_LOAD = '''
import sys
import numpy as np
import dlframe as tf
assert "layers14" not in sys.modules
x = np.load("x.npy")
for name in ("functional", "head"):
    want = np.load(f"{name}.npy")
    for kind in ("keras2", "tf"):
        path = f"{name}_{kind}"
        loaded = tf.saved_model.load(path)
        served = loaded.signatures["serving_default"](tf.constant(x))
        np.testing.assert_allclose(list(served.values())[0].numpy(), want, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(loaded(tf.constant(x))), want, rtol=1e-6)
        model = tf.keras.models.load_model(path)
        np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-6)
counter = tf.saved_model.load("counter_tf")
np.testing.assert_allclose(counter(tf.constant([1.0, 2.0])).numpy(), [3.0, 6.0])
out = counter.signatures["serving_default"](x=tf.constant([2.0]))
np.testing.assert_allclose(list(out.values())[0].numpy(), [6.0])
print("revived")
'''


def test_saved_model_loads_without_the_custom_classes(tmp_path):
    src, run = tmp_path / "src", tmp_path / "run"
    src.mkdir()
    run.mkdir()
    (src / "layers14.py").write_text(_LAYERS_MODULE)
    (src / "save14.py").write_text(_SAVE)
    (run / "load14.py").write_text(_LOAD)
    # keep the caller's path entries (the fake-GPU harness puts its fake cupy there)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(pathlib.Path(__file__).resolve().parents[2])]
        + [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
           if p]))
    for folder, script in ((src, "save14.py"), (run, "load14.py")):
        done = subprocess.run([sys.executable, script], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
    assert "revived" in done.stdout
    # a model of built-in layers only keeps the plain config layout
    plain = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    plain.save(tmp_path / "plain")
    assert sorted(os.listdir(tmp_path / "plain")) == ["assets", "keras_model.h5"]


def test_stateless_call_regularizer_losses_follow_the_given_values():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(
        2, kernel_regularizer=keras.regularizers.L2(0.5))])
    tv = [tf.constant(np.full(tuple(v.shape), 2.0, "float32"))
          for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        tape.watch(tv)
        _, _, losses = model.stateless_call(tv, [], np.ones((4, 3), "float32"),
                                            return_losses=True)
        total = tf.add_n(losses)
    grads = tape.gradient(total, tv)
    np.testing.assert_allclose(float(total), 0.5 * 4.0 * 6, rtol=1e-6)
    np.testing.assert_allclose(grads[0].numpy(), np.full((3, 2), 2.0), rtol=1e-6)
    assert grads[1] is None
