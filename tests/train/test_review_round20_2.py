"""Review of round 20's checkpoint work: Keras 3 (TF 2.21) checkpoints store an
optimizer's variables as ``optimizer/_variables/<i>`` in Keras 3's own order, which
for RMSprop, Adam(amsgrad=True) and Nadam differs from ``optimizer.variables``
(slots created in separate passes; Nadam's u_product last). Positional matching
assigned slots to the wrong variables (an error, or silently wrong values when the
shapes agree)."""

from pathlib import Path

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
FIXTURE = Path(__file__).parent / "fixtures" / "tf221_keras3_slots"
_rng = np.random.RandomState(0)
X = _rng.randn(32, 4).astype("float32")
Y = X @ _rng.randn(4, 1).astype("float32")

# fixtures: ``tf.train.Checkpoint(model=m, optimizer=opt).write`` by TF 2.21 after
# 5 steps from tf.random.normal weights (tf.random.set_seed(0)); the next three
# losses are the ones TF 2.21 computed right after writing.
CASES = {
    "rms": (lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
            [2.2045, 1.9214, 1.6644]),
    "amsgrad": (lambda: keras.optimizers.Adam(0.05, amsgrad=True),
                [1.8929, 1.5898, 1.3243]),
    "nadam": (lambda: keras.optimizers.Nadam(0.05), [2.2129, 1.9386, 1.6775]),
}


def _step(model, opt):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(X) - Y))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss)


@pytest.mark.parametrize("build_first", [False, True])
@pytest.mark.parametrize("name", sorted(CASES))
def test_keras3_slot_order_restores(name, build_first):
    make_opt, expected = CASES[name]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "tanh"),
                              keras.layers.Dense(1)])
    opt = make_opt()
    if build_first:   # slots exist: matched by alias; else deferred to build
        opt.build(model.trainable_variables)
    status = tf.train.Checkpoint(model=model, optimizer=opt).read(
        str(FIXTURE / name))
    losses = [_step(model, opt) for _ in range(3)]
    np.testing.assert_allclose(losses, expected, rtol=2e-4)
    assert int(opt.iterations) == 8
    status.assert_consumed()


def test_rmsprop_slots_take_their_keras3_positions():
    # each slot gets the value TF 2.21 stored for it (velocities vs momentums
    # of a variable have the same shape, so a wrong order could pass silently)
    reader = tf.train.load_checkpoint(str(FIXTURE / "rms"))
    saved = {k: reader.get_tensor(k) for k, _ in tf.train.list_variables(
        str(FIXTURE / "rms")) if k.startswith("optimizer/_variables/")}
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "tanh"),
                              keras.layers.Dense(1)])
    opt = keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True)
    tf.train.Checkpoint(model=model, optimizer=opt).read(str(FIXTURE / "rms"))
    opt.build(model.trainable_variables)

    def value(i):
        return saved[f"optimizer/_variables/{i}/.ATTRIBUTES/VARIABLE_VALUE"]
    # Keras 3: [iteration, lr, 4 velocities, 4 momentums, 4 average gradients]
    for j in range(4):
        np.testing.assert_array_equal(opt._velocities[j].numpy(), value(2 + j))
        np.testing.assert_array_equal(opt._momentums[j].numpy(), value(6 + j))
        np.testing.assert_array_equal(opt._average_gradients[j].numpy(),
                                      value(10 + j))


def test_dlframe_checkpoint_keeps_its_own_order(tmp_path):
    # dlframe's own files (``variables/<i>``) still restore in dlframe's order
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    opt = keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(X) - 1.0))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))
    path = tf.train.Checkpoint(model=model, optimizer=opt).write(str(tmp_path / "c"))
    model2 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    opt2 = keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True)
    status = tf.train.Checkpoint(model=model2, optimizer=opt2).read(path)
    opt2.build(model2.trainable_variables)
    status.assert_consumed()
    for a, b in zip(opt.variables, opt2.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


class _GAN(keras.Model):
    """A custom-training model holding its optimizers under its own names."""

    def __init__(self):
        super().__init__()
        self.gen = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
        self.disc = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def call(self, x):
        return self.disc(self.gen(x))

    def steps(self, n):
        for _ in range(n):
            for net, opt in ((self.disc, self.d_optimizer), (self.gen, self.g_optimizer)):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(self(X) - Y))
                grads = tape.gradient(loss, net.trainable_variables)
                opt.apply_gradients(zip(grads, net.trainable_variables))
        return float(tf.reduce_mean(tf.square(self(X) - Y)))


def _gan():
    gan = _GAN()
    gan.compile(keras.optimizers.Adam(0.05), keras.optimizers.SGD(0.05, momentum=0.9))
    return gan


def test_model_tracks_optimizers_under_any_attribute(tmp_path):
    # TF 2.21: Checkpoint(model=gan) stores model/d_optimizer/... and
    # model/g_optimizer/... (every optimizer the model holds), not only
    # model/optimizer; resuming from it continues both optimizers exactly
    gan = _gan()
    gan.steps(3)
    path = tf.train.Checkpoint(model=gan).write(str(tmp_path / "gan"))
    keys = {k.split("/")[1] for k, _ in tf.train.list_variables(path) if "/" in k}
    assert {"d_optimizer", "g_optimizer", "optimizer"} <= keys
    expected = gan.steps(2)
    resumed = _gan()
    status = tf.train.Checkpoint(model=resumed).read(path)
    assert resumed.steps(2) == pytest.approx(expected, rel=1e-5)
    assert int(resumed.d_optimizer.iterations) == 5
    assert int(resumed.g_optimizer.iterations) == 5
    status.assert_consumed()
