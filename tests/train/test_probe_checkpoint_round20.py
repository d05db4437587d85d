"""Round 20 probe: resuming a custom ``tf.function`` training loop from a
``tf.train.Checkpoint`` whose model and optimizer are built only by the first traced
step (deferred restoration inside a trace), and restoring checkpoints that TF 2.21
(Keras 3) wrote, checked against TF 2.21 and NumPy."""

from pathlib import Path

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras

X = np.random.RandomState(0).randn(32, 4).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [3.0], [0.5]], "float32")


def _make():
    model = keras.Sequential([keras.layers.Dense(6, activation="tanh"),
                              keras.layers.Dense(1)])
    return model, keras.optimizers.Adam(0.05)


def _step_fn(model, opt, compiled):
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(X) - Y))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return tf.function(step) if compiled else step


def _numpy_adam_losses(weights, slots, iterations, steps, lr=0.05):
    """Reference losses of ``steps`` Adam steps from a saved state, in NumPy."""
    k1, b1, k2, b2 = [w.astype(np.float64) for w in weights]
    params = [k1, b1, k2, b2]
    ms = [s.astype(np.float64) for s in slots[0::2]]
    vs = [s.astype(np.float64) for s in slots[1::2]]
    x, y = X.astype(np.float64), Y.astype(np.float64)
    losses = []
    for t in range(iterations + 1, iterations + steps + 1):
        h = np.tanh(x @ k1 + b1)
        out = h @ k2 + b2
        losses.append(np.mean((out - y) ** 2))
        d_out = 2 * (out - y) / out.size
        d_h = d_out @ k2.T * (1 - h ** 2)
        grads = [x.T @ d_h, d_h.sum(0), h.T @ d_out, d_out.sum(0)]
        alpha = lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        for i, g in enumerate(grads):
            ms[i] = 0.9 * ms[i] + 0.1 * g
            vs[i] = 0.999 * vs[i] + 0.001 * g * g
            params[i] -= alpha * ms[i] / (np.sqrt(vs[i]) + 1e-7)
    return losses


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    tf.keras.utils.set_random_seed(0)
    model, opt = _make()
    step = _step_fn(model, opt, compiled=False)
    for _ in range(10):
        step()
    path = tf.train.Checkpoint(model=model, optimizer=opt).save(
        str(tmp_path_factory.mktemp("ck") / "ck"))
    weights = [v.numpy() for v in model.weights]
    slots = [v.numpy() for v in opt.variables[2:]]
    continued = [float(step()) for _ in range(3)]
    return path, weights, slots, continued


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("build_first", [False, True])
def test_resume_matches_uninterrupted_training(saved, compiled, build_first):
    # TF 2.21: the restored loop's losses equal the uninterrupted ones in all four
    # cases; dlframe recorded the deferred assigns into the first trace, so the
    # restored values were re-assigned on every call (constant loss).
    path, weights, slots, continued = saved
    model, opt = _make()
    if build_first:
        model(X)
    status = tf.train.Checkpoint(model=model, optimizer=opt).restore(path)
    step = _step_fn(model, opt, compiled)
    losses = [float(step()) for _ in range(3)]
    np.testing.assert_allclose(losses, continued, rtol=1e-4)
    np.testing.assert_allclose(losses, _numpy_adam_losses(weights, slots, 10, 3),
                               rtol=1e-4)
    assert int(opt.iterations) == 13
    status.assert_consumed()


def test_module_variable_created_in_trace_restored_once(tmp_path):
    class Counter(tf.Module):
        def __init__(self):
            super().__init__()
            self.total = None

        @tf.function
        def add(self, x):
            if self.total is None:
                self.total = tf.Variable(0.0)
            self.total.assign_add(x)
            return self.total.read_value()

    src = Counter()
    src.add(tf.constant(5.0))
    path = tf.train.Checkpoint(counter=src).save(str(tmp_path / "c"))
    dst = Counter()
    tf.train.Checkpoint(counter=dst).restore(path)
    assert dst.total is None
    # the restored 5.0 is assigned when the variable appears, then accumulates
    assert float(dst.add(tf.constant(1.0))) == 6.0
    assert float(dst.add(tf.constant(1.0))) == 7.0


