"""TF's "Custom training with tf.distribute.Strategy" guide on 2 logical CPUs: the
default device list, distributed datasets inside ``tf.function`` (``next``, ``for``,
``input_signature=dist_ds.element_spec``), PerReplica printing and specs, and the
replica-context checks of the loss helpers."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.distribute import input as dinput

GB = 16
# TF 2.21 printed these for the guide's loop below (Dense(2, kernel_initializer='ones'),
# SGD(0.1), 64 rows, global batch 16): mean epoch loss, two loop sums, four losses
TF_EPOCH = 0.6923
TF_LOOP_SUMS = [1.3667, 2.7432]
TF_SIG_LOSSES = [0.682, 0.6712, 0.6838, 0.6828]
TF_KERNEL_ROWS = [[0.9764, 1.0236], [0.9665, 1.0335]]


def _data():
    rng = np.random.RandomState(0)
    x = rng.rand(64, 8).astype("float32")
    return x, (x.sum(1) > 4).astype("int64")


def _local(strategy, value):
    return [t.numpy().tolist() for t in strategy.experimental_local_results(value)]


def test_default_devices_are_every_logical_cpu(two_cpus, cpu_default):
    strategy = tf.distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        v = tf.Variable(1.0)
    assert type(v).__name__ == "MirroredVariable"
    assert v.synchronization == tf.VariableSynchronization.ON_WRITE
    assert tf.Variable(1.0).synchronization == tf.VariableSynchronization.AUTO


def test_per_replica_str_and_repr(two_cpus):
    pr = two_cpus.run(lambda: tf.constant([1.0, 2.0]))
    assert str(pr) == ("PerReplica:{\n  0: tf.Tensor([1. 2.], shape=(2,), "
                       "dtype=float32),\n  1: tf.Tensor([1. 2.], shape=(2,), "
                       "dtype=float32)\n}")
    assert repr(pr).startswith("PerReplica:{\n  0: <") and "numpy=" in repr(pr)


def test_element_spec_is_per_replica(two_cpus):
    s = two_cpus
    ds = tf.data.Dataset.from_tensor_slices(
        ({"a": np.zeros((8, 3), "float32")}, np.zeros(8, "int32"))).batch(
        4, drop_remainder=True)
    spec = s.experimental_distribute_dataset(ds).element_spec
    assert repr(spec[1]) == ("PerReplicaSpec(TensorSpec(shape=(2,), dtype=tf.int32, "
                             "name=None), TensorSpec(shape=(2,), dtype=tf.int32, "
                             "name=None))")
    assert spec[0]["a"][1].shape.as_list() == [2, 3]
    ragged = s.experimental_distribute_dataset(tf.data.Dataset.range(10).batch(4))
    assert iter(ragged).element_spec[0].shape.as_list() == [None]


def test_default_strategy_keeps_the_dataset():
    ds = tf.data.Dataset.range(4).batch(2)
    default = tf.distribute.get_strategy()
    assert default.experimental_distribute_dataset(ds) is ds
    seen = []

    def fn(ctx):
        seen.append((ctx.num_input_pipelines, ctx.input_pipeline_id,
                     ctx.get_per_replica_batch_size(8)))
        return ds
    assert default.distribute_datasets_from_function(fn) is ds
    assert seen == [(1, 0, 8)]


def test_iterator_optional_and_end(two_cpus):
    s = two_cpus
    it = iter(s.experimental_distribute_dataset(tf.data.Dataset.range(10).batch(4)))
    got = []
    while True:
        opt = it.get_next_as_optional()
        if not bool(opt.has_value()):
            break
        got.append(_local(s, opt.get_value()))
    assert got == [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8], [9]]]
    with pytest.raises(StopIteration):
        next(it)
    with pytest.raises(tf.errors.OutOfRangeError):
        it.get_next()


def test_next_in_function_pulls_each_run(two_cpus):
    s = two_cpus
    it = iter(s.experimental_distribute_dataset(tf.data.Dataset.range(10).batch(4)))

    @tf.function
    def step(iterator):
        return s.run(lambda x: tf.reduce_sum(x), args=(next(iterator),))
    # the uneven last batch is split [1, 1] as TF does, also in the compiled step
    assert [_local(s, step(it)) for _ in range(3)] == [[1, 5], [9, 13], [8, 9]]


def test_for_over_distributed_dataset_in_function(two_cpus):
    s = two_cpus
    dist = s.experimental_distribute_dataset(tf.data.Dataset.range(10).batch(4))

    @tf.function
    def total(dataset):
        acc = tf.constant(0, tf.int64)
        for batch in dataset:
            acc += s.reduce("SUM", s.run(tf.reduce_sum, args=(batch,)), axis=None)
        return acc
    assert int(total(dist)) == 45
    assert int(total(dist)) == 45   # a fresh pass over the dataset on every run


def test_datasets_from_function_in_function(two_cpus):
    s = two_cpus

    def dataset_fn(ctx):
        return tf.data.Dataset.range(6).batch(ctx.get_per_replica_batch_size(4))
    dist = s.distribute_datasets_from_function(dataset_fn)

    @tf.function
    def sums(dataset):
        out = tf.constant(0, tf.int64)
        for batch in dataset:
            part = s.run(lambda x: tf.reduce_sum(x) * tf.cast(
                tf.distribute.get_replica_context().replica_id_in_sync_group + 1,
                tf.int64), args=(batch,))
            out = out * 100 + s.reduce("SUM", part, axis=None)
        return out
    # replica 0 gets [0,1] then [4,5]; replica 1 [2,3] then nothing (x2 weight)
    assert int(sums(dist)) == (1 + 2 * 5) * 100 + 9
    assert [_local(s, b) for b in dist] == [[[0, 1], [2, 3]], [[4, 5], []]]


def test_guide_loop_matches_tensorflow(two_cpus):
    strategy = two_cpus
    x, y = _data()
    dist_ds = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(GB))
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(
            2, kernel_initializer="ones")])
        optimizer = tf.keras.optimizers.SGD(0.1)
        optimizer.build(model.trainable_variables)
        loss_object = tf.keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="none")
        train_loss = tf.keras.metrics.Sum()

    def train_step(inputs):
        xb, yb = inputs
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_object(yb, model(xb, training=True)),
                                              global_batch_size=GB)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_epoch(dataset):
        total, n = 0.0, 0
        for batch in dataset:
            total += strategy.reduce("SUM", strategy.run(train_step, args=(batch,)),
                                     axis=None)
            n += 1
        return total / tf.cast(n, tf.float32)

    @tf.function
    def train_steps(iterator, steps):
        for _ in tf.range(steps):
            loss = strategy.run(train_step, args=(next(iterator),))
            train_loss.update_state(strategy.reduce("SUM", loss, axis=None))

    @tf.function(input_signature=[dist_ds.element_spec])
    def sig_step(inputs):
        return strategy.reduce("SUM", strategy.run(train_step, args=(inputs,)), axis=None)

    assert round(float(train_epoch(dist_ds)), 4) == TF_EPOCH
    it = iter(dist_ds)
    sums = []
    for _ in range(2):
        train_steps(it, 2)
        sums.append(round(float(train_loss.result()), 4))
    assert sums == TF_LOOP_SUMS
    assert [round(float(sig_step(b)), 4) for b in dist_ds] == TF_SIG_LOSSES
    np.testing.assert_allclose(model.layers[0].kernel.numpy()[:2], TF_KERNEL_ROWS,
                               atol=1e-4)


def test_loss_helpers_need_a_replica_context(two_cpus):
    with two_cpus.scope():
        with pytest.raises(RuntimeError, match="compute_average_loss"):
            tf.nn.compute_average_loss(tf.constant([1.0, 2.0]))
        with pytest.raises(RuntimeError, match="scale_regularization_loss"):
            tf.nn.scale_regularization_loss(tf.constant(4.0))
        # an explicit global batch size needs no replica count
        assert float(tf.nn.compute_average_loss(tf.constant([1.0, 2.0]),
                                                global_batch_size=4)) == 0.75
    out = two_cpus.run(lambda: tf.nn.scale_regularization_loss(tf.constant(4.0)))
    assert [float(v) for v in two_cpus.experimental_local_results(out)] == [2.0, 2.0]


def test_replica_shard_gradient_matches_finite_differences(two_cpus):
    devices = two_cpus.extended._replica_devices
    x0 = np.arange(5.0)

    def loss_of(x, replica, scale):
        part = dinput.split_element(x * 1.0, devices).values[replica]
        return tf.reduce_sum(part * part * scale)

    for replica, scale in ((0, 2.0), (1, 3.0)):
        x = tf.Variable(x0)
        with tf.GradientTape() as tape:
            loss = loss_of(x, replica, scale)
        grad = tape.gradient(loss, x).numpy()
        eps = 1e-6
        numeric = [(float(loss_of(tf.constant(x0 + eps * np.eye(5)[i]), replica, scale))
                    - float(loss_of(tf.constant(x0 - eps * np.eye(5)[i]), replica,
                                    scale))) / (2 * eps) for i in range(5)]
        np.testing.assert_allclose(grad, numeric, atol=1e-5)
    # replica 0 holds rows 0..2 (ceil(5/2)), replica 1 rows 3..4
    np.testing.assert_allclose(grad, [0, 0, 0, 18, 24])


def test_replayed_steps_read_variables_after_their_writes():
    """A compiled step that reads a variable, writes it and reads it again (or loops
    over such a step with tf.range) must not merge the reads (graph CSE)."""
    v = tf.Variable(1.0)

    @tf.function
    def straight():
        before = v * 2.0
        v.assign(before + 1.0)
        return before, v * 2.0
    assert [float(a) for a in straight()] == [2.0, 6.0]
    assert [float(a) for a in straight()] == [6.0, 14.0]   # replayed graph

    w = tf.Variable(0.0)
    opt = tf.keras.optimizers.SGD(0.1)
    u = tf.Variable([3.0])

    @tf.function
    def loop(n):
        for _ in tf.range(n):
            w.assign(w * 2.0 + 1.0)
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(u * u)
            opt.apply_gradients([(tape.gradient(loss, u), u)])
    loop(3)
    loop(3)
    assert float(w) == 63.0
    np.testing.assert_allclose(u.numpy(), [3.0 * 0.8 ** 6], rtol=1e-6)
