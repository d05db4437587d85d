"""Muon and ScheduleFreeAdamW against Keras 3.15 numbers (three steps), and
MultiOptimizer/OptimizerMap routing variables to sub-optimizers in fit."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras

_RNG = np.random.RandomState(0)
_W0 = _RNG.randn(4, 3).astype("float32")
_W1 = _RNG.randn(3, 5).astype("float32")
_B0 = _RNG.randn(3).astype("float32")
_E0 = _RNG.randn(6, 2).astype("float32")
_GRADS = [[_RNG.randn(*a.shape).astype("float32") for a in (_W0, _W1, _B0, _E0)]
          for _ in range(3)]

# Values after three apply_gradients calls with TF 2.21 / Keras 3.15 (same inputs).
_KERAS = {
    "muon": ([1.77248, 0.347202, 0.958058, 2.25266, 1.89969, -1.02063, 0.995371,
              -0.155731, -0.0824977, 0.376362, 0.145277, 1.47432],
             [0.757213, 0.0914957, 0.458923, 0.322669, 1.47653, -0.180869, 0.31809,
              -0.867739, -2.51992, 0.645348, 0.876526, -0.723434, 2.27249, -1.49145,
              0.0443403],
             [-0.276911, 1.49663, 1.36083]),
    "muon_options": ([1.77039, 0.266637, 0.915067, 2.24588, 1.91549, -1.07446,
                      1.05224, -0.150781, -0.0389478, 0.328786, 0.148818, 1.49692],
                     [0.779846, 0.068242, 0.408718, 0.258715, 1.49599, -0.148759,
                      0.358356, -0.858121, -2.47838, 0.667536, 0.86767, -0.668706,
                      2.28922, -1.52576, 0.0598836],
                     [-0.232118, 1.51515, 1.41552]),
    "schedule_free": ([1.78851, 0.301073, 0.972088, 2.28998, 1.96041, -1.07621,
                       1.02236, -0.148529, -0.0474773, 0.301153, 0.147459, 1.48439],
                      [0.765806, 0.0406076, 0.380837, 0.227021, 1.497, -0.121602,
                       0.380015, -0.867751, -2.4487, 0.656976, 0.885054, -0.636856,
                       2.28458, -1.57074, 0.0631107],
                      [-0.264803, 1.52127, 1.38179]),
    "schedule_free_options": ([1.76263, 0.325894, 0.946597, 2.26384, 1.93445,
                               -1.05069, 0.996874, -0.173454, -0.0724355, 0.325971,
                               0.122381, 1.45865],
                              [0.740417, 0.0655707, 0.405638, 0.251876, 1.47125,
                               -0.146523, 0.354836, -0.892326, -2.47244, 0.631646,
                               0.909623, -0.661508, 2.25844, -1.54499, 0.0380859],
                              [-0.239685, 1.5455, 1.40608]),
}

_MAKERS = {
    "muon": lambda: keras.optimizers.Muon(learning_rate=0.05),
    "muon_options": lambda: keras.optimizers.Muon(
        learning_rate=0.05, nesterov=False, rms_rate=None, exclude_layers=["out"],
        weight_decay=0.1, adam_weight_decay=None, adam_lr_ratio=0.5, ns_steps=3),
    "schedule_free": lambda: keras.optimizers.ScheduleFreeAdamW(learning_rate=0.05),
    "schedule_free_options": lambda: keras.optimizers.ScheduleFreeAdamW(
        learning_rate=0.05, warmup_steps=2, weight_decay=0.01, beta_1=0.8),
}


def _three_steps(optimizer, compiled=False):
    variables = [keras.Variable(_W0, name="w0"),
                 keras.Variable(_W1, name="out_kernel"),
                 keras.Variable(_B0, name="b0"),
                 keras.Variable(_E0, name="embedding_w")]

    def step(grads):
        optimizer.apply_gradients(zip(grads, variables))
    if compiled:
        optimizer.build(variables)
        step = tf.function(step)
    for grads in _GRADS:
        step([tf.constant(g) for g in grads])
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("name", sorted(_KERAS))
def test_three_steps_match_keras(name):
    result = _three_steps(_MAKERS[name]())
    for got, expected in zip(result, _KERAS[name]):
        np.testing.assert_allclose(got.ravel(), expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", ["muon", "schedule_free"])
def test_compiled_steps_equal_eager(name):
    eager = _three_steps(_MAKERS[name]())
    compiled = _three_steps(_MAKERS[name](), compiled=True)
    for a, b in zip(eager, compiled):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_newton_schulz_orthogonalizes():
    muon = keras.optimizers.Muon()
    g = tf.constant(np.random.RandomState(3).randn(6, 4).astype("float32"))
    o = muon.orthogonalize(g, 5).numpy()
    singular = np.linalg.svd(o, compute_uv=False)
    assert np.all((singular > 0.6) & (singular < 1.25))   # near 1 (quintic NS)
    with pytest.raises(ValueError, match="2 dimensions"):
        muon.orthogonalize(tf.constant([1.0, 2.0]), 5)


def test_muon_routes_variables_and_serializes():
    # fresh layer names: the paths below must not depend on earlier tests in this
    # process (an xdist worker had made 8 Embeddings before: 'embedding_8')
    keras.backend.clear_session()
    muon = keras.optimizers.Muon(exclude_layers=["head"])
    model = keras.Sequential([keras.Input((4,)), keras.layers.Embedding(10, 4),
                              keras.layers.Flatten(), keras.layers.Dense(
                                  8, name="body"), keras.layers.Dense(1, name="head")])
    muon.build(model.trainable_variables)
    # Keras 3 paths start with the Sequential's name ('sequential/body/kernel')
    uses_adam = {v.path.split("/", 1)[1]: muon._uses_adamw(v)
                 for v in model.trainable_variables}
    assert uses_adam == {"embedding/embeddings": True, "body/kernel": False,
                         "body/bias": True, "head/kernel": True, "head/bias": True}
    config = keras.optimizers.serialize(muon)
    clone = keras.optimizers.deserialize(config)
    assert isinstance(clone, keras.optimizers.Muon)
    assert clone.get_config()["exclude_layers"] == ["head"]


def _fit(optimizer, epochs=20):
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    x = rng.randn(128, 4).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [1.0]], "float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, name="encoder"),
                              keras.layers.Dense(1, name="head")])
    model.compile(optimizer, "mse")
    return model, model.fit(x, y, epochs=epochs, batch_size=32, verbose=0).history


@pytest.mark.parametrize("make", [
    lambda: keras.optimizers.Muon(learning_rate=0.05),
    lambda: keras.optimizers.ScheduleFreeAdamW(learning_rate=0.02)])
def test_new_optimizers_learn_in_fit(make):
    _, history = _fit(make())
    assert history["loss"][-1] < 0.1 * history["loss"][0]


def test_multi_optimizer_sends_variables_to_their_optimizers():
    sgd, adam = keras.optimizers.SGD(0.05), keras.optimizers.Adam(0.01)
    optimizer_map = keras.optimizers.OptimizerMap(sgd, {".*/encoder/.*": adam})
    multi = keras.optimizers.MultiOptimizer(optimizer_map)
    _, history = _fit(multi)
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    def paths(variables):   # without the Sequential's name
        return [v.path.split("/", 1)[1] for v in variables]
    assert paths(adam._trainable_variables) == ["encoder/kernel", "encoder/bias"]
    assert paths(sgd._trainable_variables) == ["head/kernel", "head/bias"]
    steps = 20 * 4
    assert int(multi.iterations.numpy()) == steps == int(adam.iterations.numpy())
    assert multi.optimizers == [adam, sgd]
    assert len(multi.variables) == 2 + len(adam.variables) + len(sgd.variables)
    with pytest.raises(AttributeError, match="sub-optimizers"):
        multi.learning_rate  # noqa: B018
    weights = multi.get_weights()
    multi.set_weights(weights)
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(multi))
    assert isinstance(clone, keras.optimizers.MultiOptimizer)
    assert [type(o).__name__ for o in clone.optimizers] == ["Adam", "SGD"]


def test_multi_optimizer_with_a_callable_matches_single_optimizers():
    x = tf.constant(np.ones((2, 3), "float32"))
    kernel = keras.Variable(np.ones((3, 1), "float32"), name="k")
    bias = keras.Variable(np.zeros((1,), "float32"), name="b")
    multi = keras.optimizers.MultiOptimizer(
        lambda v: sgd if v.path == "k" else adam)
    sgd, adam = keras.optimizers.SGD(0.1), keras.optimizers.Adam(0.1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.matmul(x, kernel) + bias)
    grads = tape.gradient(loss, [kernel, bias])
    multi.apply_gradients(zip(grads, [kernel, bias]))
    np.testing.assert_allclose(kernel.numpy(), 1 - 0.1 * 2.0 * np.ones((3, 1)))
    np.testing.assert_allclose(bias.numpy(), [-0.1], rtol=1e-5)   # Adam's first step


def test_optimizer_map_lookup_rules():
    default, adam, sgd = (keras.optimizers.RMSprop(), keras.optimizers.Adam(),
                          keras.optimizers.SGD())
    optimizer_map = keras.optimizers.OptimizerMap(default)
    optimizer_map["encoder/layer_0/dense"] = adam
    optimizer_map["encoder/.*"] = sgd
    optimizer_map["decoder"] = adam
    assert optimizer_map["decoder"] is adam
    assert optimizer_map["encoder/layer_0/dense"] is adam
    assert optimizer_map["encoder/layer_0/attention/query"] is sgd
    assert optimizer_map["decoder/layer_0/dense"] is default
    assert len(optimizer_map) == 3 and "decoder" in optimizer_map
    optimizer_map["enc.*"] = sgd
    with pytest.raises(ValueError, match="Multiple optimizers"):
        optimizer_map["encoder/x"]
    with pytest.raises(ValueError, match="already exists"):
        optimizer_map["decoder"] = sgd
    with pytest.raises(ValueError, match="key must be a string"):
        optimizer_map[3] = sgd
    with pytest.raises(ValueError, match="MultiOptimizer"):
        optimizer_map["x"] = keras.optimizers.MultiOptimizer(optimizer_map)
    with pytest.raises(TypeError, match="default_optimizer"):
        keras.optimizers.OptimizerMap("adam")