# ------------------------------------------- checkpoints written by TF 2.21 (Keras 3)
# fixtures/tf221_keras3_adam: ``tf.train.Checkpoint(model=m, optimizer=opt).write``
# after 10 Adam(0.05) steps on X, Y (tf.random.set_seed(0)), by TF 2.21. Keras 3
# stores the model's weights under ``optimizer/_trainable_variables/<i>`` and names
# them ``model/_functional/_operations/<i>/_kernel`` (Sequential) or
# ``model/_operations/<i>/...`` (Functional) in the object graph; the slots under
# ``optimizer/_variables/<i>``.
FIXTURE = Path(__file__).parent / "fixtures" / "tf221_keras3_adam"
# the next three losses, as TF 2.21 computed them right after writing
TF_NEXT_LOSSES = {"seq": [1.35534, 1.18115, 1.06361],
                  "func": [4.41411, 3.99304, 3.59694]}


def _keras3_model(kind, with_input):
    layers = [keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(1)]
    if kind == "seq":
        return keras.Sequential(([keras.Input((4,))] if with_input else []) + layers)
    inputs = keras.Input((4,))
    hidden = keras.layers.BatchNormalization()(layers[0](inputs))
    return keras.Model(inputs, layers[1](hidden))


@pytest.mark.parametrize("kind,with_input",
                         [("seq", True), ("seq", False), ("func", True)])
def test_restore_checkpoint_written_by_keras3(kind, with_input):
    model, opt = _keras3_model(kind, with_input), keras.optimizers.Adam(0.05)
    status = tf.train.Checkpoint(model=model, optimizer=opt).read(
        str(FIXTURE / kind))
    losses = []
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(X, training=False) - Y))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    np.testing.assert_allclose(losses, TF_NEXT_LOSSES[kind], rtol=1e-4)
    assert int(opt.iterations) == 13
    status.assert_consumed()


def test_keras3_checkpoint_matches_numpy_adam():
    reader = tf.train.load_checkpoint(str(FIXTURE / "seq"))

    def get(key):
        return reader.get_tensor(f"optimizer/{key}/.ATTRIBUTES/VARIABLE_VALUE")
    weights = [get(f"_trainable_variables/{i}") for i in range(4)]
    slots = [get(f"_variables/{i}") for i in range(2, 10)]
    assert int(get("_iterations")) == 10
    np.testing.assert_allclose(_numpy_adam_losses(weights, slots, 10, 3),
                               TF_NEXT_LOSSES["seq"], rtol=1e-4)


# ------------------------------------------- a compiled model tracks its optimizer
def _compiled():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, "tanh"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    return model


def test_model_only_checkpoint_holds_the_optimizer(tmp_path):
    # TF 2.21: Checkpoint(model=compiled_model) stores model/optimizer/...; resuming
    # fit from it continues Adam's moments (the same losses as never stopping)
    tf.keras.utils.set_random_seed(0)
    model = _compiled()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "m"))
    keys = [k for k, _ in tf.train.list_variables(path)]
    assert "model/optimizer/variables/0/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert len([k for k in keys if k.startswith("model/optimizer/")]) == 10
    expected = model.fit(X, Y, epochs=1, batch_size=8, verbose=0,
                         shuffle=False).history["loss"]
    resumed = _compiled()
    status = tf.train.Checkpoint(model=resumed).restore(path)
    got = resumed.fit(X, Y, epochs=1, batch_size=8, verbose=0,
                      shuffle=False).history["loss"]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert int(resumed.optimizer.iterations) == 12
    status.assert_consumed()


@pytest.mark.parametrize("saved_with_optimizer", [False, True])
def test_optimizer_reached_from_model_or_root_restores_either_way(
        tmp_path, saved_with_optimizer):
    model = _compiled()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    objects = {"model": model}
    if saved_with_optimizer:
        objects["optimizer"] = model.optimizer
    path = tf.train.Checkpoint(**objects).save(str(tmp_path / "c"))
    restored = _compiled()
    restored.optimizer.build(restored.trainable_variables)
    objects = {"model": restored}
    if not saved_with_optimizer:
        objects["optimizer"] = restored.optimizer
    # TF 2.21: both cross restores match everything (the model->optimizer edge)
    tf.train.Checkpoint(**objects).restore(path).assert_consumed()
    for a, b in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
