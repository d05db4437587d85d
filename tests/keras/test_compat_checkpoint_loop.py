"""The "Training checkpoints" guide: tf.train.Checkpoint + CheckpointManager around a
custom tf.function training loop, with a learning-rate schedule, resumed in a fresh
process-like setup; and the schedules' values against TensorFlow's."""

import os

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
RNG = np.random.default_rng(5)
X = RNG.normal(size=(256, 5)).astype("float32")
Y = X @ np.arange(1, 6, dtype="float32")[:, None] + 0.3


def make(directory):
    net = keras.Sequential([keras.layers.Dense(16, activation="relu"),
                            keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.ExponentialDecay(
        0.05, decay_steps=10, decay_rate=0.9, staircase=True)
    opt = keras.optimizers.Adam(learning_rate=schedule)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
    manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=3)
    return net, opt, ckpt, manager


def train_and_checkpoint(net, opt, ckpt, manager, epochs):
    ckpt.restore(manager.latest_checkpoint)
    loss_fn = keras.losses.MeanSquaredError()
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(256, seed=1).batch(32)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, net(x, training=True))
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    losses, saved = [], []
    for _ in range(epochs):
        for x, y in dataset:
            losses.append(float(step(x, y)))
            ckpt.step.assign_add(1)
            if int(ckpt.step) % 8 == 0:
                saved.append(os.path.basename(manager.save()))
    return losses, saved


def test_checkpoint_manager_resumes_a_custom_loop(tmp_path):
    directory = str(tmp_path / "tf_ckpts")
    keras.utils.set_random_seed(0)
    net, opt, ckpt, manager = make(directory)
    losses, saved = train_and_checkpoint(net, opt, ckpt, manager, 3)
    assert saved == ["ckpt-1", "ckpt-2", "ckpt-3"]
    assert np.mean(losses[-8:]) < 0.5 * np.mean(losses[:8])
    assert int(opt.iterations.numpy()) == 24
    np.testing.assert_allclose(float(opt.learning_rate.numpy()), 0.05 * 0.9 ** 2,
                               rtol=1e-6)
    assert "checkpoint" in os.listdir(directory) and len(manager.checkpoints) == 3

    net2, opt2, ckpt2, manager2 = make(directory)
    net2(X[:1])                                     # build before restoring
    ckpt2.restore(manager2.latest_checkpoint).assert_existing_objects_matched()
    assert int(ckpt2.step.numpy()) == 24           # saved after 23 steps
    assert int(opt2.iterations.numpy()) == 23
    _, saved = train_and_checkpoint(net2, opt2, ckpt2, manager2, 1)
    assert saved == ["ckpt-4"] and int(opt2.iterations.numpy()) == 31
    assert [os.path.basename(p) for p in manager2.checkpoints] == ["ckpt-2", "ckpt-3",
                                                                   "ckpt-4"]
    names = [name for name, _ in tf.train.list_variables(manager2.latest_checkpoint)]
    assert "step/.ATTRIBUTES/VARIABLE_VALUE" in names  # TF's key spelling
    assert "save_counter/.ATTRIBUTES/VARIABLE_VALUE" in names


# (schedule, learning rates at steps 0, 5, 10, 15, 50, 150) printed by TensorFlow 2.21
SCHEDULES = [
    (lambda s: s.CosineDecay(0.1, decay_steps=100),
     [0.1, 0.09938, 0.09755, 0.09455, 0.05, 0.0]),
    (lambda s: s.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
     [1.0, 1.0, 1.0, 0.5, 0.1, 0.1]),
    (lambda s: s.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10),
     [0.0, 0.05, 0.1, 0.09938, 0.06545, 0.0]),
    (lambda s: s.InverseTimeDecay(0.1, 10, 0.5),
     [0.1, 0.08, 0.06667, 0.05714, 0.02857, 0.01176]),
    (lambda s: s.PolynomialDecay(0.1, 100, end_learning_rate=0.01, power=2),
     [0.1, 0.09122, 0.0829, 0.07502, 0.0325, 0.01]),
    (lambda s: s.CosineDecayRestarts(0.1, 20),
     [0.1, 0.08536, 0.05, 0.01464, 0.01464, 0.09904]),
]


@pytest.mark.parametrize("make_schedule,expected", SCHEDULES)
def test_schedules_match_tensorflow(make_schedule, expected):
    schedule = make_schedule(keras.optimizers.schedules)
    got = [float(schedule(step)) for step in (0, 5, 10, 15, 50, 150)]
    np.testing.assert_allclose(got, expected, atol=6e-6)
    again = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule))
    assert again.get_config() == schedule.get_config()
