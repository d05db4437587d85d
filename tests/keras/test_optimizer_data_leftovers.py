"""Optimizer leftovers: IndexedSlices gradients give TF 2.21's results for every
optimizer (when ids repeat: TF 2.21's per-row squares and per-row clipping norms,
see test_sparse_repeated_ids_round22_b.py and ..._more_round22_R3.py; the dense
update of the summed rows for SGD and Lion), the sparse RMSprop kernel is bit-equal to
the dense one on distinct ids, and schedules, learning rates,
iterations and slots survive get_config/from_config and checkpoints."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras

K = keras.optimizers
INIT = np.arange(24, dtype=np.float32).reshape(6, 4) / 10 - 1
WEIGHT = np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4)

MAKERS = {
    "SGD": lambda m: m.SGD(0.1),
    "SGDm": lambda m: m.SGD(0.1, momentum=0.9),
    "SGDn": lambda m: m.SGD(0.1, momentum=0.9, nesterov=True),
    "Adagrad": lambda m: m.Adagrad(0.1),
    "Adam": lambda m: m.Adam(0.1),
    "Adam_ams": lambda m: m.Adam(0.1, amsgrad=True),
    "Adamax": lambda m: m.Adamax(0.1),
    "Nadam": lambda m: m.Nadam(0.1),
    "Adadelta": lambda m: m.Adadelta(1.0),
    "Ftrl": lambda m: m.Ftrl(0.1),
    "Ftrl2": lambda m: m.Ftrl(0.1, l1_regularization_strength=0.01,
                              l2_regularization_strength=0.02,
                              l2_shrinkage_regularization_strength=0.03, beta=0.5),
    "RMSprop": lambda m: m.RMSprop(0.1),
    "RMSpropc": lambda m: m.RMSprop(0.1, momentum=0.5, centered=True),
    "Adam_clipnorm": lambda m: m.Adam(0.1, clipnorm=0.5),
    "Adam_clipvalue": lambda m: m.Adam(0.1, clipvalue=0.05),
    "Adam_gclip": lambda m: m.Adam(0.1, global_clipnorm=0.5),
    "SGD_clipnorm": lambda m: m.SGD(0.1, clipnorm=0.5),
}
KERAS3_ONLY = {
    "AdamW": lambda m: m.AdamW(0.1),
    "Lion": lambda m: m.Lion(0.1),
    "Adafactor": lambda m: m.Adafactor(0.1),
}
# row 1 after three tf.gather steps with ids [1, 3, 0, 4] (no repeats): TF 2.21
TF_ROW1 = {
    "SGD": [0.2168, 0.19813, 0.17947, 0.1608],
    "SGDm": [0.8018, 0.69613, 0.59047, 0.4848],
    "SGDn": [1.19799, 1.03609, 0.87419, 0.71229],
    "Adagrad": [-0.34895, -0.24971, -0.15093, -0.05313],
    "Adam": [-0.30085, -0.2008, -0.10071, -0.00059],
    "Adam_ams": [-0.30085, -0.2008, -0.10071, -0.00059],
    "AdamW": [-0.30025, -0.20031, -0.10035, -0.00035],
    "Adamax": [-0.3325, -0.23218, -0.13171, -0.03096],
    "Nadam": [-0.32254, -0.22278, -0.12314, -0.02371],
    "Adadelta": [-0.595, -0.49499, -0.39498, -0.29496],
    "Ftrl": [-0.26556, -0.16852, -0.07296, 0.01973],
    "Ftrl2": [-0.20441, -0.12014, -0.04114, 0.02887],
    "Lion": [-0.3, -0.2, -0.1, -0.0],
    "RMSprop": [0.18297, 0.27617, 0.36566, 0.44742],
    "RMSpropc": [0.63007, 0.71478, 0.78994, 0.84364],
    "Adam_clipnorm": [-0.29954, -0.19954, -0.09955, 0.00044],
    "Adam_clipvalue": [-0.30002, -0.20002, -0.10002, -2e-05],
    "Adam_gclip": [-0.29954, -0.19954, -0.09955, 0.00044],
    "SGD_clipnorm": [-0.54508, -0.45312, -0.36116, -0.26921],
    "Adafactor": [-0.3307, -0.25828, -0.19783, -0.14493],
}


def _train(opt, ids, sparse, steps=3, init=INIT):
    var = tf.Variable(init)
    ids = tf.constant(ids)
    for step in range(steps):
        with tf.GradientTape() as tape:
            rows = (tf.gather(var, ids) if sparse
                    else tf.matmul(tf.one_hot(ids, 6, dtype=var.dtype), var))
            w = tf.cast(WEIGHT, var.dtype)
            loss = tf.reduce_sum(rows * w * (step + 1)) + tf.reduce_sum(rows * rows)
        grad = tape.gradient(loss, var)
        assert isinstance(grad, tf.IndexedSlices) == sparse
        opt.apply_gradients([(grad, var)])
    return var.numpy()


@pytest.mark.parametrize("name", sorted({**MAKERS, **KERAS3_ONLY}))
def test_slices_match_tf_without_repeated_ids(name):
    make = {**MAKERS, **KERAS3_ONLY}[name]
    sparse = _train(make(K), [1, 3, 0, 4], True)
    np.testing.assert_allclose(sparse[1], TF_ROW1[name], atol=2e-5)
    np.testing.assert_allclose(sparse, _train(make(K), [1, 3, 0, 4], False),
                               rtol=1e-6, atol=1e-6)


# TF 2.21 squares (or clips) each row of the slices before a repeated id's rows add
# up, and takes norms over the rows: these follow it (test_sparse_repeated_ids_round22_b
# and test_sparse_repeated_ids_more_round22_R3 check TF's figures)
PER_ROW = {"Adagrad", "Adam", "AdamW", "Adam_clipvalue", "RMSprop", "Adam_ams", "Adamax",
           "Nadam", "Adadelta", "Ftrl", "Ftrl2", "RMSpropc", "Adam_clipnorm", "Adam_gclip",
           "SGD_clipnorm", "Adafactor"}


@pytest.mark.parametrize("name", sorted(set({**MAKERS, **KERAS3_ONLY}) - PER_ROW))
def test_repeated_ids_give_the_dense_update_of_the_summed_rows(name):
    # (TF 2.21 applies repeated rows' values unsummed in these nonlinear updates too;
    # here they keep the dense result, as Keras 2 does by summing duplicate indices)
    make = {**MAKERS, **KERAS3_ONLY}[name]
    np.testing.assert_allclose(_train(make(K), [1, 3, 1, 4], True),
                               _train(make(K), [1, 3, 1, 4], False),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(set(MAKERS) - PER_ROW))
def test_legacy_optimizers_take_slices(name):
    make = MAKERS[name]
    np.testing.assert_allclose(_train(make(K.legacy), [1, 3, 1, 4], True),
                               _train(make(K.legacy), [1, 3, 1, 4], False),
                               rtol=1e-6, atol=1e-6)


RMSPROP_SPARSE = {
    "plain": {},
    "momentum": {"momentum": 0.7},
    "rho": {"rho": 0.5, "epsilon": 1e-3},
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", sorted(RMSPROP_SPARSE))
def test_sparse_rmsprop_is_bit_equal_to_dense(kind, dtype):
    init = INIT.astype(dtype)
    kwargs = RMSPROP_SPARSE[kind]
    for ids in ([1, 3, 0, 4], [5, 2, 0, 4]):   # distinct (repeats: per-row squares)
        sparse = _train(K.RMSprop(0.1, **kwargs), ids, True, steps=4, init=init)
        dense = _train(K.RMSprop(0.1, **kwargs), ids, False, steps=4, init=init)
        np.testing.assert_array_equal(sparse, dense)
        assert sparse.dtype == dtype


def test_uncentered_rmsprop_never_builds_a_dense_gradient(monkeypatch):
    def refuse(self, dtype=None):
        raise AssertionError("IndexedSlices densified")

    var = tf.Variable(INIT)
    opt = K.RMSprop(0.1)
    opt.build([var])
    monkeypatch.setattr(tf.IndexedSlices, "_dlframe_tensor_", refuse)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.gather(var, [2, 2]))
    opt.apply_gradients([(tape.gradient(loss, var), var)])
    # one step (TF 2.21): vel = 0.1 * (1^2 + 1^2), var -= 0.1 * 2 / sqrt(vel + 1e-7)
    # on row 2 only
    expect = INIT.copy()
    expect[2] -= 0.1 * 2 / np.sqrt(0.2 + 1e-7)
    np.testing.assert_allclose(var.numpy(), expect, rtol=1e-6)


def test_sparse_rmsprop_refuses_out_of_range_ids():
    # the CPU raises; on a GPU out-of-range rows are ignored (TF's GPU scatter rule)
    with tf.device("/CPU:0"):
        var = tf.Variable(INIT)
        grad = tf.IndexedSlices(tf.ones((1, 4)), tf.constant([6]), tf.constant([6, 4]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="6"):
            K.RMSprop(0.1).apply_gradients([(grad, var)])


def test_traced_sparse_rmsprop_equals_eager():
    def make_step(var, opt):
        def step(ids):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(tf.gather(var, ids) - 1.0))
            opt.apply_gradients([(tape.gradient(loss, var), var)])
            return loss
        return step

    eager_var, traced_var = tf.Variable(INIT), tf.Variable(INIT)
    eager = make_step(eager_var, K.RMSprop(0.05, momentum=0.3))
    traced = tf.function(make_step(traced_var, K.RMSprop(0.05, momentum=0.3)))
    for ids in ([1, 3, 1], [0, 5, 5], [1, 3, 1]):
        np.testing.assert_allclose(float(traced(tf.constant(ids))),
                                   float(eager(tf.constant(ids))), rtol=1e-6)
    np.testing.assert_allclose(traced_var.numpy(), eager_var.numpy(), rtol=1e-6)


S = K.schedules
# values at steps 0, 3, 6, 9: TF 2.21
SCHEDULES = [
    (lambda: S.ExponentialDecay(0.1, 10, 0.5, staircase=True), [0.1, 0.1, 0.1, 0.1]),
    (lambda: S.PiecewiseConstantDecay([2, 4], [0.1, 0.05, 0.01]),
     [0.1, 0.05, 0.01, 0.01]),
    (lambda: S.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True),
     [0.1, 0.0541, 0.0244, 0.0109]),
    (lambda: S.InverseTimeDecay(0.1, 5, 0.5), [0.1, 0.076923, 0.0625, 0.052632]),
    (lambda: S.CosineDecay(0.1, 10, alpha=0.1, warmup_target=0.2, warmup_steps=3),
     [0.1, 0.2, 0.162901, 0.082188]),
    (lambda: S.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5),
     [0.1, 0.014645, 0.042678, 0.015433]),
]


@pytest.mark.parametrize("index", range(len(SCHEDULES)))
def test_schedule_config_round_trip(index):
    make, expect = SCHEDULES[index]
    schedule = make()
    for copy in (type(schedule).from_config(schedule.get_config()),
                 S.deserialize(S.serialize(schedule))):
        assert type(copy) is type(schedule)
        np.testing.assert_allclose([float(copy(i)) for i in range(0, 12, 3)], expect,
                                   atol=1e-6)


OPTIMIZERS = {
    "SGD": lambda lr: K.SGD(lr, momentum=0.9),
    "Adam": lambda lr: K.Adam(lr, amsgrad=True),
    "AdamW": lambda lr: K.AdamW(lr),
    "RMSprop": lambda lr: K.RMSprop(lr, momentum=0.3, centered=True),
    "Adagrad": lambda lr: K.Adagrad(lr),
    "Adadelta": lambda lr: K.Adadelta(lr),
    "Adamax": lambda lr: K.Adamax(lr),
    "Nadam": lambda lr: K.Nadam(lr),
    "Ftrl": lambda lr: K.Ftrl(lr),
    "Lion": lambda lr: K.Lion(lr),
    "Adafactor": lambda lr: K.Adafactor(lr),
}
X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)


def _step(opt, var):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(tf.matmul(X, var) - 1.0))
    opt.apply_gradients([(tape.gradient(loss, var), var)])


def _learning_rates():
    return {"float": lambda: 0.05, "schedule": lambda: S.ExponentialDecay(0.05, 2, 0.5)}


@pytest.mark.parametrize("lr_kind", sorted(_learning_rates()))
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_checkpoint_restore_gives_the_same_next_step(name, lr_kind, tmp_path):
    make, lr = OPTIMIZERS[name], _learning_rates()[lr_kind]
    opt, var = make(lr()), tf.Variable(np.ones((4, 2), np.float32))
    for _ in range(3):
        _step(opt, var)
    path = tf.train.Checkpoint(optimizer=opt, v=var).save(os.path.join(tmp_path, "ck"))
    _step(opt, var)
    restored_opt, restored_var = make(lr()), tf.Variable(np.zeros((4, 2), np.float32))
    tf.train.Checkpoint(optimizer=restored_opt, v=restored_var).restore(path)
    _step(restored_opt, restored_var)   # slots made on first use take the saved values
    np.testing.assert_allclose(restored_var.numpy(), var.numpy(), rtol=1e-6, atol=1e-7)
    assert int(restored_opt.iterations) == int(opt.iterations) == 4
    np.testing.assert_allclose(float(restored_opt.learning_rate),
                               float(opt.learning_rate), rtol=1e-6)
    assert len(restored_opt.variables) == len(opt.variables)
    for a, b in zip(restored_opt.variables, opt.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_config_round_trip_keeps_the_learning_rate(name):
    make = OPTIMIZERS[name]
    opt = make(0.05)
    opt.learning_rate = 0.01   # assigned after creation, as Keras callbacks do
    copy = type(opt).from_config(opt.get_config())
    assert copy.get_config() == opt.get_config()
    np.testing.assert_allclose(float(copy.learning_rate), 0.01)
    scheduled = make(S.ExponentialDecay(0.05, 2, 0.5))
    config = scheduled.get_config()
    # Keras 2 serializes the schedule to a dict, TF 2.21 keeps the object: both load
    for lr in (config["learning_rate"], S.ExponentialDecay(0.05, 2, 0.5)):
        copy = type(scheduled).from_config({**config, "learning_rate": lr})
        var_a, var_b = tf.Variable(np.ones((4, 2), np.float32)), tf.Variable(
            np.ones((4, 2), np.float32))
        fresh = make(S.ExponentialDecay(0.05, 2, 0.5))
        for _ in range(3):
            _step(copy, var_a)
            _step(fresh, var_b)
        np.testing.assert_allclose(var_a.numpy(), var_b.numpy(), rtol=1e-6)
        np.testing.assert_allclose(float(copy.learning_rate), 0.05 * 0.5 ** 1.5,
                                   rtol=1e-5)
