"""Round-18 probes of distribution programs against TF 2.21: which strategy a Keras
model reports, the cross-device ops' own reduce/broadcast, ``strategy.extended``'s
TF-1 spellings and PerReplica values as ``tf.nest`` leaves."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


def _dense_model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


def _per_replica(strategy, rows):
    """A PerReplica whose replica ``i`` holds ``rows[i]`` (float32)."""
    return strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(rows[ctx.replica_id_in_sync_group], tf.float32))


# ------------------------------------------------------------ model.distribute_strategy
def test_model_strategy_is_the_creating_scope_or_the_current_one(two_cpus):
    outside = _dense_model()
    # TF: the default strategy outside every scope (not None)
    assert outside.distribute_strategy is tf.distribute.get_strategy()
    assert type(outside.distribute_strategy).__name__ == "_DefaultDistributionStrategy"
    one = tf.distribute.OneDeviceStrategy("/cpu:0")
    with one.scope():
        assert outside.distribute_strategy is one   # the current strategy
        made_in_one = _dense_model()
    assert made_in_one.distribute_strategy is one
    with two_cpus.scope():
        mirrored = _dense_model()
    assert mirrored.distribute_strategy is two_cpus
    single = tf.distribute.MirroredStrategy(["CPU:0"])
    with single.scope():
        one_replica = _dense_model()
    assert one_replica.distribute_strategy is single


def test_model_loaded_under_one_device_strategy_reports_it(two_cpus, tmp_path):
    with two_cpus.scope():
        model = _dense_model()
        model.compile("sgd", "mse")
    path = str(tmp_path / "m.keras")
    model.save(path)
    one = tf.distribute.OneDeviceStrategy("/cpu:0")
    with one.scope():
        loaded = keras.models.load_model(path)
    assert loaded.distribute_strategy is one
    x = np.arange(12, dtype="float32").reshape(4, 3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               model.predict(x, verbose=0), atol=1e-6)


# ------------------------------------------------------------------ cross-device ops
@pytest.mark.parametrize("cls, what", [
    (tf.distribute.NcclAllReduce, "NCCL all-reduce"),
    (tf.distribute.HierarchicalCopyAllReduce, "HierarchicalCopy")])
def test_negative_num_packs_is_a_value_error(cls, what):
    with pytest.raises(ValueError, match=f"{what} requires num_packs >= 0, but -1"):
        cls(num_packs=-1)
    assert cls(num_packs=0).num_packs == 0
    assert cls().num_packs == 1


def test_reduction_to_one_device_keeps_its_arguments():
    ops = tf.distribute.ReductionToOneDevice(reduce_to_device="/cpu:0")
    assert ops.reduce_to_device == "/cpu:0" and ops.accumulation_fn is None


@pytest.mark.parametrize("cls", [tf.distribute.ReductionToOneDevice,
                                 tf.distribute.HierarchicalCopyAllReduce])
def test_cross_device_reduce_onto_a_tensor(two_cpus, cls):
    rows = np.array([[1.0, 2.0], [3.0, 5.0]], "float32")
    value = _per_replica(two_cpus, rows)
    dest = tf.constant(0.0)
    total = cls().reduce(tf.distribute.ReduceOp.SUM, value, destinations=dest)
    mean = cls().reduce("MEAN", value, destinations=dest)
    np.testing.assert_allclose(total.numpy(), rows.sum(0))
    np.testing.assert_allclose(mean.numpy(), rows.mean(0))
    assert total.device == dest.device
    # a plain value is one replica's: TF's reduce gives it back (4.0 in TF 2.21 for
    # the SUM of a PerReplica of 2.0s, 2.0 for a plain 2.0)
    assert float(cls().reduce("SUM", tf.constant(2.0), destinations=dest)) == 2.0


def test_cross_device_reduce_onto_a_mirrored_variable(two_cpus):
    with two_cpus.scope():
        var = tf.Variable([0.0, 0.0])
    value = _per_replica(two_cpus, [[1.0, 2.0], [3.0, 4.0]])
    out = tf.distribute.ReductionToOneDevice().reduce("SUM", value, destinations=var)
    parts = two_cpus.experimental_local_results(out)
    assert [p.device for p in parts] == [c.device for c in var.values]
    for p in parts:
        np.testing.assert_allclose(p.numpy(), [4.0, 6.0])
    pairs = [(value, var), (value, tf.constant(0.0))]
    batch = tf.distribute.HierarchicalCopyAllReduce().batch_reduce("MEAN", pairs)
    assert len(batch) == 2
    np.testing.assert_allclose(batch[1].numpy(), [2.0, 3.0])
    copies = tf.distribute.NcclAllReduce().broadcast(tf.constant([7.0]), var)
    assert [c.numpy().tolist() for c in two_cpus.experimental_local_results(copies)] \
        == [[7.0], [7.0]]


def test_cross_device_reduce_uses_the_accumulation_fn(two_cpus):
    calls = []

    def accumulate(values):
        calls.append(len(values))
        return tf.math.add_n(values)
    ops = tf.distribute.ReductionToOneDevice(accumulation_fn=accumulate)
    out = ops.reduce("SUM", _per_replica(two_cpus, [1.0, 2.0]), tf.constant(0.0))
    assert calls == [2] and float(out) == 3.0


def test_cross_device_reduce_gradients_and_compiled(two_cpus):
    a, b = tf.constant([1.0, -2.0]), tf.constant([0.5, 3.0], )
    ops = tf.distribute.ReductionToOneDevice()

    def mean_sq(x, y):
        value = two_cpus.experimental_distribute_values_from_function(
            lambda ctx: (x, y)[ctx.replica_id_in_sync_group] * 1.0)
        return tf.reduce_sum(ops.reduce("MEAN", value, tf.constant(0.0)) ** 2)
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        loss = mean_sq(a, b)
    grads = tape.gradient(loss, [a, b])
    mean = (a.numpy() + b.numpy()) / 2
    for g in grads:   # d/dx sum(((x + y) / 2)^2) = (x + y) / 2
        np.testing.assert_allclose(g.numpy(), mean, rtol=1e-6)
    np.testing.assert_allclose(float(tf.function(mean_sq)(a, b)), float(loss), rtol=1e-6)


# ------------------------------------------------------------------ strategy.extended
def test_extended_tf1_spellings(two_cpus):
    ext = two_cpus.extended
    assert ext.experimental_require_static_shapes is False
    assert ext.non_slot_devices([]) == ext.worker_devices   # TF: every replica device
    out = ext.call_for_each_replica(
        lambda: tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group,
                        tf.float32) + 1.0)
    assert [float(v) for v in two_cpus.experimental_local_results(out)] == [1.0, 2.0]
    with two_cpus.scope():
        var = tf.Variable(0.0)
    copies = ext.broadcast_to(tf.constant(3.0), destinations=var)
    assert type(copies).__name__ == "Mirrored"
    assert [float(v) for v in copies.values] == [3.0, 3.0]
    assert [v.device for v in copies.values] == [c.device for c in var.values]


# --------------------------------------------------------------- PerReplica in tf.nest
def test_per_replica_values_are_nest_leaves(two_cpus):
    out = two_cpus.run(lambda: {"a": tf.constant(1.0),
                                "b": (tf.constant(2), tf.constant([3.0]))})
    assert len(tf.nest.flatten(out)) == 3
    assert not tf.nest.is_nested(out["a"])
    # TF 2.21: {'a': 2.0, 'b': (4, [6.0])}
    reduced = tf.nest.map_structure(
        lambda v: two_cpus.reduce("SUM", v, axis=None), out)
    assert float(reduced["a"]) == 2.0 and int(reduced["b"][0]) == 4
    assert reduced["b"][0].dtype == tf.int32
    np.testing.assert_allclose(reduced["b"][1].numpy(), [6.0])
    assert len(tf.nest.flatten(out, expand_composites=True)) == 6
    rebuilt = tf.nest.map_structure(lambda t: t * 2, out["a"], expand_composites=True)
    assert [float(v) for v in two_cpus.experimental_local_results(rebuilt)] == [2.0, 2.0]
    tf.nest.assert_same_structure(out, out)


# ----------------------------------------------- Keras predict on distributed datasets
def _ones_model(strategy):
    with strategy.scope():
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(
            1, kernel_initializer="ones", use_bias=False)])


@pytest.mark.parametrize("batch", [4, 5])
def test_predict_on_a_distributed_dataset_keeps_every_replica_rows(two_cpus, batch):
    # a batch of x alone is a PerReplica (a tuple): it was read as (x, y), so only
    # the first replica's rows came back (5 of 10 in TF 2.21's (10, 1))
    x = np.arange(20, dtype="float32").reshape(10, 2)
    model = _ones_model(two_cpus)
    dist = two_cpus.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(x).batch(batch))
    got = model.predict(dist, verbose=0)
    np.testing.assert_allclose(got, x.sum(1, keepdims=True))


def test_predict_on_datasets_from_function(two_cpus):
    x = np.arange(20, dtype="float32").reshape(10, 2)
    model = _ones_model(two_cpus)
    dist = two_cpus.distribute_datasets_from_function(
        lambda ctx: tf.data.Dataset.from_tensor_slices(x).batch(
            ctx.get_per_replica_batch_size(4)))
    np.testing.assert_allclose(model.predict(dist, verbose=0), x.sum(1, keepdims=True))


def test_unpack_x_y_sample_weight_sees_a_per_replica_as_x(two_cpus):
    value = _per_replica(two_cpus, [[1.0], [2.0]])
    x, y, sw = keras.utils.unpack_x_y_sample_weight(value)
    assert x is value and y is None and sw is None


# ------------------------------------------ a model built on its first batch in fit
class _RowCounter(keras.Model):
    """A subclassed model without weights until its first call; its train_step
    reports the rows it was given and a compute_average_loss of 2s."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.tracker = keras.metrics.Mean(name="t")

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(tf.reduce_sum((self(x) - y) ** 2, -1))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.tracker.update_state(
            tf.nn.compute_average_loss(2.0 * tf.ones([tf.shape(x)[0]])))
        return {"t": self.tracker.result(),
                "rows": tf.cast(tf.shape(x)[0], tf.float32)}


@pytest.mark.parametrize("run_eagerly", [False, True], ids=["function", "eager"])
def test_unbuilt_model_created_in_scope_fits_over_the_replicas(two_cpus, run_eagerly):
    with two_cpus.scope():
        model = _RowCounter()
        model.compile(keras.optimizers.SGD(0.1), run_eagerly=run_eagerly)
    x = np.ones((8, 2), "float32")
    history = model.fit(x, np.ones((8, 1), "float32"), batch_size=8, epochs=1,
                        verbose=0)
    # TF 2.21: {'rows': [4.0], 't': [1.0]}: each replica gets half the batch and
    # compute_average_loss divides by the global batch (4 rows * 2 replicas)
    assert history.history["rows"] == [4.0]
    assert history.history["t"] == [1.0]
    assert all(type(w).__name__ == "MirroredVariable" for w in model.weights)
    assert model.distribute_strategy is two_cpus
