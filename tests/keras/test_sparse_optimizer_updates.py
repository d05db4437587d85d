"""Optimizers apply tf.IndexedSlices gradients: for linear updates (SGD, momentum,
norm clipping, Lion) the update equals the dense-gradient update (rows named twice
add up; slots of untouched rows still decay, as Keras 3); a squared-gradient term
(Adam, Adagrad, RMSprop) or value clipping works per row, as TF 2.21 (see
test_sparse_repeated_ids_round22_b.py); plain SGD updates only the named rows,
without a dense gradient."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import config, keras

INIT = np.arange(15, dtype=np.float32).reshape(5, 3) / 10.0
ROWS = np.array([[1., 2., 3.], [0.5, -1., 2.], [3., 0., -1.]], np.float32)
STEP_IDS = [[1, 3, 1], [2, 4, 2], [0, 3, 4]]   # duplicates and changing rows

OPTIMIZERS = {
    "sgd": lambda m: m.SGD(0.1),
    "sgd_momentum": lambda m: m.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda m: m.SGD(0.1, momentum=0.9, nesterov=True),
    "adam": lambda m: m.Adam(0.1),
    "adam_amsgrad": lambda m: m.Adam(0.1, amsgrad=True),
    "rmsprop": lambda m: m.RMSprop(0.1),
    "rmsprop_centered": lambda m: m.RMSprop(0.1, momentum=0.5, centered=True),
    "adagrad": lambda m: m.Adagrad(0.1),
    "adadelta": lambda m: m.Adadelta(0.1),
    "adamax": lambda m: m.Adamax(0.1),
    "nadam": lambda m: m.Nadam(0.1),
    "ftrl": lambda m: m.Ftrl(0.1),
    "sgd_clipnorm": lambda m: m.SGD(0.1, clipnorm=1.0),
    "sgd_global_clipnorm": lambda m: m.SGD(0.1, global_clipnorm=1.0),
    "sgd_clipvalue": lambda m: m.SGD(0.1, clipvalue=1.5),
    "sgd_weight_decay": lambda m: m.SGD(0.1, weight_decay=0.1),
    "adam_ema": lambda m: m.Adam(0.1, use_ema=True),
    "adam_accumulation": lambda m: m.Adam(0.1, gradient_accumulation_steps=2),
    "sgd_loss_scale_factor": lambda m: m.SGD(0.1, loss_scale_factor=4.0),
}
EXTRA = {   # optimizers that only Keras 3 has
    "adamw": lambda m: m.AdamW(0.1),
    "lion": lambda m: m.Lion(0.1),
    "adafactor": lambda m: m.Adafactor(0.1),
}


def _slices(step):
    return tf.IndexedSlices(tf.constant(ROWS * (step + 1)), tf.constant(STEP_IDS[step]),
                            tf.constant([5, 3]))


def _train(make, sparse, steps=3):
    var = tf.Variable(INIT)
    opt = make()
    for step in range(steps):
        g = _slices(step)
        if not sparse:
            g = tf.math.unsorted_segment_sum(g.values, g.indices, 5)
        opt.apply_gradients([(g, var)])
    return var.numpy()


# TF 2.21 squares (or clips) each row of the slices before a repeated id's rows add
# up, so these differ from the dense update: TF's numbers are checked in
# test_sparse_repeated_ids_round22_b.py and test_sparse_repeated_ids_more_round22_R3.py
PER_ROW = {"adam", "adam_ema", "adamw", "adagrad", "rmsprop", "sgd_clipvalue",
           "adam_amsgrad", "rmsprop_centered", "adadelta", "adamax", "nadam", "ftrl",
           "adafactor"}


@pytest.mark.parametrize("name", sorted(set({**OPTIMIZERS, **EXTRA}) - PER_ROW))
def test_slices_update_equals_dense_update(name):
    make = {**OPTIMIZERS, **EXTRA}[name]
    sparse = _train(lambda: make(keras.optimizers), True)
    np.testing.assert_allclose(sparse, _train(lambda: make(keras.optimizers), False),
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(sparse, INIT)


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum"])
def test_legacy_optimizers_accept_slices(name):
    legacy = keras.optimizers.legacy
    np.testing.assert_allclose(_train(lambda: OPTIMIZERS[name](legacy), True),
                               _train(lambda: OPTIMIZERS[name](legacy), False),
                               rtol=1e-5, atol=1e-6)


def test_untouched_rows_of_adam_still_move():
    # Keras 3 (TF 2.21): row 0 is named only by the first step, yet its moments keep
    # decaying, so Adam keeps moving it in the next (sparse) steps
    var = tf.Variable(INIT)
    opt = keras.optimizers.Adam(0.1)
    moved = []
    for ids in ([0, 1], [2, 3], [2, 3]):
        before = var.numpy()[0].copy()
        opt.apply_gradients([(tf.IndexedSlices(tf.ones((2, 3)), tf.constant(ids),
                                               tf.constant([5, 3])), var)])
        moved.append(not np.allclose(var.numpy()[0], before))
    assert moved == [True, True, True]


def test_plain_sgd_never_builds_a_dense_gradient(monkeypatch):
    def refuse(self, dtype=None):
        raise AssertionError("IndexedSlices densified")

    var = tf.Variable(INIT)
    opt = keras.optimizers.SGD(0.5)
    opt.apply_gradients([(tf.IndexedSlices(tf.ones((3, 3)), tf.constant([4, 1, 4]),
                                           tf.constant([5, 3])), var)])   # build first
    monkeypatch.setattr(tf.IndexedSlices, "_dlframe_tensor_", refuse)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.embedding_lookup(var, [[0, 0], [2, 0]]))
    opt.apply_gradients([(tape.gradient(y, var), var)])
    expect = INIT.copy()
    expect[[4, 1]] -= [[1.0], [0.5]]
    expect[0] -= 1.5
    expect[2] -= 0.5
    np.testing.assert_allclose(var.numpy(), expect, rtol=1e-6)


def _embedding_step(opt, var):
    def step(ids):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(var, ids) - 1.0))
        opt.apply_gradients([(tape.gradient(loss, var), var)])
        return loss
    return step


@pytest.mark.parametrize("make", [lambda: keras.optimizers.SGD(0.1),
                                  lambda: keras.optimizers.Adam(0.1)],
                         ids=["sgd", "adam"])
def test_traced_train_step_equals_eager(make):
    ids = [tf.constant([1, 3, 1]), tf.constant([0, 1, 4])]
    eager_var, traced_var = tf.Variable(INIT), tf.Variable(INIT)
    eager = _embedding_step(make(), eager_var)
    traced = tf.function(_embedding_step(make(), traced_var))
    for _ in range(3):
        for i in ids:
            np.testing.assert_allclose(float(traced(i)), float(eager(i)), rtol=1e-5)
    np.testing.assert_allclose(traced_var.numpy(), eager_var.numpy(), rtol=1e-5, atol=1e-6)


def test_loss_scale_optimizer_applies_slices():
    make = keras.mixed_precision.LossScaleOptimizer
    np.testing.assert_allclose(_train(lambda: make(keras.optimizers.SGD(0.1)), True),
                               _train(lambda: make(keras.optimizers.SGD(0.1)), False),
                               rtol=1e-5, atol=1e-6)


def _mirrored_embedding(strategy, steps=3):
    with strategy.scope():
        var = tf.Variable(INIT)
        opt = keras.optimizers.Adam(0.1)

    def replica_step(ids):
        with tf.GradientTape() as tape:
            rows = tf.nn.embedding_lookup(var, ids)
            loss = tf.reduce_sum(tf.square(rows - 1.0)) / 4.0
        opt.apply_gradients([(tape.gradient(loss, var), var)])
        return loss

    dist = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(np.array([1, 3, 1, 4], np.int32)).batch(4))
    for _ in range(steps):
        for batch in dist:
            strategy.run(replica_step, args=(batch,))
    return var.numpy()


def test_mirrored_strategy_reduces_slices():
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        two = _mirrored_embedding(tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"]))
    finally:
        config._logical_cpu_count = before
    one = _mirrored_embedding(tf.distribute.OneDeviceStrategy("CPU:0"))
    np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-6)
    assert not np.allclose(two, INIT)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_embedding_model_learns(optimizer):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 50, (512, 6)).astype("int32")
    y = (x[:, 0] < 25).astype("float32")[:, None]
    model = keras.Sequential([keras.Input((6,), dtype="int32"),
                              keras.layers.Embedding(50, 8),
                              keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    opt = keras.optimizers.SGD(0.5) if optimizer == "sgd" else keras.optimizers.Adam(0.02)
    model.compile(opt, "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.95
